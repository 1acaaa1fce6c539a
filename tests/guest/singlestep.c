/* singlestep: an instruction that vtvisor emulates, executed with
 * EFLAGS.TF set, is followed by the single-step #DB as on hardware: one
 * #DB, its EIP the next instruction, DR6.BS set.  CPUID (an exit the CPU
 * leaves to vtvisor), OUT to a port and a write to an MMIO register (the
 * I/O APIC's index, decoded by vtvisor). */
#include "guest.h"

#define IOAPIC_INDEX 0xfec00000u

extern char ss_cpuid_after[], ss_out_after[], ss_mmio_after[];

#define SET_TF "pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\t"

static void arm(void)
{
        uint32_t clear = 0xffff0ff0u;
        __asm__ volatile("movl %0, %%dr6" : : "r"(clear));
        g_db_count = 0;
        g_db_eip = 0;
        g_db_dr6 = 0;
        g_catch_db = 1;
}

static void check(const char *name, const char *after)
{
        g_catch_db = 0;
        if (!report(name,
                    g_db_count == 1 && g_db_eip == (uint32_t)after && (g_db_dr6 & (1u << 14))))
                gprintf("singlestep: %s: %u #DB, eip 0x%x (want 0x%x), dr6 0x%x\n", name,
                        g_db_count, g_db_eip, (uint32_t)after, g_db_dr6);
}

void guest_main(void)
{
        arm();
        __asm__ volatile(SET_TF "cpuid\n"
                                ".global ss_cpuid_after\n"
                                "ss_cpuid_after:\n\tnop"
                         :
                         : "a"(0), "c"(0)
                         : "ebx", "edx", "memory");
        check("singlestep-after-cpuid", ss_cpuid_after);

        arm();
        __asm__ volatile(SET_TF "outb %%al, %%dx\n"
                                ".global ss_out_after\n"
                                "ss_out_after:\n\tnop"
                         :
                         : "a"(0x55), "d"(0x3ff)
                         : "memory");
        check("singlestep-after-out", ss_out_after);

        arm();
        __asm__ volatile(SET_TF "movl %%eax, (%%edx)\n"
                                ".global ss_mmio_after\n"
                                "ss_mmio_after:\n\tnop"
                         :
                         : "a"(0), "d"(IOAPIC_INDEX)
                         : "memory");
        check("singlestep-after-mmio-write", ss_mmio_after);
}
