#include "arch/x86/percpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"

struct pcpu pcpus[MAX_CPUS];
unsigned ncpus_online = 1;

/* The boot CPU's stacks are boot.S's; the others' come from smp.c. */
static uint8_t bsp_ist[CPU_IST_SIZE] __attribute__((aligned(16)));

void percpu_enter(struct pcpu *p)
{
        p->self = p;
        if (p->id == 0 && !p->ist_top)
                p->ist_top = bsp_ist + sizeof(bsp_ist);
        wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)p);
        desc_init_cpu(p);
}
