#include "l5p/framed/framed_cipher.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

#include "common/rng.h"

namespace autonic::l5p::framed {

void MsgCipher::begin(uint64_t index, ByteSpan hdr) {
  base_ = splitmix64(key_.k0 ^ splitmix64(index + key_.k1));
  payload_len_ = load_be32(&hdr[8]);
  const uint32_t seed = uint32_t(splitmix64(base_ ^ kCrcSeedSalt));
  crc_ = crc32_iscsi(const_cast<uint8_t*>(hdr.data()), int(kHeaderLen), seed);
  recv_check_ = 0;
}

void MsgCipher::xor_payload(uint32_t payload_off, ByteSpan in, MutByteSpan out) const {
  size_t i = 0;
  uint64_t off = payload_off;
  while (i < in.size()) {
    const uint64_t block = off / 8;
    const uint64_t ks = splitmix64(base_ + block);
    const size_t first = size_t(off % 8);
    if (first == 0 && in.size() - i >= 8) {
      uint64_t w;
      std::memcpy(&w, in.data() + i, 8);
      w ^= ks;
      std::memcpy(out.data() + i, &w, 8);
      i += 8;
      off += 8;
      continue;
    }
    const size_t n = std::min<size_t>(8 - first, in.size() - i);
    for (size_t j = 0; j < n; ++j) out[i + j] = in[i + j] ^ uint8_t(ks >> (8 * (first + j)));
    i += n;
    off += n;
  }
}

void MsgCipher::absorb_ciphertext(ByteSpan ct) {
  if (!ct.empty()) crc_ = crc32_iscsi(const_cast<uint8_t*>(ct.data()), int(ct.size()), crc_);
}

void MsgCipher::tx(uint32_t offset, ByteSpan in, MutByteSpan out) {
  const uint32_t pay_end = uint32_t(kHeaderLen) + payload_len_;
  size_t i = 0;
  if (offset < pay_end) {
    const size_t n = std::min<size_t>(pay_end - offset, in.size());
    xor_payload(offset - uint32_t(kHeaderLen), in.first(n), out.first(n));
    absorb_ciphertext(ByteSpan(out.data(), n));
    i = n;
  }
  for (; i < in.size(); ++i) {  // check value, big-endian
    const uint32_t t = offset + uint32_t(i) - pay_end;
    out[i] = uint8_t(crc_ >> (8 * (3 - t)));
  }
}

void MsgCipher::rx(uint32_t offset, ByteSpan in, MutByteSpan out) {
  const uint32_t pay_end = uint32_t(kHeaderLen) + payload_len_;
  size_t i = 0;
  if (offset < pay_end) {
    const size_t n = std::min<size_t>(pay_end - offset, in.size());
    absorb_ciphertext(in.first(n));
    xor_payload(offset - uint32_t(kHeaderLen), in.first(n), out.first(n));
    i = n;
  }
  for (; i < in.size(); ++i) {
    const uint32_t t = offset + uint32_t(i) - pay_end;
    recv_check_ |= uint32_t(in[i]) << (8 * (3 - t));
    out[i] = in[i];
  }
}

}  // namespace autonic::l5p::framed
