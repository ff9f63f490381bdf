// Ratios of two benchmark modes from runs made side by side (`autonic bench tls` (b)).
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace autonic::cli {

// One figure per (mode, record size): each repetition's (tx, rx) cycles per byte, in run order.
using Runs = std::map<std::pair<std::string, uint32_t>, std::vector<std::pair<double, double>>>;

// Repetition i of both modes ran back to back (the modes are interleaved within a repetition),
// so the VM's slow spells -- seconds long, up to +-20 % on plain TCP's own figure -- hit both
// sides of a pair alike. The median of the pairs is the ratio; the lowest and highest pair show
// how far one pair can be trusted. (A ratio of two independent minimums takes whichever run of
// each side was luckiest.) All zero when either mode has no run.
struct Paired {
  double med = 0, lo = 0, hi = 0;
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
  return {n % 2 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2, r.front(), r.back()};
}

}  // namespace autonic::cli
