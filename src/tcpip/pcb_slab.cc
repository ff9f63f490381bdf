// lwIP's heap hook: TCP pcbs from one contiguous slab (see port/pcb_slab.h for why).
#include "tcpip/port/pcb_slab.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tcpip/lwip.h"

namespace {

// What memp.c asks mem_malloc for, for one tcp_pcb (MEMP_MEM_MALLOC): the element rounded up
// to MEM_ALIGNMENT (MEMP_SIZE is 0 without overflow checks).
constexpr size_t kPcbAlloc = LWIP_MEM_ALIGN_SIZE(sizeof(struct tcp_pcb));
// Room for 2 x 131072 pcbs and then some: address space only (MAP_NORESERVE), pages are
// touched as pcbs are made.
constexpr size_t kSlots = 1u << 20;

struct Slab {
  uint8_t* base = nullptr;
  size_t next = 0;         // slots handed out so far (bump)
  void* free_list = nullptr;  // freed slots, each holding the next one (LIFO)
  bool tried = false;
  bool contains(const void* p) const {
    return base && p >= base && static_cast<const uint8_t*>(p) < base + kSlots * kPcbAlloc;
  }
};
Slab g_slab;

void* slab_alloc() {
  if (!g_slab.tried) {
    g_slab.tried = true;
    void* m = mmap(nullptr, kSlots * kPcbAlloc, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m != MAP_FAILED) {
      g_slab.base = static_cast<uint8_t*>(m);
      // 2 MiB pages where the kernel has them (THP "madvise"): 256K pcbs on 4 KiB pages are 16K
      // pages, far more than the TLB holds, and the walk would pay a page-table walk per pcb.
      madvise(m, kSlots * kPcbAlloc, MADV_HUGEPAGE);
    }
  }
  if (g_slab.free_list) {
    void* p = g_slab.free_list;
    std::memcpy(&g_slab.free_list, p, sizeof(void*));
    return p;
  }
  if (!g_slab.base || g_slab.next == kSlots) return nullptr;  // no slab: malloc instead
  return g_slab.base + kPcbAlloc * g_slab.next++;
}

}  // namespace

// Sanitizer builds keep malloc for pcbs too: ASan then still sees every pcb use after free.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUseSlab = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kUseSlab = false;
#else
constexpr bool kUseSlab = true;
#endif
#else
constexpr bool kUseSlab = true;
#endif

extern "C" void* autonic_lwip_malloc(size_t size) {
  if (kUseSlab && size == kPcbAlloc)
    if (void* p = slab_alloc()) return p;
  return std::malloc(size);
}

extern "C" void* autonic_lwip_calloc(size_t count, size_t size) { return std::calloc(count, size); }

extern "C" void autonic_lwip_free(void* p) {
  if (!g_slab.contains(p)) return std::free(p);
  std::memcpy(p, &g_slab.free_list, sizeof(void*));
  g_slab.free_list = p;
}
