// The NIC model's own keystream + CRC32C transform for the framed L5P (src/proto/framed/
// framed_wire.h defines it). Written apart from the L5P's software cipher on purpose: the tests
// that compare NIC output with software output then compare two implementations of one wire
// format, as a real NIC's crypto engine and the host's software are two (like AES-GCM in the
// NIC and in kTLS). Written for the engine's incremental use: any split of a message into
// pieces, in order, in place or not; the keystream word of the current 8-byte block is kept
// across pieces, so a piece that ends mid-block costs no recomputation.
#pragma once
#include <cstdint>

#include "common/bytes.h"
#include "proto/framed/framed_wire.h"

namespace autonic::nic {

class FramedTransform {
 public:
  explicit FramedTransform(const proto::framed::Key& key) : key_(key) {}
  // Message `index` starts; `hdr` is its header (proto::framed::kHeaderLen bytes).
  void begin(uint64_t index, ByteSpan hdr);
  // Bytes [offset, offset + in.size()) of the message, offset >= kHeaderLen. TX: encrypt, then
  // write the check in place of the trailer; RX: check the ciphertext, decrypt, collect the
  // received check (trailer bytes pass unchanged).
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out);
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out);
  bool verify() const { return recv_check_ == crc_; }
  // Context memory per flow: key, message index, keystream base, payload length, running CRC,
  // received check. The cached keystream word is not counted: it is derived from base + offset.
  static constexpr size_t kContextBytes = 16 + 8 + 8 + 4 + 4 + 4;

 private:
  // XORs the keystream of payload bytes [pay_off, pay_off + in.size()) into out.
  void keystream(uint32_t pay_off, ByteSpan in, MutByteSpan out);
  void crc(ByteSpan bytes);

  proto::framed::Key key_;
  uint64_t base_ = 0;
  uint32_t payload_len_ = 0;
  uint32_t crc_ = 0;
  uint32_t recv_check_ = 0;
  uint64_t ks_block_ = ~uint64_t(0);  // block whose keystream word ks_word_ holds
  uint64_t ks_word_ = 0;
};

}  // namespace autonic::nic
