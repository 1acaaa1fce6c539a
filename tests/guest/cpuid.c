/* cpuid: vtvisor's CPUID filtering.  Leaf 1 must show the hypervisor bit
 * (ECX[31]) and hide VMX (ECX[5]); leaf 0x40000000 must give the maximum
 * hypervisor leaf and the signature "vtvisor" (zero-padded to 12 bytes).
 * On bare Bochs the hypervisor checks FAIL, as expected.
 *
 * Then a walk of every leaf (walk()): each basic, hypervisor and extended
 * leaf, with several subleaves, answers the same twice; a leaf above the
 * highest basic or extended one answers as the highest basic leaf does
 * (SDM Vol. 2A, CPUID); the features vtvisor does not virtualize are
 * hidden (docs/architecture.md, "What a guest sees"); and a feature it
 * reports works: the instruction does not raise #UD. */
#include "guest.h"

static bool same(struct cpuid_regs a, struct cpuid_regs b)
{
        return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

static bool zero(struct cpuid_regs r)
{
        return !r.eax && !r.ebx && !r.ecx && !r.edx;
}

/* Runs insn with the fault handler armed; the vector it raised or VEC_NONE. */
#define TRY(insn, ...)                                                                             \
        ({                                                                                         \
                fault_arm();                                                                       \
                __asm__ volatile(TRY_BEGIN insn TRY_END __VA_ARGS__);                              \
                g_fault_vector;                                                                    \
        })

static void walk(void)
{
        static const uint32_t subs[] = { 0, 1, 2, 3, 7, 0x20, 0xffffffff };
        uint32_t max = cpuid(0, 0).eax, ext = cpuid(0x80000000, 0).eax;
        uint32_t unstable = 0, leaves = 0;
        for (int range = 0; range < 3; range++) {
                uint32_t first = range == 0 ? 0 : range == 1 ? 0x40000000 : 0x80000000;
                uint32_t last = range == 0 ? max : range == 1 ? 0x40000010 : ext;
                for (uint32_t leaf = first; leaf <= last; leaf++) {
                        for (unsigned s = 0; s < sizeof(subs) / sizeof(subs[0]); s++) {
                                if (!same(cpuid(leaf, subs[s]), cpuid(leaf, subs[s]))) {
                                        if (unstable++ < 4)
                                                gprintf("cpuid: leaf 0x%x.0x%x changed\n", leaf,
                                                        subs[s]);
                                }
                        }
                        leaves++;
                }
        }
        gprintf("cpuid: walked %u leaves (basic to 0x%x, extended to 0x%x)\n", leaves, max, ext);
        report("walk-stable", unstable == 0);

        /* Above the highest leaf: the highest basic leaf's data. */
        struct cpuid_regs top = cpuid(max, 0);
        static const uint32_t above[] = { 0, 1, 0x100, 0x1000 };
        bool above_ok = same(cpuid(ext + 1, 0), top) && same(cpuid(0xffffffff, 0), top) &&
                        same(cpuid(0x40000100, 0), top) && same(cpuid(0x7fffffff, 0), top);
        for (unsigned i = 0; i < sizeof(above) / sizeof(above[0]); i++)
                above_ok = above_ok && same(cpuid(max + 1 + above[i], 0), top);
        if (!above_ok) {
                static const uint32_t probes[] = { 0x17,       0x18,       0x116,      0x40000015,
                                                   0x40000100, 0x7fffffff, 0x80000009, 0xffffffff };
                for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                        struct cpuid_regs p = cpuid(probes[i], 0);
                        gprintf("cpuid: leaf 0x%x: %08x %08x %08x %08x (highest basic 0x%x: "
                                "%08x %08x %08x %08x)\n",
                                probes[i], p.eax, p.ebx, p.ecx, p.edx, max, top.eax, top.ebx,
                                top.ecx, top.edx);
                }
        }
        report("walk-above-max-is-highest-basic", above_ok);
        report("walk-hv-leaves-past-signature-zero",
               zero(cpuid(0x40000001, 0)) && zero(cpuid(0x400000ff, 0)));

        /* Hidden: MONITOR, VMX, SMX, PDCM; MCE, MCA; no performance
         * monitoring, SGX, processor trace or Key Locker leaves; PKU, OSPKE,
         * WAITPKG, CET, LA57, Key Locker, user interrupts; ARAT alone in
         * leaf 6. */
        struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0);
        report("hidden-leaf1-ecx", !(l1.ecx & ((1u << 3) | (1u << 5) | (1u << 6) | (1u << 15))));
        report("hidden-leaf1-edx-machine-check", !(l1.edx & ((1u << 7) | (1u << 14))));
        report("hidden-leaf7-ebx-sgx-pt", !(l7.ebx & ((1u << 2) | (1u << 25))));
        report("hidden-leaf7-ecx", !(l7.ecx & ((1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) |
                                               (1u << 16) | (1u << 23))));
        report("hidden-leaf7-edx-cet-uintr", !(l7.edx & ((1u << 5) | (1u << 20))));
        bool leaves_zero = true;
        static const uint32_t gone[] = { 5, 0xa, 0x12, 0x14, 0x19 };
        for (unsigned i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
                if (gone[i] <= max)
                        leaves_zero = leaves_zero && zero(cpuid(gone[i], 0));
        report("hidden-leaves-zero", leaves_zero);
        if (max >= 6)
                expect_eq32("leaf6-arat-only", cpuid(6, 0).eax, 1u << 2);

        /* Reported: works. */
        struct cpuid_regs x1 = cpuid(0x80000001, 0);
        uint32_t lo, hi, aux;
        if (x1.edx & (1u << 27))
                report("works-rdtscp", TRY("rdtscp",
                                           : "=a"(lo), "=d"(hi), "=c"(aux)
                                           :
                                           : "memory") == VEC_NONE);
        if (l1.ecx & (1u << 30))
                report("works-rdrand", TRY("rdrand %%eax",
                                           : "=a"(lo)
                                           :
                                           : "cc", "memory") == VEC_NONE);
        if (l7.ebx & (1u << 18))
                report("works-rdseed", TRY("rdseed %%eax",
                                           : "=a"(lo)
                                           :
                                           : "cc", "memory") == VEC_NONE);
        if (l7.ebx & (1u << 10)) {
                /* INVPCID type 2 (every context) with a 16-byte descriptor. */
                static uint64_t desc[2] __attribute__((aligned(16)));
                report("works-invpcid", TRY("invpcid (%1), %0",
                                            :
                                            : "r"(2), "r"(desc)
                                            : "memory") == VEC_NONE);
        }
        uint64_t v;
        if (l1.ecx & (1u << 24))
                report("works-tsc-deadline-msr", try_rdmsr(0x6e0, &v) == VEC_NONE);
        if (l1.ecx & (1u << 21))
                report("works-x2apic-msr-readable", try_rdmsr(0x1b, &v) == VEC_NONE);
        if (l1.ecx & (1u << 26)) {
                uint32_t cr4 = read_cr4();
                uint64_t xcr0 = 0;
                report("works-xsave-xgetbv", try_write_cr4(cr4 | (1u << 18)) == VEC_NONE &&
                                                 try_xgetbv(0, &xcr0) == VEC_NONE && (xcr0 & 1) &&
                                                 (cpuid(1, 0).ecx & (1u << 27)));
                try_write_cr4(cr4);
                report("osxsave-follows-cr4", !(cpuid(1, 0).ecx & (1u << 27)));
        }
}

void guest_main(void)
{
        struct cpuid_regs r = cpuid(0, 0);
        gprintf("cpuid: leaf 0: max 0x%x vendor %08x %08x %08x\n", r.eax, r.ebx, r.edx, r.ecx);
        report("basic-leaves-present", r.eax >= 1 && r.eax < 0x100);
        report("vendor-intel", r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e);

        r = cpuid(1, 0);
        gprintf("cpuid: leaf 1: eax 0x%08x ecx 0x%08x edx 0x%08x\n", r.eax, r.ecx, r.edx);
        report("hypervisor-bit", (r.ecx & (1u << 31)) != 0);
        report("vmx-hidden", (r.ecx & (1u << 5)) == 0);
        struct cpuid_regs again = cpuid(1, 0);
        report("leaf1-stable", again.eax == r.eax && again.ecx == r.ecx && again.edx == r.edx);

        r = cpuid(0x40000000, 0);
        gprintf("cpuid: leaf 0x40000000: eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n", r.eax,
                r.ebx, r.ecx, r.edx);
        report("hv-max-leaf", r.eax >= 0x40000000 && r.eax <= 0x400000ff);
        char sig[13];
        memcpy(sig, &r.ebx, 4);
        memcpy(sig + 4, &r.ecx, 4);
        memcpy(sig + 8, &r.edx, 4);
        sig[12] = '\0';
        for (int i = 0; i < 12; i++) {
                if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
                        sig[i] = '?';
        }
        gprintf("cpuid: signature \"%s\"\n", sig);
        expect_eq32("hv-signature-ebx", r.ebx, 0x69767476); /* "vtvi" */
        expect_eq32("hv-signature-ecx", r.ecx, 0x00726f73); /* "sor\0" */
        expect_eq32("hv-signature-edx", r.edx, 0);
        walk();
}
