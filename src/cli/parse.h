// Parsing of CLI values: SIZE with K/M/G suffixes (powers of two), P as "2%" or "0.02", unsigned
// integers (decimal digits only: no sign, no wrap).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "nic/nic_faults.h"

namespace autonic::cli {

std::optional<uint64_t> parse_size(const std::string& s);
std::optional<double> parse_prob(const std::string& s);
// A decimal unsigned integer in [lo, hi]; nullopt for a sign, other characters or overflow.
std::optional<uint64_t> parse_uint(const std::string& s, uint64_t lo = 0, uint64_t hi = UINT64_MAX);
// --nic-fault: comma-separated key=N, keys reject-create-from, ring-full-from, lose-ctx-every,
// reset-after-tx (nic::NicFaults). nullopt with *err set for anything else.
std::optional<nic::NicFaults> parse_nic_faults(const std::string& s, std::string* err);

}  // namespace autonic::cli
