#include "nic/nic.h"

#include <cstring>

#include "common/buf_pool.h"
#include "common/inet_csum.h"
#include "nic/tso.h"

namespace autonic::nic {

Nic::Nic(const NicConfig& cfg, CpuMeter* meter, CpuDomain domain)
    : cfg_(cfg), meter_(meter), domain_(domain), send_ring_(cfg.send_ring_entries),
      rx_ring_(cfg.rx_ring_entries), cache_(cfg.ctx_cache_bytes, cfg.ctx_policy) {
#define AUTONIC_MAKE_PLUGIN(ident, E, counter, cli, shape) \
  plugins_[size_t(l5o::L5Proto::k##E)] = make_##ident##_plugin();
  AUTONIC_L5P_REGISTRY(AUTONIC_MAKE_PLUGIN)
#undef AUTONIC_MAKE_PLUGIN
  // An evicted context keeps only what the NIC writes back (§6.5); its working state is
  // rebuilt from that on its next fetch.
  cache_.set_evict_hook([this](uint32_t id) {
    if (Context* c = find(id)) park(*c);
  });
}

Nic::~Nic() { *alive_ = false; }

void Nic::fire_rx_irq() {
  irq_armed_ = false;
  ++irq_gen_;
  ++stats_.rx_irqs;
  // The interrupt runs the driver: host code, on the host's core.
  if (cfg_.core) return cfg_.core->to_host([this] { rx_irq_(); });
  rx_irq_();
}

void Nic::raise_rx_irq() {
  if (!rx_irq_) return;
  if (!cfg_.rx_coalesce_ns || !cfg_.schedule || rx_ring_.size() >= cfg_.rx_coalesce_frames) return fire_rx_irq();
  if (irq_armed_) return;
  irq_armed_ = true;
  cfg_.schedule(cfg_.rx_coalesce_ns, [this, alive = alive_, gen = irq_gen_] {
    if (*alive && irq_armed_ && gen == irq_gen_) fire_rx_irq();
  });
}

bool Nic::post_send(SendDesc&& d) {
  const NicFaults& f = cfg_.faults;
  const bool forced_full = d.kind == SendDesc::Kind::kCtxCreate && f.cmd_ring_full_from &&
                           ++create_posts_ >= f.cmd_ring_full_from;
  if (forced_full || !send_ring_.push(std::move(d))) {
    ++stats_.tx_ring_full;
    return false;
  }
  return true;
}

// With a core of its own, the hop happens inside the NIC's domain: the handoff is not host work.
void Nic::doorbell() {
  if (!cfg_.core) return doorbell_here();
  CpuScope scope(meter_, domain_);
  cfg_.core->to_nic([this] { doorbell_here(); });
}

void Nic::deliver(Bytes frame) {
  if (!cfg_.core) return deliver_here(std::move(frame));
  CpuScope scope(meter_, domain_);
  cfg_.core->to_nic([this, &frame] { deliver_here(std::move(frame)); });
}

void Nic::doorbell_here() {
  CpuScope scope(meter_, domain_);
  bool packets = false;
  while (!send_ring_.empty()) {
    SendDesc d = send_ring_.pop();
    // The NIC read the descriptor by DMA, which leaves the host's line as it was: moving out of
    // the slot wrote it, so it goes to the LLC, not the NIC core's cache, for the host's next push.
    if (cfg_.core) CoreHop::demote(send_ring_.popped_last(), sizeof(SendDesc));
    if (d.kind == SendDesc::Kind::kPacket) {
      packets = true;
      ++stats_.tx_descs;
      transmit_packet(d);
      dma_pool().give(d.frame);  // cut into wire frames (TSO) or dropped: the buffer is free again
    } else {
      run_cmd(d);
    }
  }
  if (packets) ++stats_.tx_doorbells;
}

void Nic::run_cmd(SendDesc& d) {
  switch (d.kind) {
    case SendDesc::Kind::kPacket:
      return;
    case SendDesc::Kind::kCtxCreate: {
      // The driver waits for this completion: a context it was not told exists does not exist.
      const bool ok = create_ctx(d);
      return complete(d.kind, d.ctx, 0, ok, std::nullopt);
    }
    case SendDesc::Kind::kCtxDestroy:
      if (!find(d.ctx)) {
        ++stats_.cmd_err;
        return;
      }
      destroy_ctx(d.ctx);
      return;
    case SendDesc::Kind::kCtxUpdate: {
      Context* c = find(d.ctx);
      if (!c || !d.state) {
        ++stats_.cmd_err;
        return;
      }
      thaw(*c);
      if (!c->plugin_flow().update(*d.state)) return lose_ctx(d.ctx);  // fail closed
      if (!cache_.contains(d.ctx)) park(*c);  // not on the NIC: back to host memory
      return;
    }
    case SendDesc::Kind::kTxRecover: {
      Context* c = find(d.ctx);
      if (!c || c->dir != l5o::Direction::kTx) {
        ++stats_.cmd_err;
        return;
      }
      touch(d.ctx, *c);
      // The inner context first, at the payload position where the outer message begins: the
      // outer prefix, re-processed next, carries it forward through the message's payload.
      if (Context* in = c->inner ? find(c->inner) : nullptr; in && in->tx) {
        OffloadStats& ist = ostats_[size_t(in->proto)];
        switch (d.inner) {
          case SendDesc::InnerRecover::kFound:
            in->tx->recover(d.inner_msg_start, d.inner_msg_index, d.inner_payload_pos, d.inner_prefix, ist);
            break;
          case SendDesc::InnerRecover::kToStart: in->tx->recover_to_start(); break;
          case SendDesc::InnerRecover::kLost: in->tx->lose_framing(); break;
          case SendDesc::InnerRecover::kNone: break;
        }
      }
      c->tx->recover(d.msg_start, d.msg_index, d.payload_pos, d.prefix, ostats_[size_t(c->proto)]);
      return;
    }
    case SendDesc::Kind::kRxResyncResp: {
      auto it = ctxs_.find(d.ctx);
      if (it == ctxs_.end() || it->second.dir != l5o::Direction::kRx) {
        ++stats_.cmd_err;
        return;
      }
      touch(d.ctx, it->second);
      it->second.rx->resync_resp(d.tcpsn, d.ok, d.msg_index, d.payload_pos, ostats_[size_t(it->second.proto)]);
      return;
    }
    case SendDesc::Kind::kRrAdd:
    case SendDesc::Kind::kRrDel: {
      auto it = ctxs_.find(d.ctx);
      if (it == ctxs_.end()) {
        ++stats_.cmd_err;
        // No context, no mapping: nothing can be placed for it (any more).
        if (d.kind == SendDesc::Kind::kRrDel) complete(d.kind, d.ctx, d.rr_id, true, std::nullopt);
        return;
      }
      Context& c = it->second;
      Context::RrTables& t = rr_tables(c);
      if (d.kind == SendDesc::Kind::kRrAdd) {
        // A tag registered again replaces the older registration (its id no longer names it).
        if (auto old = t.by_tag.find(d.rr.tag); old != t.by_tag.end()) {
          t.tag_of.erase(old->second.id);
          t.retired[old->second.id] = old->second.placed_end;  // its teardown still needs it
        }
        t.by_tag[d.rr.tag] = RrEntry{d.rr, d.rr_id};
        t.tag_of[d.rr_id] = d.rr.tag;
        return;
      }
      std::optional<TcpSeq> fence;
      if (auto g = t.tag_of.find(d.rr_id); g != t.tag_of.end()) {
        if (auto e = t.by_tag.find(g->second); e != t.by_tag.end() && e->second.id == d.rr_id) {
          fence = e->second.placed_end;
          t.by_tag.erase(e);
        }
        t.tag_of.erase(g);
      } else if (auto r = t.retired.find(d.rr_id); r != t.retired.end()) {
        fence = r->second;
        t.retired.erase(r);
      }
      // From here on the plug-in places nothing for it (it checks the registration per packet);
      // what it placed before lies in stream bytes before `fence`.
      return complete(d.kind, d.ctx, d.rr_id, true, fence);
    }
  }
}

bool Nic::create_ctx(SendDesc& d) {
  const Plugin* p = d.state ? plugin_for(d.state->proto) : nullptr;
  Context* outer = d.outer ? find(d.outer) : nullptr;
  if (!p || ctxs_.count(d.ctx) || (d.outer && (!outer || outer->inner))) {
    ++stats_.cmd_err;
    return false;
  }
  if (cfg_.faults.reject_create_from && ++creates_seen_ >= cfg_.faults.reject_create_from) {
    ++stats_.ctx_create_rejected;  // e.g. out of context memory: mlx5e_ktls_add_* fails
    return false;
  }
  Context c;
  c.proto = d.state->proto;
  c.dir = outer ? outer->dir : d.dir;
  c.flow = outer ? outer->flow : d.flow;
  OffloadStats* st = &ostats_[size_t(c.proto)];
  if (c.dir == l5o::Direction::kTx) {
    c.tx = std::make_unique<TxOffloadFlow>(*p, p->make_flow(*d.state, c.dir), d.tcpsn);
  } else {
    c.rx = std::make_unique<RxOffloadFlow>(*p, p->make_flow(*d.state, c.dir), d.tcpsn);
    c.rx->set_whole_packet_marks(cfg_.whole_packet_marks);
    if (outer)
      c.rx->set_trace(&cfg_.trace, "ctx " + std::to_string(d.ctx) + " (inside ctx " + std::to_string(d.outer) + ")",
                      "payload byte");
    else
      c.rx->set_trace(&cfg_.trace, "ctx " + std::to_string(d.ctx));
    if (!outer) rx_flow_table_[d.flow] = d.ctx;
  }
  c.plugin_flow().attach(nullptr, st);
  if (c.plugin_flow().uses_rr()) rr_tables(c);  // DDP looks mappings up per PDU
  Bytes* scratch = &scratch_[outer ? (outer->outer ? 2 : 1) : 0];
  if (c.tx) c.tx->set_scratch(scratch);
  else c.rx->set_scratch(scratch);
  if (outer) {
    // Composed offload: the outer plug-in feeds this context its message payload.
    thaw(*outer);  // (composed, it stays thawed)
    c.outer = d.outer;
    outer->inner = d.ctx;
    if (c.tx) {
      c.inner_eng = std::make_unique<InnerTx>(c.tx.get(), st);
    } else {
      c.inner_eng = std::make_unique<InnerRx>(c.rx.get(), st);
    }
    outer->plugin_flow().set_inner(c.inner_eng.get());
  }
  // Made in host memory; the NIC fetches it on first use (a cold miss).
  park(ctxs_.emplace(d.ctx, std::move(c)).first->second);
  return true;
}

void Nic::destroy_ctx(uint32_t id) {
  auto it = ctxs_.find(id);
  if (it == ctxs_.end()) return;
  Context& c = it->second;
  if (c.dir == l5o::Direction::kRx && !c.outer) rx_flow_table_.erase(c.flow);
  // Unlink a composed pair: the outer keeps running alone; an orphaned inner stays idle.
  if (Context* o = c.outer ? find(c.outer) : nullptr) {
    o->plugin_flow().set_inner(nullptr);
    o->inner = 0;
  }
  if (Context* in = c.inner ? find(c.inner) : nullptr) in->outer = 0;
  cache_.remove(id);
  ctxs_.erase(it);
}

std::optional<TcpSeq> Nic::placed_fence(const Context& c) const {
  std::optional<TcpSeq> f;
  auto later = [&f](const std::optional<TcpSeq>& e) {
    if (e && (!f || *f < *e)) f = e;
  };
  if (!c.rr) return f;
  for (const auto& [tag, e] : c.rr->by_tag) later(e.placed_end);
  for (const auto& [id, e] : c.rr->retired) later(e);
  return f;
}

void Nic::lose_ctx(uint32_t id) {
  Context* c = find(id);
  if (!c) return;
  // A composed pair lives and dies together (one cache line set on a real NIC).
  if (c->inner) lose_ctx(c->inner);
  c = find(id);
  OffloadStats& st = ostats_[size_t(c->proto)];
  ++(c->dir == l5o::Direction::kTx ? st.tx_ctx_lost : st.rx_ctx_lost);
  const std::optional<TcpSeq> fence = placed_fence(*c);
  destroy_ctx(id);
  report_lost(id, fence);
}

void Nic::complete(SendDesc::Kind kind, uint32_t ctx, uint32_t rr_id, bool ok, std::optional<TcpSeq> fence) {
  if (!cmd_ring_.push(CmdCompletion{CmdCompletion::Event::kDone, kind, ctx, rr_id, ok, fence})) ++stats_.cmd_err;
}

void Nic::report_lost(uint32_t ctx, std::optional<TcpSeq> fence) {
  if (!cmd_ring_.push(CmdCompletion{CmdCompletion::Event::kCtxLost, SendDesc::Kind::kCtxDestroy, ctx, 0, false, fence}))
    ++stats_.cmd_err;
}

bool Nic::ctx_fetch_fails() {
  const uint32_t n = cfg_.faults.lose_ctx_every;
  return n && ++offloaded_seen_ % n == 0;
}

void Nic::reset() {
  ++stats_.dev_resets;
  // The driver learns per context what was placed (its fence), then that the device is reset.
  std::vector<uint32_t> ids;
  for (const auto& [id, c] : ctxs_)
    if (!c.outer) ids.push_back(id);
  for (uint32_t id : ids) lose_ctx(id);  // inner ones go with their outer
  if (!cmd_ring_.push(CmdCompletion{CmdCompletion::Event::kDevReset, SendDesc::Kind::kCtxDestroy, 0, 0, false,
                                    std::nullopt}))
    ++stats_.cmd_err;
}

Nic::Context::RrTables& Nic::rr_tables(Context& c) {
  if (!c.rr) {
    thaw(c);  // (a context with mappings stays thawed)
    c.rr = std::make_unique<Context::RrTables>();
    c.plugin_flow().attach(&c.rr->by_tag, &ostats_[size_t(c.proto)]);
  }
  return *c.rr;
}

void Nic::count_batch(uint32_t id, uint32_t& last, uint64_t& packets, uint64_t& batches) {
  ++packets;
  if (id != last) ++batches;
  last = id;
}

void Nic::touch(uint32_t id, Context& c) {
  cache_.touch(id, c.bytes());
  thaw(c);  // a miss fetches it from host memory
  if (Context* in = c.inner ? find(c.inner) : nullptr) cache_.touch(c.inner, in->bytes());
}

void Nic::transmit_packet(SendDesc& d) {
  Bytes& f = d.frame;
  auto v = TcpFrameView::parse(f);
  if (d.ctx != 0) {
    // Fail closed: a frame bound to a context is sent only as that context makes it. One the
    // NIC does not hold (never created, refused, lost, destroyed, reset) is dropped: its bytes
    // were handed over to be transformed (plaintext for TLS), never to leave as they are.
    auto it = ctxs_.find(d.ctx);
    if (it != ctxs_.end() && it->second.dir == l5o::Direction::kTx && ctx_fetch_fails()) {
      lose_ctx(d.ctx);
      it = ctxs_.end();
    }
    if (!v || it == ctxs_.end() || it->second.dir != l5o::Direction::kTx) {
      ++ostats_[size_t(d.proto)].tx_drop_no_ctx;
      if (it == ctxs_.end()) report_lost(d.ctx, std::nullopt);  // tell the driver (again) it is gone
      return;
    }
    touch(d.ctx, it->second);
    count_batch(d.ctx, stats_.tx_last_ctx, stats_.tx_ctx_packets, stats_.tx_ctx_batches);
    MutByteSpan payload(f.data() + v->payload_off, v->payload_len);
    if (!it->second.tx->process(v->seq, payload, ostats_[size_t(it->second.proto)])) return;
  }
  if (v && d.gso_size && v->payload_len > d.gso_size) {
    ++stats_.tx_tso_packets;
    stats_.tx_tso_bytes += v->payload_len;
    tso_segment(f, *v, d.gso_size, [this](Bytes w) { send_wire(std::move(w), true); });
    return;
  }
  send_wire(std::move(f), v.has_value());
}

void Nic::send_wire(Bytes f, bool tcp) {
  if (tcp) {
    // TCP checksum offload: computed over the final (transformed) bytes.
    const size_t ip_len = load_be16(&f[kEthHeaderLen + 2]);
    const size_t ihl = size_t(f[kEthHeaderLen] & 0x0F) * 4;
    const uint16_t cs = tcp4_checksum(&f[kEthHeaderLen], ip_len);
    store_be16(&f[kEthHeaderLen + ihl + 16], cs);
  }
  ++stats_.tx_packets;
  stats_.tx_bytes += f.size();
  if (link_) {
    CpuScope wire_scope(meter_, CpuDomain::kOther);
    link_->transmit(std::move(f));
  }
  if (cfg_.faults.reset_after_tx && stats_.tx_packets == cfg_.faults.reset_after_tx) reset();
}

// Placed data is handed up by reference only for bytes processed in sequence (marked);
// otherwise the original bytes go up and the L5P copies (and checks) them itself. `base`: the
// buffer the plug-in read the packet's bytes from, at the packet's own offsets; [from, len):
// the bytes it marked.
static void hand_up_placements(const std::vector<Placement>& placed, const uint8_t* base, size_t from, size_t len,
                               size_t payload_off, RxCompletion& c) {
  for (const Placement& pl : placed) {
    if (pl.src < base + from || pl.src + pl.len > base + len) continue;  // not from the marked bytes
    c.placed.push_back(PlacedRange{payload_off + size_t(pl.src - base), pl.len, pl.dst});
  }
}

void Nic::offload_rx(uint32_t id, Context& ctx, TcpSeq seq, MutByteSpan payload, size_t payload_off,
                     RxCompletion& c) {
  touch(id, ctx);
  count_batch(id, stats_.rx_last_ctx, stats_.rx_ctx_packets, stats_.rx_ctx_batches);
  std::vector<Placement>* placed = ctx.rx->plugin_flow().placements();
  if (placed) placed->clear();
  Context* in = ctx.inner ? find(ctx.inner) : nullptr;
  InnerRx* inner = in ? in->inner_rx() : nullptr;
  std::vector<Placement>* iplaced = inner ? in->rx->plugin_flow().placements() : nullptr;
  if (inner) inner->begin_packet();
  if (iplaced) iplaced->clear();
  const RxVerdict verdict = ctx.rx->process(seq, payload, ostats_[size_t(ctx.proto)]);
  c.ctx = id;
  c.offloaded = verdict.marked;
  if (verdict.marked && verdict.mark_from) c.mark_from = payload_off + verdict.mark_from;
  c.resync_req = verdict.resync_req;
  if (placed && verdict.marked)
    hand_up_placements(*placed, payload.data(), verdict.mark_from, payload.size(), payload_off, c);
  if (!inner) return;
  // The inner verdict stands only on bytes the outer engine processed in sequence.
  c.inner_ctx = ctx.inner;
  c.inner_resync_req = inner->resync_req();
  const std::optional<size_t> ifrom = inner->marks_from(ctx.rx->work_base());
  if (!verdict.marked || !ifrom || *ifrom >= payload.size()) return;
  c.inner_marked = true;
  const size_t from = std::max<size_t>(*ifrom, verdict.mark_from);
  if (from) c.inner_mark_from = payload_off + from;
  // Composed DDP: the inner engine placed decrypted payload (NVMe C2HData inside TLS records),
  // reading it where the outer engine decrypted it; handed up only from bytes both marks cover
  // (those are the packet's bytes once written back, and their digests checked).
  if (iplaced) hand_up_placements(*iplaced, ctx.rx->work_base(), from, payload.size(), payload_off, c);
}

bool Nic::filtered(ByteSpan frame) const {
  static constexpr std::array<uint8_t, 6> kNone{};
  if (cfg_.mac == kNone || frame.size() < 6) return false;
  const bool group = frame[0] & 1;  // broadcast / multicast: the host decides (ARP, or dropped)
  return !group && std::memcmp(frame.data(), cfg_.mac.data(), 6) != 0;
}

void Nic::deliver_here(Bytes frame) {
  {
    CpuScope scope(meter_, domain_);
    if (filtered(frame)) {
      ++stats_.rx_mac_filtered;
      return;
    }
    ++stats_.rx_packets;
    stats_.rx_bytes += frame.size();
    RxCompletion c;
    auto v = TcpFrameView::parse(frame);
    if (v) {
      if (!tcp4_checksum_ok(&frame[v->ip_off], v->ip_len)) {
        ++stats_.rx_csum_err;  // checksum offload: a bad segment never reaches the stack
        return;
      }
      auto ft = rx_flow_table_.find(v->key);
      if (ft != rx_flow_table_.end() && ctx_fetch_fails()) {
        lose_ctx(ft->second);  // goes up unmarked: software handles it
        ft = rx_flow_table_.end();
      }
      if (ft != rx_flow_table_.end()) {
        auto it = ctxs_.find(ft->second);
        // A segment without payload (a pure ACK) needs the flow table, never the L5P context:
        // it is not fetched for it (§6.5's cache holds what the data path uses).
        if (it != ctxs_.end() && it->second.dir == l5o::Direction::kRx && v->payload_len != 0)
          offload_rx(ft->second, it->second, v->seq, MutByteSpan(frame.data() + v->payload_off, v->payload_len),
                     v->payload_off, c);
      }
    }
    // The frame is DMAed to host memory: with the model on a core of its own, into the LLC (DDIO).
    if (cfg_.core) {
      CoreHop::demote(frame.data(), frame.size());
      for (const PlacedRange& pr : c.placed) CoreHop::demote(pr.dst, pr.len);
    }
    c.frame = std::move(frame);
    if (!rx_ring_.push(std::move(c))) {
      ++stats_.rx_ring_full;
      return;
    }
    if (cfg_.core) {  // the CQE and the producer index, DMAed too
      CoreHop::demote(&rx_ring_.back(), sizeof(RxCompletion));
      CoreHop::demote(&rx_ring_, sizeof rx_ring_);
    }
  }
  raise_rx_irq();
}

std::optional<RxSyncState> Nic::rx_state(uint32_t ctx) const {
  auto it = ctxs_.find(ctx);
  if (it == ctxs_.end() || it->second.dir != l5o::Direction::kRx) return std::nullopt;
  // Only a flow offloading in sequence is frozen (RxOffloadFlow::freezable).
  return it->second.frozen ? RxSyncState::kOffloading : it->second.rx->state();
}

void Nic::export_stats(CounterMap& m) const {
  add_counter(m, "nic_tx_packets", stats_.tx_packets);
  add_counter(m, "nic_tx_bytes", stats_.tx_bytes);
  add_counter(m, "nic_rx_packets", stats_.rx_packets);
  add_counter(m, "nic_rx_bytes", stats_.rx_bytes);
  add_counter(m, "nic_rx_csum_err", stats_.rx_csum_err);
  add_counter(m, "nic_rx_mac_filtered", stats_.rx_mac_filtered);
  add_counter(m, "nic_rx_ring_full", stats_.rx_ring_full);
  add_counter(m, "nic_tx_ring_full", stats_.tx_ring_full);
  add_counter(m, "nic_cmd_err", stats_.cmd_err);
  add_counter(m, "nic_ctx_create_rejected", stats_.ctx_create_rejected);
  add_counter(m, "nic_dev_resets", stats_.dev_resets);
  add_counter(m, "nic_tx_tso_packets", stats_.tx_tso_packets);
  add_counter(m, "nic_tx_tso_bytes", stats_.tx_tso_bytes);
  add_counter(m, "nic_rx_irqs", stats_.rx_irqs);
  add_counter(m, "nic_tx_doorbells", stats_.tx_doorbells);
  add_counter(m, "nic_tx_ctx_packets", stats_.tx_ctx_packets);
  add_counter(m, "nic_tx_ctx_batches", stats_.tx_ctx_batches);
  add_counter(m, "nic_rx_ctx_packets", stats_.rx_ctx_packets);
  add_counter(m, "nic_rx_ctx_batches", stats_.rx_ctx_batches);
  add_counter(m, "nic_tx_descs", stats_.tx_descs);
  cache_.export_to(m);
}

}  // namespace autonic::nic
