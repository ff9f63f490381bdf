// Which bytes of a message arrived in NIC-marked packets (decrypted / crc_ok): the record
// layer's view for classifying a message full / partial / none and redoing only what the NIC
// did not (§4.3). Adjacent pieces with the same mark merge; marks of different packets never
// change each other.
#pragma once
#include <cstdint>
#include <vector>

namespace autonic::l5p {

class MarkedRanges {
 public:
  struct Range {
    uint32_t off, len;
    bool marked;
  };
  void add(uint32_t off, uint32_t len, bool marked) {
    if (!ranges_.empty() && ranges_.back().marked == marked)
      ranges_.back().len += len;
    else
      ranges_.push_back(Range{off, len, marked});
  }
  void clear() { ranges_.clear(); }
  bool all() const {
    for (const Range& r : ranges_) if (!r.marked) return false;
    return true;
  }
  bool any() const {
    for (const Range& r : ranges_) if (r.marked) return true;
    return false;
  }
  const std::vector<Range>& ranges() const { return ranges_; }

 private:
  std::vector<Range> ranges_;
};

}  // namespace autonic::l5p
