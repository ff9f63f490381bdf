// Connection churn (issue #13; Netronome's kTLS test suite calls it conn_stress): while the bulk
// flows run, short offloaded connections are opened, carry one message each way's worth (the
// client sends `bytes`, checked byte for byte at the server) and are closed -- kWindow at a time,
// `total` in all. Every one creates NIC contexts and destroys them; a leak shows in the
// context counters (added = deleted) and in the RSS, which is sampled after the first round and
// after the last one.
//
// The close is abortive (RST, as a load generator with SO_LINGER 0 does): a graceful close would
// leave 100K pcbs in lwIP's TIME_WAIT list for 2 MSL, which lwIP walks for every new SYN.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/bulk.h"
#include "l5p/stream.h"
#include "tcpip/tcp_conn.h"

namespace autonic::testbed {

class Churn {
 public:
  static constexpr uint32_t kWindow = 64;          // churned connections open at once
  static constexpr uint32_t kRound = 16 * kWindow;  // RSS sampled after the first and the last
  static constexpr uint16_t kPortBase = 1024, kPorts = 30000;  // client ports, reused round-robin
  struct Hooks {
    // Opens connection k from client port `port`: returns the client's stream.
    std::function<std::unique_ptr<l5p::Stream>(uint32_t k, uint16_t port)> connect;
    std::function<void(std::function<void()>)> defer;  // runs fn from the event loop, now
  };
  Churn(uint32_t total, uint64_t bytes, uint64_t seed, Hooks hooks);
  ~Churn();
  void start();
  // The server accepted a churned connection (its client port tells which).
  void accept(uint16_t client_port, std::unique_ptr<l5p::Stream> server);

  bool done() const { return closed_ == total_; }
  uint64_t progress() const { return closed_ + delivered_; }
  const std::string& failure() const { return failure_; }
  uint64_t wrong_bytes() const { return wrong_; }
  uint32_t closed() const { return closed_; }
  uint64_t rss_first() const { return rss_first_; }
  uint64_t rss_last() const { return rss_last_; }

 private:
  struct Slot;
  void open(uint32_t slot);
  void close(uint32_t slot);
  uint32_t total_;
  uint64_t bytes_, seed_;
  Hooks hooks_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<int32_t> slot_of_port_;  // client port - kPortBase -> slot (-1: none)
  uint32_t next_ = 0, closed_ = 0;
  uint64_t delivered_ = 0, wrong_ = 0, rss_first_ = 0, rss_last_ = 0;
  std::string failure_;
};

}  // namespace autonic::testbed
