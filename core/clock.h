/* Wall-clock time for guests' RTCs: the host RTC read once at boot, then
 * advanced by the TSC. */
#ifndef VTV_CORE_CLOCK_H
#define VTV_CORE_CLOCK_H

#include "lib/types.h"

void clock_init(void);
/* Seconds since 1970-01-01 00:00 UTC (the host RTC is taken to be UTC). */
uint64_t clock_seconds(void);

/* The core crystal clock guests are told of (CPUID leaf 0x15) and that
 * their local APIC timers count at: about 25 MHz, as on many Intel CPUs,
 * slower than the TSC, so that a guest calibrating one against the other
 * sees a realistic ratio.  The TSC is a whole multiple of it. */
#define CLOCK_CRYSTAL_HZ 25000000ULL
uint64_t clock_crystal_hz(void);
/* TSC frequency = crystal * *num / *den (leaf 0x15's EBX, EAX), to within
 * *num Hz. */
void clock_tsc_ratio(uint32_t *num, uint32_t *den);

#endif
