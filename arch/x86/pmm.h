/* Physical page allocator: one bit per 4 KiB page of the first PMM_MAX_BYTES
 * of physical memory.  Starts with every page reserved; the boot code frees
 * the usable regions of the memory map, then reserves the image and modules.
 * Pure: the bitmap is caller-owned, so host tests use a private one. */
#ifndef VTV_ARCH_X86_PMM_H
#define VTV_ARCH_X86_PMM_H

#include "lib/types.h"

#define PMM_MAX_BYTES GiB(64)
#define PMM_MAX_PAGES (PMM_MAX_BYTES / PAGE_SIZE)

struct pmm {
        uint64_t *bitmap; /* bit set = page in use or not RAM */
        uint64_t npages;  /* pages covered by the bitmap */
        uint64_t free_pages;
        uint64_t hint; /* where the next search starts */
};

/* bitmap must hold npages bits. */
void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t npages);
/* Marks whole pages inside [base, base+len) free (the range is shrunk to
 * page boundaries) or used (grown to page boundaries). */
void pmm_add_free(struct pmm *p, uint64_t base, uint64_t len);
void pmm_reserve(struct pmm *p, uint64_t base, uint64_t len);
/* Allocates npages contiguous pages aligned to align bytes (a power of two,
 * at least 4 KiB).  Returns the physical address, or 0 when none is free. */
uint64_t pmm_alloc(struct pmm *p, uint64_t npages, uint64_t align);
void pmm_free(struct pmm *p, uint64_t pa, uint64_t npages);

#endif
