/* echo: a guest for the operator's console test.  Prints "echo: ready",
 * then echoes each line it receives on the UART as "echo: got 'LINE'" and
 * prints "echo: tick N" every 20 million TSC ticks, so a test can see it
 * keep running while another VM is stopped or restarted.  The line "quit"
 * ends it cleanly. */
#include "guest.h"

#define COM1     0x3f8
#define LSR      5
#define LSR_DR   0x01
#define TICK_TSC 20000000ull

void guest_main(void)
{
        char line[64];
        unsigned len = 0, ticks = 0;
        gprintf("echo: ready\n");
        uint64_t next = rdtsc() + TICK_TSC;
        for (;;) {
                if (rdtsc() >= next) {
                        gprintf("echo: tick %u\n", ++ticks);
                        next += TICK_TSC;
                }
                if (!(inb(COM1 + LSR) & LSR_DR))
                        continue;
                char c = (char)inb(COM1);
                if (c != '\r' && c != '\n') {
                        if (len < sizeof(line) - 1)
                                line[len++] = c;
                        continue;
                }
                line[len] = '\0';
                if (len == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' &&
                    line[3] == 't') {
                        report("echo-quit", true);
                        return;
                }
                if (len)
                        gprintf("echo: got '%s'\n", line);
                len = 0;
        }
}
