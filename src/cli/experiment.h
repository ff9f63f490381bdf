// `autonic experiment NAME|all [--out DIR] [--quick] [--json]` (issue #14): the paper's evaluation
// from one command. Per experiment a CSV (one row per run, each naming the `autonic run` command
// that re-runs it), a PNG plot (scripts/plot_experiment.py, Debian's python3-matplotlib) and a
// section of DIR/report.md that sets our figure beside the paper's (data/paper/reference.json).
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace autonic::cli {

struct ExperimentArgs {
  std::vector<std::string> names;
  std::string out = "autonic-experiments";
  bool quick = false, json = false;
};

void add_experiment_options(CLI::App* app, ExperimentArgs& a);
int run_experiments(const ExperimentArgs& a);

}  // namespace autonic::cli
