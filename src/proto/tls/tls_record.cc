#include "proto/tls/tls_record.h"

namespace autonic::proto::tls {

const char* cipher_name(Cipher c) {
  switch (c) {
    case Cipher::kAes128Gcm: return "aes128gcm";
    case Cipher::kAes256Gcm: return "aes256gcm";
    case Cipher::kChacha20Poly1305: return "chacha20poly1305";
  }
  return "?";
}

const char* version_name(Version v) { return v == Version::kTls12 ? "1.2" : "1.3"; }

}  // namespace autonic::proto::tls
