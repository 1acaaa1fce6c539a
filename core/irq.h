/* Interrupt delivery inside a VM: device lines -> I/O APIC -> local APIC ->
 * injection into the vCPU at the next VM entry (SDM 26.6, 27.2). */
#ifndef VTV_CORE_IRQ_H
#define VTV_CORE_IRQ_H

#include "core/vm.h"

/* Sets up the VM's I/O APIC and registers both APICs' MMIO pages. */
void irq_init_vm(struct vm *vm);
void irq_init_vcpu(struct vcpu *v, uint64_t tsc_hz);
/* Registers the PCI configuration window (ECAM) of a VM that has one. */
void irq_add_ecam(struct vm *vm, gpa_t base, uint64_t size);

/* A device's interrupt line (an I/O APIC pin) changed level. */
void irq_set_line(struct vm *vm, unsigned pin, bool asserted);

/* A message-signalled interrupt (a PCI device's MSI or MSI-X message,
 * SDM 11.11): address 0xFEExxxxx with the destination in bits 19:12 and
 * the destination mode in bit 2, data with the vector in bits 7:0 and the
 * delivery mode in bits 10:8.  Delivered to the VM's local APICs as an I/O
 * APIC message would be, edge-triggered; a message to another address
 * (not an interrupt) is dropped.  vm->lock held. */
void irq_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* The VM's NMI button (the operator's `nmi`): LINT1 of every vCPU's local
 * APIC asserted, as a PC wires its NMI line; each does what its LVT LINT1
 * entry says (lapic_lint_asserted).  Counts the vCPUs that got an NMI and
 * a fixed interrupt.  vm->lock held. */
void irq_nmi_button(struct vm *vm, unsigned *nmis, unsigned *fixed);

/* Handles what a local APIC register write set off (EOI to the I/O APIC,
 * IPIs to the VM's vCPUs, on this CPU or others).  vm->lock held. */
void irq_lapic_effects(struct vcpu *v, const struct lapic_effects *fx);

/* Before a VM entry: fires expired timers, injects the highest pending
 * interrupt when the guest can take it, or asks for an interrupt-window
 * exit when it cannot yet. */
void irq_inject(struct vcpu *v);

/* The MMIO region containing gpa, or NULL. */
const struct mmio_region *irq_mmio_region(struct vcpu *v, gpa_t gpa);

#endif
