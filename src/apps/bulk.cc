#include "apps/bulk.h"

#include <algorithm>

#include "apps/pattern.h"

namespace autonic::apps {

BulkSender::BulkSender(l5p::Stream& s, uint64_t flow_seed, uint64_t total, size_t chunk)
    : s_(s), seed_(flow_seed), total_(total), buf_(chunk), chunk_(chunk) {
  buf_off_ = ~0ull;
}

void BulkSender::on_writable() {
  if (s_.supports_zc()) {
    // Zero-copy: each chunk is a new buffer the stream may hold until it is acknowledged;
    // the sender never writes to a buffer it handed over.
    while (sent_ < total_) {
      if (!zc_buf_ || sent_ >= buf_off_ + zc_buf_->size()) {
        buf_off_ = sent_;
        auto b = std::make_shared<Bytes>(size_t(std::min<uint64_t>(chunk_, total_ - sent_)));
        pattern_fill(seed_, buf_off_, *b);
        zc_buf_ = std::move(b);
      }
      const size_t off = size_t(sent_ - buf_off_);
      const size_t n = s_.send_zc(zc_buf_, off, zc_buf_->size() - off);
      if (n == 0) return;
      sent_ += n;
    }
    return;
  }
  while (sent_ < total_) {
    if (buf_off_ == ~0ull || sent_ >= buf_off_ + buf_.size()) {
      buf_off_ = sent_;
      const size_t n = size_t(std::min<uint64_t>(buf_.size(), total_ - sent_));
      pattern_fill(seed_, buf_off_, MutByteSpan(buf_.data(), n));
    }
    const size_t avail = size_t(std::min<uint64_t>(buf_off_ + buf_.size(), total_) - sent_);
    const size_t n = s_.send(ByteSpan(buf_.data() + (sent_ - buf_off_), avail));
    if (n == 0) return;
    sent_ += n;
  }
}

void BulkReceiver::on_data(ByteSpan d) {
  const size_t n = size_t(std::min<uint64_t>(d.size(), total_ > received_ ? total_ - received_ : 0));
  wrong_ += pattern_mismatches(seed_, received_, d.first(n));
  wrong_ += d.size() - n;  // anything beyond what was sent is wrong by definition
  received_ += d.size();
}

}  // namespace autonic::apps
