/* The x86 exception vectors (SDM Vol. 3A Table 6-1): architectural
 * numbers, shared by the host's CPU code (arch/x86/regs.h) and the pure
 * emulators (emulate/), which may include nothing but lib. */
#ifndef VTV_LIB_VECTORS_H
#define VTV_LIB_VECTORS_H

#define VEC_DE  0
#define VEC_DB  1
#define VEC_NMI 2
#define VEC_BP  3
#define VEC_UD  6
#define VEC_NM  7
#define VEC_DF  8
#define VEC_TS  10
#define VEC_NP  11
#define VEC_SS  12
#define VEC_GP  13
#define VEC_PF  14
#define VEC_MC  18

#endif
