// Fifo: a first-in first-out queue with random access, in one array used as a ring (doubling,
// in powers of two, as it fills). Indexing is a mask, where std::deque's is block arithmetic (a
// division by its entries per block) on every access: for the L5P's TX message map, indexed a
// few times per tcp_write, that arithmetic was ~125K instructions per 16 MiB sent (issue #12,
// callgrind). And an empty Fifo holds no memory, where libstdc++'s std::deque allocates a block
// when constructed (one per connection: issue #13's 128K connections).
// Single-threaded; for the NIC's rings between two cores see nic/rings.h.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace autonic {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }
  T& operator[](size_t i) { return buf_[(head_ + i) & mask_]; }  // i < size(): 0 is the oldest
  const T& operator[](size_t i) const { return buf_[(head_ + i) & mask_]; }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return buf_[(tail_ - 1) & mask_]; }
  const T& back() const { return buf_[(tail_ - 1) & mask_]; }
  void push_back(T&& v) {
    if (size() == buf_.size()) grow();
    buf_[tail_++ & mask_] = std::move(v);
  }
  // The oldest entry goes; its slot is reset now, so what it owns is released now, not when
  // the slot is next written.
  void pop_front() { buf_[head_++ & mask_] = T{}; }
  // Lets go of the array once empty (an idle connection holds none; the next push allocates).
  void release_if_empty() {
    if (!empty() || buf_.empty()) return;
    std::vector<T>().swap(buf_);
    head_ = tail_ = mask_ = 0;
  }

 private:
  void grow() {
    std::vector<T> b(buf_.empty() ? 4 : 2 * buf_.size());
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) b[i] = std::move((*this)[i]);
    buf_.swap(b);
    mask_ = buf_.size() - 1;
    head_ = 0;
    tail_ = n;
  }
  std::vector<T> buf_;
  size_t head_ = 0, tail_ = 0, mask_ = 0;  // free-running indices; an entry's slot is index & mask_
};

}  // namespace autonic
