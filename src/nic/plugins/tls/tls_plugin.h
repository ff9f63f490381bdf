// NIC plug-in for TLS 1.3 and TLS 1.2 with AES-128/256-GCM and ChaCha20-Poly1305 (§5.2): magic
// = content type 20..23 + version 0x0303 + length <= 2^14 + 256 (the record layer's own bound,
// RFC 8446 §5.2); per record: nonce from the record sequence number (TLS 1.2 AES-GCM: from the
// record's explicit nonce), AAD from the header (+ the sequence number in 1.2), incremental AEAD
// over the ciphertext, tag last. TX key epochs for KeyUpdate (tls_l5_state.h).
#pragma once
#include "nic/engine/plugin.h"
#include "proto/tls/tls_l5_state.h"
#include "proto/tls/tls_record.h"

namespace autonic::nic {

class TlsPlugin final : public Plugin {
 public:
  l5o::L5Proto proto() const override { return l5o::L5Proto::kTls; }
  size_t header_len() const override { return proto::tls::kHeaderLen; }
  std::optional<uint32_t> probe(ByteSpan hdr) const override;
  uint32_t payload_len(ByteSpan hdr) const override;
  std::unique_ptr<PluginFlow> make_flow(const l5o::L5State& state, l5o::Direction dir) const override;
  std::unique_ptr<PluginFlow> thaw_flow(Unpacker& u) const override;
};

}  // namespace autonic::nic
