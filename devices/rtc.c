#include "devices/rtc.h"
#include "lib/string.h"

#define SECONDS_PER_DAY 86400
/* Days from 0000-01-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define DAYS_0000_TO_1970 719528
/* A Gregorian cycle: 400 years, 97 of them leap. */
#define DAYS_PER_400_YEARS 146097
/* A century whose first year is leap (divisible by 400), one whose first
 * year is not, and four years starting with a leap year. */
#define DAYS_PER_LEAP_CENTURY 36525
#define DAYS_PER_CENTURY      36524
#define DAYS_PER_4_YEARS      1461
/* 1970-01-01 was a Thursday. */
#define EPOCH_WEEKDAY 4
/* The caller's clock is clamped well inside int64 so that adding the
 * guest's offset (at most a few times 10^11 s: years 0-9999) cannot
 * overflow. */
#define NOW_MAX ((uint64_t)1 << 62)
/* last_c_read before the first read of register C. */
#define NEVER INT64_MIN

/* IBM PC/AT CMOS RAM layout (IBM PC AT Technical Reference, "CMOS RAM
 * Address Map"): what a BIOS leaves for an OS to find. */
#define CMOS_DIAG        0x0e
#define CMOS_FLOPPY      0x10
#define CMOS_EQUIPMENT   0x14
#define CMOS_BASE_MEM_LO 0x15
#define CMOS_BASE_MEM_HI 0x16
#define CMOS_CSUM_FIRST  0x10
#define CMOS_CSUM_LAST   0x2d
#define CMOS_CSUM_HI     0x2e
#define CMOS_CSUM_LO     0x2f
#define EQUIP_FPU        0x02 /* math coprocessor present; no diskettes */
#define BASE_MEM_KIB     640

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        if (a % b != 0 && ((a < 0) != (b < 0)))
                q--;
        return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
        return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t year)
{
        return floor_mod(year, 4) == 0 && (floor_mod(year, 100) != 0 || floor_mod(year, 400) == 0);
}

static unsigned days_in_month(bool leap, unsigned month)
{
        static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return days[month - 1] + (month == 2 && leap);
}

/* Days from 0000-01-01 to the first day of year: 365 a year plus one for
 * each leap year in [0, year), counted with the Gregorian rules. */
static int64_t days_before_year(int64_t year)
{
        return 365 * year + floor_div(year + 3, 4) - floor_div(year + 99, 100) +
               floor_div(year + 399, 400);
}

void rtc_time_from_seconds(int64_t seconds, struct rtc_time *tm)
{
        int64_t days = floor_div(seconds, SECONDS_PER_DAY);
        int64_t secs = seconds - days * SECONDS_PER_DAY;
        tm->hour = (unsigned)(secs / 3600);
        tm->minute = (unsigned)(secs / 60 % 60);
        tm->second = (unsigned)(secs % 60);
        tm->weekday = (unsigned)floor_mod(days + EPOCH_WEEKDAY, 7);

        /* Whole 400-year cycles first (each starts with a leap year
         * divisible by 400), then centuries (the first of a cycle has the
         * extra day), then 4-year groups and single years by division. */
        int64_t d = days + DAYS_0000_TO_1970;
        int64_t cycles = floor_div(d, DAYS_PER_400_YEARS);
        int64_t year = cycles * 400;
        d -= cycles * DAYS_PER_400_YEARS;
        if (d >= DAYS_PER_LEAP_CENTURY) {
                /* 1-3: the cycle's first century is one day longer. */
                int64_t c = (d - 1) / DAYS_PER_CENTURY;
                year += 100 * c;
                d -= c * DAYS_PER_CENTURY + 1;
                /* This century's first year has no 29 February: count as if
                 * it had one, so that every 4-year group below starts with
                 * a leap year of 366 days. */
                if (d >= 365)
                        d++;
        }
        int64_t groups = d / DAYS_PER_4_YEARS;
        year += 4 * groups;
        d -= groups * DAYS_PER_4_YEARS;
        if (d >= 366) {
                /* 1-3: past the group's leap year. */
                int64_t y = (d - 1) / 365;
                year += y;
                d -= y * 365 + 1;
        }
        bool leap = is_leap(year);
        unsigned month = 1;
        while (d >= days_in_month(leap, month)) {
                d -= days_in_month(leap, month);
                month++;
        }
        tm->year = year;
        tm->month = month;
        tm->day = (unsigned)d + 1;
}

/* Fields out of their month (e.g. 31 February, which a guest can leave in
 * the registers between two writes) roll over into the next month. */
int64_t rtc_seconds_from_time(const struct rtc_time *tm)
{
        int64_t days = days_before_year(tm->year) - DAYS_0000_TO_1970;
        bool leap = is_leap(tm->year);
        for (unsigned m = 1; m < tm->month && m <= 12; m++)
                days += days_in_month(leap, m);
        days += (int64_t)tm->day - 1;
        return days * SECONDS_PER_DAY + (int64_t)tm->hour * 3600 + (int64_t)tm->minute * 60 +
               (int64_t)tm->second;
}

/* The AT BIOS's checksum: the 16-bit sum of bytes 0x10-0x2d, stored high
 * byte first. */
static void cmos_update_checksum(struct rtc *r)
{
        unsigned sum = 0;
        for (unsigned i = CMOS_CSUM_FIRST; i <= CMOS_CSUM_LAST; i++)
                sum += r->cmos[i];
        r->cmos[CMOS_CSUM_HI] = (uint8_t)(sum >> 8);
        r->cmos[CMOS_CSUM_LO] = (uint8_t)sum;
}

void rtc_init(struct rtc *r)
{
        vtv_memset(r, 0, sizeof(*r));
        r->cmos[RTC_REG_A] = RTC_A_DEFAULT;
        r->cmos[RTC_REG_B] = RTC_B_DEFAULT;
        r->cmos[RTC_REG_D] = RTC_D_VRT;
        r->cmos[CMOS_DIAG] = 0;    /* power-on diagnostics found nothing wrong */
        r->cmos[RTC_SHUTDOWN] = 0; /* normal power-on reset */
        r->cmos[CMOS_FLOPPY] = 0;  /* no diskette drives */
        r->cmos[CMOS_EQUIPMENT] = EQUIP_FPU;
        r->cmos[CMOS_BASE_MEM_LO] = (uint8_t)BASE_MEM_KIB;
        r->cmos[CMOS_BASE_MEM_HI] = (uint8_t)(BASE_MEM_KIB >> 8);
        cmos_update_checksum(r);
        r->last_c_read = NEVER;
}

void rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t value)
{
        if (index < CMOS_DIAG || index >= RTC_CMOS_SIZE || index == RTC_CENTURY)
                return;
        r->cmos[index] = value;
        if (index >= CMOS_CSUM_FIRST && index <= CMOS_CSUM_LAST)
                cmos_update_checksum(r);
}

static int64_t guest_seconds(const struct rtc *r, uint64_t now)
{
        return (int64_t)MIN(now, NOW_MAX) + r->offset;
}

static bool frozen(const struct rtc *r)
{
        return r->cmos[RTC_REG_B] & RTC_B_SET;
}

/* The time the registers show: the frozen copy while SET is 1. */
static void current_time(const struct rtc *r, uint64_t now, struct rtc_time *tm)
{
        if (frozen(r))
                *tm = r->frozen;
        else
                rtc_time_from_seconds(guest_seconds(r, now), tm);
}

/* Register values are BCD unless DM (register B bit 2) selects binary
 * (MC146818A datasheet, "Time, calendar and alarm locations", table 3). */
static uint8_t encode(const struct rtc *r, unsigned v)
{
        v %= 100;
        if (r->cmos[RTC_REG_B] & RTC_B_DM)
                return (uint8_t)v;
        return (uint8_t)(v / 10 << 4 | v % 10);
}

/* Returns false for a byte that is not a valid BCD number. */
static bool decode(const struct rtc *r, uint8_t b, unsigned *v)
{
        if (r->cmos[RTC_REG_B] & RTC_B_DM) {
                *v = b;
                return true;
        }
        if ((b >> 4) > 9 || (b & 0xf) > 9)
                return false;
        *v = (b >> 4) * 10u + (b & 0xfu);
        return true;
}

/* 12-hour mode: 12, 1, ... 11 with bit 7 set from noon (datasheet table 3,
 * "Hours"). */
static uint8_t encode_hour(const struct rtc *r, unsigned hour)
{
        if (r->cmos[RTC_REG_B] & RTC_B_24H)
                return encode(r, hour);
        unsigned h12 = hour % 12 ? hour % 12 : 12;
        return (uint8_t)(encode(r, h12) | (hour >= 12 ? RTC_HOUR_PM : 0));
}

static bool decode_hour(const struct rtc *r, uint8_t b, unsigned *hour)
{
        if (r->cmos[RTC_REG_B] & RTC_B_24H)
                return decode(r, b, hour) && *hour < 24;
        unsigned h12 = 0;
        if (!decode(r, b & (uint8_t)~RTC_HOUR_PM, &h12) || h12 < 1 || h12 > 12)
                return false;
        *hour = h12 % 12 + ((b & RTC_HOUR_PM) ? 12 : 0);
        return true;
}

static uint8_t read_time_reg(const struct rtc *r, uint8_t index, uint64_t now)
{
        struct rtc_time tm;
        current_time(r, now, &tm);
        switch (index) {
        case RTC_SECONDS:
                return encode(r, tm.second);
        case RTC_MINUTES:
                return encode(r, tm.minute);
        case RTC_HOURS:
                return encode_hour(r, tm.hour);
        case RTC_DAY_OF_WEEK: {
                /* From the date, so it is right even after the guest set a
                 * date without a weekday; 1 = Sunday. */
                struct rtc_time norm;
                rtc_time_from_seconds(rtc_seconds_from_time(&tm), &norm);
                return encode(r, norm.weekday + 1);
        }
        case RTC_DAY_OF_MONTH:
                return encode(r, tm.day);
        case RTC_MONTH:
                return encode(r, tm.month);
        case RTC_YEAR:
                return encode(r, (unsigned)floor_mod(tm.year, 100));
        default: /* RTC_CENTURY */
                return encode(r, (unsigned)floor_mod(floor_div(tm.year, 100), 100));
        }
}

/* A write to a time register changes that field of the current time.  A
 * value the current mode cannot represent is ignored (the real chip would
 * store it and then count from nonsense). */
static void write_time_reg(struct rtc *r, uint8_t index, uint8_t value, uint64_t now)
{
        struct rtc_time tm;
        unsigned v = 0;
        current_time(r, now, &tm);
        switch (index) {
        case RTC_SECONDS:
                if (!decode(r, value, &v) || v > 59)
                        return;
                tm.second = v;
                break;
        case RTC_MINUTES:
                if (!decode(r, value, &v) || v > 59)
                        return;
                tm.minute = v;
                break;
        case RTC_HOURS:
                if (!decode_hour(r, value, &v))
                        return;
                tm.hour = v;
                break;
        case RTC_DAY_OF_MONTH:
                if (!decode(r, value, &v) || v < 1 || v > 31)
                        return;
                tm.day = v;
                break;
        case RTC_MONTH:
                if (!decode(r, value, &v) || v < 1 || v > 12)
                        return;
                tm.month = v;
                break;
        case RTC_YEAR:
                if (!decode(r, value, &v) || v > 99)
                        return;
                tm.year = floor_div(tm.year, 100) * 100 + v;
                break;
        case RTC_CENTURY:
                if (!decode(r, value, &v) || v > 99)
                        return;
                tm.year = (int64_t)v * 100 + floor_mod(tm.year, 100);
                break;
        default:
                /* RTC_DAY_OF_WEEK: derived from the date (see the read). */
                return;
        }
        if (frozen(r))
                r->frozen = tm;
        else
                r->offset = rtc_seconds_from_time(&tm) - (int64_t)MIN(now, NOW_MAX);
}

static void write_reg_b(struct rtc *r, uint8_t value, uint64_t now)
{
        bool was_set = frozen(r), set = value & RTC_B_SET;
        if (set && !was_set) {
                /* SET stops the update cycles so the time can be written
                 * without the chip counting underneath; it also clears UIE
                 * (MC146818A datasheet, register B, SET and UIE). */
                rtc_time_from_seconds(guest_seconds(r, now), &r->frozen);
                value &= (uint8_t)~RTC_B_UIE;
        } else if (!set && was_set) {
                /* Counting resumes from what was written. */
                r->offset = rtc_seconds_from_time(&r->frozen) - (int64_t)MIN(now, NOW_MAX);
        }
        r->cmos[RTC_REG_B] = value;
}

/* Register C: UF says an update cycle (a second boundary) has happened
 * since the last read, which clears the flags.  No alarm or periodic
 * interrupt exists, so AF and PF stay 0; IRQF is the OR of each flag with
 * its enable (datasheet, register C). */
static uint8_t read_reg_c(struct rtc *r, uint64_t now)
{
        if (frozen(r))
                return 0;
        int64_t t = guest_seconds(r, now);
        uint8_t c = 0;
        if (r->last_c_read != NEVER && r->last_c_read != t)
                c |= RTC_C_UF;
        if ((c & RTC_C_UF) && (r->cmos[RTC_REG_B] & RTC_B_UIE))
                c |= RTC_C_IRQF;
        r->last_c_read = t;
        return c;
}

static uint8_t data_read(struct rtc *r, uint64_t now)
{
        uint8_t i = r->index;
        switch (i) {
        case RTC_SECONDS:
        case RTC_MINUTES:
        case RTC_HOURS:
        case RTC_DAY_OF_WEEK:
        case RTC_DAY_OF_MONTH:
        case RTC_MONTH:
        case RTC_YEAR:
        case RTC_CENTURY:
                return read_time_reg(r, i, now);
        case RTC_REG_A:
                /* UIP never reads 1: the "update" is instantaneous, and a
                 * guest that waits for UIP to clear (Linux's
                 * mach_get_cmos_time spins on it) must not hang. */
                return r->cmos[RTC_REG_A] & (uint8_t)~RTC_A_UIP;
        case RTC_REG_C:
                return read_reg_c(r, now);
        case RTC_REG_D:
                return RTC_D_VRT;
        default:
                return r->cmos[i]; /* alarms, register B, CMOS RAM */
        }
}

static void data_write(struct rtc *r, uint8_t value, uint64_t now)
{
        uint8_t i = r->index;
        switch (i) {
        case RTC_SECONDS:
        case RTC_MINUTES:
        case RTC_HOURS:
        case RTC_DAY_OF_WEEK:
        case RTC_DAY_OF_MONTH:
        case RTC_MONTH:
        case RTC_YEAR:
        case RTC_CENTURY:
                write_time_reg(r, i, value, now);
                break;
        case RTC_REG_A:
                r->cmos[RTC_REG_A] = value & (uint8_t)~RTC_A_UIP; /* UIP is read-only */
                break;
        case RTC_REG_B:
                write_reg_b(r, value, now);
                break;
        case RTC_REG_C:
        case RTC_REG_D:
                break; /* read-only */
        default:
                r->cmos[i] = value; /* alarms and CMOS RAM */
                break;
        }
}

uint32_t rtc_in(struct rtc *r, uint16_t port, unsigned size, uint64_t now)
{
        uint32_t v = 0;
        for (unsigned i = 0; i < size && i < 4; i++) {
                uint16_t p = (uint16_t)(port + i);
                /* The PC's index port is write-only: a read sees nothing
                 * driving the bus. */
                uint8_t b = p == RTC_DATA_PORT ? data_read(r, now) : 0xff;
                v |= (uint32_t)b << (8 * i);
        }
        return v;
}

void rtc_out(struct rtc *r, uint16_t port, unsigned size, uint32_t value, uint64_t now)
{
        for (unsigned i = 0; i < size && i < 4; i++) {
                uint16_t p = (uint16_t)(port + i);
                uint8_t b = (uint8_t)(value >> (8 * i));
                if (p == RTC_INDEX_PORT) {
                        /* Bit 7 of port 0x70 gates NMI on the PC; the chip
                         * decodes the other 7 (128 bytes). */
                        r->index = b & (RTC_CMOS_SIZE - 1);
                        r->nmi_disabled = b & 0x80;
                } else if (p == RTC_DATA_PORT) {
                        data_write(r, b, now);
                }
        }
}
