#include "lib/pt.h"

static unsigned index_at(uint64_t va, unsigned level)
{
        return (unsigned)(va >> (PAGE_SHIFT + 9 * level)) & (PT_ENTRIES - 1);
}

static uint64_t *table_at(const struct pt *pt, uint64_t pa)
{
        return pt->mem->phys_to_virt(pt->mem->ctx, pa);
}

static bool present(const struct pt *pt, uint64_t e)
{
        return (e & pt->fmt->present_mask) != 0;
}

const char *pt_status_name(enum pt_status s)
{
        switch (s) {
        case PT_OK:
                return "ok";
        case PT_ERR_ALIGN:
                return "address or size not page-aligned";
        case PT_ERR_RANGE:
                return "range beyond 48 bits";
        case PT_ERR_NOMEM:
                return "out of memory for page tables";
        case PT_ERR_EXISTS:
                return "range already mapped";
        }
        return "unknown";
}

enum pt_status pt_init(struct pt *pt, const struct pt_format *fmt, const struct pt_mem *mem)
{
        pt->fmt = fmt;
        pt->mem = mem;
        pt->root = mem->alloc_table(mem->ctx);
        return pt->root ? PT_OK : PT_ERR_NOMEM;
}

/* Maps one page of PT_LEVEL_SIZE(level) at va. */
static enum pt_status map_one(struct pt *pt, uint64_t va, uint64_t pa, unsigned level,
                              uint64_t leaf_flags)
{
        uint64_t *table = table_at(pt, pt->root);

        for (unsigned l = PT_LEVELS - 1; l > level; l--) {
                uint64_t *e = &table[index_at(va, l)];
                if (!present(pt, *e)) {
                        uint64_t t = pt->mem->alloc_table(pt->mem->ctx);
                        if (!t)
                                return PT_ERR_NOMEM;
                        *e = (t & PT_ADDR_MASK) | pt->fmt->table_flags;
                } else if (*e & PT_LARGE_BIT) {
                        return PT_ERR_EXISTS;
                }
                table = table_at(pt, *e & PT_ADDR_MASK);
        }
        uint64_t *leaf = &table[index_at(va, level)];
        if (present(pt, *leaf))
                return PT_ERR_EXISTS;
        *leaf = (pa & PT_ADDR_MASK) | leaf_flags | (level ? PT_LARGE_BIT : 0);
        return PT_OK;
}

/* A lower table under a would-be large page means part of it is mapped. */
static bool subtree_empty(const struct pt *pt, uint64_t va, unsigned level)
{
        const uint64_t *table = table_at(pt, pt->root);
        for (unsigned l = PT_LEVELS - 1; l > level; l--) {
                uint64_t e = table[index_at(va, l)];
                if (!present(pt, e))
                        return true;
                if (e & PT_LARGE_BIT)
                        return false;
                table = table_at(pt, e & PT_ADDR_MASK);
        }
        return !present(pt, table[index_at(va, level)]);
}

enum pt_status pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint64_t leaf_flags)
{
        if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE) ||
            !IS_ALIGNED(size, PAGE_SIZE))
                return PT_ERR_ALIGN;
        if (va >= PT_VA_LIMIT || size > PT_VA_LIMIT - va || pa >= BIT(52) || size > BIT(52) - pa)
                return PT_ERR_RANGE;
        leaf_flags &= ~(PT_ADDR_MASK | PT_LARGE_BIT);

        while (size) {
                unsigned level = 0;
                for (unsigned l = 2; l >= 1; l--) {
                        uint64_t ps = PT_LEVEL_SIZE(l);
                        if ((pt->fmt->large_levels & (1u << l)) && IS_ALIGNED(va, ps) &&
                            IS_ALIGNED(pa, ps) && size >= ps && subtree_empty(pt, va, l)) {
                                level = l;
                                break;
                        }
                }
                enum pt_status st = map_one(pt, va, pa, level, leaf_flags);
                if (st != PT_OK)
                        return st;
                va += PT_LEVEL_SIZE(level);
                pa += PT_LEVEL_SIZE(level);
                size -= PT_LEVEL_SIZE(level);
        }
        return PT_OK;
}

bool pt_unmap_page(struct pt *pt, uint64_t va)
{
        if (va >= PT_VA_LIMIT || !IS_ALIGNED(va, PAGE_SIZE))
                return false;
        uint64_t *table = table_at(pt, pt->root);
        for (unsigned l = PT_LEVELS - 1; l > 0; l--) {
                uint64_t e = table[index_at(va, l)];
                if (!present(pt, e) || (e & PT_LARGE_BIT))
                        return false;
                table = table_at(pt, e & PT_ADDR_MASK);
        }
        uint64_t *leaf = &table[index_at(va, 0)];
        if (!present(pt, *leaf))
                return false;
        *leaf = 0;
        return true;
}

bool pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pa, uint64_t *flags, unsigned *level)
{
        if (va >= PT_VA_LIMIT)
                return false;
        const uint64_t *table = table_at(pt, pt->root);
        for (unsigned l = PT_LEVELS - 1;; l--) {
                uint64_t e = table[index_at(va, l)];
                if (!present(pt, e))
                        return false;
                if (l == 0 || (e & PT_LARGE_BIT)) {
                        uint64_t size = PT_LEVEL_SIZE(l);
                        uint64_t base = e & PT_ADDR_MASK & ~(size - 1);
                        *pa = base | (va & (size - 1));
                        *flags = e & ~PT_ADDR_MASK;
                        *level = l;
                        return true;
                }
                table = table_at(pt, e & PT_ADDR_MASK);
        }
}

static size_t count_from(const struct pt *pt, uint64_t table_pa, unsigned level)
{
        size_t n = 1;
        if (level == 0)
                return n;
        const uint64_t *table = table_at(pt, table_pa);
        for (unsigned i = 0; i < PT_ENTRIES; i++) {
                uint64_t e = table[i];
                if (present(pt, e) && !(e & PT_LARGE_BIT))
                        n += count_from(pt, e & PT_ADDR_MASK, level - 1);
        }
        return n;
}

size_t pt_count_tables(const struct pt *pt)
{
        return count_from(pt, pt->root, PT_LEVELS - 1);
}

static void destroy_from(struct pt *pt, uint64_t table_pa, unsigned level)
{
        if (level > 0) {
                const uint64_t *table = table_at(pt, table_pa);
                for (unsigned i = 0; i < PT_ENTRIES; i++) {
                        uint64_t e = table[i];
                        if (present(pt, e) && !(e & PT_LARGE_BIT))
                                destroy_from(pt, e & PT_ADDR_MASK, level - 1);
                }
        }
        pt->mem->free_table(pt->mem->ctx, table_pa);
}

void pt_destroy(struct pt *pt)
{
        if (pt->root)
                destroy_from(pt, pt->root, PT_LEVELS - 1);
        pt->root = 0;
}
