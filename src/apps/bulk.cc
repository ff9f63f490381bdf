#include "apps/bulk.h"

#include <algorithm>
#include <utility>

#include "apps/pattern.h"

namespace autonic::apps {

BulkSender::BulkSender(l5p::Stream& s, uint64_t flow_seed, uint64_t total, CpuMeter* meter, size_t chunk)
    : s_(s), seed_(flow_seed), total_(total), limit_(total), chunk_(chunk), meter_(meter) {
  buf_off_ = ~0ull;
}

BulkSender::BulkSender(l5p::Stream& s, std::shared_ptr<const Bytes> data, CpuMeter* meter, size_t chunk)
    : BulkSender(s, 0, data->size(), meter, chunk) {
  data_ = std::move(data);
}

void BulkSender::fill(uint64_t off, MutByteSpan out) const {
  if (data_) std::copy_n(data_->data() + off, out.size(), out.data());
  else pattern_fill(seed_, off, out);
}

void BulkSender::on_writable() {
  if (on_start) std::exchange(on_start, nullptr)();
  const bool zc = s_.supports_zc();
  while (sent_ < limit_) {
    // Keep enough in front of the stream: refill from sent_ when the rest of the buffer drops
    // below kLow and more data follows, so an L5P told `more` can leave a tail shorter than a
    // message for the next call instead of cutting a short message (kLow > any message).
    constexpr uint64_t kLow = 64 * 1024;
    const uint64_t want = std::min<uint64_t>(chunk_, limit_ - sent_);
    const uint64_t have = buf_off_ == ~0ull ? 0 : buf_off_ + (zc ? (zc_buf_ ? zc_buf_->size() : 0) : buf_len_) - sent_;
    if (buf_off_ == ~0ull || have < std::min(want, kLow)) {
      buf_off_ = sent_;
      AppScope app(meter_);
      if (zc) {
        // Zero-copy: a new buffer each time; the stream may hold the old one until it is
        // acknowledged, and the sender never writes to a buffer it handed over.
        auto b = std::make_shared<Bytes>(size_t(want));
        fill(buf_off_, *b);
        zc_buf_ = std::move(b);
      } else {
        if (buf_.size() < want) buf_.resize(size_t(want));  // sized on first use, freed when idle
        fill(buf_off_, MutByteSpan(buf_.data(), size_t(want)));
        buf_len_ = size_t(want);
      }
    }
    const size_t off = size_t(sent_ - buf_off_);
    const size_t len = (zc ? zc_buf_->size() : buf_len_) - off;
    const bool more = sent_ + len < limit_;
    const size_t n = zc ? s_.send_zc(zc_buf_, off, len, more) : s_.send(ByteSpan(buf_.data() + off, len), more);
    if (n == 0) return;
    sent_ += n;
  }
  // Everything allowed so far is with the stream (it copied it, or holds zero-copy buffers by
  // reference): nothing to keep until the next turn.
  Bytes().swap(buf_);
  buf_len_ = 0;
  zc_buf_.reset();
  buf_off_ = ~0ull;
}

void BulkSender::set_limit(uint64_t upto) {
  limit_ = std::min(upto, total_);
  on_writable();
}

void BulkReceiver::on_data(ByteSpan d) {
  if (on_start) std::exchange(on_start, nullptr)();
  const size_t n = size_t(std::min<uint64_t>(d.size(), total_ > received_ ? total_ - received_ : 0));
  AppScope app(meter_);
  wrong_ += pattern_mismatches(seed_, received_, d.first(n));
  wrong_ += d.size() - n;  // anything beyond what was sent is wrong by definition
  received_ += d.size();
}

}  // namespace autonic::apps
