// `autonic bench`: speed targets measured side by side in one run, reported as ratios.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace autonic::cli {

struct BenchArgs {
  std::string what = "tcp";
  std::string bytes = "1G";
  bool json = false;
};

void add_bench_options(CLI::App* bench, BenchArgs& a);
int run_bench(const BenchArgs& a);
int run_bench_tls(const BenchArgs& a);
int run_bench_nvme(const BenchArgs& a);

}  // namespace autonic::cli
