// A hand-written NVMe/TCP controller for tests and fuzzing: just enough of the protocol
// (ICResp, Fabrics Connect, Property Get/Set, Identify, Read, in-capsule Write) to bring a real
// host up and serve the fio-like workload from the namespace pattern -- and hooks that let a
// test or a fuzzer rewrite anything it sends. A hostile controller, scripted. Put it in
// ScenarioConfig::nvme_peer: the testbed hands it each connection the host opens (admin first).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "testbed/peer_hook.h"

namespace autonic::testbed {

class ScriptedCtrl final : public NvmePeerHook {
 public:
  struct Cmd {
    unsigned conn;  // 0: admin queue, 1..: I/O queues (in connection order)
    uint16_t cid;
    uint8_t opc;
    const uint8_t* sqe;  // 64 bytes
  };
  // Tamper with Identify data (cns 1: controller, 0: namespace) before it is sent.
  std::function<void(uint8_t cns, Bytes& data)> identify;
  // Rewrite the bytes answering one command (its C2HData PDUs and CapsuleResp): append, drop,
  // reorder, corrupt. Called with the well-behaved answer.
  std::function<void(const Cmd& c, Bytes& out)> answer;
  uint32_t lba_size = 512;
  uint64_t ns_bytes = 16u << 20;
  uint64_t pattern_seed = 0;  // read data: apps::pattern_fill(pattern_seed, offset, ...)
  size_t c2h_chunk = 128 * 1024;

  // Host bytes in (any split), controller bytes out.
  Bytes on_bytes(unsigned conn, ByteSpan in);

  ScriptedCtrl();
  ~ScriptedCtrl() override;

  // NvmePeerHook: the controller's side of the run.
  Side side() const override { return Side::kController; }
  void on_namespace(const NamespaceInfo& ns) override;
  l5p::StreamHandler* attach(l5p::Stream& s) override;

  // PDU builders, with the digests this connection negotiated.
  Bytes c2h_data(unsigned conn, uint16_t cid, uint32_t off, ByteSpan data, bool last) const;
  Bytes capsule_resp(unsigned conn, uint16_t cid, uint16_t status, uint64_t dw0 = 0) const;
  Bytes r2t(unsigned conn, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len) const;

 private:
  struct Conn {
    Bytes in;
    bool ic = false, hdgst = false, ddgst = false;
  };
  Bytes pdu(const Conn& c, uint8_t type, uint8_t flags, const uint8_t* spec, ByteSpan data) const;
  void on_cmd(unsigned conn, const uint8_t* sqe, Bytes& out);
  std::map<unsigned, Conn> conns_;
  class Peer;  // one connection's stream handler: bytes in -> on_bytes -> bytes out
  std::vector<std::unique_ptr<Peer>> peers_;
};

}  // namespace autonic::testbed
