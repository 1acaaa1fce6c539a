/* Guest page-table walk: translates a guest-linear address to a
 * guest-physical one the way the guest's MMU would, for the hypervisor's
 * own accesses (fetching an instruction to emulate, string I/O).  Covers
 * paging off, 32-bit, PAE and 4-level paging (SDM Vol. 3A 4.3-4.5).
 * Pure: guest memory is read through a callback, and every failure is a
 * fault to inject into the guest, never a hypervisor error. */
#ifndef VTV_EMULATE_GUEST_WALK_H
#define VTV_EMULATE_GUEST_WALK_H

#include "lib/types.h"

struct walk_ctx {
        uint64_t cr0, cr3, cr4, efer;
        unsigned cpl;
        /* Reads size (4 or 8) bytes of guest-physical memory; false when the
         * address is not guest RAM. */
        bool (*read_gpa)(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);
        void *ctx;
};

enum walk_access { WALK_READ = 0, WALK_WRITE = 1, WALK_FETCH = 2 };

enum walk_result {
        WALK_OK = 0,
        WALK_PAGE_FAULT, /* inject #PF with *pf_error, CR2 = the address */
        WALK_BAD_GPA,    /* a paging structure lies outside guest RAM */
};

/* #PF error-code bits (SDM 4.7). */
#define PF_P    BIT(0)
#define PF_W    BIT(1)
#define PF_U    BIT(2)
#define PF_RSVD BIT(3)
#define PF_I    BIT(4)

enum walk_result guest_walk(const struct walk_ctx *w, uint64_t gva, enum walk_access access,
                            uint64_t *gpa, uint32_t *pf_error);

#endif
