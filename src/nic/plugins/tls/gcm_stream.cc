#include "nic/plugins/tls/gcm_stream.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace autonic::nic {
namespace {

const uint8_t kZeros[16] = {};
bool g_force_evp = false;

}  // namespace

GcmStream::~GcmStream() { OPENSSL_cleanse(key_, sizeof key_); }

bool GcmStream::vaes() { return !g_force_evp && AesCtr::available(); }
void GcmStream::force_evp(bool on) { g_force_evp = on; }

void GcmStream::rekey(ByteSpan key) {
  if (key.size() != 16 && key.size() != 32) throw std::invalid_argument("AES-GCM key must be 16 or 32 bytes");
  std::memcpy(key_, key.data(), key.size());
  key_len_ = uint8_t(key.size());
  work_.reset();  // the old key's schedule and hash key
}

void GcmStream::freeze(Packer& p) const {
  p.put(key_len_);
  p.put_bytes(key_, key_len_);
  p.put(in_record_);
  p.put(encrypt_);
  p.put(part_len_);
  p.put_bytes(j0_, 12);  // (its counter word is always 1)
  p.put(ekj0_);
  p.put(y_);
  // The held block whole, whatever its fill: every context's form then has one size, and a
  // freed form's memory fits the next one written (1M contexts: varying sizes left ~0.5 GiB of
  // unusable holes in the heap).
  p.put(part_);
  p.put(uint32_t(aad_len_));  // (the AAD is a record header: a few bytes)
  p.put(ct_len_);
}

void GcmStream::thaw(Unpacker& u) {
  work_.reset();
  u.get(key_len_);
  u.get_bytes(key_, key_len_);
  u.get(in_record_);
  u.get(encrypt_);
  u.get(part_len_);
  u.get_bytes(j0_, 12);
  j0_[12] = j0_[13] = j0_[14] = 0;
  j0_[15] = 1;
  u.get(ekj0_);
  u.get(y_);
  u.get(part_);
  aad_len_ = u.get<uint32_t>();
  u.get(ct_len_);
}

GcmStream::Work& GcmStream::work() {
  if (work_) return *work_;
  auto w = std::make_unique<Work>();
  uint8_t h[16];  // H = E(K, 0^128)
  if (vaes()) {
    w->vctr.init(key_, key_len_);
    w->vctr.encrypt_block(kZeros, h);
  } else {
    w->ctr = EVP_CIPHER_CTX_new();
    if (!w->ctr) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
    // The CTR keystream's first block under a zero counter block.
    const EVP_CIPHER* c = key_len_ == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
    int l = 0;
    EVP_EncryptInit_ex(w->ctr, c, nullptr, key_, kZeros);
    EVP_EncryptUpdate(w->ctr, h, &l, kZeros, 16);
  }
  w->gk.init(h);
  if (in_record_) seek_keystream(*w);
  work_ = std::move(w);
  return *work_;
}

// Counter block inc32(J0) + ct_len / 16 (SP 800-38D §7.1: GCTR starts at inc32(J0)), and the
// part of that block's keystream already used skipped. (EVP's CTR increments the whole
// block: for a 96-bit IV the low word starts at 2 and a record never carries it over.)
void GcmStream::seek_keystream(Work& w) {
  uint8_t cb[16];
  std::memcpy(cb, j0_, 12);
  store_be32(cb + 12, uint32_t(2 + ct_len_ / 16));
  if (!w.ctr) return w.vctr.seek(cb, ct_len_ % 16);
  EVP_EncryptInit_ex(w.ctr, nullptr, nullptr, nullptr, cb);
  uint8_t used[16];
  int l = 0;
  if (const int skip = int(ct_len_ % 16)) EVP_EncryptUpdate(w.ctr, used, &l, kZeros, skip);
}

void GcmStream::begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt) {
  in_record_ = false;
  Work& w = work();
  std::memcpy(j0_, nonce, 12);
  j0_[12] = j0_[13] = j0_[14] = 0;
  j0_[15] = 1;
  ct_len_ = 0;
  // E(K, J0) is the keystream block before GCTR's first: one EVP CTR stream from J0 gives both.
  if (w.ctr) {
    int l = 0;
    EVP_EncryptInit_ex(w.ctr, nullptr, nullptr, nullptr, j0_);
    EVP_EncryptUpdate(w.ctr, ekj0_, &l, kZeros, 16);
  } else {
    w.vctr.encrypt_block(j0_, ekj0_);
    seek_keystream(w);  // inc32(J0)
  }
  encrypt_ = encrypt;
  std::memset(y_, 0, sizeof y_);
  part_len_ = 0;
  aad_len_ = aad.size();
  in_record_ = true;
  hash(aad);
  hash_pad();  // the AAD is zero-padded to a whole block (§7.1 step 5)
}

void GcmStream::ctr(Work& w, ByteSpan in, MutByteSpan out) {
  if (!w.ctr) return w.vctr.apply(in.data(), out.data(), in.size());
  int l = 0;
  EVP_EncryptUpdate(w.ctr, out.data(), &l, in.data(), int(in.size()));
}

void GcmStream::update(ByteSpan in, MutByteSpan out) {
  if (in.empty()) return;
  Work& w = work();
  // GHASH covers the ciphertext: hashed before an in-place decryption overwrites it.
  if (!encrypt_) hash(in);
  ctr(w, in, out);
  if (encrypt_) hash(out);
  ct_len_ += in.size();
}

void GcmStream::hash(ByteSpan b) {
  if (b.empty()) return;  // (an empty AAD may have no data pointer at all)
  const Work& w = *work_;
  if (part_len_) {
    const size_t n = std::min<size_t>(16 - part_len_, b.size());
    std::memcpy(part_ + part_len_, b.data(), n);
    part_len_ = uint8_t(part_len_ + n);
    b = b.subspan(n);
    if (part_len_ < 16) return;
    ghash_blocks(w.gk, y_, part_, 1);
    part_len_ = 0;
  }
  const size_t whole = b.size() / 16;
  if (whole) ghash_blocks(w.gk, y_, b.data(), whole);
  b = b.subspan(whole * 16);
  std::memcpy(part_, b.data(), b.size());
  part_len_ = uint8_t(b.size());
}

void GcmStream::hash_pad() {
  if (!part_len_) return;
  std::memset(part_ + part_len_, 0, 16 - part_len_);
  ghash_blocks(work_->gk, y_, part_, 1);
  part_len_ = 0;
}

void GcmStream::final_tag(uint8_t tag[16]) {
  work();
  hash_pad();
  uint8_t lens[16];  // len(A) || len(C) in bits (§7.1 step 5)
  store_be64(lens, aad_len_ * 8);
  store_be64(lens + 8, ct_len_ * 8);
  ghash_blocks(work_->gk, y_, lens, 1);
  for (int i = 0; i < 16; ++i) tag[i] = uint8_t(y_[i] ^ ekj0_[i]);
  in_record_ = false;
}

bool GcmStream::check_tag(const uint8_t tag[16]) {
  uint8_t want[16];
  final_tag(want);
  return CRYPTO_memcmp(want, tag, 16) == 0;
}

}  // namespace autonic::nic
