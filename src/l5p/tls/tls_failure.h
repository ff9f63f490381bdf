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

const char* alert_name(uint8_t desc);

}  // namespace autonic::l5p::tls
