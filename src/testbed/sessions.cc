#include "testbed/sessions.h"

#include <algorithm>
#include <stdexcept>

#include "apps/pattern.h"
#include "l5p/plain_stream.h"

namespace autonic::testbed {

l5p::tls::Cipher parse_cipher(const std::string& c) {
  if (c == "aes128gcm") return l5p::tls::Cipher::kAes128Gcm;
  if (c == "aes256gcm") return l5p::tls::Cipher::kAes256Gcm;
  if (c == "chacha20poly1305") return l5p::tls::Cipher::kChacha20Poly1305;
  throw std::invalid_argument("unknown cipher '" + c + "' (aes128gcm | aes256gcm | chacha20poly1305)");
}

l5p::tls::Version parse_tls_version(const std::string& v) {
  if (v == "1.3") return l5p::tls::Version::kTls13;
  if (v == "1.2") return l5p::tls::Version::kTls12;
  throw std::invalid_argument("unknown TLS version '" + v + "' (1.2 | 1.3)");
}

std::unique_ptr<l5p::tls::TlsSession> make_tls(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                               bool client, Host& host, TlsShared& tls) {
  l5p::tls::SessionConfig sc;
  sc.cipher = parse_cipher(cfg.cipher);
  sc.version = parse_tls_version(cfg.tls_version);
  sc.key_update_every = cfg.key_update_every;
  sc.record_size = cfg.record_size;
  sc.offload = host.driver();
  const OffloadMode m = cfg.offload;
  sc.offload_tx = m == OffloadMode::kTx || m == OffloadMode::kOn || m == OffloadMode::kZc || m == OffloadMode::kTls;
  sc.offload_rx = m == OffloadMode::kRx || m == OffloadMode::kOn || m == OffloadMode::kZc || m == OffloadMode::kTls;
  sc.zc = cfg.offload == OffloadMode::kZc;
  sc.creds = tls.creds.get();
  sc.keylog = tls.keylog.get();
  sc.openssl_only = cfg.openssl_peer && !client;
  if (!sc.openssl_only) sc.rx_msg_log = host.new_rx_msg_log(c->tx_flow().reversed());
  sc.align_records = cfg.record_align;
  if (!client) {
    sc.peer_raw = cfg.tls_peer_raw;
    sc.peer_fin = cfg.tls_peer_fin;
    sc.pad_block = cfg.tls_peer_pad;
    sc.pad_after = cfg.tls_peer_pad_after;
    sc.hs.tickets = cfg.tls_tickets;
    sc.peer_key_update = cfg.tls_peer_key_update;
  }
  if (tls.hs) sc.hs = *tls.hs;
  return std::make_unique<l5p::tls::TlsSession>(
      std::move(c), client ? l5p::tls::TlsSession::Role::kClient : l5p::tls::TlsSession::Role::kServer, sc);
}

std::unique_ptr<l5p::Stream> make_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                         bool client, Host& host, TlsShared& tls) {
  // Only kStream L5Ps are asked (a discarded branch needs no definition of its function).
#define AUTONIC_MAKE_STREAM(ident, E, counter, cli, shape)                 \
  if constexpr (l5o::L5pShape::shape == l5o::L5pShape::kStream) {        \
    if (cfg.l5p == L5pKind::k##E) return make_##ident##_stream(cfg, std::move(c), client, host, tls); \
  }
  AUTONIC_L5P_REGISTRY(AUTONIC_MAKE_STREAM)
#undef AUTONIC_MAKE_STREAM
  return std::make_unique<l5p::PlainStream>(std::move(c));
}

l5p::nvme::QueueConfig nvme_queue_config(const ScenarioConfig& cfg, Host& host, CpuMeter* meter) {
  l5p::nvme::QueueConfig q;
  q.hdgst = cfg.hdgst;
  q.ddgst = cfg.ddgst;
  q.offload = host.driver();
  const OffloadMode m = cfg.offload;
  q.offload_tx = m == OffloadMode::kTx || m == OffloadMode::kOn || m == OffloadMode::kCrc;
  q.offload_rx = m == OffloadMode::kRx || m == OffloadMode::kOn || m == OffloadMode::kCrc;
  q.ddp = m == OffloadMode::kRx || m == OffloadMode::kOn || m == OffloadMode::kDdp;
  q.crc_offload = m != OffloadMode::kDdp;
  q.meter = meter;
  return q;
}

l5p::nvme::QueueConfig nvme_admin_queue_config(const ScenarioConfig& cfg, Host& host, CpuMeter* meter) {
  l5p::nvme::QueueConfig q = nvme_queue_config(cfg, host, meter);
  q.offload_tx = q.offload_rx = q.ddp = false;
  return q;
}

std::unique_ptr<l5p::nvme::Transport> make_nvme_transport(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                                          bool client, Host& host, TlsShared& tls,
                                                          std::vector<l5p::tls::TlsSession*>& tls_sessions) {
  if (cfg.l5p != L5pKind::kNvmeTls) {
    l5p::MsgLog* log = host.new_rx_msg_log(c->tx_flow().reversed());
    return l5p::nvme::tcp_transport(std::move(c), log);
  }
  auto s = make_tls(cfg, std::move(c), client, host, tls);
  tls_sessions.push_back(s.get());
  return l5p::nvme::tls_transport(std::move(s));
}

std::shared_ptr<l5p::nvme::Namespace> make_namespace(const ScenarioConfig& cfg) {
  return cfg.ns_file.empty() ? l5p::nvme::Namespace::ram(cfg.ns_size, cfg.lba_size)
                             : l5p::nvme::Namespace::file(cfg.ns_file, cfg.ns_size, cfg.lba_size);
}

std::shared_ptr<l5p::nvme::Namespace> make_pattern_namespace(const ScenarioConfig& cfg) {
  auto ns = make_namespace(cfg);
  Bytes chunk(1 << 20);
  for (uint64_t o = 0; o < ns->bytes(); o += chunk.size()) {
    const size_t n = size_t(std::min<uint64_t>(chunk.size(), ns->bytes() - o));
    apps::pattern_fill(apps::ns_pattern_seed(cfg.seed), o, MutByteSpan(chunk.data(), n));
    ns->write(o, ByteSpan(chunk.data(), n));
  }
  return ns;
}

apps::FioConfig fio_config(const ScenarioConfig& cfg) {
  apps::FioConfig fc;
  fc.rw = cfg.rw;
  fc.io_size = cfg.io_size;
  fc.depth = cfg.depth;
  fc.bytes = cfg.bytes;
  fc.seed = cfg.seed;
  fc.region_limit = cfg.ns_size;
  return fc;
}

}  // namespace autonic::testbed
