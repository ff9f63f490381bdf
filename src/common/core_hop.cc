#include "common/core_hop.h"

#include <cpuid.h>
#include <immintrin.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

namespace autonic {

namespace {

// Restricts `t` to CPU `cpu`; false (the reason in *why) if the kernel refuses.
bool pin(pthread_t t, int cpu, std::string* why) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (const int e = pthread_setaffinity_np(t, sizeof one, &one); e != 0) {
    if (why) *why = std::string("pinning to CPU ") + std::to_string(cpu) + ": " + std::strerror(e);
    return false;
  }
  return true;
}

__attribute__((target("cldemote"))) void demote_lines(const void* p, size_t n) {
  const uintptr_t end = uintptr_t(p) + n;
  for (uintptr_t a = uintptr_t(p) & ~uintptr_t(63); a < end; a += 64) _cldemote(reinterpret_cast<void*>(a));
}

}  // namespace

bool CoreHop::can_demote() {
  static const bool yes = [] {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 25));  // CPUID.7.0:ECX[25] CLDEMOTE
  }();
  return yes;
}

void CoreHop::demote(const void* p, size_t n) {
  if (n && can_demote()) demote_lines(p, n);
}

int CoreHop::usable_cpus() {
  cpu_set_t s;
  CPU_ZERO(&s);
  return sched_getaffinity(0, sizeof s, &s) == 0 ? CPU_COUNT(&s) : 1;
}

std::unique_ptr<CoreHop> CoreHop::start(std::string* why) {
  // The CPUs this thread may use, read before pinning narrows them to one: the first two.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    if (why) *why = std::string("sched_getaffinity: ") + std::strerror(errno);
    return nullptr;
  }
  int cpu[2] = {-1, -1};
  for (int c = 0, found = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpu[found++] = c;
  if (cpu[1] < 0) {
    if (why) *why = "two CPUs needed, this process may use " + std::to_string(CPU_COUNT(&allowed));
    return nullptr;
  }
  if (!pin(pthread_self(), cpu[0], why)) return nullptr;
  // One malloc arena for both threads, as when the whole model ran on one: a frame the NIC
  // allocates and the host frees (or the reverse) is not a free into another thread's arena.
  // Only one thread runs at a time, so the arena's lock is never contended.
  mallopt(M_ARENA_MAX, 1);
  std::unique_ptr<CoreHop> h(new CoreHop());
  h->host_ = pthread_self();
  h->host_cpus_ = allowed;
  h->nic_ = std::thread([p = h.get()] { p->nic_loop(); });
  h->nic_id_ = h->nic_.get_id();
  if (!pin(h->nic_.native_handle(), cpu[1], why)) return nullptr;  // the destructor joins the thread
  return h;
}

CoreHop::~CoreHop() {
  stop_.store(true, std::memory_order_release);
  if (nic_.joinable()) nic_.join();
  pthread_setaffinity_np(host_, sizeof host_cpus_, &host_cpus_);
}

CoreHop::Side CoreHop::here() const { return std::this_thread::get_id() == nic_id_ ? Side::kNic : Side::kHost; }

void CoreHop::claim_carried() const {
  if (!carry_) return;
  auto* w = static_cast<uint8_t*>(carry_);
  for (size_t off = 0; off < carry_len_; off += 64) __atomic_fetch_or(w + off, uint8_t(0), __ATOMIC_SEQ_CST);
  __atomic_fetch_or(w + carry_len_ - 1, uint8_t(0), __ATOMIC_SEQ_CST);
  _mm_lfence();  // the lines are here before any later RDTSC reads the clock
}

void CoreHop::run(Call& c) {
  try {
    c.fn(c.arg);
  } catch (...) {
    c.err = std::current_exception();  // rethrown on the side that made the call
  }
  c.done.store(true, std::memory_order_release);
}

void CoreHop::serve(std::atomic<Call*>& mine) {
  Call* c = mine.load(std::memory_order_acquire);
  if (!c) return _mm_pause();
  mine.store(nullptr, std::memory_order_relaxed);
  claim_carried();
  run(*c);
}

void CoreHop::hand(Side s, Call& c) {
  ++hops_;
  const Side me = s == Side::kNic ? Side::kHost : Side::kNic;
  slot_[size_t(s)].call.store(&c, std::memory_order_release);
  std::atomic<Call*>& mine = slot_[size_t(me)].call;
  // Until our call is done, the other side may hand work back (the NIC raising the driver's
  // interrupt): run it here, then go on waiting.
  while (!c.done.load(std::memory_order_acquire)) serve(mine);
  c.done.exchange(false, std::memory_order_acquire);  // the line exclusive again (see Call)
  claim_carried();
  if (c.err) std::rethrow_exception(c.err);
}

void CoreHop::nic_loop() {
  std::atomic<Call*>& mine = slot_[size_t(Side::kNic)].call;
  while (!stop_.load(std::memory_order_acquire)) serve(mine);
}

}  // namespace autonic
