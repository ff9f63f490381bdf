#include "cli/parse.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace autonic::cli {

std::optional<uint64_t> parse_size(const std::string& s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  std::string suf(end);
  if (!suf.empty() && (suf.back() == 'B' || suf.back() == 'b')) suf.pop_back();
  if (!suf.empty() && (suf.back() == 'i')) suf.pop_back();
  double mul = 1;
  if (suf.empty()) mul = 1;
  else if (suf == "K" || suf == "k") mul = 1024.0;
  else if (suf == "M" || suf == "m") mul = 1024.0 * 1024;
  else if (suf == "G" || suf == "g") mul = 1024.0 * 1024 * 1024;
  else return std::nullopt;
  const double r = v * mul;
  if (!(r >= 0) || r > 1e15 || r != std::floor(r)) return std::nullopt;
  return uint64_t(r);
}

std::optional<double> parse_prob(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return std::nullopt;
  std::string suf(end);
  if (suf == "%") v /= 100.0;
  else if (!suf.empty()) return std::nullopt;
  if (!(v >= 0 && v <= 1)) return std::nullopt;
  return v;
}

std::optional<uint64_t> parse_uint(const std::string& s, uint64_t lo, uint64_t hi) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (const char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;  // strtoull would take "-1" as 2^64 - 1
    const uint64_t d = uint64_t(ch - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<nic::NicFaults> parse_nic_faults(const std::string& s, std::string* err) {
  nic::NicFaults f;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t end = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const auto n = eq == std::string::npos ? std::nullopt : parse_uint(item.substr(eq + 1), 0, UINT32_MAX);
    if (!n) {
      *err = "invalid: expected key=N (N a whole number), got '" + item + "'";
      return std::nullopt;
    }
    if (key == "reject-create-from") f.reject_create_from = uint32_t(*n);
    else if (key == "ring-full-from") f.cmd_ring_full_from = uint32_t(*n);
    else if (key == "lose-ctx-every") f.lose_ctx_every = uint32_t(*n);
    else if (key == "reset-after-tx") f.reset_after_tx = *n;
    else {
      *err = "invalid: unknown fault '" + key + "' (reject-create-from | ring-full-from | lose-ctx-every | reset-after-tx)";
      return std::nullopt;
    }
  }
  return f;
}

}  // namespace autonic::cli
