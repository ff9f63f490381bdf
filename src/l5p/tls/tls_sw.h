// Software record protection (tls_sw's role): AEAD seal/open of whole TLS 1.3 / 1.2 records with
// OpenSSL, and the keystream used to re-encrypt NIC-decrypted bytes of partially offloaded
// records (both AEADs authenticate ciphertext, so they must be turned back first; §5.2
// "Partial"): AES-CTR for GCM, the ChaCha20 block function for ChaCha20-Poly1305.
#pragma once
#include <openssl/evp.h>

#include "proto/tls/tls_record.h"

namespace autonic::l5p::tls {

// The wire format lives in src/proto/tls/, shared with the NIC model; this L5P speaks it
// unqualified.
using namespace proto::tls;

class RecordCrypto {
 public:
  explicit RecordCrypto(const TrafficKeys& k);
  ~RecordCrypto();
  RecordCrypto(const RecordCrypto&) = delete;
  RecordCrypto& operator=(const RecordCrypto&) = delete;

  const TrafficKeys& keys() const { return k_; }
  RecordShape shape() const { return record_shape(k_); }
  // Seals record `seq` whose header is `hdr`. `inner`: TLS 1.3 content || type; TLS 1.2 the
  // content. Writes the record body to `out`: [nonce_explicit = seq] || ciphertext || tag
  // (inner.size() + shape().explicit_nonce + 16 bytes).
  void seal(uint64_t seq, ByteSpan hdr, ByteSpan inner, uint8_t* out);
  // Decrypts and authenticates `body` (the record after its header); the plaintext
  // (body.size() - explicit nonce - 16 bytes) to `out`. False = bad tag (or too short).
  bool open(uint64_t seq, ByteSpan hdr, ByteSpan body, uint8_t* out);
  // XORs `data` (at byte offset `off` of the ciphertext, after any explicit nonce) with the
  // AEAD's keystream. explicit_nonce: TLS 1.2 AES-GCM, the record's 8 bytes.
  void ctr_xor(uint64_t seq, size_t off, MutByteSpan data, const uint8_t* explicit_nonce = nullptr);

 private:
  EVP_CIPHER_CTX* aead();  // made on first use
  EVP_CIPHER_CTX* ctr();
  TrafficKeys k_;
  EVP_CIPHER_CTX* aead_ = nullptr;
  EVP_CIPHER_CTX* ctr_ = nullptr;
};

}  // namespace autonic::l5p::tls
