#include "l5p/nvme/nvme_error.h"

namespace autonic::l5p::nvme {

namespace {
struct Entry {
  const char* name;
  Fes fes;
};
// Indexed by NvmeError.
constexpr Entry kErrors[] = {
    {"nvme:malformed_pdu", Fes::kInvalidHeaderField},
    {"nvme:pdu_sequence_error", Fes::kPduSequenceError},
    {"nvme:wrong_direction_pdu", Fes::kInvalidHeaderField},
    {"nvme:digest_flags_mismatch", Fes::kInvalidHeaderField},
    {"nvme:header_digest_error", Fes::kHeaderDigestError},
    {"nvme:data_out_of_range", Fes::kDataOutOfRange},
    {"nvme:ddp_mismatch", Fes::kInvalidHeaderField},
    {"nvme:unsupported_pfv", Fes::kUnsupportedParameter},
    {"nvme:bad_maxh2cdata", Fes::kUnsupportedParameter},
    {"nvme:unsupported_ic_param", Fes::kUnsupportedParameter},
    {"nvme:unexpected_pdu_at_controller", Fes::kInvalidHeaderField},
    {"nvme:duplicate_cid", Fes::kInvalidHeaderField},
    {"nvme:h2c_without_r2t", Fes::kPduSequenceError},
    {"nvme:h2c_incomplete", Fes::kPduSequenceError},
    {"nvme:too_many_commands", Fes::kPduSequenceError},
    {"nvme:unexpected_pdu_at_host", Fes::kInvalidHeaderField},
    {"nvme:bad_r2t", Fes::kDataOutOfRange},
    {"nvme:response_for_unknown_cid", Fes::kInvalidHeaderField},
    {"nvme:ddp_teardown_unconfirmed", Fes::kUnsupportedParameter},
    {"nvme:connection_closed", Fes::kInvalidHeaderField},
    {"nvme:tx_offload_lost", Fes::kInvalidHeaderField},
    {"nvme:send_buffer_full", Fes::kInvalidHeaderField},
    {"nvme:stopped", Fes::kInvalidHeaderField},
};
static_assert(sizeof kErrors / sizeof kErrors[0] == size_t(NvmeError::kStopped) + 1);

const char* fes_name(uint16_t fes) {
  switch (fes) {
    case 0x01: return "invalid_header_field";
    case 0x02: return "pdu_sequence_error";
    case 0x03: return "header_digest_error";
    case 0x04: return "data_out_of_range";
    case 0x05: return "data_limit_exceeded";
    case 0x06: return "unsupported_parameter";
    default: return "unknown";
  }
}
}  // namespace

const char* name(NvmeError e) { return kErrors[size_t(e)].name; }
Fes fes_of(NvmeError e) { return kErrors[size_t(e)].fes; }
std::string terminated_outcome(uint16_t fes) { return std::string("nvme:terminated:") + fes_name(fes); }
std::string init_failed_outcome(std::string_view step) { return "nvme:init_failed:" + std::string(step); }

}  // namespace autonic::l5p::nvme
