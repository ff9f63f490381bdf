// Bulk transfer workload: a sender streams N pattern bytes; a receiver verifies every byte.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/cpu_meter.h"
#include "l5p/stream.h"

namespace autonic::apps {

class BulkSender final : public l5p::StreamHandler {
 public:
  BulkSender(l5p::Stream& s, uint64_t flow_seed, uint64_t total, CpuMeter* meter = nullptr, size_t chunk = 256 * 1024);
  // Sends `data` (a file's bytes) instead of the pattern.
  BulkSender(l5p::Stream& s, std::shared_ptr<const Bytes> data, CpuMeter* meter = nullptr, size_t chunk = 256 * 1024);
  void on_data(ByteSpan) override {}
  void on_writable() override;
  void on_failed(const std::string& outcome) override { failure = outcome; }
  bool done_sending() const { return sent_ == total_; }
  // Turns (testbed/flow_turns.h): send only up to `upto` bytes of the stream until allowed
  // more (default: everything); sends what it now may at once.
  void set_limit(uint64_t upto);
  uint64_t sent() const { return sent_; }
  std::optional<std::string> failure;
  // Called once, at the first on_writable(): the stream is established (TLS: handshake done).
  std::function<void()> on_start;

 private:
  void fill(uint64_t off, MutByteSpan out) const;
  l5p::Stream& s_;
  std::shared_ptr<const Bytes> data_;  // set: the bytes to send; else the pattern of seed_
  uint64_t seed_, total_, limit_, sent_ = 0;
  Bytes buf_;
  uint64_t buf_off_ = 0;  // stream offset of buf_[0]
  std::shared_ptr<const Bytes> zc_buf_;  // zero-copy: a fresh immutable buffer per chunk
  size_t chunk_;
  CpuMeter* meter_;
  size_t buf_len_ = 0;
};

// A stream has one handler: this one feeds a sender and a receiver (bidirectional runs).
class DuplexHandler final : public l5p::StreamHandler {
 public:
  DuplexHandler(l5p::StreamHandler* tx, l5p::StreamHandler* rx) : tx_(tx), rx_(rx) {}
  void on_data(ByteSpan d) override { if (rx_) rx_->on_data(d); }
  void on_writable() override { if (tx_) tx_->on_writable(); }
  void on_eof() override { if (rx_) rx_->on_eof(); }
  void on_failed(const std::string& o) override {
    if (tx_) tx_->on_failed(o);
    if (rx_) rx_->on_failed(o);
  }

 private:
  l5p::StreamHandler* tx_;
  l5p::StreamHandler* rx_;
};

class BulkReceiver final : public l5p::StreamHandler {
 public:
  BulkReceiver(uint64_t flow_seed, uint64_t total, CpuMeter* meter = nullptr) : seed_(flow_seed), total_(total), meter_(meter) {}
  void on_data(ByteSpan d) override;
  void on_writable() override {}
  void on_failed(const std::string& outcome) override { if (!failure) failure = outcome; }
  bool complete() const { return received_ >= total_; }
  uint64_t received() const { return received_; }
  uint64_t wrong_bytes() const { return wrong_; }
  std::optional<std::string> failure;
  // Called once, at the first bytes received: the stream is established.
  std::function<void()> on_start;

 private:
  uint64_t seed_, total_, received_ = 0, wrong_ = 0;
  CpuMeter* meter_;
};

}  // namespace autonic::apps
