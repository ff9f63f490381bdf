// The NIC model on a core of its own (issue #12). A real NIC's engines do not share the host
// core's caches: they read what the host wrote through DMA and write frames the host later reads
// from the last-level cache (DDIO). Run in the host's own thread, the model's passes over every
// frame (DMA copies, AES-GCM, checksums) leave the host's L1/L2 full of frame lines and evict the
// host's own working set between its calls, which a real host never pays. A measured control
// (issue #12's closing notes: the cipher swapped for a copy) put that artefact at 5-9 % of the
// TLS offload's host cycles.
//
// CoreHop is one baton shared by two threads, each pinned to its own CPU: the host thread (the
// event loop, lwIP, the driver, the L5Ps) and the NIC thread (the NIC model). Exactly one of them
// runs at any time; the other spins until the baton comes back. to_nic() hands a call to the NIC
// thread and waits for it (while it waits it runs any to_host() call the NIC makes, e.g. the
// driver's interrupt); a call made on the side it names runs in place. The simulation stays one
// sequential program -- every run is as deterministic as without the hop, and the counters are
// the same (tests/core_hop_test.cc) -- only where its instructions execute changes. The
// acquire/release on the baton orders every memory access of one side before the other's.
//
// The handoff (a cache line crossing cores, ~100-300 ns here) happens inside the caller's CPU
// domain scope: the NIC's entry points open their NIC scope before hopping, so it never counts
// as host cycles. Benchmarks only (`--nic-core on`): it needs two CPUs and burns the second one
// spinning while the host runs.
#pragma once
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>

namespace autonic {

class CoreHop {
 public:
  enum class Side : uint8_t { kHost = 0, kNic = 1 };

  // Pins the calling thread (from now on: the host side) to the first CPU it may use and starts
  // the NIC thread on the second. nullptr, with the reason in *why, when the process may use
  // fewer than two CPUs or the kernel refuses the pinning.
  static std::unique_ptr<CoreHop> start(std::string* why);
  // How many CPUs the calling thread may use (start() needs two).
  static int usable_cpus();
  ~CoreHop();  // stops and joins the NIC thread, and gives the host thread its CPUs back
  CoreHop(const CoreHop&) = delete;
  CoreHop& operator=(const CoreHop&) = delete;

  template <class F>
  void to_nic(F&& f) { run_on(Side::kNic, std::forward<F>(f)); }
  template <class F>
  void to_host(F&& f) { run_on(Side::kHost, std::forward<F>(f)); }

  // DDIO (Intel Data Direct I/O): a NIC's DMA writes land in the last-level cache, not in any
  // core's private caches. Called by the NIC thread on what it wrote for the host (a received
  // frame, placed payload): CLDEMOTE moves those lines from the NIC core's L1/L2 to the shared L3,
  // where the host finds them at L3 cost instead of snooping the other core (measured here: a
  // 64 KiB copy 0.065 c/B local, 0.195 from the other core, 0.095 after CLDEMOTE). A no-op on a
  // CPU without CLDEMOTE (the figures then overstate the host's misses).
  static void demote(const void* p, size_t n);
  static bool can_demote();

  // Memory that travels with the baton: the side that takes the baton first claims these lines
  // (a locked read-modify-write of each, then LFENCE) before it runs anything. For the CPU meter:
  // its bookkeeping is written on every domain switch, and without this the cross-core miss on
  // it would land in whichever domain the next switch opens -- often the host's -- a measurement
  // artefact, not host work (~100K hops a 128 MiB run, a few hundred cycles each).
  void carry(void* p, size_t n) {
    carry_ = p;
    carry_len_ = n;
  }

  // Handoffs made so far (calls that crossed cores; calls made in place are not counted).
  uint64_t hops() const { return hops_; }

 private:
  // A cache line of its own: the side that waits claims it back (exchange) before it returns,
  // so the caller's stack around it is not left shared with the other core.
  struct alignas(64) Call {
    void (*fn)(void*);
    void* arg;
    std::atomic<bool> done{false};
    std::exception_ptr err;
  };
  CoreHop() = default;
  template <class F>
  void run_on(Side s, F&& f) {
    using Fn = std::remove_reference_t<F>;
    if (here() == s) return f();
    Call c{[](void* p) { (*static_cast<Fn*>(p))(); }, &f};
    hand(s, c);
  }
  Side here() const;
  // Gives the baton to side s with call c and runs the calls handed back until c is done.
  void hand(Side s, Call& c);
  static void run(Call& c);
  void claim_carried() const;  // on arrival of the baton
  // Runs the call waiting in `mine`, if any (the baton has arrived), else pauses a moment.
  void serve(std::atomic<Call*>& mine);
  void nic_loop();

  struct alignas(64) Slot {
    std::atomic<Call*> call{nullptr};
  };
  Slot slot_[2];  // the call waiting for each side, a line each
  void* carry_ = nullptr;
  size_t carry_len_ = 0;
  std::atomic<bool> stop_{false};
  uint64_t hops_ = 0;
  std::thread nic_;
  std::thread::id nic_id_;
  pthread_t host_;
  cpu_set_t host_cpus_;  // the host thread's CPUs before start() pinned it
};

}  // namespace autonic
