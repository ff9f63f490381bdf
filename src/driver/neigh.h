// Neighbour resolution for a host on a real Ethernet (issue #10). lwIP runs with LWIP_ARP 0 and
// LWIP_ETHERNET 0 (its netif carries bare IPv4), so the driver, which writes the Ethernet header,
// keeps the IPv4 -> MAC table: it answers ARP requests for our address and resolves the peers we
// send to (RFC 826). On the simulated wire both MACs are fixed and this is not used.
#pragma once
#include <array>
#include <optional>
#include <unordered_map>

#include "common/bytes.h"
#include "common/counters.h"

namespace autonic::driver {

using Mac = std::array<uint8_t, 6>;

struct NeighStats {
  uint64_t arp_rx = 0, arp_bad = 0, arp_replies = 0, arp_requests = 0, arp_table_full = 0;
};

class Neighbours {
 public:
  // A table bounded against a peer flooding ARP from made-up addresses.
  static constexpr size_t kMaxEntries = 256;
  static constexpr uint16_t kEtherTypeArp = 0x0806;

  Neighbours(uint32_t own_ip, Mac own_mac) : own_ip_(own_ip), own_mac_(own_mac) {}
  // A static entry (--peer-mac): never replaced by what ARP says.
  void add_static(uint32_t ip, Mac mac);
  // An ARP frame from the wire: learns the sender (RFC 826's merge) and returns the reply when it
  // asks for our address. Malformed frames are counted and ignored.
  std::optional<Bytes> on_arp(ByteSpan frame);
  std::optional<Mac> lookup(uint32_t ip) const;
  // A broadcast "who has ip" from us.
  Bytes request(uint32_t ip);
  void export_stats(CounterMap& m) const;

 private:
  Bytes arp_frame(uint16_t oper, const Mac& eth_dst, const Mac& tha, uint32_t tpa) const;
  void learn(uint32_t ip, const Mac& mac, bool may_add);
  struct Entry {
    Mac mac;
    bool is_static;
  };
  uint32_t own_ip_;
  Mac own_mac_;
  std::unordered_map<uint32_t, Entry> table_;
  NeighStats st_;
};

}  // namespace autonic::driver
