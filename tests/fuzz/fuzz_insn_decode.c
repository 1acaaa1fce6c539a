/* libFuzzer target for emulate/insn_decode.c.
 *
 * Input: one byte whose value mod 4 selects the mode (0, 1, 2: 16-, 32- and
 * 64-bit; 3: an invalid mode that must be refused), then the instruction
 * bytes.  libFuzzer hands over a heap copy of exactly `size` bytes, so ASan
 * catches any read past `avail`.  Everything checked here must hold for any
 * input; a violation aborts with the name of the broken invariant. */
#include "tests/fuzz/fuzz.h"

#include "emulate/insn_decode.h"

static uint64_t mask(unsigned size)
{
        return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static bool is_zero(const struct insn_mmio *m)
{
        return m->kind == INSN_MOV_LOAD && m->length == 0 && m->size == 0 && m->reg == 0 &&
               !m->high_byte && m->dest_size == 0 && m->imm == 0 && m->base == 0 && m->index == 0 &&
               m->scale == 0 && m->addr_size == 0 && m->seg == 0 && !m->rip_relative &&
               m->disp == 0;
}

static bool same(const struct insn_mmio *a, const struct insn_mmio *b)
{
        return a->kind == b->kind && a->length == b->length && a->size == b->size &&
               a->reg == b->reg && a->high_byte == b->high_byte && a->dest_size == b->dest_size &&
               a->imm == b->imm && a->base == b->base && a->index == b->index &&
               a->scale == b->scale && a->addr_size == b->addr_size && a->seg == b->seg &&
               a->rip_relative == b->rip_relative && a->disp == b->disp;
}

/* insn_mmio_ea's register reads: each must name a GPR 0..15. */
struct gpr_reads {
        unsigned count, bad;
};

static uint64_t read_gpr(void *ctx, unsigned reg)
{
        struct gpr_reads *r = ctx;

        r->count++;
        if (reg > 15)
                r->bad++;
        /* Large values, so that truncation to the address size matters. */
        return 0xfedcba9876543210ULL ^ ((uint64_t)reg * 0x1111111111111111ULL);
}

static void check_address(const struct insn_mmio *m, enum insn_mode mode)
{
        static const uint64_t rips[] = { 0, 0xfff0, 0xfffffff0ULL, 0xfffffffffffffff0ULL };

        CHECK(m->base < 16 || m->base == INSN_REG_NONE);
        CHECK(m->index < 16 || m->index == INSN_REG_NONE);
        CHECK(m->scale == 1 || m->scale == 2 || m->scale == 4 || m->scale == 8);
        CHECK(m->index != INSN_REG_NONE || m->scale == 1);
        CHECK(m->seg <= INSN_SEG_GS);
        /* 64-bit mode ignores ES, CS, SS and DS overrides. */
        CHECK(mode != INSN_MODE_64 || m->seg == INSN_SEG_DS || m->seg >= INSN_SEG_SS);
        CHECK(m->addr_size == 2 || m->addr_size == 4 || m->addr_size == 8);
        CHECK(m->addr_size != 8 || mode == INSN_MODE_64);
        CHECK(!m->rip_relative ||
              (mode == INSN_MODE_64 && m->base == INSN_REG_NONE && m->index == INSN_REG_NONE));
        for (size_t i = 0; i < sizeof(rips) / sizeof(rips[0]); i++) {
                struct gpr_reads reads = { 0, 0 };
                uint64_t ea = insn_mmio_ea(m, read_gpr, &reads, rips[i]);

                CHECK(reads.bad == 0);
                CHECK(reads.count == (m->base != INSN_REG_NONE) + (m->index != INSN_REG_NONE));
                CHECK((ea & ~mask(m->addr_size)) == 0);
                /* Only RIP-relative forms depend on the instruction's address. */
                if (!m->rip_relative)
                        CHECK(ea == insn_mmio_ea(m, read_gpr, &reads, 0x1234));
        }
}

/* The helpers must only touch the bits the access defines. */
static void check_values(const struct insn_mmio *m)
{
        static const uint64_t patterns[] = { 0, ~0ULL, 0x8080808080808080ULL, 0x7f7f7f7f7f7f7f7fULL,
                                             0x1122334455667788ULL };

        for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
                uint64_t reg = patterns[i];
                uint64_t mem = patterns[(i + 1) % (sizeof(patterns) / sizeof(patterns[0]))];
                uint64_t st = insn_mmio_store_value(m, reg);
                uint64_t ld = insn_mmio_load_value(m, reg, mem);

                if (insn_mmio_is_store(m)) {
                        CHECK((st & ~mask(m->size)) == 0);
                        CHECK(ld == reg);
                        if (m->kind == INSN_MOV_STORE_IMM)
                                CHECK(st == m->imm);
                        else
                                CHECK(st == ((m->high_byte ? reg >> 8 : reg) & mask(m->size)));
                        continue;
                }
                CHECK(st == 0);
                if (m->high_byte) {
                        CHECK((ld & ~0xff00ULL) == (reg & ~0xff00ULL));
                        CHECK(((ld >> 8) & 0xff) == (mem & 0xff));
                        continue;
                }
                /* Narrow destinations keep the rest of the register; a
                 * 32-bit one clears it. */
                if (m->dest_size < 4)
                        CHECK((ld & ~mask(m->dest_size)) == (reg & ~mask(m->dest_size)));
                else
                        CHECK((ld & ~mask(m->dest_size)) == 0);
                CHECK((ld & mask(m->size)) == (mem & mask(m->size)));
                if (m->kind == INSN_MOVZX)
                        CHECK((ld & mask(m->dest_size) & ~mask(m->size)) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct insn_mmio m, again;
        const uint8_t *bytes;
        enum insn_mode mode;
        size_t avail;
        int err;

        if (size < 1)
                return 0;
        mode = (enum insn_mode)(data[0] % 4);
        bytes = data + 1;
        avail = size - 1;

        err = insn_decode_mmio(bytes, avail, mode, &m);
        CHECK(insn_decode_error_name(err) != NULL);
        if (data[0] % 4 == 3) {
                CHECK(err == INSN_ERR_BAD_ARG);
                CHECK(is_zero(&m));
                return 0;
        }
        CHECK(err <= INSN_OK && err > INSN_ERR_BAD_ARG);
        if (err != INSN_OK) {
                CHECK(is_zero(&m));
                /* Running out of input is only reported while fewer than
                 * INSN_MAX_LEN bytes are present; too long only once they
                 * are. */
                if (err == INSN_ERR_TRUNCATED)
                        CHECK(avail < INSN_MAX_LEN);
                if (err == INSN_ERR_TOO_LONG)
                        CHECK(avail >= INSN_MAX_LEN);
                return 0;
        }

        CHECK(m.length >= 1 && m.length <= avail && m.length <= INSN_MAX_LEN);
        CHECK(m.kind >= INSN_MOV_LOAD && m.kind <= INSN_MOVSX);
        CHECK(m.size == 1 || m.size == 2 || m.size == 4 || m.size == 8);
        CHECK(m.reg < 16);
        CHECK(!m.high_byte || (m.size == 1 && m.reg < 4));
        CHECK(!m.high_byte || m.kind == INSN_MOV_LOAD || m.kind == INSN_MOV_STORE);
        CHECK((m.imm & ~mask(m.size)) == 0);
        CHECK(m.kind == INSN_MOV_STORE_IMM || m.imm == 0);
        if (insn_mmio_is_store(&m)) {
                CHECK(m.dest_size == 0);
        } else {
                CHECK(m.dest_size == 1 || m.dest_size == 2 || m.dest_size == 4 || m.dest_size == 8);
                CHECK(m.dest_size >= m.size);
                CHECK(m.kind != INSN_MOV_LOAD || m.dest_size == m.size);
                CHECK(m.kind == INSN_MOV_LOAD || m.size <= 2);
        }

        /* The length is exact: the bytes after it play no part, and every
         * shorter input is merely truncated. */
        CHECK(insn_decode_mmio(bytes, m.length, mode, &again) == INSN_OK);
        CHECK(same(&again, &m));
        for (size_t n = 0; n < m.length; n++) {
                CHECK(insn_decode_mmio(bytes, n, mode, &again) == INSN_ERR_TRUNCATED);
                CHECK(is_zero(&again));
        }

        check_values(&m);
        check_address(&m, mode);
        return 0;
}
