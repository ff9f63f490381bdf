// Helpers shared by the scenario tests.
#pragma once
#include <string>

#include "common/counters.h"

namespace autonic::testing {

// A counter from a report's stats, 0 if absent.
inline uint64_t ctr(const CounterMap& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

}  // namespace autonic::testing
