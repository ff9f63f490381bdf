// What a real-network stream verb does with received bytes: counts them, checks them against a
// sender's pattern (both ends autonic), writes them to a file or stdout (like s_client's output).
#pragma once
#include <cstdio>
#include <optional>
#include <string>

#include "common/cpu_meter.h"
#include "l5p/stream.h"

namespace autonic::apps {

class StreamSink final : public l5p::StreamHandler {
 public:
  // verify_seed: the pattern the bytes must match (nullopt: not checked). out: may be null.
  StreamSink(std::optional<uint64_t> verify_seed, std::FILE* out, CpuMeter* meter)
      : seed_(verify_seed), out_(out), meter_(meter) {}
  void on_data(ByteSpan d) override;
  void on_writable() override {}
  void on_eof() override { eof_ = true; }
  void on_failed(const std::string& outcome) override { if (!failure) failure = outcome; }
  uint64_t received() const { return received_; }
  uint64_t wrong_bytes() const { return wrong_; }
  bool eof() const { return eof_; }
  std::optional<std::string> failure;

 private:
  std::optional<uint64_t> seed_;
  std::FILE* out_;
  CpuMeter* meter_;
  uint64_t received_ = 0, wrong_ = 0;
  bool eof_ = false;
};

}  // namespace autonic::apps
