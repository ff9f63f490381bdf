// Many connections with the paper's shape (§6.5, Fig. 19: nginx serving 64 to 128K clients):
// every flow is opened first (a bounded number of handshakes at a time), then flows take turns,
// each writing a burst of packets when its turn comes. At most kActiveTurns turns are under way
// at once and a flow has one turn at a time, so what is queued -- per flow and in all -- stays
// bounded however many flows there are, and the NIC sees a few flows interleaved, each for a
// burst: the batching that hides its context-cache misses (Fig. 19: 48 packets a batch at 128
// connections, 8 at 128K).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "common/rng.h"
#include "l5p/stream.h"

namespace autonic::testbed {

class FlowTurns {
 public:
  static constexpr uint32_t kConnectWindow = 8;  // handshakes under way at once (more: more heap fragmentation)
  static constexpr uint32_t kActiveTurns = 64;     // flows writing at once (one server core's batch)
  struct Hooks {
    std::function<void(uint32_t flow)> connect;                     // open flow i now
    std::function<void(uint32_t flow, uint64_t upto)> grant;        // flow i may send up to `upto` bytes
    std::function<void()> established;  // every connection is open, no turn taken yet (optional)
  };
  // bytes[i]: what flow i carries in all; turn_bytes: what one turn writes (a burst).
  FlowTurns(std::vector<uint64_t> bytes, uint64_t turn_bytes, bool random_order, uint64_t seed, Hooks hooks);

  void start();
  void on_established(uint32_t flow);
  void on_delivered(uint32_t flow, uint64_t n);  // the receiver got n more bytes of flow i
  void on_failed(const std::string& outcome) {
    if (failure_.empty()) failure_ = outcome;
  }

  bool done() const { return flows_done_ == bytes_.size(); }
  uint64_t progress() const { return delivered_ + established_; }
  const std::string& failure() const { return failure_; }
  uint64_t turns() const { return turns_; }
  uint32_t established() const { return established_; }
  // Flows in the order they finished: the last is the most recently used.
  const std::vector<uint32_t>& finished() const { return finished_; }

 private:
  void connect_more();
  void start_turns();
  void next_turns();
  std::vector<uint64_t> bytes_, granted_, delivered_by_;
  uint64_t turn_bytes_;
  bool random_;
  Rng rng_;
  Hooks hooks_;
  uint32_t next_connect_ = 0, connecting_ = 0, established_ = 0, active_ = 0, flows_done_ = 0;
  std::vector<uint32_t> finished_;
  std::deque<uint32_t> ready_;  // flows waiting for a turn (FIFO: round-robin)
  uint64_t delivered_ = 0, turns_ = 0;
  std::string failure_;
};

// Sits between a flow's stream and its workload (the sender on the client, the receiver on the
// server) and tells FlowTurns when the flow is open and how much has arrived.
class TurnHandler final : public l5p::StreamHandler {
 public:
  TurnHandler(FlowTurns& t, uint32_t flow, l5p::StreamHandler* inner, bool client)
      : t_(t), inner_(inner), flow_(flow), client_(client) {}
  void on_data(ByteSpan d) override {
    inner_->on_data(d);
    if (!client_) t_.on_delivered(flow_, d.size());
  }
  void on_payload(ByteSpan d, bool inner_marked) override {
    inner_->on_payload(d, inner_marked);
    if (!client_) t_.on_delivered(flow_, d.size());
  }
  void on_inner_lost() override { inner_->on_inner_lost(); }
  void on_writable() override {
    if (client_ && !open_) {
      open_ = true;  // the stream is ready (TLS: handshake done)
      t_.on_established(flow_);
    }
    inner_->on_writable();
  }
  void on_eof() override { inner_->on_eof(); }
  void on_failed(const std::string& outcome) override {
    t_.on_failed(outcome);
    inner_->on_failed(outcome);
  }

 private:
  FlowTurns& t_;
  l5p::StreamHandler* inner_;
  uint32_t flow_;
  bool client_, open_ = false;
};

}  // namespace autonic::testbed
