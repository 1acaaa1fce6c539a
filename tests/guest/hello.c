/* hello: a friendly demo guest (tools/demo.py).  Greets, shows its command
 * line and what CPUID says about the hypervisor, then prints a few lines
 * of work with pauses so the output of concurrent VMs interleaves. */
#include "guest.h"

void guest_main(void)
{
        gprintf("Hello from a multiboot guest!\n");
        if (g_cmdline[0])
                gprintf("my command line: \"%s\"\n", g_cmdline);
        if (g_mbi && (g_mbi->flags & MB_INFO_MEM))
                gprintf("I have %u KiB of RAM above 1 MiB\n", g_mbi->mem_upper);
        if (under_vtvisor())
                gprintf("CPUID says I am running under vtvisor\n");
        else
                gprintf("CPUID does not show vtvisor\n");

        uint32_t primes[10], n = 0;
        for (uint32_t c = 2; n < 10; c++) {
                bool prime = true;
                for (uint32_t d = 2; d * d <= c; d++)
                        prime = prime && c % d != 0;
                if (prime)
                        primes[n++] = c;
        }
        for (uint32_t i = 0; i < 3; i++) {
                spin(3000000);
                gprintf("working... step %u of 3, prime #%u is %u\n", i + 1, i * 4 + 1,
                        primes[i * 4]);
        }
        report("hello-finished", true);
}
