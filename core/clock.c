#include "core/clock.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "lib/log.h"
#include "devices/rtc.h"

static uint64_t boot_seconds, boot_tsc;

static uint8_t cmos(uint8_t reg)
{
        outb(RTC_INDEX_PORT, reg);
        return inb(RTC_DATA_PORT);
}

static unsigned from_bcd(uint8_t v, bool binary)
{
        return binary ? v : (unsigned)((v >> 4) * 10 + (v & 15));
}

void clock_init(void)
{
        /* Wait out an update in progress so the fields belong together. */
        for (unsigned i = 0; i < 1000000 && (cmos(RTC_REG_A) & RTC_A_UIP); i++)
                cpu_pause();
        bool binary = cmos(RTC_REG_B) & RTC_B_DM;
        struct rtc_time tm = {
                .year = 2000 + from_bcd(cmos(RTC_YEAR), binary),
                .month = from_bcd(cmos(RTC_MONTH), binary),
                .day = from_bcd(cmos(RTC_DAY_OF_MONTH), binary),
                .hour = from_bcd(cmos(RTC_HOURS) & 0x7f, binary),
                .minute = from_bcd(cmos(RTC_MINUTES), binary),
                .second = from_bcd(cmos(RTC_SECONDS), binary),
        };
        boot_tsc = rdtsc();
        int64_t s = rtc_seconds_from_time(&tm);
        boot_seconds = s > 0 ? (uint64_t)s : 0;
        log_line("clock: host RTC %04lld-%02u-%02u %02u:%02u:%02u", (long long)tm.year, tm.month,
                 tm.day, tm.hour, tm.minute, tm.second);
}

uint64_t clock_seconds(void)
{
        return boot_seconds + (rdtsc() - boot_tsc) / tsc_hz();
}

/* The TSC runs at a whole multiple of the crystal, as on real CPUs
 * (EBX/EAX of leaf 0x15 is a small ratio: Linux multiplies the crystal's
 * kHz by EBX in 32 bits). */
static uint64_t crystal_multiple(void)
{
        uint64_t k = (tsc_hz() + CLOCK_CRYSTAL_HZ / 2) / CLOCK_CRYSTAL_HZ;
        return k ? k : 1;
}

uint64_t clock_crystal_hz(void)
{
        return tsc_hz() / crystal_multiple();
}

void clock_tsc_ratio(uint32_t *num, uint32_t *den)
{
        *num = (uint32_t)crystal_multiple();
        *den = 1;
}
