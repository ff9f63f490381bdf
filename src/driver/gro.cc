#include "driver/gro.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/inet_csum.h"

namespace autonic::driver {

namespace {
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;
uint8_t* ip_of(pbuf* p) { return static_cast<uint8_t*>(p->payload); }
}  // namespace

// The fields of one received TCP/IPv4 packet GRO looks at, read from its first pbuf.
struct Gro::Seg {
  const uint8_t* ip;
  size_t ihl, thl, ip_len, payload;
  FlowKey key;
  TcpSeq seq;
  uint8_t flags, marks;
  bool split;  // its pbufs carry different marks (a mark begins inside it): goes up alone

  static std::optional<Seg> parse(const pbuf* p) {
    if (p->len < 20) return std::nullopt;
    const auto* ip = static_cast<const uint8_t*>(p->payload);
    Seg s{ip, size_t(ip[0] & 0x0F) * 4, 0, load_be16(ip + 2), 0, {}, {}, 0, 0, false};
    if ((ip[0] >> 4) != 4 || s.ihl < 20 || ip[9] != 6 || (load_be16(ip + 6) & 0x3FFF) != 0) return std::nullopt;
    if (p->len < s.ihl + 20 || s.ip_len > p->tot_len) return std::nullopt;
    const uint8_t* tcp = ip + s.ihl;
    s.thl = size_t(tcp[12] >> 4) * 4;
    if (s.thl < 20 || p->len < s.ihl + s.thl || s.ip_len < s.ihl + s.thl) return std::nullopt;
    s.payload = s.ip_len - s.ihl - s.thl;
    s.key = FlowKey{load_be32(ip + 12), load_be32(ip + 16), load_be16(tcp), load_be16(tcp + 2)};
    s.seq = TcpSeq(load_be32(tcp + 4));
    s.flags = tcp[13];
    s.marks = p->flags & kMarkFlags;
    for (const pbuf* q = p->next; q && !s.split; q = q->next) s.split = (q->flags & kMarkFlags) != s.marks;
    return s;
  }
  // Plain in-order data: the only kind that is merged.
  bool data() const { return payload > 0 && !split && (flags & kAck) && !(flags & (kFin | kSyn | kRst | kUrg)); }
  const uint8_t* tcp() const { return ip + ihl; }
};

Gro::~Gro() {
  for (Held& h : held_) pbuf_free(h.head);
}

bool Gro::can_join(const Held& h, const Seg& s) const {
  const uint8_t* hip = ip_of(h.head);
  const size_t hihl = size_t(hip[0] & 0x0F) * 4;
  const uint8_t* htcp = hip + hihl;
  const size_t hthl = size_t(htcp[12] >> 4) * 4;
  return s.data() && s.seq == h.next && s.marks == (h.head->flags & kMarkFlags) && h.ip_len + s.payload <= max_len_ &&
         hihl == s.ihl && hthl == s.thl &&
         hip[1] == s.ip[1] && hip[8] == s.ip[8] && load_be16(hip + 6) == load_be16(s.ip + 6) &&  // TOS, TTL, DF
         std::memcmp(htcp + 8, s.tcp() + 8, 4) == 0 &&                                          // ACK number
         std::memcmp(htcp + 20, s.tcp() + 20, s.thl - 20) == 0 &&                               // options
         (hihl == 20 || std::memcmp(hip + 20, s.ip + 20, hihl - 20) == 0);
}

void Gro::receive(pbuf* p) {
  const std::optional<Seg> s = Seg::parse(p);
  if (!s) return deliver_(p);
  auto it = std::find_if(held_.begin(), held_.end(), [&](const Held& h) { return h.key == s->key; });
  if (it != held_.end() && can_join(*it, *s)) {
    uint8_t* htcp = ip_of(it->head) + s->ihl;
    std::memcpy(htcp + 14, s->tcp() + 14, 2);  // the newest window
    htcp[13] |= s->flags & kPsh;
    const uint8_t flags = s->flags;
    pbuf* tail = pbuf_free_header(p, u16_t(s->ihl + s->thl));  // the payload, in its own pbufs
    it->last->next = tail;
    while (it->last->next) it->last = it->last->next;
    it->ip_len += s->payload;
    it->payload += s->payload;
    store_be16(ip_of(it->head) + 2, uint16_t(it->ip_len));
    it->next = it->next + uint32_t(s->payload);
    ++it->packets;
    if (flags & kPsh) {  // the sender's mark of a message end: nothing joins after it
      Held h = *it;
      held_.erase(it);
      up(h);
    }
    return;
  }
  if (it != held_.end()) {
    if (s->payload > 0 && s->seq == it->next && (s->split || s->marks != (it->head->flags & kMarkFlags)))
      ++st_.rx_gro_flush_mark;
    Held h = *it;
    held_.erase(it);
    up(h);
  }
  if (!s->data() || (s->flags & kPsh)) return deliver_(p);
  if (held_.size() >= kMaxFlows) {
    Held h = held_.front();
    held_.erase(held_.begin());
    up(h);
  }
  pbuf* last = p;
  while (last->next) last = last->next;
  held_.push_back(Held{s->key, p, last, s->seq + uint32_t(s->payload), s->ip_len, s->payload, 1});
}

void Gro::up(Held& h) {
  if (h.packets > 1) {
    size_t rest = h.ip_len;  // lwIP's invariant: each pbuf's tot_len covers it and all after it
    for (pbuf* q = h.head; q; q = q->next) {
      q->tot_len = u16_t(rest);
      rest -= q->len;
    }
    ipv4_set_header_checksum(ip_of(h.head));  // lwIP checks it (NETIF_CHECKSUM_CHECK_IP)
    st_.rx_gro_packets += h.packets;
    ++st_.rx_gro_skbs;
    st_.rx_gro_bytes += h.payload;
  }
  deliver_(h.head);
}

void Gro::flush() {
  // Swapped out first: lwIP's input may end in callbacks that receive more (never here today).
  std::vector<Held> held;
  held.swap(held_);
  for (Held& h : held) up(h);
}

void Gro::export_stats(CounterMap& m) const {
  add_counter(m, "drv_rx_gro_packets", st_.rx_gro_packets);
  add_counter(m, "drv_rx_gro_skbs", st_.rx_gro_skbs);
  add_counter(m, "drv_rx_gro_bytes", st_.rx_gro_bytes);
  add_counter(m, "drv_rx_gro_flush_mark", st_.rx_gro_flush_mark);
}

}  // namespace autonic::driver
