#include "arch/x86/tsc.h"
#include "arch/x86/cpu.h"
#include "lib/log.h"

#define PIT_HZ       1193182ULL
#define PIT_CH2      0x42
#define PIT_CMD      0x43
#define PORT_B       0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPKR  0x02
#define PORT_B_OUT2  0x20
#define CAL_COUNT    11932 /* 10 ms */

static uint64_t hz;

uint64_t tsc_hz(void)
{
        return hz;
}

/* CPUID 0x15: TSC = crystal * EBX / EAX, when the crystal is reported. */
static uint64_t from_cpuid(void)
{
        if (cpuid(0, 0).eax < 0x15)
                return 0;
        struct cpuid_regs r = cpuid(0x15, 0);
        if (!r.eax || !r.ebx || !r.ecx)
                return 0;
        return (uint64_t)r.ecx * r.ebx / r.eax;
}

/* PIT channel 2 in mode 0 counts CAL_COUNT ticks, then raises OUT2 (seen in
 * port 0x61 bit 5), without any interrupt. */
static uint64_t from_pit(void)
{
        uint8_t b = inb(PORT_B);
        outb(PORT_B, (uint8_t)((b & ~PORT_B_SPKR) | PORT_B_GATE2));
        outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
        outb(PIT_CH2, CAL_COUNT & 0xff);
        outb(PIT_CH2, CAL_COUNT >> 8);
        uint64_t t0 = rdtsc();
        for (uint64_t i = 0; i < 500000000ULL; i++) {
                if (inb(PORT_B) & PORT_B_OUT2) {
                        uint64_t t1 = rdtsc();
                        outb(PORT_B, b);
                        return (t1 - t0) * PIT_HZ / CAL_COUNT;
                }
        }
        outb(PORT_B, b);
        return 0;
}

void tsc_init(void)
{
        const char *how = "CPUID leaf 0x15";
        hz = from_cpuid();
        if (!hz) {
                how = "PIT calibration";
                hz = from_pit();
        }
        if (hz < 1000000)
                refuse("the TSC frequency could not be measured (no CPUID leaf 0x15, and the PIT "
                       "did not count); vtvisor needs either");
        log_line("TSC: %llu kHz (%s)", (unsigned long long)(hz / 1000), how);
}
