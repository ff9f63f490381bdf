// How the receive side of the record layer ends a session (RFC 8446 §6.2: fatal alerts).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace autonic::l5p::tls {

// What a fatal receive error asks the session to do.
struct RxFailure {
  std::string outcome;            // e.g. "alert:bad_record_mac"
  std::optional<uint8_t> alert;   // alert description to send to the peer, if any
};

// RFC 8446 §6 alert descriptions we send or name.
enum : uint8_t {
  kCloseNotify = 0, kUnexpectedMessage = 10, kBadRecordMac = 20, kRecordOverflow = 22,
  kIllegalParameter = 47, kDecodeError = 50, kInternalError = 80,
};

const char* alert_name(uint8_t desc);

}  // namespace autonic::l5p::tls
