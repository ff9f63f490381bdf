// A host that is only a byte script (malformed-PDU checks and fuzzing): its connection sends
// exactly these bytes to our controller and records what comes back. The run ends when the
// controller gives up (or stalls). Put it in ScenarioConfig::nvme_peer.
//
// With an I/O script too, it opens two connections, as a host does: the admin queue (`script`:
// ICReq, Connect QID 0, CC.EN) and then I/O queue 1 (`io_script`: ICReq, Connect QID 1, I/O
// commands -- an admin queue takes only the admin command set, Base 2.0 §3.3.1). The I/O
// script goes once the admin queue's set-up (every command with a CID FFxxh) is answered.
#pragma once
#include <map>
#include <string>

#include "common/bytes.h"
#include "testbed/peer_hook.h"

namespace autonic::testbed {

class RawNvmeHost final : public NvmePeerHook {
 public:
  explicit RawNvmeHost(Bytes script, Bytes io_script = {});

  Side side() const override { return Side::kHost; }
  unsigned connections() const override { return conns_[1].script.empty() ? 1 : 2; }
  l5p::StreamHandler* attach(l5p::Stream& s) override;
  // What the controller answered on the script's last connection (the I/O queue's, if any)
  // after its 128-byte ICResp, into the report's extra:
  // raw_first_status: the first CapsuleResp's status code (set-up CIDs FFxxh left out); raw_termreq_fes: the FES of a
  // C2HTermReq (fatal errors end with one: NVMe/TCP 1.0 §3.6.2.9); -1 for none; raw_rx_bytes.
  void report(std::map<std::string, double>& extra) const override;

  const Bytes& received() const { return conns_[connections() - 1].got; }

 private:
  struct Conn final : l5p::StreamHandler {
    RawNvmeHost* host = nullptr;
    Bytes script, got;
    size_t sent = 0;
    l5p::Stream* s = nullptr;
    void on_data(ByteSpan d) override;
    void on_writable() override;
    void on_failed(const std::string&) override {}
  };
  bool io_may_start() const;

  Conn conns_[2];
  unsigned attached_ = 0;
  size_t setup_cmds_ = 0;  // CapsuleCmds with a CID FFxxh in the admin script
};

}  // namespace autonic::testbed
