// The framed L5P in a run (l5o/l5p_registry.h): its session on a bulk flow's connection.
#include "common/rng.h"
#include "l5p/framed/framed_session.h"
#include "testbed/sessions.h"

namespace autonic::testbed {

std::unique_ptr<l5p::Stream> make_framed_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                                bool client, Host& host, TlsShared&) {
  l5p::framed::SessionConfig sc;
  sc.secret = splitmix64(cfg.seed ^ 0xF4A3Dull);
  sc.msg_payload = cfg.msg_size;
  sc.offload = host.driver();
  // The client sends, the server receives; each side offloads the direction(s) asked for.
  sc.offload_tx = cfg.offload == OffloadMode::kTx || cfg.offload == OffloadMode::kOn;
  sc.offload_rx = cfg.offload == OffloadMode::kRx || cfg.offload == OffloadMode::kOn;
  sc.rx_msg_log = host.new_rx_msg_log(c->tx_flow().reversed());
  return std::make_unique<l5p::framed::FramedSession>(
      std::move(c), client ? l5p::framed::FramedSession::Role::kClient : l5p::framed::FramedSession::Role::kServer, sc);
}

}  // namespace autonic::testbed
