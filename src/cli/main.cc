// autonic command line: `autonic run …` (one scenario, summary or --json), `autonic bench …`,
// `autonic nicsim …` (the NIC model alone, issue #13).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/bench.h"
#include "cli/experiment.h"
#include "cli/fileserver_cli.h"
#include "cli/net.h"
#include "cli/nicsim_cli.h"
#include "cli/parse.h"
#include "cli/run_args.h"
#include "testbed/testbed.h"

using namespace autonic;
using autonic::cli::RunArgs;

int main(int argc, char** argv) {
  CLI::App app{"autonic: autonomous NIC offloads (ASPLOS '21) on an unmodified lwIP stack"};
  app.require_subcommand(1);
  RunArgs ra;
  CLI::App* run = app.add_subcommand("run", "run one scenario: two hosts, one wire, one workload");
  cli::add_run_options(run, ra);
  cli::BenchArgs ba;
  CLI::App* bench = app.add_subcommand("bench", "benchmarks, reported as side-by-side ratios");
  cli::add_bench_options(bench, ba);
  cli::NicsimArgs na;
  CLI::App* nicsim = app.add_subcommand("nicsim", "the NIC model alone at scale: context cache hit rate, DMA and cycles per packet");
  cli::add_nicsim_options(nicsim, na);
  cli::FileServerArgs fa;
  CLI::App* fileserver = app.add_subcommand("fileserver", "a file server: client, web server and storage (NVMe/TCP) hosts on one switch, HTTP(S) GETs");
  cli::add_fileserver_options(fileserver, fa);
  cli::ExperimentArgs ea;
  CLI::App* experiment = app.add_subcommand("experiment", "the paper's figures: per experiment a CSV, a PNG and a report.md section beside the paper's numbers");
  cli::add_experiment_options(experiment, ea);
  const auto net = cli::add_net_commands(app);
  CLI11_PARSE(app, argc, argv);

  try {
    if (*run) {
      const testbed::ScenarioConfig cfg = cli::to_config(ra);
      const testbed::Report r = testbed::run_scenario(cfg);
      if (ra.json)
        std::cout << r.to_json().dump(2) << std::endl;
      else
        std::cout << r.summary();
      return r.verified ? 0 : 2;
    }
    if (*bench) return cli::run_bench(ba);
    if (*nicsim) return cli::run_nicsim(na);
    if (*experiment) return cli::run_experiments(ea);
    if (*fileserver) return cli::run_fileserver_command(fa);
    if (auto rc = cli::run_net_command(*net)) return *rc;
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autonic: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
