/* singlestep: an instruction that vtvisor emulates, executed with
 * EFLAGS.TF set, is followed by the single-step #DB as on hardware: one
 * #DB, its EIP the next instruction, DR6.BS set.  CPUID (an exit the CPU
 * leaves to vtvisor), OUT to a port, a write to an MMIO register (the
 * I/O APIC's index, decoded by vtvisor) and HLT: the processor halts with
 * the trap pending, and the interrupt that wakes it comes after the #DB
 * (traps on the previous instruction before interrupts, SDM 6.9). */
#include "guest.h"

#define IOAPIC_INDEX  0xfec00000u
#define APIC          0xfee00000u
#define APIC_EOI      0xb0
#define APIC_SVR      0xf0
#define APIC_LVT_TMR  0x320
#define APIC_TMR_INIT 0x380
#define APIC_TMR_DIV  0x3e0
#define VEC_TIMER     0x40

extern char ss_cpuid_after[], ss_out_after[], ss_mmio_after[], ss_hlt_after[], ss_movss_after[];

static volatile uint32_t timer_irqs, db_before_timer;

/* The interrupt shadow of STI and MOV SS covers one instruction (SDM 6.8.3,
 * STI): an interrupt pending before it is taken right after the next
 * instruction.  When that instruction is one vtvisor emulates (CPUID), the
 * shadow must end with it, not one instruction later: `marker` is set by
 * the instruction after CPUID, so the handler must see it still 0. */
#define APIC_ICR  0x300
#define VEC_SHADE 0x41
static volatile uint32_t marker, marker_seen, shade_irqs;

static void shade_hook(uint32_t vector)
{
        if (vector != VEC_SHADE)
                return;
        shade_irqs++;
        marker_seen = marker;
        *(volatile uint32_t *)(APIC + APIC_EOI) = 0;
}

static void sti_shadow_case(void)
{
        marker = 0;
        marker_seen = 0xffffffffu;
        shade_irqs = 0;
        g_irq_hook = shade_hook;
        /* IF is 0: the self IPI waits in IRR. */
        *(volatile uint32_t *)(APIC + APIC_ICR) = (1u << 18) | VEC_SHADE;
        __asm__ volatile("sti\n\tcpuid\n\tmovl $1, marker\n\tcli"
                         :
                         : "a"(0), "c"(0)
                         : "ebx", "edx", "memory");
        __asm__ volatile("cli");
        g_irq_hook = 0;
        if (!report("sti-shadow-ends-after-cpuid", shade_irqs == 1 && marker_seen == 0))
                gprintf("singlestep: sti shadow: %u interrupts, marker %u when it came\n",
                        shade_irqs, marker_seen);
}

static void timer_hook(uint32_t vector)
{
        if (vector != VEC_TIMER)
                return;
        timer_irqs++;
        db_before_timer = g_db_count;
        *(volatile uint32_t *)(APIC + APIC_EOI) = 0;
}

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

        /* HLT with TF and interrupts on, woken by a one-shot APIC timer
         * interrupt armed to fire well after the HLT. */
        *(volatile uint32_t *)(APIC + APIC_SVR) = 0x1ff;
        *(volatile uint32_t *)(APIC + APIC_TMR_DIV) = 0xb; /* divide by 1 */
        *(volatile uint32_t *)(APIC + APIC_LVT_TMR) = VEC_TIMER;
        g_irq_hook = timer_hook;
        arm();
        *(volatile uint32_t *)(APIC + APIC_TMR_INIT) = 2000000;
        __asm__ volatile("sti\n\t" SET_TF "hlt\n"
                         ".global ss_hlt_after\n"
                         "ss_hlt_after:\n\tcli"
                         :
                         :
                         : "memory");
        check("singlestep-after-hlt", ss_hlt_after);
        g_irq_hook = 0;
        if (!report("singlestep-hlt-db-before-interrupt", timer_irqs == 1 && db_before_timer == 1))
                gprintf("singlestep: hlt: %u timer interrupts, #DB count %u when it came\n",
                        timer_irqs, db_before_timer);

        sti_shadow_case();

        /* MOV SS holds the single-step trap of its own instruction until
         * after the next one (SDM 6.8.3): one #DB, after the CPUID. */
        uint32_t ss;
        __asm__ volatile("movl %%ss, %0" : "=r"(ss));
        arm();
        __asm__ volatile(SET_TF "movl %%eax, %%ss\n\tcpuid\n"
                                ".global ss_movss_after\n"
                                "ss_movss_after:\n\tnop"
                         : "+a"(ss)
                         : "c"(0)
                         : "ebx", "edx", "memory");
        check("singlestep-mov-ss-then-cpuid", ss_movss_after);
}
