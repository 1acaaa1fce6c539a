/* Per-CPU data: one struct pcpu per physical CPU vtvisor uses, reached in
 * O(1) through the GS base (which VM exits restore from the VMCS's
 * HOST_GS_BASE, so it is written there per CPU).  Only its own CPU writes a
 * pcpu after start-up, so it needs no lock. */
#ifndef VTV_ARCH_X86_PERCPU_H
#define VTV_ARCH_X86_PERCPU_H

#include "lib/types.h"

#define MAX_CPUS       64
#define CPU_STACK_SIZE 32768
#define CPU_IST_SIZE   8192

struct __attribute__((packed)) tss64 {
        uint32_t reserved0;
        uint64_t rsp[3];
        uint64_t reserved1;
        uint64_t ist[7];
        uint64_t reserved2;
        uint16_t reserved3;
        uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout (SDM 8.7)");

struct pcpu {
        struct pcpu *self; /* first: this_cpu() reads %gs:0 */
        unsigned id;       /* 0 = the boot CPU; dense */
        uint32_t apic_id;
        uint64_t gdt[5] __attribute__((aligned(16)));
        struct tss64 tss __attribute__((aligned(16)));
        hpa_t vmxon;
        uint8_t *stack_top;
        uint8_t *ist_top;     /* #DF, NMI, #MC */
        volatile bool online; /* set by the CPU itself once it runs C code */
};
_Static_assert(__builtin_offsetof(struct pcpu, self) == 0, "this_cpu() reads %gs:0");

extern struct pcpu pcpus[MAX_CPUS];
extern unsigned ncpus_online; /* CPUs in use: ids 0 .. ncpus_online-1 */

static inline struct pcpu *this_cpu(void)
{
        struct pcpu *p;
        __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
        return p;
}

static inline unsigned this_cpu_id(void)
{
        return this_cpu()->id;
}

/* Makes p this CPU's: GS base, then GDT, TSS and IDT (desc.c). */
void percpu_enter(struct pcpu *p);

#endif
