// A stream for driving an application handler by hand (tests, fuzz_http): it keeps every byte the
// handler sends, notes a shutdown (and anything sent after it), and hands the handler bytes as a
// peer's stream would.
#pragma once
#include <string>

#include "l5p/stream.h"

namespace autonic::testing {

struct FakeStream final : l5p::Stream {
  l5p::StreamHandler* h = nullptr;
  std::string out;
  bool shut = false;
  size_t sent_after_shut = 0;
  void set_handler(l5p::StreamHandler* hh) override { h = hh; }
  size_t send(ByteSpan d, bool) override {
    if (shut) sent_after_shut += d.size();
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
    return d.size();
  }
  bool all_acked() const override { return true; }
  void shutdown() override { shut = true; }
  void export_stats(CounterMap&) const override {}
  void feed(const std::string& s) { h->on_data(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size())); }
};

}  // namespace autonic::testing
