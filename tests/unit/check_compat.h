/* Shared glue for the host unit tests: the Check header, fallbacks for
 * assertion macros missing from older Check releases, and one main-style
 * runner so every test binary prints Check's usual summary line and exits
 * non-zero on any failure. */
#ifndef VTV_TESTS_UNIT_CHECK_COMPAT_H
#define VTV_TESTS_UNIT_CHECK_COMPAT_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef ck_assert_ptr_null
#define ck_assert_ptr_null(p) ck_assert_msg((p) == NULL, "%s is not NULL", #p)
#endif
#ifndef ck_assert_ptr_nonnull
#define ck_assert_ptr_nonnull(p) ck_assert_msg((p) != NULL, "%s is NULL", #p)
#endif
#ifndef ck_assert_mem_eq
#define ck_assert_mem_eq(a, b, n) ck_assert_msg(memcmp((a), (b), (n)) == 0, "memory differs")
#endif

/* 64-bit values printed in hex, which is how addresses and MSRs read best. */
#define ck_assert_x64_eq(a, b)                                                                     \
        do {                                                                                       \
                uint64_t ck_x64_a_ = (uint64_t)(a), ck_x64_b_ = (uint64_t)(b);                     \
                ck_assert_msg(ck_x64_a_ == ck_x64_b_, "%s == %s: 0x%llx != 0x%llx", #a, #b,        \
                              (unsigned long long)ck_x64_a_, (unsigned long long)ck_x64_b_);       \
        } while (0)

/* Runs one suite with CK_NORMAL output; returns the process exit status. */
static inline int unit_run_suite(Suite *s)
{
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
