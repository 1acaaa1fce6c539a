/* The host TSC's frequency: guests' timers and the CPUID leaf that tells a
 * guest its TSC frequency are derived from it. */
#ifndef VTV_ARCH_X86_TSC_H
#define VTV_ARCH_X86_TSC_H

#include "lib/types.h"

/* Measures once at boot; refuses to boot when no method works. */
void tsc_init(void);
uint64_t tsc_hz(void);

#endif
