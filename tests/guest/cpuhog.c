/* cpuhog: a guest that will not give up its CPU.  With interrupts off it
 * spins for hog=N million loop iterations (default 200) without one VM
 * exit, then reports and ends.  The over-commit test runs it beside other
 * vCPUs on the same physical CPU: they must still run while it spins,
 * which only the VMX preemption timer can guarantee. */
#include "guest.h"

void guest_main(void)
{
        uint32_t millions = cmdline_number("hog", 200);
        gprintf("cpuhog: spinning with interrupts off for %u million iterations\n", millions);
        __asm__ volatile("cli");
        for (uint32_t m = 0; m < millions; m++) {
                for (volatile uint32_t i = 0; i < 1000000 / 4; i++)
                        ;
        }
        __asm__ volatile("sti");
        report("cpuhog-finished", true);
}
