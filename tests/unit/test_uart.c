/* Host unit tests for devices/uart.c: the guest-visible 16550. */
#include "tests/unit/check_compat.h"
#include "devices/uart.h"

static char lines[8][UART_LINE_MAX + 1];
static size_t nlines;

static bool completes[8];

static void sink(void *ctx, const char *line, size_t len, bool complete)
{
        completes[nlines < 8 ? nlines : 7] = complete;
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
        ck_assert(completes[0] && completes[1]);
        send("partial");
        ck_assert_uint_eq(nlines, 2);
        ck_assert_uint_eq(vuart_pending(&u), 7);
        vuart_flush(&u);
        ck_assert_uint_eq(nlines, 3);
        ck_assert_str_eq(lines[2], "partial");
        ck_assert(!completes[2]);
        ck_assert_uint_eq(vuart_pending(&u), 0);
        vuart_flush(&u); /* nothing pending: no empty line */
        ck_assert_uint_eq(nlines, 3);
}
END_TEST

START_TEST(control_bytes_are_neutralised)
{
        send("a\033[2Jb\x7f\x01\tc\bd\033[6n\033[?25le\033Mf\n");
        ck_assert_str_eq(lines[0], "ab??\tc\bdef");
}
END_TEST

START_TEST(long_lines_are_cut_not_overflowed)
{
        for (int i = 0; i < UART_LINE_MAX + 10; i++)
                vuart_write(&u, 0, 'x');
        ck_assert_uint_eq(nlines, 1);
        ck_assert_uint_eq(strlen(lines[0]), UART_LINE_MAX);
        ck_assert(!completes[0]); /* cut, not ended */
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

/* A write vuart_write says cannot change the interrupt line does not:
 * every register, with interrupts enabled and OUT2 set, DLAB on and off. */
START_TEST(write_says_when_the_irq_may_change)
{
        static const uint8_t vals[] = { 0x00, 0xff, 0x5a, 0x0f, 0x80 };
        for (unsigned dlab = 0; dlab < 2; dlab++)
                for (unsigned off = 0; off < 8; off++)
                        for (unsigned k = 0; k < sizeof(vals); k++) {
                                vuart_init(&u, sink, NULL);
                                vuart_write(&u, 4, 0x08); /* OUT2 */
                                vuart_write(&u, 1, 0x0f); /* every interrupt */
                                vuart_write(&u, 3, dlab ? 0x83 : 0x03);
                                bool before = vuart_irq_asserted(&u);
                                bool may = vuart_write(&u, off, vals[k]);
                                if (!may)
                                        ck_assert_msg(vuart_irq_asserted(&u) == before,
                                                      "offset %u value 0x%x dlab %u", off, vals[k],
                                                      dlab);
                        }
        vuart_write(&u, 3, 0x03);
        ck_assert(!vuart_write(&u, 7, 1)); /* scratch */
        ck_assert(vuart_write(&u, 1, 0));  /* IER */
}
END_TEST

START_TEST(loopback_modem_status)
{
        ck_assert_uint_eq(vuart_read(&u, 6), 0xb0);
        vuart_write(&u, 4, 0x10 | 0x0f); /* loop, OUT2, OUT1, RTS, DTR */
        ck_assert_uint_eq(vuart_read(&u, 6), 0xf0);
        vuart_write(&u, 4, 0x10 | 0x02); /* loop, RTS only -> CTS */
        ck_assert_uint_eq(vuart_read(&u, 6), 0x10);
        send("ab"); /* loopback output does not reach the line, but the receiver */
        ck_assert_uint_eq(nlines, 0);
        ck_assert_uint_eq(vuart_read(&u, 5) & 1, 1);
        ck_assert_uint_eq(vuart_read(&u, 0), 'a');
        ck_assert_uint_eq(vuart_read(&u, 0), 'b');
        ck_assert_uint_eq(vuart_read(&u, 5) & 1, 0);
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

START_TEST(receive_fifo_and_overrun)
{
        for (int i = 0; i < UART_RX_FIFO; i++)
                ck_assert(vuart_receive(&u, (uint8_t)('A' + i)));
        ck_assert(!vuart_receive(&u, 'z'));
        uint8_t lsr = vuart_read(&u, 5);
        ck_assert_uint_eq(lsr & 0x03, 0x03);            /* data ready, overrun */
        ck_assert_uint_eq(vuart_read(&u, 5) & 0x02, 0); /* overrun clears on read */
        for (int i = 0; i < UART_RX_FIFO; i++)
                ck_assert_uint_eq(vuart_read(&u, 0), 'A' + i);
        ck_assert_uint_eq(vuart_read(&u, 5) & 1, 0);
        ck_assert_uint_eq(vuart_read(&u, 0), 0);
        vuart_receive(&u, 'q');
        vuart_write(&u, 2, 0x03); /* FIFO enable + clear receive FIFO */
        ck_assert_uint_eq(vuart_read(&u, 5) & 1, 0);
}
END_TEST

START_TEST(interrupts_follow_the_16550)
{
        ck_assert(!vuart_irq_asserted(&u));
        vuart_write(&u, 4, 0x08); /* OUT2: the line reaches the PIC/IOAPIC */
        vuart_write(&u, 1, 0x01); /* received data available */
        ck_assert(!vuart_irq_asserted(&u));
        vuart_receive(&u, 'x');
        ck_assert(vuart_irq_asserted(&u));
        ck_assert_uint_eq(vuart_read(&u, 2) & 0x0f, 0x04);
        vuart_read(&u, 0);
        ck_assert(!vuart_irq_asserted(&u));
        ck_assert_uint_eq(vuart_read(&u, 2) & 0x0f, 0x01);

        /* THRE: raised when enabled with an empty holder, acknowledged by
         * reading IIR, raised again by each transmitted byte. */
        vuart_write(&u, 1, 0x03);
        ck_assert(vuart_irq_asserted(&u));
        ck_assert_uint_eq(vuart_read(&u, 2) & 0x0f, 0x02);
        ck_assert(!vuart_irq_asserted(&u));
        send("k");
        ck_assert(vuart_irq_asserted(&u));
        /* Received data outranks THRE. */
        vuart_receive(&u, 'y');
        ck_assert_uint_eq(vuart_read(&u, 2) & 0x0f, 0x04);
        vuart_read(&u, 0);
        ck_assert_uint_eq(vuart_read(&u, 2) & 0x0f, 0x02);

        /* Without OUT2 nothing reaches the interrupt controller. */
        send("k");
        vuart_write(&u, 4, 0x00);
        ck_assert(!vuart_irq_asserted(&u));
}
END_TEST

START_TEST(busy_line_holds_thre)
{
        vuart_write(&u, 4, 0x08); /* OUT2 */
        vuart_write(&u, 1, 0x02); /* THRE interrupt */
        vuart_read(&u, 2);        /* acknowledge the one enabling raised */
        ck_assert(!vuart_irq_asserted(&u));
        vuart_set_tx_busy(&u, true);
        ck_assert_uint_eq(vuart_read(&u, 5) & 0x60, 0); /* THRE, TEMT clear */
        send("a");                                      /* still taken */
        ck_assert(!vuart_irq_asserted(&u));             /* no THRE while busy */
        vuart_write(&u, 1, 0x00);
        vuart_write(&u, 1, 0x02); /* re-enabling does not raise it either */
        ck_assert(!vuart_irq_asserted(&u));
        vuart_set_tx_busy(&u, false);
        ck_assert_uint_eq(vuart_read(&u, 5) & 0x60, 0x60);
        ck_assert(vuart_irq_asserted(&u)); /* caught up: THRE owed */
        ck_assert_uint_eq(vuart_read(&u, 2) & 0x0f, 0x02);
        ck_assert(!vuart_irq_asserted(&u));
        send("\n");
        ck_assert_uint_eq(nlines, 1);
        ck_assert_str_eq(lines[0], "a");
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
        tcase_add_test(tc, write_says_when_the_irq_may_change);
        tcase_add_test(tc, scratch_and_iir);
        tcase_add_test(tc, loopback_modem_status);
        tcase_add_test(tc, bad_offsets_are_harmless);
        tcase_add_test(tc, receive_fifo_and_overrun);
        tcase_add_test(tc, interrupts_follow_the_16550);
        tcase_add_test(tc, busy_line_holds_thre);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
