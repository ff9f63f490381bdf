/* autonic's lwIP arch glue for Linux/x86-64 with glibc. */
#ifndef AUTONIC_ARCH_CC_H
#define AUTONIC_ARCH_CC_H
#include <stdio.h>
#include <stdlib.h>
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
/* An lwIP assertion is a bug in our use of lwIP: stop loudly. */
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); abort(); } while (0)
#define LWIP_RAND() ((u32_t)rand())
#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_NO_CTYPE_H 0
#endif
