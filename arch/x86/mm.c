#include "arch/x86/mm.h"
#include "arch/x86/cpu.h"
#include "arch/x86/pmm.h"
#include "arch/x86/spinlock.h"
#include "lib/log.h"
#include "lib/pt.h"
#include "lib/string.h"

/* The hypervisor needs its image, its tables and at least one small VM. */
#define MIN_FREE_BYTES MiB(16)
#define HOST_MAX_PHYS  GiB(16)

extern char __image_start[], __image_end[], __text_start[], __text_end[], __rodata_start[],
    __rodata_end[], __data_start[], __bss_end[];

static uint64_t pmm_bitmap[HOST_MAX_PHYS / PAGE_SIZE / 64];
static struct pmm pmm;
/* pmm_lock protects the page allocator; taken inside vm->lock, outside the
 * console's. */
static struct spinlock pmm_lock = SPINLOCK_INIT;

void mm_init(const struct bootinfo *bi)
{
        pmm_init(&pmm, pmm_bitmap, HOST_MAX_PHYS / PAGE_SIZE);
        uint64_t total = 0;
        for (size_t i = 0; i < bi->nregions; i++) {
                const struct mem_region *r = &bi->regions[i];
                if (r->type == MEM_USABLE) {
                        pmm_add_free(&pmm, r->base, r->len);
                        total += r->len;
                }
        }
        /* The first MiB holds BIOS data and the boot information GRUB left
         * there; nothing of ours needs it. */
        pmm_reserve(&pmm, 0, MiB(1));
        pmm_reserve(&pmm, (uint64_t)(uintptr_t)__image_start,
                    (uint64_t)(uintptr_t)(__image_end - __image_start));
        for (size_t i = 0; i < bi->nmodules; i++)
                pmm_reserve(&pmm, bi->modules[i].start, bi->modules[i].end - bi->modules[i].start);

        log_line("memory: %llu MiB usable, %llu MiB free after the image and %zu module(s)",
                 (unsigned long long)(total >> 20),
                 (unsigned long long)((pmm.free_pages * PAGE_SIZE) >> 20), bi->nmodules);
        if (pmm.free_pages * PAGE_SIZE < MIN_FREE_BYTES)
                refuse("only %llu MiB of RAM is free; vtvisor needs at least %llu MiB. Give the "
                       "machine more memory (Bochs: raise 'megs:')",
                       (unsigned long long)((pmm.free_pages * PAGE_SIZE) >> 20),
                       (unsigned long long)(MIN_FREE_BYTES >> 20));
}

hpa_t mm_alloc_pages(uint64_t npages, uint64_t align)
{
        spin_lock(&pmm_lock);
        hpa_t pa = pmm_alloc(&pmm, npages, align);
        spin_unlock(&pmm_lock);
        /* Cleared outside the lock: the pages are ours alone by now. */
        if (pa)
                vtv_memset(hpa_to_hva(pa), 0, npages * PAGE_SIZE);
        return pa;
}

void mm_free_pages(hpa_t pa, uint64_t npages)
{
        spin_lock(&pmm_lock);
        pmm_free(&pmm, pa, npages);
        spin_unlock(&pmm_lock);
}

uint64_t mm_free_bytes(void)
{
        return pmm.free_pages * PAGE_SIZE;
}

/* Host paging (SDM 4.5): P, RW, PCD, NX. */
#define HPTE_P   BIT(0)
#define HPTE_RW  BIT(1)
#define HPTE_PWT BIT(3)
#define HPTE_PCD BIT(4)
#define HPTE_NX  BIT(63)

static const struct pt_format host_format = {
        .name = "host",
        .present_mask = HPTE_P,
        .table_flags = HPTE_P | HPTE_RW,
        .large_levels = 1u << 1,
};

/* Where the host page tables lie (the boot log names it). */
static hpa_t host_tables_lo = ~(hpa_t)0, host_tables_hi;

static uint64_t host_alloc_table(void *ctx)
{
        UNUSED(ctx);
        hpa_t pa = mm_alloc_pages(1, PAGE_SIZE);
        if (pa && pa < host_tables_lo)
                host_tables_lo = pa;
        if (pa && pa + PAGE_SIZE > host_tables_hi)
                host_tables_hi = pa + PAGE_SIZE;
        return pa;
}

static void *host_phys_to_virt(void *ctx, uint64_t pa)
{
        UNUSED(ctx);
        return hpa_to_hva(pa);
}

static const struct pt_mem host_mem = {
        .alloc_table = host_alloc_table,
        .phys_to_virt = host_phys_to_virt,
};

static void map_or_die(struct pt *pt, uint64_t start, uint64_t end, uint64_t flags)
{
        if (end <= start)
                return;
        enum pt_status st = pt_map(pt, start, start, end - start, flags);
        if (st != PT_OK)
                panic("host paging: mapping 0x%llx-0x%llx failed: %s", (unsigned long long)start,
                      (unsigned long long)end, pt_status_name(st));
}

void paging_init(const struct bootinfo *bi)
{
        struct pt pt;
        if (pt_init(&pt, &host_format, &host_mem) != PT_OK)
                panic("host paging: no memory for the root table");

        uint64_t top = 0;
        for (size_t i = 0; i < bi->nregions; i++) {
                uint64_t end = bi->regions[i].base + bi->regions[i].len;
                if (bi->regions[i].type == MEM_USABLE && end > top)
                        top = end;
        }
        top = MIN(ALIGN_UP(top, PAGE_SIZE), HOST_MAX_PHYS);

        uint64_t img = (uint64_t)(uintptr_t)__image_start;
        uint64_t img_end = (uint64_t)(uintptr_t)__image_end;
        /* Page 0 stays unmapped so a null dereference faults. */
        map_or_die(&pt, PAGE_SIZE, img, HPTE_P | HPTE_RW | HPTE_NX);
        map_or_die(&pt, (uint64_t)(uintptr_t)__text_start, (uint64_t)(uintptr_t)__text_end, HPTE_P);
        map_or_die(&pt, (uint64_t)(uintptr_t)__rodata_start, (uint64_t)(uintptr_t)__rodata_end,
                   HPTE_P | HPTE_NX);
        map_or_die(&pt, (uint64_t)(uintptr_t)__data_start, img_end, HPTE_P | HPTE_RW | HPTE_NX);
        map_or_die(&pt, img_end, top, HPTE_P | HPTE_RW | HPTE_NX);
        /* The local APIC page, uncached. */
        map_or_die(&pt, 0xfee00000, 0xfee01000, HPTE_P | HPTE_RW | HPTE_NX | HPTE_PCD | HPTE_PWT);

        write_cr3(pt.root);
        log_line("host paging: identity map up to 0x%llx, image text R-X, rodata R--, data RW- "
                 "(%zu tables)",
                 (unsigned long long)top, pt_count_tables(&pt));
        log_line("image at host 0x%llx-0x%llx, page tables at 0x%llx-0x%llx",
                 (unsigned long long)img, (unsigned long long)img_end,
                 (unsigned long long)host_tables_lo, (unsigned long long)host_tables_hi);
}
