/* Host unit tests for devices/acpi_pm.c (PM1a event and control blocks and
 * the PM timer at the ports devices/acpi.h puts in the FADT) and
 * devices/reset.c (the FADT's reset register 0xcf9, and the keyboard
 * controller's reset command). */
#include "tests/unit/check_compat.h"
#include "devices/acpi_pm.h"
#include "devices/reset.h"

#define TSC_HZ 150000000ULL /* Bochs with ips=150000000 */

static struct acpi_pm pm;
static struct acpi_pm_event ev;

static void setup(void)
{
        acpi_pm_init(&pm, TSC_HZ);
}

/* The reference: exact 128-bit arithmetic (fine on the host). */
static uint64_t ref_ticks(uint64_t tsc, uint64_t hz)
{
        return (uint64_t)((unsigned __int128)tsc * ACPI_PM_TMR_HZ / hz);
}

START_TEST(ports_match_the_fadt)
{
        ck_assert_uint_eq(ACPI_PM1_STS_PORT, 0x600);
        ck_assert_uint_eq(ACPI_PM1_EN_PORT, 0x602);
        for (uint16_t port = 0x600; port < 0x606; port++)
                ck_assert(acpi_pm_claims(port));
        ck_assert(!acpi_pm_claims(0x606));
        ck_assert(!acpi_pm_claims(0x607));
        for (uint16_t port = 0x608; port < 0x60c; port++)
                ck_assert(acpi_pm_claims(port));
        ck_assert(!acpi_pm_claims(0x60c));
        ck_assert(!acpi_pm_claims(0x5ff));
        ck_assert_uint_eq(acpi_pm_in(&pm, 0x606, 2, 0), 0xffff);
}
END_TEST

START_TEST(sci_en_reads_one)
{
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0), ACPI_PM1_CNT_SCI_EN);
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, 0, 0, &ev);
        ck_assert(!ev.sleep);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0) & ACPI_PM1_CNT_SCI_EN, 1);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 1, 0), 0x01);
}
END_TEST

/* ACPICA's acpi_hw_legacy_sleep: read PM1_CNT, write SLP_TYP without
 * SLP_EN, then SLP_TYP with SLP_EN. */
START_TEST(s5_sequence)
{
        uint32_t cnt = acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0);
        cnt &= ~(uint32_t)(ACPI_PM1_CNT_SLP_TYP_MASK | ACPI_PM1_CNT_SLP_EN);
        cnt |= ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT;
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, cnt, 0, &ev);
        ck_assert(!ev.sleep);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0), 0x1401);
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, cnt | ACPI_PM1_CNT_SLP_EN, 0, &ev);
        ck_assert(ev.sleep);
        ck_assert_uint_eq(ev.slp_typ, ACPI_SLP_TYP_S5);
        /* SLP_EN is write-only. */
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0), 0x1401);
        /* The next unrelated write reports nothing. */
        acpi_pm_out(&pm, ACPI_PM1_STS_PORT, 2, 0xffff, 0, &ev);
        ck_assert(!ev.sleep);
}
END_TEST

START_TEST(sleep_with_byte_write_and_other_types)
{
        /* High byte alone: SLP_EN | SLP_TYP=5 is 0x34. */
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT + 1, 1, 0x34, 0, &ev);
        ck_assert(ev.sleep);
        ck_assert_uint_eq(ev.slp_typ, 5);
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, ACPI_PM1_CNT_SLP_EN | 1u << 10, 0, &ev);
        ck_assert(ev.sleep);
        ck_assert_uint_eq(ev.slp_typ, 1);
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, ACPI_PM1_CNT_SLP_EN, 0, &ev);
        ck_assert(ev.sleep);
        ck_assert_uint_eq(ev.slp_typ, 0);
        /* Low byte alone cannot carry SLP_EN. */
        acpi_pm_out(&pm, ACPI_PM1A_CNT_PORT, 1, 0xff, 0, &ev);
        ck_assert(!ev.sleep);
        /* BM_RLD is stored, GBL_RLS and reserved bits are not. */
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0), 0x0003);
}
END_TEST

START_TEST(pm1_enable_keeps_what_is_written)
{
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_EN_PORT, 2, 0), 0);
        /* ACPICA enables GBL_EN and reads it back; rtc-cmos does RTC_EN. */
        acpi_pm_out(&pm, ACPI_PM1_EN_PORT, 2, ACPI_PM1_GBL_EN, 0, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_EN_PORT, 2, 0), ACPI_PM1_GBL_EN);
        acpi_pm_out(&pm, ACPI_PM1_EN_PORT, 2, ACPI_PM1_GBL_EN | ACPI_PM1_RTC_EN, 0, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_EN_PORT, 2, 0),
                          ACPI_PM1_GBL_EN | ACPI_PM1_RTC_EN);
        /* Reserved bits stay 0. */
        acpi_pm_out(&pm, ACPI_PM1_EN_PORT, 2, 0xffff, 0, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_EN_PORT, 2, 0), 0x4721);
        /* Byte writes touch their byte only. */
        acpi_pm_out(&pm, ACPI_PM1_EN_PORT + 1, 1, 0x00, 0, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_EN_PORT, 2, 0), 0x0021);
        /* A dword read of the event block is PM1_EN:PM1_STS. */
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 4, 0), 0x00210000);
        ck_assert(!ev.sleep);
}
END_TEST

START_TEST(pm1_status_timer_carry)
{
        uint64_t per_tick_tsc = TSC_HZ / ACPI_PM_TMR_HZ + 1;
        /* Bit 23 first changes after 2^23 ticks. */
        uint64_t before = ((1ULL << 23) - 1) * TSC_HZ / ACPI_PM_TMR_HZ;
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, 0), 0);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, before), 0);
        uint64_t after = before + 2 * per_tick_tsc;
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, after), ACPI_PM1_TMR_STS);
        /* Writing 0 changes nothing; writing 1 clears. */
        acpi_pm_out(&pm, ACPI_PM1_STS_PORT, 2, 0, after, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, after), ACPI_PM1_TMR_STS);
        acpi_pm_out(&pm, ACPI_PM1_STS_PORT, 2, ACPI_PM1_TMR_STS, after, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, after), 0);
        /* Set again at the next change of bit 23 (2^23 ticks later). */
        uint64_t next = (2ULL << 23) * TSC_HZ / ACPI_PM_TMR_HZ;
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, next - 2 * per_tick_tsc), 0);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, next + per_tick_tsc),
                          ACPI_PM1_TMR_STS);
        /* ACPICA's clear-all (ACPI_BITMASK_ALL_FIXED_STATUS) as a word. */
        acpi_pm_out(&pm, ACPI_PM1_STS_PORT, 2, 0x8731, next + per_tick_tsc, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, next + per_tick_tsc), 0);
        /* Other status bits clear on 1 too. */
        pm.sts = ACPI_PM1_WAK_STS | ACPI_PM1_PWRBTN_STS;
        acpi_pm_out(&pm, ACPI_PM1_STS_PORT + 1, 1, 0x80, next + per_tick_tsc, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM1_STS_PORT, 2, next + per_tick_tsc),
                          ACPI_PM1_PWRBTN_STS);
}
END_TEST

START_TEST(pm_timer_rate)
{
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, 0), 0);
        /* One second of TSC is 3579545 ticks. */
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, TSC_HZ), 3579545);
        /* 24 bits: wraps after 2^24 ticks, bits 31:24 read 0. */
        uint64_t tsc = 10 * TSC_HZ; /* 35795450 ticks */
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, tsc), 35795450 & 0xffffff);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, tsc) >> 24, 0);
        /* Byte and word reads see their part. */
        uint32_t v = acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, tsc);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT + 1, 1, tsc), (v >> 8) & 0xff);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT + 2, 2, tsc), v >> 16);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT + 3, 1, tsc), 0);
        /* Read-only. */
        acpi_pm_out(&pm, ACPI_PM_TMR_PORT, 4, 0x123456, tsc, &ev);
        ck_assert_uint_eq(acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, tsc), v);
}
END_TEST

/* Linux's acpi_pm clocksource reads the timer repeatedly and wants it
 * monotonic (modulo the 24-bit wrap) and moving. */
START_TEST(pm_timer_monotonic)
{
        uint64_t first = 12345, last = first;
        uint32_t prev = acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, first);
        uint64_t moved = 0;
        for (uint64_t tsc = first; tsc < first + 200 * TSC_HZ; tsc += 408893) {
                uint32_t v = acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, tsc);
                uint32_t delta = (v - prev) & 0xffffff;
                ck_assert_uint_lt(delta, 1u << 23);
                moved += delta;
                prev = v;
                last = tsc;
        }
        /* The deltas add up to the elapsed ticks across many wraps. */
        ck_assert_uint_gt(moved, 40u << 24);
        ck_assert_uint_eq(moved, acpi_pm_ticks(&pm, last) - acpi_pm_ticks(&pm, first));
}
END_TEST

START_TEST(ticks_match_exact_arithmetic)
{
        static const uint64_t hzs[] = {
                1,          1000,        ACPI_PM_TMR_HZ,  150000000,
                2400000000, 10000000000, 999999999989ULL, ACPI_PM_TSC_HZ_MAX - 1
        };
        static const uint64_t tscs[] = { 0,
                                         1,
                                         149999999,
                                         150000000,
                                         0x123456789abcdefULL,
                                         1ULL << 40,
                                         (1ULL << 63) + 12345,
                                         UINT64_MAX / ACPI_PM_TMR_HZ,
                                         UINT64_MAX };
        for (size_t i = 0; i < ARRAY_SIZE(hzs); i++) {
                struct acpi_pm p;
                acpi_pm_init(&p, hzs[i]);
                for (size_t j = 0; j < ARRAY_SIZE(tscs); j++) {
                        /* Exact modulo 2^64, so the 24-bit value is exact. */
                        ck_assert_x64_eq(acpi_pm_ticks(&p, tscs[j]), ref_ticks(tscs[j], hzs[i]));
                        ck_assert_x64_eq(acpi_pm_in(&p, ACPI_PM_TMR_PORT, 4, tscs[j]),
                                         ref_ticks(tscs[j], hzs[i]) & 0xffffff);
                }
        }
}
END_TEST

START_TEST(bad_frequency_is_clamped)
{
        struct acpi_pm p;
        acpi_pm_init(&p, 0);
        ck_assert_uint_eq(p.tsc_hz, 1);
        ck_assert_uint_eq(acpi_pm_ticks(&p, 2), 2 * ACPI_PM_TMR_HZ);
        acpi_pm_init(&p, UINT64_MAX);
        ck_assert_uint_eq(p.tsc_hz, ACPI_PM_TSC_HZ_MAX - 1);
        (void)acpi_pm_in(&p, ACPI_PM_TMR_PORT, 4, UINT64_MAX);
}
END_TEST

static struct reset rst;
static bool requested;

static void reset_setup(void)
{
        reset_init(&rst);
        requested = true; /* reset_out must always write it */
}

START_TEST(reset_claims_byte_ports)
{
        ck_assert(reset_claims(0xcf9, 1));
        ck_assert(reset_claims(0x64, 1));
        ck_assert(!reset_claims(0xcf9, 2));
        ck_assert(!reset_claims(0xcf8, 4));
        ck_assert(!reset_claims(0x60, 1));
        ck_assert(!reset_claims(0x64, 2));
        ck_assert_uint_eq(reset_in(&rst, 0xcf8, 4), 0xffffffff);
        ck_assert_uint_eq(reset_in(&rst, 0x60, 1), 0xff);
        reset_out(&rst, 0xcf8, 4, 0x80000000, &requested);
        ck_assert(!requested);
}
END_TEST

/* The FADT's RESET_REG with RESET_VALUE: Linux's acpi_reboot writes the
 * byte once. */
START_TEST(acpi_reset_value)
{
        ck_assert_uint_eq(reset_in(&rst, RESET_CONTROL_PORT, 1), 0);
        reset_out(&rst, ACPI_RESET_PORT, 1, ACPI_RESET_VALUE, &requested);
        ck_assert(requested);
        /* The reset returns the register to 0, so it can be used again. */
        ck_assert_uint_eq(reset_in(&rst, RESET_CONTROL_PORT, 1), 0);
        reset_out(&rst, ACPI_RESET_PORT, 1, ACPI_RESET_VALUE, &requested);
        ck_assert(requested);
}
END_TEST

/* reboot=pci (Linux's BOOT_CF9_FORCE): read, write SYS_RST, then SYS_RST
 * with RST_CPU.  Only the second write resets. */
START_TEST(cf9_two_step_sequence)
{
        uint8_t cf9 = (uint8_t)(reset_in(&rst, RESET_CONTROL_PORT, 1) & ~0x06u);
        reset_out(&rst, RESET_CONTROL_PORT, 1, cf9 | 0x02, &requested);
        ck_assert(!requested);
        ck_assert_uint_eq(reset_in(&rst, RESET_CONTROL_PORT, 1), 0x02);
        reset_out(&rst, RESET_CONTROL_PORT, 1, cf9 | 0x06, &requested);
        ck_assert(requested);
        /* Soft reset (RST_CPU without SYS_RST) resets the VM as well. */
        reset_out(&rst, RESET_CONTROL_PORT, 1, 0x04, &requested);
        ck_assert(requested);
        /* Bits other than 3:1 are not stored; FULL_RST is. */
        reset_out(&rst, RESET_CONTROL_PORT, 1, 0xf9, &requested);
        ck_assert(!requested);
        ck_assert_uint_eq(reset_in(&rst, RESET_CONTROL_PORT, 1), 0x08);
}
END_TEST

START_TEST(cf9_needs_a_rising_edge)
{
        reset_out(&rst, RESET_CONTROL_PORT, 1, 0x06, &requested);
        ck_assert(requested);
        reset_out(&rst, RESET_CONTROL_PORT, 1, 0x00, &requested);
        ck_assert(!requested);
        /* A word write over 0xcf8-0xcf9 is not this register. */
        reset_out(&rst, 0xcf8, 2, 0x0600, &requested);
        ck_assert(!requested);
        reset_out(&rst, RESET_CONTROL_PORT, 2, 0x0006, &requested);
        ck_assert(!requested);
}
END_TEST

START_TEST(keyboard_controller_reset)
{
        /* No controller: status reads as an empty bus. */
        ck_assert_uint_eq(reset_in(&rst, KBC_COMMAND_PORT, 1), 0xff);
        reset_out(&rst, KBC_COMMAND_PORT, 1, 0xfe, &requested);
        ck_assert(requested);
        /* Any pulse command with bit 0 clear pulses the reset line. */
        reset_out(&rst, KBC_COMMAND_PORT, 1, 0xf0, &requested);
        ck_assert(requested);
        reset_out(&rst, KBC_COMMAND_PORT, 1, 0xff, &requested); /* pulses nothing */
        ck_assert(!requested);
        reset_out(&rst, KBC_COMMAND_PORT, 1, 0xfd, &requested);
        ck_assert(!requested);
        /* Other commands (read CTR, A20 via 0xd1, self-test) are ignored. */
        static const uint8_t others[] = { 0x20, 0x60, 0xa7, 0xa8, 0xaa, 0xad, 0xae, 0xd1, 0xd4 };
        for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
                reset_out(&rst, KBC_COMMAND_PORT, 1, others[i], &requested);
                ck_assert(!requested);
                ck_assert_uint_eq(reset_in(&rst, KBC_COMMAND_PORT, 1), 0xff);
        }
}
END_TEST

/* What Linux's i8042_flush does when it probes anyway: read status while
 * OBF (bit 0) is set, at most 16 times, then give up ("No controller
 * found"). */
START_TEST(i8042_probe_gives_up)
{
        int reads = 0;
        while (reset_in(&rst, KBC_COMMAND_PORT, 1) & 0x01) {
                if (reads++ >= 16)
                        break;
        }
        ck_assert_int_eq(reads, 17);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("acpi_pm");
        TCase *tc = tcase_create("pm1_and_timer");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, ports_match_the_fadt);
        tcase_add_test(tc, sci_en_reads_one);
        tcase_add_test(tc, s5_sequence);
        tcase_add_test(tc, sleep_with_byte_write_and_other_types);
        tcase_add_test(tc, pm1_enable_keeps_what_is_written);
        tcase_add_test(tc, pm1_status_timer_carry);
        tcase_add_test(tc, pm_timer_rate);
        tcase_add_test(tc, pm_timer_monotonic);
        tcase_add_test(tc, ticks_match_exact_arithmetic);
        tcase_add_test(tc, bad_frequency_is_clamped);
        suite_add_tcase(s, tc);
        TCase *tr = tcase_create("reset");
        tcase_add_checked_fixture(tr, reset_setup, NULL);
        tcase_add_test(tr, reset_claims_byte_ports);
        tcase_add_test(tr, acpi_reset_value);
        tcase_add_test(tr, cf9_two_step_sequence);
        tcase_add_test(tr, cf9_needs_a_rising_edge);
        tcase_add_test(tr, keyboard_controller_reset);
        tcase_add_test(tr, i8042_probe_gives_up);
        suite_add_tcase(s, tr);
        return unit_run_suite(s);
}
