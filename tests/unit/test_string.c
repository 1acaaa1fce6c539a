/* Host unit tests for lib/string.c. */
#include "tests/unit/check_compat.h"
#include "lib/string.h"

/* ---- vtv_memset ---- */

START_TEST(memset_fills_exactly_n)
{
        unsigned char buf[16];
        memset(buf, 0x11, sizeof(buf));
        ck_assert_ptr_eq(vtv_memset(buf + 2, 0xab, 5), buf + 2);
        for (size_t i = 0; i < sizeof(buf); i++)
                ck_assert_uint_eq(buf[i], (i >= 2 && i < 7) ? 0xab : 0x11);
}
END_TEST

START_TEST(memset_truncates_value_to_byte)
{
        unsigned char buf[4] = { 1, 2, 3, 4 };
        vtv_memset(buf, 0x1ff, 3);
        ck_assert_uint_eq(buf[0], 0xff);
        ck_assert_uint_eq(buf[2], 0xff);
        ck_assert_uint_eq(buf[3], 4);
        vtv_memset(buf, -1, 4);
        ck_assert_uint_eq(buf[3], 0xff);
}
END_TEST

START_TEST(memset_zero_length_touches_nothing)
{
        unsigned char buf[2] = { 7, 8 };
        ck_assert_ptr_eq(vtv_memset(buf, 0, 0), buf);
        ck_assert_uint_eq(buf[0], 7);
        ck_assert_uint_eq(buf[1], 8);
}
END_TEST

/* ---- vtv_memcpy ---- */

START_TEST(memcpy_copies_exactly_n)
{
        const char src[] = "abcdefgh";
        char dst[10];
        memset(dst, '.', sizeof(dst));
        ck_assert_ptr_eq(vtv_memcpy(dst + 1, src, 5), dst + 1);
        ck_assert_mem_eq(dst, ".abcde....", 10);
        ck_assert_ptr_eq(vtv_memcpy(dst, src, 0), dst);
        ck_assert_int_eq(dst[0], '.');
}
END_TEST

START_TEST(memcpy_copies_all_byte_values)
{
        unsigned char src[256], dst[256];
        for (int i = 0; i < 256; i++)
                src[i] = (unsigned char)(255 - i);
        memset(dst, 0, sizeof(dst));
        vtv_memcpy(dst, src, sizeof(src));
        ck_assert_mem_eq(dst, src, sizeof(src));
}
END_TEST

/* ---- vtv_memmove ---- */

START_TEST(memmove_forward_overlap)
{
        char buf[] = "0123456789";
        /* dst above src: must copy from the end. */
        ck_assert_ptr_eq(vtv_memmove(buf + 2, buf, 6), buf + 2);
        ck_assert_str_eq(buf, "0101234589");
}
END_TEST

START_TEST(memmove_backward_overlap)
{
        char buf[] = "0123456789";
        ck_assert_ptr_eq(vtv_memmove(buf, buf + 3, 7), buf);
        ck_assert_str_eq(buf, "3456789789");
}
END_TEST

START_TEST(memmove_same_and_zero)
{
        char buf[] = "abc";
        ck_assert_ptr_eq(vtv_memmove(buf, buf, 3), buf);
        ck_assert_str_eq(buf, "abc");
        ck_assert_ptr_eq(vtv_memmove(buf + 1, buf, 0), buf + 1);
        ck_assert_str_eq(buf, "abc");
}
END_TEST

START_TEST(memmove_disjoint)
{
        char a[] = "hello", b[] = "world";
        vtv_memmove(a, b, 5);
        ck_assert_str_eq(a, "world");
        ck_assert_str_eq(b, "world");
}
END_TEST

/* ---- vtv_memcmp ---- */

START_TEST(memcmp_orders_as_unsigned)
{
        const unsigned char lo[] = { 1, 2, 0x7f };
        const unsigned char hi[] = { 1, 2, 0x80 };
        ck_assert_int_eq(vtv_memcmp(lo, lo, 3), 0);
        ck_assert_int_lt(vtv_memcmp(lo, hi, 3), 0);
        ck_assert_int_gt(vtv_memcmp(hi, lo, 3), 0);
        /* Bytes past n are ignored. */
        ck_assert_int_eq(vtv_memcmp(lo, hi, 2), 0);
        ck_assert_int_eq(vtv_memcmp(lo, hi, 0), 0);
}
END_TEST

START_TEST(memcmp_first_difference_decides)
{
        ck_assert_int_lt(vtv_memcmp("abz", "acA", 3), 0);
        ck_assert_int_gt(vtv_memcmp("b\x00", "a\xff", 2), 0);
        /* Embedded NULs are compared, not treated as terminators. */
        ck_assert_int_lt(vtv_memcmp("a\0b", "a\0c", 3), 0);
}
END_TEST

/* ---- vtv_strlen / vtv_strnlen ---- */

START_TEST(strlen_values)
{
        ck_assert_uint_eq(vtv_strlen(""), 0);
        ck_assert_uint_eq(vtv_strlen("a"), 1);
        ck_assert_uint_eq(vtv_strlen("hello world"), 11);
        ck_assert_uint_eq(vtv_strlen("ab\0cd"), 2);
        ck_assert_uint_eq(vtv_strlen("\xff\x80"), 2);
}
END_TEST

START_TEST(strnlen_stops_at_max)
{
        ck_assert_uint_eq(vtv_strnlen("hello", 10), 5);
        ck_assert_uint_eq(vtv_strnlen("hello", 5), 5);
        ck_assert_uint_eq(vtv_strnlen("hello", 3), 3);
        ck_assert_uint_eq(vtv_strnlen("hello", 0), 0);
        ck_assert_uint_eq(vtv_strnlen("", 4), 0);
        /* Must not read beyond max: an unterminated buffer is fine. */
        char raw[4] = { 'w', 'x', 'y', 'z' };
        ck_assert_uint_eq(vtv_strnlen(raw, sizeof(raw)), 4);
}
END_TEST

/* ---- vtv_strcmp / vtv_strncmp ---- */

START_TEST(strcmp_values)
{
        ck_assert_int_eq(vtv_strcmp("", ""), 0);
        ck_assert_int_eq(vtv_strcmp("abc", "abc"), 0);
        ck_assert_int_lt(vtv_strcmp("abc", "abd"), 0);
        ck_assert_int_gt(vtv_strcmp("abd", "abc"), 0);
        /* A prefix sorts first. */
        ck_assert_int_lt(vtv_strcmp("ab", "abc"), 0);
        ck_assert_int_gt(vtv_strcmp("abc", "ab"), 0);
        ck_assert_int_lt(vtv_strcmp("", "a"), 0);
        /* Bytes compare as unsigned char. */
        ck_assert_int_gt(vtv_strcmp("\x80", "\x7f"), 0);
        ck_assert_int_lt(vtv_strcmp("a\x01", "a\xff"), 0);
}
END_TEST

START_TEST(strncmp_values)
{
        ck_assert_int_eq(vtv_strncmp("abcdef", "abcxyz", 3), 0);
        ck_assert_int_lt(vtv_strncmp("abcdef", "abcxyz", 4), 0);
        ck_assert_int_gt(vtv_strncmp("abcxyz", "abcdef", 6), 0);
        ck_assert_int_eq(vtv_strncmp("abc", "xyz", 0), 0);
        /* Stops at the common terminator even if n is larger. */
        ck_assert_int_eq(vtv_strncmp("ab", "ab", 100), 0);
        ck_assert_int_lt(vtv_strncmp("ab", "abc", 100), 0);
        ck_assert_int_gt(vtv_strncmp("abc", "ab", 3), 0);
        ck_assert_int_eq(vtv_strncmp("abc", "ab", 2), 0);
        ck_assert_int_gt(vtv_strncmp("\xfe", "\x01", 1), 0);
}
END_TEST

START_TEST(strncmp_does_not_read_past_terminator)
{
        /* Both strings end at index 1; bytes after that must be ignored even
         * though they differ and n covers them. */
        char a[4] = { 'x', '\0', 'p', 'q' };
        char b[4] = { 'x', '\0', 'r', 's' };
        ck_assert_int_eq(vtv_strncmp(a, b, 4), 0);
}
END_TEST

/* ---- vtv_strlcpy ---- */

START_TEST(strlcpy_fits)
{
        char dst[8];
        memset(dst, 'X', sizeof(dst));
        ck_assert_uint_eq(vtv_strlcpy(dst, "abc", sizeof(dst)), 3);
        ck_assert_str_eq(dst, "abc");
        ck_assert_int_eq(dst[4], 'X'); /* nothing written past the NUL */
}
END_TEST

START_TEST(strlcpy_exact_fit)
{
        char dst[4];
        ck_assert_uint_eq(vtv_strlcpy(dst, "abc", sizeof(dst)), 3);
        ck_assert_str_eq(dst, "abc");
}
END_TEST

START_TEST(strlcpy_truncates)
{
        char dst[8];
        memset(dst, 'X', sizeof(dst));
        /* The return value is the source length, so truncation shows. */
        ck_assert_uint_eq(vtv_strlcpy(dst, "abcdefghijkl", 5), 12);
        ck_assert_str_eq(dst, "abcd");
        ck_assert_int_eq(dst[5], 'X');
        ck_assert_uint_eq(vtv_strlcpy(dst, "abcd", 4), 4);
        ck_assert_str_eq(dst, "abc");
}
END_TEST

START_TEST(strlcpy_size_one_and_zero)
{
        char dst[3] = { 'X', 'Y', 'Z' };
        ck_assert_uint_eq(vtv_strlcpy(dst, "hello", 1), 5);
        ck_assert_int_eq(dst[0], '\0');
        ck_assert_int_eq(dst[1], 'Y');
        dst[0] = 'Q';
        /* Size 0: nothing at all is written. */
        ck_assert_uint_eq(vtv_strlcpy(dst, "hello", 0), 5);
        ck_assert_int_eq(dst[0], 'Q');
        ck_assert_uint_eq(vtv_strlcpy(dst, "", 3), 0);
        ck_assert_str_eq(dst, "");
}
END_TEST

/* ---- vtv_parse_u64 ---- */

static bool parse(const char *s, uint64_t *out)
{
        return vtv_parse_u64(s, strlen(s), out);
}

START_TEST(parse_decimal)
{
        uint64_t v = 99;
        ck_assert(parse("0", &v));
        ck_assert_x64_eq(v, 0);
        ck_assert(parse("7", &v));
        ck_assert_x64_eq(v, 7);
        ck_assert(parse("1234567890", &v));
        ck_assert_x64_eq(v, 1234567890ULL);
        ck_assert(parse("000042", &v));
        ck_assert_x64_eq(v, 42);
        ck_assert(parse("18446744073709551615", &v));
        ck_assert_x64_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(parse_hex)
{
        uint64_t v = 0;
        ck_assert(parse("0x0", &v));
        ck_assert_x64_eq(v, 0);
        ck_assert(parse("0x1f", &v));
        ck_assert_x64_eq(v, 0x1f);
        ck_assert(parse("0XAbCdEf", &v));
        ck_assert_x64_eq(v, 0xabcdef);
        ck_assert(parse("0xffffffffffffffff", &v));
        ck_assert_x64_eq(v, UINT64_MAX);
        ck_assert(parse("0x00000000000000000001", &v));
        ck_assert_x64_eq(v, 1);
        ck_assert(parse("0xdeadbeefcafe", &v));
        ck_assert_x64_eq(v, 0xdeadbeefcafeULL);
}
END_TEST

START_TEST(parse_suffixes)
{
        uint64_t v = 0;
        ck_assert(parse("4K", &v));
        ck_assert_x64_eq(v, 4096);
        ck_assert(parse("4k", &v));
        ck_assert_x64_eq(v, 4096);
        ck_assert(parse("16M", &v));
        ck_assert_x64_eq(v, 16ULL << 20);
        ck_assert(parse("3m", &v));
        ck_assert_x64_eq(v, 3ULL << 20);
        ck_assert(parse("2G", &v));
        ck_assert_x64_eq(v, 2ULL << 30);
        ck_assert(parse("5g", &v));
        ck_assert_x64_eq(v, 5ULL << 30);
        ck_assert(parse("0x10M", &v));
        ck_assert_x64_eq(v, 16ULL << 20);
        ck_assert(parse("0x1g", &v)); /* 'g' is not a hex digit: a suffix */
        ck_assert_x64_eq(v, 1ULL << 30);
        ck_assert(parse("0K", &v));
        ck_assert_x64_eq(v, 0);
}
END_TEST

START_TEST(parse_suffix_overflow)
{
        uint64_t v = 0x5a5a;
        /* The largest values that still fit after the shift. */
        ck_assert(parse("17179869183G", &v)); /* (2^64-1) >> 30 */
        ck_assert_x64_eq(v, 17179869183ULL << 30);
        ck_assert(parse("0x3fffffffffffffK", &v));
        ck_assert_x64_eq(v, 0x3fffffffffffffULL << 10);
        ck_assert(parse("0xfffffffffffM", &v));
        ck_assert_x64_eq(v, 0xfffffffffffULL << 20);
        v = 0x5a5a;
        ck_assert(!parse("17179869184G", &v));
        ck_assert(!parse("0x40000000000000K", &v));
        ck_assert(!parse("0x100000000000M", &v));
        ck_assert(!parse("18446744073709551615K", &v));
        ck_assert_x64_eq(v, 0x5a5a); /* untouched on failure */
}
END_TEST

START_TEST(parse_overflow)
{
        uint64_t v = 0x5a5a;
        ck_assert(!parse("18446744073709551616", &v));
        ck_assert(!parse("18446744073709551620", &v));
        ck_assert(!parse("99999999999999999999", &v));
        ck_assert(!parse("0x10000000000000000", &v));
        ck_assert(!parse("0x1ffffffffffffffff", &v));
        ck_assert_x64_eq(v, 0x5a5a);
}
END_TEST

START_TEST(parse_junk_and_empty)
{
        uint64_t v = 0x5a5a;
        static const char *const bad[] = {
                "",    "0x",  "0X",   "K",   "x10",  "-1",   "+1",    " 1",    "1 ",
                "12a", "0xg", "0x1h", "1KB", "1KK",  "1T",   "1.5",   "0x-1",  "1e3",
                "abc", "M",   "0xK",  "1 K", "12\n", "0x1 ", "0b101", "1_000",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(!parse(bad[i], &v), "\"%s\" was accepted", bad[i]);
        ck_assert_x64_eq(v, 0x5a5a);
}
END_TEST

START_TEST(parse_respects_len)
{
        uint64_t v = 0;
        /* Only s[0..len) is looked at: the rest of the buffer may be anything. */
        ck_assert(vtv_parse_u64("12345", 3, &v));
        ck_assert_x64_eq(v, 123);
        ck_assert(vtv_parse_u64("64Kxyz", 3, &v));
        ck_assert_x64_eq(v, 64 << 10);
        ck_assert(vtv_parse_u64("0x10zz", 4, &v));
        ck_assert_x64_eq(v, 16);
        ck_assert(!vtv_parse_u64("123", 0, &v));
        ck_assert(!vtv_parse_u64("0x12", 2, &v));
        /* "0" alone with len 1 is a valid zero even when followed by 'x'. */
        v = 9;
        ck_assert(vtv_parse_u64("0x12", 1, &v));
        ck_assert_x64_eq(v, 0);
        /* Embedded NUL inside len is junk. */
        ck_assert(!vtv_parse_u64("12\0003", 4, &v));
}
END_TEST

START_TEST(parse_unterminated_buffer)
{
        /* Not NUL-terminated at all: must stay inside len (ASan checks). */
        char raw[3] = { '4', '2', 'M' };
        uint64_t v = 0;
        ck_assert(vtv_parse_u64(raw, sizeof(raw), &v));
        ck_assert_x64_eq(v, 42ULL << 20);
        char hex[4] = { '0', 'x', 'f', 'F' };
        ck_assert(vtv_parse_u64(hex, sizeof(hex), &v));
        ck_assert_x64_eq(v, 0xff);
}
END_TEST

static Suite *string_suite(void)
{
        Suite *s = suite_create("string");
        TCase *mem = tcase_create("mem");
        tcase_add_test(mem, memset_fills_exactly_n);
        tcase_add_test(mem, memset_truncates_value_to_byte);
        tcase_add_test(mem, memset_zero_length_touches_nothing);
        tcase_add_test(mem, memcpy_copies_exactly_n);
        tcase_add_test(mem, memcpy_copies_all_byte_values);
        tcase_add_test(mem, memmove_forward_overlap);
        tcase_add_test(mem, memmove_backward_overlap);
        tcase_add_test(mem, memmove_same_and_zero);
        tcase_add_test(mem, memmove_disjoint);
        tcase_add_test(mem, memcmp_orders_as_unsigned);
        tcase_add_test(mem, memcmp_first_difference_decides);
        suite_add_tcase(s, mem);

        TCase *str = tcase_create("str");
        tcase_add_test(str, strlen_values);
        tcase_add_test(str, strnlen_stops_at_max);
        tcase_add_test(str, strcmp_values);
        tcase_add_test(str, strncmp_values);
        tcase_add_test(str, strncmp_does_not_read_past_terminator);
        tcase_add_test(str, strlcpy_fits);
        tcase_add_test(str, strlcpy_exact_fit);
        tcase_add_test(str, strlcpy_truncates);
        tcase_add_test(str, strlcpy_size_one_and_zero);
        suite_add_tcase(s, str);

        TCase *num = tcase_create("parse_u64");
        tcase_add_test(num, parse_decimal);
        tcase_add_test(num, parse_hex);
        tcase_add_test(num, parse_suffixes);
        tcase_add_test(num, parse_suffix_overflow);
        tcase_add_test(num, parse_overflow);
        tcase_add_test(num, parse_junk_and_empty);
        tcase_add_test(num, parse_respects_len);
        tcase_add_test(num, parse_unterminated_buffer);
        suite_add_tcase(s, num);
        return s;
}

int main(void)
{
        return unit_run_suite(string_suite());
}
