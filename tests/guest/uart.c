/* uart: output through the emulated 16550 at 0x3F8.  Prints fixed lines
 * (the runner checks each arrives exactly, prefixed with "[NAME] "),
 * including one of 250 characters, then a last line without a newline just
 * before exiting.
 *
 * With "init" on the command line it first programs the UART the way an OS
 * driver does (divisor latch, line control, FIFO, modem control, scratch):
 * nothing of that may appear as output, and LCR and the scratch register
 * must read back. */
#include "guest.h"

#define UART 0x3f8

static void uart_init_checks(void)
{
        outb(UART + 1, 0x00); /* IER: no interrupts */
        outb(UART + 3, 0x80); /* LCR: DLAB */
        outb(UART + 0, 0x01); /* DLL: 115200 baud */
        outb(UART + 1, 0x00); /* DLM */
        uint8_t dll = inb(UART + 0);
        outb(UART + 3, 0x03); /* LCR: 8N1, DLAB off */
        outb(UART + 2, 0xc7); /* FCR: enable and clear FIFOs */
        outb(UART + 4, 0x0b); /* MCR: DTR, RTS, OUT2 */
        expect_eq32("uart-divisor-latch-readback", dll, 0x01);
        expect_eq32("uart-lcr-readback", inb(UART + 3), 0x03);
        outb(UART + 7, 0x5a);
        expect_eq32("uart-scratch-readback", inb(UART + 7), 0x5a);
}

void guest_main(void)
{
        if (cmdline_has_word("init"))
                uart_init_checks();

        uint8_t lsr = inb(UART + 5);
        gprintf("uart: lsr 0x%02x\n", lsr);
        report("uart-lsr-thr-empty", (lsr & 0x60) == 0x60);

        gputs("uart: line one\n");
        gputs("uart: line two with punctuation !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\n");
        /* "uart: long " then 250 characters cycling through 0-9a-z. */
        gputs("uart: long ");
        for (int i = 0; i < 250; i++)
                gputc("0123456789abcdefghijklmnopqrstuvwxyz"[i % 36]);
        gputc('\n');
        for (int i = 1; i <= 3; i++)
                gprintf("uart: numbered %d of 3\n", i);
        report("uart-lines-sent", true);

        /* Finish here rather than in guest_start so that the very last
         * output is a line without a newline. */
        gprintf("DONE: %u passed, %u failed\n", g_passed, g_failed);
        gputs("uart: tail without newline");
        guest_exit((uint8_t)(g_failed > 127 ? 127 : g_failed));
}
