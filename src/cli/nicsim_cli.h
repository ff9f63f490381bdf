// `autonic nicsim` and `autonic nicsim --sweep`: options, output (summary, JSON, Markdown).
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace autonic::cli {

struct NicsimArgs {
  std::string flows = "1024", burst = "8", packets = "0", bytes, ctx_cache = "4M", ctx_policy = "lru", l5p = "tls",
              order = "rr", seed = "1", loss = "0", reorder = "0", mss = "1448", msg_size = "16K";
  bool json = false, sweep = false, quick = false;
};

void add_nicsim_options(CLI::App* app, NicsimArgs& a);
int run_nicsim(const NicsimArgs& a);

}  // namespace autonic::cli
