#include "cli/nicsim.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <optional>
#include <random>

#include "common/cpu_meter.h"
#include "nic/nic.h"

namespace autonic::cli::nicsim {
namespace {

using nic::SendDesc;

// The wire from NIC A to NIC B: loss and adjacent reordering (a frame held back and delivered
// after the next one), seeded.
class Wire final : public wire::Link {
 public:
  Wire(nic::Nic& dst, double loss, double reorder, uint64_t seed) : dst_(dst), loss_(loss), reorder_(reorder), rng_(seed) {}
  void transmit(Bytes f) override {
    if (loss_ > 0 && coin() < loss_) {
      ++lost_;
      return;
    }
    if (reorder_ > 0 && !held_ && coin() < reorder_) {
      held_ = std::move(f);
      return;
    }
    dst_.deliver(std::move(f));
    flush();
  }
  void flush() {
    if (!held_) return;
    Bytes f = std::move(*held_);
    held_.reset();
    dst_.deliver(std::move(f));
  }
  uint64_t lost() const { return lost_; }

 private:
  double coin() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  nic::Nic& dst_;
  double loss_, reorder_;
  std::mt19937_64 rng_;
  std::optional<Bytes> held_;
  uint64_t lost_ = 0;
};

nic::NicConfig nic_config(const Config& c) {
  nic::NicConfig n;
  n.ctx_cache_bytes = c.ctx_cache;
  n.ctx_policy = c.policy;
  n.send_ring_entries = std::max<size_t>(8192, size_t(c.burst) + 1024);
  n.rx_ring_entries = std::max<size_t>(8192, size_t(c.burst) * 2 + 16);
  return n;
}

class Sim {
 public:
  explicit Sim(const Config& c)
      : c_(c), layout_{c.l5, c.msg_content}, tx_(nic_config(c), &meter_, CpuDomain::kClientNic),
        rx_(nic_config(c), &meter_, CpuDomain::kServerNic), wire_(rx_, c.loss, c.reorder, c.seed ^ 0x5EED),
        sent_(c.flows, 0) {
    tx_.attach_link(&wire_);
  }
  Result run();

 private:
  l5o::L5Proto proto() const { return c_.l5 == L5::kTls ? l5o::L5Proto::kTls : l5o::L5Proto::kNvmeTcp; }
  void create_contexts();
  void post_create(nic::Nic& n, uint32_t flow, l5o::Direction dir, const std::shared_ptr<const l5o::L5State>& st);
  void drain_cmds(nic::Nic& n);
  void turn(uint32_t flow, uint64_t packets);
  void drain_rx();
  void on_rx(const nic::RxCompletion& c);
  void finish(Result& r);

  const Config c_;
  MsgLayout layout_;
  CpuMeter meter_;
  nic::Nic tx_, rx_;
  Wire wire_;
  std::vector<uint64_t> sent_;  // stream bytes sent, per flow
  uint64_t create_failed_ = 0;
  uint64_t cyc0_tx_ = 0, cyc0_rx_ = 0;
  Result r_;
};

void Sim::post_create(nic::Nic& n, uint32_t flow, l5o::Direction dir, const std::shared_ptr<const l5o::L5State>& st) {
  SendDesc d;
  d.kind = SendDesc::Kind::kCtxCreate;
  d.ctx = flow + 1;
  d.dir = dir;
  d.flow = flow_key(flow, c_.l5);
  d.tcpsn = flow_isn(flow, c_.seed);
  d.state = st;
  n.post_send(std::move(d));
}

void Sim::drain_cmds(nic::Nic& n) {
  while (!n.cmd_ring().empty()) {
    const nic::CmdCompletion cc = n.cmd_ring().pop();
    if (cc.event != nic::CmdCompletion::Event::kDone || !cc.ok) ++create_failed_;
  }
}

// As the driver does (Driver::nic_create): one kCtxCreate per direction, completions awaited.
// In batches below the completion queue's depth.
void Sim::create_contexts() {
  constexpr uint32_t kBatch = 512;
  for (uint32_t f = 0; f < c_.flows; ++f) {
    const auto st = layout_.state(f, c_.seed);  // the NIC copies what it needs
    post_create(tx_, f, l5o::Direction::kTx, st);
    post_create(rx_, f, l5o::Direction::kRx, st);
    if ((f + 1) % kBatch == 0 || f + 1 == c_.flows) {
      tx_.doorbell();
      rx_.doorbell();
      drain_cmds(tx_);
      drain_cmds(rx_);
    }
  }
}

// One flow's turn: `packets` in-sequence segments posted, then one doorbell (one NIC batch).
void Sim::turn(uint32_t flow, uint64_t packets) {
  const FlowKey k = flow_key(flow, c_.l5);
  const TcpSeq isn = flow_isn(flow, c_.seed);
  for (uint64_t i = 0; i < packets; ++i) {
    MutByteSpan payload;
    SendDesc d;
    d.frame = make_frame(k, isn + uint32_t(sent_[flow]), c_.mss, &payload);
    layout_.fill(flow, sent_[flow], payload);
    sent_[flow] += c_.mss;
    d.ctx = flow + 1;
    d.proto = proto();
    tx_.post_send(std::move(d));
  }
  tx_.doorbell();
  wire_.flush();
  r_.packets += packets;
  drain_rx();
}

void Sim::on_rx(const nic::RxCompletion& c) {
  const auto v = TcpFrameView::parse(c.frame);
  if (!v) return;
  const uint32_t flow = ((v->key.saddr - 0x0A000001u) << 15) | uint32_t(v->key.sport - 10000);
  const TcpSeq isn = flow_isn(flow, c_.seed);
  const uint64_t off = uint32_t(v->seq - isn);
  if (c.offloaded) {
    ++r_.rx_marked;
    // Marked from mark_from on (a message header inside the packet): the bytes before it are
    // the wire's, not checked here.
    const size_t from = c.mark_from ? c.mark_from - v->payload_off : 0;
    r_.rx_bad_bytes += layout_.check(flow, off + from, ByteSpan(c.frame.data() + v->payload_off + from, v->payload_len - from));
  } else {
    ++r_.rx_unmarked;
  }
  if (c.resync_req) {
    // The L5P's answer (l5o resync_rx_resp) from the record layout it knows: a message starts
    // at every multiple of the message length.
    ++r_.resync_reqs;
    const uint32_t rel = uint32_t(*c.resync_req - isn);
    SendDesc d;
    d.kind = SendDesc::Kind::kRxResyncResp;
    d.ctx = flow + 1;
    d.tcpsn = *c.resync_req;
    d.ok = rel % layout_.msg_len() == 0;
    d.msg_index = rel / layout_.msg_len();
    rx_.post_send(std::move(d));
  }
}

void Sim::drain_rx() {
  bool cmds = false;
  while (!rx_.rx_ring().empty()) {
    const nic::RxCompletion c = rx_.rx_ring().pop();
    cmds |= c.resync_req.has_value();
    on_rx(c);
  }
  if (cmds) rx_.doorbell();
}

Result Sim::run() {
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t rss0 = proc_status_bytes("VmRSS");
  create_contexts();
  const uint64_t rss1 = proc_status_bytes("VmRSS");
  // Packet work only: context creation (key schedules) is not a per-packet cost.
  meter_.flush();
  cyc0_tx_ = meter_.cycles(CpuDomain::kClientNic);
  cyc0_rx_ = meter_.cycles(CpuDomain::kServerNic);
  r_.flows = c_.flows;
  r_.model_bytes_per_flow = c_.flows ? (rss1 > rss0 ? rss1 - rss0 : 0) / c_.flows : 0;
  const uint64_t per_flow = c_.packets ? c_.packets : 2ull * c_.burst;
  std::vector<uint32_t> order(c_.flows);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(c_.seed);
  for (uint64_t done = 0; done < per_flow; done += c_.burst) {
    if (c_.random_order) std::shuffle(order.begin(), order.end(), rng);
    const uint64_t n = std::min<uint64_t>(c_.burst, per_flow - done);
    for (uint32_t f : order) turn(f, n);
  }
  finish(r_);
  r_.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r_;
}

void Sim::finish(Result& r) {
  meter_.flush();
  r.batches = tx_.stats().tx_doorbells;
  r.wire_lost = wire_.lost();
  r.tx_cache = tx_.ctx_cache().stats();
  r.rx_cache = rx_.ctx_cache().stats();
  r.tx_cycles = meter_.cycles(CpuDomain::kClientNic) - cyc0_tx_;
  r.rx_cycles = meter_.cycles(CpuDomain::kServerNic) - cyc0_rx_;
  CounterMap a, b;
  tx_.export_stats(a);
  rx_.export_stats(b);
  r.ctx_bytes_tx = a["nic_ctx_bytes"];
  r.ctx_bytes_rx = b["nic_ctx_bytes"];
  r.rss_hwm = proc_status_bytes("VmHWM");
  r.create_failed = create_failed_;
}

}  // namespace

double Result::hit_rate() const {
  const uint64_t h = tx_cache.hits + rx_cache.hits, m = tx_cache.misses + rx_cache.misses;
  return h + m ? double(h) / double(h + m) : 0;
}

double Result::dma_per_packet() const {
  const uint64_t b = tx_cache.fetch_bytes + tx_cache.writeback_bytes + rx_cache.fetch_bytes + rx_cache.writeback_bytes;
  return packets ? double(b) / double(packets) : 0;
}

Result run(const Config& c) {
  Sim s(c);
  return s.run();
}

uint64_t proc_status_bytes(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = std::strtoull(line + n + 1, nullptr, 10);
      break;
    }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace autonic::cli::nicsim
