// Ratios of two benchmark modes from runs made side by side (`autonic bench tls` (b)).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace autonic::cli {

// One figure per (mode, record size): each repetition's (tx, rx) cycles per byte, in run order.
using Runs = std::map<std::pair<std::string, uint32_t>, std::vector<std::pair<double, double>>>;

// How sure a median of n pairs is: a distribution-free interval for the true median from the
// sorted pairs' order statistics (the sign-test interval: the median lies below the k-th smallest
// pair only if fewer than k of n pairs fall below it, a Binomial(n, 1/2) tail). k is the
// largest with both tails at most 2.5 %: for 12 pairs the 3rd to the 10th, 96.1 % coverage.
// Fewer than 6 pairs admit no 95 % interval: k = 1 (the lowest and highest pair), coverage what
// it is. The interval says whether a run decides a goal, where a median alone does not: on this
// VM one 16 KiB ratio moved by up to 0.07 between runs of one build in the same day.
struct MedianInterval {
  size_t k = 1;           // the k-th lowest and the k-th highest pair (1-based)
  double coverage = 0;    // probability that the true median lies inside
};
inline MedianInterval median_interval(size_t n) {
  if (n == 0) return {1, 0};
  // P(X = j) for X ~ Binomial(n, 1/2), X the pairs below the true median (in logs: any n).
  auto pmf = [n](size_t j) {
    return std::exp(std::lgamma(double(n) + 1) - std::lgamma(double(j) + 1) - std::lgamma(double(n - j) + 1) -
                    double(n) * std::log(2.0));
  };
  MedianInterval m{1, 1 - 2 * pmf(0)};  // the lowest and highest pair: wrong only if all n fall on one side
  // The k-th pairs from each end miss the median with probability 2 P(X <= k-1); k stays at
  // most (n+1)/2 so the interval is not empty.
  double tail = 0;
  for (size_t j = 0; 2 * (j + 1) <= n + 1; ++j) {
    tail += pmf(j);
    if (tail > 0.025) break;
    m = {j + 1, 1 - 2 * tail};
  }
  return m;
}

// Repetition i of both modes ran back to back (the modes are interleaved within a repetition),
// so the VM's slow spells -- seconds long, up to +-20 % on plain TCP's own figure -- hit both
// sides of a pair alike. The median of the pairs is the ratio; the lowest and highest pair show
// how far one pair can be trusted, the interval (median_interval) how far the median can. (A
// ratio of two independent minimums takes whichever run of each side was luckiest.) All zero
// when either mode has no run.
struct Paired {
  double med = 0, lo = 0, hi = 0;
  double ci_lo = 0, ci_hi = 0, ci_coverage = 0;
  size_t n = 0;
};
inline Paired paired(const Runs& runs, const std::string& num, const std::string& den, uint32_t rs, bool tx) {
  const auto a = runs.find({num, rs}), b = runs.find({den, rs});
  if (a == runs.end() || b == runs.end()) return {};
  std::vector<double> r;
  for (size_t i = 0; i < std::min(a->second.size(), b->second.size()); ++i) {
    const double x = tx ? a->second[i].first : a->second[i].second, y = tx ? b->second[i].first : b->second[i].second;
    if (y > 0) r.push_back(x / y);
  }
  if (r.empty()) return {};
  std::sort(r.begin(), r.end());
  const size_t n = r.size();
  const MedianInterval mi = median_interval(n);
  return {n % 2 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2, r.front(), r.back(), r[mi.k - 1], r[n - mi.k], mi.coverage, n};
}

// A goal on a ratio (at most `limit`, or at least it) judged by the median's interval: met when
// the whole interval is on the right side, not met when the whole of it is on the wrong side,
// open when the interval straddles the limit (this run's spread cannot tell) or covers the
// median with less than 95 % probability (--reps below 6).
enum class Verdict : uint8_t { kMet, kNotMet, kOpen };
inline Verdict judge(const Paired& p, double limit, bool at_most) {
  // Too few pairs for a 95 % interval (fewer than 6; none: an all-zero interval would read
  // "met"): nothing is decided, whatever side the pairs fell on.
  if (p.ci_coverage < 0.95) return Verdict::kOpen;
  const double good = at_most ? p.ci_hi : p.ci_lo, bad = at_most ? p.ci_lo : p.ci_hi;
  if (at_most ? good <= limit : good >= limit) return Verdict::kMet;
  if (at_most ? bad > limit : bad < limit) return Verdict::kNotMet;
  return Verdict::kOpen;
}
inline const char* verdict_name(Verdict v) {
  return v == Verdict::kMet ? "met" : v == Verdict::kNotMet ? "not met" : "open";
}

}  // namespace autonic::cli
