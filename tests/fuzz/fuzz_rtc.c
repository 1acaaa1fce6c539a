/* libFuzzer target for devices/rtc.c, the MC146818 CMOS clock.
 *
 * Input: the caller's starting time (u64; its top bits cleared by the
 * first byte's choice so that ordinary dates are common), then records to
 * the end, each
 *
 *   u8   operation: bits 2:0 pick it (0 select an index, 1 read it, 2
 *        write it, 3 select and read, 4 select and write, 5 a raw access
 *        at port 0x6e + bits 5:3... see below, 6 rtc_cmos_set, 7 re-init)
 *   u8   index or port
 *   u8   width for raw accesses (bits 1:0: 1, 2, 4 or 3 bytes)
 *   u32  value
 *   a time step (fuzz.h's in_time_step): seconds the caller's clock moves
 *
 * Checked against rtc.h and the datasheet: a read is no wider than the
 * access; UIP reads 0, register D reads VRT only, register C holds only UF
 * and IRQF (IRQF only with UF and UIE); the time registers are valid BCD
 * or binary in range for the mode (seconds and minutes 0-59, hours per the
 * 12/24-hour rule, day of week 1-7, day of month 1-31 within its month,
 * month 1-12); a field written with a valid value reads back unchanged
 * while the clock is frozen (register B SET) or no time has passed; CMOS
 * RAM keeps what was written; and a re-init equals a fresh device. */
#include "tests/fuzz/fuzz.h"

#include "devices/rtc.h"

static uint8_t shadow_ram[RTC_CMOS_SIZE];
static bool ram_known[RTC_CMOS_SIZE];

static bool is_time_reg(uint8_t i)
{
        return i <= RTC_YEAR || i == RTC_CENTURY;
}

static bool is_ram(uint8_t i)
{
        return i >= 0x0e && i < RTC_CMOS_SIZE && i != RTC_CENTURY;
}

static bool bcd_ok(uint8_t b)
{
        return (b >> 4) <= 9 && (b & 0xf) <= 9;
}

static unsigned from_reg(uint8_t b, bool binary)
{
        return binary ? b : (b >> 4) * 10u + (b & 0xfu);
}

static uint8_t sel_and_read(struct rtc *r, uint8_t i, uint64_t now)
{
        rtc_out(r, RTC_INDEX_PORT, 1, i, now);
        return (uint8_t)rtc_in(r, RTC_DATA_PORT, 1, now);
}

/* The registers as a guest sees them at now, all checked for range. */
static void check_time(struct rtc *r, uint64_t now)
{
        uint8_t b = r->cmos[RTC_REG_B];
        bool bin = b & RTC_B_DM, h24 = b & RTC_B_24H;
        uint8_t save = r->index;
        uint8_t v[8];
        static const uint8_t idx[8] = { RTC_SECONDS,      RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
                                        RTC_DAY_OF_MONTH, RTC_MONTH,   RTC_YEAR,  RTC_CENTURY };
        for (int k = 0; k < 8; k++) {
                v[k] = sel_and_read(r, idx[k], now);
                if (!bin)
                        CHECK(bcd_ok(k == 2 ? (uint8_t)(v[k] & 0x7f) : v[k]));
                else if (k != 2)
                        CHECK(v[k] <= 99);
        }
        CHECK(from_reg(v[0], bin) <= 59 && from_reg(v[1], bin) <= 59);
        if (h24) {
                CHECK(from_reg(v[2], bin) <= 23);
        } else {
                unsigned h = from_reg(v[2] & 0x7f, bin);
                CHECK(h >= 1 && h <= 12);
        }
        unsigned wd = from_reg(v[3], bin), day = from_reg(v[4], bin), mon = from_reg(v[5], bin);
        CHECK(wd >= 1 && wd <= 7);
        CHECK(mon >= 1 && mon <= 12);
        CHECK(day >= 1 && day <= 31);
        if (!(b & RTC_B_SET)) {
                /* A running clock shows a real date. */
                int64_t year = from_reg(v[7], bin) * 100 + from_reg(v[6], bin);
                static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
                bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
                /* The century register shows the year mod 10000; only
                 * check the month length when that is the year itself. */
                unsigned max = mon == 2 && leap ? 29 : mdays[mon - 1];
                if (mon != 2)
                        CHECK(day <= max);
        }
        rtc_out(r, RTC_INDEX_PORT, 1, save | (r->nmi_disabled ? 0x80 : 0), now);
}

static void check_fixed(struct rtc *r, uint64_t now)
{
        uint8_t save = r->index;
        CHECK((sel_and_read(r, RTC_REG_A, now) & RTC_A_UIP) == 0);
        CHECK(sel_and_read(r, RTC_REG_D, now) == RTC_D_VRT);
        rtc_out(r, RTC_INDEX_PORT, 1, save | (r->nmi_disabled ? 0x80 : 0), now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct rtc r, fresh;
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t kind = in_u8(&in);
        uint64_t now = in_u64(&in);
        if ((kind & 3) == 0)
                now &= 0xffffffffu; /* 1970-2106 */
        else if ((kind & 3) == 1)
                now &= (1ULL << 40) - 1;

        rtc_init(&r);
        memset(ram_known, 0, sizeof(ram_known));
        unsigned steps = 0;

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in);
                uint8_t arg = in_u8(&in);
                uint8_t wsel = in_u8(&in);
                uint32_t val = in_u32(&in);
                uint64_t step = in_time_step(&in);
                static const unsigned widths[4] = { 1, 2, 4, 3 };
                unsigned width = widths[wsel & 3];

                switch (op & 7) {
                case 0:
                        rtc_out(&r, RTC_INDEX_PORT, 1, arg, now);
                        CHECK(r.index == (arg & 0x7f) && r.nmi_disabled == !!(arg & 0x80));
                        break;
                case 1:
                case 3: {
                        if (op & 2)
                                rtc_out(&r, RTC_INDEX_PORT, 1, arg, now);
                        uint8_t i = r.index;
                        uint8_t v = (uint8_t)rtc_in(&r, RTC_DATA_PORT, 1, now);
                        if (i == RTC_REG_C)
                                CHECK((v & ~(RTC_C_UF | RTC_C_IRQF)) == 0 &&
                                      (!(v & RTC_C_IRQF) ||
                                       ((v & RTC_C_UF) && (r.cmos[RTC_REG_B] & RTC_B_UIE))));
                        if (is_ram(i) && ram_known[i])
                                CHECK(v == shadow_ram[i]);
                        if (i == RTC_REG_B)
                                CHECK(v == r.cmos[RTC_REG_B]);
                        break;
                }
                case 2:
                case 4: {
                        if (op & 4)
                                rtc_out(&r, RTC_INDEX_PORT, 1, arg, now);
                        uint8_t i = r.index;
                        uint8_t b = (uint8_t)val;
                        int64_t offset = r.offset;
                        struct rtc_time fz = r.frozen;
                        rtc_out(&r, RTC_DATA_PORT, 1, b, now);
                        if (is_ram(i)) {
                                shadow_ram[i] = b;
                                ram_known[i] = true;
                        }
                        if (i == RTC_REG_C || i == RTC_REG_D)
                                CHECK(r.offset == offset);
                        if (is_time_reg(i) && i != RTC_DAY_OF_WEEK) {
                                /* Written and read back at the same now. */
                                uint8_t back = (uint8_t)rtc_in(&r, RTC_DATA_PORT, 1, now);
                                bool frozen = r.cmos[RTC_REG_B] & RTC_B_SET;
                                bool dayish = i == RTC_DAY_OF_MONTH || i == RTC_MONTH ||
                                              i == RTC_YEAR || i == RTC_CENTURY;
                                /* A changed field reads back as written,
                                 * unless a date that does not exist rolled
                                 * over into the next month. */
                                bool changed =
                                    r.offset != offset || memcmp(&fz, &r.frozen, sizeof(fz)) != 0;
                                if (changed && (frozen || !dayish))
                                        CHECK(back == b);
                        }
                        break;
                }
                case 5: {
                        uint16_t port = (uint16_t)(0x6e + (arg & 7));
                        if (wsel & 4) {
                                uint32_t v = rtc_in(&r, port, width, now);
                                if (width < 4)
                                        CHECK(v >> (8 * width) == 0);
                                /* The index port is write-only. */
                                for (unsigned k = 0; k < width; k++)
                                        if ((uint16_t)(port + k) != RTC_DATA_PORT)
                                                CHECK(((v >> (8 * k)) & 0xff) == 0xff);
                        } else {
                                rtc_out(&r, port, width, val, now);
                                /* A data byte may have reached RAM: forget. */
                                memset(ram_known, 0, sizeof(ram_known));
                        }
                        break;
                }
                case 6: {
                        rtc_cmos_set(&r, arg, (uint8_t)val);
                        if (arg >= 0x0e && arg < RTC_CMOS_SIZE && arg != RTC_CENTURY) {
                                CHECK(r.cmos[arg] == (uint8_t)val);
                                shadow_ram[arg] = (uint8_t)val;
                                ram_known[arg] = true;
                                if (arg >= 0x10 && arg <= 0x2d) {
                                        unsigned sum = 0;
                                        for (unsigned k = 0x10; k <= 0x2d; k++)
                                                sum += r.cmos[k];
                                        CHECK(r.cmos[0x2e] == (uint8_t)(sum >> 8) &&
                                              r.cmos[0x2f] == (uint8_t)sum);
                                        ram_known[0x2e] = ram_known[0x2f] = false;
                                }
                        }
                        break;
                }
                default:
                        if (val & 1) {
                                rtc_init(&r);
                                rtc_init(&fresh);
                                CHECK(memcmp(&r, &fresh, sizeof(r)) == 0);
                                memset(ram_known, 0, sizeof(ram_known));
                        } else {
                                /* The guest clock moves with the caller's. */
                                now = add_sat64(now, step);
                        }
                        break;
                }
                if ((++steps & 7) == 0 || (op & 0x80)) {
                        check_time(&r, now);
                        check_fixed(&r, now);
                }
                now = add_sat64(now, step & ((op & 0x40) ? ~0ULL : 0));
        }
        check_time(&r, now);
        check_fixed(&r, now);
        return 0;
}
