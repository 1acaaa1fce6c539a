/* Path-length benchmark (make bench, not a test).  Bochs advances the TSC
 * by exactly one per instruction, so rdtsc around an instruction counts the
 * instructions executed for it: under vtvisor, the exit, the handler and
 * the entry; on bare Bochs, the instruction alone.  tools/bench.py runs
 * this guest both ways and subtracts.
 *
 * Output: "BENCH name median=N min=N max=N" per measured instruction, each
 * over ITERATIONS runs, with the empty rdtsc;rdtsc pair measured as "empty". */
#include "guest.h"

#define ITERATIONS 201

static uint32_t samples[ITERATIONS];

static void sort(uint32_t *a, unsigned n)
{
        for (unsigned i = 1; i < n; i++) {
                uint32_t x = a[i];
                unsigned j = i;
                while (j > 0 && a[j - 1] > x) {
                        a[j] = a[j - 1];
                        j--;
                }
                a[j] = x;
        }
}

static void publish(const char *name)
{
        sort(samples, ITERATIONS);
        gprintf("BENCH %s median=%u min=%u max=%u\n", name, samples[ITERATIONS / 2], samples[0],
                samples[ITERATIONS - 1]);
}

/* Each sample is the TSC difference across exactly one instance of the
 * instruction; the asm keeps the compiler from moving anything between. */
#define MEASURE(name, insn, ...)                                                                   \
        do {                                                                                       \
                for (unsigned i = 0; i < ITERATIONS; i++) {                                        \
                        uint32_t lo0, lo1, hi;                                                     \
                        __asm__ volatile("rdtsc\n\tmovl %%eax, %0\n\t" insn "\n\trdtsc\n\t"        \
                                         "movl %%eax, %1"                                          \
                                         : "=&r"(lo0), "=&r"(lo1), "=&d"(hi)__VA_ARGS__            \
                                         :                                                         \
                                         : "eax", "ebx", "ecx", "memory");                         \
                        samples[i] = lo1 - lo0;                                                    \
                }                                                                                  \
                publish(name);                                                                     \
        } while (0)

/* The TSC-deadline timer armed to fire at once (deadline = now), through
 * its interrupt handler to the EOI: the sample runs from the RDTSC before
 * the WRMSR to the RDTSC after the EOI write in the handler. */
#define APIC         0xfee00000u
#define APIC_EOI     0xb0
#define APIC_SVR     0xf0
#define APIC_LVT_TMR 0x320
#define VEC_DEADLINE 0x40
#define MSR_DEADLINE 0x6e0

static volatile uint32_t deadline_hit, deadline_tsc;

static void deadline_hook(uint32_t vector)
{
        if (vector != VEC_DEADLINE)
                return;
        *(volatile uint32_t *)(APIC + APIC_EOI) = 0;
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        deadline_tsc = lo;
        deadline_hit = 1;
}

static void measure_deadline(void)
{
        if (!(cpuid(1, 0).ecx & (1u << 24)))
                return; /* no TSC-deadline mode */
        /* Bare Bochs: the BIOS left the 8259s delivering the PIT's IRQ 0 at
         * vector 8; nothing but the APIC timer may interrupt here. */
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
        *(volatile uint32_t *)(APIC + APIC_SVR) = 0x1ff;
        *(volatile uint32_t *)(APIC + APIC_LVT_TMR) = (2u << 17) | VEC_DEADLINE;
        g_irq_hook = deadline_hook;
        for (unsigned i = 0; i < ITERATIONS; i++) {
                deadline_hit = 0;
                uint64_t t0 = rdtsc();
                try_wrmsr(MSR_DEADLINE, t0);
                __asm__ volatile("sti");
                while (!deadline_hit)
                        __asm__ volatile("pause");
                __asm__ volatile("cli");
                samples[i] = deadline_tsc - (uint32_t)t0;
        }
        g_irq_hook = 0;
        publish("tsc_deadline");
}

void guest_main(void)
{
        gprintf("bench: %s\n", under_vtvisor() ? "under vtvisor" : "bare");
        MEASURE("empty", "");
        MEASURE("cpuid", "xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\tcpuid");
        /* The UART's scratch register: an I/O exit that prints nothing. */
        MEASURE("out_uart", "movw $0x3ff, %%dx\n\tmovb $0x55, %%al\n\toutb %%al, %%dx");
        MEASURE("rdmsr_pat", "movl $0x277, %%ecx\n\trdmsr");
        /* vtvisor's version hypercall (docs/hypercalls.md); on bare Bochs,
         * without VMX, VMCALL is #UD, so only under vtvisor. */
        if (under_vtvisor())
                MEASURE("vmcall", "xorl %%eax, %%eax\n\tmovl $0x69767476, %%ebx\n\tvmcall");
        /* xAPIC registers: with APIC-register virtualization and
         * virtual-interrupt delivery neither exits (core/vapic.h); an EOI
         * with nothing in service changes nothing. */
        MEASURE("tpr_read", "movl 0xfee00080, %%eax");
        MEASURE("eoi", "movl $0, 0xfee000b0");
        measure_deadline();
        report("benchmark ran", true);
}
