#include "core/irq.h"
#include "core/vapic.h"
#include "core/clock.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "core/vcpu.h"
#include "vmx/vmcs.h"

#define INTR_BLOCKING_STI_MOVSS 3u

/* Makes a vCPU that just got something to do notice it: its CPU leaves
 * guest mode (a kick) or, on this CPU, the sender yields to it. */
static void notify(struct vcpu *from, struct vcpu *t)
{
        t->irq_dirty = true;
        if (t->cpu != this_cpu_id()) {
                smp_kick(t->cpu);
        } else if (from && t != from) {
                from->yield = true;
                from->irq_dirty = true; /* the fast path checks only this */
        }
}

/* An I/O APIC message to the VM's local APICs (SDM 11.6.2, 11.6.2.4):
 * fixed to every APIC it addresses, lowest priority to the one of them
 * with the lowest processor priority (the first such vCPU on a tie), NMI
 * to every APIC it addresses (the vector is ignored).  vm->lock held. */
static void deliver(void *ctx, const struct ioapic_msg *msg)
{
        struct vm *vm = ctx;
        if (msg->delivery != LAPIC_DM_FIXED && msg->delivery != LAPIC_DM_LOWEST &&
            msg->delivery != LAPIC_DM_NMI)
                return; /* SMI (no SMM), INIT and ExtINT (no 8259) from a pin: dropped */
        struct vcpu *lowest = NULL;
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                struct vcpu *t = &vm->vcpus[i];
                uint32_t dest = msg->dest;
                /* An 8-bit broadcast means every APIC also in x2APIC mode. */
                if (dest == 0xff && lapic_is_x2apic(&t->lapic))
                        dest = 0xffffffffu;
                if (!lapic_matches_dest(&t->lapic, dest, msg->logical))
                        continue;
                if (msg->delivery == LAPIC_DM_NMI) {
                        t->requests |= VCPU_REQ_NMI;
                        notify(NULL, t);
                } else if (msg->delivery == LAPIC_DM_FIXED) {
                        lapic_accept(&t->lapic, msg->vector, msg->level);
                        vapic_accepted(t, msg->vector);
                        notify(NULL, t);
                } else if (!lowest || lapic_ppr(&t->lapic) < lapic_ppr(&lowest->lapic)) {
                        lowest = t;
                }
        }
        if (lowest) {
                lapic_accept(&lowest->lapic, msg->vector, msg->level);
                vapic_accepted(lowest, msg->vector);
                notify(NULL, lowest);
        }
}

#define MSI_ADDR_BASE 0xfeeULL /* bits 31:20 of an MSI address */

void irq_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
        if (addr >> 20 != MSI_ADDR_BASE)
                return;
        struct ioapic_msg msg = {
                .vector = (uint8_t)data,
                .delivery = (uint8_t)((data >> 8) & 7),
                .dest = (uint8_t)(addr >> 12),
                .logical = addr & BIT(2),
                .level = false,
        };
        deliver(vm, &msg);
}

/* The bytes of a 32-bit register that a narrower read at offset returns. */
static uint64_t reg32_part(uint32_t val, uint64_t offset, unsigned size)
{
        return (uint64_t)(val >> (8 * (offset & 3))) &
               (size >= 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1);
}

static uint64_t lapic_read(struct vcpu *v, void *dev, uint64_t offset, unsigned size)
{
        UNUSED(dev);
        /* Registers are 32 bits wide at 16-byte strides (SDM 11.4.1). */
        uint32_t val = lapic_mmio_read(vcpu_lapic(v), (uint32_t)(offset & ~3ULL), vcpu_tsc(v));
        return reg32_part(val, offset, size);
}

static void lapic_write(struct vcpu *v, void *dev, uint64_t offset, unsigned size, uint64_t value)
{
        UNUSED(dev);
        UNUSED(size);
        struct lapic_effects fx;
        lapic_mmio_write(vcpu_lapic(v), (uint32_t)(offset & ~3ULL), (uint32_t)value, vcpu_tsc(v),
                         &fx);
        v->irq_dirty = true;
        vapic_regs_changed(v);
        irq_lapic_effects(v, &fx);
}

static uint64_t ioapic_read(struct vcpu *v, void *dev, uint64_t offset, unsigned size)
{
        UNUSED(v);
        uint32_t val = ioapic_mmio_read(dev, (uint32_t)(offset & ~3ULL));
        return reg32_part(val, offset, size);
}

static void ioapic_write(struct vcpu *v, void *dev, uint64_t offset, unsigned size, uint64_t value)
{
        UNUSED(v);
        UNUSED(size);
        ioapic_mmio_write(dev, (uint32_t)(offset & ~3ULL), (uint32_t)value);
}

static const struct mmio_ops lapic_ops = { "local APIC", lapic_read, lapic_write };
static const struct mmio_ops ioapic_ops = { "I/O APIC", ioapic_read, ioapic_write };

/* PCI Express enhanced configuration access (ECAM): bus, device, function
 * and register encoded in the offset (PCI Express Base spec 7.2.2). */
static uint64_t ecam_read(struct vcpu *v, void *dev, uint64_t offset, unsigned size)
{
        UNUSED(v);
        return pci_cfg_read(dev, (uint8_t)PCI_ECAM_BUS(offset), (uint8_t)PCI_ECAM_DEVFN(offset),
                            (uint16_t)PCI_ECAM_REG(offset), size);
}

static void ecam_write(struct vcpu *v, void *dev, uint64_t offset, unsigned size, uint64_t value)
{
        pci_cfg_write(dev, (uint8_t)PCI_ECAM_BUS(offset), (uint8_t)PCI_ECAM_DEVFN(offset),
                      (uint16_t)PCI_ECAM_REG(offset), size, (uint32_t)value);
        vdev_cfg_written(v->vm);
}

static const struct mmio_ops ecam_ops = { "PCI configuration (ECAM)", ecam_read, ecam_write };

void irq_init_vm(struct vm *vm)
{
        ioapic_init(&vm->ioapic, 0, deliver, vm);
        vm->mmio[0] =
            (struct mmio_region){ IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, &ioapic_ops, &vm->ioapic };
}

void irq_add_ecam(struct vm *vm, gpa_t base, uint64_t size)
{
        vm->mmio[1] = (struct mmio_region){ base, size, &ecam_ops, &vm->pci };
}

void irq_init_vcpu(struct vcpu *v, uint64_t hz)
{
        /* The APIC timer counts at the core crystal clock that CPUID leaf
         * 0x15 tells the guest of (exit.c). */
        lapic_init(&v->lapic, v->index, v->index == 0, hz, clock_crystal_hz());
        /* IA32_APIC_BASE's reserved bits start at the MAXPHYADDR guests see
         * (CPUID 0x80000008, passed through). */
        if (cpuid(0x80000000, 0).eax >= 0x80000008)
                v->lapic.phys_bits = cpuid(0x80000008, 0).eax & 0xff;
        v->lapic_region =
            (struct mmio_region){ LAPIC_DEFAULT_BASE, LAPIC_MMIO_SIZE, &lapic_ops, NULL };
}

const struct mmio_region *irq_mmio_region(struct vcpu *v, gpa_t gpa)
{
        struct vm *vm = v->vm;
        struct lapic *a = &v->lapic;
        if (lapic_mmio_enabled(a)) {
                /* Each vCPU may move its own APIC (IA32_APIC_BASE). */
                v->lapic_region.base = lapic_base_address(a);
                if (gpa - v->lapic_region.base < LAPIC_MMIO_SIZE)
                        return &v->lapic_region;
        }
        for (size_t i = 0; i < ARRAY_SIZE(vm->mmio); i++) {
                if (vm->mmio[i].size && gpa - vm->mmio[i].base < vm->mmio[i].size)
                        return &vm->mmio[i];
        }
        return vdev_mmio_region(vm, gpa);
}

void irq_nmi_button(struct vm *vm, unsigned *nmis, unsigned *fixed)
{
        *nmis = *fixed = 0;
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                struct vcpu *t = &vm->vcpus[i];
                uint8_t vec;
                switch (lapic_lint_asserted(&t->lapic, 1, &vec)) {
                case LAPIC_LINT_NMI:
                        t->requests |= VCPU_REQ_NMI;
                        (*nmis)++;
                        break;
                case LAPIC_LINT_FIXED:
                        vapic_accepted(t, vec);
                        (*fixed)++;
                        break;
                default:
                        continue;
                }
                notify(NULL, t);
        }
}

void irq_set_line(struct vm *vm, unsigned pin, bool asserted)
{
        ioapic_set_irq(&vm->ioapic, pin, asserted);
}

void irq_lapic_effects(struct vcpu *v, const struct lapic_effects *fx)
{
        if (fx->eoi_vector >= 0 && fx->eoi_level)
                ioapic_eoi(&v->vm->ioapic, (uint8_t)fx->eoi_vector);
        if (!fx->has_ipi)
                return;
        struct vm *vm = v->vm;
        const struct lapic *apics[MAX_VCPUS];
        for (unsigned i = 0; i < vm->nvcpus; i++)
                apics[i] = &vm->vcpus[i].lapic;
        uint64_t targets = lapic_ipi_targets(&fx->ipi, apics, vm->nvcpus, v->index);
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                if (!(targets & BIT(i)))
                        continue;
                struct vcpu *t = &vm->vcpus[i];
                switch (fx->ipi.delivery) {
                case LAPIC_DM_FIXED:
                case LAPIC_DM_LOWEST:
                        lapic_accept(&t->lapic, fx->ipi.vector, fx->ipi.level);
                        vapic_accepted(t, fx->ipi.vector);
                        break;
                case LAPIC_DM_NMI:
                        t->requests |= VCPU_REQ_NMI;
                        break;
                case LAPIC_DM_INIT:
                        /* INIT level de-assert: ignored since the Pentium 4
                         * (SDM 11.6.1). */
                        if (fx->ipi.level && !fx->ipi.assert)
                                continue;
                        lapic_init_received(&t->lapic);
                        vapic_reset(t);
                        t->requests &= ~(VCPU_REQ_SIPI | VCPU_REQ_NMI);
                        t->state = VCPU_WAIT_SIPI;
                        break;
                case LAPIC_DM_STARTUP:
                        /* Only a processor waiting for SIPI takes it (SDM
                         * 8.4.3); others ignore it. */
                        if (t->state != VCPU_WAIT_SIPI)
                                continue;
                        t->sipi_vector = fx->ipi.vector;
                        t->requests |= VCPU_REQ_SIPI;
                        t->state = VCPU_RUNNABLE;
                        break;
                default:
                        continue; /* SMI: no SMM is offered */
                }
                notify(v, t);
        }
}

#define INTR_BLOCKING_NMI 8u

void irq_inject(struct vcpu *v)
{
        vapic_sync_in(v);
        lapic_timer_expire(&v->lapic, vcpu_tsc(v));
        /* With virtual-interrupt delivery the CPU delivers the APIC's
         * interrupts itself (vapic_sync_out below): no injection, no
         * interrupt window. */
        int vec = v->vid ? -1 : lapic_highest_pending(&v->lapic);
        bool want_window = false;
        /* A single-step trap (after an emulated HLT, say) or a breakpoint
         * pending from the last instruction comes before an NMI or an
         * interrupt (SDM 6.9), but a VM entry that injects an event drops
         * it (SDM 26.6.3): the event waits for its window, which opens
         * once the CPU has delivered the #DB, as it would on hardware. */
        bool dbg_pending =
            vmcs_readnat(GUEST_PENDING_DBG_EXCEPTIONS) & (PENDING_DBG_ENABLED_BP | PENDING_DBG_BS);

        /* An NMI IPI: delivered when no other event is being injected and
         * the guest is not still handling an NMI (SDM 6.7.1); otherwise it
         * waits for a later entry. */
        bool want_nmi_window = false;
        if (v->requests & VCPU_REQ_NMI) {
                bool busy =
                    dbg_pending || (vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID);
                if (busy || (vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
                             (INTR_BLOCKING_NMI | INTR_BLOCKING_STI_MOVSS))) {
                        /* Held until the guest can take it (its IRET ends
                         * the NMI handler): an NMI-window exit says when. */
                        want_nmi_window = vmcs_read32(PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS;
                } else {
                        vmcs_write32(VM_ENTRY_INTR_INFO_FIELD,
                                     INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
                        v->requests &= ~VCPU_REQ_NMI;
                        v->vm->irqs_injected++;
                        if (vmcs_read32(GUEST_ACTIVITY_STATE) != 0)
                                vmcs_write32(GUEST_ACTIVITY_STATE, 0);
                }
        }

        if (vec >= 0) {
                bool event_pending = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID;
                bool can = !dbg_pending && (vmcs_readnat(GUEST_RFLAGS) & RFLAGS_IF) &&
                           !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & INTR_BLOCKING_STI_MOVSS);
                if (!event_pending && can) {
                        vmcs_write32(VM_ENTRY_INTR_INFO_FIELD,
                                     INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vec);
                        v->vm->irqs_injected++;
                        lapic_start_service(&v->lapic, (uint8_t)vec);
                        /* A guest that halted with this interrupt pending
                         * wakes up. */
                        if (vmcs_read32(GUEST_ACTIVITY_STATE) != 0)
                                vmcs_write32(GUEST_ACTIVITY_STATE, 0);
                        vec = lapic_highest_pending(&v->lapic);
                }
                want_window = vec >= 0;
        }
        if (v->vid) {
                /* A guest that halted with an interrupt pending wakes up. */
                if (vmcs_read32(GUEST_ACTIVITY_STATE) != 0 && lapic_highest_pending(&v->lapic) >= 0)
                        vmcs_write32(GUEST_ACTIVITY_STATE, 0);
                vapic_sync_out(v);
        } else if (v->vapic) {
                /* The model's TPR (changed by APIC register writes) back
                 * into the page, and a threshold so that lowering CR8 below
                 * a pending interrupt's class exits (SDM 29.1.2) where it
                 * would otherwise go unnoticed until the next slow path. */
                v->vapic_tpr = lapic_get_tpr(&v->lapic);
                v->vapic[VAPIC_TPR] = v->vapic_tpr;
                int pend = lapic_highest_requested(&v->lapic);
                uint32_t threshold = 0;
                if (pend >= 0 && !want_window && vec < 0)
                        threshold = (uint32_t)pend >> 4;
                if (threshold > (uint32_t)lapic_get_tpr(&v->lapic) >> 4)
                        threshold = 0;
                vmcs_write32(TPR_THRESHOLD, threshold);
        }
        /* The controls are only touched when they change: this runs before
         * every slow-path VM entry. */
        if (want_window != v->intr_window || want_nmi_window != v->nmi_window) {
                uint32_t proc = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
                proc = want_window ? (proc | PROC_INTR_WINDOW) : (proc & ~PROC_INTR_WINDOW);
                proc = want_nmi_window ? (proc | PROC_NMI_WINDOW) : (proc & ~PROC_NMI_WINDOW);
                vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc);
                v->intr_window = want_window;
                v->nmi_window = want_nmi_window;
        }
}
