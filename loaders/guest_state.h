/* The architectural state a loader hands to a new vCPU, independent of
 * VMX: segment registers in VMCS access-rights form (SDM 24.4.1), control
 * registers and general-purpose registers.  Pure. */
#ifndef VTV_LOADERS_GUEST_STATE_H
#define VTV_LOADERS_GUEST_STATE_H

#include "lib/guest_mem.h"
#include "lib/types.h"

/* Access rights: type 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15, unusable 16. */
#define AR_TYPE_DATA_RW  0x3
#define AR_TYPE_CODE_RX  0xb
#define AR_TYPE_TSS_BUSY 0xb
#define AR_TYPE_LDT      0x2
#define AR_S             BIT(4)
#define AR_P             BIT(7)
#define AR_L             BIT(13)
#define AR_DB            BIT(14)
#define AR_G             BIT(15)
#define AR_UNUSABLE      BIT(16)

struct seg_state {
        uint16_t sel;
        uint64_t base;
        uint32_t limit;
        uint32_t ar;
};

/* GPR indexes in the SDM's register numbering. */
enum gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, NGPR };

struct guest_state {
        uint64_t gpr[NGPR];
        uint64_t rip, rflags;
        uint64_t cr0, cr3, cr4, efer;
        struct seg_state cs, ss, ds, es, fs, gs, tr, ldtr;
        uint64_t gdtr_base, idtr_base;
        uint32_t gdtr_limit, idtr_limit;
};

/* Real-mode state with every segment at 0 (base 0, limit 64 KiB). */
void guest_state_real_mode(struct guest_state *s);
/* 32-bit protected mode, flat 4 GiB code and data, paging off. */
void guest_state_flat32(struct guest_state *s, uint16_t cs_sel, uint16_t ds_sel);

#endif
