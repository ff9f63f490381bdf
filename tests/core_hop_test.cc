// The NIC model on a core of its own (common/core_hop.h, --nic-core): calls cross to the NIC
// thread and back, nested, in order; exceptions come back to the caller; the host thread gets its
// CPUs back; and a whole run with the NIC on its own core is the same run -- same frames, same
// counters -- as with it on the host's (only cycle figures may differ).
#include <gtest/gtest.h>
#include <sched.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "common/core_hop.h"
#include "nic/rings.h"
#include "nvme_fixture.h"
#include "test_util.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;

namespace {

#define NEED_TWO_CPUS()          \
  if (CoreHop::usable_cpus() < 2) \
  GTEST_SKIP() << "needs two CPUs for the NIC's own core (this process has " << CoreHop::usable_cpus() << ")"

}  // namespace

TEST(CoreHop, CallsRunOnTheNicThreadAndBackNestedAndInOrder) {
  NEED_TWO_CPUS();
  std::string why;
  auto hop = CoreHop::start(&why);
  ASSERT_TRUE(hop) << why;
  const auto host = std::this_thread::get_id();
  std::vector<std::string> trace;
  std::thread::id nic;
  hop->to_nic([&] {
    nic = std::this_thread::get_id();
    trace.push_back("nic");
    hop->to_nic([&] { trace.push_back("nic in place"); });  // already there: no handoff
    hop->to_host([&] {
      EXPECT_EQ(std::this_thread::get_id(), host);
      trace.push_back("host");
      hop->to_nic([&] {
        EXPECT_EQ(std::this_thread::get_id(), nic);
        trace.push_back("nic again");
      });
    });
    trace.push_back("nic end");
  });
  hop->to_host([&] { trace.push_back("host in place"); });
  EXPECT_NE(nic, host);
  EXPECT_EQ(trace, (std::vector<std::string>{"nic", "nic in place", "host", "nic again", "nic end", "host in place"}));
  EXPECT_EQ(hop->hops(), 3u) << "three calls crossed cores; the two in place did not";
}

TEST(CoreHop, AnExceptionComesBackToTheCaller) {
  NEED_TWO_CPUS();
  std::string why;
  auto hop = CoreHop::start(&why);
  ASSERT_TRUE(hop) << why;
  EXPECT_THROW(hop->to_nic([] { throw std::runtime_error("bad descriptor"); }), std::runtime_error);
  int after = 0;
  hop->to_nic([&] { after = 1; });  // the NIC thread is still serving
  EXPECT_EQ(after, 1);
}

TEST(CoreHop, TheHostThreadGetsItsCpusBack) {
  NEED_TWO_CPUS();
  cpu_set_t before, during, after;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  {
    std::string why;
    auto hop = CoreHop::start(&why);
    ASSERT_TRUE(hop) << why;
    ASSERT_EQ(sched_getaffinity(0, sizeof during, &during), 0);
    EXPECT_EQ(CPU_COUNT(&during), 1) << "pinned while the hop lives";
  }
  ASSERT_EQ(sched_getaffinity(0, sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
}

TEST(CoreHop, RefusesOneCpuAndSaysWhy) {
  // This thread narrowed to one CPU: no second one for the NIC.
  cpu_set_t before, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  int first = 0;
  while (!CPU_ISSET(first, &before)) ++first;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  std::string why;
  const bool refused = !CoreHop::start(&why);
  const int cpus = CoreHop::usable_cpus();
  ASSERT_EQ(sched_setaffinity(0, sizeof before, &before), 0);
  EXPECT_TRUE(refused);
  EXPECT_EQ(cpus, 1);
  EXPECT_NE(why.find("two CPUs needed"), std::string::npos) << why;
  // Demoting lines is a hint: safe on any buffer, with or without CLDEMOTE.
  std::vector<uint8_t> b(1000, 7);
  CoreHop::demote(b.data() + 3, 997);
  CoreHop::demote(nullptr, 0);
  EXPECT_EQ(b[999], 7);
}

TEST(Ring, KeepsOrderAcrossWrapAndGrowthAndHoldsItsCapacity) {
  nic::Ring<std::vector<int>> r(40);
  int next_in = 0, next_out = 0;
  // Interleave pushes and pops so the ring wraps while it grows (16 -> 32 -> 64 slots, 40 usable).
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3 && r.size() < 40; ++i) {
      ASSERT_TRUE(r.push({next_in, next_in}));
      EXPECT_EQ(r.back().front(), next_in);
      ++next_in;
    }
    if (round % 2) {
      const std::vector<int> v = r.pop();
      EXPECT_EQ(v, (std::vector<int>{next_out, next_out}));
      ++next_out;
    }
  }
  while (r.size() < 40) ASSERT_TRUE(r.push({next_in, next_in++}));
  EXPECT_FALSE(r.push({-1})) << "full at its capacity";
  while (!r.empty()) {
    EXPECT_EQ(r.pop().front(), next_out);
    ++next_out;
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(Scenario, TheNicOnItsOwnCoreChangesNoFrameAndNoCounter) {
  NEED_TWO_CPUS();
  auto same_run = [](ScenarioConfig c, const std::string& replay) {
    c.nic_core = false;
    const Report a = run_isolated(c);
    c.nic_core = true;
    const Report b = run_isolated(c);
    ASSERT_TRUE(a.verified) << a.outcome << " " << replay;
    ASSERT_TRUE(b.verified) << b.outcome << " " << replay << " --nic-core on";
    EXPECT_EQ(a.trace_hash, b.trace_hash) << replay << " --nic-core on|off";
    for (const auto* side : {&a.client, &a.server}) {
      const CounterMap& other = side == &a.client ? b.client : b.server;
      for (const auto& [name, v] : *side) {
        if (name.find("cycles") != std::string::npos) continue;  // measured, not counted
        const auto it = other.find(name);
        ASSERT_NE(it, other.end()) << name << " " << replay;
        EXPECT_EQ(it->second, v) << name << " " << replay << " --nic-core on|off";
      }
    }
  };
  ScenarioConfig tls;
  tls.l5p = L5pKind::kTls;
  tls.offload = OffloadMode::kOn;
  tls.bytes = 8u << 20;
  tls.link.loss = 0.01;
  tls.link.reorder = 0.01;
  tls.tso = tls.gro = true;
  tls.seed = 11;
  same_run(tls, "build/autonic run --l5p tls --offload on --bytes 8M --loss 0.01 --reorder 0.01 --tso on --gro on --seed 11");
  // NVMe/TCP over TLS: the NIC places C2HData payload in the host's buffers (DDP) from its core.
  ScenarioConfig nt = autonic::testing::nvme_config(L5pKind::kNvmeTls, OffloadMode::kOn, "randrw", 32 * 1024, 8, 4u << 20);
  nt.link.loss = 0.01;
  same_run(nt, "build/autonic run --l5p nvme-tls --offload on --rw randrw --io-size 32K --depth 8 --ns-size 16M --bytes 4M --loss 0.01");
}
