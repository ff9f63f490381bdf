#include "apps/stream_sink.h"

#include "apps/pattern.h"

namespace autonic::apps {

void StreamSink::on_data(ByteSpan d) {
  AppScope app(meter_);
  if (seed_) wrong_ += pattern_mismatches(*seed_, received_, d);
  if (out_ && std::fwrite(d.data(), 1, d.size(), out_) != d.size() && !failure) failure = "output:write_failed";
  received_ += d.size();
}

}  // namespace autonic::apps
