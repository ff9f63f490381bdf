// Helpers shared by the scenario tests.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "common/counters.h"
#include "testbed/testbed.h"

namespace autonic::testing {

// A counter from a report's stats, 0 if absent.
inline uint64_t ctr(const CounterMap& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

// The fault matrices' check: `c` run twice (each in its own process) is verified, delivers no
// wrong byte and puts the same frames on the wire both times. Returns the first run's report
// (verified unless a failure was recorded). `replay` is printed with every failure.
inline testbed::Report run_exact_twice(const testbed::ScenarioConfig& c, const std::string& replay) {
  const testbed::Report a = testbed::run_isolated(c);
  EXPECT_TRUE(a.verified) << a.outcome << " " << replay;
  EXPECT_EQ(a.delivered_wrong_bytes, 0u) << replay;
  if (!a.verified) return a;
  const testbed::Report b = testbed::run_isolated(c);
  EXPECT_EQ(a.trace_hash, b.trace_hash) << replay;
  return a;
}

}  // namespace autonic::testing
