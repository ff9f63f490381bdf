// Incremental AEAD over arbitrary byte ranges with constant-size state: what the NIC's TLS
// engine needs to process a record cut into TCP segments at any byte (§3.2).
// AES-GCM: our own GCM over OpenSSL's AES-CTR (gcm_stream.h), whose dynamic state we hold, so
// a context can be parked mid-record (its key schedule dropped) and resumed. ChaCha20-Poly1305 (RFC 8439 §2.8) meets the same precondition
// (the paper's Table 3: size-preserving, incremental with constant state): the ChaCha20 block
// counter + the unused part of the current 64-byte keystream block, and Poly1305's accumulator,
// r, s and a partial 16-byte block (chacha_stream.h).
//
// Measured before (autonic bench tls, this machine): feeding OpenSSL's EVP AES-GCM each segment
// as it comes reached ~0.83 of one-shot speed over whole records.
#pragma once
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "nic/plugins/tls/chacha_stream.h"
#include "nic/plugins/tls/gcm_stream.h"
#include "proto/tls/tls_record.h"

namespace autonic::nic {

class AeadStream {
 public:
  AeadStream(proto::tls::Cipher cipher, ByteSpan key);
  ~AeadStream();
  AeadStream(const AeadStream&) = delete;
  AeadStream& operator=(const AeadStream&) = delete;

  // A new key schedule (TLS 1.3 KeyUpdate epochs).
  void rekey(proto::tls::Cipher cipher, ByteSpan key);
  void begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt);
  // Next in.size() bytes of the message (plaintext when encrypting, ciphertext when decrypting).
  void update(ByteSpan in, MutByteSpan out);
  void final_tag(uint8_t tag[16]);        // encrypt
  bool check_tag(const uint8_t tag[16]);  // decrypt
  // Bytes of dynamic state a NIC keeps for this cipher mid-record (context_bytes()).
  static size_t dynamic_state_bytes(proto::tls::Cipher cipher);
  // The context left the NIC (§6.5): drop the working state (key schedules, scratch), keep what
  // resumes it. AES-GCM: at any byte. ChaCha20-Poly1305 (its Poly1305 state is OpenSSL's):
  // between records only.
  void park();
  // The whole state in its at-rest form (pack.h), AES-GCM only (ChaCha20-Poly1305's Poly1305
  // state is OpenSSL's): thaw() takes it back into a stream made for the same cipher.
  bool freezable() const { return !chacha_; }
  void freeze(Packer& p) const { gcm_.freeze(p); }
  void thaw(Unpacker& u) { gcm_.thaw(u); }

 private:
  GcmStream gcm_;                              // AES-GCM
  std::unique_ptr<ChachaPolyStream> chacha_;   // ChaCha20-Poly1305 (null otherwise)
};

}  // namespace autonic::nic
