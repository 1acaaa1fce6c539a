/* Guest MSR access.  Every MSR exits (deny by default) except the few
 * that VMX switches itself or that vtvisor switches between VMs; exits
 * are emulated here from a table, and an MSR the guest may not use gets
 * #GP, as on a CPU without it. */
#ifndef VTV_CORE_MSR_H
#define VTV_CORE_MSR_H

#include "core/vm.h"

/* Fills the 4 KiB MSR bitmap (SDM 24.6.9). */
void msr_bitmap_init(uint8_t *bitmap);

/* Return false when the guest must get #GP. */
bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
/* IA32_MISC_ENABLE's "limit CPUID maxval" (clear at reset): set in a
 * vCPU's misc_enable_flip when the guest set it; CPUID leaf 0 then reports 2. */
#define MISC_LIMIT_CPUID_MAX BIT(22)
bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
