// `autonic fileserver …` (issue #14): the file server on three hosts -- client, web server,
// storage -- on one switch (testbed/fileserver.h). The experiments fig12-15 and table4 run it.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "testbed/fileserver.h"

namespace autonic::cli {

struct FileServerArgs {
  std::string source = "cache", offload = "none", file_size = "64K", loss = "0", tso_gro = "on";
  bool https = false, json = false;
  uint32_t files = 64, conns = 16, mtu = 1500;
  uint64_t requests = 256, seed = 1;
  uint32_t record_size = 16384;
  double rate = 100, delay_us = 10, time_limit = 600;
  std::string pcap;
};

void add_fileserver_options(CLI::App* app, FileServerArgs& a);
testbed::FileServerConfig to_fileserver_config(const FileServerArgs& a);
// `args` as the command line would parse them (experiments name each point's command).
testbed::FileServerConfig fileserver_config_from(const std::string& args);
int run_fileserver_command(const FileServerArgs& a);

}  // namespace autonic::cli
