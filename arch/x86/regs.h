/* Architectural x86 constants: control-register, EFER and RFLAGS bits
 * (SDM Vol. 3A, 2.5), and through lib/vectors.h the exception vectors
 * (6.15).  Definitions only. */
#ifndef VTV_ARCH_X86_REGS_H
#define VTV_ARCH_X86_REGS_H

#include "lib/types.h"
#include "lib/vectors.h" /* the exception vectors */

/* Control registers. */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_PAE        BIT(5)
#define CR4_PGE        BIT(7)
#define CR4_OSFXSR     BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_VMXE       BIT(13)
#define CR4_SMXE       BIT(14)
#define CR4_PCIDE      BIT(17)
#define CR4_OSXSAVE    BIT(18)

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_RF BIT(16)
#define RFLAGS_VM BIT(17)

#endif
