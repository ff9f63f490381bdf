// TcpSeq: a 32-bit TCP sequence number with wrap-aware comparison (RFC 793 §3.3, RFC 1982).
// A strong type so that sequence numbers and byte counts cannot be mixed up silently.
#pragma once
#include <cstdint>

namespace autonic {

class TcpSeq {
 public:
  constexpr TcpSeq() = default;
  constexpr explicit TcpSeq(uint32_t v) : v_(v) {}
  constexpr uint32_t raw() const { return v_; }

  constexpr TcpSeq operator+(uint32_t n) const { return TcpSeq(v_ + n); }
  constexpr TcpSeq operator-(uint32_t n) const { return TcpSeq(v_ - n); }
  constexpr TcpSeq& operator+=(uint32_t n) { v_ += n; return *this; }
  // Signed distance a - b; valid while the two are within 2^31 of each other.
  friend constexpr int32_t operator-(TcpSeq a, TcpSeq b) { return int32_t(a.v_ - b.v_); }
  friend constexpr bool operator==(TcpSeq a, TcpSeq b) { return a.v_ == b.v_; }
  friend constexpr bool operator<(TcpSeq a, TcpSeq b) { return (a - b) < 0; }
  friend constexpr bool operator<=(TcpSeq a, TcpSeq b) { return (a - b) <= 0; }
  friend constexpr bool operator>(TcpSeq a, TcpSeq b) { return (a - b) > 0; }
  friend constexpr bool operator>=(TcpSeq a, TcpSeq b) { return (a - b) >= 0; }

 private:
  uint32_t v_ = 0;
};

}  // namespace autonic
