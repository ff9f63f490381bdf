// Discrete-event queue: callbacks ordered by (time, insertion order) so that equal-time events
// run in a deterministic order.
#pragma once
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "common/clock.h"

namespace autonic {

class EventQueue {
 public:
  using Fn = std::function<void()>;
  void schedule(Nanos at, Fn fn) { q_.push(Ev{at, seq_++, std::move(fn)}); }
  bool empty() const { return q_.empty(); }
  Nanos next_time() const { return q_.top().at; }
  // Pops and runs the earliest event.
  void run_next() {
    Fn fn = std::move(const_cast<Ev&>(q_.top()).fn);
    q_.pop();
    fn();
  }
  size_t size() const { return q_.size(); }

 private:
  struct Ev {
    Nanos at;
    uint64_t seq;
    Fn fn;
    bool operator>(const Ev& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> q_;
  uint64_t seq_ = 0;
};

}  // namespace autonic
