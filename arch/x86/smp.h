/* Bringing up the other physical CPUs (SDM 8.4, MP initialization) and
 * stopping them on a panic. */
#ifndef VTV_ARCH_X86_SMP_H
#define VTV_ARCH_X86_SMP_H

#include "lib/types.h"

struct pcpu;

/* Starts the CPUs with the APIC IDs given (the boot CPU's own ID is
 * skipped), at most max_cpus in all counting the boot CPU.  Each that comes
 * up gets the next CPU number, runs its own set-up and then cpu_main(its
 * pcpu), which must not return; cpu_main decides whether the CPU is usable
 * (ap_ready) or left out (ap_failed).  Each failure is logged with the APIC
 * ID.  Returns how many CPUs are online, the boot CPU included. */
unsigned smp_start_cpus(const uint32_t *apic_ids, size_t n, unsigned max_cpus,
                        void (*cpu_main)(struct pcpu *p));

/* Called by an AP from cpu_main: it is usable, or it is not (why), in which
 * case it halts for good. */
void smp_ap_ready(struct pcpu *p);
__attribute__((noreturn)) void smp_ap_failed(struct pcpu *p, const char *why);

/* On a panic: every other online CPU stops (NMI). */
void smp_stop_others(void);

/* Makes the CPU with that number exit guest mode soon (an IPI to the host
 * kick vector); harmless when it is not in guest mode. */
void smp_kick(unsigned cpu);

#endif
