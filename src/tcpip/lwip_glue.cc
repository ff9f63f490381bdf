#include "tcpip/lwip_glue.h"

#include <cstring>
#include <stdexcept>

#include "common/rng.h"

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

void lwip_stop() { g_clock = nullptr; }

Nanos lwip_run_timers() {
  sys_check_timeouts();
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
void free_rx_pbuf(pbuf* p) { delete reinterpret_cast<RxPbuf*>(p); }
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
struct SharedRxPbuf {
  pbuf_custom pc;
  std::shared_ptr<Bytes> frame;
};
void free_shared_rx_pbuf(pbuf* p) { delete reinterpret_cast<SharedRxPbuf*>(p); }
pbuf* frame_piece(const std::shared_ptr<Bytes>& f, size_t from, size_t len) {
  auto* sp = new SharedRxPbuf{};
  sp->frame = f;
  sp->pc.custom_free_function = free_shared_rx_pbuf;
  return pbuf_alloced_custom(PBUF_RAW, u16_t(len), PBUF_REF, &sp->pc, f->data() + from, u16_t(len));
}
}  // namespace

namespace {
// DDP: a pbuf whose payload is the L5P's own buffer, where the NIC already wrote the bytes.
struct PlacedPbuf {
  pbuf_custom pc;
};
void free_placed_pbuf(pbuf* p) { delete reinterpret_cast<PlacedPbuf*>(p); }
}  // namespace

bool is_placed(const pbuf* p) {
  return (p->flags & PBUF_FLAG_IS_CUSTOM) != 0 &&
         reinterpret_cast<const pbuf_custom*>(p)->custom_free_function == free_placed_pbuf;
}

pbuf* make_rx_pbuf_placed(Bytes&& frame, size_t offset, bool offloaded, const std::vector<PlacedRange>& placed) {
  auto f = std::make_shared<Bytes>(std::move(frame));
  pbuf* head = nullptr;
  auto append = [&](pbuf* q) {
    if (offloaded) q->flags |= kPbufFlagOffloaded;
    if (!head) head = q; else pbuf_cat(head, q);
  };
  size_t pos = offset;
  for (const PlacedRange& r : placed) {
    if (r.off > pos) append(frame_piece(f, pos, r.off - pos));
    auto* pp = new PlacedPbuf{};
    pp->pc.custom_free_function = free_placed_pbuf;
    append(pbuf_alloced_custom(PBUF_RAW, u16_t(r.len), PBUF_REF, &pp->pc, r.dst, u16_t(r.len)));
    pos = r.off + r.len;
  }
  if (pos < f->size()) append(frame_piece(f, pos, f->size() - pos));
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

HostNetif::~HostNetif() { netif_remove(&nif_); }

err_t HostNetif::output_trampoline(netif* n, pbuf* p, const ip4_addr_t*) {
  return static_cast<HostNetif*>(n->state)->out_(p);
}

void HostNetif::input(pbuf* p) {
  if (nif_.input(p, &nif_) != ERR_OK) pbuf_free(p);
}

}  // namespace autonic::tcpip
