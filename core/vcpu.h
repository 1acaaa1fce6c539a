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

/* A vCPU runs for this many TSC ticks before another gets the CPU. */
#define TIME_SLICE_TSC 2000000ULL

/* Runs v until its time slice ends, it halts, it must yield (a kick, an
 * IPI for a vCPU on this CPU) or its VM stops.  Takes vm->lock. */
void vcpu_run(struct vcpu *v);

/* RF and TF after an emulated instruction (vcpu_advance_rip). */
void vcpu_finish_rf_tf(uint64_t rflags);
/* The next RIP when an instruction at old may have stepped across 4 GiB:
 * outside 64-bit mode the instruction pointer wraps at 32 bits. */
uint64_t vcpu_rip_wrap(uint64_t old, uint64_t rip);

/* Instructions are at most 15 bytes long (SDM Vol. 2 2.3.11). */
#define VCPU_INSN_MAX 15

/* Completes an instruction vtvisor emulated, whose length it decoded itself
 * (the exit instruction length is not saved for EPT violations, SDM
 * 27.2.5): advances RIP; inline, as every instruction exit ends here. */
static inline void vcpu_advance_rip(struct vcpu *v, uint64_t length)
{
        /* Every emulated instruction ends here: these VMCS accesses name no
         * caller if they fail (the panic's backtrace does). */
        uint64_t old = vmcs_read_checked(GUEST_RIP, NULL), rip = old + length;
        /* Only an instruction (length <= 15) that starts in the last 15
         * bytes below a 4 GiB boundary can step across it. */
        if (__builtin_expect((uint32_t)old > 0xffffffffu - VCPU_INSN_MAX, 0))
                rip = vcpu_rip_wrap(old, rip);
        vmcs_write_checked(GUEST_RIP, rip, NULL);
        /* The emulated instruction ends any STI or MOV SS blocking (SDM 26.3.1.5). */
        uint32_t intr = (uint32_t)vmcs_read_checked(GUEST_INTERRUPTIBILITY_INFO, NULL);
        if (intr & 3)
                vmcs_write_checked(GUEST_INTERRUPTIBILITY_INFO, intr & ~3u, NULL);
        uint64_t rflags = vmcs_read_checked(GUEST_RFLAGS, NULL);
        if (rflags & (RFLAGS_RF | RFLAGS_TF))
                vcpu_finish_rf_tf(rflags);
}

/* Completes the exiting instruction: advances RIP by its length.  Only
 * handlers that fully emulated the instruction call this. */
static inline void vcpu_skip_instruction(struct vcpu *v)
{
        /* VMREAD of a 32-bit field clears the upper bits: no cast needed. */
        vcpu_advance_rip(v, vmcs_read_checked(VM_EXIT_INSTRUCTION_LEN, NULL));
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
        return ((uint32_t)vmcs_read_checked(GUEST_SS_AR_BYTES, NULL) >> 5) & 3;
}
/* The guest's view of CR0/CR4 (with the read shadows applied). */
uint64_t vcpu_guest_cr0(struct vcpu *v);
uint64_t vcpu_guest_cr4(struct vcpu *v);

/* Translates a guest-linear address as the guest's MMU would.  On a guest
 * page fault, injects #PF (CR2 = gva) and returns false; when the guest's
 * paging structures lie outside its RAM, stops the VM and returns false. */
bool vcpu_translate(struct vcpu *v, uint64_t gva, enum walk_access access, uint64_t *gpa);

/* The guest page walker's read_gpa callback (emulate/guest_walk.h) for a
 * VM's RAM, ctx the struct vm: false outside it. */
bool vcpu_walk_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);

/* Sets the guest's CR2 for a #PF vtvisor injects (vcpu_translate does). */
void vcpu_set_cr2(struct vcpu *v, uint64_t cr2);

/* The XCR0 bits a guest may enable (what the host CPU supports). */
uint64_t vcpu_xcr0_supported(void);

#endif
