#include "testbed/flow_turns.h"

#include <algorithm>
#include <utility>

namespace autonic::testbed {

FlowTurns::FlowTurns(std::vector<uint64_t> bytes, uint64_t turn_bytes, bool random_order, uint64_t seed, Hooks hooks)
    : bytes_(std::move(bytes)), granted_(bytes_.size()), delivered_by_(bytes_.size()),
      turn_bytes_(std::max<uint64_t>(turn_bytes, 1)), random_(random_order), rng_(seed, 0x7042), hooks_(std::move(hooks)) {}

void FlowTurns::start() { connect_more(); }

void FlowTurns::connect_more() {
  while (connecting_ < kConnectWindow && next_connect_ < bytes_.size()) {
    ++connecting_;
    hooks_.connect(next_connect_++);
  }
}

void FlowTurns::on_established(uint32_t flow) {
  if (flow >= bytes_.size()) return;
  --connecting_;
  ++established_;
  connect_more();
  if (established_ == bytes_.size()) start_turns();  // steady state: every connection open
}

void FlowTurns::start_turns() {
  if (hooks_.established) hooks_.established();
  for (uint32_t i = 0; i < bytes_.size(); ++i) {
    if (bytes_[i]) ready_.push_back(i);
    else ++flows_done_;
  }
  next_turns();
}

// Gives turns to waiting flows while fewer than kActiveTurns are under way: the next in line
// (round-robin), or a seeded random one of those waiting.
void FlowTurns::next_turns() {
  while (active_ < kActiveTurns && !ready_.empty()) {
    size_t k = random_ ? size_t(rng_.below(ready_.size())) : 0;
    std::swap(ready_[0], ready_[k]);
    const uint32_t f = ready_.front();
    ready_.pop_front();
    ++active_;
    ++turns_;
    granted_[f] = std::min(bytes_[f], granted_[f] + turn_bytes_);
    hooks_.grant(f, granted_[f]);
  }
}

void FlowTurns::on_delivered(uint32_t flow, uint64_t n) {
  if (flow >= bytes_.size() || n == 0) return;
  delivered_ += n;
  delivered_by_[flow] += n;
  if (delivered_by_[flow] < granted_[flow] || granted_[flow] == 0) return;
  // The turn is over: the flow queues for its next one, and another flow writes.
  --active_;
  if (granted_[flow] < bytes_[flow]) ready_.push_back(flow);
  else {
    ++flows_done_;
    finished_.push_back(flow);
  }
  next_turns();
}

}  // namespace autonic::testbed
