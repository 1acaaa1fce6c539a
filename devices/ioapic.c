#include "devices/ioapic.h"
#include "lib/string.h"

/* Writable redirection-entry bits: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask and destination.  Delivery status and remote
 * IRR are the device's; bits 55:17 are reserved (82093AA section 3.2.4). */
#define RTE_WRITABLE (0xff00000000000000ull | 0x1afffull)
#define ID_MASK      0x0f000000u /* ID register bits 27:24 */

void ioapic_init(struct ioapic *io, uint8_t id, ioapic_deliver_fn deliver, void *ctx)
{
        vtv_memset(io, 0, sizeof(*io));
        io->id = id & 0xf;
        io->deliver = deliver;
        io->ctx = ctx;
        /* 82093AA section 3.2.4: the mask bit is set after reset. */
        for (unsigned i = 0; i < IOAPIC_PINS; i++)
                io->redir[i] = IOAPIC_RTE_MASKED;
}

static void send(struct ioapic *io, unsigned pin)
{
        uint64_t e = io->redir[pin];
        struct ioapic_msg m = {
                .vector = (uint8_t)(e & IOAPIC_RTE_VECTOR),
                .delivery = (uint8_t)((e >> 8) & 7),
                .dest = (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT),
                .logical = e & IOAPIC_RTE_LOGICAL,
                .level = e & IOAPIC_RTE_LEVEL,
                .pin = pin,
        };
        /* Remote IRR stays set until the EOI so that a still-asserted level
         * does not flood the local APIC with the same interrupt. */
        if (m.level)
                io->redir[pin] |= IOAPIC_RTE_REMOTE_IRR;
        if (io->deliver)
                io->deliver(io->ctx, &m);
}

/* Delivers a level-triggered pin when it is asserted, unmasked and not
 * already waiting for its EOI. */
static void level_check(struct ioapic *io, unsigned pin)
{
        uint64_t e = io->redir[pin];
        if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
            (io->pin_asserted & (1u << pin)))
                send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted)
{
        if (pin >= IOAPIC_PINS)
                return;
        uint32_t bit = 1u << pin;
        bool was = io->pin_asserted & bit;
        uint64_t e = io->redir[pin];

        if (asserted)
                io->pin_asserted |= bit;
        else
                io->pin_asserted &= ~bit;
        if (e & IOAPIC_RTE_LEVEL)
                level_check(io, pin);
        else if (asserted && !was && !(e & IOAPIC_RTE_MASKED))
                send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
        for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
                uint64_t e = io->redir[pin];
                if (!(e & IOAPIC_RTE_LEVEL) || (e & IOAPIC_RTE_VECTOR) != vector)
                        continue;
                io->redir[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
                level_check(io, pin);
        }
}

static void write_entry(struct ioapic *io, unsigned pin, bool high, uint32_t val)
{
        uint64_t e = io->redir[pin];
        uint64_t half = high ? (uint64_t)val << 32 : val;
        uint64_t keep = high ? 0xffffffffull : 0xffffffff00000000ull;

        e = (e & keep) | (half & RTE_WRITABLE & ~keep) | (e & ~RTE_WRITABLE & ~keep);
        /* Remote IRR has no meaning for edge-triggered entries; Linux relies
         * on a switch to edge clearing it on I/O APICs without an EOI
         * register (it is how it recovers a stuck level interrupt). */
        if (!(e & IOAPIC_RTE_LEVEL))
                e &= ~IOAPIC_RTE_REMOTE_IRR;
        io->redir[pin] = e;
        /* An unmasked level-triggered pin that is still asserted interrupts;
         * an edge that happened while masked stays lost. */
        level_check(io, pin);
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint32_t offset)
{
        if (offset == IOAPIC_REGSEL)
                return io->ioregsel;
        if (offset != IOAPIC_WIN)
                return 0;
        uint8_t r = io->ioregsel;
        switch (r) {
        case IOAPIC_REG_ID:
                return (uint32_t)io->id << 24;
        case IOAPIC_REG_VER:
                return IOAPIC_VERSION_VALUE;
        case IOAPIC_REG_ARB:
                /* 82093AA 3.2.3: loaded with the ID on reset and on the
                 * arbitration-ID sync; no bus arbitration is modelled. */
                return (uint32_t)io->id << 24;
        default:
                break;
        }
        if (r >= IOAPIC_REG_REDIR && r < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
                uint64_t e = io->redir[(r - IOAPIC_REG_REDIR) / 2];
                return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0;
}

void ioapic_mmio_write(struct ioapic *io, uint32_t offset, uint32_t val)
{
        if (offset == IOAPIC_REGSEL) {
                io->ioregsel = (uint8_t)val; /* bits 7:0; 31:8 reserved */
                return;
        }
        if (offset != IOAPIC_WIN)
                return;
        uint8_t r = io->ioregsel;
        if (r == IOAPIC_REG_ID) {
                io->id = (uint8_t)((val & ID_MASK) >> 24);
                return;
        }
        if (r >= IOAPIC_REG_REDIR && r < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
                write_entry(io, (r - IOAPIC_REG_REDIR) / 2, r & 1, val);
}
