#include "testbed/wire_audit.h"

#include <algorithm>

namespace autonic::testbed {

namespace {
struct Range {
  int64_t lo, hi;  // stream offsets from the log's first message, [lo, hi)
};
}  // namespace

WireAudit audit_wire(const std::vector<wire::SimWire::Fault>& faults, const std::vector<const l5p::MsgLog*>& logs) {
  WireAudit a;
  for (const l5p::MsgLog* lp : logs) {
    const l5p::MsgLog& log = *lp;
    if (log.msgs.empty()) continue;
    const TcpSeq base = log.msgs.front().start;
    // The faults of this direction, unwrapped: the first from the first message, each later
    // one from the one before.
    std::vector<Range> hit;
    TcpSeq prev = base;
    int64_t at = 0;
    for (const wire::SimWire::Fault& f : faults) {
      if (!(f.flow == log.flow)) continue;
      at += int64_t(int32_t(f.seq.raw() - prev.raw()));
      prev = f.seq;
      hit.push_back(Range{at, at + int64_t(f.len)});
    }
    std::sort(hit.begin(), hit.end(), [](const Range& x, const Range& y) { return x.lo < y.lo; });
    std::vector<int64_t> max_hi(hit.size());  // furthest end among hit[0..i]
    for (size_t i = 0; i < hit.size(); ++i) max_hi[i] = std::max(hit[i].hi, i ? max_hi[i - 1] : INT64_MIN);
    int64_t start = 0;
    TcpSeq last = base;
    for (const l5p::MsgLog::Entry& m : log.msgs) {
      start += int64_t(int32_t(m.start.raw() - last.raw()));  // unwrapped: each from the one before
      last = m.start;
      const int64_t end = start + m.len;
      // Faults starting before the message ends; any of them ending after it starts touches it.
      const size_t n = size_t(std::lower_bound(hit.begin(), hit.end(), end, [](const Range& r, int64_t v) { return r.lo < v; }) -
                              hit.begin());
      const bool clean = n == 0 || max_hi[n - 1] <= start;
      ++a.msgs;
      a.clean += clean;
      a.full += m.full;
      a.full_clean += clean && m.full;
    }
  }
  return a;
}

}  // namespace autonic::testbed
