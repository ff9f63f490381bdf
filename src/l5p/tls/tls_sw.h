// Software record protection (tls_sw's role): AEAD seal/open of whole TLS 1.3 records with
// OpenSSL, and the CTR keystream used to re-encrypt NIC-decrypted bytes of partially offloaded
// records (GCM authenticates ciphertext, so they must be turned back first; §5.2 "Partial").
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

  // Encrypts inner plaintext `inner` (content || type) of record `seq` whose header is `hdr`;
  // writes ciphertext || tag to `out` (inner.size() + 16 bytes).
  void seal(uint64_t seq, ByteSpan hdr, ByteSpan inner, uint8_t* out);
  // Decrypts and authenticates `body` (ciphertext || tag); plaintext to `out`. False = bad tag.
  bool open(uint64_t seq, ByteSpan hdr, ByteSpan body, uint8_t* out);
  // XORs `data` (at byte offset `off` of the encrypted record) with the AES-GCM keystream.
  void ctr_xor(uint64_t seq, size_t off, MutByteSpan data);

 private:
  TrafficKeys k_;
  EVP_CIPHER_CTX* aead_;
  EVP_CIPHER_CTX* ctr_;
};

}  // namespace autonic::l5p::tls
