/* Standard names the compiler may call on its own (struct copies, zeroing).
 * Only linked into the freestanding hypervisor, never into host tests. */
#include "lib/string.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memset(void *dst, int c, size_t n)
{
        return vtv_memset(dst, c, n);
}

void *memcpy(void *dst, const void *src, size_t n)
{
        return vtv_memcpy(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
        return vtv_memmove(dst, src, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
        return vtv_memcmp(a, b, n);
}
