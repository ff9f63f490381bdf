// Composed TX offload at the engine level (NVMe/TCP inside TLS, paper §5.3): NVMe PDUs with
// dummy data digests go into TLS records with dummy tags; the NIC's TLS context, with the NVMe
// context stacked inside it, must put exactly the software path's bytes on the wire (digests
// filled, then records sealed) -- for the first transmission and for every retransmission
// pattern, recovering both contexts as the driver does (TLS record from the TLS map, NVMe PDU at
// that record's payload position from the NVMe map).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "composed_fixture.h"
#include "l5p/tls/tls_tx.h"
#include "nic/engine/inner_engine.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "nic/plugins/tls/tls_plugin.h"
#include "proto/nvme/nvme_pdu.h"

using namespace autonic;
using namespace autonic::l5p;
using namespace autonic::testing;

namespace {


constexpr size_t kRecord = 64;  // small records: PDUs span several, records hold PDU edges
const size_t kPduData[] = {100, 37, 150};

// The TCP byte stream a TLS sender hands TCP for these PDUs (records of kRecord bytes).
Bytes tls_stream(tls::TxMode mode, bool dummy, tls::TlsTx* keep = nullptr) {
  tls::TlsStats st;
  tls::TlsTx local(composed_keys(), mode, kRecord, 0, 0, st);
  tls::TlsTx& tx = keep ? *keep : local;
  uint8_t fill = 1;
  for (size_t n : kPduData) EXPECT_EQ(tx.queue_gather(c2h_pdu(n, fill++, dummy ? Ddgst::kDummy : Ddgst::kRight), true), 28 + n + 4);
  tx.queue_gather({}, false);
  MemWriter w;
  tx.pump(w);
  return w.out;
}

// The driver and NIC on the TX side of a composed flow.
struct ComposedTx {
  explicit ComposedTx(TcpSeq base)
      : tls_(composed_keys(), tls::TxMode::kOffload, kRecord, 0, 0, st_),
        outer_(tls_plugin_, tls_plugin_.make_flow(proto::tls::TlsL5State(composed_keys(), 0), l5o::Direction::kTx), base),
        inner_(nvme_plugin_, nvme_plugin_.make_flow(proto::nvme::NvmeL5State(true, true, false), l5o::Direction::kTx),
               TcpSeq(0)),
        adapter_(&inner_, &ist_), base_(base), expected_(base) {
    tls_.start(base);
    nmap_.start(TcpSeq(0));
    uint8_t fill = 1;
    for (size_t n : kPduData) nmap_.push({owned_piece(c2h_pdu(n, fill++, Ddgst::kDummy))});
    input_ = tls_stream(tls::TxMode::kOffload, true, &tls_);
    wire_ = tls_stream(tls::TxMode::kSoftware, false);
    outer_.plugin_flow().set_inner(&adapter_);
  }
  // Sends stream bytes [off, off + len); "" if the wire bytes are right.
  std::string send(uint32_t off, uint32_t len) {
    const TcpSeq seq = base_ + off;
    if (seq != expected_) {
      const l5o::TxMsgState ms = tls_.msgstate(seq);
      if (ms.kind != l5o::TxMsgState::Kind::kFound) return "no record state";
      const l5o::TxMsgState in = nmap_.msgstate(ms.payload_pos);
      if (in.kind == l5o::TxMsgState::Kind::kFound)
        inner_.recover(in.msg_start, in.msg_index, in.payload_pos, in.prefix, ist_);
      else
        inner_.recover_to_start();
      outer_.recover(ms.msg_start, ms.msg_index, ms.payload_pos, ms.prefix, ost_);
    }
    Bytes pkt(input_.begin() + off, input_.begin() + off + len);
    if (!outer_.process(seq, pkt, ost_)) return "dropped";
    expected_ = seq + len;
    if (!std::equal(pkt.begin(), pkt.end(), wire_.begin() + off)) {
      std::ostringstream o;
      o << "segment [" << off << "," << off + len << ") wrong on the wire";
      return o.str();
    }
    return "";
  }
  size_t size() const { return input_.size(); }

  tls::TlsStats st_;
  tls::TlsTx tls_;
  TxMsgMap nmap_;
  nic::TlsPlugin tls_plugin_;
  nic::NvmePlugin nvme_plugin_;
  nic::OffloadStats ost_, ist_;
  nic::TxOffloadFlow outer_, inner_;
  nic::InnerTx adapter_;
  TcpSeq base_, expected_;
  Bytes input_, wire_;
};

}  // namespace

TEST(EngineComposed, SoftwareAndNicAgreeInAnySegmentation) {
  for (uint32_t seg = 1; seg <= 200; seg += (seg < 20 ? 1 : 13)) {
    ComposedTx m(TcpSeq(0xFFFFFF00u));
    ASSERT_EQ(m.input_.size(), m.wire_.size());
    for (uint32_t o = 0; o < m.size(); o += seg)
      ASSERT_EQ(m.send(o, std::min<uint32_t>(seg, uint32_t(m.size()) - o)), "") << "segment size " << seg;
  }
}

TEST(EngineComposed, EveryRetransmissionPatternRecoversBothContexts) {
  ComposedTx probe(TcpSeq(0));
  const uint32_t total = uint32_t(probe.size());
  // Cuts through record headers, tags, PDU headers and data digests.
  const std::vector<uint32_t> cut_sets[] = {{50, 130, 190, 300}, {3, 97, 211, 260}, {70, 71, 200, 330}};
  uint64_t runs = 0;
  for (const auto& cuts_in : cut_sets) {
    std::vector<std::pair<uint32_t, uint32_t>> seg;
    uint32_t prev = 0;
    std::vector<uint32_t> cuts = cuts_in;
    cuts.push_back(total);
    for (uint32_t c : cuts) {
      seg.emplace_back(prev, c - prev);
      prev = c;
    }
    const int n = int(seg.size());
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
      std::vector<int> v;
      for (int i = 0; i < n; ++i)
        if (mask & (1u << i)) v.push_back(i);
      do {
        for (int merge = 0; merge < 2; ++merge) {
          ComposedTx m(TcpSeq(0xFFFFFF00u));
          for (auto [o, l] : seg) ASSERT_EQ(m.send(o, l), "") << "first transmission";
          for (int i : v) {
            uint32_t o = seg[size_t(i)].first, l = seg[size_t(i)].second;
            if (merge && i + 1 < n) l += seg[size_t(i) + 1].second;
            ASSERT_EQ(m.send(o, l), "") << "retransmitting segment " << i << " merge=" << merge;
          }
          EXPECT_GT(m.ist_.tx_dump_packets, 0u);  // the inner context was rebuilt too
          ++runs;
        }
      } while (std::next_permutation(v.begin(), v.end()));
    }
  }
  EXPECT_GT(runs, 1000u);
}
