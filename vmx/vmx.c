#include "vmx/vmx.h"
#include "arch/x86/cpu.h"
#include "arch/x86/mm.h"
#include "arch/x86/percpu.h"
#include "lib/string.h"
#include "lib/log.h"

struct vmx_caps vmx_caps;

#define CPUID1_ECX_VMX       BIT(5)
#define VMX_BASIC_MEMTYPE(b) (((b) >> 50) & 0xf)
#define VMX_BASIC_SIZE(b)    (((b) >> 32) & 0x1fff)
#define VMX_BASIC_ADDR32     BIT(48)
#define MEMTYPE_WB           6

#define FIX_HINT                                                                                   \
        "use a CPU with it (Intel Westmere or later), or in Bochs a model such as "                \
        "corei7_haswell_4770"

static uint64_t read_msr(uint32_t msr)
{
        return rdmsr(msr);
}

static void check_feature_control(void)
{
        uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
        if (fc & FEATURE_CONTROL_LOCK) {
                if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE))
                        refuse("VT-x is disabled and locked off by the firmware "
                               "(IA32_FEATURE_CONTROL=0x%llx). Enable 'Intel Virtualization "
                               "Technology' in the BIOS/UEFI setup and boot again",
                               (unsigned long long)fc);
                return;
        }
        /* Unlocked: enable VMX outside SMX and lock, as firmware normally does. */
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMX_OUTSIDE | FEATURE_CONTROL_LOCK);
}

/* CR0 and CR4 in VMX operation must respect the fixed bits (SDM A.7, A.8). */
static void apply_fixed_bits(void)
{
        uint64_t cr0 = (read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1;
        uint64_t cr4 = (read_cr4() | CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
        if (!(cr4 & CR4_VMXE))
                refuse("CR4.VMXE may not be set on this CPU (IA32_VMX_CR4_FIXED1=0x%llx)",
                       (unsigned long long)vmx_caps.cr4_fixed1);
        write_cr0(cr0);
        write_cr4(cr4);
}

/* VMXON on this CPU with a region of its own.  Returns NULL or why not. */
static const char *enter_vmx(void)
{
        hpa_t region = mm_alloc_pages(1, PAGE_SIZE);
        if (!region)
                return "no memory for the VMXON region";
        *(uint32_t *)hpa_to_hva(region) = VMX_BASIC_REVISION(vmx_caps.basic);
        enum vmx_result r = vmxon(region);
        if (r != VMX_OK) {
                mm_free_pages(region, 1);
                return r == VMX_FAIL_INVALID
                           ? "VMXON failed (VMfailInvalid) although every capability check passed"
                           : "VMXON failed (VMfailValid) although every capability check passed";
        }
        this_cpu()->vmxon = region;
        return NULL;
}

const char *vmx_init_ap(void)
{
        if (!(cpuid(1, 0).ecx & CPUID1_ECX_VMX))
                return "it has no VT-x (CPUID.1:ECX.VMX is 0)";
        uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
        if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE))
                return "its firmware locked VT-x off (IA32_FEATURE_CONTROL)";
        if (!(fc & FEATURE_CONTROL_LOCK))
                wrmsr(MSR_IA32_FEATURE_CONTROL,
                      fc | FEATURE_CONTROL_VMX_OUTSIDE | FEATURE_CONTROL_LOCK);
        /* One VMCS layout and one set of controls serve every CPU, so a CPU
         * whose VT-x differs cannot run vtvisor's vCPUs. */
        struct vmx_caps mine;
        vtv_memset(&mine, 0, sizeof(mine)); /* padding too: compared below */
        vmx_caps_probe(&mine, read_msr);
        if (vtv_memcmp(&mine, &vmx_caps, sizeof(mine)) != 0)
                return "its VT-x capabilities differ from the boot CPU's";
        uint64_t cr0 = (read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1;
        uint64_t cr4 = (read_cr4() | CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
        write_cr0(cr0);
        write_cr4(cr4);
        return enter_vmx();
}

void vmx_init(void)
{
        if (!(cpuid(1, 0).ecx & CPUID1_ECX_VMX))
                refuse("this CPU has no VT-x (CPUID.1:ECX.VMX is 0); vtvisor needs Intel VT-x: %s",
                       FIX_HINT);
        check_feature_control();
        vmx_caps_probe(&vmx_caps, read_msr);

        const char *missing = vmx_caps_missing(&vmx_caps);
        if (missing)
                refuse("this CPU's VT-x lacks %s, which vtvisor requires; %s", missing, FIX_HINT);
        if (VMX_BASIC_MEMTYPE(vmx_caps.basic) != MEMTYPE_WB)
                refuse("the VMCS must be write-back memory but IA32_VMX_BASIC reports type %llu",
                       (unsigned long long)VMX_BASIC_MEMTYPE(vmx_caps.basic));
        if (VMX_BASIC_SIZE(vmx_caps.basic) > PAGE_SIZE)
                refuse("the VMCS region size %llu exceeds 4 KiB",
                       (unsigned long long)VMX_BASIC_SIZE(vmx_caps.basic));

        apply_fixed_bits();
        const char *err = enter_vmx();
        if (err)
                panic("%s", err);

        log_line("VMX on: revision 0x%x, EPT+VPID+unrestricted guest, preemption timer 2^%u TSC "
                 "ticks/tick, true controls %s",
                 VMX_BASIC_REVISION(vmx_caps.basic), vmx_caps_preempt_shift(&vmx_caps),
                 (vmx_caps.basic & VMX_BASIC_TRUE_CTLS) ? "yes" : "no");
        uint32_t p2 = vmx_caps.proc2.may_be_1;
        log_line("VMX APIC virtualization: TPR shadow %s, APIC accesses %s, x2APIC mode %s, "
                 "register virtualization %s, virtual-interrupt delivery %s, posted interrupts %s",
                 (vmx_caps.proc.may_be_1 & PROC_TPR_SHADOW) ? "yes" : "no",
                 (p2 & PROC2_VIRT_APIC_ACCESS) ? "yes" : "no",
                 (p2 & PROC2_X2APIC_MODE) ? "yes" : "no", (p2 & PROC2_APIC_REG_VIRT) ? "yes" : "no",
                 (p2 & PROC2_VIRT_INTR_DELIVERY) ? "yes" : "no",
                 (vmx_caps.pin.may_be_1 & PIN_POSTED_INTR) ? "yes" : "no");
}
