// Cycle accounting by domain (DESIGN.md invariant: host CPU and NIC CPU accounted separately).
// Each layer's entry point opens a CpuScope for its domain; nested scopes charge the inner
// domain and resume the outer one, so every cycle lands in exactly one bucket.
#pragma once
#include <x86intrin.h>

#include <array>
#include <cstdint>

namespace autonic {

enum class CpuDomain : uint8_t {
  kOther, kClientHost, kClientNic, kServerHost, kServerNic,
  kClientApp, kServerApp,  // the workload's own data generation / checking (part of host CPU)
  kClientCopy, kServerCopy, kClientDigest, kServerDigest,  // L5P copy / digest work (part of host)
  kCount
};

class CpuMeter {
 public:
  CpuMeter() : last_(__rdtsc()) {}
  CpuDomain current() const { return cur_; }
  // The application domain of whichever host is running now.
  CpuDomain app_of_current() const { return server_side() ? CpuDomain::kServerApp : CpuDomain::kClientApp; }
  CpuDomain copy_of_current() const { return server_side() ? CpuDomain::kServerCopy : CpuDomain::kClientCopy; }
  CpuDomain digest_of_current() const { return server_side() ? CpuDomain::kServerDigest : CpuDomain::kClientDigest; }
  CpuDomain switch_to(CpuDomain d) {
    const uint64_t t = __rdtsc();
    cycles_[size_t(cur_)] += t - last_;
    last_ = t;
    CpuDomain prev = cur_;
    cur_ = d;
    return prev;
  }
  uint64_t cycles(CpuDomain d) const { return cycles_[size_t(d)]; }
  void flush() { switch_to(cur_); }
  bool server_side() const {
    return cur_ == CpuDomain::kServerHost || cur_ == CpuDomain::kServerApp || cur_ == CpuDomain::kServerCopy ||
           cur_ == CpuDomain::kServerDigest;
  }

 private:
  std::array<uint64_t, size_t(CpuDomain::kCount)> cycles_{};
  uint64_t last_;
  CpuDomain cur_ = CpuDomain::kOther;
};

// Charges the enclosed work to one of the running host's sub-domains (default: application).
class AppScope {
 public:
  enum class Kind : uint8_t { kApp, kCopy, kDigest };
  explicit AppScope(CpuMeter* m, Kind k = Kind::kApp) : m_(m), prev_(m ? m->switch_to(target(*m, k)) : CpuDomain::kOther) {}
  ~AppScope() { if (m_) m_->switch_to(prev_); }
  static CpuDomain target(const CpuMeter& m, Kind k) {
    switch (k) {
      case Kind::kApp: return m.app_of_current();
      case Kind::kCopy: return m.copy_of_current();
      case Kind::kDigest: return m.digest_of_current();
    }
    return m.app_of_current();
  }
  AppScope(const AppScope&) = delete;
  AppScope& operator=(const AppScope&) = delete;

 private:
  CpuMeter* m_;
  CpuDomain prev_;
};

class CpuScope {
 public:
  CpuScope(CpuMeter* m, CpuDomain d) : m_(m), prev_(m ? m->switch_to(d) : d) {}
  ~CpuScope() { if (m_) m_->switch_to(prev_); }
  CpuScope(const CpuScope&) = delete;
  CpuScope& operator=(const CpuScope&) = delete;

 private:
  CpuMeter* m_;
  CpuDomain prev_;
};

}  // namespace autonic
