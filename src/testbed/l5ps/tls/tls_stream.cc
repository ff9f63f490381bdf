// TLS in a run (l5o/l5p_registry.h): its session on a bulk flow's connection (make_tls, shared
// with NVMe/TCP over TLS, builds it).
#include "testbed/sessions.h"

namespace autonic::testbed {

std::unique_ptr<l5p::Stream> make_tls_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                             bool client, Host& host, TlsShared& tls) {
  return make_tls(cfg, std::move(c), client, host, tls);
}

}  // namespace autonic::testbed
