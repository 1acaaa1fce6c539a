/* Host unit tests for devices/rtc.c: the MC146818 CMOS RTC at 0x70/0x71. */
#include "tests/unit/check_compat.h"
#include "devices/rtc.h"

/* 2023-11-14 22:13:20 UTC, a Tuesday. */
#define T_2023 1700000000ULL

static struct rtc r;

static void setup(void)
{
        rtc_init(&r);
}

static uint8_t rd(uint8_t index, uint64_t now)
{
        rtc_out(&r, RTC_INDEX_PORT, 1, index, now);
        return (uint8_t)rtc_in(&r, RTC_DATA_PORT, 1, now);
}

static void wr(uint8_t index, uint8_t value, uint64_t now)
{
        rtc_out(&r, RTC_INDEX_PORT, 1, index, now);
        rtc_out(&r, RTC_DATA_PORT, 1, value, now);
}

static void check_tm(int64_t seconds, int64_t year, unsigned month, unsigned day, unsigned hour,
                     unsigned minute, unsigned second, unsigned weekday)
{
        struct rtc_time tm;
        rtc_time_from_seconds(seconds, &tm);
        ck_assert_msg(tm.year == year && tm.month == month && tm.day == day && tm.hour == hour &&
                          tm.minute == minute && tm.second == second && tm.weekday == weekday,
                      "%lld -> %lld-%u-%u %u:%u:%u wd %u", (long long)seconds, (long long)tm.year,
                      tm.month, tm.day, tm.hour, tm.minute, tm.second, tm.weekday);
        ck_assert_int_eq(rtc_seconds_from_time(&tm), seconds);
}

START_TEST(calendar_known_dates)
{
        check_tm(0, 1970, 1, 1, 0, 0, 0, 4);
        check_tm(-1, 1969, 12, 31, 23, 59, 59, 3);
        check_tm(946684799, 1999, 12, 31, 23, 59, 59, 5);
        check_tm(951782400, 2000, 2, 29, 0, 0, 0, 2); /* 2000 is leap (divisible by 400) */
        check_tm(1700000000, 2023, 11, 14, 22, 13, 20, 2);
        check_tm(1709210096, 2024, 2, 29, 12, 34, 56, 4);
        check_tm(4107542399, 2100, 2, 28, 23, 59, 59, 0); /* 2100 is not */
        check_tm(4107542400, 2100, 3, 1, 0, 0, 0, 1);
        check_tm(253402300799, 9999, 12, 31, 23, 59, 59, 5);
        check_tm(-62167219200, 0, 1, 1, 0, 0, 0, 6);
}
END_TEST

/* Walks day by day from 1600 to 2401 and checks that each day follows the
 * previous one by the calendar's rules, so every leap rule is exercised. */
/* Check's ck_assert records a checkpoint through a pipe each time; over
 * 292,000 days that alone takes longer than the test's time limit, so the
 * loop checks plainly and reports only a failure. */
#define DAY_CHECK(cond)                                                                            \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        ck_abort_msg("day at %lld: %s", (long long)s, #cond);                      \
        } while (0)

START_TEST(calendar_day_by_day)
{
        static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        struct rtc_time prev, tm;
        int64_t start = -11676096000; /* 1600-01-01 */
        rtc_time_from_seconds(start, &prev);
        ck_assert_int_eq(prev.year, 1600);
        ck_assert_uint_eq(prev.month, 1);
        ck_assert_uint_eq(prev.day, 1);
        unsigned leap_days = 0;
        for (int64_t s = start + 86400; prev.year < 2401; s += 86400) {
                rtc_time_from_seconds(s + 86399, &tm);
                DAY_CHECK(tm.hour == 23);
                rtc_time_from_seconds(s, &tm);
                DAY_CHECK(tm.weekday == (prev.weekday + 1) % 7);
                bool leap = (prev.year % 4 == 0 && prev.year % 100 != 0) || prev.year % 400 == 0;
                unsigned len = mdays[prev.month - 1] + (prev.month == 2 && leap);
                if (prev.day < len) {
                        DAY_CHECK(tm.year == prev.year && tm.month == prev.month &&
                                  tm.day == prev.day + 1);
                } else if (prev.month < 12) {
                        DAY_CHECK(tm.year == prev.year && tm.month == prev.month + 1 &&
                                  tm.day == 1);
                } else {
                        DAY_CHECK(tm.year == prev.year + 1 && tm.month == 1 && tm.day == 1);
                }
                if (tm.month == 2 && tm.day == 29)
                        leap_days++;
                DAY_CHECK(rtc_seconds_from_time(&tm) == s);
                prev = tm;
        }
        /* 1600-2400 inclusive: 201 multiples of 4, less 1700, 1800, 1900,
         * 2100, 2200, 2300. */
        ck_assert_uint_eq(leap_days, 195);
}
END_TEST

START_TEST(reset_values)
{
        ck_assert_uint_eq(rd(RTC_REG_A, T_2023), 0x26);
        ck_assert_uint_eq(rd(RTC_REG_B, T_2023), 0x02); /* 24-hour, BCD */
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023), 0);
        ck_assert_uint_eq(rd(RTC_REG_D, T_2023), 0x80); /* VRT */
        ck_assert_uint_eq(rd(RTC_SHUTDOWN, T_2023), 0);
        ck_assert_uint_eq(rd(0x0e, T_2023), 0);
        ck_assert_uint_eq(rd(0x15, T_2023) | rd(0x16, T_2023) << 8, 640);
        unsigned sum = 0;
        for (unsigned i = 0x10; i <= 0x2d; i++)
                sum += rd((uint8_t)i, T_2023);
        ck_assert_uint_eq(rd(0x2e, T_2023) << 8 | rd(0x2f, T_2023), sum);
        ck_assert(!r.nmi_disabled);
}
END_TEST

START_TEST(bcd_24h_time)
{
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023), 0x20);
        ck_assert_uint_eq(rd(RTC_MINUTES, T_2023), 0x13);
        ck_assert_uint_eq(rd(RTC_HOURS, T_2023), 0x22);
        ck_assert_uint_eq(rd(RTC_DAY_OF_WEEK, T_2023), 3); /* Tuesday; 1 = Sunday */
        ck_assert_uint_eq(rd(RTC_DAY_OF_MONTH, T_2023), 0x14);
        ck_assert_uint_eq(rd(RTC_MONTH, T_2023), 0x11);
        ck_assert_uint_eq(rd(RTC_YEAR, T_2023), 0x23);
        ck_assert_uint_eq(rd(RTC_CENTURY, T_2023), 0x20);
        /* The clock follows the caller's time. */
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023 + 39), 0x59);
        ck_assert_uint_eq(rd(RTC_MINUTES, T_2023 + 40), 0x14);
}
END_TEST

START_TEST(binary_and_12h_modes)
{
        wr(RTC_REG_B, RTC_B_24H | RTC_B_DM, T_2023);
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023), 20);
        ck_assert_uint_eq(rd(RTC_HOURS, T_2023), 22);
        ck_assert_uint_eq(rd(RTC_YEAR, T_2023), 23);
        ck_assert_uint_eq(rd(RTC_CENTURY, T_2023), 20);
        ck_assert_uint_eq(rd(RTC_MONTH, T_2023), 11);

        wr(RTC_REG_B, RTC_B_DM, T_2023); /* binary, 12-hour */
        ck_assert_uint_eq(rd(RTC_HOURS, T_2023), 0x80 | 10);
        wr(RTC_REG_B, 0, T_2023); /* BCD, 12-hour */
        ck_assert_uint_eq(rd(RTC_HOURS, T_2023), 0x90);
        uint64_t midnight = T_2023 - 22 * 3600 - 13 * 60 - 20;
        ck_assert_uint_eq(rd(RTC_HOURS, midnight), 0x12);         /* 12 AM */
        ck_assert_uint_eq(rd(RTC_HOURS, midnight + 3600), 0x01);  /* 1 AM */
        ck_assert_uint_eq(rd(RTC_HOURS, midnight + 43200), 0x92); /* 12 PM */
        ck_assert_uint_eq(rd(RTC_HOURS, midnight + 46800), 0x81); /* 1 PM */
        ck_assert_uint_eq(rd(RTC_HOURS, midnight + 86399), 0x91); /* 11 PM */

        /* Writing 12-hour values: 7 PM. */
        wr(RTC_HOURS, 0x87, midnight);
        wr(RTC_REG_B, RTC_B_24H, midnight);
        ck_assert_uint_eq(rd(RTC_HOURS, midnight), 0x19);
        ck_assert_uint_eq(rd(RTC_DAY_OF_MONTH, midnight), 0x14);
}
END_TEST

START_TEST(index_ignores_nmi_bit)
{
        rtc_out(&r, RTC_INDEX_PORT, 1, 0x80 | RTC_REG_D, T_2023);
        ck_assert(r.nmi_disabled);
        ck_assert_uint_eq(rtc_in(&r, RTC_DATA_PORT, 1, T_2023), 0x80);
        rtc_out(&r, RTC_INDEX_PORT, 1, 0x80 | RTC_MINUTES, T_2023);
        ck_assert_uint_eq(rtc_in(&r, RTC_DATA_PORT, 1, T_2023), 0x13);
        rtc_out(&r, RTC_INDEX_PORT, 1, RTC_MINUTES, T_2023);
        ck_assert(!r.nmi_disabled);
        /* The index port is write-only. */
        ck_assert_uint_eq(rtc_in(&r, RTC_INDEX_PORT, 1, T_2023), 0xff);
}
END_TEST

START_TEST(uip_never_set)
{
        for (uint64_t t = T_2023; t < T_2023 + 5; t++)
                ck_assert_uint_eq(rd(RTC_REG_A, t) & RTC_A_UIP, 0);
        wr(RTC_REG_A, 0xa6, T_2023);
        ck_assert_uint_eq(rd(RTC_REG_A, T_2023), 0x26);
        wr(RTC_REG_A, 0x2f, T_2023); /* divider and rate are stored */
        ck_assert_uint_eq(rd(RTC_REG_A, T_2023), 0x2f);
}
END_TEST

/* The sequence Linux's mc146818_set_time uses: SET, the fields, SET off. */
START_TEST(set_time_while_frozen)
{
        wr(RTC_REG_B, RTC_B_SET | RTC_B_UIE | RTC_B_24H, T_2023);
        ck_assert_uint_eq(rd(RTC_REG_B, T_2023), RTC_B_SET | RTC_B_24H); /* SET clears UIE */
        /* Frozen: time does not advance. */
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023 + 7), 0x20);
        wr(RTC_SECONDS, 0x56, T_2023 + 1);
        wr(RTC_MINUTES, 0x34, T_2023 + 1);
        wr(RTC_HOURS, 0x12, T_2023 + 1);
        wr(RTC_DAY_OF_MONTH, 0x29, T_2023 + 1);
        wr(RTC_MONTH, 0x02, T_2023 + 1);
        wr(RTC_YEAR, 0x24, T_2023 + 1);
        ck_assert_uint_eq(rd(RTC_DAY_OF_WEEK, T_2023 + 2), 5); /* Thursday */
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023 + 3), 0x56);
        wr(RTC_REG_B, RTC_B_24H, T_2023 + 100);
        /* Counting resumes from the written time when SET clears. */
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023 + 100), 0x56);
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023 + 110), 0x06);
        ck_assert_uint_eq(rd(RTC_MINUTES, T_2023 + 110), 0x35);
        ck_assert_uint_eq(rd(RTC_DAY_OF_MONTH, T_2023 + 110), 0x29);
        ck_assert_uint_eq(rd(RTC_MONTH, T_2023 + 110), 0x02);
        ck_assert_uint_eq(rd(RTC_YEAR, T_2023 + 110), 0x24);
        ck_assert_int_eq(r.offset, 1709210096LL - (int64_t)(T_2023 + 100));
}
END_TEST

/* Fields written one by one may pass through impossible dates (31
 * February); only the final one counts. */
START_TEST(frozen_fields_are_independent)
{
        wr(RTC_REG_B, RTC_B_SET | RTC_B_24H, T_2023);
        wr(RTC_MONTH, 0x02, T_2023);
        wr(RTC_DAY_OF_MONTH, 0x31, T_2023);
        ck_assert_uint_eq(rd(RTC_DAY_OF_MONTH, T_2023), 0x31);
        wr(RTC_MONTH, 0x01, T_2023);
        wr(RTC_REG_B, RTC_B_24H, T_2023);
        ck_assert_uint_eq(rd(RTC_DAY_OF_MONTH, T_2023), 0x31);
        ck_assert_uint_eq(rd(RTC_MONTH, T_2023), 0x01);
        ck_assert_uint_eq(rd(RTC_YEAR, T_2023), 0x23);
}
END_TEST

START_TEST(write_while_running_and_century)
{
        wr(RTC_YEAR, 0x99, T_2023);
        ck_assert_uint_eq(rd(RTC_YEAR, T_2023 + 1), 0x99);
        ck_assert_uint_eq(rd(RTC_CENTURY, T_2023 + 1), 0x20);
        ck_assert_uint_eq(rd(RTC_SECONDS, T_2023 + 1), 0x21);
        wr(RTC_CENTURY, 0x19, T_2023 + 1);
        ck_assert_uint_eq(rd(RTC_CENTURY, T_2023 + 2), 0x19);
        ck_assert_uint_eq(rd(RTC_YEAR, T_2023 + 2), 0x99);
        ck_assert_uint_eq(rd(RTC_MONTH, T_2023 + 2), 0x11);
        /* 1999-11-14 was a Sunday. */
        ck_assert_uint_eq(rd(RTC_DAY_OF_WEEK, T_2023 + 2), 1);
        /* The day of week follows the date; writes to it are ignored. */
        wr(RTC_DAY_OF_WEEK, 5, T_2023 + 2);
        ck_assert_uint_eq(rd(RTC_DAY_OF_WEEK, T_2023 + 2), 1);
}
END_TEST

START_TEST(invalid_values_are_ignored)
{
        wr(RTC_SECONDS, 0x5a, T_2023); /* not BCD */
        wr(RTC_MINUTES, 0x60, T_2023); /* out of range */
        wr(RTC_HOURS, 0x24, T_2023);
        wr(RTC_DAY_OF_MONTH, 0x00, T_2023);
        wr(RTC_MONTH, 0x13, T_2023);
        ck_assert_int_eq(r.offset, 0);
        wr(RTC_REG_B, RTC_B_24H | RTC_B_DM, T_2023);
        wr(RTC_HOURS, 24, T_2023);
        wr(RTC_YEAR, 100, T_2023);
        wr(RTC_REG_B, RTC_B_DM, T_2023); /* 12-hour: 0 and 13 are not hours */
        wr(RTC_HOURS, 0, T_2023);
        wr(RTC_HOURS, 0x80 | 13, T_2023);
        ck_assert_int_eq(r.offset, 0);
}
END_TEST

START_TEST(register_c_flags)
{
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023), 0);
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023), 0);
        /* A second boundary passed: UF, cleared by the read. */
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023 + 1), RTC_C_UF);
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023 + 1), 0);
        wr(RTC_REG_B, RTC_B_24H | RTC_B_UIE, T_2023 + 1);
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023 + 3), RTC_C_UF | RTC_C_IRQF);
        /* Read-only registers. */
        wr(RTC_REG_C, 0xff, T_2023 + 3);
        wr(RTC_REG_D, 0x00, T_2023 + 3);
        ck_assert_uint_eq(rd(RTC_REG_C, T_2023 + 3), 0);
        ck_assert_uint_eq(rd(RTC_REG_D, T_2023 + 3), 0x80);
}
END_TEST

START_TEST(cmos_ram_and_alarms)
{
        for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++) {
                if (i == RTC_CENTURY)
                        continue;
                wr((uint8_t)i, (uint8_t)(i ^ 0xa5), T_2023);
        }
        for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++) {
                if (i == RTC_CENTURY)
                        continue;
                ck_assert_uint_eq(rd((uint8_t)i, T_2023), i ^ 0xa5);
        }
        wr(RTC_SECONDS_ALARM, 0x30, T_2023);
        wr(RTC_MINUTES_ALARM, 0xc0, T_2023); /* "don't care" code */
        wr(RTC_HOURS_ALARM, 0x07, T_2023);
        ck_assert_uint_eq(rd(RTC_SECONDS_ALARM, T_2023), 0x30);
        ck_assert_uint_eq(rd(RTC_MINUTES_ALARM, T_2023), 0xc0);
        ck_assert_uint_eq(rd(RTC_HOURS_ALARM, T_2023), 0x07);
        ck_assert_int_eq(r.offset, 0);
}
END_TEST

START_TEST(cmos_set_keeps_checksum)
{
        rtc_cmos_set(&r, 0x17, 0x00);
        rtc_cmos_set(&r, 0x18, 0xfc);
        rtc_cmos_set(&r, 0x34, 0x12);
        rtc_cmos_set(&r, RTC_SECONDS, 0x12); /* not RAM: ignored */
        rtc_cmos_set(&r, RTC_REG_B, 0x86);
        ck_assert_uint_eq(rd(0x18, T_2023), 0xfc);
        ck_assert_uint_eq(rd(0x34, T_2023), 0x12);
        ck_assert_uint_eq(rd(RTC_REG_B, T_2023), 0x02);
        unsigned sum = 0;
        for (unsigned i = 0x10; i <= 0x2d; i++)
                sum += rd((uint8_t)i, T_2023);
        ck_assert_uint_eq(rd(0x2e, T_2023) << 8 | rd(0x2f, T_2023), sum);
}
END_TEST

START_TEST(wide_accesses)
{
        /* outw 0x70: the low byte to the index, the high byte to the data. */
        rtc_out(&r, RTC_INDEX_PORT, 2, 0x5a00 | 0x40, T_2023);
        ck_assert_uint_eq(rd(0x40, T_2023), 0x5a);
        rtc_out(&r, RTC_INDEX_PORT, 1, RTC_MONTH, T_2023);
        ck_assert_uint_eq(rtc_in(&r, RTC_INDEX_PORT, 2, T_2023), 0x11ff);
        ck_assert_uint_eq(rtc_in(&r, 0x72, 1, T_2023), 0xff);
        rtc_out(&r, 0x72, 1, 0, T_2023);
        ck_assert_uint_eq(rd(RTC_MONTH, T_2023), 0x11);
}
END_TEST

/* What Linux's mach_get_cmos_time does at boot: wait for UIP to clear, read
 * the fields, decode BCD (x86 always does: RTC_ALWAYS_BCD). */
START_TEST(linux_boot_read)
{
        uint64_t now = 1709210096; /* 2024-02-29 12:34:56 */
        int spins = 0;
        while (rd(RTC_REG_A, now) & RTC_A_UIP)
                ck_assert_int_lt(++spins, 1);
        unsigned sec = rd(RTC_SECONDS, now), min = rd(RTC_MINUTES, now);
        unsigned hour = rd(RTC_HOURS, now), day = rd(RTC_DAY_OF_MONTH, now);
        unsigned mon = rd(RTC_MONTH, now), year = rd(RTC_YEAR, now);
        ck_assert_uint_eq(rd(RTC_REG_B, now) & (RTC_B_DM | RTC_B_24H), RTC_B_24H);
        ck_assert_uint_eq(sec, 0x56);
        ck_assert_uint_eq(min, 0x34);
        ck_assert_uint_eq(hour, 0x12);
        ck_assert_uint_eq(day, 0x29);
        ck_assert_uint_eq(mon, 0x02);
        ck_assert_uint_eq(year, 0x24);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("rtc");
        TCase *tc = tcase_create("mc146818");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, calendar_known_dates);
        tcase_add_test(tc, calendar_day_by_day);
        tcase_add_test(tc, reset_values);
        tcase_add_test(tc, bcd_24h_time);
        tcase_add_test(tc, binary_and_12h_modes);
        tcase_add_test(tc, index_ignores_nmi_bit);
        tcase_add_test(tc, uip_never_set);
        tcase_add_test(tc, set_time_while_frozen);
        tcase_add_test(tc, frozen_fields_are_independent);
        tcase_add_test(tc, write_while_running_and_century);
        tcase_add_test(tc, invalid_values_are_ignored);
        tcase_add_test(tc, register_c_flags);
        tcase_add_test(tc, cmos_ram_and_alarms);
        tcase_add_test(tc, cmos_set_keeps_checksum);
        tcase_add_test(tc, wide_accesses);
        tcase_add_test(tc, linux_boot_read);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
