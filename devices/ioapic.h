/* A guest's I/O APIC, as the Intel 82093AA datasheet describes it: 24 pins,
 * version 0x11 (no EOI register, so EOIs arrive as the local APICs'
 * broadcast), registers reached through IOREGSEL (MMIO offset 0x00) and
 * IOWIN (0x10) with 32-bit accesses.  Pure device model: no VMX, no
 * globals, no I/O.  Interrupt messages leave through a callback, at once:
 * delivery status therefore always reads 0.
 *
 * Pin levels are logical: "asserted" means the device requests an
 * interrupt.  The polarity bit is kept for the guest to read back but not
 * applied, so devices and the ACPI tables need only agree on the trigger
 * mode. */
#ifndef VTV_DEVICES_IOAPIC_H
#define VTV_DEVICES_IOAPIC_H

#include "lib/types.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ull
#define IOAPIC_MMIO_SIZE    0x1000
#define IOAPIC_PINS         24

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10

/* Register indexes (82093AA section 3.2). */
#define IOAPIC_REG_ID    0x00
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REG_ARB   0x02
#define IOAPIC_REG_REDIR 0x10 /* entry n: low half 0x10 + 2n, high half 0x11 + 2n */

#define IOAPIC_VERSION_VALUE 0x00170011u /* max redirection entry 23, version 0x11 */

/* Redirection entry bits (82093AA section 3.2.4). */
#define IOAPIC_RTE_VECTOR     0xffull
#define IOAPIC_RTE_DELIVERY   (7ull << 8)
#define IOAPIC_RTE_LOGICAL    BIT(11)
#define IOAPIC_RTE_PENDING    BIT(12) /* delivery status, read-only */
#define IOAPIC_RTE_ACTIVE_LOW BIT(13)
#define IOAPIC_RTE_REMOTE_IRR BIT(14) /* read-only */
#define IOAPIC_RTE_LEVEL      BIT(15)
#define IOAPIC_RTE_MASKED     BIT(16)
#define IOAPIC_RTE_DEST_SHIFT 56

/* One interrupt message for the local APICs. */
struct ioapic_msg {
        uint8_t vector;
        uint8_t delivery; /* LAPIC_DM_*: fixed, lowest priority, SMI, NMI, INIT, ExtINT */
        uint8_t dest;     /* 8-bit APIC ID or logical destination; 0xff broadcast */
        bool logical;
        bool level; /* level-triggered: the target's EOI must reach ioapic_eoi() */
        unsigned pin;
};

typedef void (*ioapic_deliver_fn)(void *ctx, const struct ioapic_msg *msg);

struct ioapic {
        uint8_t id; /* 4-bit I/O APIC ID */
        uint8_t ioregsel;
        uint64_t redir[IOAPIC_PINS]; /* remote IRR lives in bit 14 */
        uint32_t pin_asserted;       /* bit n: pin n asserted */
        ioapic_deliver_fn deliver;
        void *ctx;
};

/* State after reset: every entry masked, the ID from id (bits 3:0). */
void ioapic_init(struct ioapic *io, uint8_t id, ioapic_deliver_fn deliver, void *ctx);

/* MMIO at offsets IOAPIC_REGSEL and IOAPIC_WIN; other offsets read 0 and
 * ignore writes, as do unknown register indexes.  Read-only bits (delivery
 * status, remote IRR, version, arbitration ID) ignore writes. */
uint32_t ioapic_mmio_read(struct ioapic *io, uint32_t offset);
void ioapic_mmio_write(struct ioapic *io, uint32_t offset, uint32_t val);

/* Drives a pin.  Edge-triggered entries deliver on a rising edge when
 * unmasked (an edge on a masked pin is lost).  Level-triggered ones deliver
 * while the pin is asserted, unmasked and remote IRR is clear, and set
 * remote IRR.  Pins >= IOAPIC_PINS are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted);

/* A local APIC retired a level-triggered vector: clears remote IRR of every
 * level-triggered entry with that vector and delivers again where the pin
 * is still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
