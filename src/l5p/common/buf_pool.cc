#include "l5p/common/buf_pool.h"

#include <utility>
#include <vector>

namespace autonic::l5p {
namespace {
// Enough for every record in progress at once across the active flows; more are freed.
constexpr size_t kMaxPooled = 1024;
std::vector<Bytes>& pool() {
  static std::vector<Bytes> p;
  return p;
}
}  // namespace

Bytes buf_pool_take() {
  auto& p = pool();
  if (p.empty()) return Bytes();
  Bytes b = std::move(p.back());
  p.pop_back();
  return b;
}

void buf_pool_give(Bytes& b) {
  auto& p = pool();
  if (b.capacity() == 0) return;
  b.clear();
  if (p.size() < kMaxPooled) p.push_back(std::move(b));
  b = Bytes();
}

}  // namespace autonic::l5p
