// Parsing of CLI values: SIZE with K/M/G suffixes (powers of two), P as "2%" or "0.02".
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace autonic::cli {

std::optional<uint64_t> parse_size(const std::string& s);
std::optional<double> parse_prob(const std::string& s);

}  // namespace autonic::cli
