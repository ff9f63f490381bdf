// A context's compact at-rest form (§6.5): what the NIC writes back to host memory when it
// evicts a context and reads again on its next miss. Fields are appended in a fixed order and
// read back in the same order; no padding, no pointers.
#pragma once
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "common/bytes.h"

namespace autonic::nic {

class Packer {
 public:
  explicit Packer(Bytes& out) : out_(out) {}
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put_bytes(&v, sizeof v);
  }
  void put_bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }

 private:
  Bytes& out_;
};

class Unpacker {
 public:
  explicit Unpacker(ByteSpan in) : in_(in) {}
  template <class T>
  void get(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    get_bytes(&v, sizeof v);
  }
  template <class T>
  T get() {
    T v{};
    get(v);
    return v;
  }
  void get_bytes(void* p, size_t n) {
    if (n > in_.size() - at_) throw std::out_of_range("context at-rest form too short");
    std::memcpy(p, in_.data() + at_, n);
    at_ += n;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  ByteSpan in_;
  size_t at_ = 0;
};

}  // namespace autonic::nic
