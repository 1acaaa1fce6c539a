/* Host FPU/SSE/AVX setup.  The hypervisor itself never uses these
 * registers (it is built without SSE); it only switches them between VMs. */
#ifndef VTV_ARCH_X86_FPU_H
#define VTV_ARCH_X86_FPU_H

#include "lib/types.h"

void fpu_init(void);
bool fpu_has_xsave(void);
/* User-state components the CPU supports in XCR0. */
uint64_t fpu_xcr0_supported(void);
/* Bytes a save area needs for every supported component (64-byte aligned). */
size_t fpu_area_size(void);
/* Prepares a save area holding the state after RESET. */
void fpu_area_init(void *area);
void fpu_save(void *area);
void fpu_restore(const void *area, uint64_t guest_xcr0);

#endif
