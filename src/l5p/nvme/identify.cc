#include "l5p/nvme/identify.h"
#include "proto/nvme/nvme_pdu.h"


namespace autonic::l5p::nvme {

// The wire format lives in src/proto/nvme/, shared with the NIC model; this L5P speaks it
// unqualified.
using namespace proto::nvme;

std::optional<std::string> parse_identify_ctrl(ByteSpan d, uint64_t cap, CtrlInfo* out) {
  if (d.size() != kIdentifyLen) return "identify_ctrl_length";
  // MDTS (byte 77): a power of two in units of the minimum memory page size, 2^(12 + MPSMIN);
  // 0 = no limit. Exponents past 2^63 bytes mean "no limit" to any I/O this host can issue.
  const uint32_t mpsmin = uint32_t(cap >> 48) & 0xF;
  const uint32_t mdts = d[77];
  const uint32_t shift = 12 + mpsmin + mdts;
  out->max_transfer = mdts == 0 || shift >= 63 ? 0 : uint64_t(1) << shift;
  out->cntlid = le16(&d[78]);
  out->kas = le16(&d[320]);
  out->maxcmd = le16(&d[514]);
  out->sgls = le32(&d[536]);
  out->ioccsz = le32(&d[1792]);
  out->iorcsz = le32(&d[1796]);
  out->icdoff = le16(&d[1800]);
  return std::nullopt;
}

std::optional<std::string> parse_identify_ns(ByteSpan d, NsInfo* out) {
  if (d.size() != kIdentifyLen) return "identify_ns_length";
  const uint64_t nsze = le64(&d[0]), ncap = le64(&d[8]);
  const uint8_t nlbaf = d[25], flbas = d[26];
  // FLBAS bits 3:0 (and 6:5 for more than 16 formats, NVMe 2.0) select the format in use;
  // Linux: lbaf[flbas & 0xf]. It must be one of the NLBAF + 1 formats the namespace reports.
  if ((flbas & 0x60) != 0) return "identify_ns_flbas";  // format index >= 16: not supported here
  const uint8_t idx = flbas & 0x0F;
  if (idx > nlbaf) return "identify_ns_flbas";
  const uint8_t* lbaf = &d[128 + 4 * size_t(idx)];
  const uint16_t ms = le16(lbaf);
  const uint8_t lbads = lbaf[2];
  if (ms != 0) return "identify_ns_metadata";          // this host moves no metadata
  if (lbads < 9 || lbads > 12) return "identify_ns_lbads";  // 512 .. 4096-byte blocks
  if (nsze == 0 || ncap > nsze) return "identify_ns_nsze";
  if (nsze > (UINT64_MAX >> lbads)) return "identify_ns_nsze";  // bytes must fit in 64 bits
  out->nsze = nsze;
  out->lba_size = 1u << lbads;
  return std::nullopt;
}

}  // namespace autonic::l5p::nvme
