/* libFuzzer target for devices/ioapic.c.
 *
 * Input: one byte, the I/O APIC ID given to ioapic_init, then records to
 * the end, each
 *
 *   u8   operation: bits 2:0 pick it (0 read, 1 write, 2 select and read,
 *        3 select and write, 4 drive a pin, 5 an EOI, 6 re-init, 7 read
 *        every register); bit 3 makes the MMIO offset the next u16 instead
 *        of IOREGSEL or IOWIN
 *   u8   register index or pin or vector
 *   u32  value (bit 0: the level a pin is driven to)
 *
 * Checked against ioapic.h and the 82093AA datasheet after every step:
 * IOREGSEL reads back its low byte; the ID, version and arbitration
 * registers read their fixed layout; redirection entries read back the
 * writable bits written, with delivery status 0, bits 55:17 0 and remote
 * IRR only on level-triggered entries; other offsets read 0.  Interrupt
 * messages carry the entry's vector, delivery mode, destination, mode and
 * trigger; an edge-triggered pin delivers exactly on an unmasked rising
 * edge; a level-triggered pin that is asserted and unmasked has delivered
 * (remote IRR set) and never delivers again before its remote IRR clears.
 * A re-init gives every entry masked, as on reset. */
#include "tests/fuzz/fuzz.h"

#include "devices/ioapic.h"

#define RTE_WRITABLE (0xff00000000000000ull | 0x1afffull)

struct ctx {
        struct ioapic *io;
        uint64_t before[IOAPIC_PINS]; /* entries before the current step */
        unsigned delivered[IOAPIC_PINS];
        bool may_clear; /* the step can clear remote IRR (an EOI or a write) */
};

static FUZZ_HARNESS void deliver(void *p, const struct ioapic_msg *m)
{
        struct ctx *c = p;
        CHECK(m->pin < IOAPIC_PINS);
        uint64_t e = c->io->redir[m->pin];
        CHECK(!(e & IOAPIC_RTE_MASKED));
        CHECK(m->vector == (e & 0xff));
        CHECK(m->delivery == ((e >> 8) & 7));
        CHECK(m->dest == (uint8_t)(e >> 56));
        CHECK(m->logical == !!(e & IOAPIC_RTE_LOGICAL));
        CHECK(m->level == !!(e & IOAPIC_RTE_LEVEL));
        if (m->level) {
                CHECK(c->io->pin_asserted & (1u << m->pin));
                CHECK(e & IOAPIC_RTE_REMOTE_IRR);
                /* At most one message per remote IRR cycle: the step that
                 * delivers must have been able to clear it (an EOI for the
                 * vector, or a write) or it was clear. */
                CHECK(c->delivered[m->pin] == 0);
                CHECK(c->may_clear || !(c->before[m->pin] & IOAPIC_RTE_REMOTE_IRR));
        }
        c->delivered[m->pin]++;
}

static FUZZ_HARNESS void check_entries(const struct ctx *c)
{
        for (unsigned p = 0; p < IOAPIC_PINS; p++) {
                uint64_t e = c->io->redir[p];
                CHECK((e & ~RTE_WRITABLE & ~IOAPIC_RTE_REMOTE_IRR) == 0);
                if (!(e & IOAPIC_RTE_LEVEL))
                        CHECK(!(e & IOAPIC_RTE_REMOTE_IRR));
                else if (!(e & IOAPIC_RTE_MASKED) && (c->io->pin_asserted & (1u << p)))
                        CHECK(e & IOAPIC_RTE_REMOTE_IRR); /* it has interrupted */
        }
}

static uint32_t rd(struct ioapic *io, uint8_t reg)
{
        ioapic_mmio_write(io, IOAPIC_REGSEL, reg);
        return ioapic_mmio_read(io, IOAPIC_WIN);
}

static FUZZ_HARNESS void check_read(struct ioapic *io, uint8_t reg, uint32_t v)
{
        if (reg == IOAPIC_REG_ID || reg == IOAPIC_REG_ARB)
                CHECK(v == (uint32_t)io->id << 24 && (v & ~0x0f000000u) == 0);
        else if (reg == IOAPIC_REG_VER)
                CHECK(v == IOAPIC_VERSION_VALUE);
        else if (reg >= IOAPIC_REG_REDIR && reg < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
                uint64_t e = io->redir[(reg - IOAPIC_REG_REDIR) / 2];
                CHECK(v == ((reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e));
                if (reg & 1)
                        CHECK((v & 0x00ffffffu) == 0);
                else
                        CHECK((v & (IOAPIC_RTE_PENDING | 0xfffe0000u)) == 0);
        } else
                CHECK(v == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct ioapic io;
        struct ctx c = { .io = &io };
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t id = in_u8(&in);

        ioapic_init(&io, id, deliver, &c);
        CHECK(io.id == (id & 0xf));

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in);
                uint8_t arg = in_u8(&in);
                uint32_t val = in_u32(&in);
                uint32_t off = (op & 8) ? in_u16(&in) : ((arg & 0x80) ? IOAPIC_WIN : IOAPIC_REGSEL);
                memcpy(c.before, io.redir, sizeof(c.before));
                uint32_t asserted_before = io.pin_asserted;
                memset(c.delivered, 0, sizeof(c.delivered));
                c.may_clear = (op & 7) == 1 || (op & 7) == 3 || (op & 7) == 5;

                switch (op & 7) {
                case 0: {
                        uint32_t v = ioapic_mmio_read(&io, off);
                        if (off == IOAPIC_REGSEL)
                                CHECK(v == io.ioregsel && v <= 0xff);
                        else if (off == IOAPIC_WIN)
                                check_read(&io, io.ioregsel, v);
                        else
                                CHECK(v == 0);
                        break;
                }
                case 1: {
                        uint8_t sel = io.ioregsel;
                        ioapic_mmio_write(&io, off, val);
                        if (off == IOAPIC_REGSEL)
                                CHECK(io.ioregsel == (uint8_t)val);
                        else
                                CHECK(io.ioregsel == sel);
                        break;
                }
                case 2:
                        check_read(&io, arg, rd(&io, arg));
                        break;
                case 3: {
                        ioapic_mmio_write(&io, IOAPIC_REGSEL, arg);
                        ioapic_mmio_write(&io, IOAPIC_WIN, val);
                        uint32_t back = ioapic_mmio_read(&io, IOAPIC_WIN);
                        check_read(&io, arg, back);
                        if (arg >= IOAPIC_REG_REDIR && arg < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
                                uint64_t w = (arg & 1) ? (uint64_t)val << 32 : val;
                                uint64_t mask =
                                    RTE_WRITABLE & ((arg & 1) ? ~0xffffffffull : 0xffffffffull);
                                uint64_t e = io.redir[(arg - IOAPIC_REG_REDIR) / 2];
                                CHECK((e & mask) == (w & mask));
                        }
                        if (arg == IOAPIC_REG_ID)
                                CHECK(io.id == ((val >> 24) & 0xf));
                        break;
                }
                case 4: {
                        unsigned pin = arg & 0x1f; /* 24-31: ignored */
                        bool level = val & 1;
                        ioapic_set_irq(&io, pin, level);
                        if (pin >= IOAPIC_PINS) {
                                CHECK(io.pin_asserted == asserted_before);
                                break;
                        }
                        uint64_t e = c.before[pin];
                        bool rising = level && !(asserted_before & (1u << pin));
                        if (!(e & IOAPIC_RTE_LEVEL))
                                CHECK(c.delivered[pin] ==
                                      (unsigned)(rising && !(e & IOAPIC_RTE_MASKED)));
                        /* Nothing else interrupts. */
                        for (unsigned p = 0; p < IOAPIC_PINS; p++)
                                if (p != pin)
                                        CHECK(c.delivered[p] == 0);
                        break;
                }
                case 5:
                        ioapic_eoi(&io, arg);
                        for (unsigned p = 0; p < IOAPIC_PINS; p++) {
                                uint64_t e = c.before[p];
                                /* Only level entries with this vector move. */
                                if (!(e & IOAPIC_RTE_LEVEL) || (e & 0xff) != arg)
                                        CHECK(io.redir[p] == e && c.delivered[p] == 0);
                        }
                        break;
                case 6:
                        ioapic_init(&io, arg, deliver, &c);
                        CHECK(io.pin_asserted == 0 && io.ioregsel == 0);
                        for (unsigned p = 0; p < IOAPIC_PINS; p++)
                                CHECK(rd(&io, (uint8_t)(IOAPIC_REG_REDIR + 2 * p)) ==
                                          IOAPIC_RTE_MASKED &&
                                      rd(&io, (uint8_t)(IOAPIC_REG_REDIR + 2 * p + 1)) == 0);
                        CHECK(rd(&io, IOAPIC_REG_ID) == (uint32_t)(arg & 0xf) << 24);
                        break;
                default: {
                        uint8_t sel = io.ioregsel;
                        for (unsigned r = 0; r < 256; r++)
                                check_read(&io, (uint8_t)r, rd(&io, (uint8_t)r));
                        ioapic_mmio_write(&io, IOAPIC_REGSEL, sel);
                        for (unsigned p = 0; p < IOAPIC_PINS; p++)
                                CHECK(c.delivered[p] == 0);
                        break;
                }
                }
                check_entries(&c);
        }
        return 0;
}
