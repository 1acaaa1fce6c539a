#include "core/msr.h"
#include "core/vapic.h"
#include "core/exit.h"
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
/* MISC_ENABLE as vtvisor's vCPUs start (SDM Vol. 4 Table 2-2): fast
 * strings on, branch trace and PEBS unavailable.  Software may change fast
 * strings, automatic thermal control, Enhanced SpeedStep, MONITOR FSM,
 * "limit CPUID maxval" (which takes effect: CPUID leaf 0 reports at most 2)
 * and xTPR disable; the read-only bits (performance monitoring, BTS, PEBS,
 * XD disable) ignore writes; setting any other bit is #GP. */
#define MISC_ENABLE_VALUE (BIT(0) | BIT(11) | BIT(12))
#define MISC_ENABLE_RW    (BIT(0) | BIT(3) | BIT(16) | BIT(18) | BIT(22) | BIT(23))
#define MISC_ENABLE_RO    (BIT(7) | BIT(11) | BIT(12) | BIT(34))
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

/* Names of MSRs guests commonly probe that vtvisor does not offer, and of
 * those it offers but refuses some values of. */
static const struct {
        uint32_t msr;
        const char *name;
} msr_names[] = {
        { 0x010, "IA32_TSC" },
        { 0x01b, "IA32_APIC_BASE" },
        { 0x033, "MSR_TEST_CTRL" },
        { 0x034, "MSR_SMI_COUNT" },
        { 0x048, "IA32_SPEC_CTRL" },
        { 0x049, "IA32_PRED_CMD" },
        { 0x0ce, "MSR_PLATFORM_INFO" },
        { 0x0e1, "IA32_UMWAIT_CONTROL" },
        { 0x0e2, "MSR_PKG_CST_CONFIG_CONTROL" },
        { 0x0e7, "IA32_MPERF" },
        { 0x0e8, "IA32_APERF" },
        { 0x0fe, "IA32_MTRRCAP" },
        { 0x10a, "IA32_ARCH_CAPABILITIES" },
        { 0x10b, "IA32_FLUSH_CMD" },
        { 0x122, "IA32_TSX_CTRL" },
        { 0x179, "IA32_MCG_CAP" },
        { 0x17a, "IA32_MCG_STATUS" },
        { 0x1a0, "IA32_MISC_ENABLE" },
        { 0x198, "IA32_PERF_STATUS" },
        { 0x199, "IA32_PERF_CTL" },
        { 0x19a, "IA32_CLOCK_MODULATION" },
        { 0x19b, "IA32_THERM_INTERRUPT" },
        { 0x19c, "IA32_THERM_STATUS" },
        { 0x1a2, "MSR_TEMPERATURE_TARGET" },
        { 0x1b0, "IA32_ENERGY_PERF_BIAS" },
        { 0x1b1, "IA32_PACKAGE_THERM_STATUS" },
        { 0x1d9, "IA32_DEBUGCTL" },
        { 0x277, "IA32_PAT" },
        { 0x2ff, "IA32_MTRR_DEF_TYPE" },
        { 0x345, "IA32_PERF_CAPABILITIES" },
        { 0x3f1, "MSR_PEBS_ENABLE" },
        { 0x480, "IA32_VMX_BASIC" },
        { 0x606, "MSR_RAPL_POWER_UNIT" },
        { 0x6e0, "IA32_TSC_DEADLINE" },
        { 0x611, "MSR_PKG_ENERGY_STATUS" },
        { 0x770, "IA32_PM_ENABLE" },
        { 0xda0, "IA32_XSS" },
        { 0xc0000080, "IA32_EFER" },
        { 0xc0000103, "IA32_TSC_AUX" },
};

static const char *msr_name(uint32_t msr)
{
        for (size_t i = 0; i < ARRAY_SIZE(msr_names); i++) {
                if (msr_names[i].msr == msr)
                        return msr_names[i].name;
        }
        if (msr >= 0x480 && msr <= 0x493)
                return "an IA32_VMX_* capability MSR";
        return "unnamed";
}

/* Why an access was refused: the MSR is not offered (what a CPU without it
 * does), or it is and the value is one the CPU refuses too. */
#define NOT_OFFERED   "not offered: #GP, as on a CPU without it"
#define VALUE_REFUSED "a value the CPU refuses: #GP"
#define LAPIC_REFUSED                                                                              \
        "refused by the local APIC (x2APIC mode off, a read-only register or a reserved "          \
        "value): #GP"

/* A refused access gets #GP.  Each MSR is logged once per VM (the first
 * MSR_LOG_LIMIT distinct ones), so that a guest probing for features does
 * not read as an error. */
static void note_refused(struct vcpu *v, const char *op, uint32_t msr, uint64_t val,
                         const char *why)
{
        static uint32_t logged[MAX_VMS][MSR_LOG_LIMIT];
        static unsigned nlogged[MAX_VMS]; /* 0 .. MSR_LOG_LIMIT */
        static bool more_noted[MAX_VMS];
        unsigned id = (unsigned)v->vm->id % MAX_VMS;
        unsigned n = nlogged[id];
        for (unsigned i = 0; i < n; i++) {
                if (logged[id][i] == msr)
                        return;
        }
        if (n >= MSR_LOG_LIMIT) {
                if (!more_noted[id]) {
                        more_noted[id] = true;
                        log_line("vm %s: more MSRs not offered: not logged", v->vm->cfg.name);
                }
                return;
        }
        logged[id][n] = msr;
        nlogged[id] = n + 1;
        log_line("vm %s: %s of MSR 0x%x (%s, value 0x%llx): %s", v->vm->cfg.name, op, msr,
                 msr_name(msr), (unsigned long long)val, why);
}

/* Moves the guest's TSC; the APIC timer's next event moves with it. */
static void set_tsc_offset(struct vcpu *v, uint64_t offset)
{
        v->tsc_offset = offset;
        vmcs_write64(TSC_OFFSET, offset);
        v->irq_dirty = true;
}

/* Out of line: the address-taken result would give msr_read a stack canary. */
static __attribute__((noinline)) struct msr_value lapic_read(struct vcpu *v, uint32_t msr)
{
        struct msr_value r = { 0, true };
        if (!lapic_msr_read(vcpu_lapic(v), msr, &r.val, vcpu_tsc(v))) {
                note_refused(v, "read", msr, 0, LAPIC_REFUSED);
                r.ok = false;
        }
        return r;
}

struct msr_value msr_read_local(struct vcpu *v, uint32_t msr)
{
        struct msr_value r = { 0, true };
        switch (msr) {
        case MSR_IA32_TSC:
                r.val = vcpu_tsc(v);
                return r;
        case MSR_IA32_FEATURE_CONTROL:
                /* Locked with VMX off: the guest sees a CPU without VT-x. */
                r.val = FEATURE_CONTROL_LOCK;
                return r;
        case MSR_IA32_PAT:
                r.val = vmcs_read64(GUEST_IA32_PAT);
                return r;
        case MSR_IA32_EFER:
                r.val = vmcs_read64(GUEST_IA32_EFER);
                return r;
        case MSR_IA32_TSC_AUX:
                if (vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & PROC2_RDTSCP) {
                        r.val = v->tsc_aux;
                        return r;
                }
                break;
        case MSR_IA32_MISC_ENABLE:
                r.val = MISC_ENABLE_VALUE ^ v->misc_enable_flip;
                return r;
        case MSR_IA32_TSC_ADJUST:
                r.val = v->tsc_adjust;
                return r;
        case MSR_IA32_PLATFORM_ID:
        case MSR_IA32_BIOS_SIGN_ID: /* microcode revision 0: none loaded */
                r.val = 0;
                return r;
        case MSR_IA32_DEBUGCTL:
                r.val = vmcs_read64(GUEST_IA32_DEBUGCTL);
                return r;
        default:
                break;
        }
        r.ok = false;
        return r;
}

struct msr_value msr_read(struct vcpu *v, uint32_t msr)
{
        struct msr_value r = msr_read_local(v, msr);
        if (r.ok)
                return r;
        if (lapic_owns_msr(msr))
                return lapic_read(v, msr);
        note_refused(v, "read", msr, 0, NOT_OFFERED);
        return r;
}

/* IA32_TSC_DEADLINE while the virtual-APIC page is live (core/vapic.h):
 * the write touches only the timer, which the page does not hold, and can
 * only add the timer's vector to IRR, which goes straight into the page
 * (vapic_post).  So the guest re-enters on the fast path, with the
 * preemption timer moved up if the new deadline comes before it. */
static bool tsc_deadline_live(struct vcpu *v, uint64_t val)
{
        struct lapic *a = &v->lapic;
        uint32_t fired = a->timer_irqs;
        if (!lapic_msr_write(a, MSR_LAPIC_TSC_DEADLINE, val, vcpu_tsc(v), NULL)) {
                note_refused(v, "write", MSR_LAPIC_TSC_DEADLINE, val, VALUE_REFUSED);
                return false;
        }
        vapic_post_timer(v, fired);
        uint64_t due = lapic_timer_deadline(a); /* guest TSC */
        if (due != UINT64_MAX && due - v->tsc_offset < v->event_tsc)
                v->irq_dirty = true; /* arm_preemption_timer, on the slow path */
        return true;
}

bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
        if (msr == MSR_LAPIC_TSC_DEADLINE && v->vapic_live && lapic_timer_vector(&v->lapic) >= 16)
                return tsc_deadline_live(v, val);
        if (lapic_owns_msr(msr)) {
                struct lapic_effects fx;
                if (lapic_msr_write(vcpu_lapic(v), msr, val, vcpu_tsc(v), &fx)) {
                        v->irq_dirty = true;
                        if (msr == MSR_LAPIC_APIC_BASE)
                                vapic_apic_base_changed(v);
                        irq_lapic_effects(v, &fx);
                        return true;
                }
                note_refused(v, "write", msr, val, LAPIC_REFUSED);
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
                if (!(vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & PROC2_RDTSCP)) {
                        note_refused(v, "write", msr, val, NOT_OFFERED);
                        return false;
                }
                if (val >> 32)
                        break;
                v->tsc_aux = val;
                wrmsr(MSR_IA32_TSC_AUX, val);
                return true;
        case MSR_IA32_TSC_ADJUST:
                /* Moves the guest's TSC by the change (SDM 17.17.3). */
                set_tsc_offset(v, v->tsc_offset + (val - v->tsc_adjust));
                v->tsc_adjust = val;
                return true;
        case MSR_IA32_MISC_ENABLE: {
                if (val & ~(uint64_t)(MISC_ENABLE_RW | MISC_ENABLE_RO))
                        break;
                uint64_t now = (val & MISC_ENABLE_RW) | (MISC_ENABLE_VALUE & ~MISC_ENABLE_RW);
                v->misc_enable_flip = now ^ MISC_ENABLE_VALUE;
                exit_cpuid_limits(v);
                return true;
        }
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
                note_refused(v, "write", msr, val, NOT_OFFERED);
                return false;
        }
        /* An MSR vtvisor offers, with a value it refuses. */
        note_refused(v, "write", msr, val, VALUE_REFUSED);
        return false;
}
