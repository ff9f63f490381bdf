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
  kCount
};

class CpuMeter {
 public:
  CpuMeter() : last_(__rdtsc()) {}
  CpuDomain current() const { return cur_; }
  // The application domain of whichever host is running now.
  CpuDomain app_of_current() const {
    return cur_ == CpuDomain::kServerHost || cur_ == CpuDomain::kServerApp ? CpuDomain::kServerApp : CpuDomain::kClientApp;
  }
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

 private:
  std::array<uint64_t, size_t(CpuDomain::kCount)> cycles_{};
  uint64_t last_;
  CpuDomain cur_ = CpuDomain::kOther;
};

// Charges the enclosed work to the running host's application domain.
class AppScope {
 public:
  explicit AppScope(CpuMeter* m) : m_(m), prev_(m ? m->switch_to(m->app_of_current()) : CpuDomain::kOther) {}
  ~AppScope() { if (m_) m_->switch_to(prev_); }
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
