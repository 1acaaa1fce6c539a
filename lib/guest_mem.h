/* Guest RAM as the hypervisor sees it: guest-physical [0, size) at base in
 * hypervisor memory.  The pure models that read guest memory (loaders,
 * virtqueues) take one of these. */
#ifndef VTV_LIB_GUEST_MEM_H
#define VTV_LIB_GUEST_MEM_H

#include "lib/types.h"

struct guest_mem {
        uint8_t *base;
        uint64_t size;
};

/* base + gpa when [gpa, gpa + len) lies inside guest RAM, else NULL. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
        return range_within(gpa, len, 0, m->size) ? m->base + gpa : NULL;
}

#endif
