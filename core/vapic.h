/* APIC virtualization (SDM chapter 29): where the CPU offers APIC-access
 * virtualization, APIC-register virtualization and virtual-interrupt
 * delivery, a guest's xAPIC reads, its TPR and EOI writes and the delivery
 * of its APIC interrupts cost no VM exit.  The local APIC model
 * (devices/lapic.c) stays the one implementation of the APIC; this file
 * keeps it and the CPU's virtual-APIC page in step (docs/architecture.md):
 *
 *   - before each entry (vapic_sync_out, from irq_inject) the model's IRR,
 *     ISR, TMR and TPR go into the page, RVI/SVI into the guest interrupt
 *     status, the level-triggered vectors into the EOI-exit bitmap; the
 *     page is then "live": the CPU delivers, EOIs and changes the TPR in it;
 *   - before vtvisor next looks at the model (vcpu_lapic, irq_inject) they
 *     come back (vapic_sync_in), with the vectors other vCPUs and devices
 *     accepted into the model meanwhile (vapic_accepted);
 *   - the registers the CPU reads from the page without an exit are
 *     exported again whenever the model's change (an APIC write).
 *
 * The xAPIC page 0xfee00000 is mapped to the VM's APIC-access page in its
 * EPT while every vCPU's APIC is in xAPIC mode at that address; once one
 * leaves (x2APIC, disabled, moved), the mapping goes for the rest of that
 * build and xAPIC accesses exit as EPT violations (core/mmio.c) again.
 * Without these CPU features nothing here is used: the TPR shadow alone,
 * interrupt injection and MMIO exits, as before. */
#ifndef VTV_CORE_VAPIC_H
#define VTV_CORE_VAPIC_H

#include "core/vm.h"

/* Whether the CPU offers all three features (and the TPR shadow). */
bool vapic_available(void);

/* Allocates the VM's APIC-access page and maps it; NULL or what failed. */
const char *vapic_init_vm(struct vm *vm);
void vapic_release_vm(struct vm *vm);

/* Turns the features on in v's VMCS (current) when the CPU and the VM
 * have them. */
void vapic_setup_vcpu(struct vcpu *v);

/* The page's IRR, ISR and TPR back into the model, if the page is live. */
void vapic_sync_in(struct vcpu *v);
/* The model into the page before an entry; the page is live after it. */
void vapic_sync_out(struct vcpu *v);

/* v's local APIC model, current: for any handler that reads or changes it.
 * A sync makes the slow path run before the next entry (irq_dirty), which
 * writes the model back. */
static inline struct lapic *vcpu_lapic(struct vcpu *v)
{
        if (v->vapic_live) {
                vapic_sync_in(v);
                v->irq_dirty = true;
        }
        return &v->lapic;
}

/* A vector was just accepted into t's model (lapic_accept) by any CPU:
 * vm->lock held. */
static inline void vapic_accepted(struct vcpu *t, uint8_t vector)
{
        if (t->vapic_live)
                t->vapic_fresh[vector >> 5] |= 1u << (vector & 31);
}

/* From v's own CPU, with its VMCS current and the page live: a vector the
 * model just accepted (and the page does not know yet) goes straight into
 * the page's IRR and RVI, so the CPU delivers it after the next entry
 * without the slow path (the timer's, vcpu_tsc_deadline_written). */
void vapic_post(struct vcpu *v, uint8_t vector);

/* Posts the timer's vector if the timer fired (lapic timer_irqs moved
 * past `before`) during a model call made with the page live. */
static inline void vapic_post_timer(struct vcpu *v, uint32_t before)
{
        if (v->lapic.timer_irqs != before)
                vapic_post(v, (uint8_t)lapic_timer_vector(&v->lapic));
}

/* t's APIC was reset (INIT): the page's contents no longer count. */
void vapic_reset(struct vcpu *t);
/* v's IA32_APIC_BASE changed (mode or address). */
void vapic_apic_base_changed(struct vcpu *v);
/* The model's registers changed outside an APIC-write exit (an emulated
 * MMIO write): export them all before the next entry. */
static inline void vapic_regs_changed(struct vcpu *v)
{
        v->vapic_export_all = true;
}

/* Exit handlers (SDM 29.4.3.3, 29.1.4): the guest wrote an APIC register
 * that the CPU stored in the page but cannot emulate itself (APIC-write,
 * trap-like); the guest's EOI retired a vector whose EOI the I/O APIC
 * must see (EOI-induced, trap-like). */
void vapic_apic_write(struct vcpu *v, uint32_t offset);
void vapic_eoi_induced(struct vcpu *v, uint8_t vector);

#endif
