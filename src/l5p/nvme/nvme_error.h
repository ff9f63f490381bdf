// The NVMe/TCP L5P's fatal errors as a type: each names the outcome the user sees (the strings
// are part of the interface: tests and the CLI report them) and the Fatal Error Status its
// TermReq carries (NVMe/TCP spec "Transport Errors").
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/nvme/nvme_pdu.h"

namespace autonic::l5p::nvme {

using namespace proto::nvme;

enum class NvmeError : uint8_t {
  // the queue's PDU parser
  kMalformedPdu, kPduSequenceError, kWrongDirectionPdu, kDigestFlagsMismatch, kHeaderDigestError,
  kDataOutOfRange, kDdpMismatch, kUnsupportedPfv, kBadMaxh2cdata,
  kUnsupportedIcParam,  // ICReq HPDA / ICResp CPDA we cannot honour, or digests not asked for
  // the controller
  kUnexpectedPduAtController, kDuplicateCid, kH2cWithoutR2t, kH2cIncomplete,
  kTooManyCommands,  // more commands in flight than the queue's entries allow (nvmet: out of commands)
  // the host
  kUnexpectedPduAtHost, kBadR2t, kResponseForUnknownCid, kDdpTeardownUnconfirmed,
  // reported without a TermReq of ours
  kConnectionClosed,  // the peer closed the connection
  kTxOffloadLost,     // the TX context is gone for good: queued PDUs can never leave (fail closed)
  kSendBufferFull,    // TCP took only part of an ICReq / ICResp: never sent cut short
  kStopped,           // the queue already failed and said why (a TermReq received, a handler's verdict)
};

// The outcome string, e.g. "nvme:malformed_pdu".
const char* name(NvmeError e);
// The FES a TermReq for this error carries.
Fes fes_of(NvmeError e);
// "nvme:terminated:<fes>": the peer's TermReq.
std::string terminated_outcome(uint16_t fes);
// "nvme:init_failed:<step>": a start-up command failed.
std::string init_failed_outcome(std::string_view step);

}  // namespace autonic::l5p::nvme
