#include "driver/driver.h"

#include <algorithm>
#include <cstring>

#include "common/buf_pool.h"
#include "common/prefetch.h"

namespace autonic::driver {

Driver::Driver(nic::Nic& nic, CpuMeter* meter, CpuDomain host, std::array<uint8_t, 6> own_mac,
               std::array<uint8_t, 6> peer_mac)
    : nic_(nic), meter_(meter), host_(host), own_mac_(own_mac), peer_mac_(peer_mac) {
  nic_.set_rx_interrupt([this] { poll_rx(); });
}

Driver::~Driver() {
  if (notify_armed_) sys_untimeout(&Driver::deliver_lost, this);
}

void Driver::notify_lost(uint32_t id) {
  lost_notify_.push_back(id);
  if (notify_armed_) return;
  notify_armed_ = true;
  sys_timeout(0, &Driver::deliver_lost, this);
}

void Driver::deliver_lost(void* self) {
  auto* d = static_cast<Driver*>(self);
  d->notify_armed_ = false;
  std::vector<uint32_t> ids;
  ids.swap(d->lost_notify_);
  for (uint32_t id : ids)
    if (const Shadow* sh = d->shadow(id); sh && sh->ops) sh->ops->offload_lost(sh->dir);
}

void Driver::post(nic::SendDesc&& d) {
  while (!deferred_.empty() && nic_.post_send(std::move(deferred_.front()))) deferred_.pop_front();
  if (nic_.post_send(std::move(d))) return;  // refused, `d` is left as it was
  if (d.kind == nic::SendDesc::Kind::kPacket) {
    ++stats_.tx_ring_full_drops;  // TCP retransmits it
    return;
  }
  ++stats_.cmd_ring_full;
  // A destroy must reach the NIC (the context would go on processing the flow); a create the
  // caller sees fail (submit_and_wait gets no completion); a resync answer or mapping lost here only costs
  // offload (the tracker gives up; an unregistered buffer is never placed into).
  if (d.kind == nic::SendDesc::Kind::kCtxDestroy) deferred_.push_back(std::move(d));
}

void Driver::ring_doorbell() {
  nic_.doorbell();
  collect_cmds();
  restore_lost();
}

void Driver::collect_cmds() {
  auto& ring = nic_.cmd_ring();
  while (!ring.empty()) {
    nic::CmdCompletion c = ring.pop();
    if (c.event == nic::CmdCompletion::Event::kDone) done_.push_back(c);
    else if (c.event == nic::CmdCompletion::Event::kCtxLost) on_ctx_lost(c);
    // kDevReset: every context it took was reported lost just before it.
  }
}

std::optional<nic::CmdCompletion> Driver::submit_and_wait(nic::SendDesc&& d) {
  const nic::SendDesc::Kind kind = d.kind;
  const uint32_t ctx = d.ctx, rr_id = d.rr_id;
  post(std::move(d));
  nic_.doorbell();
  collect_cmds();
  std::optional<nic::CmdCompletion> r;
  for (const nic::CmdCompletion& c : done_)
    if (c.kind == kind && c.ctx == ctx && c.rr_id == rr_id) r = c;
  done_.clear();  // every command is awaited right after its doorbell: the rest are stale
  return r;
}

void Driver::on_ctx_lost(const nic::CmdCompletion& ev) {
  Shadow* sh = shadow(ev.ctx);
  if (!sh || sh->lost || sh->dead) return;  // destroyed by the L5P, or already known
  sh->lost = true;
  sh->rr_valid_from = next_rr_;
  if (ev.fence && (!sh->lost_fence || *sh->lost_fence < *ev.fence)) sh->lost_fence = ev.fence;
  lost_.push_back(ev.ctx);
}

// The driver holds each context's static state, so a context the NIC lost (evicted and not
// restorable, device reset) is created again; its dynamic state is rebuilt the usual way: TX by
// recovery from the L5P's message map before the next packet (§4.2), RX by resync (§4.3).
void Driver::restore_lost() {
  if (restoring_) return;
  restoring_ = true;
  while (!lost_.empty()) {
    // Outer contexts first: an inner one is created on its outer's.
    std::vector<uint32_t> ids;
    ids.swap(lost_);
    std::stable_partition(ids.begin(), ids.end(), [this](uint32_t id) {
      const Shadow* s = shadow(id);
      return s && !s->outer;
    });
    for (uint32_t id : ids) restore(id);
  }
  restoring_ = false;
}

void Driver::restore(uint32_t id) {
  Shadow* sh = shadow(id);
  if (!sh || !sh->lost) return;
  nic::OffloadStats& st = ostats_[size_t(sh->proto)];
  const Shadow* outer = sh->outer ? shadow(sh->outer) : nullptr;
  // An inner context exists only on its outer one: orphaned, it is never made a flow's own.
  const bool ok = !(sh->is_inner && (!outer || outer->lost || outer->dead)) && nic_create(id, *sh);
  sh = shadow(id);
  sh->lost = false;
  if (ok) {
    ++(sh->dir == l5o::Direction::kTx ? st.tx_ctx_restore : st.rx_ctx_restore);
    if (sh->dir == l5o::Direction::kTx) {
      sh->resync_tx = true;
      if (Shadow* o = sh->outer ? shadow(sh->outer) : nullptr) o->resync_tx = true;  // it recovers us
    }
    return;
  }
  sh->dead = true;
  notify_lost(id);
  if (Shadow* in = sh->inner ? shadow(sh->inner) : nullptr) {  // nothing left to carry it
    in->dead = true;
    in->lost = false;
    notify_lost(sh->inner);
  }
  // TX: the outer's frames carry bytes the inner context was to finish (NVMe digests inside
  // TLS): without it the outer must not send them either.
  if (Shadow* o = sh->dir == l5o::Direction::kTx && sh->outer ? shadow(sh->outer) : nullptr; o && !o->dead) {
    o->dead = true;
    notify_lost(sh->outer);
  }
}

bool Driver::nic_create(uint32_t id, const Shadow& s) {
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kCtxCreate;
  d.ctx = id;
  d.dir = s.dir;
  d.flow = s.flow;
  d.outer = s.outer;
  d.tcpsn = s.start;
  d.state = s.state;
  const auto c = submit_and_wait(std::move(d));
  return c && c->ok;
}

void Driver::enable_arp(uint32_t own_ip, uint32_t peer_ip, std::optional<Mac> peer_mac) {
  neigh_ = std::make_unique<Neighbours>(own_ip, own_mac_);
  if (peer_mac) neigh_->add_static(peer_ip, *peer_mac);
}

void Driver::add_neighbour(uint32_t own_ip, uint32_t ip, Mac mac) {
  if (!neigh_) neigh_ = std::make_unique<Neighbours>(own_ip, own_mac_);
  neigh_->add_static(ip, mac);
}

void Driver::resolve(uint32_t ip) {
  if (neigh_) send_raw(neigh_->request(ip));
}

void Driver::send_unresolved(uint32_t ip) {
  auto it = unresolved_.find(ip);
  if (it == unresolved_.end()) return;
  const auto mac = neigh_->lookup(ip);
  if (!mac) return;
  Bytes f = std::move(it->second);
  unresolved_.erase(it);
  std::memcpy(f.data(), mac->data(), 6);
  send_raw(std::move(f));
}

void Driver::send_raw(Bytes frame) {
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kPacket;
  d.frame = std::move(frame);
  post(std::move(d));
  ring_doorbell();
}

err_t Driver::xmit(pbuf* p) {
  CpuScope scope(meter_, host_);
  // The NIC DMAs the packet into its own buffer: lwIP keeps `p` for retransmission, so the NIC
  // must never transform it in place (DESIGN.md trap #1). The copy is the DMA engine's work,
  // not the host CPU's, so it is charged to the NIC -- and so is the buffer it lands in (a real
  // driver allocates none: the NIC reads the skb's pages; here a 64 KiB TSO frame's allocation
  // and zero-fill cost the host up to 0.05 cycles a byte, more than the L5P's own work, issue #12).
  // The copy runs on the host's core even when the NIC model has its own (--nic-core): a device's
  // DMA read takes a snapshot of the host's lines without changing their cache state (Intel's
  // RdCur), where a read by another core would leave them shared and make the host's next write
  // to them a cross-core invalidation no real host pays.
  Bytes frame;
  {
    CpuScope dma(meter_, nic_.domain());
    frame = dma_pool().take();
    frame.resize(kEthHeaderLen + p->tot_len);
    std::memcpy(frame.data(), peer_mac_.data(), 6);
    std::memcpy(frame.data() + 6, own_mac_.data(), 6);
    store_be16(frame.data() + 12, kEtherTypeIpv4);
    pbuf_copy_partial(p, frame.data() + kEthHeaderLen, p->tot_len, 0);
  }
  if (neigh_ && frame.size() >= kEthHeaderLen + 20) {
    const uint32_t dst = load_be32(&frame[kEthHeaderLen + 16]);
    const auto mac = neigh_->lookup(dst);
    if (!mac) {
      ++stats_.tx_no_neigh;  // TCP retransmits data once ARP has answered
      auto v = TcpFrameView::parse(frame);
      if (v && v->payload_len == 0 && (unresolved_.count(dst) || unresolved_.size() < 16)) unresolved_[dst] = std::move(frame);
      resolve(dst);
      return ERR_OK;
    }
    std::memcpy(frame.data(), mac->data(), 6);
  }
  ++stats_.tx_packets;

  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kPacket;
  // One parse for both: the offload binding and the TSO size.
  const auto v = !tx_by_flow_.empty() || !tx_closed_.empty() || tso_ ? TcpFrameView::parse(frame) : std::nullopt;
  if (v && (v->tcp_flags & 0x04)) forget_flow(v->key);
  if (v && v->payload_len > 0) {
    auto it = tx_by_flow_.find(v->key);
    if (it != tx_by_flow_.end()) {
      if (!bind_tx(*v, it->second.first, *it->second.second, d)) return ERR_OK;
    } else if (unbound_must_drop(*v)) {
      return ERR_OK;
    }
    if (tso_) {
      const uint16_t mss = wire_mss(v->key, v->payload_off - v->ip_off);
      if (v->payload_len > mss) d.gso_size = mss;
    }
  }
  // (after wire_mss: a flow's first data may carry its FIN, and moves its entry only there)
  if (v && (v->tcp_flags & 0x01) && !peer_mss_.empty()) track_fin(*v);
  d.frame = std::move(frame);
  post(std::move(d));
  ring_doorbell();
  return ERR_OK;
}

// Our stack sends a RST only for a connection it no longer has (lwIP's tcp_abandon frees the
// pcb; a RST answering a stray segment has no pcb behind it): nothing of the flow can be
// retransmitted, so what the driver kept for it goes (connection churn, issue #13). A RST we
// receive proves nothing (it may be forged and ignored by TCP): it prunes nothing.
void Driver::forget_flow(const FlowKey& k) {
  tx_closed_.erase(k);
  syn_mss_.erase(k);
  peer_mss_.erase(k);
}

uint16_t Driver::wire_mss(const FlowKey& flow, size_t hdr) {
  const size_t mtu = nif_ ? nif_->raw()->mtu : 1500;
  size_t mss = mtu > hdr ? mtu - hdr : 1;
  auto it = peer_mss_.find(flow);
  if (it == peer_mss_.end() && !syn_mss_.empty()) {  // the flow's first data: its SYN's MSS moves
    if (auto s = syn_mss_.find(flow); s != syn_mss_.end()) {
      it = peer_mss_.emplace(flow, PeerMss{s->second, false, TcpSeq()}).first;
      syn_mss_.erase(s);
    }
  }
  if (it != peer_mss_.end()) mss = std::min<size_t>(mss, it->second.mss);
  return uint16_t(std::max<size_t>(mss, 1));
}

void Driver::track_fin(const TcpFrameView& v) {
  auto it = peer_mss_.find(v.key);
  if (it == peer_mss_.end()) return;
  it->second.fin_sent = true;
  it->second.fin_end = v.seq + uint32_t(v.payload_len) + 1;
}

void Driver::snoop_syn_mss(ByteSpan frame) {
  auto v = TcpFrameView::parse(frame);
  if (!v) return;
  if (!(v->tcp_flags & 0x02)) {
    // The peer acknowledged our FIN: all we sent on the flow is through, nothing more is cut.
    if (peer_mss_.empty() || !(v->tcp_flags & 0x10)) return;
    auto it = peer_mss_.find(v->key.reversed());
    if (it != peer_mss_.end() && it->second.fin_sent && TcpSeq(load_be32(frame.data() + v->tcp_off + 8)) >= it->second.fin_end)
      peer_mss_.erase(it);
    return;
  }
  peer_mss_.erase(v->key.reversed());  // a new connection on the 4-tuple: the old one's entry goes
  syn_mss_.erase(v->key.reversed());
  const uint8_t* o = frame.data() + v->tcp_off + 20;
  const uint8_t* end = frame.data() + v->payload_off;
  while (o < end && *o != 0) {  // kinds 0 (end) and 1 (no-op) have no length byte
    if (*o == 1) { ++o; continue; }
    if (end - o < 2 || o[1] < 2 || o[1] > end - o) return;
    if (o[0] == 2 && o[1] == 4) {
      const uint16_t mss = load_be16(o + 2);
      // Only an MSS below what our MTU gives any segment needs remembering (wire_mss falls back
      // to the MTU's): a peer announcing the usual leaves nothing behind.
      const size_t mtu = nif_ ? nif_->raw()->mtu : 1500;
      if (mss == 0 || mss + 40u >= mtu) return;
      if (syn_mss_.size() >= kMaxSynMss && !syn_mss_.count(v->key.reversed())) syn_mss_.erase(syn_mss_.begin());
      syn_mss_[v->key.reversed()] = mss;
      return;
    }
    o += o[1];
  }
}

void Driver::enable_gro() {
  gro_ = std::make_unique<Gro>([this](pbuf* p) {
    if (nif_) nif_->input(p); else pbuf_free(p);
  });
}

void Driver::to_stack(pbuf* p) {
  if (gro_) gro_->receive(p);
  else if (nif_) nif_->input(p);
  else pbuf_free(p);
}

bool Driver::unbound_must_drop(const TcpFrameView& v) {
  auto c = tx_closed_.find(v.key);
  if (c == tx_closed_.end() || v.seq + uint32_t(v.payload_len) <= c->second.start) return false;
  ++ostats_[size_t(c->second.proto)].tx_drop_no_ctx;
  return true;
}

bool Driver::bind_tx(const TcpFrameView& v, uint32_t id, Shadow& sh, nic::SendDesc& d) {
  nic::OffloadStats& st = ostats_[size_t(sh.proto)];
  const TcpSeq end = v.seq + uint32_t(v.payload_len);
  if (sh.dead) {  // no context will ever transform these bytes: never send them as they are
    if (end <= sh.start) return !unbound_must_drop(v);
    ++st.tx_drop_no_ctx;
    return false;
  }
  d.ctx = id;
  d.proto = sh.proto;
  if (v.seq != sh.expected || sh.resync_tx) {
    // Out of sequence (a retransmission, or a probe) or a re-created context: recover the NIC
    // context from the L5P's message map before the packet (§4.2, Fig. 6).
    ++st.tx_ooo;
    const l5o::TxMsgState ms = sh.ops->get_tx_msgstate(v.seq);
    switch (ms.kind) {
      case l5o::TxMsgState::Kind::kFound: {
        nic::SendDesc r;
        r.kind = nic::SendDesc::Kind::kTxRecover;
        r.ctx = d.ctx;
        r.msg_start = ms.msg_start;
        r.msg_index = ms.msg_index;
        r.payload_pos = ms.payload_pos;
        r.prefix.assign(ms.prefix.begin(), ms.prefix.end());
        recover_inner(sh, ms.payload_pos, r);
        post(std::move(r));
        sh.resync_tx = false;
        break;
      }
      case l5o::TxMsgState::Kind::kBeforeOffload: {
        if (end <= sh.start) {  // entirely before the offload: sent as the L5P wrote it
          if (unbound_must_drop(v)) return false;  // ... unless an earlier context covered it
          ++st.tx_bypass_packets;
          d.ctx = 0;
          return true;  // the context did not see it: sh.expected stays where it was
        }
        // Straddles the offload's start (lwIP put the last handshake bytes and the first
        // record in one segment): rewind the context to its start; the NIC passes the lead
        // bytes through untouched.
        nic::SendDesc r;
        r.kind = nic::SendDesc::Kind::kTxRecover;
        r.ctx = d.ctx;
        r.msg_start = sh.start;
        r.msg_index = 0;
        if (sh.inner) r.inner = nic::SendDesc::InnerRecover::kToStart;
        post(std::move(r));
        sh.resync_tx = false;
        break;
      }
      case l5o::TxMsgState::Kind::kNoSyncData:
        // Cannot be described any more: never send it wrong (mlx5 tx_tls_drop_no_sync_data).
        ++st.tx_drop_no_sync_data;
        return false;
    }
  }
  sh.expected = end;
  return true;
}

void Driver::recover_inner(const Shadow& outer, TcpSeq payload_pos, nic::SendDesc& r) {
  Shadow* in = outer.inner ? shadow(outer.inner) : nullptr;
  if (!in || !in->ops) return;
  nic::OffloadStats& st = ostats_[size_t(in->proto)];
  ++st.tx_ooo;
  const l5o::TxMsgState ms = in->ops->get_tx_msgstate(payload_pos);
  switch (ms.kind) {
    case l5o::TxMsgState::Kind::kFound:
      r.inner = nic::SendDesc::InnerRecover::kFound;
      r.inner_msg_start = ms.msg_start;
      r.inner_msg_index = ms.msg_index;
      r.inner_payload_pos = ms.payload_pos;
      r.inner_prefix.assign(ms.prefix.begin(), ms.prefix.end());
      break;
    case l5o::TxMsgState::Kind::kBeforeOffload:
      r.inner = nic::SendDesc::InnerRecover::kToStart;
      break;
    case l5o::TxMsgState::Kind::kNoSyncData:
      // The outer message is still held but the inner L5P let go of its bytes: the inner
      // context cannot be rebuilt, and its bytes go out as written (the peer's check fails).
      ++st.tx_drop_no_sync_data;
      r.inner = nic::SendDesc::InnerRecover::kLost;
      break;
  }
}

void Driver::poll_rx() {
  CpuScope scope(meter_, host_);
  collect_cmds();  // the NIC may have lost an RX context on the way
  restore_lost();
  auto& ring = nic_.rx_ring();
  while (!ring.empty()) {
    // As mlx5e's poll does: start fetching the next completion's packet headers (and the one
    // after's completion) while this one goes up; the NIC DMAed them to the L3, not to this core.
    if (ring.size() > 1) {
      const Bytes& next = ring.at(1).frame;
      prefetch_lines(next.data(), std::min<size_t>(next.size(), 128));
      if (ring.size() > 2) __builtin_prefetch(&ring.at(2));
    }
    nic::RxCompletion c = ring.pop();
    ++stats_.rx_packets;
    if ((c.resync_req || c.inner_resync_req) && gro_) gro_->flush();  // packets before it go up first
    if (c.resync_req && c.ctx) {
      // Deliver the NIC's guess before the packet itself goes up, so the L5P can answer when
      // its stream reaches it (§4.3 "Context recovery").
      Shadow* sh = shadow(c.ctx);
      if (sh && sh->ops && !sh->dead) {
        ++ostats_[size_t(sh->proto)].rx_resync_req_start;
        sh->ops->resync_rx_req(*c.resync_req);
      } else if (sh) {
        ++ostats_[size_t(sh->proto)].rx_resync_req_skip;
      } else {
        ++stats_.rx_resync_req_no_ctx;  // the context went away while the packet was queued
      }
    }
    if (c.inner_resync_req && c.inner_ctx) {
      Shadow* in = shadow(c.inner_ctx);
      if (in && in->ops) {
        ++ostats_[size_t(in->proto)].rx_resync_req_start;
        in->ops->resync_rx_req(*c.inner_resync_req);
      }
    }
    if (neigh_ && c.frame.size() >= kEthHeaderLen && load_be16(&c.frame[12]) == Neighbours::kEtherTypeArp) {
      if (auto reply = neigh_->on_arp(c.frame)) send_raw(std::move(*reply));
      if (c.frame.size() >= kEthHeaderLen + 18) send_unresolved(load_be32(&c.frame[kEthHeaderLen + 14]));  // ARP spa
      continue;
    }
    if (c.frame.size() < kEthHeaderLen || load_be16(&c.frame[12]) != kEtherTypeIpv4) {
      ++stats_.rx_nontcp;
      continue;
    }
    if (c.offloaded) ++stats_.rx_offloaded_packets;
    // Trim Ethernet padding: the IP total length is authoritative. lwIP's ip4_input reads the
    // header's length fields before it checks the pbuf holds a header (ip4.c), so a packet
    // shorter than one -- or claiming to be -- never goes up (found by fuzz_link_rx).
    const size_t frame_ip_len = c.frame.size() - kEthHeaderLen;
    const size_t total = frame_ip_len >= 4 ? load_be16(&c.frame[kEthHeaderLen + 2]) : 0;
    if (frame_ip_len < kIpv4MinHeader || total < kIpv4MinHeader) {
      ++stats_.rx_malformed;
      continue;
    }
    c.frame.resize(kEthHeaderLen + std::min(frame_ip_len, total));
    if (tso_) snoop_syn_mss(c.frame);
    const tcpip::RxFrameMarks marks{c.offloaded, c.mark_from, c.inner_marked, c.inner_mark_from};
    to_stack(tcpip::make_rx_pbuf_chain(std::move(c.frame), kEthHeaderLen, marks, c.placed));
  }
  if (gro_) gro_->flush();  // the batch ends
}

l5o::L5oHandle Driver::create(const FlowKey& flow, l5o::Direction dir,
                              std::shared_ptr<const l5o::L5State> state, TcpSeq tcpsn,
                              l5o::L5pOps* ops) {
  CpuScope scope(meter_, host_);
  if (!state) return l5o::kNoHandle;
  Shadow sh{state->proto, dir, flow, tcpsn, tcpsn, ops};
  sh.state = std::move(state);
  return add_context(std::move(sh));
}

l5o::L5oHandle Driver::create_inner(l5o::L5oHandle outer, std::shared_ptr<const l5o::L5State> state, TcpSeq start,
                                    l5o::L5pOps* ops) {
  CpuScope scope(meter_, host_);
  const Shadow* o = shadow(outer);
  if (!state || !o || o->inner || o->outer || o->dead) return l5o::kNoHandle;  // one level, one inner
  Shadow sh{state->proto, o->dir, o->flow, start, start, ops};
  sh.outer = outer;
  sh.is_inner = true;
  sh.state = std::move(state);
  return add_context(std::move(sh));
}

// Fail closed (Linux: tls_set_device_offload falls back to software when tls_dev_add fails):
// the handle exists only if the NIC confirmed the context; otherwise the L5P stays in software.
l5o::L5oHandle Driver::add_context(Shadow s) {
  const uint32_t id = next_ctx_++;
  nic::OffloadStats& st = ostats_[size_t(s.proto)];
  if (!nic_create(id, s)) {
    ++(s.dir == l5o::Direction::kTx ? st.tx_ctx_add_fail : st.rx_ctx_add_fail);
    return l5o::kNoHandle;
  }
  s.rr_valid_from = next_rr_;
  Shadow& sh = shadows_[id] = std::move(s);
  if (sh.outer) shadow(sh.outer)->inner = id;
  else if (sh.dir == l5o::Direction::kTx) tx_by_flow_[sh.flow] = {id, &sh};
  if (sh.dir == l5o::Direction::kRx) ++st.rx_sk_add;
  else ++st.tx_ctx;
  return id;
}

void Driver::update(l5o::L5oHandle h, std::shared_ptr<const l5o::L5State> state) {
  CpuScope scope(meter_, host_);
  Shadow* sh = shadow(h);
  if (!sh || !state || state->proto != sh->proto) return;
  sh->state = state;  // a context restored after a loss starts from it too
  if (sh->lost || sh->dead) return;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kCtxUpdate;
  d.ctx = h;
  d.state = std::move(state);
  post(std::move(d));
  ring_doorbell();
}

void Driver::destroy(l5o::L5oHandle h) {
  auto it = shadows_.find(h);
  if (it == shadows_.end()) return;
  Shadow& sh = it->second;
  if (Shadow* o = sh.outer ? shadow(sh.outer) : nullptr) o->inner = 0;
  if (Shadow* in = sh.inner ? shadow(sh.inner) : nullptr) in->outer = 0;
  if (sh.dir == l5o::Direction::kRx) {
    ++ostats_[size_t(sh.proto)].rx_sk_del;
  } else {
    ++ostats_[size_t(sh.proto)].tx_del;
  }
  if (sh.dir == l5o::Direction::kTx && !sh.is_inner) {
    tx_by_flow_.erase(sh.flow);
    // TCP may still hold (and retransmit) bytes handed over for this context.
    auto [c, fresh] = tx_closed_.try_emplace(sh.flow, Closed{sh.proto, sh.start});
    if (!fresh && sh.start < c->second.start) c->second.start = sh.start;
  }
  const bool on_nic = !sh.lost && !sh.dead;
  shadows_.erase(it);
  if (!on_nic) return;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kCtxDestroy;
  d.ctx = h;
  post(std::move(d));
  ring_doorbell();
}

l5o::RrStateId Driver::add_rr_state(l5o::L5oHandle h, const l5o::RrState& rr) {
  const uint32_t id = next_rr_++;
  Shadow* sh = shadow(h);
  if (!sh || sh->dead) return id;  // nothing will be placed for it: the L5P copies
  ++ostats_[size_t(sh->proto)].rx_rr_setup;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kRrAdd;
  d.ctx = h;
  d.rr_id = id;
  d.rr = rr;
  post(std::move(d));
  ring_doorbell();
  return id;
}

l5o::RrTeardown Driver::del_rr_state(l5o::L5oHandle h, l5o::RrStateId id) {
  collect_cmds();  // a loss the NIC reported since (e.g. with its RX ring full) counts first
  restore_lost();
  Shadow* sh = shadow(h);
  if (sh) ++ostats_[size_t(sh->proto)].rx_rr_teardown;
  // The mapping died with a context the NIC lost: nothing is placed for it any more; what was
  // placed lies before the fence the NIC reported with the loss.
  auto died = [&] { return sh && (sh->dead || id < sh->rr_valid_from); };
  if (died()) return l5o::RrTeardown{true, sh->lost_fence};
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kRrDel;
  d.ctx = h;
  d.rr_id = id;
  // The teardown counts only once the NIC says so: without its completion the mapping may be
  // live, and the L5P must keep the buffer and the tag (fail closed).
  l5o::RrTeardown t;
  if (auto c = submit_and_wait(std::move(d))) {
    t.confirmed = c->ok;
    t.fence = c->fence;
  }
  restore_lost();
  sh = shadow(h);
  if (died()) {  // the context went during the command: the later fence holds
    t.confirmed = true;
    if (sh->lost_fence && (!t.fence || *t.fence < *sh->lost_fence)) t.fence = sh->lost_fence;
  }
  if (!t.confirmed && sh) ++ostats_[size_t(sh->proto)].rx_rr_teardown_unconfirmed;
  return t;
}

void Driver::resync_rx_resp(l5o::L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq payload_pos) {
  Shadow* sh = shadow(h);
  if (!sh || sh->dead) return;
  ++ostats_[size_t(sh->proto)].rx_resync_req_end;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kRxResyncResp;
  d.ctx = h;
  d.tcpsn = tcpsn;
  d.ok = ok;
  d.msg_index = msg_index;
  d.payload_pos = payload_pos;
  post(std::move(d));
  ring_doorbell();
}

void Driver::export_stats(CounterMap& m) const {
  add_counter(m, "drv_tx_packets", stats_.tx_packets);
  add_counter(m, "drv_rx_packets", stats_.rx_packets);
  add_counter(m, "drv_rx_offloaded_packets", stats_.rx_offloaded_packets);
  add_counter(m, "drv_tx_ring_full_drops", stats_.tx_ring_full_drops);
  add_counter(m, "drv_rx_malformed", stats_.rx_malformed);
  if (neigh_) {
    add_counter(m, "drv_tx_no_neigh", stats_.tx_no_neigh);
    neigh_->export_stats(m);
  }
  add_counter(m, "drv_rx_nontcp", stats_.rx_nontcp);
  add_counter(m, "drv_cmd_ring_full", stats_.cmd_ring_full);
  add_counter(m, "drv_rx_resync_req_no_ctx", stats_.rx_resync_req_no_ctx);
  if (gro_) gro_->export_stats(m);
}

}  // namespace autonic::driver
