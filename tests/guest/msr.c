/* msr: vtvisor's MSR policy.  Allowed MSRs must round-trip (and FS_BASE
 * must really move the FS segment); every refused access must raise #GP in
 * the guest, leave the MSR unchanged, and the guest must carry on. */
#include "guest.h"

#define MSR_TSC             0x10
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_TSC_ADJUST      0x3b
#define MSR_SYSENTER_CS     0x174
#define MSR_SYSENTER_ESP    0x175
#define MSR_SYSENTER_EIP    0x176
#define MSR_PAT             0x277
#define MSR_EFER            0xc0000080
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_NXE (1ull << 11)

/* IA32_MISC_ENABLE: the bits software may change are kept, "limit CPUID
 * maxval" takes effect, read-only bits ignore writes, reserved bits #GP. */
static void misc_enable(void)
{
        const uint32_t MISC = 0x1a0;
        uint64_t m0 = 0, m = 0;
        try_rdmsr(MISC, &m0);
        expect_vec("misc-enable-fast-strings-off", try_wrmsr(MISC, m0 & ~1ull), VEC_NONE);
        try_rdmsr(MISC, &m);
        expect_eq64("misc-enable-fast-strings-kept", m, m0 & ~1ull);
        uint32_t max0 = cpuid(0, 0).eax;
        try_wrmsr(MISC, m0 | (1ull << 22));
        expect_eq32("misc-enable-limit-cpuid-maxval", cpuid(0, 0).eax, 2);
        try_wrmsr(MISC, m0);
        expect_eq32("misc-enable-limit-cleared", cpuid(0, 0).eax, max0);
        expect_vec("misc-enable-reserved-gp", try_wrmsr(MISC, m0 | (1ull << 63)), VEC_GP);
        try_wrmsr(MISC, m0 & ~(1ull << 11)); /* BTS unavailable: read-only */
        try_rdmsr(MISC, &m);
        expect_eq64("misc-enable-read-only-kept", m, m0);
}

/* A write to IA32_TSC or IA32_TSC_ADJUST moves what RDTSC returns, and
 * each moves the other (SDM 17.17.3). */
static void tsc_writes(void)
{
        const uint64_t far = 1ull << 50, step = 1ull << 40, slack = 100000000ull;
        uint64_t adj0 = 0, adj1 = 0, adj2 = 0;
        expect_vec("tsc-adjust-read", try_rdmsr(MSR_TSC_ADJUST, &adj0), VEC_NONE);
        uint64_t before = rdtsc();
        expect_vec("tsc-write", try_wrmsr(MSR_TSC, far), VEC_NONE);
        uint64_t t = rdtsc();
        if (!report("tsc-write-moves-rdtsc", t >= far && t - far < slack))
                gprintf("msr: wrote TSC 0x%llx, rdtsc then 0x%llx\n", far, t);
        try_rdmsr(MSR_TSC_ADJUST, &adj1);
        /* The adjust moved by what the write added: far - (TSC before it). */
        uint64_t moved = adj1 - adj0, want = far - before;
        if (!report("tsc-write-moves-adjust", moved <= want && want - moved < slack))
                gprintf("msr: TSC_ADJUST moved by 0x%llx, TSC by 0x%llx\n", moved, want);
        expect_vec("tsc-adjust-write", try_wrmsr(MSR_TSC_ADJUST, adj1 + step), VEC_NONE);
        uint64_t t2 = rdtsc();
        if (!report("tsc-adjust-moves-rdtsc", t2 >= t + step && t2 - t - step < slack))
                gprintf("msr: rdtsc 0x%llx, after adjust +0x%llx: 0x%llx\n", t, step, t2);
        try_rdmsr(MSR_TSC_ADJUST, &adj2);
        expect_eq64("tsc-adjust-reads-back", adj2, adj1 + step);
        uint64_t t3 = rdtsc();
        report("tsc-runs-on-across-exits", t3 > t2);
}

static void roundtrip(const char *name, uint32_t msr, uint64_t val)
{
        uint64_t got = 0;
        int wv = try_wrmsr(msr, val);
        int rv = try_rdmsr(msr, &got);
        if (wv == VEC_NONE && rv == VEC_NONE && got == val) {
                report(name, true);
                return;
        }
        g_failed++;
        gprintf("FAIL: %s (msr 0x%x: wrote 0x%llx, wrmsr vec %d, rdmsr vec %d, read 0x%llx)\n",
                name, msr, val, wv, rv, got);
}

/* wrmsr(msr, val) must raise #GP and leave the MSR's value unchanged. */
static void refused_write(const char *name, uint32_t msr, uint64_t val)
{
        uint64_t before = 0, after = 0;
        int rb = try_rdmsr(msr, &before);
        int wv = try_wrmsr(msr, val);
        int ra = try_rdmsr(msr, &after);
        if (wv == VEC_GP && (rb != VEC_NONE || (ra == VEC_NONE && after == before))) {
                report(name, true);
                return;
        }
        g_failed++;
        gprintf("FAIL: %s (msr 0x%x: wrote 0x%llx, wrmsr vec %d, value 0x%llx -> 0x%llx)\n", name,
                msr, val, wv, before, after);
}

static void allowed(void)
{
        uint64_t v;

        roundtrip("sysenter-cs-roundtrip", MSR_SYSENTER_CS, 0x10);
        roundtrip("sysenter-esp-roundtrip", MSR_SYSENTER_ESP, 0x00123450);
        roundtrip("sysenter-eip-roundtrip", MSR_SYSENTER_EIP, 0x00100000);
        roundtrip("sysenter-cs-roundtrip-zero", MSR_SYSENTER_CS, 0);

        uint64_t pat = 0;
        expect_vec("pat-read", try_rdmsr(MSR_PAT, &pat), VEC_NONE);
        gprintf("msr: initial PAT 0x%llx\n", pat);
        /* Bytes 00 04 07 06 04 05 01 00: every valid type (0,1,4,5,6,7). */
        roundtrip("pat-roundtrip", MSR_PAT, 0x0001050406070400ull);
        roundtrip("pat-restore", MSR_PAT, pat);

        uint64_t efer = 0;
        expect_vec("efer-read", try_rdmsr(MSR_EFER, &efer), VEC_NONE);
        gprintf("msr: initial EFER 0x%llx\n", efer);
        report("efer-not-long-mode", (efer & ((1ull << 8) | (1ull << 10))) == 0);
        roundtrip("efer-sce", MSR_EFER, efer | EFER_SCE);
        roundtrip("efer-lme-paging-off", MSR_EFER, efer | EFER_SCE | EFER_LME);
        if (cpuid(0x80000001, 0).edx & (1u << 20))
                roundtrip("efer-nxe", MSR_EFER, efer | EFER_NXE);
        else
                gprintf("msr: no NX on this CPU, efer-nxe skipped\n");
        roundtrip("efer-restore", MSR_EFER, efer);

        roundtrip("kernel-gs-base-roundtrip", MSR_KERNEL_GS_BASE, 0xffff800012345000ull);
        roundtrip("kernel-gs-base-zero", MSR_KERNEL_GS_BASE, 0);
        roundtrip("gs-base-roundtrip", MSR_GS_BASE, 0x00234000);
        roundtrip("gs-base-zero", MSR_GS_BASE, 0);

        /* FS_BASE must move the FS segment: %fs:0 then reads `probe`. */
        static volatile uint32_t probe = 0xfeedf00d;
        roundtrip("fs-base-roundtrip", MSR_FS_BASE, (uint32_t)&probe);
        uint32_t through_fs;
        __asm__ volatile("movl %%fs:0, %0" : "=r"(through_fs) : : "memory");
        expect_eq32("fs-base-takes-effect", through_fs, 0xfeedf00d);
        roundtrip("fs-base-zero", MSR_FS_BASE, 0);

        uint64_t t0 = rdtsc();
        int vec = try_rdmsr(MSR_TSC, &v);
        uint64_t t2 = rdtsc();
        expect_vec("tsc-read", vec, VEC_NONE);
        if (!report("tsc-consistent-with-rdtsc", t0 <= v && v <= t2))
                gprintf("msr: rdtsc 0x%llx, rdmsr 0x%llx, rdtsc 0x%llx\n", t0, v, t2);
        tsc_writes();
        misc_enable();
        /* A fault injected for an intercepted instruction pushes EFLAGS with
         * RF set, as the CPU does for faults (SDM 6.5). */
        g_fault_eflags = 0;
        expect_vec("unknown-msr-gp-for-rf", try_rdmsr(0x12345678, &v), VEC_GP);
        if (!report("injected-gp-pushes-rf", (g_fault_eflags & (1u << 16)) != 0))
                gprintf("msr: #GP pushed EFLAGS 0x%x\n", g_fault_eflags);
}

static void refused(void)
{
        uint64_t v;

        /* Every VMX capability MSR. */
        bool all_gp = true;
        for (uint32_t msr = 0x480; msr <= 0x491; msr++) {
                int vec = try_rdmsr(msr, &v);
                if (vec != VEC_GP) {
                        all_gp = false;
                        gprintf("msr: rdmsr 0x%x gave vector %d, value 0x%llx\n", msr, vec, v);
                }
        }
        report("vmx-msrs-read-gp", all_gp);
        all_gp = true;
        for (uint32_t msr = 0x480; msr <= 0x491; msr++) {
                int vec = try_wrmsr(msr, 0);
                if (vec != VEC_GP) {
                        all_gp = false;
                        gprintf("msr: wrmsr 0x%x gave vector %d\n", msr, vec);
                }
        }
        report("vmx-msrs-write-gp", all_gp);

        uint64_t fc = 0;
        expect_vec("feature-control-read", try_rdmsr(MSR_FEATURE_CONTROL, &fc), VEC_NONE);
        gprintf("msr: IA32_FEATURE_CONTROL 0x%llx\n", fc);
        report("feature-control-locked", (fc & 1) != 0);
        report("feature-control-vmx-clear", (fc & 6) == 0);
        refused_write("feature-control-write-gp", MSR_FEATURE_CONTROL, fc);
        refused_write("feature-control-write-vmx-gp", MSR_FEATURE_CONTROL, fc | 5);
        refused_write("feature-control-write-zero-gp", MSR_FEATURE_CONTROL, 0);

        uint64_t pat = 0;
        try_rdmsr(MSR_PAT, &pat);
        refused_write("pat-type2-byte0-gp", MSR_PAT, (pat & ~0xffull) | 2);
        refused_write("pat-type3-byte7-gp", MSR_PAT, (pat & ~(0xffull << 56)) | (3ull << 56));
        refused_write("pat-type8-byte3-gp", MSR_PAT, (pat & ~(0xffull << 24)) | (8ull << 24));

        uint64_t efer = 0;
        try_rdmsr(MSR_EFER, &efer);
        refused_write("efer-bit1-gp", MSR_EFER, efer | (1ull << 1));
        refused_write("efer-bit9-gp", MSR_EFER, efer | (1ull << 9));
        refused_write("efer-bit20-gp", MSR_EFER, efer | (1ull << 20));
        refused_write("efer-bit63-gp", MSR_EFER, efer | (1ull << 63));

        expect_vec("unknown-12345678-read-gp", try_rdmsr(0x12345678, &v), VEC_GP);
        expect_vec("unknown-12345678-write-gp", try_wrmsr(0x12345678, 1), VEC_GP);
        expect_vec("unknown-1234-read-gp", try_rdmsr(0x1234, &v), VEC_GP);
        expect_vec("unknown-1234-write-gp", try_wrmsr(0x1234, 0), VEC_GP);

        /* Architectural (SDM WRMSR): non-canonical bases raise #GP. */
        refused_write("kernel-gs-base-noncanonical-gp", MSR_KERNEL_GS_BASE, 0x0000800000000000ull);
}

void guest_main(void)
{
        allowed();
        refused();
        report("msr-guest-survived", true);
}
