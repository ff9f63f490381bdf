// The testbed: two hosts (client 10.0.0.1, server 10.0.0.2) joined by one simulated wire, the
// clock and event loop, the workload, and the report. One run per process (lwIP is global);
// run_isolated() forks so tests can run many.
#pragma once
#include <functional>

#include "testbed/scenario.h"

namespace autonic::testbed {

Report run_scenario(const ScenarioConfig& cfg);
// Runs the scenario in a child process and returns its report (for tests and benchmarks).
Report run_isolated(const ScenarioConfig& cfg);
// Runs `fn` in a child process and returns the JSON it made (an exception's message rethrown).
nlohmann::json json_in_child(const std::function<nlohmann::json()>& fn);

}  // namespace autonic::testbed
