#include "core/vapic.h"
#include "arch/x86/mm.h"
#include "arch/x86/smp.h"
#include "core/irq.h"
#include "core/vcpu.h"
#include "ept/ept.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"

#define VAPIC_FEATURES (PROC2_VIRT_APIC_ACCESS | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)

bool vapic_available(void)
{
        return (vmx_caps.proc.may_be_1 & PROC_TPR_SHADOW) &&
               (vmx_caps.proc2.may_be_1 & VAPIC_FEATURES) == VAPIC_FEATURES;
}

const char *vapic_init_vm(struct vm *vm)
{
        if (!vapic_available())
                return NULL;
        hpa_t page = mm_alloc_pages(1, PAGE_SIZE);
        if (!page)
                return "out of host memory for its APIC-access page";
        /* Never read or written by the CPU for the guest (accesses go to
         * each vCPU's virtual-APIC page), but it is host memory: zeroed. */
        vtv_memset(hpa_to_hva(page), 0, PAGE_SIZE);
        vm->apic_access_page = page;
        const char *err = ept_map_ram(&vm->ept, LAPIC_DEFAULT_BASE, page, PAGE_SIZE);
        if (err)
                return err;
        vm->apic_access_mapped = true;
        return NULL;
}

void vapic_release_vm(struct vm *vm)
{
        if (vm->apic_access_page)
                mm_free_pages(vm->apic_access_page, 1);
        vm->apic_access_page = 0;
        vm->apic_access_mapped = false;
}

/* This vCPU's "virtualize APIC accesses" follows the VM's mapping. */
static void update_apic_access(struct vcpu *v)
{
        uint32_t proc2 = vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & ~PROC2_VIRT_APIC_ACCESS;
        v->apic_access = v->vm->apic_access_mapped;
        if (v->apic_access) {
                proc2 |= PROC2_VIRT_APIC_ACCESS;
                vmcs_write64(APIC_ACCESS_ADDR, v->vm->apic_access_page);
        }
        vmcs_write32(SECONDARY_VM_EXEC_CONTROL, proc2);
}

void vapic_setup_vcpu(struct vcpu *v)
{
        struct vm *vm = v->vm;
        if (!v->vapic || !vm->apic_access_page)
                return;
        vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) |
                                                    PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY);
        update_apic_access(v);
        vmcs_write16(GUEST_INTR_STATUS, 0);
        vmcs_write64(EOI_EXIT_BITMAP0, 0);
        vmcs_write64(EOI_EXIT_BITMAP1, 0);
        vmcs_write64(EOI_EXIT_BITMAP2, 0);
        vmcs_write64(EOI_EXIT_BITMAP3, 0);
        vtv_memset(v->eoi_exit, 0, sizeof(v->eoi_exit));
        v->vid = true;
        v->vapic_live = false;
        v->vapic_export_all = true;
}

static uint32_t *vapic_page(struct vcpu *v)
{
        return (uint32_t *)(void *)v->vapic;
}

void vapic_sync_in(struct vcpu *v)
{
        if (!v->vapic_live)
                return;
        unsigned delivered = lapic_vapic_import(&v->lapic, vapic_page(v), v->vapic_fresh);
        v->vm->irqs_injected += delivered;
        v->vapic_tpr = v->vapic[VAPIC_TPR];
        v->vapic_live = false;
}

void vapic_sync_out(struct vcpu *v)
{
        struct lapic *a = &v->lapic;
        uint32_t *page = vapic_page(v);
        if (v->apic_access != v->vm->apic_access_mapped)
                update_apic_access(v);
        if (v->vapic_export_all) {
                lapic_vapic_export_all(a, page);
                v->vapic_export_all = false;
        } else {
                lapic_vapic_export(a, page);
        }
        for (unsigned i = 0; i < 8; i++)
                v->vapic_fresh[i] = 0;
        v->vapic_tpr = v->vapic[VAPIC_TPR];
        /* RVI and SVI: the highest requested and in-service vectors; the CPU
         * evaluates them at entry (SDM 27.3.2.5, 29.2.1). */
        int rvi = lapic_highest_requested(a), svi = lapic_highest_in_service(a);
        vmcs_write16(GUEST_INTR_STATUS,
                     (uint16_t)(((svi > 0 ? svi : 0) << 8) | (rvi > 0 ? rvi : 0)));
        /* Level-triggered vectors (TMR) exit on EOI, for the I/O APIC.
         * Usually there are none, in TMR nor in the bitmap: nothing to do. */
        uint32_t tmr_any = 0;
        for (unsigned i = 0; i < 8; i++)
                tmr_any |= a->tmr[i];
        bool bitmap_any = (v->eoi_exit[0] | v->eoi_exit[1] | v->eoi_exit[2] | v->eoi_exit[3]) != 0;
        for (unsigned i = 0; (tmr_any || bitmap_any) && i < 4; i++) {
                uint64_t bits = a->tmr[2 * i] | ((uint64_t)a->tmr[2 * i + 1] << 32);
                if (bits != v->eoi_exit[i]) {
                        v->eoi_exit[i] = bits;
                        vmcs_write_checked((enum vmcs_field)(EOI_EXIT_BITMAP0 + 2 * i), bits,
                                           __builtin_return_address(0));
                }
        }
        v->vapic_live = true;
}

void vapic_post(struct vcpu *v, uint8_t vector)
{
        vapic_page(v)[LAPIC_REG_IRR / 4 + 4 * (vector >> 5)] |= 1u << (vector & 31);
        uint16_t st = vmcs_read16(GUEST_INTR_STATUS);
        if (vector > (st & 0xff))
                vmcs_write16(GUEST_INTR_STATUS, (uint16_t)((st & 0xff00) | vector));
}

void vapic_reset(struct vcpu *t)
{
        t->vapic_live = false;
        t->vapic_export_all = true;
}

static bool xapic_default(const struct vcpu *v)
{
        const struct lapic *a = &v->lapic;
        return lapic_mmio_enabled(a) && lapic_base_address(a) == LAPIC_DEFAULT_BASE;
}

void vapic_apic_base_changed(struct vcpu *v)
{
        struct vm *vm = v->vm;
        v->vapic_export_all = true;
        if (!vm->apic_access_page)
                return;
        bool all = true;
        for (unsigned i = 0; i < vm->nvcpus; i++)
                all &= xapic_default(&vm->vcpus[i]);
        if (all == vm->apic_access_mapped)
                return;
        if (all) {
                /* Every vCPU is back in xAPIC mode at 0xfee00000. */
                if (ept_map_ram(&vm->ept, LAPIC_DEFAULT_BASE, vm->apic_access_page, PAGE_SIZE))
                        return; /* no memory for a table: accesses keep exiting */
        } else {
                /* The page at 0xfee00000 is not every vCPU's APIC: from now
                 * on it is decoded per vCPU on EPT violations
                 * (irq_mmio_region), where each APIC's mode and address are
                 * known. */
                if (!pt_unmap_page(&vm->ept.pt, LAPIC_DEFAULT_BASE))
                        panic("vm %s: the APIC-access page was not mapped", vm->cfg.name);
        }
        vm->apic_access_mapped = all;
        ept_invalidate(&vm->ept);
        /* Each vCPU's CPU flushes its cached translations and switches its
         * own "virtualize APIC accesses" control (vapic_sync_out). */
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                struct vcpu *o = &vm->vcpus[i];
                if (o == v)
                        continue;
                o->needs_flush = true;
                __atomic_store_n(&o->irq_dirty, true, __ATOMIC_RELAXED);
                if (o->cpu != v->cpu)
                        smp_kick(o->cpu);
        }
        log_line("vm %s: xAPIC page accesses %s (vCPU %u's IA32_APIC_BASE)", vm->cfg.name,
                 all ? "virtualized again" : "exit from now on", v->index);
}

/* An IPI that cannot reach the sender itself touches nothing of the
 * sender's APIC that the live page holds (IRR, ISR, TPR): sent without a
 * sync, so the sender goes back on the fast path.  Only the timer, which
 * the model brings up to date on any access, may raise an interrupt here:
 * it is posted (vapic_post).  False: not such an IPI. */
static bool send_ipi_live(struct vcpu *v, uint32_t *page)
{
        struct lapic *a = &v->lapic;
        uint32_t lo = page[LAPIC_REG_ICR_LO / 4], hi = page[LAPIC_REG_ICR_HI / 4];
        unsigned shorthand = (lo >> 18) & 3;
        bool logical = lo & BIT(11);
        if (!v->vapic_live || !lapic_mmio_enabled(a) || shorthand == LAPIC_SH_SELF ||
            shorthand == LAPIC_SH_ALL ||
            (shorthand == LAPIC_SH_NONE && lapic_matches_dest(a, hi >> 24, logical)))
                return false;
        uint64_t now = vcpu_tsc(v);
        uint32_t fired = a->timer_irqs;
        struct lapic_effects fx;
        lapic_mmio_write(a, LAPIC_REG_ICR_HI, hi, now, NULL);
        lapic_mmio_write(a, LAPIC_REG_ICR_LO, lo, now, &fx);
        vapic_post_timer(v, fired);
        lapic_vapic_export_reg(a, page, LAPIC_REG_ICR_LO);
        lapic_vapic_export_reg(a, page, LAPIC_REG_ESR);
        irq_lapic_effects(v, &fx);
        return true;
}

void vapic_apic_write(struct vcpu *v, uint32_t offset)
{
        uint32_t *page = vapic_page(v);
        offset &= 0xff0;
        if (offset == LAPIC_REG_ICR_LO && send_ipi_live(v, page))
                return;
        struct lapic *a = vcpu_lapic(v);
        uint64_t now = vcpu_tsc(v);
        struct lapic_effects fx;
        /* The CPU stores ICR_HI writes in the page without an exit (SDM
         * 29.4.3.2): the destination of an ICR_LO write is there. */
        if (offset == LAPIC_REG_ICR_LO)
                lapic_mmio_write(a, LAPIC_REG_ICR_HI, page[LAPIC_REG_ICR_HI / 4], now, NULL);
        lapic_mmio_write(a, offset, page[offset / 4], now, &fx);
        /* The page shows what the model made of the write (reserved bits,
         * read-only registers, ESR). */
        if (offset == LAPIC_REG_SVR || !lapic_vapic_export_reg(a, page, offset))
                v->vapic_export_all = true;
        lapic_vapic_export_reg(a, page, LAPIC_REG_ESR);
        irq_lapic_effects(v, &fx);
}

void vapic_eoi_induced(struct vcpu *v, uint8_t vector)
{
        /* The CPU already retired the vector from the page's ISR. */
        vcpu_lapic(v);
        ioapic_eoi(&v->vm->ioapic, vector);
}
