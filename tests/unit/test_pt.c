/* Host unit tests for lib/pt.c, the page-table engine shared by host paging
 * and EPT.  Tables live in a fake physical memory: an aligned array of pages
 * at a made-up physical base, handed out by a bump allocator that records
 * every allocation and can be told to fail. */
#include "tests/unit/check_compat.h"
#include "lib/pt.h"

/* ---- fake physical memory ---- */

#define FAKE_PAGES 64
/* Above 4 GiB so that any truncation of a table address shows. */
#define FAKE_BASE 0x0000123400000000ULL

struct fake_mem {
        _Alignas(4096) uint64_t pages[FAKE_PAGES][PT_ENTRIES];
        unsigned used;
        int allow;       /* allocations still allowed; < 0: unlimited */
        unsigned failed; /* allocations refused */
        uint64_t allocated[FAKE_PAGES];
        unsigned freed[FAKE_PAGES]; /* times each page was given back */
        unsigned nfreed;
};

static struct fake_mem fm;

static uint64_t fake_alloc(void *ctx)
{
        struct fake_mem *m = ctx;
        if (m != &fm)
                ck_abort_msg("alloc_table: wrong context");
        if (m->allow == 0 || m->used == FAKE_PAGES) {
                m->failed++;
                return 0;
        }
        if (m->allow > 0)
                m->allow--;
        memset(m->pages[m->used], 0, PAGE_SIZE);
        uint64_t pa = FAKE_BASE + (uint64_t)m->used * PAGE_SIZE;
        m->allocated[m->used++] = pa;
        return pa;
}

static void *fake_p2v(void *ctx, uint64_t pa)
{
        struct fake_mem *m = ctx;
        /* Only the start of a page handed out so far is a valid table.  (Plain
         * ifs: a passing ck_assert costs a message to the runner, and this is
         * called on every step of every walk.) */
        if (m != &fm)
                ck_abort_msg("phys_to_virt: wrong context");
        if (pa < FAKE_BASE || pa >= FAKE_BASE + (uint64_t)m->used * PAGE_SIZE)
                ck_abort_msg("phys_to_virt(0x%llx) outside allocated tables",
                             (unsigned long long)pa);
        if (!IS_ALIGNED(pa, PAGE_SIZE))
                ck_abort_msg("phys_to_virt(0x%llx) not page-aligned", (unsigned long long)pa);
        return m->pages[(pa - FAKE_BASE) / PAGE_SIZE];
}

static void fake_free(void *ctx, uint64_t pa)
{
        struct fake_mem *m = ctx;
        if (m != &fm)
                ck_abort_msg("free_table: wrong context");
        if (pa < FAKE_BASE || pa >= FAKE_BASE + (uint64_t)m->used * PAGE_SIZE ||
            !IS_ALIGNED(pa, PAGE_SIZE))
                ck_abort_msg("free_table(0x%llx): not a table", (unsigned long long)pa);
        unsigned i = (unsigned)((pa - FAKE_BASE) / PAGE_SIZE);
        if (m->freed[i])
                ck_abort_msg("free_table(0x%llx): freed twice", (unsigned long long)pa);
        m->freed[i]++;
        m->nfreed++;
}

static const struct pt_mem mem = {
        .ctx = &fm, .alloc_table = fake_alloc, .phys_to_virt = fake_p2v, .free_table = fake_free
};

static void fake_reset(void)
{
        /* Garbage in pages not yet handed out: the allocator must zero them
         * and the engine must never look at them. */
        memset(&fm, 0xcc, sizeof(fm));
        fm.used = 0;
        fm.allow = -1;
        fm.failed = 0;
        memset(fm.freed, 0, sizeof(fm.freed));
        fm.nfreed = 0;
}

/* ---- formats ---- */

#define H_P   BIT(0)
#define H_RW  BIT(1)
#define H_US  BIT(2)
#define H_PWT BIT(3)
#define H_PCD BIT(4)
#define H_G   BIT(8)
#define H_NX  BIT(63)

#define E_R    BIT(0)
#define E_W    BIT(1)
#define E_X    BIT(2)
#define E_WB   (6ULL << 3)
#define E_IPAT BIT(6)
#define E_SVE  BIT(63)

static const struct pt_format host_fmt = {
        .name = "host",
        .present_mask = H_P,
        .table_flags = H_P | H_RW,
        .large_levels = BIT(1) | BIT(2),
};

static const struct pt_format ept_fmt = {
        .name = "ept",
        .present_mask = E_R | E_W | E_X,
        .table_flags = E_R | E_W | E_X,
        .large_levels = BIT(1) | BIT(2),
};

static const struct pt_format *const formats[] = { &host_fmt, &ept_fmt };

/* Typical leaf flags per format. */
static uint64_t leaf_flags(const struct pt_format *f)
{
        return f == &host_fmt ? (H_P | H_RW) : (E_R | E_W | E_X | E_WB);
}

static struct pt pt;

static void init_pt(int i)
{
        fake_reset();
        ck_assert_int_eq(pt_init(&pt, formats[i], &mem), PT_OK);
        ck_assert_uint_eq(fm.used, 1);
        ck_assert_x64_eq(pt.root, FAKE_BASE);
}

/* An independent walk through the fake memory, for raw entries. */
static uint64_t raw_entry(uint64_t va, unsigned level)
{
        uint64_t table = pt.root;
        for (unsigned l = PT_LEVELS - 1;; l--) {
                const uint64_t *t = fake_p2v(&fm, table);
                uint64_t e = t[(va >> (12 + 9 * l)) & 511];
                if (l == level)
                        return e;
                ck_assert_msg(e & pt.fmt->present_mask, "no table above level %u", level);
                table = e & PT_ADDR_MASK;
        }
}

/* Asserts va translates to pa at the given level. */
#define EXPECT_MAP(va, pa, level)                                                                  \
        do {                                                                                       \
                uint64_t got_pa_ = 0, got_fl_ = 0;                                                 \
                unsigned got_lv_ = 99;                                                             \
                ck_assert_msg(pt_lookup(&pt, (va), &got_pa_, &got_fl_, &got_lv_),                  \
                              "0x%llx not mapped", (unsigned long long)(va));                      \
                ck_assert_x64_eq(got_pa_, (pa));                                                   \
                ck_assert_uint_eq(got_lv_, (level));                                               \
        } while (0)

#define EXPECT_UNMAPPED(va)                                                                        \
        do {                                                                                       \
                uint64_t u_pa_ = 0x1111, u_fl_ = 0x2222;                                           \
                unsigned u_lv_ = 77;                                                               \
                ck_assert_msg(!pt_lookup(&pt, (va), &u_pa_, &u_fl_, &u_lv_),                       \
                              "0x%llx unexpectedly mapped", (unsigned long long)(va));             \
        } while (0)

static enum pt_status map(uint64_t va, uint64_t pa, uint64_t size)
{
        return pt_map(&pt, va, pa, size, leaf_flags(pt.fmt));
}

/* ---- tests; each loop test runs once per format (_i) ---- */

START_TEST(init_and_empty_lookup)
{
        init_pt(_i);
        ck_assert_ptr_eq(pt.fmt, formats[_i]);
        ck_assert_ptr_eq(pt.mem, &mem);
        ck_assert_uint_eq(pt_count_tables(&pt), 1);
        EXPECT_UNMAPPED(0);
        EXPECT_UNMAPPED(0x7fffffffffffULL);
        EXPECT_UNMAPPED(PT_VA_LIMIT);
        EXPECT_UNMAPPED(UINT64_MAX);
}
END_TEST

START_TEST(init_nomem)
{
        fake_reset();
        fm.allow = 0;
        pt.root = 0x1234;
        ck_assert_int_eq(pt_init(&pt, formats[_i], &mem), PT_ERR_NOMEM);
        ck_assert_x64_eq(pt.root, 0);
        ck_assert_uint_eq(fm.failed, 1);
}
END_TEST

START_TEST(map_4k)
{
        init_pt(_i);
        ck_assert_int_eq(map(0x1000, 0x200000, PAGE_SIZE), PT_OK);
        /* root + PDPT + PD + PT */
        ck_assert_uint_eq(fm.used, 4);
        ck_assert_uint_eq(pt_count_tables(&pt), 4);
        EXPECT_MAP(0x1000, 0x200000, 0);
        EXPECT_MAP(0x1abc, 0x200abc, 0);
        EXPECT_MAP(0x1fff, 0x200fff, 0);
        EXPECT_UNMAPPED(0x0fff);
        EXPECT_UNMAPPED(0x2000);
        EXPECT_UNMAPPED(0x1000 + GiB(1));
        EXPECT_UNMAPPED(0x1000 + GiB(512));

        uint64_t pa, fl;
        unsigned lv;
        ck_assert(pt_lookup(&pt, 0x1000, &pa, &fl, &lv));
        ck_assert_x64_eq(fl, leaf_flags(pt.fmt));
        ck_assert(!(fl & PT_LARGE_BIT));
}
END_TEST

START_TEST(unmap_page)
{
        init_pt(_i);
        ck_assert_int_eq(map(0x1000, 0x200000, 3 * PAGE_SIZE), PT_OK);
        ck_assert(pt_unmap_page(&pt, 0x2000));
        EXPECT_MAP(0x1000, 0x200000, 0);
        EXPECT_UNMAPPED(0x2000);
        EXPECT_UNMAPPED(0x2fff);
        EXPECT_MAP(0x3000, 0x202000, 0);
        /* Twice, unmapped, misaligned, beyond 48 bits: refused. */
        ck_assert(!pt_unmap_page(&pt, 0x2000));
        ck_assert(!pt_unmap_page(&pt, 0x5000));
        ck_assert(!pt_unmap_page(&pt, 0x1001));
        ck_assert(!pt_unmap_page(&pt, 1ULL << 48));
        /* The page can be mapped again, elsewhere. */
        ck_assert_int_eq(map(0x2000, 0x400000, PAGE_SIZE), PT_OK);
        EXPECT_MAP(0x2000, 0x400000, 0);
}
END_TEST

START_TEST(unmap_refuses_large_page)
{
        init_pt(_i);
        ck_assert_int_eq(map(0x200000, 0x400000, 0x200000), PT_OK);
        ck_assert(!pt_unmap_page(&pt, 0x200000));
        ck_assert(!pt_unmap_page(&pt, 0x201000));
        EXPECT_MAP(0x200000, 0x400000, 1);
        EXPECT_MAP(0x201000, 0x401000, 1);
}
END_TEST

START_TEST(map_2m)
{
        init_pt(_i);
        ck_assert_int_eq(map(MiB(2), MiB(4), MiB(2)), PT_OK);
        ck_assert_uint_eq(pt_count_tables(&pt), 3);
        ck_assert_uint_eq(fm.used, 3);
        EXPECT_MAP(MiB(2), MiB(4), 1);
        EXPECT_MAP(MiB(2) + 0x12345, MiB(4) + 0x12345, 1);
        EXPECT_MAP(MiB(4) - 1, MiB(6) - 1, 1);
        EXPECT_UNMAPPED(MiB(4));
        EXPECT_UNMAPPED(MiB(2) - 1);

        uint64_t pa, fl;
        unsigned lv;
        ck_assert(pt_lookup(&pt, MiB(3), &pa, &fl, &lv));
        ck_assert_x64_eq(fl, leaf_flags(pt.fmt) | PT_LARGE_BIT);
}
END_TEST

START_TEST(map_1g)
{
        init_pt(_i);
        ck_assert_int_eq(map(GiB(1), GiB(3), GiB(1)), PT_OK);
        ck_assert_uint_eq(pt_count_tables(&pt), 2);
        ck_assert_uint_eq(fm.used, 2);
        EXPECT_MAP(GiB(1), GiB(3), 2);
        EXPECT_MAP(GiB(1) + 0x3ffff123, GiB(3) + 0x3ffff123, 2);
        EXPECT_UNMAPPED(GiB(2));
        EXPECT_UNMAPPED(GiB(1) - PAGE_SIZE);
}
END_TEST

START_TEST(map_identity_4g_uses_1g_pages)
{
        init_pt(_i);
        ck_assert_int_eq(map(0, 0, GiB(4)), PT_OK);
        ck_assert_uint_eq(pt_count_tables(&pt), 2);
        for (uint64_t g = 0; g < 4; g++)
                EXPECT_MAP(GiB(g) + 0x5000, GiB(g) + 0x5000, 2);
        EXPECT_UNMAPPED(GiB(4));
}
END_TEST

START_TEST(pa_alignment_limits_page_size)
{
        init_pt(_i);
        /* va is 1 GiB-aligned, pa only 2 MiB-aligned: 2 MiB pages. */
        ck_assert_int_eq(map(GiB(1), MiB(2), GiB(1)), PT_OK);
        ck_assert_uint_eq(pt_count_tables(&pt), 3);
        EXPECT_MAP(GiB(1), MiB(2), 1);
        EXPECT_MAP(GiB(2) - 1, MiB(2) + GiB(1) - 1, 1);

        /* va 2 MiB-aligned, pa only 4 KiB-aligned: 4 KiB pages. */
        ck_assert_int_eq(map(GiB(8), GiB(8) + PAGE_SIZE, MiB(2)), PT_OK);
        EXPECT_MAP(GiB(8), GiB(8) + PAGE_SIZE, 0);
        EXPECT_MAP(GiB(8) + MiB(2) - PAGE_SIZE, GiB(8) + MiB(2), 0);
        EXPECT_UNMAPPED(GiB(8) + MiB(2));
        /* + PDPT entry's PD + one PT */
        ck_assert_uint_eq(pt_count_tables(&pt), 5);
}
END_TEST

START_TEST(size_limits_page_size)
{
        init_pt(_i);
        /* 1 GiB-aligned but only 2 MiB + 4 KiB long. */
        ck_assert_int_eq(map(GiB(2), GiB(2), MiB(2) + PAGE_SIZE), PT_OK);
        EXPECT_MAP(GiB(2), GiB(2), 1);
        EXPECT_MAP(GiB(2) + MiB(2), GiB(2) + MiB(2), 0);
        EXPECT_UNMAPPED(GiB(2) + MiB(2) + PAGE_SIZE);
}
END_TEST

START_TEST(mixed_range)
{
        init_pt(_i);
        /* Unaligned start: 4 x 4 KiB up to 2 MiB, then 2 x 2 MiB, then 2 x 4 KiB. */
        uint64_t va = MiB(2) - 4 * PAGE_SIZE, pa = GiB(5) + MiB(2) - 4 * PAGE_SIZE;
        uint64_t size = 4 * PAGE_SIZE + MiB(4) + 2 * PAGE_SIZE;
        ck_assert_int_eq(map(va, pa, size), PT_OK);
        for (unsigned i = 0; i < 4; i++)
                EXPECT_MAP(va + i * PAGE_SIZE + 8, pa + i * PAGE_SIZE + 8, 0);
        EXPECT_MAP(MiB(2), GiB(5) + MiB(2), 1);
        EXPECT_MAP(MiB(4) + 0x1000, GiB(5) + MiB(4) + 0x1000, 1);
        EXPECT_MAP(MiB(6), GiB(5) + MiB(6), 0);
        EXPECT_MAP(MiB(6) + PAGE_SIZE, GiB(5) + MiB(6) + PAGE_SIZE, 0);
        EXPECT_UNMAPPED(MiB(6) + 2 * PAGE_SIZE);
        EXPECT_UNMAPPED(va - PAGE_SIZE);
        /* root, PDPT, PD, PT for [0,2M), PT for [6M,8M) */
        ck_assert_uint_eq(pt_count_tables(&pt), 5);
        ck_assert_uint_eq(fm.used, 5);
}
END_TEST

START_TEST(range_across_1g_boundary)
{
        init_pt(_i);
        uint64_t va = GiB(1) - MiB(2), size = MiB(2) + GiB(1) + MiB(2);
        ck_assert_int_eq(map(va, va, size), PT_OK);
        EXPECT_MAP(GiB(1) - MiB(2), GiB(1) - MiB(2), 1);
        EXPECT_MAP(GiB(1), GiB(1), 2);
        EXPECT_MAP(GiB(2) - 1, GiB(2) - 1, 2);
        EXPECT_MAP(GiB(2), GiB(2), 1);
        EXPECT_UNMAPPED(GiB(2) + MiB(2));
        /* root, PDPT, PD for GiB 0, PD for GiB 2 */
        ck_assert_uint_eq(pt_count_tables(&pt), 4);
}
END_TEST

START_TEST(entries_raw_bits)
{
        init_pt(_i);
        const struct pt_format *f = formats[_i];
        ck_assert_int_eq(map(0x5000, 0xabc000, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(MiB(2), MiB(8), MiB(2)), PT_OK);
        ck_assert_int_eq(map(GiB(1), GiB(7), GiB(1)), PT_OK);

        /* Non-leaf entries: a table address and exactly table_flags. */
        for (unsigned l = 3; l >= 1; l--) {
                uint64_t e = raw_entry(0x5000, l);
                ck_assert_x64_eq(e & ~PT_ADDR_MASK, f->table_flags);
                ck_assert(!(e & PT_LARGE_BIT));
                uint64_t tpa = e & PT_ADDR_MASK;
                ck_assert(tpa >= FAKE_BASE && tpa < FAKE_BASE + fm.used * PAGE_SIZE);
        }
        /* Leaves: large bit only on large pages. */
        ck_assert_x64_eq(raw_entry(0x5000, 0), 0xabc000 | leaf_flags(f));
        ck_assert_x64_eq(raw_entry(MiB(2), 1), MiB(8) | leaf_flags(f) | PT_LARGE_BIT);
        ck_assert_x64_eq(raw_entry(GiB(1), 2), GiB(7) | leaf_flags(f) | PT_LARGE_BIT);

        /* Every table handed out is a distinct page, used once. */
        ck_assert_uint_eq(pt_count_tables(&pt), fm.used);
}
END_TEST

START_TEST(leaf_flags_preserved)
{
        init_pt(_i);
        const struct pt_format *f = formats[_i];
        uint64_t flags = f == &host_fmt ? (H_P | H_RW | H_US | H_PWT | H_PCD | H_G | H_NX | BIT(9) |
                                           BIT(11) | BIT(52) | BIT(62))
                                        : (E_R | E_X | E_WB | E_IPAT | E_SVE | BIT(8) | BIT(10));
        uint64_t pa, fl;
        unsigned lv;

        ck_assert_int_eq(pt_map(&pt, 0x3000, 0x7000, PAGE_SIZE, flags), PT_OK);
        ck_assert(pt_lookup(&pt, 0x3000, &pa, &fl, &lv));
        ck_assert_x64_eq(fl, flags);
        ck_assert_uint_eq(lv, 0);

        ck_assert_int_eq(pt_map(&pt, MiB(10), MiB(20), MiB(2), flags), PT_OK);
        ck_assert(pt_lookup(&pt, MiB(11), &pa, &fl, &lv));
        ck_assert_x64_eq(fl, flags | PT_LARGE_BIT);
        ck_assert_x64_eq(pa, MiB(21));

        ck_assert_int_eq(pt_map(&pt, GiB(3), GiB(9), GiB(1), flags), PT_OK);
        ck_assert(pt_lookup(&pt, GiB(3) + 77, &pa, &fl, &lv));
        ck_assert_x64_eq(fl, flags | PT_LARGE_BIT);
        ck_assert_x64_eq(pa, GiB(9) + 77);
}
END_TEST

START_TEST(leaf_flags_cannot_forge_address_or_size)
{
        init_pt(_i);
        uint64_t base = leaf_flags(formats[_i]);
        /* Address bits and the large bit in leaf_flags are dropped. */
        uint64_t forged = base | 0x000ffffffffff000ULL | PT_LARGE_BIT;
        ck_assert_int_eq(pt_map(&pt, 0x8000, 0x9000, PAGE_SIZE, forged), PT_OK);
        ck_assert_x64_eq(raw_entry(0x8000, 0), 0x9000 | base);
        EXPECT_MAP(0x8123, 0x9123, 0);
        ck_assert_int_eq(pt_map(&pt, MiB(4), MiB(6), MiB(2), forged), PT_OK);
        ck_assert_x64_eq(raw_entry(MiB(4), 1), MiB(6) | base | PT_LARGE_BIT);
}
END_TEST

START_TEST(high_addresses)
{
        init_pt(_i);
        /* The last page below 2^48 and a physical address near 2^52. */
        uint64_t va = PT_VA_LIMIT - PAGE_SIZE, pa = BIT(52) - PAGE_SIZE;
        ck_assert_int_eq(map(va, pa, PAGE_SIZE), PT_OK);
        EXPECT_MAP(va + 0xfff, pa + 0xfff, 0);
        ck_assert_int_eq(map(PT_VA_LIMIT - GiB(2), BIT(52) - GiB(2), GiB(1)), PT_OK);
        EXPECT_MAP(PT_VA_LIMIT - GiB(2) + 5, BIT(52) - GiB(2) + 5, 2);
        ck_assert_x64_eq(raw_entry(va, 0) & PT_ADDR_MASK, pa);
        /* Same low bits, different top-level index: no aliasing. */
        EXPECT_UNMAPPED(va & 0x7fffffffffULL);
}
END_TEST

START_TEST(refuse_same_4k)
{
        init_pt(_i);
        ck_assert_int_eq(map(0x4000, 0x1000, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(0x4000, 0x2000, PAGE_SIZE), PT_ERR_EXISTS);
        EXPECT_MAP(0x4000, 0x1000, 0);
        /* A range whose last page overlaps. */
        ck_assert_int_eq(map(0x2000, 0x8000, 3 * PAGE_SIZE), PT_ERR_EXISTS);
        EXPECT_MAP(0x4000, 0x1000, 0);
        /* Neighbours are fine. */
        ck_assert_int_eq(map(0x5000, 0x3000, PAGE_SIZE), PT_OK);
        EXPECT_MAP(0x5000, 0x3000, 0);
}
END_TEST

START_TEST(refuse_large_over_small)
{
        init_pt(_i);
        /* A 4 KiB page in the middle of a 2 MiB-aligned range. */
        ck_assert_int_eq(map(MiB(2) + MiB(1), 0x7000, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(MiB(2), MiB(10), MiB(2)), PT_ERR_EXISTS);
        EXPECT_MAP(MiB(3), 0x7000, 0);
        /* Nothing became a 2 MiB page. */
        ck_assert_x64_eq(raw_entry(MiB(2), 1) & PT_LARGE_BIT, 0);

        /* A 1 GiB range holding a small mapping, at its very start. */
        ck_assert_int_eq(map(GiB(4), 0x9000, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(GiB(4), GiB(4), GiB(1)), PT_ERR_EXISTS);
        EXPECT_MAP(GiB(4), 0x9000, 0);

        /* A 1 GiB range holding a 2 MiB page near its end. */
        ck_assert_int_eq(map(GiB(7) - MiB(2), MiB(100), MiB(2)), PT_OK);
        ck_assert_int_eq(map(GiB(6), GiB(6), GiB(1)), PT_ERR_EXISTS);
        EXPECT_MAP(GiB(7) - MiB(2), MiB(100), 1);
        ck_assert_x64_eq(raw_entry(GiB(6), 2) & PT_LARGE_BIT, 0);
}
END_TEST

START_TEST(refuse_small_over_large)
{
        init_pt(_i);
        ck_assert_int_eq(map(MiB(2), MiB(4), MiB(2)), PT_OK);
        ck_assert_int_eq(map(MiB(2), 0x1000, PAGE_SIZE), PT_ERR_EXISTS);
        ck_assert_int_eq(map(MiB(3), 0x1000, PAGE_SIZE), PT_ERR_EXISTS);
        ck_assert_int_eq(map(MiB(4) - PAGE_SIZE, 0x1000, PAGE_SIZE), PT_ERR_EXISTS);
        ck_assert_int_eq(map(MiB(2), MiB(2), MiB(2)), PT_ERR_EXISTS);
        EXPECT_MAP(MiB(3), MiB(5), 1);
        ck_assert_uint_eq(pt_count_tables(&pt), 3);

        ck_assert_int_eq(map(GiB(1), GiB(1), GiB(1)), PT_OK);
        ck_assert_int_eq(map(GiB(1) + MiB(6), MiB(6), MiB(2)), PT_ERR_EXISTS);
        ck_assert_int_eq(map(GiB(2) - PAGE_SIZE, 0, PAGE_SIZE), PT_ERR_EXISTS);
        ck_assert_int_eq(map(GiB(1), GiB(1), GiB(1)), PT_ERR_EXISTS);
        EXPECT_MAP(GiB(1) + MiB(6), GiB(1) + MiB(6), 2);
        /* No table was slipped under either large page. */
        ck_assert_uint_eq(pt_count_tables(&pt), 3);
        ck_assert_x64_eq(raw_entry(GiB(1), 2), GiB(1) | leaf_flags(formats[_i]) | PT_LARGE_BIT);

        /* A range that starts free and runs into the large page. */
        ck_assert_int_eq(map(GiB(1) - MiB(2), 0, MiB(4)), PT_ERR_EXISTS);
        EXPECT_MAP(GiB(1), GiB(1), 2);
}
END_TEST

START_TEST(refuse_misaligned)
{
        init_pt(_i);
        ck_assert_int_eq(map(0x1001, 0x2000, PAGE_SIZE), PT_ERR_ALIGN);
        ck_assert_int_eq(map(0x1000, 0x2800, PAGE_SIZE), PT_ERR_ALIGN);
        ck_assert_int_eq(map(0x1000, 0x2000, 0x1800), PT_ERR_ALIGN);
        ck_assert_int_eq(map(0x1000, 0x2000, 1), PT_ERR_ALIGN);
        ck_assert_int_eq(map(0xfff, 0x2000, PAGE_SIZE), PT_ERR_ALIGN);
        /* Nothing was allocated or mapped. */
        ck_assert_uint_eq(fm.used, 1);
        EXPECT_UNMAPPED(0x1000);
}
END_TEST

START_TEST(refuse_out_of_range)
{
        init_pt(_i);
        ck_assert_int_eq(map(PT_VA_LIMIT, 0, PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_int_eq(map(PT_VA_LIMIT - PAGE_SIZE, 0, 2 * PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_int_eq(map(0xffff800000000000ULL, 0, PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_int_eq(map(0xfffffffffffff000ULL, 0, PAGE_SIZE), PT_ERR_RANGE);
        /* va + size wraps around 2^64. */
        ck_assert_int_eq(map(0x1000, 0, 0xfffffffffffff000ULL), PT_ERR_RANGE);
        ck_assert_int_eq(map(GiB(1), 0, 0xffffffffc0000000ULL), PT_ERR_RANGE);
        /* Physical side: 52 bits. */
        ck_assert_int_eq(map(0, BIT(52), PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_int_eq(map(0, BIT(52) - PAGE_SIZE, 2 * PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_int_eq(map(0, 0xfffffffffffff000ULL, PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_int_eq(map(0, 0x2000, PT_VA_LIMIT + PAGE_SIZE), PT_ERR_RANGE);
        ck_assert_uint_eq(fm.used, 1);
        EXPECT_UNMAPPED(0);

        /* A range ending exactly at 2^48 is fine. */
        ck_assert_int_eq(map(PT_VA_LIMIT - GiB(1), 0, GiB(1)), PT_OK);
}
END_TEST

START_TEST(size_zero_is_noop)
{
        init_pt(_i);
        ck_assert_int_eq(map(0x1000, 0x1000, 0), PT_OK);
        ck_assert_uint_eq(fm.used, 1);
        EXPECT_UNMAPPED(0x1000);
}
END_TEST

START_TEST(nomem_during_map)
{
        init_pt(_i);
        /* Room for PDPT and PD, not the PT. */
        fm.allow = 2;
        ck_assert_int_eq(map(0x1000, 0x1000, PAGE_SIZE), PT_ERR_NOMEM);
        ck_assert_uint_eq(fm.failed, 1);
        EXPECT_UNMAPPED(0x1000);
        /* A 2 MiB page needs no new table now. */
        ck_assert_int_eq(map(MiB(2), MiB(2), MiB(2)), PT_OK);
        EXPECT_MAP(MiB(2), MiB(2), 1);
        /* Still no memory for the PT. */
        ck_assert_int_eq(map(0x1000, 0x1000, PAGE_SIZE), PT_ERR_NOMEM);
        /* Once memory is back, the same request works. */
        fm.allow = -1;
        ck_assert_int_eq(map(0x1000, 0x1000, PAGE_SIZE), PT_OK);
        EXPECT_MAP(0x1000, 0x1000, 0);
        ck_assert_uint_eq(pt_count_tables(&pt), 4);
}
END_TEST

START_TEST(nomem_each_level)
{
        /* Allow 0, 1, 2 tables beyond the root: a 4 KiB map needs 3. */
        for (int allow = 0; allow < 3; allow++) {
                init_pt(_i);
                fm.allow = allow;
                ck_assert_int_eq(map(GiB(600), 0x1000, PAGE_SIZE), PT_ERR_NOMEM);
                ck_assert_uint_eq(fm.used, 1 + (unsigned)allow);
                EXPECT_UNMAPPED(GiB(600));
        }
        init_pt(_i);
        fm.allow = 3;
        ck_assert_int_eq(map(GiB(600), 0x1000, PAGE_SIZE), PT_OK);
        /* A 1 GiB page needs just the PDPT, which now exists. */
        fm.allow = 0;
        ck_assert_int_eq(map(GiB(601), GiB(1), GiB(1)), PT_OK);
        /* A mixed range fails partway, keeping what it mapped. */
        ck_assert_int_eq(map(GiB(602), 0, GiB(1) + PAGE_SIZE), PT_ERR_NOMEM);
        EXPECT_MAP(GiB(602), 0, 2);
        EXPECT_UNMAPPED(GiB(603));
}
END_TEST

START_TEST(count_tables_scattered)
{
        init_pt(_i);
        ck_assert_int_eq(map(0, 0, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(GiB(1), 0, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(GiB(512), 0, PAGE_SIZE), PT_OK);
        /* root + 2 PDPT + 3 PD + 3 PT */
        ck_assert_uint_eq(pt_count_tables(&pt), 9);
        ck_assert_uint_eq(fm.used, 9);
        /* Large leaves add no tables below them. */
        ck_assert_int_eq(map(MiB(2), 0, MiB(2)), PT_OK);
        ck_assert_int_eq(map(GiB(2), 0, GiB(1)), PT_OK);
        ck_assert_uint_eq(pt_count_tables(&pt), 9);
        /* More pages in an existing PT add nothing either. */
        ck_assert_int_eq(map(PAGE_SIZE, 0, 511 * PAGE_SIZE), PT_OK);
        ck_assert_uint_eq(pt_count_tables(&pt), 9);
        ck_assert_uint_eq(fm.used, 9);
}
END_TEST

START_TEST(lookup_beyond_48_bits_does_not_alias)
{
        init_pt(_i);
        ck_assert_int_eq(map(0, MiB(2), MiB(2)), PT_OK);
        ck_assert_int_eq(map(GiB(4), GiB(4), GiB(1)), PT_OK);
        EXPECT_MAP(0x1000, MiB(2) + 0x1000, 1);
        /* Same bits 47:0, but not a 48-bit address. */
        EXPECT_UNMAPPED(PT_VA_LIMIT);
        EXPECT_UNMAPPED(PT_VA_LIMIT + 0x1000);
        EXPECT_UNMAPPED(0xffff000000001000ULL);
        EXPECT_UNMAPPED(PT_VA_LIMIT + GiB(4));
}
END_TEST

START_TEST(empty_table_left_by_nomem_does_not_block)
{
        init_pt(_i);
        /* PDPT and PD get allocated, the PT does not: an empty PD stays. */
        fm.allow = 2;
        ck_assert_int_eq(map(GiB(3) + MiB(6), 0x1000, PAGE_SIZE), PT_ERR_NOMEM);
        ck_assert_uint_eq(pt_count_tables(&pt), 3);
        fm.allow = -1;
        /* Nothing is mapped in that GiB, so a 1 GiB request must succeed. */
        ck_assert_int_eq(map(GiB(3), GiB(5), GiB(1)), PT_OK);
        uint64_t pa, fl;
        unsigned lv;
        ck_assert(pt_lookup(&pt, GiB(3) + MiB(6) + 0x123, &pa, &fl, &lv));
        ck_assert_x64_eq(pa, GiB(5) + MiB(6) + 0x123);
        ck_assert_uint_ge(lv, 1);
        EXPECT_MAP(GiB(4) - 1, GiB(6) - 1, lv);

        /* Likewise an empty PDPT under a 512 GiB slot blocks nothing. */
        fm.allow = 1;
        ck_assert_int_eq(map(GiB(512), 0, PAGE_SIZE), PT_ERR_NOMEM);
        fm.allow = -1;
        ck_assert_int_eq(map(GiB(512), 0, GiB(1)), PT_OK);
        EXPECT_MAP(GiB(512) + 5, 5, 2);
}
END_TEST

START_TEST(lookup_masks_large_leaf_low_bits)
{
        /* Bit 12 of a large host leaf is PAT, not address: a lookup must
         * take only the bits above the page size as the frame. */
        init_pt(_i);
        ck_assert_int_eq(map(MiB(2), MiB(4), MiB(2)), PT_OK);
        ck_assert_int_eq(map(GiB(1), GiB(2), GiB(1)), PT_OK);
        uint64_t *pd = fake_p2v(&fm, raw_entry(MiB(2), 2) & PT_ADDR_MASK);
        pd[1] |= BIT(12);
        uint64_t *pdpt = fake_p2v(&fm, raw_entry(GiB(1), 3) & PT_ADDR_MASK);
        pdpt[1] |= BIT(12) | BIT(21);
        EXPECT_MAP(MiB(2) + 0x345, MiB(4) + 0x345, 1);
        EXPECT_MAP(GiB(1) + 0x345, GiB(2) + 0x345, 2);
}
END_TEST

START_TEST(destroy_frees_every_table_once)
{
        init_pt(_i);
        ck_assert_int_eq(map(0, 0, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(GiB(1), 0, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(GiB(512), 0, PAGE_SIZE), PT_OK);
        ck_assert_int_eq(map(MiB(2), 0, MiB(2)), PT_OK);
        ck_assert_int_eq(map(GiB(2), 0, GiB(1)), PT_OK);
        /* A partial failure leaves linked tables that must be freed too. */
        fm.allow = 1;
        ck_assert_int_eq(map(GiB(1024), 0, PAGE_SIZE), PT_ERR_NOMEM);
        unsigned used = fm.used;
        ck_assert_uint_eq(used, 10);

        pt_destroy(&pt);
        ck_assert_x64_eq(pt.root, 0);
        ck_assert_uint_eq(fm.nfreed, used);
        for (unsigned i = 0; i < used; i++)
                ck_assert_msg(fm.freed[i] == 1, "table %u freed %u times", i, fm.freed[i]);
        /* Large leaves are not tables: nothing else was freed. */
        ck_assert_uint_eq(fm.used, used);

        /* A second destroy, or one of a table that never got a root, is a no-op. */
        pt_destroy(&pt);
        ck_assert_uint_eq(fm.nfreed, used);
}
END_TEST

START_TEST(destroy_root_only)
{
        init_pt(_i);
        pt_destroy(&pt);
        ck_assert_uint_eq(fm.nfreed, 1);
        ck_assert_uint_eq(fm.freed[0], 1);
        ck_assert_x64_eq(pt.root, 0);

        fake_reset();
        fm.allow = 0;
        ck_assert_int_eq(pt_init(&pt, formats[_i], &mem), PT_ERR_NOMEM);
        pt_destroy(&pt);
        ck_assert_uint_eq(fm.nfreed, 0);
}
END_TEST

/* Present-ness follows the format's present_mask, not a fixed bit. */
START_TEST(ept_any_permission_bit_is_present)
{
        init_pt(1);
        const uint64_t perms[] = { E_R, E_W, E_X, E_R | E_X };
        for (unsigned i = 0; i < 4; i++) {
                uint64_t va = 0x10000 + i * PAGE_SIZE;
                ck_assert_int_eq(pt_map(&pt, va, 0x40000, PAGE_SIZE, perms[i]), PT_OK);
                uint64_t pa, fl;
                unsigned lv;
                ck_assert(pt_lookup(&pt, va, &pa, &fl, &lv));
                ck_assert_x64_eq(fl, perms[i]);
                ck_assert_int_eq(pt_map(&pt, va, 0x50000, PAGE_SIZE, E_R), PT_ERR_EXISTS);
        }
        /* Execute-only 2 MiB page blocks small pages below it. */
        ck_assert_int_eq(pt_map(&pt, MiB(8), MiB(8), MiB(2), E_X), PT_OK);
        ck_assert_int_eq(pt_map(&pt, MiB(9), 0, PAGE_SIZE, E_R), PT_ERR_EXISTS);
}
END_TEST

START_TEST(host_not_present_leaf)
{
        init_pt(0);
        /* Bits other than P do not make an entry present in host format. */
        ck_assert_int_eq(pt_map(&pt, 0x1000, 0x2000, PAGE_SIZE, H_RW | H_US), PT_OK);
        EXPECT_UNMAPPED(0x1000);
        ck_assert_int_eq(pt_map(&pt, 0x1000, 0x3000, PAGE_SIZE, H_P), PT_OK);
        EXPECT_MAP(0x1000, 0x3000, 0);
}
END_TEST

START_TEST(large_levels_honoured)
{
        /* A format with 2 MiB pages only, then one with no large pages. */
        static const struct pt_format only2m = {
                .name = "2m", .present_mask = H_P, .table_flags = H_P | H_RW, .large_levels = BIT(1)
        };
        static const struct pt_format small = {
                .name = "4k", .present_mask = H_P, .table_flags = H_P | H_RW, .large_levels = 0
        };
        fake_reset();
        ck_assert_int_eq(pt_init(&pt, &only2m, &mem), PT_OK);
        ck_assert_int_eq(pt_map(&pt, GiB(1), GiB(1), GiB(1), H_P), PT_OK);
        EXPECT_MAP(GiB(1), GiB(1), 1);
        EXPECT_MAP(GiB(2) - 1, GiB(2) - 1, 1);
        ck_assert_uint_eq(pt_count_tables(&pt), 3);

        fake_reset();
        ck_assert_int_eq(pt_init(&pt, &small, &mem), PT_OK);
        ck_assert_int_eq(pt_map(&pt, MiB(4), MiB(4), MiB(4), H_P), PT_OK);
        EXPECT_MAP(MiB(4), MiB(4), 0);
        EXPECT_MAP(MiB(8) - 1, MiB(8) - 1, 0);
        ck_assert_uint_eq(pt_count_tables(&pt), 5);
}
END_TEST

START_TEST(status_names)
{
        const enum pt_status all[] = { PT_OK, PT_ERR_ALIGN, PT_ERR_RANGE, PT_ERR_NOMEM,
                                       PT_ERR_EXISTS };
        for (unsigned i = 0; i < 5; i++) {
                const char *n = pt_status_name(all[i]);
                ck_assert_ptr_nonnull(n);
                ck_assert_uint_gt(strlen(n), 1);
                ck_assert_str_ne(n, "unknown");
                for (unsigned j = 0; j < i; j++)
                        ck_assert_str_ne(n, pt_status_name(all[j]));
        }
        ck_assert_str_eq(pt_status_name(PT_OK), "ok");
        ck_assert_str_eq(pt_status_name((enum pt_status)99), "unknown");
}
END_TEST

static Suite *pt_suite(void)
{
        Suite *s = suite_create("pt");
        TCase *basic = tcase_create("map");
        tcase_add_loop_test(basic, init_and_empty_lookup, 0, 2);
        tcase_add_loop_test(basic, init_nomem, 0, 2);
        tcase_add_loop_test(basic, map_4k, 0, 2);
        tcase_add_loop_test(basic, map_2m, 0, 2);
        tcase_add_loop_test(basic, unmap_page, 0, 2);
        tcase_add_loop_test(basic, unmap_refuses_large_page, 0, 2);
        tcase_add_loop_test(basic, map_1g, 0, 2);
        tcase_add_loop_test(basic, map_identity_4g_uses_1g_pages, 0, 2);
        tcase_add_loop_test(basic, pa_alignment_limits_page_size, 0, 2);
        tcase_add_loop_test(basic, size_limits_page_size, 0, 2);
        tcase_add_loop_test(basic, mixed_range, 0, 2);
        tcase_add_loop_test(basic, range_across_1g_boundary, 0, 2);
        tcase_add_loop_test(basic, entries_raw_bits, 0, 2);
        tcase_add_loop_test(basic, leaf_flags_preserved, 0, 2);
        tcase_add_loop_test(basic, leaf_flags_cannot_forge_address_or_size, 0, 2);
        tcase_add_loop_test(basic, high_addresses, 0, 2);
        tcase_add_loop_test(basic, size_zero_is_noop, 0, 2);
        tcase_add_loop_test(basic, count_tables_scattered, 0, 2);
        tcase_add_loop_test(basic, lookup_beyond_48_bits_does_not_alias, 0, 2);
        tcase_add_loop_test(basic, lookup_masks_large_leaf_low_bits, 0, 2);
        tcase_add_loop_test(basic, destroy_frees_every_table_once, 0, 2);
        tcase_add_loop_test(basic, destroy_root_only, 0, 2);
        suite_add_tcase(s, basic);

        TCase *err = tcase_create("errors");
        tcase_add_loop_test(err, refuse_same_4k, 0, 2);
        tcase_add_loop_test(err, refuse_large_over_small, 0, 2);
        tcase_add_loop_test(err, refuse_small_over_large, 0, 2);
        tcase_add_loop_test(err, refuse_misaligned, 0, 2);
        tcase_add_loop_test(err, refuse_out_of_range, 0, 2);
        tcase_add_loop_test(err, nomem_during_map, 0, 2);
        tcase_add_loop_test(err, nomem_each_level, 0, 2);
        tcase_add_loop_test(err, empty_table_left_by_nomem_does_not_block, 0, 2);
        suite_add_tcase(s, err);

        TCase *fmt = tcase_create("formats");
        tcase_add_test(fmt, ept_any_permission_bit_is_present);
        tcase_add_test(fmt, host_not_present_leaf);
        tcase_add_test(fmt, large_levels_honoured);
        tcase_add_test(fmt, status_names);
        suite_add_tcase(s, fmt);
        return s;
}

int main(void)
{
        return unit_run_suite(pt_suite());
}
