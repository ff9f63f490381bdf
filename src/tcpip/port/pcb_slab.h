/* lwIP's heap hook (MEM_LIBC_MALLOC: mem.c calls mem_clib_malloc / mem_clib_free, lwipopts.h
 * points them here). TCP pcbs come from one contiguous slab; everything else from malloc.
 *
 * Why: lwIP finds a segment's pcb by walking tcp_active_pcbs (tcp_in.c), which we may not
 * change. With 128K connections (issue #13) that walk visits up to 256K pcbs a packet; pcbs
 * scattered through a multi-GiB heap cost a cache and TLB miss each, pcbs packed in one slab in
 * the order they were opened are read as a stream. Same walk, same results: only where the
 * pcbs live differs. */
#ifndef AUTONIC_PCB_SLAB_H
#define AUTONIC_PCB_SLAB_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
void* autonic_lwip_malloc(size_t size);
void* autonic_lwip_calloc(size_t count, size_t size);
void autonic_lwip_free(void* p);
#ifdef __cplusplus
}
#endif
#endif
