// OpenSSL's AEAD for each record cipher: one table for the record layer (tls_sw) and the NIC's
// engine (aead_stream).
#pragma once
#include <openssl/evp.h>

#include "proto/tls/tls_record.h"

namespace autonic::proto::tls {

inline const EVP_CIPHER* evp_aead(Cipher c) {
  switch (c) {
    case Cipher::kAes128Gcm: return EVP_aes_128_gcm();
    case Cipher::kAes256Gcm: return EVP_aes_256_gcm();
    case Cipher::kChacha20Poly1305: return EVP_chacha20_poly1305();
  }
  return nullptr;
}

}  // namespace autonic::proto::tls
