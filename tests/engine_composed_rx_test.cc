// Composed RX offload, exhaustively over small scopes (NVMe/TCP inside TLS, paper §5.3): every
// drop / reorder pattern of up to six packets over TLS records that cut through NVMe PDUs, one
// of which carries a wrong data digest inside a valid record. The NIC's TLS context decrypts, its
// inner NVMe context checks digests in payload coordinates, and each recovers on its own --
// resync requests answered by the TLS record layer and by an NVMe parser, as the driver routes
// them. Invariants: a packet TLS marked carries exactly the plaintext view, an unmarked one the
// wire bytes; the application gets every PDU byte; no PDU whose bytes all carried the inner
// (crc_ok) mark has a wrong digest; and both offloads run again once packets flow in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "composed_fixture.h"
#include "l5p/common/rx_resync_answerer.h"
#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_sw.h"
#include "l5p/tls/tls_tx.h"
#include "nic/engine/inner_engine.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "nic/plugins/tls/tls_plugin.h"
#include "proto/nvme/nvme_pdu.h"

using namespace autonic;
using namespace autonic::l5p;
using namespace autonic::testing;

namespace {


// Head PDUs (the pattern is applied to their packets; the second has a wrong data digest), then
// tail PDUs sent in order.
const std::vector<size_t> kHead = {40, 60, 30};
// Packets whose inner mark began inside the outer marked range, over every pattern run.
uint64_t g_inner_split = 0;
constexpr size_t kTailPdus = 6, kTailData = 50, kRecord = 64;

struct Stream {
  Bytes app;                 // the PDUs, as the NVMe layer must receive them
  std::vector<bool> bad;     // per PDU: wrong data digest
  Bytes wire, plain;         // TLS records; plain = the NIC's view of a decrypted packet
  std::vector<uint32_t> rec_starts;
  uint32_t head_wire = 0;    // wire bytes of the records holding the head PDUs
};

Stream make_stream() {
  Stream s;
  tls::TlsStats st;
  tls::TlsTx tx(composed_keys(), tls::TxMode::kSoftware, kRecord, 0, 0, st);
  uint8_t fill = 1;
  size_t head_app = 0;
  for (size_t i = 0; i < kHead.size() + kTailPdus; ++i) {
    const bool bad = i == 1;
    Bytes p = c2h_pdu(i < kHead.size() ? kHead[i] : kTailData, fill++, bad ? Ddgst::kWrong : Ddgst::kRight);
    s.bad.push_back(bad);
    s.app.insert(s.app.end(), p.begin(), p.end());
    if (i + 1 == kHead.size()) head_app = s.app.size();
  }
  EXPECT_EQ(tx.queue_gather(s.app, false), s.app.size());
  MemWriter w;
  tx.pump(w);
  s.wire = w.out;
  s.plain = s.wire;
  tls::RecordCrypto rc(composed_keys());
  size_t content = 0;
  for (uint32_t o = 0, seq = 0; o < s.wire.size(); ++seq) {
    const uint32_t len = load_be16(&s.wire[o + 3]);
    s.rec_starts.push_back(o);
    Bytes pt(len - tls::kTagLen);
    EXPECT_TRUE(rc.open(seq, ByteSpan(&s.wire[o], tls::kHeaderLen), ByteSpan(&s.wire[o + tls::kHeaderLen], len), pt.data()));
    std::copy(pt.begin(), pt.end(), s.plain.begin() + o + tls::kHeaderLen);
    if (content < head_app) s.head_wire = o + tls::kHeaderLen + len;
    content += pt.size() - 1;
    o += tls::kHeaderLen + len;
  }
  return s;
}

// The receiving host: NIC (TLS context + inner NVMe context), TCP reassembly, TLS record layer,
// and an NVMe PDU parser that answers the inner context's resync requests.
class ComposedRx {
 public:
  ComposedRx(const Stream& s, TcpSeq base)
      : s_(s), base_(base),
        outer_(tls_plugin_, tls_plugin_.make_flow(proto::tls::TlsL5State(composed_keys(), 0), l5o::Direction::kRx), base),
        inner_(nvme_plugin_, nvme_plugin_.make_flow(proto::nvme::NvmeL5State(true, true, false), l5o::Direction::kRx),
               TcpSeq(0)),
        adapter_(&inner_, &ist_),
        tls_(composed_keys(), tst_, [this](ByteSpan d, bool m) { nvme_input(d, m); },
             [this](TcpSeq t, bool ok, uint64_t i, TcpSeq p) { outer_.resync_resp(t, ok, i, p, ost_); }),
        answer_([this](TcpSeq t, bool ok, uint64_t i, TcpSeq) { inner_.resync_resp(t, ok, i, TcpSeq(), ist_); }) {
    outer_.plugin_flow().set_inner(&adapter_);
    tls_.start(base);
  }

  std::string arrive(uint32_t off, uint32_t len) {
    Bytes pkt(s_.wire.begin() + off, s_.wire.begin() + off + len);
    adapter_.begin_packet();
    const nic::RxVerdict v = outer_.process(base_ + off, pkt, ost_);
    // As the NIC reports it: TLS marks bytes [from, len), the inner mark [ifrom, len).
    const uint32_t from = v.marked ? v.mark_from : len;
    const std::optional<size_t> inner = adapter_.marks_from(outer_.work_base());
    const uint32_t ifrom = v.marked && inner && *inner < len ? std::max(uint32_t(*inner), from) : len;
    if (!std::equal(pkt.begin(), pkt.begin() + from, s_.wire.begin() + off) ||
        !std::equal(pkt.begin() + from, pkt.end(), s_.plain.begin() + off + from)) {
      std::ostringstream o;
      o << "packet [" << off << "," << off + len << ") marked from " << from
        << ": not the wire before the mark and the plaintext after it";
      return o.str();
    }
    inner_marks_.push_back(ifrom == 0);
    g_inner_split += ifrom > from && ifrom < len;  // the inner mark begins after the outer one
    // As the driver does: the NIC's guesses go up before the packet.
    if (v.resync_req) tls_.resync_rx_req(*v.resync_req);
    if (adapter_.resync_req()) nvme_resync_req(*adapter_.resync_req());
    tcp_receive(off, Seg{std::move(pkt), from, ifrom});
    return error_;
  }

  const Bytes& app() const { return app_; }
  // Per packet: the inner mark covers all of it.
  const std::vector<bool>& inner_marks() const { return inner_marks_; }
  uint64_t pdus_full() const { return pdus_full_; }
  size_t pdus() const { return pdu_index_; }

 private:
  struct Seg {
    Bytes bytes;
    uint32_t from, ifrom;  // where the TLS and the inner mark begin (bytes.size(): nowhere)
  };
  void tcp_receive(uint32_t off, Seg seg) {
    if (off > rcv_nxt_) {
      ooseq_.emplace(off, std::move(seg));
      return;
    }
    deliver(off, seg);
    for (auto it = ooseq_.begin(); it != ooseq_.end() && it->first <= rcv_nxt_;) {
      deliver(it->first, it->second);
      it = ooseq_.erase(it);
    }
  }
  // Each range with its own marks, as the driver's pbuf chain carries them.
  void deliver(uint32_t off, const Seg& seg) {
    const uint32_t end = off + uint32_t(seg.bytes.size());
    const uint32_t cuts[] = {off, off + seg.from, off + seg.ifrom, end};
    for (size_t r = 0; r < 3; ++r) {
      const uint32_t lo = std::max(rcv_nxt_, cuts[r]), hi = cuts[r + 1];
      if (lo >= hi) continue;
      rcv_nxt_ = hi;
      if (auto f = tls_.input(ByteSpan(seg.bytes.data() + (lo - off), hi - lo), r >= 1, r == 2); f && error_.empty())
        error_ = "TLS failed: " + f->outcome;
    }
  }

  // The NVMe layer's parser, in payload coordinates: PDU boundaries from each header's plen.
  void nvme_input(ByteSpan d, bool marked) {
    for (uint8_t b : d) {
      if (pdu_.empty()) {
        pdu_start_ = TcpSeq(uint32_t(app_.size()));
        answer_.on_msg_start(pdu_start_, pdu_index_);
        pdu_all_marked_ = true;
      }
      pdu_.push_back(b);
      app_.push_back(b);
      pdu_all_marked_ = pdu_all_marked_ && marked;
      if (pdu_.size() == 8) answer_.on_msg_len(pdu_start_, proto::nvme::le32(&pdu_[4]));
      if (pdu_.size() >= 8 && pdu_.size() == proto::nvme::le32(&pdu_[4])) pdu_done();
    }
  }
  void pdu_done() {
    if (pdu_all_marked_) {
      ++pdus_full_;
      if (pdu_index_ < s_.bad.size() && s_.bad[pdu_index_] && error_.empty())
        error_ = "a PDU with a wrong data digest was marked crc_ok";
    }
    pdu_.clear();
    ++pdu_index_;
  }
  void nvme_resync_req(TcpSeq t) {
    const TcpSeq pos(uint32_t(app_.size()));
    const uint32_t cur_len = pdu_.size() >= 8 ? proto::nvme::le32(&pdu_[4]) : 0;
    answer_.request(t, pos, pdu_.empty(), pdu_start_, cur_len);
  }

  const Stream& s_;
  TcpSeq base_;
  nic::TlsPlugin tls_plugin_;
  nic::NvmePlugin nvme_plugin_;
  nic::OffloadStats ost_, ist_;
  nic::RxOffloadFlow outer_, inner_;
  nic::InnerRx adapter_;
  tls::TlsStats tst_;
  tls::TlsRx tls_;
  RxResyncAnswerer answer_;
  uint32_t rcv_nxt_ = 0;
  std::map<uint32_t, Seg> ooseq_;
  std::string error_;
  Bytes app_, pdu_;
  TcpSeq pdu_start_;
  uint64_t pdu_index_ = 0, pdus_full_ = 0;
  bool pdu_all_marked_ = true;
  std::vector<bool> inner_marks_;
};

std::string run_pattern(const Stream& s, const std::vector<uint32_t>& cuts, const std::vector<int>& pattern) {
  std::vector<std::pair<uint32_t, uint32_t>> pk;
  uint32_t prev = 0;
  for (uint32_t c : cuts) {
    pk.emplace_back(prev, c - prev);
    prev = c;
  }
  pk.emplace_back(prev, s.head_wire - prev);
  ComposedRx m(s, TcpSeq(0xFFFFFF80u));  // sequence numbers wrap inside the stream
  std::vector<bool> seen(pk.size(), false);
  for (int i : pattern) {
    if (auto e = m.arrive(pk[size_t(i)].first, pk[size_t(i)].second); !e.empty()) return e;
    seen[size_t(i)] = true;
  }
  for (size_t i = 0; i < pk.size(); ++i)
    if (!seen[i])
      if (auto e = m.arrive(pk[i].first, pk[i].second); !e.empty()) return "retransmit: " + e;
  // The tail records flow in order, two packets each.
  size_t last_first = 0;
  for (uint32_t r : s.rec_starts) {
    if (r < s.head_wire) continue;
    const uint32_t end = uint32_t(s.wire.size());
    auto next = std::upper_bound(s.rec_starts.begin(), s.rec_starts.end(), r);
    const uint32_t b = next == s.rec_starts.end() ? end : *next;
    const uint32_t mid = r + (b - r) / 2;
    last_first = m.inner_marks().size();
    if (auto e = m.arrive(r, mid - r); !e.empty()) return "tail: " + e;
    if (auto e = m.arrive(mid, b - mid); !e.empty()) return "tail: " + e;
  }
  if (m.app() != s.app) return "application bytes differ";
  if (m.pdus() != s.bad.size()) return "PDU count wrong";
  // Both offloads resumed: the last record's packets carried the inner (crc_ok) mark.
  if (!m.inner_marks()[last_first] || !m.inner_marks()[last_first + 1]) return "the composed offload did not resume";
  return "";
}

}  // namespace

TEST(EngineComposedRx, AllDropAndReorderPatternsOfSixPackets) {
  const Stream s = make_stream();
  ASSERT_GT(s.head_wire, 200u);
  // Packet cuts over the head records: through record headers, tags and PDU fields.
  const std::vector<std::vector<uint32_t>> cut_sets = {
      {40, 90, 130, 200, 250}, {3, 86, 90, 172, 260}, {60, 61, 120, 180, 240}};
  uint64_t runs = 0;
  for (const auto& cuts : cut_sets) {
    const int n = int(cuts.size()) + 1;
    for (uint32_t mask = 0; mask < (1u << n); ++mask) {
      std::vector<int> v;
      for (int i = 0; i < n; ++i)
        if (mask & (1u << i)) v.push_back(i);
      do {
        if (::testing::Test::HasFailure()) return;
        ++runs;
        const std::string e = run_pattern(s, cuts, v);
        std::ostringstream p;
        for (int i : v) p << i << ' ';
        ASSERT_EQ(e, "") << "cuts #" << (&cuts - cut_sets.data()) << " pattern [" << p.str() << "]";
      } while (std::next_permutation(v.begin(), v.end()));
    }
  }
  EXPECT_EQ(runs, 3u * 1957u);
  EXPECT_GT(g_inner_split, 0u) << "the patterns no longer reach an inner mark beginning inside a packet";
}

TEST(EngineComposedRx, InOrderEveryGoodPduIsCheckedByTheNic) {
  const Stream s = make_stream();
  ComposedRx m(s, TcpSeq(0));
  for (size_t i = 0; i < s.rec_starts.size(); ++i) {
    const uint32_t a = s.rec_starts[i], b = i + 1 < s.rec_starts.size() ? s.rec_starts[i + 1] : uint32_t(s.wire.size());
    ASSERT_EQ(m.arrive(a, b - a), "");
  }
  EXPECT_EQ(m.app(), s.app);
  // Every PDU but the bad one (and those sharing its records' packets before the inner engine
  // found its way back) is crc_ok end to end.
  EXPECT_GE(m.pdus_full(), kTailPdus - 1);
  EXPECT_LT(m.pdus_full(), s.bad.size());
}
