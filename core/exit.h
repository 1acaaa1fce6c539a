/* VM-exit dispatch: one handler per basic exit reason, in a table. */
#ifndef VTV_CORE_EXIT_H
#define VTV_CORE_EXIT_H

#include "core/msr.h"
#include "core/vcpu.h"

enum exit_action {
        EXIT_CONTINUE, /* re-enter the guest */
        EXIT_YIELD,    /* let another VM run first */
};

enum exit_action exit_dispatch(struct vcpu *v, uint32_t basic_reason);

/* Sets v->cpuid_max, the highest basic CPUID leaf v sees: at vCPU set-up
 * and when IA32_MISC_ENABLE's "limit CPUID maxval" changes. */
void exit_cpuid_limits(struct vcpu *v);

/* CPUID, for the fast path and exit_dispatch alike: the answer from the
 * vCPU's table (core/exit.c, "CPUID answers"), inline, as CPUID is the
 * exit guests make most.  An entry holding (leaf, sub) sits in slot
 * cpuid_slot(leaf, sub); exit_cpuid_miss computes the answer and keeps it
 * where it can. */
_Static_assert(VCPU_CPUID_CACHE >= 2 && !(VCPU_CPUID_CACHE & (VCPU_CPUID_CACHE - 1)),
               "an empty slot holds a leaf that belongs in another slot");
static inline unsigned cpuid_slot(uint32_t leaf, uint32_t sub)
{
        return (leaf ^ (leaf >> 29) ^ sub) % VCPU_CPUID_CACHE;
}

enum exit_action exit_cpuid_miss(struct vcpu *v);

/* Completes the CPUID with the answer in e. */
static inline __attribute__((always_inline)) enum exit_action
exit_cpuid_give(struct vcpu *v, const struct cpuid_entry *e)
{
        v->regs.gpr[RAX] = e->eax;
        v->regs.gpr[RBX] = e->ebx;
        v->regs.gpr[RCX] = e->ecx;
        v->regs.gpr[RDX] = e->edx;
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

static inline __attribute__((always_inline)) enum exit_action exit_cpuid(struct vcpu *v)
{
        uint32_t leaf = (uint32_t)v->regs.gpr[RAX], sub = (uint32_t)v->regs.gpr[RCX];
        const struct cpuid_entry *e = &v->cpuid_cache[cpuid_slot(leaf, sub)];
        if (__builtin_expect(e->leaf != leaf || e->sub != sub, 0))
                return exit_cpuid_miss(v);
        return exit_cpuid_give(v, e);
}

/* RDMSR of an MSR only this vCPU's state holds (msr_read_local), for the
 * fast path, without vm->lock.  False, having done nothing, for any other
 * MSR: the exit needs the locked handler. */
static inline __attribute__((always_inline)) bool exit_rdmsr_local(struct vcpu *v)
{
        struct msr_value r = msr_read_local(v, (uint32_t)v->regs.gpr[RCX]);
        if (!r.ok)
                return false;
        v->regs.gpr[RAX] = (uint32_t)r.val;
        v->regs.gpr[RDX] = r.val >> 32;
        vcpu_skip_instruction(v);
        return true;
}

/* Loads the four PAE PDPTEs from the table at cr3 into the VMCS, as a MOV
 * to CR3 or CR0 would (core/exit.c); false (nothing loaded) when a present
 * entry has a reserved bit set. */
bool exit_load_pdptes(struct vcpu *v, uint64_t cr3);

/* The handler table exit_dispatch uses, for the fast path (vcpu.c), which
 * calls only reasons it knows have a handler. */
typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);
extern const exit_handler_fn exit_handlers[EXIT_REASON_MAX];

#endif
