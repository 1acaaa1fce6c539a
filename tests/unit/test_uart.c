/* Host unit tests for devices/uart.c: the guest-visible 16550. */
#include "tests/unit/check_compat.h"
#include "devices/uart.h"

static char lines[8][UART_LINE_MAX + 1];
static size_t nlines;

static void sink(void *ctx, const char *line, size_t len)
{
        ck_assert_ptr_eq(ctx, (void *)lines);
        ck_assert_uint_lt(nlines, 8);
        ck_assert_uint_le(len, UART_LINE_MAX);
        memcpy(lines[nlines], line, len);
        lines[nlines][len] = '\0';
        nlines++;
}

static struct vuart u;

static void setup(void)
{
        nlines = 0;
        vuart_init(&u, sink, lines);
}

static void send(const char *s)
{
        while (*s)
                vuart_write(&u, 0, (uint8_t)*s++);
}

START_TEST(lines_are_split_on_newline)
{
        send("hello\r\nworld\n");
        ck_assert_uint_eq(nlines, 2);
        ck_assert_str_eq(lines[0], "hello");
        ck_assert_str_eq(lines[1], "world");
        send("partial");
        ck_assert_uint_eq(nlines, 2);
        vuart_flush(&u);
        ck_assert_uint_eq(nlines, 3);
        ck_assert_str_eq(lines[2], "partial");
        vuart_flush(&u); /* nothing pending: no empty line */
        ck_assert_uint_eq(nlines, 3);
}
END_TEST

START_TEST(control_bytes_are_neutralised)
{
        send("a\033[2Jb\x7f\x01\tc\n");
        ck_assert_str_eq(lines[0], "a?[2Jb??\tc");
}
END_TEST

START_TEST(long_lines_are_cut_not_overflowed)
{
        for (int i = 0; i < UART_LINE_MAX + 10; i++)
                vuart_write(&u, 0, 'x');
        ck_assert_uint_eq(nlines, 1);
        ck_assert_uint_eq(strlen(lines[0]), UART_LINE_MAX);
        send("\n");
        ck_assert_uint_eq(nlines, 2);
        ck_assert_uint_eq(strlen(lines[1]), 10);
}
END_TEST

START_TEST(lsr_reports_empty_transmitter)
{
        ck_assert_uint_eq(vuart_read(&u, 5) & 0x60, 0x60);
        ck_assert_uint_eq(vuart_read(&u, 5) & 0x01, 0); /* no received data */
}
END_TEST

START_TEST(divisor_latch)
{
        vuart_write(&u, 3, 0x80); /* DLAB */
        vuart_write(&u, 0, 0x01);
        vuart_write(&u, 1, 0x02);
        ck_assert_uint_eq(vuart_read(&u, 0), 0x01);
        ck_assert_uint_eq(vuart_read(&u, 1), 0x02);
        ck_assert_uint_eq(nlines, 0);
        vuart_write(&u, 3, 0x03);
        ck_assert_uint_eq(vuart_read(&u, 3), 0x03);
        vuart_write(&u, 1, 0xff); /* IER keeps its 4 defined bits */
        ck_assert_uint_eq(vuart_read(&u, 1), 0x0f);
        send("z\n");
        ck_assert_str_eq(lines[0], "z");
}
END_TEST

START_TEST(scratch_and_iir)
{
        vuart_write(&u, 7, 0x5a);
        ck_assert_uint_eq(vuart_read(&u, 7), 0x5a);
        ck_assert_uint_eq(vuart_read(&u, 2), 0x01);
        vuart_write(&u, 2, 0x01); /* FIFO enable */
        ck_assert_uint_eq(vuart_read(&u, 2), 0xc1);
}
END_TEST

START_TEST(loopback_modem_status)
{
        ck_assert_uint_eq(vuart_read(&u, 6), 0xb0);
        vuart_write(&u, 4, 0x10 | 0x0f); /* loop, OUT2, OUT1, RTS, DTR */
        ck_assert_uint_eq(vuart_read(&u, 6), 0xf0);
        vuart_write(&u, 4, 0x10 | 0x02); /* loop, RTS only -> CTS */
        ck_assert_uint_eq(vuart_read(&u, 6), 0x10);
        send("lost\n"); /* loopback output does not reach the line */
        ck_assert_uint_eq(nlines, 0);
}
END_TEST

START_TEST(bad_offsets_are_harmless)
{
        ck_assert_uint_eq(vuart_read(&u, 8), 0xff);
        vuart_write(&u, 9, 1);
        vuart_write(&u, 5, 0); /* LSR is read-only */
        ck_assert_uint_eq(vuart_read(&u, 5) & 0x60, 0x60);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("uart");
        TCase *tc = tcase_create("16550");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, lines_are_split_on_newline);
        tcase_add_test(tc, control_bytes_are_neutralised);
        tcase_add_test(tc, long_lines_are_cut_not_overflowed);
        tcase_add_test(tc, lsr_reports_empty_transmitter);
        tcase_add_test(tc, divisor_latch);
        tcase_add_test(tc, scratch_and_iir);
        tcase_add_test(tc, loopback_modem_status);
        tcase_add_test(tc, bad_offsets_are_harmless);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
