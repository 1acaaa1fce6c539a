/* One page-table engine for both the host's own 4-level paging and EPT.
 *
 * The two formats differ only in data: which bits mean "present", what a
 * non-leaf entry carries, and where a leaf may be a large page.  Memory for
 * tables comes from an injected allocator and is reached through an injected
 * phys-to-virt function, so host unit tests run this exact code against fake
 * memory.  Pure: no privileged instructions, no globals. */
#ifndef VTV_LIB_PT_H
#define VTV_LIB_PT_H

#include "lib/types.h"

#define PT_LEVELS    4
#define PT_ENTRIES   512
#define PT_ADDR_MASK 0x000ffffffffff000ULL
#define PT_LARGE_BIT BIT(7)
#define PT_VA_LIMIT  BIT(48)

/* Page sizes by level: level 0 maps 4 KiB, 1 maps 2 MiB, 2 maps 1 GiB. */
#define PT_LEVEL_SIZE(l) (PAGE_SIZE << (9 * (l)))

struct pt_format {
        const char *name;
        uint64_t present_mask; /* an entry is present if any of these bits is set */
        uint64_t table_flags;  /* flags of an entry that points to a lower table */
        unsigned large_levels; /* bit l set: a leaf may sit at level l (l = 1, 2) */
};

struct pt_mem {
        void *ctx;
        /* Returns the physical address of a zeroed, 4 KiB-aligned page, or 0. */
        uint64_t (*alloc_table)(void *ctx);
        void *(*phys_to_virt)(void *ctx, uint64_t pa);
        /* Gives a table page back; used by pt_destroy only. */
        void (*free_table)(void *ctx, uint64_t pa);
};

struct pt {
        const struct pt_format *fmt;
        const struct pt_mem *mem;
        uint64_t root; /* physical address of the top-level table */
};

enum pt_status {
        PT_OK = 0,
        PT_ERR_ALIGN,  /* address or size not 4 KiB-aligned */
        PT_ERR_RANGE,  /* beyond 48 bits, or wraps */
        PT_ERR_NOMEM,  /* the allocator returned 0 */
        PT_ERR_EXISTS, /* part of the range is already mapped */
};

const char *pt_status_name(enum pt_status s);

/* Allocates the root table. */
enum pt_status pt_init(struct pt *pt, const struct pt_format *fmt, const struct pt_mem *mem);

/* Maps [va, va+size) to [pa, pa+size) with leaf_flags, using the largest page
 * size the format allows where both addresses and the remaining length are
 * aligned.  Nothing already mapped is overwritten.  On failure, entries made
 * before the failure stay (callers treat failure as fatal for that table). */
enum pt_status pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint64_t leaf_flags);

/* Removes the 4 KiB mapping of the page at va (page-aligned).  Returns
 * false, changing nothing, when va is not mapped by a 4 KiB leaf (unmapped,
 * or inside a large page, which this does not split).  The tables stay;
 * the caller invalidates cached translations. */
bool pt_unmap_page(struct pt *pt, uint64_t va);

/* Finds the leaf for va.  Returns false if unmapped; otherwise fills *pa
 * (the translated address, page offset included), *flags (the leaf entry
 * without its address bits) and *level (0 = 4 KiB page). */
bool pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pa, uint64_t *flags, unsigned *level);

/* Frees every table, the root included (the mapped memory is untouched). */
void pt_destroy(struct pt *pt);

/* Number of tables reachable from the root, the root included. */
size_t pt_count_tables(const struct pt *pt);

#endif
