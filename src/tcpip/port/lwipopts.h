/* autonic's lwIP configuration. lwIP itself is Debian's 2.1.3, unmodified; everything that
 * differs from the stock build is chosen here. See DESIGN.md "Facts established". */
#ifndef AUTONIC_LWIPOPTS_H
#define AUTONIC_LWIPOPTS_H

/* One thread, raw API, our own main loop (lwip_init + sys_check_timeouts). */
#define NO_SYS                     1
#define LWIP_SOCKET                0
#define LWIP_NETCONN               0
#define SYS_LIGHTWEIGHT_PROT       0
#define LWIP_TIMERS                1

/* Memory: plain malloc so window-sized queues never hit pool limits. */
#define MEM_LIBC_MALLOC            1
#define MEMP_MEM_MALLOC            1
#define MEM_ALIGNMENT              8
/* The heap lwIP's mem_malloc uses: TCP pcbs from a contiguous slab, the rest from malloc
 * (port/pcb_slab.h says why). */
#include "pcb_slab.h"
#define mem_clib_malloc            autonic_lwip_malloc
#define mem_clib_calloc            autonic_lwip_calloc
#define mem_clib_free              autonic_lwip_free
#define MEMP_NUM_TCP_PCB           512
#define MEMP_NUM_TCP_PCB_LISTEN    64
#define MEMP_NUM_TCP_SEG           65535
#define MEMP_NUM_PBUF              65535
#define PBUF_POOL_SIZE             1024
#define PBUF_POOL_BUFSIZE          9216
/* With MEMP_MEM_MALLOC every pool above is malloc'd one element at a time: the MEMP_NUM_* counts
 * are not limits (lwIP's memp.c checks none), memory is. A run of 131072 flows holds 262144
 * pcbs (both hosts live in this lwIP); past what malloc gives, tcp_new() fails and the testbed
 * says so ("tcp_new failed"). */


/* IPv4 + TCP only; both hosts' netifs live in this one instance, each pcb bound to its own
 * netif (tcp_bind_netif) so frames always cross the wire. No ARP: our netif output writes a
 * static Ethernet header (the testbed knows both MACs). */
#define LWIP_IPV4                  1
#define LWIP_IPV6                  0
#define LWIP_ARP                   0
#define LWIP_ETHERNET              0
#define LWIP_ICMP                  1
#define LWIP_RAW                   0
#define LWIP_UDP                   0
#define LWIP_DHCP                  0
#define LWIP_IGMP                  0
#define LWIP_DNS                   0
#define IP_REASSEMBLY              0
#define IP_FRAG                    0
#define LWIP_NETIF_LOOPBACK        0
#define LWIP_HAVE_LOOPIF           0
/* Exposes lwIP's timeout list (sys_timeouts_get_next_timeout) and nothing else of note: what
   lwip_stop needs to leave the process ready for another run (in-process fuzzing). A
   configuration switch of lwIP's own, not a patch. */
#define LWIP_TESTMODE              1
#define LWIP_SINGLE_NETIF          0

/* Checksums per netif: the NIC model does TCP checksum offload both ways. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

/* TCP: jumbo-capable MSS, windows >= 256 KiB with RFC 7323 scaling, SACK sent (RFC 2018),
 * out-of-order queueing, timers fine enough for tens-of-ms retransmission timeouts. */
#define LWIP_TCP                   1
#define TCP_MSS                    8960
#define TCP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_WND_SCALE             1
#define TCP_RCV_SCALE              5
#define TCP_WND                    (1024 * 1024)
#define TCP_SND_BUF                (256 * 1024)  /* >= bandwidth-delay product at 100 Gbps x 20 us; larger only lengthens lwIP's O(n) unacked walk in tcp_output */
#define TCP_SND_QUEUELEN           4096
#define TCP_SNDLOWAT               16384
#define TCP_QUEUE_OOSEQ            1
#define LWIP_TCP_SACK_OUT          1
#define LWIP_TCP_MAX_SACK_NUM      4
#define TCP_OVERSIZE               TCP_MSS
#define LWIP_TCP_TIMESTAMPS        0
#define TCP_MAXRTX                 12
#define TCP_SYNMAXRTX              12
#define TCP_TMR_INTERVAL           1   /* ms; slow timer = 2 ms, so RTO floor is a few ms */
#define TCP_LISTEN_BACKLOG         0
#define LWIP_TCP_KEEPALIVE         0
#define LWIP_CALLBACK_API          1
#define LWIP_SUPPORT_CUSTOM_PBUF   1
#define LWIP_NETIF_TX_SINGLE_PBUF  0

/* Deterministic initial sequence numbers from the run seed (RFC 6528 wants unpredictable ISNs;
 * here reproducibility wins, and the seed still varies them). */
#ifdef __cplusplus
extern "C" {
#endif
struct ip4_addr;
unsigned int autonic_tcp_isn(const void *local_ip, unsigned short local_port,
                             const void *remote_ip, unsigned short remote_port);
#ifdef __cplusplus
}
#endif
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) autonic_tcp_isn((lip), (lport), (rip), (rport))

#define LWIP_STATS                 0
#define LWIP_DEBUG                 0
#define LWIP_NOASSERT              0
#endif
