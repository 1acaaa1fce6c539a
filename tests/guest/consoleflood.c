/* consoleflood: one guest floods the console, another measures whether it
 * still gets the CPU.
 *   role=flood  REP OUTSB of 4,096 newlines to the UART, rounds=N times
 *               (default 4): 45 KB on the serial line per round, 4 s of it
 *               at 115,200 baud.  vtvisor must neither wait for the line
 *               inside the exit nor let the flood delay anyone else; what
 *               does not fit the VM's share of the console is dropped.
 *   role=tick   Prints "tick N" every 5 million TSC ticks, 60 times, and
 *               checks that no gap between two ticks grew past
 *               gap-limit=N million ticks (default 40: two VMs share the
 *               CPU in 2-million-tick slices). */
#include "guest.h"

#define UART_DATA 0x3f8

static char newlines[4096];

static void flood(void)
{
        uint32_t rounds = cmdline_number("rounds", 4);
        for (unsigned i = 0; i < sizeof(newlines); i++)
                newlines[i] = '\n';
        gprintf("consoleflood: %u rounds of 4096 newlines\n", rounds);
        for (uint32_t r = 0; r < rounds; r++) {
                const char *src = newlines;
                uint32_t count = sizeof(newlines);
                __asm__ volatile("cld; rep outsb"
                                 : "+S"(src), "+c"(count)
                                 : "d"((uint16_t)UART_DATA)
                                 : "memory");
        }
        /* What it prints while its backlog still waits is dropped too:
         * give the line a second to carry the 4 KiB share it kept. */
        for (uint64_t t = rdtsc(); rdtsc() - t < 100000000;)
                ;
        report("flood-finished", true);
}

static void tick(void)
{
        const uint64_t period = 5000000;
        uint64_t limit = (uint64_t)cmdline_number("gap-limit", 40) * 1000000;
        uint64_t worst = 0, last = rdtsc();
        for (unsigned n = 1; n <= 60; n++) {
                last = spin_until_tsc(last + period, &worst);
                gprintf("tick %u\n", n);
        }
        gprintf("consoleflood: longest gap 0x%llx ticks (limit 0x%llx)\n", worst, limit);
        report("tick-gaps-bounded", worst <= limit);
}

void guest_main(void)
{
        char role[8];
        if (cmdline_value("role", role, sizeof(role)) && role[0] == 'f')
                flood();
        else
                tick();
}
