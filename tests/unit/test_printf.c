/* Host unit tests for lib/printf.c. */
#include "tests/unit/check_compat.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include "lib/printf.h"

/* Formats into a canary-filled buffer through vtv_vsnprintf.  Deliberately
 * without a format attribute: the tests feed flag combinations the compiler
 * would warn about (e.g. '0' with '-') and unknown conversions. */
static char out[512];
static size_t outlen;

static const char *fmt(const char *f, ...)
{
        va_list ap;
        va_start(ap, f);
        memset(out, '~', sizeof(out));
        outlen = vtv_vsnprintf(out, sizeof(out), f, ap);
        va_end(ap);
        return out;
}

#define EXPECT(expected, ...)                                                                      \
        do {                                                                                       \
                ck_assert_str_eq(fmt(__VA_ARGS__), (expected));                                    \
                ck_assert_uint_eq(outlen, strlen(expected));                                       \
        } while (0)

/* Same, through a caller-chosen buffer size. */
static size_t fmt_n(char *buf, size_t size, const char *f, ...)
{
        va_list ap;
        va_start(ap, f);
        size_t n = vtv_vsnprintf(buf, size, f, ap);
        va_end(ap);
        return n;
}

/* ---- conversions ---- */

START_TEST(plain_text_and_percent)
{
        EXPECT("", "");
        EXPECT("hello, world", "hello, world");
        EXPECT("100%", "100%%");
        EXPECT("%%", "%%%%");
        EXPECT("a%b", "a%%b");
}
END_TEST

START_TEST(signed_decimal)
{
        EXPECT("0", "%d", 0);
        EXPECT("42", "%d", 42);
        EXPECT("-42", "%d", -42);
        EXPECT("7 -7", "%i %i", 7, -7);
        EXPECT("2147483647", "%d", INT_MAX);
        EXPECT("-2147483648", "%d", INT_MIN);
        EXPECT("-2147483648", "%i", INT_MIN);
        EXPECT("[1][-2][3]", "[%d][%d][%d]", 1, -2, 3);
}
END_TEST

START_TEST(unsigned_decimal)
{
        EXPECT("0", "%u", 0u);
        EXPECT("4294967295", "%u", UINT_MAX);
        EXPECT("4294967295", "%u", -1); /* int reinterpreted as unsigned */
        EXPECT("3000000000", "%u", 3000000000u);
}
END_TEST

START_TEST(hex)
{
        EXPECT("0", "%x", 0u);
        EXPECT("ff", "%x", 255u);
        EXPECT("FF", "%X", 255u);
        EXPECT("deadbeef", "%x", 0xdeadbeefu);
        EXPECT("DEADBEEF", "%X", 0xdeadbeefu);
        EXPECT("ffffffff", "%x", -1);
        EXPECT("abcdef0123456789", "%llx", 0xabcdef0123456789ULL);
        EXPECT("ABCDEF0123456789", "%llX", 0xabcdef0123456789ULL);
        EXPECT("ffffffffffffffff", "%lx", ULONG_MAX);
}
END_TEST

START_TEST(int64_extremes)
{
        EXPECT("-9223372036854775808", "%lld", LLONG_MIN);
        EXPECT("9223372036854775807", "%lld", LLONG_MAX);
        EXPECT("-9223372036854775808", "%ld", LONG_MIN);
        EXPECT("-9223372036854775808", "%lli", (long long)INT64_MIN);
        EXPECT("18446744073709551615", "%llu", ULLONG_MAX);
        EXPECT("18446744073709551615", "%lu", ULONG_MAX);
        EXPECT("-1", "%lld", -1LL);
        EXPECT("[  -9223372036854775808]", "[%22lld]", LLONG_MIN);
        EXPECT("[-9223372036854775808]", "[%5lld]", LLONG_MIN);
        EXPECT("-0009223372036854775808", "%023lld", LLONG_MIN);
}
END_TEST

START_TEST(length_hh_h)
{
        /* hh and h convert the promoted int back to char / short. */
        EXPECT("-56", "%hhd", 200);
        EXPECT("127", "%hhd", 127);
        EXPECT("-128", "%hhd", 128);
        EXPECT("-1", "%hhd", 0x1ff);
        EXPECT("255", "%hhu", 0x1ff);
        EXPECT("255", "%hhu", -1);
        EXPECT("34", "%hhx", 0x1234);
        EXPECT("4464", "%hd", 70000);
        EXPECT("-32768", "%hd", 32768);
        EXPECT("65535", "%hu", -1);
        EXPECT("5678", "%hx", 0x12345678);
        EXPECT("ABCD", "%hX", 0xffffabcd);
        EXPECT("-7", "%hi", -7);
}
END_TEST

START_TEST(length_l_ll_z)
{
        EXPECT("1099511627776", "%ld", 1L << 40);
        EXPECT("-1099511627776", "%lld", -(1LL << 40));
        EXPECT("1099511627776", "%lu", 1UL << 40);
        EXPECT("18446744073709551615", "%zu", SIZE_MAX);
        EXPECT("ffffffffffffffff", "%zx", SIZE_MAX);
        EXPECT("123", "%zu", (size_t)123);
        /* A 64-bit argument followed by an int: the va_arg sizes must match. */
        EXPECT("10000000000 5", "%llu %d", 10000000000ULL, 5);
        EXPECT("5 10000000000 6", "%d %zu %d", 5, (size_t)10000000000ULL, 6);
}
END_TEST

START_TEST(pointers)
{
        EXPECT("0x1234", "%p", (void *)0x1234);
        EXPECT("0x0", "%p", (void *)0);
        EXPECT("0xffff800000001000", "%p", (void *)0xffff800000001000ULL);
        /* Width counts the prefix; zero padding goes after it. */
        EXPECT("    0x1234", "%10p", (void *)0x1234);
        EXPECT("0x1234    |", "%-10p|", (void *)0x1234);
        EXPECT("0x00001234", "%010p", (void *)0x1234);
        EXPECT("0x00001234", "%.8p", (void *)0x1234);
}
END_TEST

START_TEST(strings)
{
        EXPECT("hello", "%s", "hello");
        EXPECT("", "%s", "");
        EXPECT("(null)", "%s", (char *)NULL);
        EXPECT("a-b-c", "%s-%s-%s", "a", "b", "c");
        EXPECT("   ab", "%5s", "ab");
        EXPECT("ab   |", "%-5s|", "ab");
        EXPECT("abcdef", "%3s", "abcdef");
        EXPECT("abc", "%.3s", "abcdef");
        EXPECT("ab", "%.3s", "ab");
        EXPECT("", "%.0s", "abc");
        EXPECT("    x", "%5.1s", "xyz");
        EXPECT("x    |", "%-5.1s|", "xyz");
        EXPECT("ab", "%.*s", 2, "abc");
        EXPECT("(nu", "%.3s", (char *)NULL);
}
END_TEST

START_TEST(string_precision_does_not_overread)
{
        /* Not NUL-terminated: precision bounds the read (ASan checks). */
        char raw[3] = { 'x', 'y', 'z' };
        EXPECT("xyz", "%.3s", raw);
        EXPECT("xy", "%.*s", 2, raw);
}
END_TEST

START_TEST(chars)
{
        EXPECT("A", "%c", 'A');
        EXPECT("A B", "%c %c", 'A', 'B');
        EXPECT("  A", "%3c", 'A');
        EXPECT("A  |", "%-3c|", 'A');
        EXPECT("\xff", "%c", 0xff);
        EXPECT("%", "%c", '%');
}
END_TEST

START_TEST(char_nul_is_emitted)
{
        fmt("a%cb", 0);
        ck_assert_uint_eq(outlen, 3);
        ck_assert_mem_eq(out, "a\0b", 4);

        fmt("%3c|", 0);
        ck_assert_uint_eq(outlen, 4);
        ck_assert_mem_eq(out, "  \0|", 5);

        /* Left-justified: the NUL comes first, the padding after it. */
        fmt("%-3c|", 0);
        ck_assert_uint_eq(outlen, 4);
        ck_assert_mem_eq(out, "\0  |", 5);
}
END_TEST

/* ---- flags, width, precision ---- */

START_TEST(width_and_flags)
{
        EXPECT("   42", "%5d", 42);
        EXPECT("42   |", "%-5d|", 42);
        EXPECT("00042", "%05d", 42);
        EXPECT("  -42", "%5d", -42);
        EXPECT("-0042", "%05d", -42);
        EXPECT("-42  |", "%-5d|", -42);
        EXPECT("-42  |", "%-05d|", -42); /* '-' wins over '0' */
        EXPECT("-42  |", "%0-5d|", -42);
        EXPECT("12345", "%3d", 12345);
        EXPECT("12345", "%05d", 12345);
        EXPECT("0000beef", "%08x", 0xbeefu);
        EXPECT("    BEEF", "%8X", 0xbeefu);
        EXPECT("00000", "%05u", 0u);
        EXPECT("    0", "%5x", 0u);
}
END_TEST

START_TEST(precision_numbers)
{
        EXPECT("00042", "%.5d", 42);
        EXPECT("-00042", "%.5d", -42);
        EXPECT("  -00042", "%8.5d", -42);
        EXPECT("-00042  |", "%-8.5d|", -42);
        /* '0' is ignored when a precision is given. */
        EXPECT("  -00042", "%08.5d", -42);
        EXPECT("   00a", "%6.3x", 0xau);
        EXPECT("12345", "%.3d", 12345);
        EXPECT("5", "%.0d", 5);
        EXPECT("1", "%.1u", 1u);
        EXPECT("0000000000000000ffff", "%.20llx", 0xffffULL);
}
END_TEST

START_TEST(star_width_and_precision)
{
        EXPECT("    42", "%*d", 6, 42);
        EXPECT("42    |", "%-*d|", 6, 42);
        /* A negative '*' width means left-justify. */
        EXPECT("42    |", "%*d|", -6, 42);
        EXPECT("0007", "%.*d", 4, 7);
        EXPECT("   007", "%*.*d", 6, 3, 7);
        /* A negative '*' precision is as if none was given. */
        EXPECT("42", "%.*d", -1, 42);
        EXPECT("00042", "%05.*d", -1, 42);
        EXPECT("abc", "%.*s", -5, "abc");
        EXPECT("  ab|", "%*.*s|", 4, 2, "abcd");
        /* Arguments after the '*' ones are still taken in order. */
        EXPECT("[  x][y]", "[%*s][%s]", 3, "x", "y");
}
END_TEST

START_TEST(huge_width_is_bounded)
{
        char buf[8];
        /* A width spelled with more digits than an int holds must not
         * overflow (UBSan checks) and must produce a bounded length. */
        size_t n = fmt_n(buf, sizeof(buf), "%99999999999999999999d", 1);
        ck_assert_uint_ge(n, 1);
        ck_assert_uint_le(n, 1000000);
        n = fmt_n(buf, sizeof(buf), "%1000d", 1);
        ck_assert_uint_eq(n, 1000);
        ck_assert_str_eq(buf, "       ");
}
END_TEST

START_TEST(odd_formats)
{
        /* A lone '%' at the end stops output. */
        EXPECT("abc", "abc%");
        EXPECT("abc", "abc%5");
        EXPECT("abc", "abc%ll");
        /* An unknown conversion is shown, not guessed. */
        EXPECT("%q", "%q");
        EXPECT("a%yb", "a%yb");
        EXPECT("%w 5", "%w %d", 5);
}
END_TEST

/* ---- buffer handling ---- */

START_TEST(truncation_and_return_value)
{
        char buf[16];
        memset(buf, 'X', sizeof(buf));
        ck_assert_uint_eq(vtv_snprintf(buf, 5, "%s", "hello world"), 11);
        ck_assert_str_eq(buf, "hell");
        for (size_t i = 5; i < sizeof(buf); i++)
                ck_assert_int_eq(buf[i], 'X');

        memset(buf, 'X', sizeof(buf));
        ck_assert_uint_eq(vtv_snprintf(buf, 6, "%d-%d", 1234, 5678), 9);
        ck_assert_str_eq(buf, "1234-");
        ck_assert_int_eq(buf[6], 'X');

        /* Exact fit and one short. */
        ck_assert_uint_eq(vtv_snprintf(buf, 6, "%s", "abcde"), 5);
        ck_assert_str_eq(buf, "abcde");
        ck_assert_uint_eq(vtv_snprintf(buf, 5, "%s", "abcde"), 5);
        ck_assert_str_eq(buf, "abcd");

        /* Size 1: only the terminator. */
        memset(buf, 'X', sizeof(buf));
        ck_assert_uint_eq(vtv_snprintf(buf, 1, "%x", 0xabcu), 3);
        ck_assert_int_eq(buf[0], '\0');
        ck_assert_int_eq(buf[1], 'X');
}
END_TEST

START_TEST(truncation_inside_padding)
{
        char buf[16];
        memset(buf, 'X', sizeof(buf));
        ck_assert_uint_eq(vtv_snprintf(buf, 4, "%08d", -5), 8);
        ck_assert_str_eq(buf, "-00");
        ck_assert_uint_eq(vtv_snprintf(buf, 4, "%-8s|", "ab"), 9);
        ck_assert_str_eq(buf, "ab ");
        ck_assert_int_eq(buf[4], 'X');
}
END_TEST

START_TEST(size_zero_writes_nothing)
{
        char buf[4] = { 'Q', 'R', 'S', 'T' };
        ck_assert_uint_eq(vtv_snprintf(buf, 0, "%s %d", "abc", 12345), 9);
        ck_assert_mem_eq(buf, "QRST", 4);
        /* With size 0 the buffer may be NULL: measuring only. */
        ck_assert_uint_eq(vtv_snprintf(NULL, 0, "%lld", LLONG_MIN), 20);
        ck_assert_uint_eq(fmt_n(NULL, 0, ""), 0);
}
END_TEST

/* ---- vtv_vformat and its sink ---- */

struct collect {
        char buf[64];
        size_t n;
        unsigned calls;
};

static void collect_sink(void *ctx, char c)
{
        struct collect *col = ctx;
        col->calls++;
        if (col->n < sizeof(col->buf))
                col->buf[col->n++] = c;
}

static size_t via_vformat(struct collect *col, const char *f, ...)
{
        va_list ap;
        va_start(ap, f);
        size_t n = vtv_vformat(collect_sink, col, f, ap);
        va_end(ap);
        return n;
}

START_TEST(vformat_sink_gets_every_char)
{
        struct collect col = { .n = 0 };
        size_t n = via_vformat(&col, "[%5s|%-3d|%c]", "ab", 7, 0);
        /* The %c NUL is one character; no terminator is sent to a sink. */
        ck_assert_uint_eq(n, 13);
        ck_assert_uint_eq(col.calls, 13);
        ck_assert_uint_eq(col.n, 13);
        ck_assert_mem_eq(col.buf, "[   ab|7  |\0]", 13);
        ck_assert_uint_eq(via_vformat(&col, ""), 0);
}
END_TEST

/* ---- cross-check against the host C library where behaviour is standard ---- */

static void cross_int(const char *f, int v)
{
        char a[128], b[128];
        size_t n = fmt_n(a, sizeof(a), f, v);
        int m = snprintf(b, sizeof(b), f, v);
        ck_assert_msg(strcmp(a, b) == 0 && n == (size_t)m,
                      "fmt \"%s\" value %d: \"%s\" (%zu), libc \"%s\" (%d)", f, v, a, n, b, m);
}

static void cross_ll(const char *f, long long v)
{
        char a[128], b[128];
        size_t n = fmt_n(a, sizeof(a), f, v);
        int m = snprintf(b, sizeof(b), f, v);
        ck_assert_msg(strcmp(a, b) == 0 && n == (size_t)m,
                      "fmt \"%s\" value %lld: \"%s\" (%zu), libc \"%s\" (%d)", f, v, a, n, b, m);
}

static void cross_str(const char *f, const char *v)
{
        char a[128], b[128];
        size_t n = fmt_n(a, sizeof(a), f, v);
        int m = snprintf(b, sizeof(b), f, v);
        ck_assert_msg(strcmp(a, b) == 0 && n == (size_t)m,
                      "fmt \"%s\" value \"%s\": \"%s\" (%zu), libc \"%s\" (%d)", f, v, a, n, b, m);
}

START_TEST(matches_libc_int)
{
        /* Precision 0 with a zero value is left out on purpose (C prints
         * nothing there; vtvisor prints "0"). */
        static const char *const fmts[] = {
                "%d",   "%i",    "%u",      "%x",      "%X",     "%5d",    "%-5d|", "%05d",
                "%.3d", "%8.3d", "%-8.3d|", "%08.3d",  "%12u",   "%-12x|", "%012X", "%.10u",
                "%hhd", "%hhu",  "%hhx",    "%hd",     "%hu",    "%hX",    "%6hhd", "%-6hd|",
                "%1d",  "%.1x",  "%011d",   "%-011d|", "%0-9i|",
        };
        static const int vals[] = { 0,      1,     -1,    9,      10,      -10,    42,
                                    -42,    127,   128,   -129,   255,     256,    32767,
                                    -32768, 65535, 65536, 123456, INT_MAX, INT_MIN };
        for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
                for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
                        cross_int(fmts[i], vals[j]);
}
END_TEST

START_TEST(matches_libc_long_long)
{
        static const char *const fmts[] = {
                "%lld",    "%lli",    "%llu",      "%llx", "%llX", "%25lld", "%-25lld|",
                "%025lld", "%.22lld", "%30.22lld", "%ld",  "%lu",  "%lx",    "%020lx",
        };
        static const long long vals[] = { 0,
                                          1,
                                          -1,
                                          4294967295LL,
                                          4294967296LL,
                                          -4294967296LL,
                                          LLONG_MAX,
                                          LLONG_MIN,
                                          (long long)0x8000000000000001ULL };
        for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
                for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
                        cross_ll(fmts[i], vals[j]);
}
END_TEST

START_TEST(matches_libc_string)
{
        static const char *const fmts[] = { "%s",       "%10s", "%-10s|", "%.2s",  "%10.2s",
                                            "%-10.2s|", "%.0s", "%1s",    "%.20s", "[%s]%%" };
        static const char *const vals[] = { "", "a", "hello", "hello world!" };
        for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
                for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
                        cross_str(fmts[i], vals[j]);
}
END_TEST

static Suite *printf_suite(void)
{
        Suite *s = suite_create("printf");
        TCase *conv = tcase_create("conversions");
        tcase_add_test(conv, plain_text_and_percent);
        tcase_add_test(conv, signed_decimal);
        tcase_add_test(conv, unsigned_decimal);
        tcase_add_test(conv, hex);
        tcase_add_test(conv, int64_extremes);
        tcase_add_test(conv, length_hh_h);
        tcase_add_test(conv, length_l_ll_z);
        tcase_add_test(conv, pointers);
        tcase_add_test(conv, strings);
        tcase_add_test(conv, string_precision_does_not_overread);
        tcase_add_test(conv, chars);
        tcase_add_test(conv, char_nul_is_emitted);
        suite_add_tcase(s, conv);

        TCase *flags = tcase_create("flags");
        tcase_add_test(flags, width_and_flags);
        tcase_add_test(flags, precision_numbers);
        tcase_add_test(flags, star_width_and_precision);
        tcase_add_test(flags, huge_width_is_bounded);
        tcase_add_test(flags, odd_formats);
        suite_add_tcase(s, flags);

        TCase *buf = tcase_create("buffer");
        tcase_add_test(buf, truncation_and_return_value);
        tcase_add_test(buf, truncation_inside_padding);
        tcase_add_test(buf, size_zero_writes_nothing);
        tcase_add_test(buf, vformat_sink_gets_every_char);
        suite_add_tcase(s, buf);

        TCase *libc = tcase_create("libc");
        tcase_add_test(libc, matches_libc_int);
        tcase_add_test(libc, matches_libc_long_long);
        tcase_add_test(libc, matches_libc_string);
        suite_add_tcase(s, libc);
        return s;
}

int main(void)
{
        return unit_run_suite(printf_suite());
}
