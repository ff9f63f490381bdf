// Shared by the composed-offload engine tests (NVMe/TCP inside TLS): keys, PDUs, and a message
// map writer that collects the TCP byte stream in memory.
#pragma once
#include "l5p/common/tx_msg_map.h"
#include "proto/nvme/nvme_pdu.h"
#include "proto/tls/tls_record.h"

namespace autonic::testing {

inline proto::tls::TrafficKeys composed_keys() {
  proto::tls::TrafficKeys k;
  k.cipher = proto::tls::Cipher::kAes128Gcm;
  k.key.assign(16, 0x3C);
  for (size_t i = 0; i < k.iv.size(); ++i) k.iv[i] = uint8_t(i * 11 + 5);
  return k;
}

enum class Ddgst : uint8_t { kRight, kDummy, kWrong };

// A C2HData PDU: header, header digest, data, data digest -- right, left 0 (as the NVMe L5P hands
// it to its transport when the NIC fills it), or wrong.
inline Bytes c2h_pdu(size_t data_len, uint8_t fill, Ddgst d) {
  namespace nv = proto::nvme;
  Bytes p(24 + 4 + data_len + 4, 0);
  p[0] = uint8_t(nv::PduType::kC2HData);
  p[1] = nv::kFlagHdgst | nv::kFlagDdgst;
  p[2] = 24;
  p[3] = 28;
  nv::put32(p.data() + 4, uint32_t(p.size()));
  nv::put32(p.data() + 16, uint32_t(data_len));
  nv::put32(p.data() + 24, nv::digest(ByteSpan(p.data(), 24)));
  for (size_t i = 0; i < data_len; ++i) p[28 + i] = uint8_t(fill + i * 7);
  if (d != Ddgst::kDummy)
    nv::put32(p.data() + 28 + data_len, nv::digest(ByteSpan(p.data() + 28, data_len)) ^ (d == Ddgst::kWrong ? 1u : 0u));
  return p;
}

struct MemWriter final : l5p::TxMsgMap::Writer {
  Bytes out;
  size_t room() override { return size_t(1) << 30; }
  size_t write(const uint8_t* d, size_t n, bool) override {
    out.insert(out.end(), d, d + n);
    return n;
  }
  void flush() override {}
};

}  // namespace autonic::testing
