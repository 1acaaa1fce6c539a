/* The host's own local APIC on each physical CPU (SDM 11): x2APIC mode
 * (MSRs) where the CPU offers it, else xAPIC (the MMIO page at its base,
 * which host paging maps uncached).  Used for interprocessor interrupts
 * only: starting the other CPUs, kicking a CPU out of guest mode, and NMIs
 * on a panic.  The host takes no interrupts itself (RFLAGS.IF stays 0);
 * a kick that arrives in guest mode causes an external-interrupt exit whose
 * acknowledgement (VM-exit control) consumes it. */
#ifndef VTV_ARCH_X86_HAPIC_H
#define VTV_ARCH_X86_HAPIC_H

#include "lib/types.h"

/* Host vectors. */
#define HOST_VEC_KICK     0xf0
#define HOST_VEC_SPURIOUS 0xff

/* Enables this CPU's APIC (x2APIC when offered) with every LVT masked. */
void hapic_init_cpu(void);
uint32_t hapic_id(void);
bool hapic_x2apic(void);
void hapic_eoi(void);
/* A fixed IPI of vector to the CPU with APIC ID dest. */
void hapic_send_fixed(uint32_t dest, uint8_t vector);
void hapic_send_nmi(uint32_t dest);
/* The MP start-up sequence's messages (SDM 8.4.4.1). */
void hapic_send_init(uint32_t dest);
void hapic_send_sipi(uint32_t dest, uint8_t page);
/* Waits until the last IPI has left (xAPIC delivery status; at most about
 * a millisecond).  Returns false if it never did. */
bool hapic_wait_idle(void);

#endif
