#include "core/msr.h"
#include "arch/x86/cpu.h"
#include "core/irq.h"
#include "lib/log.h"
#include "core/vcpu.h"
#include "lib/string.h"
#include "vmx/vmcs.h"

#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_LOG_LIMIT           16
#define MSR_IA32_TSC_ADJUST     0x03b
#define MSR_IA32_PLATFORM_ID    0x017
#define MSR_IA32_BIOS_UPDT_TRIG 0x079
#define MSR_IA32_BIOS_SIGN_ID   0x08b
#define MSR_IA32_DEBUGCTL       0x1d9
#define MSR_IA32_MISC_ENABLE    0x1a0
/* MISC_ENABLE as vtvisor's vCPUs show it (SDM Vol. 4 Table 2-2): fast
 * strings on, branch trace and PEBS unavailable.  Nothing else exists. */
#define MISC_ENABLE_VALUE (BIT(0) | BIT(11) | BIT(12))
#define DEBUGCTL_BTF      BIT(1)

/* MSRs the guest reads and writes directly: VM entry/exit switch the
 * SYSENTER and segment-base MSRs; vcpu_load()/vcpu_put() switch the
 * SYSCALL ones and KERNEL_GS_BASE.  The CPU checks the values itself. */
static const uint32_t passthrough[] = {
        MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_IA32_FS_BASE,
        MSR_IA32_GS_BASE,     MSR_IA32_KERNEL_GS,    MSR_IA32_STAR,         MSR_IA32_LSTAR,
        MSR_IA32_CSTAR,       MSR_IA32_FMASK,
};

static void allow(uint8_t *bitmap, uint32_t msr)
{
        unsigned base = msr >= 0xc0000000 ? 1024 : 0;
        uint32_t bit = msr & 0x1fff;
        bitmap[base + bit / 8] &= (uint8_t) ~(1u << (bit % 8));        /* read */
        bitmap[2048 + base + bit / 8] &= (uint8_t) ~(1u << (bit % 8)); /* write */
}

void msr_bitmap_init(uint8_t *bitmap)
{
        vtv_memset(bitmap, 0xff, PAGE_SIZE);
        for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++)
                allow(bitmap, passthrough[i]);
}

static bool pat_valid(uint64_t pat)
{
        /* Types 2 and 3 and 8-255 are reserved (SDM 11.12.2). */
        for (unsigned i = 0; i < 8; i++) {
                uint8_t t = (uint8_t)(pat >> (8 * i));
                if (t == 2 || t == 3 || t > 7)
                        return false;
        }
        return true;
}

static void note_refused(struct vcpu *v, const char *op, uint32_t msr, uint64_t val)
{
        static unsigned logged[MAX_VMS];
        unsigned *n = &logged[v->vm->id % MAX_VMS];
        if (*n < MSR_LOG_LIMIT) {
                (*n)++;
                log_line("vm %s: %s of MSR 0x%x (value 0x%llx) refused: #GP injected%s",
                         v->vm->cfg.name, op, msr, (unsigned long long)val,
                         *n == MSR_LOG_LIMIT ? " (further refusals not logged)" : "");
        }
}

/* Moves the guest's TSC; the APIC timer's next event moves with it. */
static void set_tsc_offset(struct vcpu *v, uint64_t offset)
{
        v->tsc_offset = offset;
        vmcs_write64(TSC_OFFSET, offset);
        v->irq_dirty = true;
}

bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
        if (lapic_owns_msr(msr)) {
                if (lapic_msr_read(&v->lapic, msr, val, vcpu_tsc(v)))
                        return true;
                note_refused(v, "read", msr, 0);
                return false;
        }
        switch (msr) {
        case MSR_IA32_TSC:
                *val = vcpu_tsc(v);
                return true;
        case MSR_IA32_FEATURE_CONTROL:
                /* Locked with VMX off: the guest sees a CPU without VT-x. */
                *val = FEATURE_CONTROL_LOCK;
                return true;
        case MSR_IA32_PAT:
                *val = vmcs_read64(GUEST_IA32_PAT);
                return true;
        case MSR_IA32_EFER:
                *val = vmcs_read64(GUEST_IA32_EFER);
                return true;
        case MSR_IA32_TSC_AUX:
                if (vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & PROC2_RDTSCP) {
                        *val = v->tsc_aux;
                        return true;
                }
                break;
        case MSR_IA32_MISC_ENABLE:
                *val = MISC_ENABLE_VALUE;
                return true;
        case MSR_IA32_TSC_ADJUST:
                *val = v->tsc_adjust;
                return true;
        case MSR_IA32_PLATFORM_ID:
        case MSR_IA32_BIOS_SIGN_ID: /* microcode revision 0: none loaded */
                *val = 0;
                return true;
        case MSR_IA32_DEBUGCTL:
                *val = vmcs_read64(GUEST_IA32_DEBUGCTL);
                return true;
        default:
                break;
        }
        note_refused(v, "read", msr, 0);
        return false;
}

bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
        if (lapic_owns_msr(msr)) {
                struct lapic_effects fx;
                if (lapic_msr_write(&v->lapic, msr, val, vcpu_tsc(v), &fx)) {
                        v->irq_dirty = true;
                        irq_lapic_effects(v, &fx);
                        return true;
                }
                note_refused(v, "write", msr, val);
                return false;
        }
        switch (msr) {
        case MSR_IA32_TSC: {
                /* Writing the TSC moves IA32_TSC_ADJUST along (SDM 17.17.3). */
                uint64_t host = rdtsc();
                v->tsc_adjust += val - (host + v->tsc_offset);
                set_tsc_offset(v, val - host);
                return true;
        }
        case MSR_IA32_PAT:
                if (!pat_valid(val))
                        break;
                vmcs_write64(GUEST_IA32_PAT, val);
                return true;
        case MSR_IA32_EFER: {
                uint64_t cur = vmcs_read64(GUEST_IA32_EFER);
                if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
                        break;
                /* LME may not change while paging is on (SDM Vol. 3A 9.8.5);
                 * LMA is read-only and reflects the current mode. */
                if ((vcpu_guest_cr0(v) & CR0_PG) && ((val ^ cur) & EFER_LME))
                        break;
                vmcs_write64(GUEST_IA32_EFER, (val & ~EFER_LMA) | (cur & EFER_LMA));
                return true;
        }
        case MSR_IA32_TSC_AUX:
                if ((vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & PROC2_RDTSCP) && !(val >> 32)) {
                        v->tsc_aux = val;
                        wrmsr(MSR_IA32_TSC_AUX, val);
                        return true;
                }
                break;
        case MSR_IA32_TSC_ADJUST:
                /* Moves the guest's TSC by the change (SDM 17.17.3). */
                set_tsc_offset(v, v->tsc_offset + (val - v->tsc_adjust));
                v->tsc_adjust = val;
                return true;
        case MSR_IA32_MISC_ENABLE:
                /* Writing back what reads is fine; nothing can be changed. */
                if (val == MISC_ENABLE_VALUE)
                        return true;
                break;
        case MSR_IA32_BIOS_SIGN_ID:   /* cleared before CPUID leaf 1 by the */
        case MSR_IA32_BIOS_UPDT_TRIG: /* microcode driver: no update is loaded */
                return true;
        case MSR_IA32_DEBUGCTL:
                /* Single-step on branches only; LBR and BTS are not offered. */
                if (val & ~DEBUGCTL_BTF)
                        break;
                vmcs_write64(GUEST_IA32_DEBUGCTL, val);
                return true;
        default:
                break;
        }
        note_refused(v, "write", msr, val);
        return false;
}
