// An l5o offload context owned by the L5P that created it: destroyed (l5o destroy, Listing 1)
// when the owner lets go of it, so no session tears its contexts down by hand.
#pragma once
#include <utility>

#include "l5o/l5o.h"

namespace autonic::l5p {

class OffloadHandle {
 public:
  OffloadHandle() = default;
  // h may be kNoHandle (the NIC had no context): then there is nothing to destroy.
  OffloadHandle(l5o::Offload* off, l5o::L5oHandle h) : off_(h != l5o::kNoHandle ? off : nullptr), h_(h) {}
  OffloadHandle(OffloadHandle&& o) noexcept : off_(std::exchange(o.off_, nullptr)), h_(std::exchange(o.h_, l5o::kNoHandle)) {}
  OffloadHandle& operator=(OffloadHandle&& o) noexcept {
    if (this != &o) {
      reset();
      off_ = std::exchange(o.off_, nullptr);
      h_ = std::exchange(o.h_, l5o::kNoHandle);
    }
    return *this;
  }
  OffloadHandle(const OffloadHandle&) = delete;
  OffloadHandle& operator=(const OffloadHandle&) = delete;
  ~OffloadHandle() { reset(); }

  void reset() {
    if (off_ && h_ != l5o::kNoHandle) off_->destroy(h_);
    off_ = nullptr;
    h_ = l5o::kNoHandle;
  }
  explicit operator bool() const { return h_ != l5o::kNoHandle; }
  l5o::L5oHandle get() const { return h_; }
  l5o::Offload* offload() const { return off_; }

 private:
  l5o::Offload* off_ = nullptr;
  l5o::L5oHandle h_ = l5o::kNoHandle;
};

}  // namespace autonic::l5p
