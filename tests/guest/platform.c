/* The legacy platform a Linux guest relies on: the CMOS RTC, PCI
 * configuration space with a host bridge, the ACPI PM timer, and the ways
 * a guest ends itself: reset (0xCF9 or the keyboard controller) and ACPI
 * power-off (S5).
 *
 * Command line: "reset=cf9" or "reset=kbc" resets the VM on the first run
 * and expects to run again (CMOS byte 0x40 counts the runs, as the CMOS
 * survives a reset); then "end=poweroff" powers off through PM1a_CNT,
 * "end=poweroff-once" only on the first run (a VM that restarts on
 * power-off then ends the second), anything else exits through the debug
 * port.  "resets=N" resets on each
 * of the first N runs instead of only the first. */
#include "guest.h"

#define CMOS_RUNS 0x40

static uint8_t cmos_read(uint8_t reg)
{
        outb(0x70, reg);
        return inb(0x71);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
        outb(0x70, reg);
        outb(0x71, v);
}

static uint32_t pci_read(uint8_t dev, uint8_t reg)
{
        outl(0xcf8, 0x80000000u | ((uint32_t)dev << 11) | reg);
        return inl(0xcfc);
}

static unsigned bcd(uint8_t v)
{
        return (v >> 4) * 10 + (v & 15);
}

static void rtc(void)
{
        expect_eq32("rtc-reg-b-24h-bcd", cmos_read(0x0b), 0x02);
        expect_eq32("rtc-reg-d-valid", cmos_read(0x0d), 0x80);
        report("rtc-no-update-in-progress", !(cmos_read(0x0a) & 0x80));
        unsigned sec = bcd(cmos_read(0)), min = bcd(cmos_read(2)), hour = bcd(cmos_read(4));
        unsigned day = bcd(cmos_read(7)), mon = bcd(cmos_read(8));
        gprintf("platform: RTC %02u-%02u %02u:%02u:%02u\n", mon, day, hour, min, sec);
        report("rtc-time-valid",
               sec < 60 && min < 60 && hour < 24 && day >= 1 && day <= 31 && mon >= 1 && mon <= 12);
        cmos_write(0x41, 0x5a);
        expect_eq32("cmos-ram-readback", cmos_read(0x41), 0x5a);
}

static void pci(void)
{
        outl(0xcf8, 0x80000000u);
        expect_eq32("pci-address-latch", inl(0xcf8), 0x80000000u);
        expect_eq32("pci-host-bridge-id", pci_read(0, 0), 0x12378086);
        expect_eq32("pci-host-bridge-class", pci_read(0, 8) >> 8, 0x060000);
        expect_eq32("pci-absent-device", pci_read(1, 0), 0xffffffff);
        /* Byte access to the data port at an offset. */
        outl(0xcf8, 0x80000000u);
        expect_eq32("pci-byte-read", inb(0xcfd), 0x80);
}

static void pm_timer(void)
{
        uint32_t t0 = inl(0x608) & 0xffffff;
        spin(100000);
        uint32_t t1 = inl(0x608) & 0xffffff;
        uint32_t d = (t1 - t0) & 0xffffff;
        gprintf("platform: PM timer advanced %u ticks\n", d);
        report("pm-timer-advances", d > 0 && d < 0x800000);
        expect_eq32("pm1-cnt-sci-enabled", inw(0x604) & 1, 1);
}

void guest_main(void)
{
        char mode[16], end[16];
        bool reset = cmdline_value("reset", mode, sizeof(mode));
        uint8_t runs = cmos_read(CMOS_RUNS);
        /* The CMOS RAM starts zeroed. */
        cmos_write(CMOS_RUNS, (uint8_t)(runs + 1));
        gprintf("platform: run %u\n", runs + 1);

        /* "resets=N": reset on each of the first N runs (a reset loop). */
        uint32_t loops = cmdline_number("resets", 1);
        if (reset && runs < loops) {
                gprintf("platform: resetting through %s\n", mode);
                uart_drain();
                if (!gstrcmp(mode, "kbc"))
                        outb(0x64, 0xfe);
                else
                        outb(0xcf9, 0x06);
                report("reset-took-effect", false);
                return;
        }
        if (reset)
                expect_eq32("cmos-kept-over-reset", runs, loops);
        rtc();
        pci();
        pm_timer();

        bool has_end = cmdline_value("end", end, sizeof(end));
        if (has_end &&
            (!gstrcmp(end, "poweroff") || (!gstrcmp(end, "poweroff-once") && runs == 0))) {
                gprintf("DONE: %u passed, %u failed\n", g_passed, g_failed);
                uart_drain();
                outw(0x604, (5u << 10) | (1u << 13)); /* SLP_TYP 5 (\_S5), SLP_EN */
                report("poweroff-took-effect", false);
        }
}
