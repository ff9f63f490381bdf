// The experiments `autonic experiment` knows (issue #14), each a function from the context (run
// a point, the paper's data, this machine) to its table, plot spec and report text.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/experiment_table.h"
#include "testbed/fileserver.h"
#include "testbed/scenario.h"

namespace autonic::cli {

struct ExpContext {
  bool quick = false;
  double tsc_hz = 0;      // the clock host cycles are counted in (rdtsc), measured
  std::string machine;    // CPU model
  nlohmann::json paper;   // data/paper/reference.json
  // Runs `autonic run <args>` in a child process (lwIP is global), with a progress line.
  std::function<testbed::Report(const std::string& args)> run;
  // The same, once (the longest points: 128K connections).
  std::function<testbed::Report(const std::string& args)> run_once;
  // Runs `autonic fileserver <args>` the same way (fig12-15, table4).
  std::function<testbed::FileServerReport(const std::string& args)> run_fs;
  // Throughput at one busy core: bytes / stack cycles x the clock.
  double gbps_one_core(double stack_cycles_per_byte) const {
    return stack_cycles_per_byte > 0 ? 8.0 * tsc_hz / stack_cycles_per_byte / 1e9 : 0;
  }
  std::string caption(const std::string& extra) const;
};

struct ExpResult {
  ExpTable table;
  nlohmann::json plot;  // plot_experiment.py's spec: title, caption, panels
  std::string report;   // markdown: what was run, ours beside the paper's, what differs and why
};

struct Experiment {
  const char* name;
  const char* what;
  ExpResult (*fn)(const ExpContext&);
};

const std::vector<Experiment>& experiments();

// Where the cycles go (fig10, fig11): experiment_cost.cc.
ExpResult fig10(const ExpContext& c);
ExpResult fig11(const ExpContext& c);
// The loss / reorder experiments (fig16-18): experiment_loss.cc.
ExpResult fig16(const ExpContext& c);
ExpResult fig17(const ExpContext& c);
ExpResult fig18(const ExpContext& c);
// The file server (fig12-15, table4): experiment_fs.cc.
ExpResult fig12(const ExpContext& c);
ExpResult fig13(const ExpContext& c);
ExpResult fig14(const ExpContext& c);
ExpResult fig15(const ExpContext& c);
ExpResult table4(const ExpContext& c);
// Connections 64 -> 128K (fig19): experiment_scale.cc.
ExpResult fig19(const ExpContext& c);

}  // namespace autonic::cli
