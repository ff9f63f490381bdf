#include "cli/fileserver_cli.h"

#include <iostream>

#include "cli/parse.h"

namespace autonic::cli {

void add_fileserver_options(CLI::App* app, FileServerArgs& a) {
  app->add_option("--source", a.source, "where files come from: cache (the page cache, C2) | nvme | nvme-tls (a remote namespace, C1)")
      ->capture_default_str();
  app->add_flag("--https", a.https, "serve over TLS 1.3 (AES-128-GCM); plain HTTP without");
  app->add_option("--offload", a.offload,
                  "the web server's offloads: none | all | tls, zc, storage-tls, copy, crc joined by +")
      ->capture_default_str();
  app->add_option("--file-size", a.file_size, "bytes per file (K/M suffixes), a multiple of 4K, up to 2M")->capture_default_str();
  app->add_option("--files", a.files, "files on the server")->capture_default_str();
  app->add_option("--conns", a.conns, "client connections, one GET outstanding on each (wrk)")->capture_default_str();
  app->add_option("--requests", a.requests, "GETs in all")->capture_default_str();
  app->add_option("--record-size", a.record_size, "TLS record payload bytes")->capture_default_str();
  app->add_option("--mtu", a.mtu, "IP MTU of every host")->capture_default_str();
  app->add_option("--tso-gro", a.tso_gro, "on | off: TSO and GRO on every host, as Linux runs (off: a segment a packet)")
      ->capture_default_str();
  app->add_option("--rate", a.rate, "every switch port's link rate, Gbps")->capture_default_str();
  app->add_option("--delay", a.delay_us, "one-way delay of every link, microseconds")->capture_default_str();
  app->add_option("--loss", a.loss, "frame loss on every link into the switch (2% or 0.02)")->capture_default_str();
  app->add_option("--seed", a.seed, "seed (file choice, ISNs, TLS randoms)")->capture_default_str();
  app->add_option("--time-limit", a.time_limit, "simulated seconds")->capture_default_str();
  app->add_option("--pcap", a.pcap, "record every frame into the switch");
  app->add_flag("--json", a.json, "the report as JSON");
}

testbed::FileServerConfig to_fileserver_config(const FileServerArgs& a) {
  using S = testbed::FileServerConfig::Source;
  testbed::FileServerConfig c;
  if (a.source == "cache") c.source = S::kCache;
  else if (a.source == "nvme") c.source = S::kNvme;
  else if (a.source == "nvme-tls") c.source = S::kNvmeTls;
  else throw CLI::ValidationError("--source", "must be cache | nvme | nvme-tls");
  c.https = a.https;
  const auto fsz = parse_size(a.file_size);
  if (!fsz || *fsz > UINT32_MAX) throw CLI::ValidationError("--file-size", "a size such as 64K");
  c.file_size = uint32_t(*fsz);
  c.files = a.files;
  c.conns = a.conns;
  c.requests = a.requests;
  c.record_size = a.record_size;
  if (a.mtu > 65535) throw CLI::ValidationError("--mtu", "must be 576..9000");
  c.mtu = uint16_t(a.mtu);
  if (!(a.rate > 0 && a.rate <= 10000)) throw CLI::ValidationError("--rate", "must be in (0, 10000] Gbps");
  if (!(a.delay_us >= 0 && a.delay_us <= 1e6)) throw CLI::ValidationError("--delay", "must be 0 .. 1e6 us");
  c.link.rate_gbps = a.rate;
  c.link.delay_ns = Nanos(a.delay_us * 1000);
  const auto loss = parse_prob(a.loss);
  if (!loss) throw CLI::ValidationError("--loss", "a probability: 2% or 0.02");
  c.link.loss = *loss;
  if (a.tso_gro != "on" && a.tso_gro != "off") throw CLI::ValidationError("--tso-gro", "must be on | off");
  c.tso_gro = a.tso_gro == "on";
  c.seed = a.seed;
  if (!(a.time_limit > 0 && a.time_limit <= 1e6)) throw CLI::ValidationError("--time-limit", "must be in (0, 1e6] seconds");
  c.time_limit_s = a.time_limit;
  c.pcap = a.pcap;
  testbed::parse_fileserver_offloads(a.offload, c);
  testbed::validate_fileserver(c);
  return c;
}

testbed::FileServerConfig fileserver_config_from(const std::string& args) {
  CLI::App app;
  FileServerArgs a;
  add_fileserver_options(&app, a);
  app.parse(args, false);
  return to_fileserver_config(a);
}

int run_fileserver_command(const FileServerArgs& a) {
  const testbed::FileServerReport r = testbed::run_fileserver(to_fileserver_config(a));
  if (a.json) std::cout << r.to_json().dump(2) << std::endl;
  else std::cout << r.summary();
  return r.verified ? 0 : 2;
}

}  // namespace autonic::cli
