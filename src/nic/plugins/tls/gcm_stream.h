// Incremental AES-GCM over arbitrary byte ranges with constant-size state: what the NIC's TLS
// engine needs to process a record cut into TCP segments at any byte (§3.2). OpenSSL's EVP GCM
// context is exactly such a state: it keeps the counter, GHASH accumulator and a partial block
// across updates of any length.
//
// Measured (autonic bench tls, this machine): feeding EVP each segment as it comes reaches ~0.83
// of one-shot speed over whole records. Holding back the partial block at each segment edge (so
// EVP only ever sees whole blocks) and producing its bytes from one extra AES block of keystream
// was slower (~0.77): OpenSSL finishes a partial block with a short byte loop, cheaper than the
// extra AES call and bookkeeping.
#pragma once
#include <openssl/evp.h>

#include <cstdint>

#include "common/bytes.h"

namespace autonic::nic {

class GcmStream {
 public:
  GcmStream(ByteSpan key);  // 16 or 32 bytes: AES-128 / AES-256
  ~GcmStream();
  GcmStream(const GcmStream&) = delete;
  GcmStream& operator=(const GcmStream&) = delete;

  void begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt);
  // Next in.size() bytes of the message (plaintext when encrypting, ciphertext when decrypting).
  void update(ByteSpan in, MutByteSpan out);
  void final_tag(uint8_t tag[16]);        // encrypt
  bool check_tag(const uint8_t tag[16]);  // decrypt

 private:
  EVP_CIPHER_CTX* gcm_;
};

}  // namespace autonic::nic
