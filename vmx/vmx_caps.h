/* VMX capabilities, read once from the VMX MSRs into one structure.
 *
 * Each control MSR holds two 32-bit halves (SDM A.3): bits 31:0 are the
 * allowed-0 settings (a 1 there means the control must be 1) and bits 63:32
 * the allowed-1 settings (a 0 there means the control must be 0).  Where
 * IA32_VMX_BASIC bit 55 is set, the TRUE_* MSRs are used instead, since they
 * allow clearing default-1 controls.  Pure: the MSR reader is injected. */
#ifndef VTV_VMX_CAPS_H
#define VTV_VMX_CAPS_H

#include "lib/types.h"

struct vmx_ctl_caps {
        uint32_t must_be_1; /* allowed-0 settings */
        uint32_t may_be_1;  /* allowed-1 settings */
};

struct vmx_caps {
        uint64_t basic;
        struct vmx_ctl_caps pin, proc, proc2, exit, entry;
        uint64_t misc;
        uint64_t ept_vpid;
        uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

typedef uint64_t (*msr_read_fn)(uint32_t msr);

struct vmx_ctl_caps vmx_ctl_caps_from_msr(uint64_t msr_value);

/* Applies the allowed-0/allowed-1 rule: returns the control value that sets
 * every bit of want that may be set and every bit that must be set.  Bits of
 * want that may not be set are reported in *refused (0 when all granted). */
uint32_t vmx_ctl_adjust(struct vmx_ctl_caps caps, uint32_t want, uint32_t *refused);

/* Reads all capability MSRs.  Assumes CPUID already reported VMX. */
void vmx_caps_probe(struct vmx_caps *caps, msr_read_fn rdmsr);

/* The features vtvisor cannot run without.  Returns NULL when all are
 * present, otherwise a sentence naming the first missing one. */
const char *vmx_caps_missing(const struct vmx_caps *caps);

/* Preemption-timer rate: the timer counts down once every 2^shift TSC ticks. */
static inline unsigned vmx_caps_preempt_shift(const struct vmx_caps *caps)
{
        return (unsigned)(caps->misc & 0x1f);
}

#endif
