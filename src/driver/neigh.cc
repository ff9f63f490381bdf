#include "driver/neigh.h"

#include <cstring>

#include "common/frame.h"

namespace autonic::driver {
namespace {
constexpr size_t kArpLen = 28;  // Ethernet/IPv4 ARP: htype, ptype, hlen, plen, oper, sha, spa, tha, tpa
constexpr uint16_t kOpRequest = 1, kOpReply = 2;
constexpr Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
}  // namespace

void Neighbours::add_static(uint32_t ip, Mac mac) { table_[ip] = Entry{mac, true}; }

std::optional<Mac> Neighbours::lookup(uint32_t ip) const {
  auto it = table_.find(ip);
  if (it == table_.end()) return std::nullopt;
  return it->second.mac;
}

void Neighbours::learn(uint32_t ip, const Mac& mac, bool may_add) {
  auto it = table_.find(ip);
  if (it != table_.end()) {
    if (!it->second.is_static) it->second.mac = mac;
    return;
  }
  if (!may_add) return;
  if (table_.size() >= kMaxEntries) {
    ++st_.arp_table_full;
    return;
  }
  table_[ip] = Entry{mac, false};
}

std::optional<Bytes> Neighbours::on_arp(ByteSpan frame) {
  ++st_.arp_rx;
  if (frame.size() < kEthHeaderLen + kArpLen) {
    ++st_.arp_bad;
    return std::nullopt;
  }
  const uint8_t* a = frame.data() + kEthHeaderLen;
  if (load_be16(a) != 1 || load_be16(a + 2) != kEtherTypeIpv4 || a[4] != 6 || a[5] != 4) {
    ++st_.arp_bad;
    return std::nullopt;
  }
  const uint16_t oper = load_be16(a + 6);
  Mac sha;
  std::memcpy(sha.data(), a + 8, 6);
  const uint32_t spa = load_be32(a + 14), tpa = load_be32(a + 24);
  const bool for_us = tpa == own_ip_;
  if (spa != 0 && !(sha[0] & 1)) learn(spa, sha, for_us);  // never learn a group address
  if (oper != kOpRequest || !for_us) return std::nullopt;
  ++st_.arp_replies;
  return arp_frame(kOpReply, sha, sha, spa);
}

Bytes Neighbours::request(uint32_t ip) {
  ++st_.arp_requests;
  return arp_frame(kOpRequest, kBroadcast, Mac{}, ip);
}

Bytes Neighbours::arp_frame(uint16_t oper, const Mac& eth_dst, const Mac& tha, uint32_t tpa) const {
  Bytes f(kEthHeaderLen + kArpLen);
  std::memcpy(f.data(), eth_dst.data(), 6);
  std::memcpy(f.data() + 6, own_mac_.data(), 6);
  store_be16(f.data() + 12, kEtherTypeArp);
  uint8_t* a = f.data() + kEthHeaderLen;
  store_be16(a, 1);
  store_be16(a + 2, kEtherTypeIpv4);
  a[4] = 6;
  a[5] = 4;
  store_be16(a + 6, oper);
  std::memcpy(a + 8, own_mac_.data(), 6);
  store_be32(a + 14, own_ip_);
  std::memcpy(a + 18, tha.data(), 6);
  store_be32(a + 24, tpa);
  return f;
}

void Neighbours::export_stats(CounterMap& m) const {
  add_counter(m, "drv_arp_rx", st_.arp_rx);
  add_counter(m, "drv_arp_bad", st_.arp_bad);
  add_counter(m, "drv_arp_replies", st_.arp_replies);
  add_counter(m, "drv_arp_requests", st_.arp_requests);
  add_counter(m, "drv_arp_table_full", st_.arp_table_full);
}

}  // namespace autonic::driver
