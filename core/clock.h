/* Wall-clock time for guests' RTCs: the host RTC read once at boot, then
 * advanced by the TSC. */
#ifndef VTV_CORE_CLOCK_H
#define VTV_CORE_CLOCK_H

#include "lib/types.h"

void clock_init(void);
/* Seconds since 1970-01-01 00:00 UTC (the host RTC is taken to be UTC). */
uint64_t clock_seconds(void);

#endif
