#include "nic/plugins/framed/framed_transform.h"

#include <isa-l/crc.h>

#include <algorithm>

#include "common/rng.h"

namespace autonic::nic {

using proto::framed::kHeaderLen;

void FramedTransform::begin(uint64_t index, ByteSpan hdr) {
  // Per-message keystream base and CRC seed from (key, index): framed_wire.h "Transform".
  base_ = splitmix64(key_.k0 ^ splitmix64(index + key_.k1));
  payload_len_ = load_be32(&hdr[8]);
  crc_ = uint32_t(splitmix64(base_ ^ proto::framed::kCrcSeedSalt));
  crc(hdr.first(kHeaderLen));
  recv_check_ = 0;
  ks_block_ = ~uint64_t(0);
}

void FramedTransform::crc(ByteSpan bytes) {
  if (!bytes.empty()) crc_ = crc32_iscsi(const_cast<uint8_t*>(bytes.data()), int(bytes.size()), crc_);
}

void FramedTransform::keystream(uint32_t pay_off, ByteSpan in, MutByteSpan out) {
  // Byte at payload offset o takes byte (o mod 8) of block o/8's word, little-endian.
  for (size_t i = 0; i < in.size(); ++i) {
    const uint64_t o = uint64_t(pay_off) + i;
    if ((o >> 3) != ks_block_) {
      ks_block_ = o >> 3;
      ks_word_ = splitmix64(base_ + ks_block_);
    }
    out[i] = in[i] ^ uint8_t(ks_word_ >> (8 * (o & 7)));
  }
}

void FramedTransform::tx(uint32_t offset, ByteSpan in, MutByteSpan out) {
  const uint32_t pay_end = uint32_t(kHeaderLen) + payload_len_;
  size_t n = 0;  // payload bytes in this piece
  if (offset < pay_end) {
    n = std::min<size_t>(pay_end - offset, in.size());
    keystream(offset - uint32_t(kHeaderLen), in.first(n), out.first(n));
    crc(ByteSpan(out.data(), n));  // the check covers the ciphertext
  }
  for (size_t i = n; i < in.size(); ++i) {  // trailer: the check, big-endian
    const uint32_t t = offset + uint32_t(i) - pay_end;
    out[i] = uint8_t(crc_ >> (24 - 8 * t));
  }
}

void FramedTransform::rx(uint32_t offset, ByteSpan in, MutByteSpan out) {
  const uint32_t pay_end = uint32_t(kHeaderLen) + payload_len_;
  size_t n = 0;
  if (offset < pay_end) {
    n = std::min<size_t>(pay_end - offset, in.size());
    crc(in.first(n));  // before decrypting: in and out may alias
    keystream(offset - uint32_t(kHeaderLen), in.first(n), out.first(n));
  }
  for (size_t i = n; i < in.size(); ++i) {
    const uint32_t t = offset + uint32_t(i) - pay_end;
    recv_check_ |= uint32_t(in[i]) << (24 - 8 * t);
    out[i] = in[i];
  }
}

}  // namespace autonic::nic
