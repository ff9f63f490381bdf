// The L5P sessions a run puts on its TCP connections, built from the ScenarioConfig: plain TCP,
// the registered stream L5Ps (src/testbed/l5ps/<ident>/), TLS (ours or the OpenSSL peer's
// record layer) and NVMe/TCP's queue settings -- each side offloading what --offload asks for.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "apps/fio.h"
#include "common/cpu_meter.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_queue.h"
#include "l5p/stream.h"
#include "l5p/tls/tls_session.h"
#include "tcpip/tcp_conn.h"
#include "testbed/host.h"
#include "testbed/scenario.h"

namespace autonic::testbed {

// What every TLS session of a run shares: the certificate and the key log.
struct TlsShared {
  std::unique_ptr<l5p::tls::Credentials> creds;
  std::unique_ptr<l5p::tls::KeylogSink> keylog;
  // Real networks: how clients check the server, SNI, tickets (unset: the in-process default).
  std::optional<l5p::tls::HandshakeConfig> hs;
};

// Throws std::invalid_argument for a cipher name the TLS layer does not know.
l5p::tls::Cipher parse_cipher(const std::string& c);
l5p::tls::Version parse_tls_version(const std::string& v);

std::unique_ptr<l5p::tls::TlsSession> make_tls(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                               bool client, Host& host, TlsShared& tls);
// A bulk flow's stream: plain TCP or the registered stream L5P cfg.l5p names.
std::unique_ptr<l5p::Stream> make_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                         bool client, Host& host, TlsShared& tls);

// Each registered L5P of shape kStream builds its session in src/testbed/l5ps/<ident>/
// (l5o/l5p_registry.h); the client sends, the server receives.
#define AUTONIC_DECLARE_STREAM(ident, E, counter, cli, shape)                                              \
  std::unique_ptr<l5p::Stream> make_##ident##_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c, \
                                                     bool client, Host& host, TlsShared& tls);
AUTONIC_L5P_REGISTRY(AUTONIC_DECLARE_STREAM)
#undef AUTONIC_DECLARE_STREAM
// An NVMe/TCP queue's settings on `host`: digests negotiated, offloads as --offload asks.
l5p::nvme::QueueConfig nvme_queue_config(const ScenarioConfig& cfg, Host& host, CpuMeter* meter);
// The host's admin queue: the same settings with no offload (the data path is the I/O queues).
l5p::nvme::QueueConfig nvme_admin_queue_config(const ScenarioConfig& cfg, Host& host, CpuMeter* meter);
// A queue's transport on `c`: plain NVMe/TCP, or (--l5p nvme-tls) over a TLS session, which is
// also appended to `tls_sessions` (for its counters).
std::unique_ptr<l5p::nvme::Transport> make_nvme_transport(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                                          bool client, Host& host, TlsShared& tls,
                                                          std::vector<l5p::tls::TlsSession*>& tls_sessions);
// The namespace --ns-size / --ns-file / --lba-size describe (RAM or file backed, as created).
std::shared_ptr<l5p::nvme::Namespace> make_namespace(const ScenarioConfig& cfg);
// The same, holding its initial content: the pattern of apps::ns_pattern_seed(cfg.seed), which
// every read is checked against.
std::shared_ptr<l5p::nvme::Namespace> make_pattern_namespace(const ScenarioConfig& cfg);
// The fio-like workload the run's flags describe (rw, I/O size, depth, bytes, seed, region).
apps::FioConfig fio_config(const ScenarioConfig& cfg);

}  // namespace autonic::testbed
