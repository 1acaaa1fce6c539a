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
        report("benchmark ran", true);
}
