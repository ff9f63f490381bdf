// AES-GCM (NIST SP 800-38D) over arbitrary byte ranges whose whole dynamic state is ours, so a
// context can leave the NIC mid-record (§6.5: the context cache writes the victim's state back
// and fetches it again on its next packet). OpenSSL's GCM context cannot export its running
// GHASH; here OpenSSL only supplies the AES-CTR keystream (EVP aes-*-ctr, counter blocks
// J0+1, J0+2, ... as GCTR uses them for a 96-bit IV) and GHASH is our own (ghash.h).
//
// Two parts, as on the NIC:
//  - at rest (always held, what a write-back saves): key, J0, E(K, J0), the GHASH accumulator
//    Y, the partial ciphertext block not hashed yet and the two lengths; the counter and the
//    position in its keystream block follow from the ciphertext length;
//  - working (only while the context is on the NIC): the expanded key schedule inside the EVP
//    CTR context, positioned at the current counter block, and the hash key powers H^1..H^8.
//    park() drops it; the next call rebuilds it from the at-rest part: key schedule, H =
//    E(K, 0^128), counter block J0 + 1 + ct_len / 16, and the keystream bytes of that block
//    already used (ct_len % 16) generated and discarded.
#pragma once
#include <openssl/evp.h>

#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "nic/engine/pack.h"
#include "nic/plugins/tls/aes_ctr.h"
#include "nic/plugins/tls/ghash.h"

namespace autonic::nic {

class GcmStream {
 public:
  GcmStream() = default;
  ~GcmStream();
  GcmStream(const GcmStream&) = delete;
  GcmStream& operator=(const GcmStream&) = delete;

  void rekey(ByteSpan key);  // 16 or 32 bytes; the key schedule is made on first use
  void begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt);
  void update(ByteSpan in, MutByteSpan out);  // in and out may alias
  void final_tag(uint8_t tag[16]);
  bool check_tag(const uint8_t tag[16]);
  // Drops the working state (an eviction): only the at-rest part stays.
  void park() { work_.reset(); }
  bool parked() const { return !work_; }
  // The at-rest part alone (pack.h), and back: a stream thawed is parked.
  void freeze(Packer& p) const;
  void thaw(Unpacker& u);
  // The keystream: our VAES CTR where the CPU has it (aes_ctr.h), else OpenSSL's.
  static bool vaes();
  // Tests: run the EVP keystream even where VAES is there (both paths stay checked).
  static void force_evp(bool on);

 private:
  struct Work {
    GhashKey gk;
    AesCtr vctr;                   // when vaes()
    EVP_CIPHER_CTX* ctr = nullptr;  // otherwise
    ~Work() { EVP_CIPHER_CTX_free(ctr); }
  };
  Work& work();  // the working state, rebuilt if parked
  void seek_keystream(Work& w);  // the CTR stream at the current ciphertext position
  void hash(ByteSpan ct);        // GHASH input: whole blocks hashed, the rest held
  void hash_pad();               // zero-pads and hashes a held partial block
  void ctr(Work& w, ByteSpan in, MutByteSpan out);

  // At rest.
  uint8_t key_[32] = {};
  uint8_t key_len_ = 0;
  bool in_record_ = false;  // between begin and the tag
  bool encrypt_ = true;
  uint8_t part_len_ = 0;
  uint8_t j0_[16] = {};    // pre-counter block: nonce || 0x00000001
  uint8_t ekj0_[16] = {};  // E(K, J0): masks the tag
  uint8_t y_[16] = {};     // GHASH accumulator
  uint8_t part_[16] = {};  // ciphertext (or AAD) not hashed yet
  uint64_t aad_len_ = 0, ct_len_ = 0;
  // Working.
  std::unique_ptr<Work> work_;
};

}  // namespace autonic::nic
