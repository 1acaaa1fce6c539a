/* Host unit tests for emulate/guest_walk.c over a fake guest RAM. */
#include "tests/unit/check_compat.h"
#include "emulate/guest_walk.h"

#define RAM (16u << 20)
static uint8_t *ram;
static struct walk_ctx w;

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
        ck_assert_ptr_eq(ctx, ram);
        if (gpa >= RAM || RAM - gpa < size)
                return false;
        *val = 0;
        memcpy(val, ram + gpa, size);
        return true;
}

static void put64(uint64_t gpa, uint64_t v)
{
        memcpy(ram + gpa, &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
        memcpy(ram + gpa, &v, 4);
}

static void setup(void)
{
        ram = calloc(1, RAM);
        memset(&w, 0, sizeof(w));
        w.read_gpa = rd;
        w.ctx = ram;
}

static void teardown(void)
{
        free(ram);
}

#define CR0_PG (1ULL << 31)
#define CR0_WP (1ULL << 16)
#define LMA    (1ULL << 10)
#define NXE    (1ULL << 11)

/* 4-level tables: PML4 at 0x1000, PDPT 0x2000, PDs 0x3000 and 0x5000, PT 0x4000.
 * 0x0000_0040_0000_5000 -> 0x200000 via a 4 KiB page (user, read-only, NX);
 * 0x40200000 -> 2 MiB page at 0x200000 (supervisor, writable). */
static void build_long(void)
{
        w.cr0 = CR0_PG | 1;
        w.cr3 = 0x1000;
        w.cr4 = 1 << 5;
        w.efer = LMA | NXE | (1 << 8);
        put64(0x1000, 0x2000 | 7);
        put64(0x2000 + 8 * 1, 0x3000 | 7);      /* 1 GiB slot 1 */
        put64(0x3000 + 8 * 1, 0x200000 | 0x83); /* 2 MiB page, supervisor RW */
        put64(0x2000 + 8 * 0, 0x5000 | 7);      /* 1 GiB slot 0: PD at 0x5000 */
        put64(0x5000 + 8 * 0, 0x4000 | 7);
        put64(0x4000 + 8 * 5, 0x200000 | 0x5 | (1ULL << 63)); /* user RO NX */
}

START_TEST(paging_off_is_identity)
{
        uint64_t gpa;
        uint32_t err;
        ck_assert_int_eq(guest_walk(&w, 0x12345678, WALK_READ, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x12345678);
        ck_assert_int_eq(guest_walk(&w, 0x1ffffffffULL, WALK_READ, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0xffffffff); /* 32-bit linear addresses wrap */
}
END_TEST

START_TEST(long_mode_4k_and_2m)
{
        uint64_t gpa;
        uint32_t err;
        build_long();
        ck_assert_int_eq(guest_walk(&w, 0x40201234, WALK_WRITE, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x201234);
        ck_assert_int_eq(guest_walk(&w, 0x5abc, WALK_READ, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x200abc);
}
END_TEST

START_TEST(long_mode_faults)
{
        uint64_t gpa;
        uint32_t err;
        build_long();
        /* Not present. */
        ck_assert_int_eq(guest_walk(&w, 0x6000, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, 0);
        /* Fetch from an NX page. */
        ck_assert_int_eq(guest_walk(&w, 0x5000, WALK_FETCH, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, PF_P | PF_I);
        /* Write to read-only with CR0.WP. */
        w.cr0 |= CR0_WP;
        ck_assert_int_eq(guest_walk(&w, 0x5000, WALK_WRITE, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, PF_P | PF_W);
        /* Without WP the supervisor may write. */
        w.cr0 &= ~CR0_WP;
        ck_assert_int_eq(guest_walk(&w, 0x5000, WALK_WRITE, &gpa, &err), WALK_OK);
        /* User access to a supervisor page. */
        w.cpl = 3;
        ck_assert_int_eq(guest_walk(&w, 0x40200000, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, PF_P | PF_U);
        /* NX set while EFER.NXE is clear: reserved bit. */
        w.cpl = 0;
        w.efer &= ~NXE;
        ck_assert_int_eq(guest_walk(&w, 0x5000, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err & (PF_RSVD | PF_P), PF_RSVD | PF_P);
        /* Non-canonical. */
        w.efer |= NXE;
        ck_assert_int_eq(guest_walk(&w, 0x0000800000000000ULL, WALK_READ, &gpa, &err),
                         WALK_PAGE_FAULT);
}
END_TEST

/* SDM 4.7: the I/D bit reports a fetch only when EFER.NXE = 1 (no SMEP). */
START_TEST(fetch_fault_id_bit_follows_nxe)
{
        uint64_t gpa;
        uint32_t err;
        build_long();
        ck_assert_int_eq(guest_walk(&w, 0x6000, WALK_FETCH, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, PF_I);
        w.efer &= ~NXE;
        ck_assert_int_eq(guest_walk(&w, 0x6000, WALK_FETCH, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, 0);
        w.cpl = 3;
        ck_assert_int_eq(guest_walk(&w, 0x40200000, WALK_FETCH, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, PF_P | PF_U);
}
END_TEST

START_TEST(tables_outside_ram)
{
        uint64_t gpa;
        uint32_t err;
        build_long();
        w.cr3 = 0x10000000;
        ck_assert_int_eq(guest_walk(&w, 0x5000, WALK_READ, &gpa, &err), WALK_BAD_GPA);
        build_long();
        put64(0x5000, 0x7fff0000 | 7);
        ck_assert_int_eq(guest_walk(&w, 0x5000, WALK_READ, &gpa, &err), WALK_BAD_GPA);
}
END_TEST

START_TEST(legacy_32bit_paging)
{
        uint64_t gpa;
        uint32_t err;
        w.cr0 = CR0_PG | 1;
        w.cr3 = 0x1000;
        put32(0x1000 + 4 * 1, 0x2000 | 3);        /* 4-8 MiB: PT at 0x2000 */
        put32(0x2000 + 4 * 3, 0x123000 | 3);      /* 0x403000 -> 0x123000 */
        put32(0x1000 + 4 * 2, 0x00400000 | 0x83); /* 8-12 MiB: 4 MiB page */
        put32(0x400000, 0x0 | 3);                 /* what that entry points to when PSE is off */
        ck_assert_int_eq(guest_walk(&w, 0x403456, WALK_READ, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x123456);
        /* PSE off: the PS bit is ignored and the entry is a table pointer. */
        ck_assert_int_eq(guest_walk(&w, 0x800010, WALK_READ, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x10);
        w.cr4 = 1 << 4; /* PSE */
        ck_assert_int_eq(guest_walk(&w, 0x800010, WALK_READ, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x400010);
        ck_assert_int_eq(guest_walk(&w, 0xc00000, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        w.cpl = 3;
        ck_assert_int_eq(guest_walk(&w, 0x403456, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err, PF_P | PF_U);
}
END_TEST

START_TEST(pae_paging)
{
        uint64_t gpa;
        uint32_t err;
        w.cr0 = CR0_PG | 1;
        w.cr4 = 1 << 5;
        w.cr3 = 0x1000;
        put64(0x1000 + 8 * 1, 0x2000 | 1);      /* PDPTE 1: 1-2 GiB */
        put64(0x2000 + 8 * 0, 0x200000 | 0x83); /* 2 MiB page */
        ck_assert_int_eq(guest_walk(&w, 0x40000123, WALK_WRITE, &gpa, &err), WALK_OK);
        ck_assert_x64_eq(gpa, 0x200123);
        put64(0x2000 + 8 * 0, 0x300000 | 0x83); /* misaligned large page: reserved bits */
        ck_assert_int_eq(guest_walk(&w, 0x40000123, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err & PF_RSVD, PF_RSVD);
        put64(0x2000 + 8 * 0, 0x200000 | 0x83);
        put64(0x1000 + 8 * 1, 0x2000 | 1 | 2); /* reserved R/W bit in a PDPTE */
        ck_assert_int_eq(guest_walk(&w, 0x40000123, WALK_READ, &gpa, &err), WALK_PAGE_FAULT);
        ck_assert_uint_eq(err & PF_RSVD, PF_RSVD);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("guest_walk");
        TCase *tc = tcase_create("walk");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, paging_off_is_identity);
        tcase_add_test(tc, long_mode_4k_and_2m);
        tcase_add_test(tc, long_mode_faults);
        tcase_add_test(tc, fetch_fault_id_bit_follows_nxe);
        tcase_add_test(tc, tables_outside_ram);
        tcase_add_test(tc, legacy_32bit_paging);
        tcase_add_test(tc, pae_paging);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
