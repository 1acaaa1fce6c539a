/* Host unit tests for lib/log.c: lines reach the output whole, with the
 * prefix and one newline; long lines are cut and marked; panic and refuse
 * name what happened and halt through the output. */
#include "tests/unit/check_compat.h"
#include "lib/log.h"
#include <setjmp.h>

static char lines[8][LOG_LINE_MAX + 8];
static size_t lens[8];
static int nlines, nhalts;
static jmp_buf halted;

static void record(const char *text, size_t len)
{
        ck_assert_int_lt(nlines, 8);
        ck_assert_uint_le(len, LOG_LINE_MAX);
        memcpy(lines[nlines], text, len);
        lines[nlines][len] = 0;
        lens[nlines++] = len;
}

__attribute__((noreturn)) static void halt(void)
{
        nhalts++;
        longjmp(halted, 1);
}

static const struct log_output out = { .line = record, .halt = halt };

static void setup(void)
{
        nlines = nhalts = 0;
        log_set_output(&out);
}

START_TEST(one_line_with_prefix)
{
        log_line("vm %s: stopped: code %d", "web", 3);
        ck_assert_int_eq(nlines, 1);
        ck_assert_str_eq(lines[0], "vtvisor: vm web: stopped: code 3\n");
        ck_assert_uint_eq(lens[0], strlen(lines[0]));
}
END_TEST

START_TEST(long_line_cut_and_marked)
{
        char big[1000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        log_line("%s", big);
        ck_assert_int_eq(nlines, 1);
        ck_assert_uint_eq(lens[0], LOG_LINE_MAX);
        ck_assert_mem_eq(lines[0] + LOG_LINE_MAX - 4, "...\n", 4);
        ck_assert_mem_eq(lines[0], "vtvisor: xxx", 12);
}
END_TEST

START_TEST(exactly_fitting_line_not_cut)
{
        char msg[LOG_LINE_MAX];
        size_t room = LOG_LINE_MAX - strlen("vtvisor: ") - 2;
        memset(msg, 'y', room);
        msg[room] = 0;
        log_line("%s", msg);
        ck_assert_uint_eq(lens[0], LOG_LINE_MAX - 1);
        ck_assert_int_eq(lines[0][lens[0] - 2], 'y');
}
END_TEST

START_TEST(panic_names_place_and_halts)
{
        if (!setjmp(halted))
                panic("bad VMCS field 0x%x", 0x4002);
        ck_assert_int_eq(nhalts, 1);
        ck_assert_int_eq(nlines, 4);
        /* No cpu callback: CPU 0. */
        ck_assert_str_eq(lines[0], "vtvisor: PANIC: cpu 0: bad VMCS field 0x4002\n");
        ck_assert_ptr_nonnull(strstr(lines[1], "(hypervisor bug at tests/unit/test_log.c:"));
        /* At least this test's own frame: the return into it. */
        ck_assert_ptr_nonnull(strstr(lines[2], "vtvisor: backtrace: 0x"));
        ck_assert_str_eq(lines[3], "vtvisor: halted\n");
}
END_TEST

START_TEST(refuse_says_refused_and_halts)
{
        if (!setjmp(halted))
                refuse("no VMX: %s", "enable VT-x in the firmware");
        ck_assert_int_eq(nhalts, 1);
        ck_assert_str_eq(lines[0], "vtvisor: refused: no VMX: enable VT-x in the firmware\n");
        ck_assert_str_eq(lines[1], "vtvisor: halted\n");
}
END_TEST

START_TEST(no_output_drops_lines)
{
        log_set_output(NULL);
        log_line("nobody hears this");
        ck_assert_int_eq(nlines, 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("log");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, one_line_with_prefix);
        tcase_add_test(tc, long_line_cut_and_marked);
        tcase_add_test(tc, exactly_fitting_line_not_cut);
        tcase_add_test(tc, panic_names_place_and_halts);
        tcase_add_test(tc, refuse_says_refused_and_halts);
        tcase_add_test(tc, no_output_drops_lines);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
