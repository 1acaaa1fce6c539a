#include "vmx/vmx_caps.h"
#include "vmx/vmx_defs.h"

struct vmx_ctl_caps vmx_ctl_caps_from_msr(uint64_t msr_value)
{
        struct vmx_ctl_caps c = {
                .must_be_1 = (uint32_t)msr_value,
                .may_be_1 = (uint32_t)(msr_value >> 32),
        };
        return c;
}

uint32_t vmx_ctl_adjust(struct vmx_ctl_caps caps, uint32_t want, uint32_t *refused)
{
        if (refused)
                *refused = want & ~caps.may_be_1;
        return (want & caps.may_be_1) | caps.must_be_1;
}

void vmx_caps_probe(struct vmx_caps *caps, msr_read_fn rdmsr)
{
        caps->basic = rdmsr(MSR_IA32_VMX_BASIC);
        bool true_ctls = (caps->basic & VMX_BASIC_TRUE_CTLS) != 0;

        caps->pin = vmx_ctl_caps_from_msr(
            rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED : MSR_IA32_VMX_PINBASED_CTLS));
        caps->proc = vmx_ctl_caps_from_msr(
            rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED : MSR_IA32_VMX_PROCBASED_CTLS));
        caps->exit = vmx_ctl_caps_from_msr(
            rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT : MSR_IA32_VMX_EXIT_CTLS));
        caps->entry = vmx_ctl_caps_from_msr(
            rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY : MSR_IA32_VMX_ENTRY_CTLS));
        caps->misc = rdmsr(MSR_IA32_VMX_MISC);
        caps->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
        caps->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
        caps->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
        caps->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);

        /* The secondary controls MSR and the EPT/VPID MSR exist only where
         * the "activate secondary controls" bit may be 1 (SDM A.3.3, A.10). */
        caps->proc2 = (struct vmx_ctl_caps){ 0, 0 };
        caps->ept_vpid = 0;
        if (caps->proc.may_be_1 & PROC_SECONDARY) {
                caps->proc2 = vmx_ctl_caps_from_msr(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2));
                if (caps->proc2.may_be_1 & (PROC2_EPT | PROC2_VPID))
                        caps->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
        }
}

enum cap_source { SRC_PIN, SRC_PROC, SRC_PROC2, SRC_EXIT, SRC_ENTRY, SRC_EPT_VPID };

struct required_feature {
        enum cap_source src;
        uint64_t bits; /* all of these are needed */
        const char *what;
};

/* In the order a reader would diagnose them: a CPU lacking secondary
 * controls is reported as such, not as lacking EPT. */
static const struct required_feature required[] = {
        { SRC_PROC, PROC_SECONDARY,
          "EPT, VPID and unrestricted guest (it has no secondary processor-based controls)" },
        { SRC_PROC2, PROC2_EPT, "EPT (extended page tables)" },
        { SRC_PROC2, PROC2_VPID, "VPID (virtual-processor identifiers)" },
        { SRC_PROC2, PROC2_UNRESTRICTED_GUEST, "unrestricted guest" },
        { SRC_PIN, PIN_PREEMPT_TIMER, "the VMX preemption timer" },
        { SRC_PIN, PIN_EXTINT_EXITING | PIN_NMI_EXITING, "external-interrupt and NMI exiting" },
        { SRC_PROC, PROC_MSR_BITMAPS, "MSR bitmaps" },
        { SRC_PROC, PROC_IO_BITMAPS, "I/O bitmaps" },
        { SRC_PROC, PROC_HLT_EXITING, "HLT exiting" },
        { SRC_PROC, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING, "CR8 load/store exiting" },
        { SRC_EXIT, EXIT_HOST_ADDR_SPACE_SIZE,
          "64-bit host (host address-space size exit control)" },
        { SRC_EXIT, EXIT_SAVE_EFER | EXIT_LOAD_EFER, "saving and loading IA32_EFER on VM exit" },
        { SRC_EXIT, EXIT_SAVE_PAT | EXIT_LOAD_PAT, "saving and loading IA32_PAT on VM exit" },
        { SRC_ENTRY, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
          "loading IA32_EFER and IA32_PAT on VM entry" },
        { SRC_ENTRY, ENTRY_IA32E_MODE, "64-bit guests (IA-32e mode guest entry control)" },
        { SRC_EPT_VPID, EPT_CAP_WALK4, "EPT with a 4-level page walk" },
        { SRC_EPT_VPID, EPT_CAP_WB, "write-back EPT paging structures" },
        { SRC_EPT_VPID, EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE, "INVEPT (single-context)" },
        { SRC_EPT_VPID, VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE, "INVVPID (single-context)" },
};

static uint64_t allowed_bits(const struct vmx_caps *caps, enum cap_source src)
{
        switch (src) {
        case SRC_PIN:
                return caps->pin.may_be_1;
        case SRC_PROC:
                return caps->proc.may_be_1;
        case SRC_PROC2:
                return caps->proc2.may_be_1;
        case SRC_EXIT:
                return caps->exit.may_be_1;
        case SRC_ENTRY:
                return caps->entry.may_be_1;
        case SRC_EPT_VPID:
                return caps->ept_vpid;
        }
        return 0;
}

const char *vmx_caps_missing(const struct vmx_caps *caps)
{
        for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
                if ((allowed_bits(caps, required[i].src) & required[i].bits) != required[i].bits)
                        return required[i].what;
        }
        return NULL;
}
