/* companion: the victim VM of the hostile-guest suite (tests/hostile/).
 *
 * Fills every byte of its RAM it does not use itself (low memory from
 * 0x8000 to 0x9F000, and from the end of its image and stack to the end of
 * its RAM) with a pattern: each 32-bit word holds its address XOR
 * PATTERN_KEY.  Then prints "companion: tick N" every period= TSC ticks
 * (default 20 million) for ticks=N ticks (default 20), measuring the longest
 * gap between two consecutive TSC reads, and finally checks the whole
 * pattern.  Reports:
 *   companion-ticked      every tick printed and no gap longer than
 *                         gap-limit=N million TSC ticks (default 40): the
 *                         attacker beside it did not starve it;
 *   companion-ram-intact  every word of the pattern still holds;
 *   companion-debug-registers-kept
 *                         DR0-DR3, set to its own values at the start
 *                         (with DR7 disabling them), and DR7 still hold
 *                         them: another VM's debug registers do not leak.
 * RAM size: ram=SIZE on the command line, else the multiboot memory map. */
#include "guest.h"

#define PATTERN_KEY 0x5a3cc3a5u
#define LOW_START   0x8000u
#define LOW_END     0x9f000u

extern char _end[];

/* The end of RAM: ram= on the command line, else the highest usable entry
 * of the multiboot memory map, else mem_upper. */
static uint32_t ram_end(void)
{
        uint32_t ram = cmdline_number("ram", 0);
        if (ram)
                return ram;
        if (g_mbi && (g_mbi->flags & MB_INFO_MMAP)) {
                uint32_t p = g_mbi->mmap_addr, end = p + g_mbi->mmap_length;
                uint64_t top = 0;
                while (p < end) {
                        const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
                        if (e->type == 1 && e->addr + e->len > top)
                                top = e->addr + e->len;
                        p += e->size + 4;
                }
                if (top && top <= 0xffffffffu)
                        return (uint32_t)top;
        }
        if (g_mbi && (g_mbi->flags & MB_INFO_MEM))
                return (g_mbi->mem_upper + 1024) * 1024;
        return 0;
}

static void fill(uint32_t start, uint32_t end)
{
        for (uint32_t a = start; a < end; a += 4)
                *(volatile uint32_t *)a = a ^ PATTERN_KEY;
}

/* Counts the words that changed; prints the first few. */
static uint32_t verify(uint32_t start, uint32_t end)
{
        uint32_t bad = 0;
        for (uint32_t a = start; a < end; a += 4) {
                uint32_t v = *(volatile uint32_t *)a;
                if (v != (a ^ PATTERN_KEY)) {
                        if (bad < 8)
                                gprintf("companion: word at 0x%08x is 0x%08x, want 0x%08x\n", a, v,
                                        a ^ PATTERN_KEY);
                        bad++;
                }
        }
        return bad;
}

#define DR_VALUE(n) (0xc0de0000u + (n)*0x100u)

static void dr_set(void)
{
        __asm__ volatile("movl %0, %%dr0\n\tmovl %1, %%dr1\n\tmovl %2, %%dr2\n\tmovl %3, %%dr3"
                         :
                         : "r"(DR_VALUE(0)), "r"(DR_VALUE(1)), "r"(DR_VALUE(2)), "r"(DR_VALUE(3)));
}

static bool dr_kept(void)
{
        uint32_t d0, d1, d2, d3, d7;
        __asm__ volatile("movl %%dr0, %0\n\tmovl %%dr1, %1\n\tmovl %%dr2, %2\n\t"
                         "movl %%dr3, %3\n\tmovl %%dr7, %4"
                         : "=r"(d0), "=r"(d1), "=r"(d2), "=r"(d3), "=r"(d7));
        bool ok = d0 == DR_VALUE(0) && d1 == DR_VALUE(1) && d2 == DR_VALUE(2) &&
                  d3 == DR_VALUE(3) && (d7 & 0xff) == 0;
        if (!ok)
                gprintf("companion: DR0-3 0x%x 0x%x 0x%x 0x%x DR7 0x%x\n", d0, d1, d2, d3, d7);
        return ok;
}

void guest_main(void)
{
        /* Interrupts on, as an OS runs (no device of its raises one): on
         * hardware a host interrupt takes the CPU from a guest whatever
         * its IF, but Bochs takes an external-interrupt VM exit from a
         * guest with IF clear only at its next VM entry, so a kick from
         * another CPU would wait for the companion's slice to end. */
        __asm__ volatile("sti");
        uint32_t end = ram_end();
        uint32_t start = ((uint32_t)_end + 4095) & ~4095u;
        uint32_t ticks = cmdline_number("ticks", 20);
        uint64_t period = cmdline_number("period", 20000000);
        uint64_t limit = (uint64_t)cmdline_number("gap-limit", 40) * 1000000;

        if (!report("companion-ram-known", end > start)) {
                gprintf("companion: RAM end 0x%08x, image end 0x%08x\n", end, start);
                return;
        }
        dr_set();
        fill(LOW_START, LOW_END);
        fill(start, end);
        gprintf("companion: pattern in 0x%05x-0x%05x and 0x%08x-0x%08x (%u KiB)\n", LOW_START,
                LOW_END, start, end, ((LOW_END - LOW_START) + (end - start)) / 1024);

        uint64_t worst = 0, last = rdtsc();
        uint32_t n;
        for (n = 1; n <= ticks; n++) {
                last = spin_until_tsc(last + period, &worst);
                gprintf("companion: tick %u\n", n);
        }
        gprintf("companion: longest gap 0x%llx TSC ticks (limit 0x%llx)\n", worst, limit);
        report("companion-ticked", n == ticks + 1 && worst <= limit);

        uint32_t bad = verify(LOW_START, LOW_END) + verify(start, end);
        gprintf("companion: %u changed words\n", bad);
        report("companion-ram-intact", bad == 0);
        report("companion-debug-registers-kept", dr_kept());
}
