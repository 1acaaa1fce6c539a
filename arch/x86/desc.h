/* The host's GDT, TSS and IDT.  Selectors are fixed because boot.S and
 * the VMCS host-state area depend on them. */
#ifndef VTV_ARCH_X86_DESC_H
#define VTV_ARCH_X86_DESC_H

#include "lib/types.h"

#define HOST_CS_SEL 0x08
#define HOST_DS_SEL 0x10
#define HOST_TR_SEL 0x18

struct trap_frame {
        uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
        uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
        uint64_t vector, error_code;
        uint64_t rip, cs, rflags, rsp, ss;
};

struct pcpu;
/* Loads this CPU's GDT and TSS (in its struct pcpu) and the shared IDT.
 * The boot CPU (id 0) also builds the IDT. */
void desc_init_cpu(struct pcpu *p);
/* From now on an NMI stops the CPU that takes it (a panic is under way). */
void desc_panic_begin(void);
bool desc_panic_under_way(void);

#endif
