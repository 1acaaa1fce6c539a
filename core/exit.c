#include "core/exit.h"
#include "core/vapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/fpu.h"
#include "arch/x86/hapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "core/clock.h"
#include "core/irq.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "core/msr.h"
#include "core/sched.h"
#include "core/taskswitch.h"
#include "core/vcpu.h"
#include "core/iobus.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_names.h"

static uint64_t guest_rip(void)
{
        return vmcs_readnat(GUEST_RIP);
}

static enum exit_action stop_unexpected(struct vcpu *v, uint32_t reason)
{
        vmcs_dump(v->vm->cfg.name);
        vm_stop(v->vm, "unexpected VM exit: %s (reason %u, qualification 0x%llx) at rip 0x%llx",
                vmx_exit_reason_name(reason), reason,
                (unsigned long long)vmcs_readnat(EXIT_QUALIFICATION),
                (unsigned long long)guest_rip());
        return EXIT_CONTINUE;
}

/* ---- CPUID (SDM Vol. 2A, CPUID) ---- */

#define HV_LEAF_BASE 0x40000000u
/* "vtvisor" zero-padded to 12 bytes, as EBX, ECX, EDX. */
#define HV_SIG_EBX 0x69767476u /* "vtvi" */
#define HV_SIG_ECX 0x00726f73u /* "sor\0" */
#define HV_SIG_EDX 0x00000000u

/* Leaf 1 ECX: DTES64, MONITOR, DS-CPL, VMX, SMX, EST, TM2, PDCM, OSXSAVE
 * (recomputed below). */
#define L1_ECX_HIDDEN                                                                              \
        (BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(15) | BIT(27))
/* The emulated local APIC offers x2APIC and the TSC-deadline timer. */
#define L1_ECX_X2APIC       BIT(21)
#define L1_ECX_TSC_DEADLINE BIT(24)
#define L1_EDX_APIC         BIT(9)
#define L1_ECX_XSAVE        BIT(26)
#define L1_ECX_OSXSAVE      BIT(27)
#define L1_ECX_HYPERVISOR   BIT(31)
/* Leaf 1 EDX: MCE, MTRR, MCA, DS, ACPI thermal, HTT, TM, PBE. */
#define L1_EDX_HIDDEN (BIT(7) | BIT(12) | BIT(14) | BIT(21) | BIT(22) | BIT(28) | BIT(29) | BIT(31))
/* The TSC and processor-frequency leaves vtvisor always offers (SDM Vol.
 * 2A CPUID 15H, 16H), so guests need no PIT to calibrate. */
#define TSC_LEAF  0x15u
#define FREQ_LEAF 0x16u
/* Leaf 6 EAX: the APIC timer keeps running in deep C-states (ARAT): the
 * emulated one always runs.  Nothing else of thermal/power management. */
#define L6_EAX_ARAT BIT(2)
/* Leaf 7 EBX: SGX, INVPCID (unless enabled), RDT-M, RDT-A, Intel PT. */
#define L7_EBX_HIDDEN  (BIT(2) | BIT(12) | BIT(15) | BIT(25))
#define L7_EBX_INVPCID BIT(10)
/* Leaf 7 ECX: PKU and OSPKE (PKRU is not switched between VMs), WAITPKG,
 * CET shadow stacks, LA57 (5-level paging), Key Locker, SGX-LC; EDX: user
 * interrupts, CET indirect-branch tracking.  Their CR4 bits are host-owned
 * (vcpu.c, CR4_GUEST_OWNED). */
#define L7_ECX_HIDDEN  (BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(16) | BIT(23) | BIT(30))
#define L7_EDX_HIDDEN  (BIT(5) | BIT(20))
#define XD1_EAX_XSAVES BIT(3)
#define X81_EDX_RDTSCP BIT(27)

#define L1_EDX_HTT BIT(28)

/* The VM's vCPUs as the cores of one package, one thread each: the APIC
 * ID's core field is as wide as the next power of two (SDM 9.9.1). */
static uint32_t topo_width(const struct vm *vm)
{
        uint32_t w = 1;
        while (w < vm->nvcpus)
                w <<= 1;
        return w;
}

static unsigned topo_shift(const struct vm *vm)
{
        unsigned s = 0;
        while ((1u << s) < topo_width(vm))
                s++;
        return s;
}

/* Leaf 0xB (and 0x1F) subleaf sub: SMT level, core level, then invalid
 * (SDM CPUID, "Extended Topology Enumeration Leaf"). */
static struct cpuid_regs topology_leaf(const struct vcpu *v, uint32_t sub)
{
        struct cpuid_regs r = { 0, 0, sub & 0xff, v->index };
        if (sub == 0)
                r = (struct cpuid_regs){ 0, 1, (1u << 8) | sub, v->index };
        else if (sub == 1)
                r = (struct cpuid_regs){ topo_shift(v->vm), v->vm->nvcpus, (2u << 8) | sub,
                                         v->index };
        return r;
}

/* TSC = crystal * EBX / EAX; the APIC timer counts at the crystal's rate
 * (core/clock.h).  Out of line: its address-taken locals would give the
 * CPUID handler a stack canary. */
static __attribute__((noinline)) struct cpuid_regs tsc_leaf(void)
{
        uint32_t num, den;
        clock_tsc_ratio(&num, &den);
        return (struct cpuid_regs){ den, num, (uint32_t)clock_crystal_hz(), 0 };
}

/* The host's highest basic (range 0) or extended (range 1) leaf, read once. */
static uint32_t host_max(unsigned range)
{
        static uint32_t max[2];
        if (!max[range])
                max[range] = cpuid(range ? 0x80000000u : 0, 0).eax;
        return max[range];
}

/* ---- CPUID answers, per vCPU ----
 * Most leaves' answers depend only on the host, the VM's shape and this
 * vCPU's set-up, so each vCPU keeps the answers it gave in a small
 * direct-mapped table (VCPU_CPUID_CACHE entries), as KVM keeps a vCPU's
 * CPUID table, and an exit for one of those costs a lookup.  Not kept:
 * leaf 1 (OSXSAVE follows the guest's CR4, which it writes without an
 * exit; the APIC bit follows IA32_APIC_BASE) and leaf 0xD (the XSAVE area
 * sizes follow XCR0).  IA32_MISC_ENABLE's "limit CPUID maxval" changes
 * leaf 0 and what leaves above the maximum return: exit_cpuid_limits
 * empties the table.
 *
 * An entry holding (leaf, sub) sits in slot cpuid_slot(leaf, sub).  An
 * empty slot holds a leaf with bit 0 flipped: that pair belongs in another
 * slot, so no lookup matches it. */
static void cpuid_forget(struct cpuid_entry *e, uint32_t leaf, uint32_t sub)
{
        e->leaf = leaf ^ 1;
        e->sub = sub;
}

void exit_cpuid_limits(struct vcpu *v)
{
        v->cpuid_max = (v->misc_enable_flip & MISC_LIMIT_CPUID_MAX) ? 2
                       : host_max(0) > FREQ_LEAF                    ? host_max(0)
                                                                    : FREQ_LEAF;
        for (unsigned i = 0; i < VCPU_CPUID_CACHE; i++)
                cpuid_forget(&v->cpuid_cache[i], i, 0);
}

/* The answer to CPUID(leaf, sub) for v, into *e, which keeps it when the
 * leaf's answer cannot change until exit_cpuid_limits. */
static void cpuid_answer(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_entry *e)
{
        struct cpuid_regs r = { 0, 0, 0, 0 };
        uint32_t asked = leaf;

        /* A leaf above the highest basic or extended one (as leaf 0 and
         * leaf 0x80000000 report them) returns the highest basic leaf's
         * data (SDM Vol. 2A, CPUID); the hypervisor leaves are vtvisor's. */
        bool hv = false;
        if (__builtin_expect(leaf > v->cpuid_max, 0)) {
                hv = leaf >= HV_LEAF_BASE && leaf < HV_LEAF_BASE + 0x100;
                if (!hv && (leaf < 0x80000000u || leaf > host_max(1)))
                        leaf = v->cpuid_max;
        }

        if (hv) {
                if (leaf == HV_LEAF_BASE)
                        r = (struct cpuid_regs){ HV_LEAF_BASE, HV_SIG_EBX, HV_SIG_ECX, HV_SIG_EDX };
        } else if (leaf == TSC_LEAF) {
                r = tsc_leaf();
        } else if (leaf == FREQ_LEAF) {
                /* Base and maximum frequency in MHz: the TSC's. */
                uint32_t mhz = (uint32_t)(tsc_hz() / 1000000);
                r = (struct cpuid_regs){ mhz, mhz, mhz, 0 };
        } else if (leaf < 0x80000000u && host_max(0) < leaf) {
                /* Leaves the host lacks below vtvisor's highest (0x15 and
                 * 0x16 are its own): reserved, zeros. */
        } else {
                r = cpuid(leaf, sub);
                switch (leaf) {
                case 0:
                        r.eax = v->cpuid_max;
                        break;
                case 1:
                        r.ecx &= ~(uint32_t)L1_ECX_HIDDEN;
                        r.ecx |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
                        /* The APIC bit follows IA32_APIC_BASE's enable bit
                         * (SDM 11.4.3). */
                        if (v->lapic.mode != LAPIC_MODE_DISABLED)
                                r.edx |= L1_EDX_APIC;
                        else
                                r.edx &= ~(uint32_t)L1_EDX_APIC;
                        if ((r.ecx & L1_ECX_XSAVE) && (vcpu_guest_cr4(v) & CR4_OSXSAVE))
                                r.ecx |= L1_ECX_OSXSAVE;
                        r.edx &= ~(uint32_t)L1_EDX_HIDDEN;
                        /* This vCPU's initial APIC ID; the package holds
                         * every vCPU of the VM (leaf 0xB). */
                        r.ebx = (r.ebx & 0xffff) | (topo_width(v->vm) << 16) |
                                ((uint32_t)v->index << 24);
                        if (v->vm->nvcpus > 1)
                                r.edx |= L1_EDX_HTT;
                        else
                                r.edx &= ~(uint32_t)L1_EDX_HTT;
                        break;
                case 4:
                        /* Cores per package - 1 in EAX[31:26]; one vCPU
                         * per core, so no cache is shared by threads. */
                        if (r.eax & 0x1f)
                                r.eax = (r.eax & 0x3fff) | ((topo_width(v->vm) - 1) << 26);
                        break;
                case 6:
                        r = (struct cpuid_regs){ L6_EAX_ARAT, 0, 0, 0 };
                        break;
                case 5:    /* MONITOR/MWAIT: exit to #UD */
                case 0xa:  /* performance monitoring: no PMU offered */
                case 0x12: /* SGX */
                case 0x14: /* processor trace */
                case 0x19: /* Key Locker */
                        r = (struct cpuid_regs){ 0, 0, 0, 0 };
                        break;
                case 7:
                        if (sub == 0) {
                                r.ebx &= ~(uint32_t)L7_EBX_HIDDEN;
                                if (!(vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & PROC2_INVPCID))
                                        r.ebx &= ~(uint32_t)L7_EBX_INVPCID;
                                r.ecx &= ~(uint32_t)L7_ECX_HIDDEN;
                                r.edx &= ~(uint32_t)L7_EDX_HIDDEN;
                        }
                        break;
                case 0xb:
                case 0x1f:
                        r = topology_leaf(v, sub);
                        break;
                case 0xd:
                        if (sub == 0) {
                                uint64_t ok = fpu_xcr0_supported();
                                r.eax &= (uint32_t)ok;
                                r.edx &= (uint32_t)(ok >> 32);
                        } else if (sub == 1) {
                                r.eax &= ~(uint32_t)XD1_EAX_XSAVES;
                                r.ecx = r.edx = 0;
                        } else if (sub < 64 && !(fpu_xcr0_supported() & BIT(sub))) {
                                r = (struct cpuid_regs){ 0, 0, 0, 0 };
                        }
                        break;
                case 0x80000001:
                        if (!(vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & PROC2_RDTSCP))
                                r.edx &= ~(uint32_t)X81_EDX_RDTSCP;
                        break;
                default:
                        break;
                }
        }
        *e = (struct cpuid_entry){ asked, sub, r.eax, r.ebx, r.ecx, r.edx };
        if (leaf == 1 || leaf == 0xd)
                cpuid_forget(e, asked, sub);
}

enum exit_action exit_cpuid_miss(struct vcpu *v)
{
        uint32_t leaf = (uint32_t)v->regs.gpr[RAX], sub = (uint32_t)v->regs.gpr[RCX];
        struct cpuid_entry *e = &v->cpuid_cache[cpuid_slot(leaf, sub)];
        cpuid_answer(v, leaf, sub, e);
        /* Not through exit_cpuid: e may not keep this answer. */
        return exit_cpuid_give(v, e);
}

static enum exit_action handle_cpuid(struct vcpu *v)
{
        return exit_cpuid(v);
}

/* ---- I/O instructions (exit qualification: SDM Table 27-5) ---- */

/* Most string elements moved per exit: a long REP INS/OUTS is resumed
 * from where it stopped (RCX, RSI/RDI updated), so others get the CPU. */
#define STRING_IO_BATCH 4096

/* Copies one element between guest memory and a buffer, byte by byte so an
 * element that straddles two pages is translated on both. */
static bool string_element(struct vcpu *v, uint64_t gva, uint8_t *buf, unsigned size, bool to_guest)
{
        for (unsigned i = 0; i < size; i++) {
                uint64_t gpa;
                if (!vcpu_translate(v, gva + i, to_guest ? WALK_WRITE : WALK_READ, &gpa))
                        return false;
                uint8_t *p = vm_gpa_ptr(v->vm, gpa, 1);
                if (!p) {
                        vm_stop(v->vm,
                                "string I/O with memory outside its RAM at guest-physical 0x%llx "
                                "(rip 0x%llx)",
                                (unsigned long long)gpa, (unsigned long long)guest_rip());
                        return false;
                }
                if (to_guest)
                        *p = buf[i];
                else
                        buf[i] = *p;
        }
        return true;
}

/* INS/OUTS (SDM Vol. 2B).  The exit gives the first element's linear
 * address (segment applied); the address size comes from the
 * instruction-information field (IA32_VMX_BASIC[54]), else from CS. */
static __attribute__((noinline)) enum exit_action
handle_string_io(struct vcpu *v, uint64_t q, unsigned size, bool in, uint16_t port)
{
        bool rep = (q >> 5) & 1;
        unsigned asize;
        if (vmx_caps.basic & BIT(54)) {
                asize = 2u << ((vmcs_read32(VMX_INSTRUCTION_INFO) >> 7) & 7); /* 2, 4 or 8 */
        } else {
                uint32_t ar = vmcs_read32(GUEST_CS_AR_BYTES);
                asize = (ar & AR_L) ? 8 : (ar & AR_DB) ? 4 : 2;
        }
        uint64_t amask = asize == 8 ? ~0ULL : (1ULL << (8 * asize)) - 1;
        unsigned idx = in ? RDI : RSI;
        uint64_t count = rep ? (v->regs.gpr[RCX] & amask) : 1;
        int64_t step = (vmcs_readnat(GUEST_RFLAGS) & BIT(10)) ? -(int64_t)size : (int64_t)size;
        uint64_t gva = vmcs_readnat(GUEST_LINEAR_ADDRESS);

        for (unsigned n = 0; count && n < STRING_IO_BATCH; n++) {
                uint8_t buf[4] = { 0, 0, 0, 0 };
                if (in) {
                        uint32_t val = iobus_in(v->vm, port, size);
                        for (unsigned i = 0; i < size; i++)
                                buf[i] = (uint8_t)(val >> (8 * i));
                        if (!string_element(v, gva, buf, size, true))
                                return EXIT_CONTINUE;
                } else {
                        if (!string_element(v, gva, buf, size, false))
                                return EXIT_CONTINUE;
                        uint32_t val = 0;
                        for (unsigned i = 0; i < size; i++)
                                val |= (uint32_t)buf[i] << (8 * i);
                        iobus_out(v->vm, port, size, val);
                        if (v->vm->stopped)
                                return EXIT_CONTINUE;
                }
                gva += (uint64_t)step;
                uint64_t r = v->regs.gpr[idx];
                v->regs.gpr[idx] = (r & ~amask) | ((r + (uint64_t)step) & amask);
                if (asize == 4)
                        v->regs.gpr[idx] &= 0xffffffffULL;
                count--;
                if (rep) {
                        uint64_t c = v->regs.gpr[RCX];
                        v->regs.gpr[RCX] = (c & ~amask) | ((c - 1) & amask);
                        if (asize == 4)
                                v->regs.gpr[RCX] &= 0xffffffffULL;
                }
        }
        if (count == 0)
                vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

static enum exit_action handle_io(struct vcpu *v)
{
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        unsigned size = (unsigned)(q & 7) + 1;
        bool in = (q >> 3) & 1, string = (q >> 4) & 1;
        uint16_t port = (uint16_t)(q >> 16);

        if (string)
                return handle_string_io(v, q, size, in, port);
        if (in) {
                uint32_t val = iobus_in(v->vm, port, size);
                uint64_t rax = v->regs.gpr[RAX];
                if (size == 1)
                        rax = (rax & ~0xffULL) | (val & 0xff);
                else if (size == 2)
                        rax = (rax & ~0xffffULL) | (val & 0xffff);
                else
                        rax = val; /* 32-bit results zero-extend */
                v->regs.gpr[RAX] = rax;
        } else {
                iobus_out(v->vm, port, size, (uint32_t)v->regs.gpr[RAX]);
        }
        if (!v->vm->stopped)
                vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

/* ---- RDMSR / WRMSR ---- */

static enum exit_action handle_rdmsr(struct vcpu *v)
{
        uint32_t msr = (uint32_t)v->regs.gpr[RCX];
        struct msr_value r = msr_read(v, msr);
        uint64_t val = r.val;
        if (!r.ok) {
                vcpu_inject_gp(v);
                return EXIT_CONTINUE;
        }
        v->regs.gpr[RAX] = (uint32_t)val;
        v->regs.gpr[RDX] = (uint32_t)(val >> 32);
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

static enum exit_action handle_wrmsr(struct vcpu *v)
{
        uint32_t msr = (uint32_t)v->regs.gpr[RCX];
        uint64_t val = (v->regs.gpr[RDX] << 32) | (uint32_t)v->regs.gpr[RAX];
        if (!msr_write(v, msr, val)) {
                vcpu_inject_gp(v);
                return EXIT_CONTINUE;
        }
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

/* ---- HLT, INVD/WBINVD, VMCALL, XSETBV ---- */

static enum exit_action handle_hlt(struct vcpu *v)
{
        if (!(vmcs_readnat(GUEST_RFLAGS) & RFLAGS_IF) && v->vm->nvcpus > 1) {
                /* As an AP parks itself: only an NMI, INIT or SIPI from
                 * another vCPU wakes it. */
                vcpu_skip_instruction(v);
                v->state = VCPU_HALTED_NOINT;
                return EXIT_YIELD;
        }
        if (!(vmcs_readnat(GUEST_RFLAGS) & RFLAGS_IF)) {
                vm_stop(v->vm, "halted with interrupts disabled at rip 0x%llx",
                        (unsigned long long)guest_rip());
                return EXIT_CONTINUE;
        }
        vcpu_skip_instruction(v);
        if (lapic_highest_pending(vcpu_lapic(v)) >= 0)
                return EXIT_CONTINUE; /* an interrupt is already waiting */
        v->state = VCPU_HALTED;
        return EXIT_YIELD;
}

static enum exit_action handle_wbinvd(struct vcpu *v)
{
        /* INVD is performed as WBINVD: discarding the caches without writing
         * them back would lose the hypervisor's and other VMs' data. */
        wbinvd();
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

#define HC_VERSION        0
#define HC_VERSION_RESULT 0x76747601u /* "vtv" and interface version 1 */

static enum exit_action handle_vmcall(struct vcpu *v)
{
        /* The only documented hypercall (docs/hypercalls.md), for a guest
         * that opts in knowingly: EBX holds the signature CPUID leaf
         * 0x40000000 gave it.  Anything else, or any call from user mode,
         * is an invalid opcode as on a CPU without a hypervisor. */
        if (vcpu_cpl(v) != 0 || (uint32_t)v->regs.gpr[RBX] != HV_SIG_EBX ||
            (uint32_t)v->regs.gpr[RAX] != HC_VERSION) {
                vcpu_inject_ud(v);
                return EXIT_CONTINUE;
        }
        v->regs.gpr[RAX] = HC_VERSION_RESULT;
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

static enum exit_action handle_xsetbv(struct vcpu *v)
{
        uint64_t val = (v->regs.gpr[RDX] << 32) | (uint32_t)v->regs.gpr[RAX];
        uint64_t ok = vcpu_xcr0_supported();

        if (!(vcpu_guest_cr4(v) & CR4_OSXSAVE)) {
                vcpu_inject_ud(v);
                return EXIT_CONTINUE;
        }
        /* SDM Vol. 2C XSETBV: #GP unless CPL 0, ECX 0, x87 set, AVX only
         * with SSE, AVX-512 state only all together and with AVX. */
        bool valid = vcpu_cpl(v) == 0 && (uint32_t)v->regs.gpr[RCX] == 0 && (val & 1) &&
                     !(val & ~ok) && (!(val & BIT(2)) || (val & BIT(1)));
        uint64_t avx512 = val & 0xe0;
        if (avx512 && (avx512 != 0xe0 || !(val & BIT(2))))
                valid = false;
        if (!valid) {
                vcpu_inject_gp(v);
                return EXIT_CONTINUE;
        }
        v->xcr0 = val;
        xsetbv(0, val);
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

/* ---- Control-register accesses (exit qualification: SDM Table 27-3) ---- */

/* PAE paging's four page-directory-pointer-table entries (SDM 4.4.1).  A
 * MOV to CR0 that vtvisor performs for the guest loads them from the table
 * CR3 points at, as the CPU would: with EPT, VM entry takes them from the
 * VMCS (SDM 26.3.2.4).  Memory outside the VM's RAM reads as all ones.
 * False (#GP) when a present entry has a reserved bit set: bits 2:1, 8:5
 * and MAXPHYADDR up. */
bool exit_load_pdptes(struct vcpu *v, uint64_t cr3)
{
        /* The MAXPHYADDR the guest sees (CPUID 0x80000008, irq_init_vcpu). */
        uint64_t reserved = ~((1ull << v->lapic.phys_bits) - 1) | 0x1e6;
        const uint8_t *table = vm_gpa_ptr(v->vm, cr3 & 0xffffffe0u, 32);
        uint64_t e[4];
        for (unsigned i = 0; i < 4; i++) {
                e[i] = table ? get64(table + 8 * i) : ~0ull;
                if ((e[i] & 1) && (e[i] & reserved))
                        return false;
        }
        vmcs_write64(GUEST_PDPTE0, e[0]);
        vmcs_write64(GUEST_PDPTE1, e[1]);
        vmcs_write64(GUEST_PDPTE2, e[2]);
        vmcs_write64(GUEST_PDPTE3, e[3]);
        return true;
}

static bool set_cr0(struct vcpu *v, uint64_t val)
{
        uint64_t old = vcpu_guest_cr0(v);
        uint64_t efer = vmcs_read64(GUEST_IA32_EFER);

        /* The #GP conditions of MOV to CR0 (SDM Vol. 2B, MOV CR). */
        if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
            ((val & CR0_NW) && !(val & CR0_CD)))
                return false;
        if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME) &&
            !(vcpu_guest_cr4(v) & CR4_PAE))
                return false;

        /* PAE paging after the write, and PG, CD or NW changed: the CPU
         * loads the PDPTEs (SDM Vol. 2B, MOV CR; 4.4.1). */
        if ((val & CR0_PG) && (vcpu_guest_cr4(v) & CR4_PAE) && !(efer & EFER_LME) &&
            ((val ^ old) & (CR0_PG | CR0_CD | CR0_NW)) &&
            !exit_load_pdptes(v, vmcs_readnat(GUEST_CR3)))
                return false;

        uint32_t entry = vmcs_read32(VM_ENTRY_CONTROLS);
        if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
                efer |= EFER_LMA;
                entry |= ENTRY_IA32E_MODE;
        } else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
                efer &= ~EFER_LMA;
                entry &= ~ENTRY_IA32E_MODE;
        }
        vmcs_write64(GUEST_IA32_EFER, efer);
        vmcs_write32(VM_ENTRY_CONTROLS, entry);
        vmcs_writenat(CR0_READ_SHADOW, val);
        vmcs_writenat(GUEST_CR0,
                      (val | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1);
        return true;
}

/* MOV to CR3, when it exits (CR3-load exiting is off wherever the CPU
 * lets vtvisor clear it: true controls).  As the CPU does it (SDM Vol. 2B
 * MOV CR; Vol. 3A 4.4.1, 4.10.4.1): in IA-32e mode bits from MAXPHYADDR
 * up are reserved (#GP), bit 63 with CR4.PCIDE means "keep the PCID's
 * translations" and is not loaded; with PAE paging the PDPTEs are loaded
 * (#GP for a reserved bit).  Otherwise the guest's non-global
 * translations go, which for vtvisor means those tagged with its VPID. */
static bool set_cr3(struct vcpu *v, uint64_t val)
{
        bool keep = false;
        if (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) {
                if ((vcpu_guest_cr4(v) & CR4_PCIDE) && (val & BIT(63))) {
                        val &= ~BIT(63);
                        keep = true;
                }
                if (val >> v->lapic.phys_bits)
                        return false;
        } else if ((vcpu_guest_cr0(v) & CR0_PG) && (vcpu_guest_cr4(v) & CR4_PAE) &&
                   !exit_load_pdptes(v, val)) {
                return false;
        }
        vmcs_writenat(GUEST_CR3, val);
        if (!keep && invvpid(INVVPID_SINGLE_CONTEXT, v->vpid) != VMX_OK)
                panic("INVVPID for vm %s failed", v->vm->cfg.name);
        return true;
}

static enum exit_action handle_cr(struct vcpu *v)
{
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
        bool ok = true;

        switch (type) {
        case 0: { /* MOV to CR */
                uint64_t val = vcpu_gpr(v, reg);
                if (!(vmcs_read32(GUEST_CS_AR_BYTES) & AR_L))
                        val &= 0xffffffffULL;
                if (cr == 0) {
                        ok = set_cr0(v, val);
                } else if (cr == 4) {
                        /* Exits only when a host-owned bit would change: VMXE,
                         * SMXE or a bit this CPU reserves. */
                        ok = false;
                } else if (cr == 8) {
                        /* CR8 is TPR[7:4] (SDM 10.8.6.1); bits 63:4 are reserved. */
                        ok = (val >> 4) == 0;
                        if (ok) {
                                lapic_set_tpr(&v->lapic, (uint8_t)(val << 4));
                                v->irq_dirty = true;
                        }
                } else if (cr == 3) {
                        ok = set_cr3(v, val);
                } else {
                        return stop_unexpected(v, EXIT_CR_ACCESS);
                }
                break;
        }
        case 1: /* MOV from CR */
                if (cr == 8)
                        vcpu_set_gpr(v, reg, lapic_get_tpr(&v->lapic) >> 4);
                else if (cr == 3)
                        vcpu_set_gpr(v, reg, vmcs_readnat(GUEST_CR3));
                else
                        return stop_unexpected(v, EXIT_CR_ACCESS);
                break;
        case 2: /* CLTS */
                ok = set_cr0(v, vcpu_guest_cr0(v) & ~CR0_TS);
                break;
        case 3: { /* LMSW: loads bits 3:0 but cannot clear PE */
                uint64_t src = (q >> 16) & 0xf, cr0 = vcpu_guest_cr0(v);
                ok = set_cr0(v, (cr0 & ~0xeULL) | src | (cr0 & CR0_PE));
                break;
        }
        }
        if (!ok) {
                vcpu_inject_gp(v);
                return EXIT_CONTINUE;
        }
        vcpu_skip_instruction(v);
        return EXIT_CONTINUE;
}

/* ---- Faults that end the VM ---- */

/* Guest-physical memory that is neither RAM nor a device: as on a PC,
 * reads return all ones and writes go nowhere (unless the VM was
 * configured with unmapped=stop).  The first accesses are logged. */
static uint64_t unbacked_read(struct vcpu *v, void *dev, uint64_t offset, unsigned size)
{
        UNUSED(dev);
        mmio_note_unbacked(v, "read of all ones", offset);
        return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void unbacked_write(struct vcpu *v, void *dev, uint64_t offset, unsigned size,
                           uint64_t value)
{
        UNUSED(dev);
        UNUSED(size);
        UNUSED(value);
        mmio_note_unbacked(v, "write dropped", offset);
}

static const struct mmio_ops unbacked_ops = { "unbacked memory", unbacked_read, unbacked_write };
static const struct mmio_region unbacked_region = { 0, ~0ULL, &unbacked_ops, NULL };

static enum exit_action handle_ept_violation(struct vcpu *v)
{
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
        const struct mmio_region *r = irq_mmio_region(v, gpa);
        /* Only an access the instruction at RIP made can be emulated by
         * decoding it: not one the CPU made delivering an event (pushing
         * a frame, reading the IDT), nor one of its page walks. */
        const char *by = NULL;
        if (vmcs_read32(IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID)
                by = "delivering an event (its IDT or stack)";
        else if ((q & EPT_QUAL_GLA_VALID) && !(q & EPT_QUAL_GLA_FINAL))
                by = "walking its page tables";
        if (by) {
                vm_stop(v->vm,
                        "the CPU, %s, reached guest-physical 0x%llx, which is not RAM (rip "
                        "0x%llx)",
                        by, (unsigned long long)gpa, (unsigned long long)guest_rip());
                return EXIT_CONTINUE;
        }
        if (!r && !v->vm->cfg.unmapped_stop)
                r = &unbacked_region;
        if (r && !(q & EPT_QUAL_FETCH)) {
                mmio_emulate(v, r, gpa);
                return EXIT_CONTINUE;
        }
        const char *access = (q & EPT_QUAL_FETCH)   ? "fetch"
                             : (q & EPT_QUAL_WRITE) ? "write"
                                                    : "read";
        vm_stop(v->vm, "EPT violation: %s at guest-physical 0x%llx (rip 0x%llx)", access,
                (unsigned long long)gpa, (unsigned long long)guest_rip());
        return EXIT_CONTINUE;
}

/* ---- APIC virtualization (SDM 29.4; core/vapic.c) ---- */

/* An access to the xAPIC page that the CPU does not virtualize (a read of
 * PPR or the current count, a write of a read-only register, an access
 * that is not 32 bits wide and aligned): fault-like, emulated as MMIO. */
static enum exit_action handle_apic_access(struct vcpu *v)
{
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        unsigned type = (unsigned)(q >> 12) & 0xf; /* SDM Table 27-6 */
        gpa_t gpa = LAPIC_DEFAULT_BASE + (q & 0xfff);
        if (type > 1) {
                /* A fetch, or an access while delivering an event. */
                vm_stop(v->vm,
                        "the CPU reached the local APIC page 0x%llx by an instruction fetch or "
                        "while delivering an event (access type %u, rip 0x%llx)",
                        (unsigned long long)gpa, type, (unsigned long long)guest_rip());
                return EXIT_CONTINUE;
        }
        const struct mmio_region *r = irq_mmio_region(v, gpa);
        mmio_emulate(v, r ? r : &unbacked_region, gpa);
        return EXIT_CONTINUE;
}

/* A write the CPU stored in the virtual-APIC page and left to vtvisor:
 * trap-like, RIP is past the instruction. */
static enum exit_action handle_apic_write(struct vcpu *v)
{
        vapic_apic_write(v, (uint32_t)vmcs_readnat(EXIT_QUALIFICATION) & 0xfff);
        return EXIT_CONTINUE;
}

/* The guest's EOI of a level-triggered vector: trap-like. */
static enum exit_action handle_eoi_induced(struct vcpu *v)
{
        vapic_eoi_induced(v, (uint8_t)vmcs_readnat(EXIT_QUALIFICATION));
        return EXIT_CONTINUE;
}

static enum exit_action handle_ept_misconfig(struct vcpu *v)
{
        /* Only vtvisor writes EPT entries: this is our bug, but it is
         * confined to this VM's tables, so only this VM stops. */
        vmcs_dump(v->vm->cfg.name);
        vm_stop(v->vm, "EPT misconfiguration at guest-physical 0x%llx (hypervisor bug)",
                (unsigned long long)vmcs_read64(GUEST_PHYSICAL_ADDRESS));
        return EXIT_CONTINUE;
}

static enum exit_action handle_triple_fault(struct vcpu *v)
{
        vm_stop(v->vm, "triple fault at rip 0x%llx", (unsigned long long)guest_rip());
        return EXIT_CONTINUE;
}

/* ---- Exits that need no emulation ---- */

static enum exit_action handle_inject_ud(struct vcpu *v)
{
        /* VMX, SMX, MONITOR/MWAIT are hidden from guests (CPUID), so these
         * instructions behave as on a CPU without them. */
        vcpu_inject_ud(v);
        return EXIT_CONTINUE;
}

static enum exit_action handle_rdpmc(struct vcpu *v)
{
        /* No performance counters are offered (CPUID leaf 0xA is zero). */
        vcpu_inject_gp(v);
        return EXIT_CONTINUE;
}

static enum exit_action handle_exception_nmi(struct vcpu *v)
{
        uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);
        /* NMI exiting: the NMI was meant for the host, whose only use of
         * NMIs is stopping every CPU on a panic.  The exception bitmap is
         * empty, so nothing else lands here. */
        if (INTR_INFO_TYPE(info) == INTR_TYPE_NMI) {
                if (desc_panic_under_way())
                        cpu_halt_forever();
                log_line("cpu %u: NMI while vm %s ran (no panic under way: ignored)", this_cpu_id(),
                         v->vm->cfg.name);
                return EXIT_CONTINUE;
        }
        return stop_unexpected(v, EXIT_EXCEPTION_NMI);
}

static enum exit_action handle_external_interrupt(struct vcpu *v)
{
        /* Acknowledged on exit (VM-exit control), so the vector is here.
         * A kick: another CPU left work for a vCPU of this CPU: for this
         * one (the slow path, which irq_dirty brings on, takes it) or for
         * another, which the scheduler picks up once this one yields, if
         * its fair share says so (sched_kick_should_yield). */
        uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);
        hapic_eoi();
        if (INTR_INFO_VECTOR(info) == HOST_VEC_KICK)
                return sched_kick_should_yield() ? EXIT_YIELD : EXIT_CONTINUE;
        /* The host masks the PICs and arms no APIC timer, so nothing else
         * should come; if it does, note it and go on. */
        log_line("vm %s: host interrupt vector %u while the guest ran (ignored)", v->vm->cfg.name,
                 INTR_INFO_VECTOR(info));
        return EXIT_CONTINUE;
}

static enum exit_action handle_preemption_timer(struct vcpu *v)
{
        /* Either the slice ended (vcpu_run yields) or the APIC timer is due
         * (irq_inject delivers it before the next entry). */
        v->irq_dirty = true;
        return EXIT_CONTINUE;
}

static enum exit_action handle_tpr_below_threshold(struct vcpu *v)
{
        /* The guest lowered CR8 below a pending interrupt's class (TPR
         * shadow, SDM 29.1.2): irq_inject delivers it now.  A trap-like
         * exit: RIP is already past the MOV. */
        v->irq_dirty = true;
        return EXIT_CONTINUE;
}

/* Interrupt and NMI windows: the guest can now take what waits. */
static enum exit_action handle_interrupt_window(struct vcpu *v)
{
        v->irq_dirty = true; /* irq_inject, before the next entry, injects */
        return EXIT_CONTINUE;
}

static enum exit_action handle_init(struct vcpu *v)
{
        UNUSED(v);
        return EXIT_CONTINUE;
}

const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
        [EXIT_EXCEPTION_NMI] = handle_exception_nmi,
        [EXIT_EXTERNAL_INTERRUPT] = handle_external_interrupt,
        [EXIT_TRIPLE_FAULT] = handle_triple_fault,
        [EXIT_INTERRUPT_WINDOW] = handle_interrupt_window,
        [EXIT_NMI_WINDOW] = handle_interrupt_window,
        [EXIT_TPR_BELOW_THRESHOLD] = handle_tpr_below_threshold,
        [EXIT_INIT] = handle_init,
        [EXIT_TASK_SWITCH] = exit_task_switch,
        [EXIT_CPUID] = handle_cpuid,
        [EXIT_GETSEC] = handle_inject_ud,
        [EXIT_HLT] = handle_hlt,
        [EXIT_INVD] = handle_wbinvd,
        [EXIT_RDPMC] = handle_rdpmc,
        [EXIT_VMCALL] = handle_vmcall,
        [EXIT_VMCLEAR] = handle_inject_ud,
        [EXIT_VMLAUNCH] = handle_inject_ud,
        [EXIT_VMPTRLD] = handle_inject_ud,
        [EXIT_VMPTRST] = handle_inject_ud,
        [EXIT_VMREAD] = handle_inject_ud,
        [EXIT_VMRESUME] = handle_inject_ud,
        [EXIT_VMWRITE] = handle_inject_ud,
        [EXIT_VMXOFF] = handle_inject_ud,
        [EXIT_VMXON] = handle_inject_ud,
        [EXIT_CR_ACCESS] = handle_cr,
        [EXIT_IO_INSTRUCTION] = handle_io,
        [EXIT_RDMSR] = handle_rdmsr,
        [EXIT_WRMSR] = handle_wrmsr,
        [EXIT_MWAIT] = handle_inject_ud,
        [EXIT_MONITOR] = handle_inject_ud,
        [EXIT_EPT_VIOLATION] = handle_ept_violation,
        [EXIT_APIC_ACCESS] = handle_apic_access,
        [EXIT_EOI_INDUCED] = handle_eoi_induced,
        [EXIT_APIC_WRITE] = handle_apic_write,
        [EXIT_EPT_MISCONFIG] = handle_ept_misconfig,
        [EXIT_INVEPT] = handle_inject_ud,
        [EXIT_PREEMPTION_TIMER] = handle_preemption_timer,
        [EXIT_INVVPID] = handle_inject_ud,
        [EXIT_WBINVD] = handle_wbinvd,
        [EXIT_XSETBV] = handle_xsetbv,
        [EXIT_VMFUNC] = handle_inject_ud,
};

enum exit_action exit_dispatch(struct vcpu *v, uint32_t basic_reason)
{
        if (basic_reason < EXIT_REASON_MAX && exit_handlers[basic_reason])
                return exit_handlers[basic_reason](v);
        return stop_unexpected(v, basic_reason);
}
