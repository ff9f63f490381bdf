// `autonic bench`: speed targets measured side by side in one run, reported as ratios.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace autonic::cli {

struct BenchArgs {
  std::string what = "tcp";
  std::string bytes = "1G";
  bool json = false;
  std::string nic_core = "auto";  // auto | on | off (--nic-core)
  // bench tls (b): repetitions of every (mode, record size), every other one in reverse mode
  // order (--reps): the paired ratios' median and range come from this many pairs.
  int reps = 12;
  // bench tls: only (c), the record layer alone (seconds, in the cache): for judging a change to
  // the record layer before the long runs of (b).
  bool record_layer_only = false;
};

// Whether the benchmark's runs put the NIC model on a core of its own (testbed ScenarioConfig::
// nic_core): "auto" does when this process may use two CPUs. *how: one line saying which, and why.
bool bench_nic_core(const BenchArgs& a, std::string* how);

void add_bench_options(CLI::App* bench, BenchArgs& a);
int run_bench(const BenchArgs& a);
int run_bench_tls(const BenchArgs& a);
int run_bench_nvme(const BenchArgs& a);

}  // namespace autonic::cli
