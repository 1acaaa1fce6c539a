/* Decoder for the few x86 instructions a guest uses to touch emulated MMIO.
 *
 * An EPT violation on an emulated page gives the guest-physical address but
 * not what the instruction does with it; the hypervisor fetches the bytes at
 * the guest RIP and asks this module for the instruction length, the access
 * size and direction, and the register or immediate involved.  Only the MOV
 * family is accepted (88/89/8A/8B, C6/C7 /0, A0-A3, MOVZX, MOVSX): string
 * instructions, read-modify-write forms and register operands are refused
 * with a distinct code so the caller can say why.  Pure: no VMX knowledge,
 * no globals, never reads past the bytes it is given. */
#ifndef VTV_EMULATE_INSN_DECODE_H
#define VTV_EMULATE_INSN_DECODE_H

#include "lib/types.h"

/* SDM vol. 2 2.3.11: an instruction longer than 15 bytes raises #GP. */
#define INSN_MAX_LEN 15

/* Default operand and address size of the code segment: CS.L=1 gives 64-bit
 * mode, otherwise CS.D selects 32 (D=1) or 16 (D=0); real and virtual-8086
 * mode are 16 (SDM vol. 3 5.2.1, vol. 1 3.6). */
enum insn_mode {
        INSN_MODE_16,
        INSN_MODE_32,
        INSN_MODE_64,
};

enum insn_kind {
        INSN_MOV_LOAD,      /* 8A, 8B, A0, A1: reg <- mem */
        INSN_MOV_STORE,     /* 88, 89, A2, A3: mem <- reg */
        INSN_MOV_STORE_IMM, /* C6 /0, C7 /0: mem <- imm */
        INSN_MOVZX,         /* 0F B6, 0F B7: reg <- zero-extended mem */
        INSN_MOVSX,         /* 0F BE, 0F BF: reg <- sign-extended mem */
};

enum insn_err {
        INSN_OK = 0,
        INSN_ERR_TRUNCATED = -1,   /* ran out of bytes: fetch more and retry */
        INSN_ERR_TOO_LONG = -2,    /* more than INSN_MAX_LEN bytes */
        INSN_ERR_UNSUPPORTED = -3, /* an instruction this decoder does not emulate */
        INSN_ERR_STRING = -4,      /* MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS */
        INSN_ERR_NOT_MEMORY = -5,  /* ModRM.mod == 3: register operand, no MMIO access */
        INSN_ERR_INVALID = -6,     /* the CPU would raise #UD (LOCK on MOV, C6/C7 /1-/6) */
        INSN_ERR_BAD_ARG = -7,     /* NULL out, NULL bytes with avail > 0, unknown mode */
};

/* Segment registers in the SDM's order (the sreg field, vol. 2 3.1.1.3). */
enum insn_seg {
        INSN_SEG_ES,
        INSN_SEG_CS,
        INSN_SEG_SS,
        INSN_SEG_DS,
        INSN_SEG_FS,
        INSN_SEG_GS,
};

/* base or index: no register. */
#define INSN_REG_NONE 0xff

struct insn_mmio {
        enum insn_kind kind;
        uint8_t length;    /* total bytes, prefixes included; <= INSN_MAX_LEN */
        uint8_t size;      /* bytes accessed in memory: 1, 2, 4 or 8 */
        uint8_t reg;       /* GPR 0..15 in SDM order (rax, rcx, rdx, rbx, rsp, ...);
                              0 for STORE_IMM */
        bool high_byte;    /* operand is bits 15:8 of reg (AH, CH, DH, BH: reg 0..3) */
        uint8_t dest_size; /* register width a load writes (1, 2, 4, 8); 0 for stores */
        uint64_t imm;      /* STORE_IMM: the value stored, as the `size` low bytes */

        /* The memory operand (vol. 1 3.7.5, vol. 2 2.1.5): its effective
         * address is base + index * scale + disp (or the next instruction's
         * RIP + disp when rip_relative), truncated to addr_size bytes; see
         * insn_mmio_ea.  A0-A3 have neither base nor index and their moffs,
         * zero-extended, in disp. */
        uint8_t base;      /* GPR 0..15, or INSN_REG_NONE */
        uint8_t index;     /* GPR 0..15, or INSN_REG_NONE */
        uint8_t scale;     /* 1, 2, 4 or 8 (1 without an index) */
        uint8_t addr_size; /* 2, 4 or 8 bytes: the mode's, toggled by 67 */
        uint8_t seg;       /* enum insn_seg: DS, SS for an rSP or rBP base (BP in
                              16-bit forms), or the last override; in 64-bit mode
                              only FS and GS overrides count (ES, CS, SS and DS
                              ones are ignored there, 3.3.7.1 vol. 1) */
        bool rip_relative; /* 64-bit mode, ModRM mod 00 r/m 101 */
        uint64_t disp;     /* sign-extended to 64 bits (moffs: zero-extended) */
};

/* Decodes the instruction in bytes[0..avail).  On success returns INSN_OK
 * and fills *out; otherwise returns a negative enum insn_err and zeroes
 * *out.  Never reads bytes[avail] or beyond, nor past bytes[INSN_MAX_LEN-1]. */
int insn_decode_mmio(const uint8_t *bytes, size_t avail, enum insn_mode mode,
                     struct insn_mmio *out);

/* Reads the full 64-bit content of GPR reg (0..15, SDM order). */
typedef uint64_t (*insn_read_gpr_fn)(void *ctx, unsigned reg);

/* The effective address (offset in its segment) of the memory operand of a
 * successfully decoded instruction at rip (its own address, not the next
 * one's), truncated to insn->addr_size.  Reads only the registers
 * insn->base and insn->index name (never one above 15). */
uint64_t insn_mmio_ea(const struct insn_mmio *insn, insn_read_gpr_fn read_gpr, void *ctx,
                      uint64_t rip);

/* Never NULL: unknown codes give "unknown". */
const char *insn_decode_error_name(int err);

static inline bool insn_mmio_is_store(const struct insn_mmio *insn)
{
        return insn->kind == INSN_MOV_STORE || insn->kind == INSN_MOV_STORE_IMM;
}

/* The value a store writes: the low `size` bytes of the source register (or
 * of bits 15:8 for high_byte), or the immediate.  reg_value is the full
 * 64-bit content of GPR insn->reg and is ignored for STORE_IMM.  0 for loads. */
uint64_t insn_mmio_store_value(const struct insn_mmio *insn, uint64_t reg_value);

/* The new 64-bit content of GPR insn->reg after a load that read `mem` (its
 * low `size` bytes count) into a register that held `old`.  Returns `old`
 * for stores. */
uint64_t insn_mmio_load_value(const struct insn_mmio *insn, uint64_t old, uint64_t mem);

#endif
