/* Host unit tests for arch/x86/pmm.c, the physical page allocator. */
#include "tests/unit/check_compat.h"
#include "arch/x86/pmm.h"

#define NPAGES 4096 /* 16 MiB */
static uint64_t bitmap[NPAGES / 64];
static struct pmm p;

static void setup(void)
{
        pmm_init(&p, bitmap, NPAGES);
}

START_TEST(starts_fully_reserved)
{
        ck_assert_uint_eq(p.free_pages, 0);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0);
}
END_TEST

START_TEST(free_regions_shrink_to_whole_pages)
{
        pmm_add_free(&p, 0x1800, 0x3000); /* covers pages 2 and 3 fully only */
        ck_assert_uint_eq(p.free_pages, 2);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0x2000);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0x3000);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0);
}
END_TEST

START_TEST(page_zero_is_never_handed_out)
{
        pmm_add_free(&p, 0, 0x2000);
        ck_assert_uint_eq(p.free_pages, 1);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0x1000);
}
END_TEST

START_TEST(reserve_grows_to_whole_pages)
{
        pmm_add_free(&p, 0, 0x10000);
        pmm_reserve(&p, 0x2fff, 2); /* touches pages 2 and 3 */
        ck_assert_uint_eq(p.free_pages, 15 - 2);
        uint64_t a = pmm_alloc(&p, 2, 4096);
        ck_assert_x64_eq(a, 0x4000); /* pages 1 then 4-5: first run of two */
}
END_TEST

START_TEST(contiguous_and_aligned)
{
        pmm_add_free(&p, 0, NPAGES * 4096ULL);
        uint64_t a = pmm_alloc(&p, 3, 4096);
        ck_assert_x64_eq(a, 0x1000);
        uint64_t b = pmm_alloc(&p, 512, 2ULL << 20);
        ck_assert_x64_eq(b, 2ULL << 20);
        uint64_t c = pmm_alloc(&p, 1, 4096);
        ck_assert_x64_eq(c, (2ULL << 20) + (512 * 4096ULL));
        /* Freed holes are found again once the hint wraps. */
        pmm_free(&p, a, 3);
        uint64_t big = pmm_alloc(&p, NPAGES, 4096);
        ck_assert_x64_eq(big, 0); /* more than exists */
        uint64_t d = pmm_alloc(&p, 3, 4096);
        ck_assert(d == 0x1000 || d > c);
}
END_TEST

START_TEST(bad_arguments)
{
        pmm_add_free(&p, 0, 0x100000);
        ck_assert_x64_eq(pmm_alloc(&p, 0, 4096), 0);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 2048), 0);  /* below a page */
        ck_assert_x64_eq(pmm_alloc(&p, 1, 12288), 0); /* not a power of two */
        uint64_t before = p.free_pages;
        pmm_free(&p, 0, 5); /* freeing "nothing" is a no-op */
        ck_assert_uint_eq(p.free_pages, before);
        pmm_add_free(&p, ~0ULL - 10, 100); /* wraps: ignored */
        ck_assert_uint_eq(p.free_pages, before);
}
END_TEST

START_TEST(exhaustion_and_accounting)
{
        pmm_add_free(&p, 0, 0x11000); /* pages 1..16 */
        ck_assert_uint_eq(p.free_pages, 16);
        for (int i = 0; i < 16; i++)
                ck_assert(pmm_alloc(&p, 1, 4096) != 0);
        ck_assert_uint_eq(p.free_pages, 0);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0);
        pmm_free(&p, 0x5000, 1);
        ck_assert_uint_eq(p.free_pages, 1);
        pmm_free(&p, 0x5000, 1); /* double free does not count twice */
        ck_assert_uint_eq(p.free_pages, 1);
        ck_assert_x64_eq(pmm_alloc(&p, 1, 4096), 0x5000);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("pmm");
        TCase *tc = tcase_create("alloc");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, starts_fully_reserved);
        tcase_add_test(tc, free_regions_shrink_to_whole_pages);
        tcase_add_test(tc, page_zero_is_never_handed_out);
        tcase_add_test(tc, reserve_grows_to_whole_pages);
        tcase_add_test(tc, contiguous_and_aligned);
        tcase_add_test(tc, bad_arguments);
        tcase_add_test(tc, exhaustion_and_accounting);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
