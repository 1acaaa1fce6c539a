#include "emulate/insn_decode.h"

/* Section numbers refer to the Intel SDM, vol. 2 unless stated otherwise. */

struct cursor {
        const uint8_t *bytes;
        size_t avail;
        size_t pos;
};

/* Claims the next n bytes (n <= 8).  When they are not all there, the answer
 * depends on why: short input is TRUNCATED (more bytes may complete the
 * instruction), but once INSN_MAX_LEN bytes are present nothing can. */
static int take(struct cursor *c, size_t n, uint64_t *value)
{
        size_t limit = MIN(c->avail, (size_t)INSN_MAX_LEN);
        uint64_t v = 0;

        if (n > limit - c->pos)
                return c->avail >= INSN_MAX_LEN ? INSN_ERR_TOO_LONG : INSN_ERR_TRUNCATED;
        /* Displacements and immediates are little-endian (1.3.1). */
        for (size_t i = 0; i < n; i++)
                v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
        c->pos += n;
        if (value)
                *value = v;
        return INSN_OK;
}

static int take_byte(struct cursor *c, uint8_t *b)
{
        uint64_t v;
        int err = take(c, 1, &v);

        *b = (uint8_t)v;
        return err;
}

static uint64_t size_mask(unsigned size)
{
        return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Sign-extends the low `size` bytes of v without relying on the
 * implementation-defined conversion of large unsigned values to signed. */
static uint64_t sign_extend(uint64_t v, unsigned size)
{
        uint64_t sign;

        if (size >= 8)
                return v;
        sign = 1ULL << (8 * size - 1);
        return ((v & size_mask(size)) ^ sign) - sign;
}

/* Decodes the address part that follows a ModRM byte whose mod is not 3:
 * the SIB byte and displacement, into r's base, index, scale and disp (the
 * segment is left to the caller).  16-bit addressing (Table 2-1) has no SIB:
 * r/m 0-7 are BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX, except that mod 00
 * with r/m 110 is a bare disp16; mod 01 adds disp8, mod 10 disp16.  32- and
 * 64-bit addressing (Tables 2-2, 2-3) take a SIB when r/m is 100; mod 00
 * with r/m 101 is a bare disp32 (RIP-relative in 64-bit mode, 2.2.1.6), as
 * is mod 00 with SIB base 101 (no base register); SIB index 100 is none;
 * mod 01 adds disp8, mod 10 disp32.  REX.B and REX.X extend the registers
 * but do not change any of this: r12 still needs a SIB, r13 a displacement,
 * and index r12 is a real index (2.2.1.2, Table 2-5). */
static int decode_address(struct cursor *c, uint8_t modrm, uint8_t rex, unsigned addr_size,
                          enum insn_mode mode, struct insn_mmio *r)
{
        /* BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX (Table 2-1). */
        static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
        static const uint8_t index16[8] = {
                6, 7, 6, 7, INSN_REG_NONE, INSN_REG_NONE, INSN_REG_NONE, INSN_REG_NONE
        };
        unsigned mod = modrm >> 6, rm = modrm & 7;
        size_t disp;
        uint64_t v;
        int err;

        r->scale = 1;
        r->index = INSN_REG_NONE;
        if (addr_size == 2) {
                if (mod == 0 && rm == 6) {
                        r->base = INSN_REG_NONE;
                        disp = 2;
                } else {
                        r->base = base16[rm];
                        r->index = index16[rm];
                        disp = mod == 0 ? 0 : mod == 1 ? 1 : 2;
                }
        } else {
                unsigned base = rm;

                if (mod == 0)
                        disp = rm == 5 ? 4 : 0;
                else
                        disp = mod == 1 ? 1 : 4;
                if (rm == 4) {
                        uint8_t sib;
                        unsigned index;

                        err = take_byte(c, &sib);
                        if (err)
                                return err;
                        base = sib & 7;
                        index = ((sib >> 3) & 7) | ((rex & 2) << 2);
                        if (index != 4) {
                                r->index = (uint8_t)index;
                                r->scale = (uint8_t)(1u << (sib >> 6));
                        }
                        if (mod == 0 && base == 5)
                                disp = 4;
                }
                if (mod == 0 && base == 5) {
                        /* No base: with r/m 101 RIP-relative in 64-bit mode,
                         * with a SIB an absolute disp32. */
                        r->base = INSN_REG_NONE;
                        r->rip_relative = rm == 5 && mode == INSN_MODE_64;
                } else {
                        r->base = (uint8_t)(base | ((rex & 1) << 3));
                }
        }
        err = take(c, disp, &v);
        if (err)
                return err;
        r->disp = disp ? sign_extend(v, (unsigned)disp) : 0;
        return INSN_OK;
}

/* Groups 1-4 of 2.1.1.  The segment overrides are tracked by decode(). */
static bool is_legacy_prefix(uint8_t op)
{
        switch (op) {
        case 0xf0: /* LOCK */
        case 0xf2: /* REPNE */
        case 0xf3: /* REP */
        case 0x26: /* ES */
        case 0x2e: /* CS */
        case 0x36: /* SS */
        case 0x3e: /* DS */
        case 0x64: /* FS */
        case 0x65: /* GS */
        case 0x66: /* operand size */
        case 0x67: /* address size */
                return true;
        default:
                return false;
        }
}

static bool is_string_op(uint8_t op)
{
        /* INS/OUTS 6C-6F, MOVS/CMPS A4-A7, STOS/LODS/SCAS AA-AF (Table A-2).
         * Each repeats or walks rSI/rDI; emulating them on MMIO means
         * iterating with guest paging, which this decoder does not pretend
         * to describe. */
        return (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) ||
               (op >= 0xaa && op <= 0xaf);
}

static int decode(struct cursor *c, enum insn_mode mode, struct insn_mmio *r)
{
        bool opsize_prefix = false, addrsize_prefix = false, lock = false, rep = false;
        unsigned op_size, addr_size;
        uint8_t rex = 0; /* 0: none; REX bytes are 40-4F so never 0 */
        uint8_t op, modrm = 0;
        bool two_byte = false, has_modrm = true, byte_op;
        int seg_override = -1;
        int err;

        /* Legacy prefixes come in any order and may repeat (2.1.1); each one
         * still counts toward the length.  A REX byte only counts when it
         * immediately precedes the opcode: "other placements are ignored"
         * (2.2.1), so a legacy prefix after it cancels it.  In 16- and 32-bit
         * modes 40-4F are INC/DEC, which fall out as unsupported below. */
        for (;;) {
                err = take_byte(c, &op);
                if (err)
                        return err;
                if (mode == INSN_MODE_64 && (op & 0xf0) == 0x40) {
                        rex = op;
                        continue;
                }
                if (!is_legacy_prefix(op))
                        break;
                rex = 0;
                if (op == 0x66)
                        opsize_prefix = true;
                else if (op == 0x67)
                        addrsize_prefix = true;
                else if (op == 0xf0)
                        lock = true;
                else if (op == 0xf2 || op == 0xf3)
                        rep = true;
                else if (op == 0x64 || op == 0x65)
                        seg_override = op == 0x64 ? INSN_SEG_FS : INSN_SEG_GS;
                else if (mode != INSN_MODE_64)
                        /* 26, 2E, 36, 3E: ES, CS, SS, DS; the last one
                         * counts.  In 64-bit mode they are ignored (3.3.7.1
                         * vol. 1) and do not cancel an FS or GS. */
                        seg_override = (op >> 3) & 3;
        }

        /* Operand size: Tables 3-3 and 3-4 of vol. 1; in 64-bit mode REX.W
         * wins over 66.  Address size: 67 toggles between 16 and 32 bits, and
         * selects 32 instead of 64 in 64-bit mode (same tables). */
        switch (mode) {
        case INSN_MODE_16:
                op_size = opsize_prefix ? 4 : 2;
                addr_size = addrsize_prefix ? 4 : 2;
                break;
        case INSN_MODE_32:
                op_size = opsize_prefix ? 2 : 4;
                addr_size = addrsize_prefix ? 2 : 4;
                break;
        default:
                op_size = (rex & 8) ? 8 : opsize_prefix ? 2 : 4;
                addr_size = addrsize_prefix ? 4 : 8;
                break;
        }

        if (op == 0x0f) {
                two_byte = true;
                err = take_byte(c, &op);
                if (err)
                        return err;
        }

        if (!two_byte) {
                if (is_string_op(op))
                        return INSN_ERR_STRING;
                switch (op) {
                case 0x88: /* MOV r/m8, r8 */
                case 0x89: /* MOV r/m, r */
                        r->kind = INSN_MOV_STORE;
                        break;
                case 0x8a: /* MOV r8, r/m8 */
                case 0x8b: /* MOV r, r/m */
                        r->kind = INSN_MOV_LOAD;
                        break;
                case 0xc6: /* MOV r/m8, imm8 */
                case 0xc7: /* MOV r/m, imm16/imm32 */
                        r->kind = INSN_MOV_STORE_IMM;
                        break;
                case 0xa0: /* MOV AL, moffs8 */
                case 0xa1: /* MOV rAX, moffs */
                        r->kind = INSN_MOV_LOAD;
                        has_modrm = false;
                        break;
                case 0xa2: /* MOV moffs8, AL */
                case 0xa3: /* MOV moffs, rAX */
                        r->kind = INSN_MOV_STORE;
                        has_modrm = false;
                        break;
                default:
                        return INSN_ERR_UNSUPPORTED;
                }
                /* Bit 0 of these opcodes is the w bit: 0 selects byte operands
                 * (Appendix B.1.4). */
                byte_op = (op & 1) == 0;
        } else {
                switch (op) {
                case 0xb6: /* MOVZX r, r/m8 */
                case 0xb7: /* MOVZX r, r/m16 */
                        r->kind = INSN_MOVZX;
                        break;
                case 0xbe: /* MOVSX r, r/m8 */
                case 0xbf: /* MOVSX r, r/m16 */
                        r->kind = INSN_MOVSX;
                        break;
                default:
                        return INSN_ERR_UNSUPPORTED;
                }
                byte_op = (op & 1) == 0;
        }

        /* LOCK on anything but a read-modify-write memory instruction is #UD
         * (LOCK, vol. 2A), so a guest can never reach us with one. */
        if (lock)
                return INSN_ERR_INVALID;
        /* F2/F3 on these opcodes is at best XACQUIRE/XRELEASE (F3 on 88, 89,
         * C6, C7) and otherwise reserved (2.1.1); no MMIO accessor emits
         * them, and refusing keeps this decoder from guessing. */
        if (rep)
                return INSN_ERR_UNSUPPORTED;

        if (!has_modrm) {
                /* moffs is address-size wide: 2, 4 or 8 bytes, the latter
                 * only in 64-bit mode without 67 (2.2.1.4). */
                err = take(c, addr_size, &r->disp);
                if (err)
                        return err;
                r->base = INSN_REG_NONE;
                r->index = INSN_REG_NONE;
                r->scale = 1;
                r->reg = 0;
                r->size = byte_op ? 1 : (uint8_t)op_size;
        } else {
                unsigned reg_field;

                err = take_byte(c, &modrm);
                if (err)
                        return err;
                reg_field = (modrm >> 3) & 7;
                if (r->kind == INSN_MOV_STORE_IMM && reg_field != 0) {
                        /* C6 F8 / C7 F8 are XABORT / XBEGIN; every other
                         * non-zero reg field of group 11 is #UD (Table A-6). */
                        return modrm == 0xf8 ? INSN_ERR_UNSUPPORTED : INSN_ERR_INVALID;
                }
                if ((modrm >> 6) == 3)
                        return INSN_ERR_NOT_MEMORY;
                err = decode_address(c, modrm, rex, addr_size, mode, r);
                if (err)
                        return err;

                r->size = byte_op ? 1 : (uint8_t)op_size;
                if (r->kind == INSN_MOVZX || r->kind == INSN_MOVSX) {
                        /* The register is the destination and is never a
                         * byte register; the memory operand is 8 or 16 bits
                         * regardless of the operand size (MOVZX, MOVSX). */
                        r->size = byte_op ? 1 : 2;
                        r->reg = (uint8_t)(reg_field | ((rex & 4) << 1));
                } else if (r->kind == INSN_MOV_STORE_IMM) {
                        r->reg = 0;
                } else if (byte_op && !rex && reg_field >= 4) {
                        /* Without any REX, byte registers 4-7 are AH, CH, DH,
                         * BH; with one (even 40) they are SPL, BPL, SIL, DIL
                         * (2.2.1.2, and Table 3-2 vol. 1). */
                        r->high_byte = true;
                        r->reg = (uint8_t)(reg_field - 4);
                } else {
                        r->reg = (uint8_t)(reg_field | ((rex & 4) << 1));
                }
        }

        if (r->kind == INSN_MOV_STORE_IMM) {
                /* imm8 for C6; for C7 imm16 with a 16-bit operand, else
                 * imm32, sign-extended to 64 bits under REX.W (2.2.1.5). */
                size_t imm_len = r->size == 1 ? 1 : r->size == 2 ? 2 : 4;
                uint64_t imm;

                err = take(c, imm_len, &imm);
                if (err)
                        return err;
                r->imm = sign_extend(imm, (unsigned)imm_len) & size_mask(r->size);
        }

        switch (r->kind) {
        case INSN_MOV_LOAD:
                r->dest_size = r->size;
                break;
        case INSN_MOVZX:
        case INSN_MOVSX:
                r->dest_size = (uint8_t)op_size;
                break;
        default:
                r->dest_size = 0;
                break;
        }
        /* Default segment: SS for a memory reference based on rSP or rBP,
         * otherwise DS (Table 3-5 vol. 1); r12 and r13 are not rSP and rBP. */
        r->addr_size = (uint8_t)addr_size;
        if (seg_override >= 0)
                r->seg = (uint8_t)seg_override;
        else
                r->seg = r->base == 4 || r->base == 5 ? INSN_SEG_SS : INSN_SEG_DS;
        r->length = (uint8_t)c->pos;
        return INSN_OK;
}

int insn_decode_mmio(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct insn_mmio *out)
{
        struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
        struct insn_mmio r = { .kind = INSN_MOV_LOAD };
        int err;

        if (!out)
                return INSN_ERR_BAD_ARG;
        if ((!bytes && avail) ||
            (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)) {
                err = INSN_ERR_BAD_ARG;
        } else {
                err = decode(&c, mode, &r);
        }
        if (err)
                r = (struct insn_mmio){ .kind = INSN_MOV_LOAD };
        *out = r;
        return err;
}

const char *insn_decode_error_name(int err)
{
        switch (err) {
        case INSN_OK:
                return "ok";
        case INSN_ERR_TRUNCATED:
                return "truncated";
        case INSN_ERR_TOO_LONG:
                return "longer than 15 bytes";
        case INSN_ERR_UNSUPPORTED:
                return "unsupported instruction";
        case INSN_ERR_STRING:
                return "string instruction";
        case INSN_ERR_NOT_MEMORY:
                return "register operand, not memory";
        case INSN_ERR_INVALID:
                return "invalid encoding";
        case INSN_ERR_BAD_ARG:
                return "bad argument";
        default:
                return "unknown";
        }
}

uint64_t insn_mmio_ea(const struct insn_mmio *insn, insn_read_gpr_fn read_gpr, void *ctx,
                      uint64_t rip)
{
        uint64_t ea = insn->disp;

        if (insn->rip_relative)
                ea += rip + insn->length;
        if (insn->base < 16)
                ea += read_gpr(ctx, insn->base);
        if (insn->index < 16)
                ea += read_gpr(ctx, insn->index) * (insn->scale & 15);
        /* Every part counts modulo 2^(8 * addr_size) (3.7.5.1 vol. 1,
         * 2.2.1.6: RIP-relative under 67 is EIP-relative). */
        return ea & size_mask(insn->addr_size);
}

uint64_t insn_mmio_store_value(const struct insn_mmio *insn, uint64_t reg_value)
{
        switch (insn->kind) {
        case INSN_MOV_STORE:
                if (insn->high_byte)
                        reg_value >>= 8;
                return reg_value & size_mask(insn->size);
        case INSN_MOV_STORE_IMM:
                return insn->imm & size_mask(insn->size);
        default:
                return 0;
        }
}

uint64_t insn_mmio_load_value(const struct insn_mmio *insn, uint64_t old, uint64_t mem)
{
        uint64_t v = mem & size_mask(insn->size);

        switch (insn->kind) {
        case INSN_MOV_LOAD:
        case INSN_MOVZX:
                break;
        case INSN_MOVSX:
                v = sign_extend(v, insn->size);
                break;
        default:
                return old;
        }
        if (insn->high_byte)
                return (old & ~0xff00ULL) | ((v & 0xff) << 8);
        /* 8- and 16-bit destinations leave the rest of the register alone;
         * 32-bit ones zero-extend into all 64 bits (3.4.1.1 vol. 1), which is
         * also harmless outside 64-bit mode where the upper half is unseen. */
        switch (insn->dest_size) {
        case 1:
                return (old & ~0xffULL) | (v & 0xff);
        case 2:
                return (old & ~0xffffULL) | (v & 0xffff);
        case 4:
                return v & 0xffffffffULL;
        default:
                return v;
        }
}
