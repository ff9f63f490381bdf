// Time source for every component (STYLE.md habit 8). Virtual by default: the testbed's event
// loop moves it; real time only when asked (benchmarks). Nanoseconds since run start.
#pragma once
#include <chrono>
#include <cstdint>

namespace autonic {

using Nanos = uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now() const = 0;
};

class VirtualClock final : public Clock {
 public:
  Nanos now() const override { return now_; }
  void advance_to(Nanos t) { if (t > now_) now_ = t; }

 private:
  Nanos now_ = 0;
};

class RealClock final : public Clock {
 public:
  RealClock() : start_(std::chrono::steady_clock::now()) {}
  Nanos now() const override {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start_).count());
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace autonic
