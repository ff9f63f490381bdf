// Shared by the Google Benchmark parts of `autonic bench`: run the registered benchmarks and
// keep each one's best throughput.
#pragma once
#include <benchmark/benchmark.h>

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <map>
#include <string>

namespace autonic::cli {

// Runs every registered benchmark; returns Gbps by function name (best repetition), given the
// bytes each iteration processes.
inline std::map<std::string, double> run_registered_benchmarks(double bytes_per_iteration) {
  class Capture : public benchmark::BenchmarkReporter {
   public:
    explicit Capture(double b) : bytes_(b) {}
    bool ReportContext(const Context&) override { return true; }
    void ReportRuns(const std::vector<Run>& runs) override {
      for (const Run& r : runs) {
        if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
        const double secs = r.real_accumulated_time / double(r.iterations);
        double& g = gbps[r.run_name.function_name];
        g = std::max(g, bytes_ * 8 / secs / 1e9);
      }
    }
    std::map<std::string, double> gbps;

   private:
    double bytes_;
  };
  int argc = 1;
  char arg0[] = "autonic";
  char* argv[] = {arg0, nullptr};
  benchmark::Initialize(&argc, argv);
  Capture rep(bytes_per_iteration);
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::ClearRegisteredBenchmarks();
  return rep.gbps;
}

// Registers each (name, function) with the same settings (0.3 s, 3 interleaved repetitions)
// and runs them: Gbps by name, best repetition.
using BenchFn = void (*)(benchmark::State&);
inline std::map<std::string, double> run_benchmarks(std::initializer_list<std::pair<const char*, BenchFn>> list,
                                                    double bytes_per_iteration) {
  for (const auto& [name, fn] : list) benchmark::RegisterBenchmark(name, fn)->MinTime(0.3)->Repetitions(3);
  return run_registered_benchmarks(bytes_per_iteration);
}

}  // namespace autonic::cli
