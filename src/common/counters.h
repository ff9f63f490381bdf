// Counters are part of the product (STYLE.md habit 4): plain uint64_t fields named
// <dir>_<proto>_<what>, exported through a name->value sink that feeds the CLI's JSON.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace autonic {

using CounterMap = std::map<std::string, uint64_t>;

inline void add_counter(CounterMap& m, const std::string& name, uint64_t v) { m[name] += v; }

}  // namespace autonic
