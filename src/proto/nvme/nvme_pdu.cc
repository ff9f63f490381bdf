#include "proto/nvme/nvme_pdu.h"

#include <isa-l/crc.h>

namespace autonic::proto::nvme {

uint32_t crc_update(uint32_t crc, ByteSpan data) {
  if (data.empty()) return crc;
  return crc32_iscsi(const_cast<uint8_t*>(data.data()), int(data.size()), crc);
}

}  // namespace autonic::proto::nvme
