/* A vCPU: its VMCS, the run loop, and the helpers exit handlers use to
 * read and change guest state. */
#ifndef VTV_CORE_VCPU_H
#define VTV_CORE_VCPU_H

#include "arch/x86/cpu.h"
#include "core/vm.h"
#include "emulate/guest_walk.h"
#include "vmx/vmcs.h"

/* Sets up vCPU number index's VMCS from the loader's state, or, with s
 * NULL, as an application processor waiting for SIPI.  Leaves the VMCS
 * clear, for its own CPU to load.  Returns NULL or what failed. */
const char *vcpu_init(struct vcpu *v, struct vm *vm, unsigned index, const struct guest_state *s);
void vcpu_destroy(struct vcpu *v);
/* VMCLEAR on the vCPU's own CPU, after vcpu_put, when its VM stops. */
void vcpu_unload(struct vcpu *v);

/* Makes v's VMCS current and loads the state VMX does not switch. */
void vcpu_load(struct vcpu *v);
/* Saves that state again before another vCPU is loaded. */
void vcpu_put(struct vcpu *v);

/* Runs v until its time slice ends, it halts, it must yield (a kick, an
 * IPI for a vCPU on this CPU) or its VM stops.  Takes vm->lock. */
void vcpu_run(struct vcpu *v);

/* RF and TF after an emulated instruction (vcpu_advance_rip). */
void vcpu_finish_rf_tf(struct vcpu *v, uint64_t rflags);

/* Completes an instruction vtvisor emulated, whose length it decoded itself
 * (the exit instruction length is not saved for EPT violations, SDM
 * 27.2.5): advances RIP; inline, as every instruction exit ends here. */
static inline void vcpu_advance_rip(struct vcpu *v, unsigned length)
{
        uint64_t old = vmcs_readnat(GUEST_RIP), rip = old + length;
        /* Outside 64-bit mode the instruction pointer wraps at 32 bits
         * (only a step across 4 GiB needs CS to tell). */
        if (((rip ^ old) >> 32) && !(vmcs_read32(GUEST_CS_AR_BYTES) & AR_L))
                rip &= 0xffffffffULL;
        vmcs_writenat(GUEST_RIP, rip);
        /* The emulated instruction ends any STI or MOV SS blocking (SDM 26.3.1.5). */
        uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
        if (intr & 3)
                vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~3u);
        uint64_t rflags = vmcs_readnat(GUEST_RFLAGS);
        if (rflags & (RFLAGS_RF | RFLAGS_TF))
                vcpu_finish_rf_tf(v, rflags);
}

/* Completes the exiting instruction: advances RIP by its length.  Only
 * handlers that fully emulated the instruction call this. */
static inline void vcpu_skip_instruction(struct vcpu *v)
{
        vcpu_advance_rip(v, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
}
void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error);
static inline void vcpu_inject_gp(struct vcpu *v)
{
        vcpu_inject_exception(v, 13, true, 0);
}
static inline void vcpu_inject_ud(struct vcpu *v)
{
        vcpu_inject_exception(v, 6, false, 0);
}

/* The guest's TSC now: what its RDTSC returns, and the local APIC's clock. */
static inline uint64_t vcpu_tsc(const struct vcpu *v)
{
        return rdtsc() + v->tsc_offset;
}

uint64_t vcpu_gpr(struct vcpu *v, unsigned index);
void vcpu_set_gpr(struct vcpu *v, unsigned index, uint64_t value);
/* The guest's CPL: SS.DPL (SDM 24.4.1); 0 in real mode. */
static inline unsigned vcpu_cpl(struct vcpu *v)
{
        UNUSED(v);
        return (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
}
/* The guest's view of CR0/CR4 (with the read shadows applied). */
uint64_t vcpu_guest_cr0(struct vcpu *v);
uint64_t vcpu_guest_cr4(struct vcpu *v);

/* Translates a guest-linear address as the guest's MMU would.  On a guest
 * page fault, injects #PF (CR2 = gva) and returns false; when the guest's
 * paging structures lie outside its RAM, stops the VM and returns false. */
bool vcpu_translate(struct vcpu *v, uint64_t gva, enum walk_access access, uint64_t *gpa);

/* The XCR0 bits a guest may enable (what the host CPU supports). */
uint64_t vcpu_xcr0_supported(void);

#endif
