#include "tcpip/pcb_hash.h"

#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/bytes.h"
#include "common/rng.h"

namespace autonic::tcpip {

namespace {
struct Lists {
  tcp_pcb* active = nullptr;
  tcp_pcb* tw = nullptr;
};
// Empty when hashing is off (one bucket: lwIP's own heads are the only lists). Otherwise the
// bucket `g_loaded` lives in lwIP's heads and its entry here is stale until it is unloaded.
std::vector<Lists> g_buckets;
size_t g_mask = 0;
size_t g_loaded = 0;
int g_all_depth = 0;          // nested all-pcbs scopes: the heads hold every pcb
std::vector<tcp_pcb**> g_tails;  // split scratch, one per bucket

size_t bucket_of(const PcbTuple& t) {
  const uint64_t a = uint64_t(t.local_ip) << 32 | t.remote_ip;
  const uint64_t b = uint64_t(t.local_port) << 16 | t.remote_port;
  return size_t(splitmix64(a ^ b * 0x9E3779B97F4A7C15ull)) & g_mask;
}

void load(size_t b) {
  if (b == g_loaded) return;
  g_buckets[g_loaded] = Lists{tcp_active_pcbs, tcp_tw_pcbs};
  tcp_active_pcbs = g_buckets[b].active;
  tcp_tw_pcbs = g_buckets[b].tw;
  g_loaded = b;
}

// Every bucket's list chained into one (bucket order, each bucket's own order kept).
tcp_pcb* chain(tcp_pcb* Lists::*which) {
  tcp_pcb* head = nullptr;
  tcp_pcb** tail = &head;
  for (Lists& l : g_buckets) {
    *tail = l.*which;
    l.*which = nullptr;
    while (*tail) tail = &(*tail)->next;
  }
  return head;
}

void split(tcp_pcb* head, tcp_pcb* Lists::*which) {
  g_tails.resize(g_buckets.size());
  for (size_t b = 0; b < g_buckets.size(); ++b) g_tails[b] = &(g_buckets[b].*which);
  for (tcp_pcb* p = head; p;) {
    tcp_pcb* next = p->next;
    const size_t b = bucket_of(tuple_of(p));
    *g_tails[b] = p;
    g_tails[b] = &p->next;
    p = next;
  }
  for (tcp_pcb** t : g_tails) *t = nullptr;
}

void merge_all() {
  g_buckets[g_loaded] = Lists{tcp_active_pcbs, tcp_tw_pcbs};
  tcp_active_pcbs = chain(&Lists::active);
  tcp_tw_pcbs = chain(&Lists::tw);
}

void split_all() {
  split(tcp_active_pcbs, &Lists::active);
  split(tcp_tw_pcbs, &Lists::tw);
  tcp_active_pcbs = g_buckets[g_loaded].active;
  tcp_tw_pcbs = g_buckets[g_loaded].tw;
}
}  // namespace

PcbTuple tuple_of(const tcp_pcb* pcb) {
  return PcbTuple{ip_2_ip4(&pcb->local_ip)->addr, ip_2_ip4(&pcb->remote_ip)->addr, pcb->local_port,
                  pcb->remote_port};
}

bool segment_tuple(const pbuf* p, PcbTuple* out) {
  const auto* ip = static_cast<const uint8_t*>(p->payload);
  if (p->len < 20 || (ip[0] >> 4) != 4 || ip[9] != 6) return false;
  // A fragment's ports are not where a whole segment's are (and lwIP, built without
  // IP_REASSEMBLY, drops it anyway): it meets every pcb, as in lwIP alone.
  if ((load_be16(ip + 6) & 0x3FFF) != 0) return false;
  const size_t ihl = size_t(ip[0] & 0x0f) * 4;
  if (ihl < 20 || p->len < ihl + 4) return false;
  std::memcpy(&out->remote_ip, ip + 12, 4);
  std::memcpy(&out->local_ip, ip + 16, 4);
  out->remote_port = load_be16(ip + ihl);
  out->local_port = load_be16(ip + ihl + 2);
  return true;
}

void pcb_hash_set_buckets(size_t n) {
  if (n == 0 || (n & (n - 1)) != 0) throw std::invalid_argument("pcb hash buckets: a power of two");
  if (g_all_depth != 0) throw std::logic_error("pcb hash resized inside an all-pcbs scope");
  if (!g_buckets.empty()) {
    merge_all();  // lwIP's heads now hold every pcb, as with one bucket
    g_buckets.clear();
    g_loaded = 0;
  }
  if (n == 1) return;
  tcp_pcb* active = tcp_active_pcbs;
  tcp_pcb* tw = tcp_tw_pcbs;
  g_buckets.assign(n, Lists{});
  g_mask = n - 1;
  g_loaded = 0;
  split(active, &Lists::active);
  split(tw, &Lists::tw);
  tcp_active_pcbs = g_buckets[0].active;
  tcp_tw_pcbs = g_buckets[0].tw;
}

size_t pcb_hash_buckets() { return g_buckets.empty() ? 1 : g_buckets.size(); }

PcbScope::PcbScope(const PcbTuple& t) {
  if (!g_buckets.empty() && g_all_depth == 0) enter_bucket(t);
}

PcbScope::PcbScope(AllPcbs) {
  if (!g_buckets.empty()) enter_all();
}

PcbScope::PcbScope(const pbuf* received) {
  if (g_buckets.empty() || g_all_depth != 0) return;
  // Anything else never reaches the TCP lists: lwIP drops fragments (built without
  // IP_REASSEMBLY) and non-IPv4 packets in ip4_input, and a TCP segment shorter than its header
  // in tcp_input before the walk (our test is the looser one); UDP / ICMP do not touch TCP
  // pcbs. So it needs no bucket -- and a hostile peer's junk costs no O(connections) chaining.
  if (PcbTuple t; segment_tuple(received, &t)) enter_bucket(t);
}

void PcbScope::enter_bucket(const PcbTuple& t) {
  mode_ = Mode::kBucket;
  prev_ = g_loaded;
  load(bucket_of(t));
}

void PcbScope::enter_all() {
  mode_ = Mode::kAll;
  if (g_all_depth++ == 0) merge_all();
}

PcbScope::~PcbScope() {
  switch (mode_) {
    case Mode::kNone: return;
    case Mode::kBucket: load(prev_); return;
    case Mode::kAll:
      if (--g_all_depth == 0) split_all();
      return;
  }
}

}  // namespace autonic::tcpip
