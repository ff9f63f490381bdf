#include "l5o/l5o.h"

namespace autonic::l5o {

const char* proto_name(L5Proto p) {
  switch (p) {
#define AUTONIC_L5PROTO_NAME(ident, E, counter, cli, shape) \
  case L5Proto::k##E:                                    \
    return counter;
    AUTONIC_L5P_REGISTRY(AUTONIC_L5PROTO_NAME)
#undef AUTONIC_L5PROTO_NAME
  }
  return "unknown";
}

}  // namespace autonic::l5o
