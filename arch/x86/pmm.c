#include "arch/x86/pmm.h"
#include "lib/string.h"

static bool used(const struct pmm *p, uint64_t pfn)
{
        return (p->bitmap[pfn / 64] >> (pfn % 64)) & 1;
}

static void set_range(struct pmm *p, uint64_t first, uint64_t count, bool in_use)
{
        for (uint64_t pfn = first; pfn < first + count && pfn < p->npages; pfn++) {
                uint64_t m = 1ULL << (pfn % 64);
                bool was = (p->bitmap[pfn / 64] & m) != 0;
                if (in_use && !was) {
                        p->bitmap[pfn / 64] |= m;
                        p->free_pages--;
                } else if (!in_use && was) {
                        p->bitmap[pfn / 64] &= ~m;
                        p->free_pages++;
                }
        }
}

void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t npages)
{
        p->bitmap = bitmap;
        p->npages = npages;
        p->free_pages = 0;
        p->hint = 0;
        vtv_memset(bitmap, 0xff, (size_t)((npages + 63) / 64 * 8));
}

void pmm_add_free(struct pmm *p, uint64_t base, uint64_t len)
{
        if (len == 0 || base + len < base)
                return;
        uint64_t first = ALIGN_UP(base, PAGE_SIZE) / PAGE_SIZE;
        uint64_t end = ALIGN_DOWN(base + len, PAGE_SIZE) / PAGE_SIZE;
        /* Page 0 stays reserved so that 0 can mean "no memory". */
        if (first == 0)
                first = 1;
        if (end > first)
                set_range(p, first, end - first, false);
}

void pmm_reserve(struct pmm *p, uint64_t base, uint64_t len)
{
        if (len == 0)
                return;
        uint64_t first = ALIGN_DOWN(base, PAGE_SIZE) / PAGE_SIZE;
        uint64_t end = base + len < base ? p->npages : ALIGN_UP(base + len, PAGE_SIZE) / PAGE_SIZE;
        if (end > first)
                set_range(p, first, end - first, true);
}

static uint64_t search(struct pmm *p, uint64_t from, uint64_t to, uint64_t npages,
                       uint64_t align_pages)
{
        uint64_t pfn = ALIGN_UP(from, align_pages);
        while (pfn + npages <= to) {
                uint64_t i = 0;
                while (i < npages && !used(p, pfn + i))
                        i++;
                if (i == npages)
                        return pfn;
                pfn = ALIGN_UP(pfn + i + 1, align_pages);
        }
        return 0;
}

uint64_t pmm_alloc(struct pmm *p, uint64_t npages, uint64_t align)
{
        if (npages == 0 || npages > p->free_pages || align < PAGE_SIZE || (align & (align - 1)))
                return 0;
        uint64_t align_pages = align / PAGE_SIZE;
        uint64_t pfn = search(p, p->hint, p->npages, npages, align_pages);
        if (!pfn)
                pfn = search(p, 1, p->npages, npages, align_pages);
        if (!pfn)
                return 0;
        set_range(p, pfn, npages, true);
        p->hint = pfn + npages;
        return pfn * PAGE_SIZE;
}

void pmm_free(struct pmm *p, uint64_t pa, uint64_t npages)
{
        if (pa == 0)
                return;
        set_range(p, pa / PAGE_SIZE, npages, false);
}
