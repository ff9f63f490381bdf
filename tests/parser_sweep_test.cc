// Truncate / bit-flip sweeps over the wire parsers (STYLE.md habit 6): bad input is an error,
// never a crash or an out-of-bounds read (run under ASan/UBSan in `make test`).
#include <gtest/gtest.h>

#include <cstring>

#include "common/frame.h"
#include "common/inet_csum.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "proto/nvme/nvme_pdu.h"

using namespace autonic;

namespace {
Bytes tcp_frame(size_t payload) {
  Bytes f(kEthHeaderLen + 20 + 20 + payload, 0);
  store_be16(&f[12], kEtherTypeIpv4);
  uint8_t* ip = &f[kEthHeaderLen];
  ip[0] = 0x45;
  store_be16(ip + 2, uint16_t(40 + payload));
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, 0x0A000001);
  store_be32(ip + 16, 0x0A000002);
  uint8_t* tcp = ip + 20;
  store_be16(tcp, 40000);
  store_be16(tcp + 2, 5001);
  store_be32(tcp + 4, 1234);
  tcp[12] = 5 << 4;
  store_be16(tcp + 16, tcp4_checksum(ip, 40 + payload));
  return f;
}
}  // namespace

TEST(ParserSweep, TcpFrameViewTruncateAndBitFlip) {
  const Bytes f = tcp_frame(100);
  auto v = TcpFrameView::parse(f);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->payload_len, 100u);
  EXPECT_TRUE(tcp4_checksum_ok(&f[v->ip_off], v->ip_len));
  for (size_t n = 0; n < f.size(); ++n) {
    auto t = TcpFrameView::parse(ByteSpan(f.data(), n));
    if (t) {  // a shorter buffer may only parse if the IP length still fits in it
      EXPECT_LE(t->ip_off + t->ip_len, n);
    }
  }
  for (size_t bit = 0; bit < (kEthHeaderLen + 40) * 8; ++bit) {
    Bytes g = f;
    g[bit / 8] ^= uint8_t(1u << (bit % 8));
    auto t = TcpFrameView::parse(g);
    if (!t) continue;
    EXPECT_LE(t->payload_off + t->payload_len, g.size()) << "bit " << bit;
    // Any flip inside the IP pseudo-header or the TCP header breaks the checksum.
    if (bit >= (kEthHeaderLen + 12) * 8) {
      EXPECT_FALSE(tcp4_checksum_ok(&g[t->ip_off], t->ip_len)) << "bit " << bit;
    }
  }
}

TEST(ParserSweep, NvmeCommonHeaderEveryFlipIsConsistent) {
  using namespace proto::nvme;
  nic::NvmePlugin plugin;
  for (uint8_t type : {0x04, 0x05, 0x06, 0x07, 0x09}) {
    uint8_t h[8] = {type, kFlagHdgst | kFlagDdgst, *hlen_for(type), 0, 0, 0, 0, 0};
    const bool data = type == 0x04 || type == 0x06 || type == 0x07;
    h[3] = data ? uint8_t(h[2] + 4) : 0;
    put32(h + 4, uint32_t(h[2] + 4 + (data ? 512 + 4 : 0)));
    CommonHeader ch{};
    ASSERT_EQ(parse_common(h, &ch), HeaderError::kNone) << int(type);
    ASSERT_TRUE(plugin.probe(h));
    for (size_t bit = 0; bit < 64; ++bit) {
      uint8_t g[8];
      std::memcpy(g, h, 8);
      g[bit / 8] ^= uint8_t(1u << (bit % 8));
      CommonHeader c2{};
      const bool ok = parse_common(ByteSpan(g, 8), &c2) == HeaderError::kNone;
      EXPECT_EQ(ok, plugin.probe(ByteSpan(g, 8)).has_value() && c2.type != 0 && c2.type != 1) << "bit " << bit;
      if (ok) {
        // Whatever parses is self-consistent: the data region lies inside the PDU.
        EXPECT_LE(uint64_t(c2.header_bytes()), c2.plen);
        if (c2.pdo) {
          EXPECT_LE(uint64_t(c2.pdo) + c2.data_len(), c2.plen);
        }
      }
    }
  }
}
