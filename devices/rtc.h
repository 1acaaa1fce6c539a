/* An MC146818-compatible CMOS RTC and its 128 bytes of CMOS RAM, as the PC
 * decodes them at ports 0x70 (index) and 0x71 (data).  Pure: no I/O, no VMX,
 * no globals.
 *
 * The time is not kept by the device: every access carries the caller's
 * "now" in seconds since 1970-01-01 00:00 UTC, and the device keeps only the
 * offset the guest has set on top of it.  So the clock never drifts from the
 * host's, and reads are reproducible in tests.
 *
 * What is emulated (Motorola MC146818A datasheet, "Address map" and
 * "Registers"):
 *   - index 0x00-0x09: seconds, alarm seconds, minutes, alarm minutes, hours,
 *     alarm hours, day of week (1 = Sunday), day of month, month, year, in
 *     BCD or binary and 12- or 24-hour form as register B says; the alarms
 *     are stored as written;
 *   - register A (0x0A): UIP (bit 7) always reads 0, so a guest that waits
 *     for it to clear (Linux does) never spins; the divider and rate bits
 *     are stored;
 *   - register B (0x0B): SET (bit 7) freezes the time for setting, DM
 *     (bit 2) binary, 24/12 (bit 1), DSE (bit 0) stored; the interrupt
 *     enables PIE, AIE, UIE and SQWE are accepted and stored, but no
 *     interrupt is ever raised (a guest sees an RTC whose IRQ 8 never fires);
 *   - register C (0x0C): flags, cleared by reading; UF is set once per
 *     elapsed second, so a polling guest sees updates end; IRQF follows UF
 *     and UIE;
 *   - register D (0x0D): VRT (bit 7) reads 1: the battery is good;
 *   - 0x32: the century in the same format as the year (the IBM PC/AT
 *     convention; the FADT's CENTURY field may point at it);
 *   - the rest (0x0E-0x7F) is CMOS RAM, readable and writable, starting with
 *     sane PC/AT values: 0x0E diagnostic status 0, 0x0F shutdown status 0
 *     (normal), no floppies, 640 KiB base memory, a valid checksum.
 * The index register's bit 7 is the PC's NMI mask, not part of the index:
 * it is stored (rtc.nmi_disabled) and ignored for indexing. */
#ifndef VTV_DEVICES_RTC_H
#define VTV_DEVICES_RTC_H

#include "lib/types.h"

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT  0x71
#define RTC_PORT_BASE  RTC_INDEX_PORT
#define RTC_PORTS      2
#define RTC_IRQ        8 /* ISA IRQ the chip would use; never raised here */

#define RTC_CMOS_SIZE 128

/* Register indices (MC146818A datasheet; 0x32 IBM PC/AT). */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_SHUTDOWN      0x0f
#define RTC_CENTURY       0x32

#define RTC_A_UIP   0x80
#define RTC_B_SET   0x80
#define RTC_B_PIE   0x40
#define RTC_B_AIE   0x20
#define RTC_B_UIE   0x10
#define RTC_B_SQWE  0x08
#define RTC_B_DM    0x04 /* 1: binary, 0: BCD */
#define RTC_B_24H   0x02 /* 1: 24-hour, 0: 12-hour with PM in hour bit 7 */
#define RTC_B_DSE   0x01
#define RTC_C_IRQF  0x80
#define RTC_C_PF    0x40
#define RTC_C_AF    0x20
#define RTC_C_UF    0x10
#define RTC_D_VRT   0x80
#define RTC_HOUR_PM 0x80

/* Defaults at power-on, as a PC BIOS leaves them: 32.768 kHz time base and
 * 1024 Hz periodic rate; 24-hour BCD; VRT. */
#define RTC_A_DEFAULT 0x26
#define RTC_B_DEFAULT 0x02

/* A broken-down UTC time: year in full (e.g. 2024), month 1-12, day 1-31,
 * weekday 0-6 with 0 = Sunday. */
struct rtc_time {
        int64_t year;
        unsigned month, day, hour, minute, second, weekday;
};

struct rtc {
        uint8_t cmos[RTC_CMOS_SIZE]; /* RAM, alarms, A, B, D; the time and C are computed */
        uint8_t index;               /* selected register, 0-0x7f */
        bool nmi_disabled;           /* bit 7 of the last index write */
        int64_t offset;              /* guest time minus the caller's time, in seconds */
        struct rtc_time frozen;      /* the time while register B's SET is 1 */
        int64_t last_c_read;         /* guest time when register C was last read */
};

void rtc_init(struct rtc *r);

/* port is RTC_INDEX_PORT or RTC_DATA_PORT; a 16-bit access at 0x70 reaches
 * both, as an 8-bit ISA device sees it; other ports read 0xff.  now: the
 * caller's time, seconds since 1970-01-01 00:00 UTC. */
uint32_t rtc_in(struct rtc *r, uint16_t port, unsigned size, uint64_t now);
void rtc_out(struct rtc *r, uint16_t port, unsigned size, uint32_t value, uint64_t now);

/* For the VM builder: sets a CMOS RAM byte (index 0x0e-0x7f, e.g. memory
 * sizes at 0x17/0x18, 0x30/0x31, 0x34/0x35) and keeps the 0x10-0x2d
 * checksum at 0x2e/0x2f valid.  Other indices are ignored. */
void rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t value);

/* Calendar arithmetic, exposed for tests: UTC, proleptic Gregorian, exact
 * for any year within +-10^9 (the registers reach years 0-9999). */
void rtc_time_from_seconds(int64_t seconds, struct rtc_time *tm);
int64_t rtc_seconds_from_time(const struct rtc_time *tm);

#endif
