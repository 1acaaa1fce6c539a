/* cpuhog: a guest that will not give up its CPU.  With interrupts off it
 * spins for hog=N million loop iterations (default 200) without one VM
 * exit, then reports and ends.  The over-commit test runs it beside other
 * vCPUs on the same physical CPU: they must still run while it spins,
 * which only the VMX preemption timer can guarantee. */
#include "guest.h"

void guest_main(void)
{
        char buf[16];
        uint32_t millions = 200;
        if (cmdline_value("hog", buf, sizeof(buf))) {
                millions = 0;
                for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
                        millions = millions * 10 + (uint32_t)(*p - '0');
        }
        gprintf("cpuhog: spinning with interrupts off for %u million iterations\n", millions);
        __asm__ volatile("cli");
        for (uint32_t m = 0; m < millions; m++) {
                for (volatile uint32_t i = 0; i < 1000000 / 4; i++)
                        ;
        }
        __asm__ volatile("sti");
        report("cpuhog-finished", true);
}
