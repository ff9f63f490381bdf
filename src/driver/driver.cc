#include "driver/driver.h"

#include <cstring>

namespace autonic::driver {

Driver::Driver(nic::Nic& nic, CpuMeter* meter, CpuDomain host, std::array<uint8_t, 6> own_mac,
               std::array<uint8_t, 6> peer_mac)
    : nic_(nic), meter_(meter), host_(host), own_mac_(own_mac), peer_mac_(peer_mac) {
  nic_.set_rx_interrupt([this] { poll_rx(); });
}

void Driver::post(nic::SendDesc&& d) {
  if (!nic_.post_send(std::move(d))) ++stats_.tx_ring_full_drops;
}

err_t Driver::xmit(pbuf* p) {
  CpuScope scope(meter_, host_);
  // The NIC DMAs the packet into its own buffer: lwIP keeps `p` for retransmission, so the NIC
  // must never transform it in place (DESIGN.md trap #1). The copy is the DMA engine's work,
  // not the host CPU's, so it is charged to the NIC.
  Bytes frame(kEthHeaderLen + p->tot_len);
  {
    CpuScope dma(meter_, nic_.domain());
    std::memcpy(frame.data(), peer_mac_.data(), 6);
    std::memcpy(frame.data() + 6, own_mac_.data(), 6);
    store_be16(frame.data() + 12, kEtherTypeIpv4);
    pbuf_copy_partial(p, frame.data() + kEthHeaderLen, p->tot_len, 0);
  }
  ++stats_.tx_packets;

  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kPacket;
  if (!tx_by_flow_.empty()) {
    auto v = TcpFrameView::parse(frame);
    auto it = v ? tx_by_flow_.find(v->key) : tx_by_flow_.end();
    if (it != tx_by_flow_.end() && v->payload_len > 0) {
      Shadow& sh = *it->second.second;
      nic::OffloadStats& st = ostats_[size_t(sh.proto)];
      d.ctx = it->second.first;
      if (v->seq != sh.expected) {
        // Out of sequence (a retransmission, or a probe): recover the NIC context from the
        // L5P's message map before the packet (§4.2, Fig. 6).
        ++st.tx_ooo;
        const l5o::TxMsgState ms = sh.ops->get_tx_msgstate(v->seq);
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
            break;
          }
          case l5o::TxMsgState::Kind::kBeforeOffload: {
            const TcpSeq end = v->seq + uint32_t(v->payload_len);
            if (end <= sh.start) {  // entirely before the offload: sent as the L5P wrote it
              ++st.tx_bypass_packets;
              d.ctx = 0;
              break;
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
            break;
          }
          case l5o::TxMsgState::Kind::kNoSyncData:
            // Cannot be described any more: never send it wrong (mlx5 tx_tls_drop_no_sync_data).
            ++st.tx_drop_no_sync_data;
            return ERR_OK;
        }
      }
      if (d.ctx != 0) sh.expected = v->seq + uint32_t(v->payload_len);
    }
  }
  d.frame = std::move(frame);
  post(std::move(d));
  nic_.doorbell();
  return ERR_OK;
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
  auto& ring = nic_.rx_ring();
  while (!ring.empty()) {
    nic::RxCompletion c = ring.pop();
    ++stats_.rx_packets;
    if (c.resync_req && c.ctx) {
      // Deliver the NIC's guess before the packet itself goes up, so the L5P can answer when
      // its stream reaches it (§4.3 "Context recovery").
      auto it = shadows_.find(c.ctx);
      nic::OffloadStats& st = ostats_[size_t(it != shadows_.end() ? it->second.proto : l5o::L5Proto::kFramed)];
      if (it != shadows_.end() && it->second.ops) {
        ++st.rx_resync_req_start;
        it->second.ops->resync_rx_req(*c.resync_req);
      } else {
        ++st.rx_resync_req_skip;
      }
    }
    if (c.inner_resync_req && c.inner_ctx) {
      Shadow* in = shadow(c.inner_ctx);
      if (in && in->ops) {
        ++ostats_[size_t(in->proto)].rx_resync_req_start;
        in->ops->resync_rx_req(*c.inner_resync_req);
      }
    }
    if (c.frame.size() < kEthHeaderLen || load_be16(&c.frame[12]) != kEtherTypeIpv4) {
      ++stats_.rx_nontcp;
      continue;
    }
    if (c.offloaded) ++stats_.rx_offloaded_packets;
    // Trim Ethernet padding: the IP total length is authoritative.
    size_t ip_len = c.frame.size() - kEthHeaderLen;
    if (ip_len >= 4) ip_len = std::min<size_t>(ip_len, load_be16(&c.frame[kEthHeaderLen + 2]));
    c.frame.resize(kEthHeaderLen + ip_len);
    pbuf* p;
    if (!c.placed.empty()) {
      p = tcpip::make_rx_pbuf_placed(std::move(c.frame), kEthHeaderLen, c.offloaded, c.placed);
    } else {
      p = tcpip::make_rx_pbuf(std::move(c.frame), kEthHeaderLen, c.offloaded);
    }
    if (c.inner_marked)
      for (pbuf* q = p; q; q = q->next) q->flags |= tcpip::kPbufFlagInnerOk;
    if (nif_) nif_->input(p); else pbuf_free(p);
  }
}

l5o::L5oHandle Driver::create(const FlowKey& flow, l5o::Direction dir,
                              std::shared_ptr<const l5o::L5State> state, TcpSeq tcpsn,
                              l5o::L5pOps* ops) {
  CpuScope scope(meter_, host_);
  if (!state) return l5o::kNoHandle;
  const Shadow sh{state->proto, dir, flow, tcpsn, tcpsn, ops};  // before `state` is moved from
  return add_context(sh, std::move(state));
}

l5o::L5oHandle Driver::create_inner(l5o::L5oHandle outer, std::shared_ptr<const l5o::L5State> state, TcpSeq start,
                                    l5o::L5pOps* ops) {
  CpuScope scope(meter_, host_);
  const Shadow* o = shadow(outer);
  if (!state || !o || o->inner || o->outer) return l5o::kNoHandle;  // one level, one inner
  Shadow sh{state->proto, o->dir, o->flow, start, start, ops};
  sh.outer = outer;
  return add_context(sh, std::move(state));
}

l5o::L5oHandle Driver::add_context(const Shadow& s, std::shared_ptr<const l5o::L5State> state) {
  const uint32_t id = next_ctx_++;
  Shadow& sh = shadows_[id] = s;
  if (sh.outer) shadow(sh.outer)->inner = id;
  else if (sh.dir == l5o::Direction::kTx) tx_by_flow_[sh.flow] = {id, &sh};
  if (sh.dir == l5o::Direction::kRx) ++ostats_[size_t(sh.proto)].rx_sk_add;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kCtxCreate;
  d.ctx = id;
  d.dir = sh.dir;
  d.flow = sh.flow;
  d.outer = sh.outer;
  d.tcpsn = sh.start;
  d.state = std::move(state);
  post(std::move(d));
  nic_.doorbell();
  return id;
}

void Driver::destroy(l5o::L5oHandle h) {
  auto it = shadows_.find(h);
  if (it == shadows_.end()) return;
  if (Shadow* o = it->second.outer ? shadow(it->second.outer) : nullptr) o->inner = 0;
  if (Shadow* in = it->second.inner ? shadow(it->second.inner) : nullptr) in->outer = 0;
  if (it->second.dir == l5o::Direction::kTx && !it->second.outer) tx_by_flow_.erase(it->second.flow);
  else ++ostats_[size_t(it->second.proto)].rx_sk_del;
  shadows_.erase(it);
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kCtxDestroy;
  d.ctx = h;
  post(std::move(d));
  nic_.doorbell();
}

l5o::RrStateId Driver::add_rr_state(l5o::L5oHandle h, const l5o::RrState& rr) {
  if (auto it = shadows_.find(h); it != shadows_.end()) ++ostats_[size_t(it->second.proto)].rx_rr_setup;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kRrAdd;
  d.ctx = h;
  d.rr_id = next_rr_++;
  d.rr = rr;
  const uint32_t id = d.rr_id;
  post(std::move(d));
  nic_.doorbell();
  return id;
}

l5o::RrTeardown Driver::del_rr_state(l5o::L5oHandle h, l5o::RrStateId id) {
  auto it = shadows_.find(h);
  if (it != shadows_.end()) ++ostats_[size_t(it->second.proto)].rx_rr_teardown;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kRrDel;
  d.ctx = h;
  d.rr_id = id;
  post(std::move(d));
  nic_.doorbell();
  // The teardown counts only once the NIC says so: without its completion the mapping may be
  // live, and the L5P must keep the buffer and the tag (fail closed).
  l5o::RrTeardown t;
  auto& ring = nic_.cmd_ring();
  while (!ring.empty()) {
    const nic::CmdCompletion c = ring.pop();
    if (c.kind == nic::SendDesc::Kind::kRrDel && c.ctx == h && c.rr_id == id) {
      t.confirmed = c.ok;
      t.fence = c.fence;
    }
  }
  if (!t.confirmed && it != shadows_.end()) ++ostats_[size_t(it->second.proto)].rx_rr_teardown_unconfirmed;
  return t;
}

void Driver::resync_rx_resp(l5o::L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq payload_pos) {
  auto it = shadows_.find(h);
  if (it == shadows_.end()) return;
  ++ostats_[size_t(it->second.proto)].rx_resync_req_end;
  nic::SendDesc d;
  d.kind = nic::SendDesc::Kind::kRxResyncResp;
  d.ctx = h;
  d.tcpsn = tcpsn;
  d.ok = ok;
  d.msg_index = msg_index;
  d.payload_pos = payload_pos;
  post(std::move(d));
  nic_.doorbell();
}

void Driver::export_stats(CounterMap& m) const {
  add_counter(m, "drv_tx_packets", stats_.tx_packets);
  add_counter(m, "drv_rx_packets", stats_.rx_packets);
  add_counter(m, "drv_rx_offloaded_packets", stats_.rx_offloaded_packets);
  add_counter(m, "drv_tx_ring_full_drops", stats_.tx_ring_full_drops);
  add_counter(m, "drv_rx_nontcp", stats_.rx_nontcp);
}

}  // namespace autonic::driver
