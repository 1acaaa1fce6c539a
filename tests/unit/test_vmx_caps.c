/* Host unit tests for vmx/vmx_caps.c.  A fake RDMSR serves one CPU's VMX
 * capability MSRs and fails the test on any read of an MSR that, by the SDM's
 * rules, does not exist on that CPU (reading one would #GP on hardware). */
#include "tests/unit/check_compat.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_defs.h"

/* ---- the fake CPU ---- */

struct fake_msr {
        uint32_t msr;
        uint64_t value;
        unsigned reads;
};

/* Haswell as Bochs reports it (BASIC and EPT_VPID_CAP are real values; the
 * control MSRs are plausible ones with the usual default-1 bits). */
static const struct fake_msr haswell[] = {
        { MSR_IA32_VMX_BASIC, 0x00d810000000002bULL, 0 },
        { MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ULL, 0 },
        { MSR_IA32_VMX_PROCBASED_CTLS, 0xfff9fffe0401e172ULL, 0 },
        { MSR_IA32_VMX_EXIT_CTLS, 0x007fffff00036dffULL, 0 },
        { MSR_IA32_VMX_ENTRY_CTLS, 0x0000ffff000011ffULL, 0 },
        { MSR_IA32_VMX_MISC, 0x00000000300481e5ULL, 0 },
        { MSR_IA32_VMX_CR0_FIXED0, 0x0000000080000021ULL, 0 },
        { MSR_IA32_VMX_CR0_FIXED1, 0x00000000ffffffffULL, 0 },
        { MSR_IA32_VMX_CR4_FIXED0, 0x0000000000002000ULL, 0 },
        { MSR_IA32_VMX_CR4_FIXED1, 0x00000000003767ffULL, 0 },
        { MSR_IA32_VMX_PROCBASED_CTLS2, 0x000010ff00000000ULL, 0 },
        { MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106334141ULL, 0 },
        { MSR_IA32_VMX_TRUE_PINBASED, 0x0000007f00000016ULL, 0 },
        { MSR_IA32_VMX_TRUE_PROCBASED, 0xfff9fffe04006172ULL, 0 },
        { MSR_IA32_VMX_TRUE_EXIT, 0x007fffff00036dfbULL, 0 },
        { MSR_IA32_VMX_TRUE_ENTRY, 0x0000ffff000011fbULL, 0 },
};

#define NMSR (sizeof(haswell) / sizeof(haswell[0]))
static struct fake_msr cpu[NMSR];

static struct fake_msr *slot(uint32_t msr)
{
        for (size_t i = 0; i < NMSR; i++)
                if (cpu[i].msr == msr)
                        return &cpu[i];
        ck_abort_msg("no such MSR 0x%x in the fake", msr);
        return NULL;
}

static uint64_t val(uint32_t msr)
{
        return slot(msr)->value;
}

static void set(uint32_t msr, uint64_t v)
{
        slot(msr)->value = v;
}

/* Clears allowed-1 bits (the high half) of a control MSR. */
static void forbid(uint32_t msr, uint32_t bits)
{
        slot(msr)->value &= ~((uint64_t)bits << 32);
}

static unsigned reads(uint32_t msr)
{
        return slot(msr)->reads;
}

/* SDM A.1-A.10: which capability MSRs exist, given the others. */
static bool msr_exists(uint32_t msr)
{
        bool true_ctls = val(MSR_IA32_VMX_BASIC) & BIT(55);
        bool secondary = val(MSR_IA32_VMX_PROCBASED_CTLS) & BIT(63);
        uint64_t proc2 = val(MSR_IA32_VMX_PROCBASED_CTLS2);
        switch (msr) {
        case MSR_IA32_VMX_TRUE_PINBASED:
        case MSR_IA32_VMX_TRUE_PROCBASED:
        case MSR_IA32_VMX_TRUE_EXIT:
        case MSR_IA32_VMX_TRUE_ENTRY:
                return true_ctls;
        case MSR_IA32_VMX_PROCBASED_CTLS2:
                return secondary;
        case MSR_IA32_VMX_EPT_VPID_CAP:
                return secondary && (proc2 & (BIT(33) | BIT(37)));
        default:
                return true;
        }
}

static uint64_t fake_rdmsr(uint32_t msr)
{
        for (size_t i = 0; i < NMSR; i++) {
                if (cpu[i].msr != msr)
                        continue;
                if (!msr_exists(msr))
                        ck_abort_msg("RDMSR 0x%x: this MSR does not exist on the CPU", msr);
                cpu[i].reads++;
                return cpu[i].value;
        }
        ck_abort_msg("RDMSR 0x%x: not a VMX capability MSR", msr);
        return 0;
}

static void use_haswell(void)
{
        memcpy(cpu, haswell, sizeof(cpu));
}

static struct vmx_caps probe(void)
{
        struct vmx_caps c;
        memset(&c, 0xa5, sizeof(c)); /* anything not written shows */
        for (size_t i = 0; i < NMSR; i++)
                cpu[i].reads = 0;
        vmx_caps_probe(&c, fake_rdmsr);
        return c;
}

#define EXPECT_CTL(ctl, msr_value)                                                                 \
        do {                                                                                       \
                ck_assert_x64_eq((ctl).must_be_1, (uint32_t)(msr_value));                          \
                ck_assert_x64_eq((ctl).may_be_1, (uint32_t)((msr_value) >> 32));                   \
        } while (0)

/* ---- vmx_ctl_caps_from_msr / vmx_ctl_adjust ---- */

START_TEST(ctl_caps_from_msr_splits_halves)
{
        struct vmx_ctl_caps c = vmx_ctl_caps_from_msr(0x0123456789abcdefULL);
        ck_assert_x64_eq(c.must_be_1, 0x89abcdef);
        ck_assert_x64_eq(c.may_be_1, 0x01234567);
        c = vmx_ctl_caps_from_msr(0);
        ck_assert_x64_eq(c.must_be_1, 0);
        ck_assert_x64_eq(c.may_be_1, 0);
        c = vmx_ctl_caps_from_msr(UINT64_MAX);
        ck_assert_x64_eq(c.must_be_1, 0xffffffff);
        ck_assert_x64_eq(c.may_be_1, 0xffffffff);
}
END_TEST

START_TEST(adjust_grants_allowed_and_forces_required)
{
        struct vmx_ctl_caps c = vmx_ctl_caps_from_msr(0x0000007f00000016ULL);
        uint32_t refused = 0xdead;
        /* External-interrupt, NMI exiting and the preemption timer. */
        ck_assert_x64_eq(vmx_ctl_adjust(c, 0x49, &refused), 0x5f);
        ck_assert_x64_eq(refused, 0);
        /* Nothing wanted: only the must-be-1 bits. */
        refused = 0xdead;
        ck_assert_x64_eq(vmx_ctl_adjust(c, 0, &refused), 0x16);
        ck_assert_x64_eq(refused, 0);
        /* Wanting a must-be-1 bit is fine. */
        ck_assert_x64_eq(vmx_ctl_adjust(c, 0x02, &refused), 0x16);
        ck_assert_x64_eq(refused, 0);
}
END_TEST

START_TEST(adjust_refuses_disallowed)
{
        struct vmx_ctl_caps c = vmx_ctl_caps_from_msr(0x0000007f00000016ULL);
        uint32_t refused = 0;
        ck_assert_x64_eq(vmx_ctl_adjust(c, 0x81, &refused), 0x17);
        ck_assert_x64_eq(refused, 0x80);
        ck_assert_x64_eq(vmx_ctl_adjust(c, 0xffffffff, &refused), 0x7f);
        ck_assert_x64_eq(refused, 0xffffff80);
        /* refused may be NULL. */
        ck_assert_x64_eq(vmx_ctl_adjust(c, 0x80000001, NULL), 0x17);

        /* Nothing may be 1: everything wanted is refused. */
        struct vmx_ctl_caps none = { .must_be_1 = 0, .may_be_1 = 0 };
        ck_assert_x64_eq(vmx_ctl_adjust(none, 0x12345678, &refused), 0);
        ck_assert_x64_eq(refused, 0x12345678);

        /* Secondary controls on a CPU that lacks them. */
        struct vmx_ctl_caps proc = vmx_ctl_caps_from_msr(0x7ff9fffe0401e172ULL);
        ck_assert_x64_eq(vmx_ctl_adjust(proc, PROC_SECONDARY | PROC_HLT_EXITING, &refused),
                         0x0401e172 | PROC_HLT_EXITING);
        ck_assert_x64_eq(refused, PROC_SECONDARY);
}
END_TEST

START_TEST(adjust_must_be_1_wins)
{
        /* Even a bit not in may_be_1 is set when it must be. */
        struct vmx_ctl_caps odd = { .must_be_1 = 0x100, .may_be_1 = 0x0f };
        uint32_t refused = 0;
        ck_assert_x64_eq(vmx_ctl_adjust(odd, 0x3, &refused), 0x103);
        ck_assert_x64_eq(refused, 0);
        ck_assert_x64_eq(vmx_ctl_adjust(odd, 0x300, &refused), 0x100);
        ck_assert_x64_eq(refused, 0x300);
}
END_TEST

/* ---- vmx_caps_probe ---- */

START_TEST(probe_uses_true_controls_when_basic_bit55)
{
        use_haswell();
        /* Make true and plain MSRs differ everywhere. */
        set(MSR_IA32_VMX_TRUE_PINBASED, 0x0000007f00000006ULL);
        struct vmx_caps c = probe();
        ck_assert_x64_eq(c.basic, 0x00d810000000002bULL);
        EXPECT_CTL(c.pin, 0x0000007f00000006ULL);
        EXPECT_CTL(c.proc, 0xfff9fffe04006172ULL);
        EXPECT_CTL(c.exit, 0x007fffff00036dfbULL);
        EXPECT_CTL(c.entry, 0x0000ffff000011fbULL);
        EXPECT_CTL(c.proc2, 0x000010ff00000000ULL);
        ck_assert_x64_eq(c.ept_vpid, 0x00000f0106334141ULL);
        ck_assert_x64_eq(c.misc, 0x00000000300481e5ULL);
        ck_assert_x64_eq(c.cr0_fixed0, 0x80000021);
        ck_assert_x64_eq(c.cr0_fixed1, 0xffffffff);
        ck_assert_x64_eq(c.cr4_fixed0, 0x2000);
        ck_assert_x64_eq(c.cr4_fixed1, 0x3767ff);
        ck_assert_uint_eq(vmx_caps_preempt_shift(&c), 5);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_TRUE_PINBASED), 1);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_TRUE_PROCBASED), 1);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_TRUE_EXIT), 1);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_TRUE_ENTRY), 1);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_PROCBASED_CTLS2), 1);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_EPT_VPID_CAP), 1);
        ck_assert_ptr_null(vmx_caps_missing(&c));
}
END_TEST

START_TEST(probe_uses_plain_controls_without_bit55)
{
        use_haswell();
        set(MSR_IA32_VMX_BASIC, 0x00581000000000abULL & ~BIT(55));
        /* Any read of a TRUE_* MSR now fails the test (see msr_exists). */
        struct vmx_caps c = probe();
        ck_assert_x64_eq(c.basic, 0x00581000000000abULL);
        EXPECT_CTL(c.pin, 0x0000007f00000016ULL);
        EXPECT_CTL(c.proc, 0xfff9fffe0401e172ULL);
        EXPECT_CTL(c.exit, 0x007fffff00036dffULL);
        EXPECT_CTL(c.entry, 0x0000ffff000011ffULL);
        EXPECT_CTL(c.proc2, 0x000010ff00000000ULL);
        ck_assert_x64_eq(c.ept_vpid, 0x00000f0106334141ULL);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_PINBASED_CTLS), 1);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_TRUE_PINBASED), 0);
        ck_assert_ptr_null(vmx_caps_missing(&c));
}
END_TEST

START_TEST(probe_skips_secondary_when_not_allowed)
{
        use_haswell();
        forbid(MSR_IA32_VMX_PROCBASED_CTLS, PROC_SECONDARY);
        forbid(MSR_IA32_VMX_TRUE_PROCBASED, PROC_SECONDARY);
        /* Reading PROCBASED_CTLS2 or EPT_VPID_CAP now fails the test. */
        struct vmx_caps c = probe();
        ck_assert_x64_eq(c.proc2.must_be_1, 0);
        ck_assert_x64_eq(c.proc2.may_be_1, 0);
        ck_assert_x64_eq(c.ept_vpid, 0);
        ck_assert_x64_eq(c.cr4_fixed1, 0x3767ff);
}
END_TEST

START_TEST(probe_skips_secondary_without_true_controls)
{
        use_haswell();
        set(MSR_IA32_VMX_BASIC, 0x000810000000002bULL);
        forbid(MSR_IA32_VMX_PROCBASED_CTLS, PROC_SECONDARY);
        struct vmx_caps c = probe();
        ck_assert_x64_eq(c.proc2.may_be_1, 0);
        ck_assert_x64_eq(c.ept_vpid, 0);
        const char *why = vmx_caps_missing(&c);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_nonnull(strstr(why, "secondary"));
}
END_TEST

START_TEST(probe_skips_ept_vpid_cap_without_ept_or_vpid)
{
        use_haswell();
        forbid(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT | PROC2_VPID);
        struct vmx_caps c = probe();
        ck_assert_x64_eq(c.proc2.may_be_1, 0x000010ff & ~(PROC2_EPT | PROC2_VPID));
        ck_assert_x64_eq(c.ept_vpid, 0);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_EPT_VPID_CAP), 0);
}
END_TEST

START_TEST(probe_reads_ept_vpid_cap_with_either)
{
        use_haswell();
        forbid(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT);
        struct vmx_caps c = probe();
        ck_assert_x64_eq(c.ept_vpid, 0x00000f0106334141ULL);

        use_haswell();
        forbid(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_VPID);
        c = probe();
        ck_assert_x64_eq(c.ept_vpid, 0x00000f0106334141ULL);
        ck_assert_uint_eq(reads(MSR_IA32_VMX_EPT_VPID_CAP), 1);
}
END_TEST

START_TEST(preempt_shift)
{
        struct vmx_caps c = { .misc = 0x1f };
        ck_assert_uint_eq(vmx_caps_preempt_shift(&c), 31);
        c.misc = 0xffffffffffffffe0ULL;
        ck_assert_uint_eq(vmx_caps_preempt_shift(&c), 0);
        c.misc = 0x00000000300481e7ULL;
        ck_assert_uint_eq(vmx_caps_preempt_shift(&c), 7);
}
END_TEST

/* ---- vmx_caps_missing ---- */

START_TEST(missing_none_on_haswell)
{
        use_haswell();
        struct vmx_caps c = probe();
        ck_assert_ptr_null(vmx_caps_missing(&c));
}
END_TEST

/* One feature taken away per row: which MSR, which bits, and words the
 * sentence must contain.  Control bits are allowed-1 bits; EPT/VPID rows
 * clear bits of IA32_VMX_EPT_VPID_CAP itself. */
struct missing_case {
        uint32_t msr;
        uint64_t clear;
        const char *words;
};

#define CTL(b) ((uint64_t)(b) << 32)
static const struct missing_case missing_cases[] = {
        { MSR_IA32_VMX_TRUE_PROCBASED, CTL(PROC_SECONDARY), "secondary" },
        { MSR_IA32_VMX_PROCBASED_CTLS2, CTL(PROC2_EPT), "EPT (extended page tables)" },
        { MSR_IA32_VMX_PROCBASED_CTLS2, CTL(PROC2_VPID), "VPID" },
        { MSR_IA32_VMX_PROCBASED_CTLS2, CTL(PROC2_UNRESTRICTED_GUEST), "unrestricted guest" },
        { MSR_IA32_VMX_TRUE_PINBASED, CTL(PIN_PREEMPT_TIMER), "preemption timer" },
        { MSR_IA32_VMX_TRUE_PINBASED, CTL(PIN_EXTINT_EXITING), "NMI exiting" },
        { MSR_IA32_VMX_TRUE_PINBASED, CTL(PIN_NMI_EXITING), "NMI exiting" },
        { MSR_IA32_VMX_TRUE_PROCBASED, CTL(PROC_MSR_BITMAPS), "MSR bitmaps" },
        { MSR_IA32_VMX_TRUE_PROCBASED, CTL(PROC_IO_BITMAPS), "I/O bitmaps" },
        { MSR_IA32_VMX_TRUE_PROCBASED, CTL(PROC_HLT_EXITING), "HLT exiting" },
        { MSR_IA32_VMX_TRUE_PROCBASED, CTL(PROC_CR8_LOAD_EXITING), "CR8" },
        { MSR_IA32_VMX_TRUE_PROCBASED, CTL(PROC_CR8_STORE_EXITING), "CR8" },
        { MSR_IA32_VMX_TRUE_EXIT, CTL(EXIT_HOST_ADDR_SPACE_SIZE), "64-bit host" },
        { MSR_IA32_VMX_TRUE_EXIT, CTL(EXIT_LOAD_EFER), "IA32_EFER on VM exit" },
        { MSR_IA32_VMX_TRUE_EXIT, CTL(EXIT_SAVE_EFER), "IA32_EFER on VM exit" },
        { MSR_IA32_VMX_TRUE_EXIT, CTL(EXIT_SAVE_PAT), "IA32_PAT on VM exit" },
        { MSR_IA32_VMX_TRUE_EXIT, CTL(EXIT_LOAD_PAT), "IA32_PAT on VM exit" },
        { MSR_IA32_VMX_TRUE_ENTRY, CTL(ENTRY_LOAD_EFER), "on VM entry" },
        { MSR_IA32_VMX_TRUE_ENTRY, CTL(ENTRY_LOAD_PAT), "on VM entry" },
        { MSR_IA32_VMX_TRUE_ENTRY, CTL(ENTRY_IA32E_MODE), "IA-32e mode" },
        { MSR_IA32_VMX_EPT_VPID_CAP, EPT_CAP_WALK4, "4-level page walk" },
        { MSR_IA32_VMX_EPT_VPID_CAP, EPT_CAP_WB, "write-back" },
        { MSR_IA32_VMX_EPT_VPID_CAP, EPT_CAP_INVEPT, "INVEPT" },
        { MSR_IA32_VMX_EPT_VPID_CAP, EPT_CAP_INVEPT_SINGLE, "INVEPT" },
        { MSR_IA32_VMX_EPT_VPID_CAP, VPID_CAP_INVVPID, "INVVPID" },
        { MSR_IA32_VMX_EPT_VPID_CAP, VPID_CAP_INVVPID_SINGLE, "INVVPID" },
};
#define NMISSING ((int)(sizeof(missing_cases) / sizeof(missing_cases[0])))

static const char *missing_after(const struct missing_case *mc)
{
        use_haswell();
        set(mc->msr, val(mc->msr) & ~mc->clear);
        struct vmx_caps c = probe();
        return vmx_caps_missing(&c);
}

/* Loop test: _i indexes missing_cases. */
START_TEST(missing_names_the_feature)
{
        const struct missing_case *mc = &missing_cases[_i];
        const char *why = missing_after(mc);
        ck_assert_msg(why != NULL, "case %d (%s): nothing reported missing", _i, mc->words);
        ck_assert_msg(strstr(why, mc->words) != NULL, "case %d: \"%s\" does not mention \"%s\"", _i,
                      why, mc->words);
        /* Rows naming different features get different sentences. */
        for (int j = 0; j < NMISSING; j++) {
                if (strcmp(missing_cases[j].words, mc->words) == 0)
                        continue;
                const char *other = missing_after(&missing_cases[j]);
                ck_assert_msg(strcmp(other, why) != 0, "cases %d and %d both say \"%s\"", _i, j,
                              why);
        }
}
END_TEST

/* The sentence for a CPU lacking just one allowed-1 control bit. */
static const char *missing_only(uint32_t msr, uint32_t bit)
{
        struct missing_case mc = { msr, CTL(bit), "" };
        const char *why = missing_after(&mc);
        ck_assert_ptr_nonnull(why);
        return why;
}

START_TEST(missing_reports_first_in_order)
{
        const char *no_ept = missing_only(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT);
        const char *no_vpid = missing_only(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_VPID);
        const char *no_secondary = missing_only(MSR_IA32_VMX_TRUE_PROCBASED, PROC_SECONDARY);
        const char *no_timer = missing_only(MSR_IA32_VMX_TRUE_PINBASED, PIN_PREEMPT_TIMER);
        ck_assert_ptr_nonnull(strstr(no_ept, "EPT"));
        ck_assert_ptr_null(strstr(no_ept, "VPID"));
        ck_assert_ptr_nonnull(strstr(no_vpid, "VPID"));
        ck_assert_ptr_nonnull(strstr(no_secondary, "secondary"));
        ck_assert_str_ne(no_secondary, no_ept);

        /* No EPT and no VPID: EPT is named, and EPT_VPID_CAP is never read. */
        use_haswell();
        forbid(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT | PROC2_VPID);
        struct vmx_caps c = probe();
        ck_assert_str_eq(vmx_caps_missing(&c), no_ept);

        /* No secondary controls at all: reported as such, not as no EPT,
         * even with the preemption timer missing too. */
        use_haswell();
        forbid(MSR_IA32_VMX_TRUE_PROCBASED, PROC_SECONDARY);
        forbid(MSR_IA32_VMX_PROCBASED_CTLS, PROC_SECONDARY);
        forbid(MSR_IA32_VMX_TRUE_PINBASED, PIN_PREEMPT_TIMER);
        c = probe();
        ck_assert_str_eq(vmx_caps_missing(&c), no_secondary);

        /* VPID and preemption timer both missing: VPID first. */
        use_haswell();
        forbid(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_VPID);
        forbid(MSR_IA32_VMX_TRUE_PINBASED, PIN_PREEMPT_TIMER);
        c = probe();
        ck_assert_str_eq(vmx_caps_missing(&c), no_vpid);
        ck_assert_str_ne(no_vpid, no_timer);
}
END_TEST

START_TEST(missing_ignores_plain_msrs_when_true_exist)
{
        /* With bit 55 set, only the TRUE_* MSRs count: taking a feature away
         * from the plain MSR alone changes nothing. */
        use_haswell();
        forbid(MSR_IA32_VMX_PINBASED_CTLS, PIN_PREEMPT_TIMER);
        forbid(MSR_IA32_VMX_EXIT_CTLS, EXIT_LOAD_EFER);
        struct vmx_caps c = probe();
        ck_assert_ptr_null(vmx_caps_missing(&c));

        /* Without bit 55 the same plain MSRs are what counts. */
        set(MSR_IA32_VMX_BASIC, 0x005810000000002bULL);
        c = probe();
        const char *why = vmx_caps_missing(&c);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_nonnull(strstr(why, "preemption timer"));
}
END_TEST

static Suite *vmx_caps_suite(void)
{
        Suite *s = suite_create("vmx_caps");
        TCase *ctl = tcase_create("controls");
        tcase_add_test(ctl, ctl_caps_from_msr_splits_halves);
        tcase_add_test(ctl, adjust_grants_allowed_and_forces_required);
        tcase_add_test(ctl, adjust_refuses_disallowed);
        tcase_add_test(ctl, adjust_must_be_1_wins);
        suite_add_tcase(s, ctl);

        TCase *pr = tcase_create("probe");
        tcase_add_test(pr, probe_uses_true_controls_when_basic_bit55);
        tcase_add_test(pr, probe_uses_plain_controls_without_bit55);
        tcase_add_test(pr, probe_skips_secondary_when_not_allowed);
        tcase_add_test(pr, probe_skips_secondary_without_true_controls);
        tcase_add_test(pr, probe_skips_ept_vpid_cap_without_ept_or_vpid);
        tcase_add_test(pr, probe_reads_ept_vpid_cap_with_either);
        tcase_add_test(pr, preempt_shift);
        suite_add_tcase(s, pr);

        TCase *mi = tcase_create("missing");
        tcase_add_test(mi, missing_none_on_haswell);
        tcase_add_loop_test(mi, missing_names_the_feature, 0, NMISSING);
        tcase_add_test(mi, missing_reports_first_in_order);
        tcase_add_test(mi, missing_ignores_plain_msrs_when_true_exist);
        suite_add_tcase(s, mi);
        return s;
}

int main(void)
{
        return unit_run_suite(vmx_caps_suite());
}
