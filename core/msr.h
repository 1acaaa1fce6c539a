/* Guest MSR access.  Every MSR exits (deny by default) except the few
 * that VMX switches itself or that vtvisor switches between VMs; exits
 * are emulated here from a table, and an MSR the guest may not use gets
 * #GP, as on a CPU without it. */
#ifndef VTV_CORE_MSR_H
#define VTV_CORE_MSR_H

#include "core/vm.h"

/* Fills the 4 KiB MSR bitmap (SDM 24.6.9). */
void msr_bitmap_init(uint8_t *bitmap);

/* ok false when the guest must get #GP.  (Returned in registers: no
 * address-taken local, so no stack canary, on the exit fast path.) */
struct msr_value {
        uint64_t val;
        bool ok;
};
struct msr_value msr_read(struct vcpu *v, uint32_t msr);
/* The MSRs whose state only this vCPU's own CPU touches (its VMCS, its
 * TSC offset, its MISC_ENABLE): read without vm->lock, on the exit fast
 * path.  ok false for every other MSR, which msr_read serves. */
struct msr_value msr_read_local(struct vcpu *v, uint32_t msr);
/* IA32_MISC_ENABLE's "limit CPUID maxval" (clear at reset): set in a
 * vCPU's misc_enable_flip when the guest set it; CPUID leaf 0 then reports 2. */
#define MISC_LIMIT_CPUID_MAX BIT(22)
bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
