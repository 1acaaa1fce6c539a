/* xsetbv: XCR0 through XSETBV/XGETBV.  The guest sets CR4.OSXSAVE (allowed),
 * valid XCR0 values must be accepted and read back, invalid ones (bit 0
 * clear, AVX without SSE, unsupported bits) and ECX != 0 must raise #GP
 * without changing XCR0.  Setting CR4.VMXE must raise #GP. */
#include "guest.h"

#define CR4_VMXE    (1u << 13)
#define CR4_OSXSAVE (1u << 18)

static void xsetbv_ok(const char *name, uint64_t val)
{
        uint64_t got = 0;
        int sv = try_xsetbv(0, val);
        int gv = try_xgetbv(0, &got);
        if (sv == VEC_NONE && gv == VEC_NONE && got == val) {
                report(name, true);
                return;
        }
        g_failed++;
        gprintf("FAIL: %s (xsetbv 0x%llx: vec %d; xgetbv vec %d value 0x%llx)\n", name, val, sv, gv,
                got);
}

static void xsetbv_gp(const char *name, uint32_t index, uint64_t val)
{
        uint64_t before = 0, after = 0;
        try_xgetbv(0, &before);
        int sv = try_xsetbv(index, val);
        try_xgetbv(0, &after);
        if (sv == VEC_GP && after == before) {
                report(name, true);
                return;
        }
        g_failed++;
        gprintf("FAIL: %s (xsetbv ecx %u value 0x%llx: vec %d; xcr0 0x%llx -> 0x%llx)\n", name,
                index, val, sv, before, after);
}

static void vmxe(void)
{
        uint32_t cr4 = read_cr4();
        expect_vec("cr4-vmxe-gp", try_write_cr4(cr4 | CR4_VMXE), VEC_GP);
        report("cr4-vmxe-still-clear", (read_cr4() & CR4_VMXE) == 0);
}

/* State vtvisor does not switch between VMs is hidden from guests: CPUID
 * shows no protection keys, 5-level paging, CET or Key Locker, and their
 * CR4 bits raise #GP as on a CPU without them. */
static void unswitched_state_hidden(void)
{
        struct cpuid_regs r = cpuid(7, 0);
        report("cpuid-pku-hidden", (r.ecx & ((1u << 3) | (1u << 4))) == 0);
        report("cpuid-la57-cet-kl-hidden",
               (r.ecx & ((1u << 7) | (1u << 16) | (1u << 23))) == 0 && (r.edx & (1u << 20)) == 0);
        static const struct {
                const char *name;
                unsigned bit;
        } bits[] = { { "cr4-la57-gp", 12 },
                     { "cr4-kl-gp", 19 },
                     { "cr4-pke-gp", 22 },
                     { "cr4-cet-gp", 23 },
                     { "cr4-pks-gp", 24 } };
        uint32_t cr4 = read_cr4();
        for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
                expect_vec(bits[i].name, try_write_cr4(cr4 | (1u << bits[i].bit)), VEC_GP);
        }
        report("cr4-unchanged", read_cr4() == cr4);
}

void guest_main(void)
{
        unswitched_state_hidden();
        struct cpuid_regs r = cpuid(1, 0);
        if (!(r.ecx & (1u << 26))) {
                gprintf("xsetbv: CPU without XSAVE: only the VMXE check runs\n");
                vmxe();
                return;
        }
        report("osxsave-initially-clear", (read_cr4() & CR4_OSXSAVE) == 0);
        /* Architectural: XSETBV with CR4.OSXSAVE = 0 is #UD. */
        expect_vec("xsetbv-without-osxsave-ud", try_xsetbv(0, 1), VEC_UD);

        uint32_t cr4 = read_cr4();
        expect_vec("cr4-osxsave-set", try_write_cr4(cr4 | CR4_OSXSAVE), VEC_NONE);
        report("cr4-osxsave-reads-back", (read_cr4() & CR4_OSXSAVE) != 0);
        /* Architectural: CPUID.1:ECX.OSXSAVE[27] mirrors CR4.OSXSAVE. */
        report("cpuid-osxsave-mirrors-cr4", (cpuid(1, 0).ecx & (1u << 27)) != 0);

        struct cpuid_regs d = cpuid(0xd, 0);
        uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
        gprintf("xsetbv: supported XCR0 bits 0x%llx\n", supported);

        uint64_t xcr0 = 0;
        expect_vec("xgetbv", try_xgetbv(0, &xcr0), VEC_NONE);
        expect_eq64("xcr0-initial-x87", xcr0, 1);

        xsetbv_ok("xcr0-x87", 1);
        if (supported & 2)
                xsetbv_ok("xcr0-x87-sse", 3);
        if ((supported & 6) == 6)
                xsetbv_ok("xcr0-x87-sse-avx", 7);

        xsetbv_gp("xcr0-zero-gp", 0, 0);
        xsetbv_gp("xcr0-no-x87-gp", 0, 2);
        xsetbv_gp("xcr0-avx-without-sse-gp", 0, 5);
        /* The highest bit the CPU does not support. */
        uint64_t unsupported = 0;
        for (int bit = 63; bit >= 0; bit--) {
                if (!(supported & (1ull << bit))) {
                        unsupported = 1ull << bit;
                        break;
                }
        }
        xsetbv_gp("xcr0-unsupported-bit63-gp", 0, 1 | unsupported);
        for (int bit = 2; bit < 32; bit++) {
                if (!(supported & (1ull << bit))) {
                        gprintf("xsetbv: lowest unsupported bit %d\n", bit);
                        xsetbv_gp("xcr0-unsupported-low-bit-gp", 0, 3 | (1ull << bit));
                        break;
                }
        }
        xsetbv_gp("xsetbv-ecx1-gp", 1, 1);
        xsetbv_gp("xsetbv-ecx-large-gp", 0x80000000u, 1);

        xsetbv_ok("xcr0-back-to-x87", 1);
        vmxe();
}
