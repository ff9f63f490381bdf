#include "tcpip/lwip_glue.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "common/buf_pool.h"
#include "common/rng.h"
#include "tcpip/pcb_hash.h"

namespace {
const autonic::Clock* g_clock = nullptr;  // lwIP's sys_now() hook needs a global
uint64_t g_isn_seed = 0;
bool g_started = false;
}  // namespace

extern "C" u32_t sys_now(void) { return g_clock ? u32_t(g_clock->now() / 1'000'000ull) : 0; }

extern "C" unsigned int autonic_tcp_isn(const void* lip, unsigned short lport, const void* rip,
                                        unsigned short rport) {
  uint32_t l = 0, r = 0;
  std::memcpy(&l, lip, 4);
  std::memcpy(&r, rip, 4);
  return unsigned(autonic::splitmix64(g_isn_seed ^ (uint64_t(l) << 32 | r) ^
                                      (uint64_t(lport) << 16 | rport) * 0x9E3779B97F4A7C15ull));
}

namespace autonic::tcpip {

void lwip_start(const Clock* clock, uint64_t seed) {
  if (g_started) throw std::logic_error("lwIP already started in this process");
  g_clock = clock;
  g_isn_seed = splitmix64(seed ^ 0x15Eull);
  lwip_init();
  g_started = true;
}

namespace {
// Frees a pcb without a word to the peer: no RST (the wire and the NIC it would go through may
// already be gone), no callback (its owner is gone).
void drop_pcb(tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  tcp_recv(pcb, nullptr);
  tcp_sent(pcb, nullptr);
  tcp_err(pcb, nullptr);
  tcp_poll(pcb, nullptr, 0);
  tcp_abandon(pcb, 0);  // frees it, unlinked from its list
}
}  // namespace

// What a run leaves behind -- pcbs in TIME_WAIT or still closing, pending timeouts -- is thrown
// away, so that lwip_start can bring lwIP up again in the same process (a fuzzer runs thousands
// of testbeds in one). The owners of those pcbs are gone: their callbacks are cut first.
void lwip_stop() {
  if (!g_started) return;
  pcb_hash_set_buckets(1);  // lwIP's own lists again, holding every pcb
  while (tcp_active_pcbs) drop_pcb(tcp_active_pcbs);
  while (tcp_tw_pcbs) drop_pcb(tcp_tw_pcbs);
  while (tcp_bound_pcbs) drop_pcb(tcp_bound_pcbs);
  while (tcp_listen_pcbs.listen_pcbs) {
    tcp_pcb_listen* l = tcp_listen_pcbs.listen_pcbs;
    tcp_arg(reinterpret_cast<tcp_pcb*>(l), nullptr);
    tcp_close(reinterpret_cast<tcp_pcb*>(l));
  }
  // Timeouts: the TCP timer's handler, run once with no pcb left, clears lwIP's private "TCP
  // timer active" flag (else no later run would ever get TCP timers); the rest are dropped.
  sys_timeo** head = sys_timeouts_get_next_timeout();
  while (sys_timeo* t = *head) {
    *head = t->next;
    const sys_timeout_handler h = t->h;
    void* arg = t->arg;
    memp_free(MEMP_SYS_TIMEOUT, t);
    if (h != lwip_cyclic_timer) h(arg);
  }
  while (sys_timeo* t = *head) {  // what that handler may have re-armed
    *head = t->next;
    memp_free(MEMP_SYS_TIMEOUT, t);
  }
  g_clock = nullptr;
  g_started = false;
}

Nanos lwip_run_timers() {
  if (sys_timeouts_sleeptime() == 0) {
    PcbScope all(kAllPcbs);  // tcp_slowtmr / tcp_fasttmr walk every connection (pcb_hash.h)
    sys_check_timeouts();
  }
  const u32_t ms = sys_timeouts_sleeptime();
  const Nanos now = g_clock->now();
  if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return now + 1'000'000'000ull;
  // lwIP counts in whole ms of sys_now(): the next timer is due at a ms boundary.
  return (now / 1'000'000ull + ms) * 1'000'000ull;
}

namespace {
struct RxPbuf {
  pbuf_custom pc;
  Bytes frame;
};
void free_rx_pbuf(pbuf* p) {
  auto* rp = reinterpret_cast<RxPbuf*>(p);
  frame_pool().give(rp->frame);  // the buffer back to the NIC's pool (common/buf_pool.h)
  delete rp;
}
}  // namespace

pbuf* make_rx_pbuf(Bytes&& frame, size_t offset, bool offloaded) {
  auto* rp = new RxPbuf{};
  rp->frame = std::move(frame);
  rp->pc.custom_free_function = free_rx_pbuf;
  const u16_t len = u16_t(rp->frame.size() - offset);
  pbuf* p = pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, &rp->pc, rp->frame.data() + offset, len);
  if (offloaded) p->flags |= kPbufFlagOffloaded;
  return p;
}

namespace {
// make_rx_pbuf_chain: one allocation holds the frame and every pbuf of its chain -- the frame
// pieces between the cuts, and the placed ranges, whose payload is the L5P's own buffer where
// the NIC already wrote the bytes. (A driver builds such an skb from page fragments at the cost
// of a plain one; a heap allocation per piece would charge the host for the model's
// bookkeeping.)
struct ChainPiece {
  pbuf_custom pc;  // first: lwIP hands this address back as the pbuf
  struct PieceChain* chain;
  bool placed;
};
struct PieceChain {
  static constexpr size_t kMaxPieces = 20;
  Bytes frame;
  size_t live = 0;
  std::array<ChainPiece, kMaxPieces> pieces;
};
void free_chain_piece(pbuf* p) {
  PieceChain* c = reinterpret_cast<ChainPiece*>(p)->chain;
  if (--c->live > 0) return;
  frame_pool().give(c->frame);
  delete c;
}
}  // namespace

bool is_placed(const pbuf* p) {
  return (p->flags & PBUF_FLAG_IS_CUSTOM) != 0 &&
         reinterpret_cast<const pbuf_custom*>(p)->custom_free_function == free_chain_piece &&
         reinterpret_cast<const ChainPiece*>(p)->placed;
}

pbuf* make_rx_pbuf_chain(Bytes&& frame, size_t offset, const RxFrameMarks& marks, const std::vector<PlacedRange>& placed) {
  // Pieces: at most one per placed range, one before each, one after the last, and the two mark
  // cuts. More ranges than a chain holds (tiny PDUs in a jumbo frame): the placements are left
  // out and the L5P copies those bytes itself (the frame holds them too).
  // Placements only from marked bytes: the NIC never reports others, and an unmarked packet's
  // bytes are the wire's.
  const bool use_placed = marks.offloaded && 2 * placed.size() + 3 <= PieceChain::kMaxPieces;
  if (marks.whole() && (placed.empty() || !use_placed)) {
    pbuf* p = make_rx_pbuf(std::move(frame), offset, marks.offloaded);
    if (marks.inner) p->flags |= kPbufFlagInnerOk;
    return p;
  }
  auto* c = new PieceChain;
  c->frame = std::move(frame);
  const size_t end = c->frame.size();
  pbuf* head = nullptr;
  auto append = [&](uint8_t* data, size_t pos, size_t len, bool is_placed_range) {
    ChainPiece& piece = c->pieces[c->live++];
    piece.chain = c;
    piece.placed = is_placed_range;
    piece.pc.custom_free_function = free_chain_piece;
    pbuf* q = pbuf_alloced_custom(PBUF_RAW, u16_t(len), PBUF_REF, &piece.pc, data, u16_t(len));
    q->flags |= marks.flags_at(pos);
    if (!head) head = q; else pbuf_cat(head, q);
  };
  // Appends frame bytes [pos, to), cut where a mark begins.
  auto append_frame = [&](size_t pos, size_t to) {
    const size_t a = marks.offloaded ? marks.from : 0, b = marks.inner ? marks.inner_from : 0;
    for (size_t cut : {std::min(a, b), std::max(a, b)}) {
      if (cut <= pos || cut >= to) continue;
      append(c->frame.data() + pos, pos, cut - pos, false);
      pos = cut;
    }
    if (pos < to) append(c->frame.data() + pos, pos, to - pos, false);
  };
  size_t pos = offset;
  for (const PlacedRange& r : placed) {
    if (!use_placed) break;
    if (r.off < pos || r.off + r.len > end || r.off < marks.from || r.off < marks.inner_from) continue;
    append_frame(pos, r.off);
    append(r.dst, r.off, r.len, true);
    pos = r.off + r.len;
  }
  append_frame(pos, end);
  return head;
}

static err_t netif_init_cb(netif* n) {
  n->name[0] = 'a';
  n->name[1] = 'n';
  n->output = nullptr;  // set by HostNetif
  return ERR_OK;
}

HostNetif::HostNetif(uint32_t ip_be, uint16_t mtu, bool hw_csum, Output out) : out_(std::move(out)) {
  ip4_addr_t ip, mask, gw;
  ip.addr = lwip_htonl(ip_be);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  ip4_addr_set_zero(&gw);
  if (!netif_add(&nif_, &ip, &mask, &gw, this, netif_init_cb, ip_input))
    throw std::runtime_error("netif_add failed");
  nif_.output = output_trampoline;
  nif_.mtu = mtu;
  nif_.flags |= NETIF_FLAG_LINK_UP | NETIF_FLAG_UP;
  if (hw_csum)
    NETIF_SET_CHECKSUM_CTRL(&nif_, NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_CHECK_IP |
                                       NETIF_CHECKSUM_GEN_ICMP | NETIF_CHECKSUM_CHECK_ICMP);
  else
    NETIF_SET_CHECKSUM_CTRL(&nif_, NETIF_CHECKSUM_ENABLE_ALL);
  netif_set_up(&nif_);
  netif_set_link_up(&nif_);
}

HostNetif::~HostNetif() {
  // netif_remove aborts the pcbs still using this interface with a RST sent through it -- into
  // a driver, NIC and wire being torn down. Connections outliving their owners end silently.
  auto mine = [this](tcp_pcb* p) { return ip_addr_cmp(&p->local_ip, &nif_.ip_addr) || p->netif_idx == netif_get_index(&nif_); };
  PcbScope all(kAllPcbs);
  for (tcp_pcb** list : {&tcp_active_pcbs, &tcp_tw_pcbs}) {
    for (tcp_pcb* p = *list; p;) {
      tcp_pcb* next = p->next;
      if (mine(p)) drop_pcb(p);
      p = next;
    }
  }
  netif_remove(&nif_);
}

void HostNetif::set_prefix(uint8_t prefix_len) {
  ip4_addr_t mask;
  mask.addr = lwip_htonl(prefix_len == 0 ? 0u : ~0u << (32 - std::min<uint8_t>(prefix_len, 32)));
  netif_set_netmask(&nif_, &mask);
}

err_t HostNetif::output_trampoline(netif* n, pbuf* p, const ip4_addr_t*) {
  return static_cast<HostNetif*>(n->state)->out_(p);
}

uint32_t HostNetif::tso_of(const tcp_pcb* pcb) {
  netif* n = netif_get_by_index(pcb->netif_idx);
  if (!n || n->output != output_trampoline) return 0;  // ours: its state is the HostNetif
  return static_cast<const HostNetif*>(n->state)->tso_;
}

void HostNetif::input(pbuf* p) {
  // lwIP's lists are the segment's bucket while tcp_input demultiplexes it (pcb_hash.h).
  PcbScope lists(p);
  demux_.on_input(p, &nif_);
  if (nif_.input(p, &nif_) != ERR_OK) pbuf_free(p);
}

}  // namespace autonic::tcpip
