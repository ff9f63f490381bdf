// `autonic run`'s options: the scenario's flags as text, parsed and range-checked into a
// testbed::ScenarioConfig. The real-network verbs (cli/net.cc) register a subset of them.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "testbed/scenario.h"

namespace autonic::cli {

struct RunArgs {
  std::string l5p = "tcp", offload = "on", bytes = "16M", msg_size = "16K", loss = "0", reorder = "0",
              dup = "0", corrupt = "0", tamper = "0", clock = "virtual", pcap, ctx_cache = "4M", ctx_policy = "lru", lwip_demux = "auto",
              cipher = "aes128gcm", record_size = "16K", keylog, record_align = "mss", rw = "randread",
              io_size = "4K", ns_size = "64M", ns_file, nic_fault, nic_marks = "sub", tls_version = "1.3", key_update_every = "0",
              tso = "off", gro = "off", nic_core = "off";
  // Integers as text: parsed by cli::parse_uint, which rejects a sign and out-of-range values
  // (a plain uint16_t / uint64_t option would wrap "70000" or "-1" silently).
  std::string depth = "1", lba_size = "512", nvme_port = "4420", queues = "1", flows = "1", burst = "0", order = "rr", churn = "0", mtu = "1500",
              seed = "1";
  bool no_hdgst = false, no_ddgst = false;
  double rate = 100, delay_us = 10;
  bool json = false, bare = false, bidir = false, openssl_peer = false, trace = false;
};

void add_run_options(CLI::App* run, RunArgs& a);
// Throws CLI::ValidationError naming the option whose value is malformed or out of range.
testbed::ScenarioConfig to_config(const RunArgs& a);

}  // namespace autonic::cli
