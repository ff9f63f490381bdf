// The NIC model: checksum offload, flow table + bounded context cache, the generic offload
// engine with per-protocol plug-ins, and the two descriptor rings to the driver.
#pragma once
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>

#include "common/clock.h"
#include "common/core_hop.h"
#include "common/cpu_meter.h"
#include "nic/ctx_cache.h"
#include "nic/nic_faults.h"
#include "nic/engine/engine_stats.h"
#include "nic/engine/inner_engine.h"
#include "nic/engine/rx_offload.h"
#include "nic/engine/tx_offload.h"
#include "nic/rings.h"
#include "wire/link.h"

namespace autonic::nic {

struct NicConfig {
  size_t ctx_cache_bytes = 4u << 20;
  CtxPolicy ctx_policy = CtxPolicy::kLru;  // context cache replacement (§6.5)
  size_t send_ring_entries = 8192;
  size_t rx_ring_entries = 8192;
  RxOffloadFlow::Trace trace;  // set: every RX resync state change is reported
  NicFaults faults;
  // Marks whole packets only, as the paper's NIC (RxOffloadFlow::set_whole_packet_marks): for
  // comparing with issue #15's marks that begin inside a packet.
  bool whole_packet_marks = false;
  // Unicast MAC filter (set on a real device, where other hosts' frames arrive too): frames
  // addressed to another unicast MAC never reach the engine or the host. All zero: no filter.
  std::array<uint8_t, 6> mac{};
  // RX interrupt moderation (ethtool -C rx-usecs / rx-frames; NAPI): with a scheduler, the NIC
  // raises its interrupt rx_coalesce_ns after the first completion of a batch, or at once when
  // rx_coalesce_frames completions wait, so the driver's poll sees the batch together (what
  // GRO merges). 0 (or no scheduler): one interrupt per packet.
  Nanos rx_coalesce_ns = 0;
  uint32_t rx_coalesce_frames = 64;
  std::function<void(Nanos delay, std::function<void()> fn)> schedule;
  // Set: the NIC model runs on the NIC thread's core (common/core_hop.h), its work handed over
  // at doorbell() and deliver(), its interrupt handed back (the driver's DMA reads stay on the
  // host's core: Driver::xmit).
  CoreHop* core = nullptr;
};

struct NicStats {
  uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
  uint64_t rx_csum_err = 0;      // TCP checksum failed: dropped (checksum offload)
  uint64_t rx_ring_full = 0;     // completion ring overflow: dropped
  uint64_t tx_ring_full = 0;
  uint64_t cmd_err = 0;          // context command for an unknown context / bad state
  uint64_t ctx_create_rejected = 0;  // create commands the NIC refused (no context was made)
  uint64_t dev_resets = 0;
  uint64_t rx_mac_filtered = 0;  // unicast frames for another MAC: dropped
  uint64_t tx_tso_packets = 0, tx_tso_bytes = 0;  // super-segments cut (mlx5 tx_tso_*), their payload
  uint64_t rx_irqs = 0;  // interrupts raised: rx_packets / rx_irqs is the packets per batch
  // Doorbells that found packets: tx packet descriptors / tx_doorbells is the packets per TX
  // batch (the paper's Fig. 19 batches hide context misses).
  uint64_t tx_doorbells = 0, tx_descs = 0;
  // Context batches: runs of consecutive packets (per direction) bound to one context -- one
  // context lookup (and at most one miss) a run. Packets / batches is what §6.5's batching buys.
  uint64_t tx_ctx_packets = 0, tx_ctx_batches = 0, rx_ctx_packets = 0, rx_ctx_batches = 0;
  uint32_t tx_last_ctx = 0, rx_last_ctx = 0;
};

class Nic final : public wire::FrameSink {
 public:
  Nic(const NicConfig& cfg, CpuMeter* meter, CpuDomain domain);
  ~Nic() override;

  void attach_link(wire::Link* tx) { link_ = tx; }
  // The driver's interrupt: called after completions were posted.
  void set_rx_interrupt(std::function<void()> fn) { rx_irq_ = std::move(fn); }

  // Driver side.
  // Returns false if the ring is full; `d` is then left as it was (the driver may keep it).
  bool post_send(SendDesc&& d);
  void doorbell();               // the NIC processes the send ring
  Ring<RxCompletion>& rx_ring() { return rx_ring_; }
  Ring<CmdCompletion>& cmd_ring() { return cmd_ring_; }

  // Wire side.
  void deliver(Bytes frame) override;

  void export_stats(CounterMap& m) const;
  const NicStats& stats() const { return stats_; }
  const ContextCache& ctx_cache() const { return cache_; }
  size_t contexts() const { return ctxs_.size(); }
  CpuDomain domain() const { return domain_; }
  const OffloadStats& offload_stats(l5o::L5Proto p) const { return ostats_[size_t(p)]; }
  // For tests: the RX context's sync state.
  std::optional<RxSyncState> rx_state(uint32_t ctx) const;
  // Device reset (Linux tls_device_down, CVE-2021-47131): every context and mapping is gone at
  // once; the driver learns it from a kDevReset event and must not send as if they existed.
  void reset();

 private:
  struct Context {
    l5o::L5Proto proto;
    l5o::Direction dir;
    FlowKey flow;
    std::unique_ptr<TxOffloadFlow> tx;
    std::unique_ptr<RxOffloadFlow> rx;
    // Request-response mappings (add_rr_state): made when a context can use them (an NVMe/TCP
    // RX context with DDP, whose plug-in places through them) or gets its first one -- not for every
    // context (a million TX contexts would carry three empty maps each).
    struct RrTables {
      RrMap by_tag;                                     // by tag (e.g. CID)
      std::unordered_map<uint32_t, uint32_t> tag_of;   // rr_state id -> tag (live ones)
      // Registrations replaced by a newer one for the same tag, until their own teardown.
      std::unordered_map<uint32_t, std::optional<TcpSeq>> retired;
    };
    std::unique_ptr<RrTables> rr;
    // Composed offloads: an outer context names its inner one; an inner one its outer and the
    // adapter through which the outer's plug-in feeds it.
    uint32_t inner = 0, outer = 0;
    // The adapter through which the outer's plug-in feeds this (inner) context: an InnerTx
    // or an InnerRx, by direction.
    std::unique_ptr<InnerEngine> inner_eng;
    InnerRx* inner_rx() const { return dir == l5o::Direction::kRx ? static_cast<InnerRx*>(inner_eng.get()) : nullptr; }
    // Written back in its at-rest form (evicted, §6.5): tx / rx are gone until the next fetch
    // makes them again from it (Nic::thaw). A header of two 16-bit words, the form's length
    // and context_bytes(), then the form (pack.h): a context costs one pointer more, not two
    // lengths, and a million of them stay in 64-byte map entries.
    // The form holds key material (TLS): wiped when it is freed, as GcmStream wipes its key.
    struct WipeFrozen {
      void operator()(uint8_t* p) const;
    };
    std::unique_ptr<uint8_t[], WipeFrozen> frozen;
    uint16_t frozen_word(size_t i) const {
      uint16_t w;
      std::memcpy(&w, frozen.get() + 2 * i, 2);
      return w;
    }
    size_t bytes() const { return frozen ? frozen_word(1) : tx ? tx->context_bytes() : rx->context_bytes(); }
    // Only while not frozen.
    PluginFlow& plugin_flow() { return tx ? tx->plugin_flow() : rx->plugin_flow(); }
  };
  bool create_ctx(SendDesc& d);
  // Posts a completion or event for the driver (its queue full: counted in cmd_err).
  void complete(SendDesc::Kind kind, uint32_t ctx, uint32_t rr_id, bool ok, std::optional<TcpSeq> fence);
  void report_lost(uint32_t ctx, std::optional<TcpSeq> fence);
  void destroy_ctx(uint32_t id);
  // The context is gone without the driver asking (fault): drop it and tell the driver.
  void lose_ctx(uint32_t id);
  // End of the last stream byte placed through any mapping of the context (nullopt: none).
  std::optional<TcpSeq> placed_fence(const Context& c) const;
  // Fault: true if this offloaded packet finds its context evicted and not restorable.
  bool ctx_fetch_fails();
  // Runs a received packet through its RX context (and the inner one stacked on it, if any).
  void offload_rx(uint32_t id, Context& ctx, TcpSeq seq, MutByteSpan payload, size_t payload_off, RxCompletion& c);
  void touch(uint32_t id, Context& c);
  static void count_batch(uint32_t id, uint32_t& last, uint64_t& packets, uint64_t& batches);
  // Eviction (nic_ctx_park.cc): the context is frozen into its at-rest form if it has one,
  // else only its working state is dropped. thaw: the fetch that makes it again.
  void park(Context& c);
  void thaw(Context& c);
  // The context's mapping tables, made (and handed to its plug-in) on first need.
  Context::RrTables& rr_tables(Context& c);
  Context* find(uint32_t id) {
    auto it = ctxs_.find(id);
    return it == ctxs_.end() ? nullptr : &it->second;
  }
  void doorbell_here();
  void deliver_here(Bytes frame);
  void run_cmd(SendDesc& d);
  void transmit_packet(SendDesc& d);
  // Puts one wire frame on the link (TCP checksum offload first if `tcp`).
  void send_wire(Bytes f, bool tcp);
  // A completion was posted: interrupt the driver now or when the batch is due (moderation).
  void raise_rx_irq();
  void fire_rx_irq();
  const Plugin* plugin_for(l5o::L5Proto p) const { return plugins_[size_t(p)].get(); }

  bool filtered(ByteSpan frame) const;  // the unicast MAC filter drops it
  NicConfig cfg_;
  CpuMeter* meter_;
  CpuDomain domain_;
  wire::Link* link_ = nullptr;
  std::function<void()> rx_irq_;
  bool irq_armed_ = false;
  uint64_t irq_gen_ = 0;  // a moderation timer of an older batch does nothing
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // scheduled timers outlive us
  Ring<SendDesc> send_ring_;
  Ring<RxCompletion> rx_ring_;
  Ring<CmdCompletion> cmd_ring_{1024};
  std::array<std::unique_ptr<Plugin>, l5o::kL5ProtoCount> plugins_;
  std::unordered_map<uint32_t, Context> ctxs_;
  std::unordered_map<FlowKey, uint32_t, FlowKeyHash> rx_flow_table_;
  ContextCache cache_;
  NicStats stats_;
  uint64_t create_posts_ = 0, creates_seen_ = 0, offloaded_seen_ = 0;  // fault counters (NicFaults)
  std::array<OffloadStats, l5o::kL5ProtoCount> ostats_{};
  // Packet work buffers shared by all contexts (the engine handles one packet at a time), by
  // composition depth: an inner context works while its outer's buffer is still live.
  std::array<Bytes, 3> scratch_;
  Bytes freeze_buf_;  // a context's at-rest form while it is written
};

}  // namespace autonic::nic
