// lwIP headers for C++ (lwIP is C; Debian 2.1.3 built unmodified with our lwipopts.h).
#pragma once
// The C library's byte-order functions are declared before lwIP's def.h turns htonl & co. into
// macros: a later <netinet/in.h> (pcap, netdb) is then already included and clang does not see
// two declarations of one function disagree on exception specifications.
#include <netinet/in.h>
extern "C" {
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/priv/tcp_priv.h"  // struct tcp_seg: read-only look at the unsent queue
}
