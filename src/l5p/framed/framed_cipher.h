// The framed L5P's software implementation of its per-message transform (proto/framed/
// framed_wire.h "Transform"); the NIC model has its own (nic/plugins/framed/framed_transform.h), like
// AES-GCM in kTLS and in the NIC. Constant-size dynamic state: message index, keystream base,
// running CRC32C, received check bytes.
#pragma once
#include <cstdint>

#include "common/bytes.h"
#include "proto/framed/framed_wire.h"

namespace autonic::l5p::framed {

// The wire format lives in src/proto/framed/, shared with the NIC model; this L5P speaks it
// unqualified.
using namespace proto::framed;

class MsgCipher {
 public:
  explicit MsgCipher(const Key& key) : key_(key) {}
  // Starts message `index` whose header (kHeaderLen bytes) is `hdr`.
  void begin(uint64_t index, ByteSpan hdr);
  // Bytes [offset, offset+in.size()) of the message, offset >= kHeaderLen. TX: encrypt the
  // payload and fill the check; RX: decrypt the payload, collect the received check.
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out);
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out);
  bool verify() const { return recv_check_ == crc_; }
  uint32_t payload_len() const { return payload_len_; }
  // Keystream XOR only (re-encryption of NIC-decrypted bytes in the software fallback).
  void xor_payload(uint32_t payload_off, ByteSpan in, MutByteSpan out) const;
  // CRC over already-encrypted payload bytes (software fallback).
  void absorb_ciphertext(ByteSpan ct);
  uint32_t check() const { return crc_; }
  static constexpr size_t kStateBytes = 16 /*key*/ + 8 /*index*/ + 8 /*base*/ + 4 + 4 + 4;

 private:
  Key key_;
  uint64_t base_ = 0;
  uint32_t payload_len_ = 0;
  uint32_t crc_ = 0;
  uint32_t recv_check_ = 0;
};

}  // namespace autonic::l5p::framed
