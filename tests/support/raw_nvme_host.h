// A host that is only a byte script (malformed-PDU checks and fuzzing): its one connection sends
// exactly these bytes to our controller and records what comes back. The run ends when the
// controller gives up (or stalls). Put it in ScenarioConfig::nvme_peer.
#pragma once
#include <map>
#include <string>

#include "common/bytes.h"
#include "testbed/peer_hook.h"

namespace autonic::testbed {

class RawNvmeHost final : public NvmePeerHook, private l5p::StreamHandler {
 public:
  explicit RawNvmeHost(Bytes script) : script_(std::move(script)) {}

  Side side() const override { return Side::kHost; }
  l5p::StreamHandler* attach(l5p::Stream& s) override;
  // What the controller answered after its 128-byte ICResp, into the report's extra:
  // raw_first_status: the first CapsuleResp's status code (set-up CIDs FFxxh left out); raw_termreq_fes: the FES of a
  // C2HTermReq (fatal errors end with one: NVMe/TCP 1.0 §3.6.2.9); -1 for none; raw_rx_bytes.
  void report(std::map<std::string, double>& extra) const override;

  const Bytes& received() const { return got_; }

 private:
  void on_data(ByteSpan d) override { got_.insert(got_.end(), d.begin(), d.end()); }
  void on_writable() override;
  void on_failed(const std::string&) override {}

  Bytes script_;
  size_t sent_ = 0;
  Bytes got_;
  l5p::Stream* s_ = nullptr;
};

}  // namespace autonic::testbed
