#include "l5o/l5o.h"

namespace autonic::l5o {

const char* proto_name(L5Proto p) {
  switch (p) {
    case L5Proto::kFramed: return "framed";
    case L5Proto::kTls: return "tls";
    case L5Proto::kNvmeTcp: return "nvme_tcp";
  }
  return "unknown";
}

}  // namespace autonic::l5o
