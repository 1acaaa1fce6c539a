/* Host memory: the physical page allocator fed from the boot memory map,
 * and the host's own page tables (identity map, W^X for the image). */
#ifndef VTV_ARCH_X86_MM_H
#define VTV_ARCH_X86_MM_H

#include "boot/bootinfo.h"
#include "lib/types.h"

/* Frees usable RAM from the map, reserves the image, the boot information
 * and the modules.  Refuses to boot when too little memory remains. */
void mm_init(const struct bootinfo *bi);

/* Zeroed pages, or 0 when memory is exhausted. */
hpa_t mm_alloc_pages(uint64_t npages, uint64_t align);
void mm_free_pages(hpa_t pa, uint64_t npages);
uint64_t mm_free_bytes(void);

/* Builds and loads the final host page tables. */
void paging_init(const struct bootinfo *bi);

#endif
