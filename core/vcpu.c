#include "core/vcpu.h"
#include "core/vapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/fpu.h"
#include "arch/x86/mm.h"
#include "arch/x86/percpu.h"
#include "core/console.h"
#include "core/exit.h"
#include "emulate/guest_walk.h"
#include "core/irq.h"
#include "arch/x86/tsc.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"

/* vmx_entry.S: enters the guest; after an exit calls fast(regs), which
 * re-enters at once (RUN_RESUME) or makes vmx_run return. */
#define RUN_EXIT         0 /* an exit for vcpu_run to handle */
#define RUN_FAIL_INVALID 1 /* VMfailInvalid */
#define RUN_FAIL_VALID   2 /* VMfailValid: VM_INSTRUCTION_ERROR says why */
#define RUN_EXIT_DONE    3 /* an exit the fast path handled; the slow path is due */
#define RUN_RESUME       1 /* (fast path's answer) handled: re-enter now */
int vmx_run(struct guest_regs *regs, int launched, int (*fast)(struct guest_regs *regs));
void vmx_exit_entry(void);

/* Guest-owned CR0 bits: with unrestricted guest PE and PG are the guest's
 * (SDM 26.3.1.1); every other bit the VMX fixed MSRs constrain is shadowed. */
static uint64_t cr0_host_owned(void)
{
        return ((vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1) & 0xffffffffULL) & ~(CR0_PE | CR0_PG);
}

/* The CR4 bits a guest may set without an exit: the features whose state
 * vtvisor switches or that need none.  Everything else is host-owned, so a
 * MOV to CR4 that would set it exits and gets #GP: VMXE and SMXE, bits
 * this CPU reserves, and features whose state is not switched between VMs
 * or that vtvisor's emulation does not follow (CPUID hides them too,
 * exit.c): LA57 (5-level paging), PKE and PKS (protection keys: PKRU is
 * not in the switched XSAVE set), CET, Key Locker, user interrupts. */
#define CR4_GUEST_OWNED                                                                            \
        (BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | CR4_PAE | BIT(6) | CR4_PGE | BIT(8) |        \
         CR4_OSFXSR | CR4_OSXMMEXCPT | BIT(11) | BIT(16) | BIT(17) | CR4_OSXSAVE | BIT(20) |       \
         BIT(21))

static uint64_t cr4_host_owned(void)
{
        return ~(uint64_t)CR4_GUEST_OWNED | vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1 | CR4_VMXE |
               CR4_SMXE;
}

static uint64_t cr0_real(uint64_t guest_view)
{
        return (guest_view | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;
}

static uint64_t cr4_real(uint64_t guest_view)
{
        return (guest_view | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

static uint32_t adjust_or_die(struct vmx_ctl_caps caps, uint32_t want, const char *what)
{
        uint32_t refused;
        uint32_t v = vmx_ctl_adjust(caps, want, &refused);
        /* vmx_init() refused CPUs lacking required controls, so this is a bug. */
        if (refused)
                panic("%s controls 0x%x refused by the CPU", what, refused);
        return v;
}

static void write_seg(enum vmcs_field sel, const struct seg_state *s)
{
        /* Selector, limit, AR and base fields are laid out at fixed strides
         * from the selector encoding (SDM B.1-B.4). */
        unsigned i = (sel - GUEST_ES_SELECTOR) / 2;
        vmcs_write_checked(sel, s->sel, __builtin_return_address(0));
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_LIMIT + 2 * i), s->limit, NULL);
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_AR_BYTES + 2 * i), s->ar, NULL);
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_BASE + 2 * i), s->base, NULL);
}

static void setup_controls(struct vcpu *v)
{
        struct vm *vm = v->vm;
        /* Virtual NMIs where offered: the guest's NMI blocking is its own
         * (its VMCS's), apart from the physical CPU's, and NMI-window
         * exiting delivers an NMI that waited for the guest's IRET. */
        uint32_t pin = PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_PREEMPT_TIMER |
                       (PIN_VIRTUAL_NMIS & vmx_caps.pin.may_be_1);
        /* With the TPR shadow, MOV to and from CR8 use the virtual-APIC
         * page's TPR without an exit (SDM 29.1.1, 29.3); without it, they
         * exit. */
        uint32_t cr8 = v->vapic ? PROC_TPR_SHADOW : PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
        uint32_t proc = PROC_HLT_EXITING | cr8 | PROC_IO_BITMAPS | PROC_MSR_BITMAPS |
                        PROC_SECONDARY | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |
                        PROC_RDPMC_EXITING | PROC_TSC_OFFSETTING;
        uint32_t proc2 = PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED_GUEST | PROC2_WBINVD_EXITING;
        /* Without these two the instructions raise #UD in the guest; CPUID
         * hides them accordingly (exit.c). */
        proc2 |= (PROC2_RDTSCP | PROC2_INVPCID) & vmx_caps.proc2.may_be_1;
        uint32_t exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_EFER |
                        EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG;
        /* Lets the exit fast path leave the timer alone (arm_preemption_timer). */
        exit |= EXIT_SAVE_PREEMPT_TIMER & vmx_caps.exit.may_be_1;
        uint32_t entry = ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG;

        vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, adjust_or_die(vmx_caps.pin, pin, "pin-based"));
        vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
                     adjust_or_die(vmx_caps.proc, proc, "processor-based"));
        vmcs_write32(SECONDARY_VM_EXEC_CONTROL,
                     adjust_or_die(vmx_caps.proc2, proc2, "secondary processor-based"));
        vmcs_write32(VM_EXIT_CONTROLS, adjust_or_die(vmx_caps.exit, exit, "VM-exit"));
        vmcs_write32(VM_ENTRY_CONTROLS, adjust_or_die(vmx_caps.entry, entry, "VM-entry"));

        vmcs_write32(EXCEPTION_BITMAP, 0);
        vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
        vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
        vmcs_write32(CR3_TARGET_COUNT, 0);
        vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
        vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
        vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
        vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
        vmcs_write16(VPID_FIELD, v->vpid);
        vmcs_write64(EPT_POINTER, vm->ept.eptp);
        vmcs_write64(IO_BITMAP_A, vm->io_bitmap_a);
        vmcs_write64(IO_BITMAP_B, vm->io_bitmap_b);
        vmcs_write64(MSR_BITMAP, vm->msr_bitmap);
        vmcs_write64(TSC_OFFSET, v->tsc_offset);
        if (v->vapic) {
                vmcs_write64(VIRTUAL_APIC_PAGE_ADDR, hva_to_hpa(v->vapic));
                vmcs_write32(TPR_THRESHOLD, 0);
        }
        vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
        vmcs_writenat(CR0_GUEST_HOST_MASK, cr0_host_owned());
        vmcs_writenat(CR4_GUEST_HOST_MASK, cr4_host_owned());
}

static void setup_host_state(void)
{
        struct desc_ptr gdtr = sgdt(), idtr = sidt();
        vmcs_writenat(HOST_CR0, read_cr0());
        vmcs_writenat(HOST_CR3, read_cr3());
        vmcs_writenat(HOST_CR4, read_cr4());
        vmcs_write16(HOST_CS_SELECTOR, HOST_CS_SEL);
        vmcs_write16(HOST_SS_SELECTOR, HOST_DS_SEL);
        vmcs_write16(HOST_DS_SELECTOR, HOST_DS_SEL);
        vmcs_write16(HOST_ES_SELECTOR, HOST_DS_SEL);
        vmcs_write16(HOST_FS_SELECTOR, 0);
        vmcs_write16(HOST_GS_SELECTOR, 0);
        vmcs_write16(HOST_TR_SELECTOR, HOST_TR_SEL);
        vmcs_writenat(HOST_FS_BASE, 0);
        vmcs_writenat(HOST_IDTR_BASE, idtr.base);
        UNUSED(gdtr); /* per CPU: setup_host_cpu_state() */
        vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
        vmcs_writenat(HOST_IA32_SYSENTER_ESP, 0);
        vmcs_writenat(HOST_IA32_SYSENTER_EIP, 0);
        vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
        vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
        vmcs_writenat(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

/* The host state that differs between physical CPUs: written on the CPU
 * that runs the vCPU, the first time it loads it there. */
static void setup_host_cpu_state(void)
{
        struct pcpu *p = this_cpu();
        vmcs_writenat(HOST_GS_BASE, (uint64_t)(uintptr_t)p);
        vmcs_writenat(HOST_TR_BASE, (uint64_t)(uintptr_t)&p->tss);
        vmcs_writenat(HOST_GDTR_BASE, (uint64_t)(uintptr_t)p->gdt);
}

static void setup_guest_state(struct vcpu *v, const struct guest_state *s)
{
        write_seg(GUEST_CS_SELECTOR, &s->cs);
        write_seg(GUEST_SS_SELECTOR, &s->ss);
        write_seg(GUEST_DS_SELECTOR, &s->ds);
        write_seg(GUEST_ES_SELECTOR, &s->es);
        write_seg(GUEST_FS_SELECTOR, &s->fs);
        write_seg(GUEST_GS_SELECTOR, &s->gs);
        write_seg(GUEST_LDTR_SELECTOR, &s->ldtr);
        write_seg(GUEST_TR_SELECTOR, &s->tr);
        vmcs_writenat(GUEST_GDTR_BASE, s->gdtr_base);
        vmcs_write32(GUEST_GDTR_LIMIT, s->gdtr_limit);
        vmcs_writenat(GUEST_IDTR_BASE, s->idtr_base);
        vmcs_write32(GUEST_IDTR_LIMIT, s->idtr_limit);

        vmcs_writenat(GUEST_CR0, cr0_real(s->cr0));
        vmcs_writenat(CR0_READ_SHADOW, s->cr0);
        vmcs_writenat(GUEST_CR3, s->cr3);
        vmcs_writenat(GUEST_CR4, cr4_real(s->cr4));
        vmcs_writenat(CR4_READ_SHADOW, s->cr4);
        vmcs_write64(GUEST_IA32_EFER, s->efer);
        uint32_t entry = vmcs_read32(VM_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE;
        vmcs_write32(VM_ENTRY_CONTROLS, (s->efer & EFER_LMA) ? entry | ENTRY_IA32E_MODE : entry);
        vmcs_write64(GUEST_IA32_PAT, 0x0007040600070406ULL); /* the power-up PAT */
        vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
        vmcs_writenat(GUEST_DR7, 0x400);
        vmcs_writenat(GUEST_RSP, s->gpr[RSP]);
        vmcs_writenat(GUEST_RIP, s->rip);
        vmcs_writenat(GUEST_RFLAGS, s->rflags);
        vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS, 0);
        vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
        vmcs_write32(GUEST_ACTIVITY_STATE, 0);
        vmcs_write32(GUEST_SYSENTER_CS, 0);
        vmcs_writenat(GUEST_SYSENTER_ESP, 0);
        vmcs_writenat(GUEST_SYSENTER_EIP, 0);

        for (unsigned i = 0; i < NGPR; i++)
                v->regs.gpr[i] = s->gpr[i];
        v->regs.cr2 = 0;
}

/* The state an application processor starts in after INIT and a STARTUP IPI
 * with vector vec: real mode at CS:IP = (vec << 8):0 (SDM 8.4.4.1, Table
 * 9-1).  Before any SIPI (vec < 0) the same state at 0, never entered. */
static void ap_start_state(struct guest_state *s, int vec)
{
        guest_state_real_mode(s);
        if (vec > 0) {
                s->cs.sel = (uint16_t)(vec << 8);
                s->cs.base = (uint64_t)vec << 12;
        }
        s->rip = 0;
}

const char *vcpu_init(struct vcpu *v, struct vm *vm, unsigned index, const struct guest_state *s)
{
        struct guest_state ap;
        v->vm = vm;
        v->index = index;
        v->state = s ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
        if (!s) {
                ap_start_state(&ap, -1);
                s = &ap;
        }
        v->needs_flush = true;
        v->vmcs = mm_alloc_pages(1, PAGE_SIZE);
        size_t fpu_pages = ALIGN_UP(fpu_area_size(), PAGE_SIZE) / PAGE_SIZE;
        hpa_t fpu = mm_alloc_pages(fpu_pages, PAGE_SIZE);
        if (!v->vmcs || !fpu)
                return "out of memory for the VMCS";
        v->xsave_area = hpa_to_hva(fpu);
        fpu_area_init(v->xsave_area);
        if (vmx_caps.proc.may_be_1 & PROC_TPR_SHADOW) {
                hpa_t page = mm_alloc_pages(1, PAGE_SIZE);
                if (!page)
                        return "out of memory for the virtual-APIC page";
                v->vapic = hpa_to_hva(page);
        }
        v->xcr0 = 1; /* x87 only, as after RESET */
        exit_cpuid_limits(v);

        *(uint32_t *)hpa_to_hva(v->vmcs) = VMX_BASIC_REVISION(vmx_caps.basic);
        if (vmclear(v->vmcs) != VMX_OK || vmptrld(v->vmcs) != VMX_OK)
                panic("VMCLEAR/VMPTRLD of a fresh VMCS failed");
        setup_controls(v);
        vapic_setup_vcpu(v);
        setup_host_state();
        setup_guest_state(v, s);
        irq_init_vcpu(v, tsc_hz());

        if (vm->cfg.selftest == SELFTEST_BAD_GUEST_STATE)
                vmcs_write32(GUEST_ACTIVITY_STATE, 7); /* reserved: SDM 26.3.1.5 */
        else if (vm->cfg.selftest == SELFTEST_BAD_CONTROL)
                vmcs_write32(CR3_TARGET_COUNT, 255); /* beyond IA32_VMX_MISC[24:16] */
        else if (vm->cfg.selftest == SELFTEST_CR3_EXITS) {
                /* As on a CPU without true controls, where these two are
                 * fixed to 1: every MOV to and from CR3 exits (handle_cr). */
                uint32_t proc = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
                vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
                             proc | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING);
                if (index == 0)
                        log_line("vm %s: selftest: every MOV to and from CR3 exits", vm->cfg.name);
        }
        /* The vCPU's own CPU loads it (a VMCS is active on one CPU at a
         * time, SDM 24.1). */
        if (vmclear(v->vmcs) != VMX_OK)
                panic("VMCLEAR of a new VMCS failed");
        return NULL;
}

void vcpu_unload(struct vcpu *v)
{
        if (v->vmcs && vmclear(v->vmcs) != VMX_OK)
                panic("VMCLEAR of vm %s's VMCS failed", v->vm->cfg.name);
        v->launched = false;
}

void vcpu_destroy(struct vcpu *v)
{
        if (v->vmcs) {
                vmclear(v->vmcs);
                mm_free_pages(v->vmcs, 1);
                v->vmcs = 0;
        }
        if (v->vapic) {
                mm_free_pages(hva_to_hpa(v->vapic), 1);
                v->vapic = NULL;
        }
        if (v->xsave_area) {
                mm_free_pages(hva_to_hpa(v->xsave_area),
                              ALIGN_UP(fpu_area_size(), PAGE_SIZE) / PAGE_SIZE);
                v->xsave_area = NULL;
        }
}

/* Drops this CPU's cached translations of v's VM when they may be stale:
 * an earlier VM had this VPID or EPT root (SDM 28.4.3), or another vCPU
 * changed the EPT (vapic.c). */
static void flush_if_needed(struct vcpu *v)
{
        if (!v->needs_flush)
                return;
        if (invept(INVEPT_SINGLE_CONTEXT, v->vm->ept.eptp) != VMX_OK ||
            invvpid(INVVPID_SINGLE_CONTEXT, v->vpid) != VMX_OK)
                panic("INVEPT/INVVPID for vm %s failed", v->vm->cfg.name);
        v->needs_flush = false;
}

void vcpu_load(struct vcpu *v)
{
        if (vmptrld(v->vmcs) != VMX_OK)
                panic("VMPTRLD of vm %s's VMCS failed", v->vm->cfg.name);
        if (!v->host_state_cpu_valid) {
                setup_host_cpu_state();
                v->host_state_cpu_valid = true;
        }
        flush_if_needed(v);
        fpu_restore(v->xsave_area, v->xcr0);
        wrmsr(MSR_IA32_KERNEL_GS, v->kernel_gs_base);
        wrmsr(MSR_IA32_STAR, v->star);
        wrmsr(MSR_IA32_LSTAR, v->lstar);
        wrmsr(MSR_IA32_CSTAR, v->cstar);
        wrmsr(MSR_IA32_FMASK, v->fmask);
        if (vmx_caps.proc2.may_be_1 & PROC2_RDTSCP)
                wrmsr(MSR_IA32_TSC_AUX, v->tsc_aux);
        write_dr0(v->dr[0]);
        write_dr1(v->dr[1]);
        write_dr2(v->dr[2]);
        write_dr3(v->dr[3]);
        write_dr6(v->dr6);
}

void vcpu_put(struct vcpu *v)
{
        fpu_save(v->xsave_area);
        v->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS);
        v->star = rdmsr(MSR_IA32_STAR);
        v->lstar = rdmsr(MSR_IA32_LSTAR);
        v->cstar = rdmsr(MSR_IA32_CSTAR);
        v->fmask = rdmsr(MSR_IA32_FMASK);
        if (vmx_caps.proc2.may_be_1 & PROC2_RDTSCP)
                v->tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
        v->dr[0] = read_dr0();
        v->dr[1] = read_dr1();
        v->dr[2] = read_dr2();
        v->dr[3] = read_dr3();
        v->dr6 = read_dr6();
}

uint64_t vcpu_gpr(struct vcpu *v, unsigned index)
{
        if (index == RSP)
                return vmcs_readnat(GUEST_RSP);
        return v->regs.gpr[index & 15];
}

void vcpu_set_gpr(struct vcpu *v, unsigned index, uint64_t value)
{
        if (index == RSP)
                vmcs_writenat(GUEST_RSP, value);
        else
                v->regs.gpr[index & 15] = value;
}

uint64_t vcpu_guest_cr0(struct vcpu *v)
{
        UNUSED(v);
        uint64_t mask = vmcs_readnat(CR0_GUEST_HOST_MASK);
        return (vmcs_readnat(GUEST_CR0) & ~mask) | (vmcs_readnat(CR0_READ_SHADOW) & mask);
}

uint64_t vcpu_guest_cr4(struct vcpu *v)
{
        UNUSED(v);
        uint64_t mask = vmcs_readnat(CR4_GUEST_HOST_MASK);
        return (vmcs_readnat(GUEST_CR4) & ~mask) | (vmcs_readnat(CR4_READ_SHADOW) & mask);
}

bool vcpu_walk_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
        const uint8_t *p = vm_gpa_ptr(ctx, gpa, size);
        if (!p)
                return false;
        *val = 0;
        vtv_memcpy(val, p, size);
        return true;
}

/* While an exit is handled the CPU's CR2 is the guest's: the fast path
 * never touches it and its way to the slow path (vmx/vmx_entry.S) saves
 * it into regs.cr2, which VM entry loads.  So a #PF injected from either
 * path sets both. */
void vcpu_set_cr2(struct vcpu *v, uint64_t cr2)
{
        v->regs.cr2 = cr2;
        write_cr2(cr2);
}

bool vcpu_translate(struct vcpu *v, uint64_t gva, enum walk_access access, uint64_t *gpa)
{
        struct walk_ctx w = {
                .cr0 = vcpu_guest_cr0(v),
                .cr3 = vmcs_readnat(GUEST_CR3),
                .cr4 = vcpu_guest_cr4(v),
                .efer = vmcs_read64(GUEST_IA32_EFER),
                .cpl = vcpu_cpl(v),
                .read_gpa = vcpu_walk_read,
                .ctx = v->vm,
        };
        uint32_t err;
        switch (guest_walk(&w, gva, access, gpa, &err)) {
        case WALK_OK:
                return true;
        case WALK_PAGE_FAULT:
                vcpu_set_cr2(v, gva);
                vcpu_inject_exception(v, VEC_PF, true, err);
                return false;
        case WALK_BAD_GPA:
                break;
        }
        vm_stop(v->vm, "guest page tables for linear 0x%llx lie outside its RAM (rip 0x%llx)",
                (unsigned long long)gva, (unsigned long long)vmcs_readnat(GUEST_RIP));
        return false;
}

uint64_t vcpu_xcr0_supported(void)
{
        return fpu_xcr0_supported();
}

uint64_t vcpu_rip_wrap(uint64_t old, uint64_t rip)
{
        if (((rip ^ old) >> 32) && !(vmcs_read32(GUEST_CS_AR_BYTES) & AR_L))
                rip &= 0xffffffffULL;
        return rip;
}

void vcpu_finish_rf_tf(uint64_t rflags)
{
        /* The instruction completed as on the CPU: RF is cleared, and with
         * TF set the single-step #DB follows it (pending debug exception
         * BS, which the CPU delivers after VM entry, SDM 27.3.1.4 /
         * 17.3.1.4). */
        if (rflags & RFLAGS_RF)
                vmcs_writenat(GUEST_RFLAGS, rflags & ~RFLAGS_RF);
        if (rflags & RFLAGS_TF)
                vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS,
                              vmcs_readnat(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

/* Exceptions that are faults (SDM 6.5, Table 6-1): #DE, #BR, #UD, #NM,
 * #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. */
#define FAULT_VECTORS                                                                              \
        (BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) |     \
         BIT(16) | BIT(17) | BIT(19) | BIT(20) | BIT(21))

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
        v->irq_dirty = true; /* an interrupt may now need the window */
        /* A fault pushes RFLAGS with RF set, so that the faulting
         * instruction, restarted by IRET, does not hit its own instruction
         * breakpoint again (SDM 17.3.1.1); event injection pushes RFLAGS as
         * it is, so vtvisor sets RF for an injected fault as the CPU would. */
        if (vector < 32 && (FAULT_VECTORS & BIT(vector)))
                vmcs_writenat(GUEST_RFLAGS, vmcs_readnat(GUEST_RFLAGS) | RFLAGS_RF);
        uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | (vector & 0xff);
        /* With CR0.PE = 0 no error code may be delivered (SDM 26.2.1.3). */
        if (has_error && (vcpu_guest_cr0(v) & CR0_PE)) {
                info |= INTR_INFO_DELIVER_CODE;
                vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
        }
        vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
}

/* An exit in the middle of delivering an event (IDT-vectoring information
 * valid) must deliver that event again on the next entry (SDM 27.2.4). */
static void reinject_vectoring_event(struct vcpu *v)
{
        uint32_t info = vmcs_read32(IDT_VECTORING_INFO_FIELD);
        if (!(info & INTR_INFO_VALID))
                return;
        v->irq_dirty = true;
        vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info & ~0x1000u);
        if (info & INTR_INFO_DELIVER_CODE)
                vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
        uint32_t type = INTR_INFO_TYPE(info);
        if (type == INTR_TYPE_SW_INTERRUPT || type == INTR_TYPE_SW_EXCEPTION || type == (5u << 8))
                vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
}

static void entry_failed(struct vcpu *v, int result)
{
        struct vm *vm = v->vm;
        if (result == RUN_FAIL_INVALID) {
                vm_stop(vm, "VM entry failed: VMfailInvalid (no current VMCS)");
                return;
        }
        uint32_t err = vmcs_read32(VM_INSTRUCTION_ERROR);
        vmcs_dump(vm->cfg.name);
        vm_stop(vm, "VM entry failed: VM-instruction error %u (%s)", err,
                vmx_instruction_error_name(err));
}

/* The VMX preemption timer ends the time slice and wakes the vCPU for its
 * APIC timer, whichever comes first.  With the "save VMX-preemption timer
 * value" exit control it counts on across exits, so it is only re-armed on
 * the slow path; without it, it restarts at every entry and is re-armed
 * every time. */
static void arm_preemption_timer(struct vcpu *v, uint64_t now)
{
        uint64_t until = v->slice_end;
        uint64_t deadline = lapic_timer_deadline(&v->lapic); /* guest TSC */
        if (deadline != UINT64_MAX) {
                uint64_t gnow = now + v->tsc_offset;
                uint64_t at = now + (deadline > gnow ? deadline - gnow : 0);
                if (at < until)
                        until = at;
        }
        /* CPU 0 keeps the console's output moving (console.h). */
        if (this_cpu_id() == 0 && console_pending()) {
                uint64_t drain = now + tsc_hz() / CONSOLE_DRAIN_HZ;
                if (drain < until)
                        until = drain;
        }
        v->event_tsc = until;
        uint64_t ticks = until > now ? (until - now) >> vmx_caps_preempt_shift(&vmx_caps) : 0;
        vmcs_write32(VMX_PREEMPTION_TIMER_VALUE,
                     ticks > 0xffffffffULL ? 0xffffffffU : (uint32_t)ticks);
}

static bool timer_saved(void)
{
        return (vmx_caps.exit.may_be_1 & EXIT_SAVE_PREEMPT_TIMER) != 0;
}

/* Applies a STARTUP IPI to a vCPU waiting for one.  vm->lock held. */
static void start_from_sipi(struct vcpu *v)
{
        struct guest_state st;
        ap_start_state(&st, v->sipi_vector);
        setup_guest_state(v, &st);
        v->requests &= ~VCPU_REQ_SIPI;
        log_line("vm %s: vCPU %u started by SIPI at 0x%x", v->vm->cfg.name, v->index,
                 (unsigned)v->sipi_vector << 12);
}

/* The guest may have moved its TPR through CR8 without an exit: the model
 * takes it from the virtual-APIC page.  (With virtual-interrupt delivery
 * vapic_sync_in does, whenever vtvisor looks at the model.) */
static inline void sync_tpr(struct vcpu *v)
{
        if (v->vid)
                return;
        if (v->vapic && v->vapic[VAPIC_TPR] != v->vapic_tpr) {
                v->vapic_tpr = v->vapic[VAPIC_TPR];
                lapic_set_tpr(&v->lapic, v->vapic_tpr);
        }
}

/* After a fast-path handler: re-enter now, or let vcpu_run's slow path
 * run first.  A handler that stops the VM, halts or yields returns
 * EXIT_YIELD or sets irq_dirty (vm_stop does, for every vCPU). */
static inline int fast_done(struct vcpu *v, enum exit_action a)
{
        if (a == EXIT_CONTINUE && !__atomic_load_n(&v->irq_dirty, __ATOMIC_RELAXED) &&
            rdtsc() < v->event_tsc)
                return RUN_RESUME;
        v->fast_action = (uint8_t)a;
        return RUN_EXIT_DONE;
}

/* The fast path's handlers, one per kind of exit it takes (fast_path
 * below): each handles the exit and returns fast_done's verdict. */

/* Handlers that read and write only this vCPU's own state (its registers,
 * its VMCS, its CPUID view) and so need no vm->lock; a fault they inject
 * sets irq_dirty, which only this CPU reads before it re-enters. */
static int fast_unlocked(struct vcpu *v, uint32_t reason)
{
        return fast_done(v, exit_handlers[reason](v));
}

/* Handlers that need vm->lock. */
static int fast_locked(struct vcpu *v, uint32_t reason)
{
        struct vm *vm = v->vm;
        spin_lock(&vm->lock);
        sync_tpr(v);
        /* Instruction exits never interrupt an event's delivery (SDM 27.2.4). */
        if (reason == EXIT_EPT_VIOLATION)
                reinject_vectoring_event(v);
        int r = fast_done(v, exit_handlers[reason](v));
        spin_unlock(&vm->lock);
        return r;
}

/* CPUID, unlocked, its lookup inline. */
static int fast_cpuid(struct vcpu *v, uint32_t reason)
{
        UNUSED(reason);
        return fast_done(v, exit_cpuid(v));
}

/* RDMSR: unlocked and inline for an MSR only the vCPU's own state holds,
 * else locked. */
static int fast_rdmsr(struct vcpu *v, uint32_t reason)
{
        if (exit_rdmsr_local(v))
                return fast_done(v, EXIT_CONTINUE);
        return fast_locked(v, reason);
}

/* The exits the fast path handles: instructions a guest executes often
 * whose handlers finish within the exit.  Anything else (external
 * interrupts, the preemption timer, HLT, windows, ...) is slow-path work. */
typedef int (*fast_handler_fn)(struct vcpu *v, uint32_t reason);
static const fast_handler_fn fast_path[64] = {
        [EXIT_CPUID] = fast_cpuid,          [EXIT_VMCALL] = fast_unlocked,
        [EXIT_XSETBV] = fast_unlocked,      [EXIT_IO_INSTRUCTION] = fast_locked,
        [EXIT_RDMSR] = fast_rdmsr,          [EXIT_WRMSR] = fast_locked,
        [EXIT_EPT_VIOLATION] = fast_locked, [EXIT_CR_ACCESS] = fast_locked,
        [EXIT_WBINVD] = fast_locked,        [EXIT_INVD] = fast_locked,
        [EXIT_APIC_WRITE] = fast_locked,
};

/* The exit fast path, called by vmx_exit_entry with the guest's registers
 * saved and no lock held (docs/architecture.md).  It handles the exit as
 * vcpu_run would, and re-enters the guest at once unless the handler
 * changed what the slow path decides (irq_dirty: an interrupt or event to
 * inject, the APIC timer moved), asked to yield, stopped the VM, or the
 * slice or the next timer event is due.  Only with the "save VMX-preemption
 * timer value" exit control, so the timer counts on across these exits.
 * Another CPU that sets irq_dirty, stops the VM or wants the CPU also
 * kicks it (an IPI: an external-interrupt exit, which is slow-path work). */
static int fast_exit(struct guest_regs *regs)
{
        /* (A failed VMREAD here is reported without its caller: the caller
         * is vmx_exit_entry.) */
        uint32_t reason = (uint32_t)vmcs_read_checked(VM_EXIT_REASON, NULL);
        if (reason >= 64)
                return RUN_EXIT; /* also an entry failure (bit 31) */
        fast_handler_fn fn = fast_path[reason];
        if (!fn)
                return RUN_EXIT;
        struct vcpu *v =
            (struct vcpu *)(void *)((char *)regs - __builtin_offsetof(struct vcpu, regs));
        v->exits_by_reason[reason]++;
        return fn(v, reason);
}

/* Without the saved preemption timer every entry re-arms it: no fast path. */
static int no_fast_exit(struct guest_regs *regs)
{
        UNUSED(regs);
        return RUN_EXIT;
}

void vcpu_run(struct vcpu *v)
{
        struct vm *vm = v->vm;
        v->slice_end = rdtsc() + TIME_SLICE_TSC;
        v->yield = false;

        bool saved = timer_saved();
        spin_lock(&vm->lock);
        if (v->requests & VCPU_REQ_SIPI)
                start_from_sipi(v);
        v->irq_dirty = true;
        while (!vm->stopped && v->state == VCPU_RUNNABLE && !v->yield) {
                uint64_t now = rdtsc();
                /* The slow path: interrupt state changed (irq_dirty, set by
                 * whatever touches a local APIC or injects an event), or the
                 * slice or the APIC timer is due.  Otherwise nothing that
                 * decides injection or the timer has changed since the last
                 * entry, and the guest goes straight back. */
                if (v->irq_dirty || now >= v->event_tsc) {
                        /* The slice is also checked here: a guest that exits
                         * often may never let the preemption timer fire. */
                        if (now >= v->slice_end)
                                break;
                        v->irq_dirty = false;
                        flush_if_needed(v);
                        console_drain();
                        vdev_poll(vm);
                        irq_inject(v);
                        arm_preemption_timer(v, now);
                } else if (!saved) {
                        arm_preemption_timer(v, now);
                }
                if (!v->launched)
                        log_line("vm %s: first entry%s at TSC %llu", vm->cfg.name,
                                 v->index ? " of an AP" : "", (unsigned long long)rdtsc());
                /* No lock is held in guest mode. */
                spin_unlock(&vm->lock);
                int r = vmx_run(&v->regs, v->launched, saved ? fast_exit : no_fast_exit);
                spin_lock(&vm->lock);
                if (r == RUN_FAIL_INVALID || r == RUN_FAIL_VALID) {
                        entry_failed(v, r);
                        break;
                }
                v->launched = true;
                if (r == RUN_EXIT_DONE) {
                        if (v->fast_action == EXIT_YIELD)
                                break;
                        continue;
                }
                sync_tpr(v);
                /* The exit cleared the entry interruption field's valid bit
                 * (SDM 27.2.4), so an event is only injected if a handler
                 * or irq_inject asks again. */

                uint32_t reason = vmcs_read32(VM_EXIT_REASON);
                if (reason & EXIT_REASON_ENTRY_FAILURE) {
                        uint32_t basic = EXIT_REASON_BASIC(reason);
                        vmcs_dump(vm->cfg.name);
                        vm_stop(vm, "%s (exit reason %u, qualification 0x%llx)",
                                vmx_exit_reason_name(basic), basic,
                                (unsigned long long)vmcs_readnat(EXIT_QUALIFICATION));
                        break;
                }
                reinject_vectoring_event(v);
                uint32_t basic = EXIT_REASON_BASIC(reason);
                if (basic < EXIT_REASON_MAX)
                        v->exits_by_reason[basic]++;
                enum exit_action a = exit_dispatch(v, basic);
                if (a == EXIT_YIELD)
                        break;
        }
        spin_unlock(&vm->lock);
}
