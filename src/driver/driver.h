// The NIC driver (§4.1, §4.2): netif glue for lwIP, shadow offload contexts, TX
// out-of-sequence detection and recovery descriptors, RX completions -> pbufs with marks, and
// the l5o API (Listing 1) towards L5Ps.
#pragma once
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <vector>
#include <unordered_map>

#include "common/cpu_meter.h"
#include "driver/gro.h"
#include "driver/neigh.h"
#include "nic/nic.h"
#include "tcpip/lwip_glue.h"

namespace autonic::driver {

inline constexpr size_t kIpv4MinHeader = 20;  // RFC 791: IHL >= 5

struct DriverStats {
  uint64_t tx_packets = 0, rx_packets = 0, rx_offloaded_packets = 0, tx_ring_full_drops = 0;
  uint64_t rx_nontcp = 0;
  uint64_t rx_malformed = 0;  // IPv4 shorter than its minimal header, or claiming to be: dropped
  uint64_t rx_resync_req_no_ctx = 0;  // a guess for a context the L5P has destroyed since
  uint64_t cmd_ring_full = 0;  // context commands the send ring refused (creates fail, destroys retried)
  uint64_t tx_no_neigh = 0;    // real wire: no MAC known for the destination yet (ARP sent, packet dropped)
};

class Driver final : public l5o::Offload {
 public:
  Driver(nic::Nic& nic, CpuMeter* meter, CpuDomain host, std::array<uint8_t, 6> own_mac,
         std::array<uint8_t, 6> peer_mac);
  ~Driver() override;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // lwIP side. Attach after the netif exists (its input is where RX pbufs go).
  void attach_netif(tcpip::HostNetif* nif) { nif_ = nif; }
  err_t xmit(pbuf* p);  // netif->output: one IPv4 packet from lwIP
  void poll_rx();       // the NIC's interrupt: drain the completion ring

  // TSO (nic/tso.h): frames whose TCP payload exceeds the flow's wire MSS go to the NIC as one
  // super-segment to cut. lwIP has one MSS per connection, which it both segments by and (from
  // the SYN) learns from the peer: with TSO the connection's MSS is the super-segment size
  // (tcpip::HostNetif::set_tso), so the wire MSS comes from here -- the netif's MTU, and the MSS
  // option of the peer's SYN, which the driver reads as it passes (Linux keeps the two apart:
  // mss_cache and the GSO size goal).
  void enable_tso() { tso_ = true; }
  // Peer MSS entries held now (tests: bounded, and none for the usual MSS).
  size_t peer_mss_entries() const { return syn_mss_.size() + peer_mss_.size(); }
  // GRO (driver/gro.h) on each poll's batch; needs the NIC's interrupt moderation to see batches.
  void enable_gro();

  // Real wire (issue #10): resolve destinations by ARP and answer it for `own_ip`, instead of
  // the fixed peer MAC. `peer_mac`, if set, is a static entry for `peer_ip`.
  void enable_arp(uint32_t own_ip, uint32_t peer_ip, std::optional<Mac> peer_mac);
  // A static neighbour (a host on the testbed's switch, several peers): the table is made on
  // first use, with ARP answered for `own_ip` as enable_arp does.
  void add_neighbour(uint32_t own_ip, uint32_t ip, Mac mac);
  // Sends an ARP request for `ip` now (a host resolving its peer before connecting).
  void resolve(uint32_t ip);
  bool resolved(uint32_t ip) const { return neigh_ && neigh_->lookup(ip).has_value(); }

  // l5o::Offload (Listing 1)
  l5o::L5oHandle create(const FlowKey& flow, l5o::Direction dir, std::shared_ptr<const l5o::L5State> state,
                        TcpSeq tcpsn, l5o::L5pOps* ops) override;
  void destroy(l5o::L5oHandle h) override;
  l5o::RrStateId add_rr_state(l5o::L5oHandle h, const l5o::RrState& rr) override;
  l5o::RrTeardown del_rr_state(l5o::L5oHandle h, l5o::RrStateId id) override;
  void resync_rx_resp(l5o::L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index,
                      TcpSeq payload_pos = TcpSeq()) override;
  void update(l5o::L5oHandle h, std::shared_ptr<const l5o::L5State> state) override;
  l5o::L5oHandle create_inner(l5o::L5oHandle outer, std::shared_ptr<const l5o::L5State> state, TcpSeq start,
                              l5o::L5pOps* ops) override;

  const nic::OffloadStats& offload_stats(l5o::L5Proto p) const { return ostats_[size_t(p)]; }
  void export_stats(CounterMap& m) const;

 private:
  // Shadow of a NIC context (§4.2: "the driver shadows the NIC's context in software").
  struct Shadow {
    l5o::L5Proto proto;
    l5o::Direction dir;
    FlowKey flow;
    TcpSeq expected;  // TX: next tcpsn the NIC context will process
    TcpSeq start;     // first byte of the offload (create's tcpsn)
    l5o::L5pOps* ops;
    uint32_t inner = 0, outer = 0;  // composed offloads
    bool is_inner = false;          // created on an outer context (stays so if that one goes)
    std::shared_ptr<const l5o::L5State> state;  // kept to re-create the context if the NIC loses it
    bool lost = false;        // the NIC no longer holds it; re-creation pending
    bool dead = false;        // lost and refused again: frames bound to it are dropped for good
    bool resync_tx = false;   // TX: re-created: rebuild its state before the next packet (§4.2)
    // Mappings registered before rr_valid_from died with a lost context; what the NIC placed
    // through them lies before lost_fence (handed to the L5P at their teardown).
    l5o::RrStateId rr_valid_from = 0;
    std::optional<TcpSeq> lost_fence;
  };
  // A TX context the L5P destroyed: bytes from `start` on were handed to TCP for the NIC to
  // transform, so a retransmission of them must never leave as is (fail closed).
  struct Closed {
    l5o::L5Proto proto;
    TcpSeq start;
  };
  void send_raw(Bytes frame);  // an ARP frame: out as a plain packet
  void forget_flow(const FlowKey& k);  // we sent a RST: the connection is gone
  // TSO: the wire MSS for a frame of `flow` whose IPv4 + TCP headers take `hdr` bytes.
  uint16_t wire_mss(const FlowKey& flow, size_t hdr);
  void snoop_syn_mss(ByteSpan frame);  // a received SYN's MSS option (RFC 9293 §3.7.1); ACKs of our FIN
  void to_stack(pbuf* p);  // hands a received packet to lwIP (through GRO if on)
  // Posts a command (or packet); commands that must not be lost wait in deferred_ if the ring is full.
  void post(nic::SendDesc&& d);
  // Rings the doorbell, reads back the NIC's completions and events, re-creates lost contexts.
  void ring_doorbell();
  void collect_cmds();
  void on_ctx_lost(const nic::CmdCompletion& ev);
  void restore_lost();
  void restore(uint32_t id);
  // The L5P hears of a context gone for good from an lwIP timeout, outside lwIP's call path
  // (the loss is found while lwIP is sending: it must not call back into TCP from there).
  void notify_lost(uint32_t id);
  static void deliver_lost(void* self);
  // Posts a create command and waits for the NIC's answer.
  bool nic_create(uint32_t id, const Shadow& s);
  // Posts a command the driver waits for and returns the NIC's completion (nullopt: none --
  // the ring refused the command, or the NIC did not answer).
  std::optional<nic::CmdCompletion> submit_and_wait(nic::SendDesc&& d);
  // xmit for a frame of a flow with a TX context: sets d.ctx, or returns false to drop it.
  bool bind_tx(const TcpFrameView& v, uint32_t id, Shadow& sh, nic::SendDesc& d);
  // A frame not bound to a live context that carries bytes meant for one: dropped.
  bool unbound_must_drop(const TcpFrameView& v);
  // Registers a shadow (linking it to its outer one, if any) once the NIC confirmed its context.
  l5o::L5oHandle add_context(Shadow s);
  // TX recovery of an inner context, at the inner-stream position where the outer message
  // being recovered begins its payload.
  void recover_inner(const Shadow& outer, TcpSeq payload_pos, nic::SendDesc& r);
  Shadow* shadow(uint32_t id) {
    auto it = shadows_.find(id);
    return it == shadows_.end() ? nullptr : &it->second;
  }

  nic::Nic& nic_;
  CpuMeter* meter_;
  CpuDomain host_;
  std::array<uint8_t, 6> own_mac_, peer_mac_;
  tcpip::HostNetif* nif_ = nullptr;
  std::unique_ptr<Neighbours> neigh_;  // real wire only
  // A control segment (SYN-ACK, ACK, FIN, RST) waiting for its destination's ARP reply, one per
  // destination (the last), as Linux's neighbour queue keeps a few: a peer that has us in its
  // ARP cache connects without asking, and its SYN-ACK must not wait for the SYN retransmission.
  // Data segments are not kept (TCP retransmits them; they may be bound to an offload context).
  std::unordered_map<uint32_t, Bytes> unresolved_;
  void send_unresolved(uint32_t ip);
  std::unordered_map<uint32_t, Shadow> shadows_;
  // TX flow -> (context id, its shadow); shadows_ is node-based, so the pointer stays valid.
  std::unordered_map<FlowKey, std::pair<uint32_t, Shadow*>, FlowKeyHash> tx_by_flow_;
  std::unordered_map<FlowKey, Closed, FlowKeyHash> tx_closed_;
  std::deque<nic::SendDesc> deferred_;        // destroys the full ring refused, retried first
  std::vector<nic::CmdCompletion> done_;      // command completions not yet taken
  std::vector<uint32_t> lost_;                // contexts to re-create
  bool restoring_ = false;
  std::vector<uint32_t> lost_notify_;
  bool notify_armed_ = false;
  bool tso_ = false;
  // The MSS a peer announced below what our MTU gives (RFC 9293 §3.7.1), by our TX flow: TSO cuts
  // that flow's segments to it. A SYN's goes to syn_mss_, a bounded table (a SYN flood's
  // half-open connections, which lwIP drops without a RST, churn only it); the flow's first data
  // moves it to peer_mss_, where it stays until our FIN is acknowledged (nothing of the flow is
  // sent after) or our RST. Before, every SYN's MSS stayed until a RST of ours: one entry per
  // SYN received, for the life of the host.
  struct PeerMss {
    uint16_t mss = 0;
    bool fin_sent = false;
    TcpSeq fin_end;  // the sequence number after our FIN
  };
  static constexpr size_t kMaxSynMss = 4096;
  std::unordered_map<FlowKey, uint16_t, FlowKeyHash> syn_mss_;
  std::unordered_map<FlowKey, PeerMss, FlowKeyHash> peer_mss_;
  void track_fin(const TcpFrameView& v);  // our FIN leaves: remember where it ends
  std::unique_ptr<Gro> gro_;
  uint32_t next_ctx_ = 1;
  uint32_t next_rr_ = 1;
  DriverStats stats_;
  std::array<nic::OffloadStats, l5o::kL5ProtoCount> ostats_{};
};

}  // namespace autonic::driver
