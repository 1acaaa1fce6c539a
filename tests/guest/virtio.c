/* virtio over PCI under vtvisor, driven by a small test driver: the PCI
 * functions and their capabilities, BAR sizing, feature negotiation,
 * virtio-blk requests with INTx (through the I/O APIC) and with MSI-X
 * (masking, the pending-bit array), device reset and re-initialisation,
 * virtio-rng, and (with "hostile" on the command line) each malformed
 * ring a hostile driver can write, which must make the device "need a
 * reset" and nothing else.  The disk is build/guests/pattern.img (byte o
 * is (7 o + o / 512) mod 256); "ro" on the command line: it is read-only.
 *
 * The guest runs with paging off, so guest-physical = linear: the BARs
 * are reached where they are. */
#include "guest.h"

#define APIC    0xfee00000u
#define IOAPIC  0xfec00000u
#define REG_EOI 0xb0
#define REG_SVR 0xf0

#define SLOT_NET 2
#define SLOT_BLK 3
#define SLOT_RNG 4

#define VEC_INTX  0x60
#define VEC_MCFG  0x70 /* MSI-X vector 0: configuration change */
#define VEC_MQ    0x71 /* MSI-X vector 1: queue 0 */
#define VEC_RNG_Q 0x72

/* Common configuration (virtio 1.2 4.1.4.3). */
#define C_DFSEL  0x00
#define C_DF     0x04
#define C_GFSEL  0x08
#define C_GF     0x0c
#define C_MSIX   0x10
#define C_NUMQ   0x12
#define C_STATUS 0x14
#define C_GEN    0x15
#define C_QSEL   0x16
#define C_QSIZE  0x18
#define C_QMSIX  0x1a
#define C_QEN    0x1c
#define C_QNOFF  0x1e
#define C_QDESC  0x20
#define C_QDRV   0x28
#define C_QDEV   0x30

#define S_ACK         1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

#define NO_VECTOR 0xffff
#define QSZ       16

#define F_NEXT     1
#define F_WRITE    2
#define F_INDIRECT 4

/* ------------------------------------------------------------------ PCI */

static uint32_t pci_addr(unsigned slot, unsigned reg)
{
        return 0x80000000u | slot << 11 | (reg & 0xfc);
}

static uint32_t cfg32(unsigned slot, unsigned reg)
{
        outl(0xcf8, pci_addr(slot, reg));
        return inl(0xcfc);
}

static uint16_t cfg16(unsigned slot, unsigned reg)
{
        outl(0xcf8, pci_addr(slot, reg));
        return inw((uint16_t)(0xcfc + (reg & 2)));
}

static uint8_t cfg8(unsigned slot, unsigned reg)
{
        outl(0xcf8, pci_addr(slot, reg));
        return inb((uint16_t)(0xcfc + (reg & 3)));
}

static void cfg_wr32(unsigned slot, unsigned reg, uint32_t v)
{
        outl(0xcf8, pci_addr(slot, reg));
        outl(0xcfc, v);
}

static void cfg_wr16(unsigned slot, unsigned reg, uint16_t v)
{
        outl(0xcf8, pci_addr(slot, reg));
        outw((uint16_t)(0xcfc + (reg & 2)), v);
}

/* ------------------------------------------------------------- a device */

struct vq {
        struct {
                uint64_t addr;
                uint32_t len;
                uint16_t flags, next;
        } desc[QSZ] __attribute__((aligned(16)));
        struct {
                uint16_t flags, idx, ring[QSZ], used_event;
        } avail __attribute__((aligned(2)));
        struct {
                uint16_t flags, idx;
                struct {
                        uint32_t id, len;
                } ring[QSZ];
                uint16_t avail_event;
        } used __attribute__((aligned(4)));
        uint16_t last_used;
        volatile uint16_t *notify;
};

struct vdev {
        unsigned slot;
        uint32_t bar0, bar1;
        volatile uint8_t *common, *isr, *device, *notify_base;
        uint32_t notify_mult;
        unsigned msix_cap, msix_size;
        volatile uint32_t *table, *pba;
        uint8_t line;
        bool have_caps;
};

static struct vdev blk = { .slot = SLOT_BLK }, rng = { .slot = SLOT_RNG };
static struct vq bq __attribute__((aligned(4096)));
static struct vq rq __attribute__((aligned(4096)));

static uint8_t r8(const struct vdev *d, unsigned off)
{
        return d->common[off];
}
static uint16_t r16(const struct vdev *d, unsigned off)
{
        return *(volatile uint16_t *)(d->common + off);
}
static uint32_t r32(const struct vdev *d, unsigned off)
{
        return *(volatile uint32_t *)(d->common + off);
}
static void w8(struct vdev *d, unsigned off, uint8_t v)
{
        d->common[off] = v;
}
static void w16(struct vdev *d, unsigned off, uint16_t v)
{
        *(volatile uint16_t *)(d->common + off) = v;
}
static void w32(struct vdev *d, unsigned off, uint32_t v)
{
        *(volatile uint32_t *)(d->common + off) = v;
}
static void w64(struct vdev *d, unsigned off, uint64_t v)
{
        w32(d, off, (uint32_t)v);
        w32(d, off + 4, (uint32_t)(v >> 32));
}

/* Finds the virtio and MSI-X capabilities (virtio 1.2 4.1.4, PCI 3.0
 * 6.8.2) and maps them through the BARs. */
static bool find_caps(struct vdev *d)
{
        d->bar0 = cfg32(d->slot, 0x10) & ~0xfu;
        d->bar1 = cfg32(d->slot, 0x14) & ~0xfu;
        unsigned found = 0, guard = 0;
        for (unsigned p = cfg8(d->slot, 0x34); p && guard < 48; p = cfg8(d->slot, p + 1), guard++) {
                uint8_t id = cfg8(d->slot, p);
                if (id == 0x11) {
                        d->msix_cap = p;
                        d->msix_size = (cfg16(d->slot, p + 2) & 0x7ff) + 1;
                        uint32_t t = cfg32(d->slot, p + 4), b = cfg32(d->slot, p + 8);
                        uint32_t tb = (t & 7) ? d->bar1 : d->bar0;
                        uint32_t bb = (b & 7) ? d->bar1 : d->bar0;
                        d->table = (volatile uint32_t *)(tb + (t & ~7u));
                        d->pba = (volatile uint32_t *)(bb + (b & ~7u));
                        found |= 1u << 5;
                        continue;
                }
                if (id != 0x09)
                        continue;
                uint8_t type = cfg8(d->slot, p + 3), bar = cfg8(d->slot, p + 4);
                uint32_t off = cfg32(d->slot, p + 8);
                uint32_t base = (bar == 0 ? d->bar0 : d->bar1) + off;
                if (type == 1)
                        d->common = (volatile uint8_t *)base;
                else if (type == 2) {
                        d->notify_base = (volatile uint8_t *)base;
                        d->notify_mult = cfg32(d->slot, p + 16);
                } else if (type == 3)
                        d->isr = (volatile uint8_t *)base;
                else if (type == 4)
                        d->device = (volatile uint8_t *)base;
                if (type >= 1 && type <= 4)
                        found |= 1u << type;
        }
        d->line = cfg8(d->slot, 0x3c);
        d->have_caps = found == 0x3e;
        return d->have_caps;
}

static uint64_t device_features(struct vdev *d)
{
        w32(d, C_DFSEL, 0);
        uint32_t lo = r32(d, C_DF);
        w32(d, C_DFSEL, 1);
        return (uint64_t)r32(d, C_DF) << 32 | lo;
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (virtio 1.2 3.1.1).
 * Returns whether the device accepted the features. */
static bool negotiate(struct vdev *d, uint64_t want)
{
        w8(d, C_STATUS, 0);
        if (r8(d, C_STATUS) != 0)
                return false;
        w8(d, C_STATUS, S_ACK);
        w8(d, C_STATUS, S_ACK | S_DRIVER);
        uint64_t have = device_features(d);
        w32(d, C_GFSEL, 0);
        w32(d, C_GF, (uint32_t)(want & have));
        w32(d, C_GFSEL, 1);
        w32(d, C_GF, (uint32_t)((want & have) >> 32));
        w8(d, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
        return r8(d, C_STATUS) & S_FEATURES_OK;
}

static void queue_setup(struct vdev *d, unsigned q, struct vq *vq, uint16_t vector)
{
        memset(vq, 0, sizeof(*vq));
        w16(d, C_QSEL, (uint16_t)q);
        w16(d, C_QSIZE, QSZ);
        w16(d, C_QMSIX, vector);
        w64(d, C_QDESC, (uint32_t)vq->desc);
        w64(d, C_QDRV, (uint32_t)&vq->avail);
        w64(d, C_QDEV, (uint32_t)&vq->used);
        vq->notify = (volatile uint16_t *)(d->notify_base + r16(d, C_QNOFF) * d->notify_mult);
        w16(d, C_QEN, 1);
}

static bool start(struct vdev *d, struct vq *vq, uint16_t cfg_vec, uint16_t q_vec)
{
        if (!negotiate(d, 1ull << 32))
                return false;
        w16(d, C_MSIX, cfg_vec);
        queue_setup(d, 0, vq, q_vec);
        w8(d, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
        return r8(d, C_STATUS) == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* Makes descriptors 0..n-1 one chain and offers it. */
struct seg {
        void *p;
        uint32_t len;
        bool write;
};

static void offer(struct vq *vq, const struct seg *s, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                vq->desc[i].addr = (uint32_t)s[i].p;
                vq->desc[i].len = s[i].len;
                vq->desc[i].flags =
                    (uint16_t)((i + 1 < n ? F_NEXT : 0) | (s[i].write ? F_WRITE : 0));
                vq->desc[i].next = (uint16_t)(i + 1);
        }
        vq->avail.ring[vq->avail.idx % QSZ] = 0;
        __asm__ volatile("" ::: "memory");
        vq->avail.idx++;
}

static void kick(struct vq *vq)
{
        __asm__ volatile("" ::: "memory");
        *vq->notify = 0; /* the value is the queue number: 0 */
}

/* Waits (HLT with interrupts on) until the device used a chain. */
static bool wait_used(struct vq *vq)
{
        for (unsigned i = 0; i < 200 && *(volatile uint16_t *)&vq->used.idx == vq->last_used; i++)
                __asm__ volatile("sti; hlt; cli");
        if (*(volatile uint16_t *)&vq->used.idx == vq->last_used)
                return false;
        vq->last_used++;
        return true;
}

static bool wait_irq(uint32_t vec, uint32_t n)
{
        for (unsigned i = 0; i < 200 && g_irq_count[vec] < n; i++)
                __asm__ volatile("sti; hlt; cli");
        return g_irq_count[vec] >= n;
}

/* ------------------------------------------------------------ interrupts */

static volatile uint8_t last_isr;

static void apic_eoi(void)
{
        *(volatile uint32_t *)(APIC + REG_EOI) = 0;
}

static void irq_hook(uint32_t vector)
{
        /* INTx: reading the ISR acknowledges it and drops the line before
         * the EOI reaches the I/O APIC (virtio 1.2 4.1.4.5). */
        if (vector == VEC_INTX)
                last_isr = *blk.isr;
        apic_eoi();
}

static void ioapic_route(unsigned pin, uint32_t vector)
{
        volatile uint32_t *sel = (volatile uint32_t *)IOAPIC;
        volatile uint32_t *win = (volatile uint32_t *)(IOAPIC + 0x10);
        *sel = 0x10 + 2 * pin + 1;
        *win = 0; /* APIC 0 */
        *sel = 0x10 + 2 * pin;
        /* Level-triggered, active low: a PCI interrupt as the _PRT says. */
        *win = vector | 1u << 15 | 1u << 13;
}

static void msix_entry(struct vdev *d, unsigned n, uint32_t vector, bool masked)
{
        d->table[4 * n] = APIC; /* destination APIC 0, physical */
        d->table[4 * n + 1] = 0;
        d->table[4 * n + 2] = vector;
        d->table[4 * n + 3] = masked ? 1 : 0;
}

static void msix_enable(struct vdev *d, bool on)
{
        uint16_t ctl = cfg16(d->slot, d->msix_cap + 2);
        ctl = on ? (uint16_t)(ctl | 0x8000) : (uint16_t)(ctl & ~0x8000);
        cfg_wr16(d->slot, d->msix_cap + 2, ctl);
}

/* ------------------------------------------------------------- blk I/O */

struct blk_req {
        uint32_t type, reserved;
        uint64_t sector;
};

static struct blk_req hdr;
static uint8_t data[8192] __attribute__((aligned(4096)));
static volatile uint8_t status;

static uint8_t pattern(uint32_t o)
{
        return (uint8_t)(o * 7 + (o >> 9));
}

/* One request: header, len bytes of data (two descriptors, split at an
 * odd place), status.  Returns the used length, or ~0 on no completion. */
static uint32_t blk_rw(uint32_t type, uint64_t sector, uint32_t len, bool device_writes)
{
        hdr = (struct blk_req){ type, 0, sector };
        status = 0xee;
        struct seg s[4] = { { &hdr, sizeof(hdr), false } };
        unsigned n = 1;
        if (len) {
                uint32_t first = len > 1000 ? 1000 : len;
                s[n++] = (struct seg){ data, first, device_writes };
                if (len > first)
                        s[n++] = (struct seg){ data + first, len - first, device_writes };
        }
        s[n++] = (struct seg){ (void *)&status, 1, true };
        offer(&bq, s, n);
        kick(&bq);
        if (!wait_used(&bq))
                return ~0u;
        return bq.used.ring[(bq.last_used - 1) % QSZ].len;
}

static bool data_is_pattern(uint32_t disk_off, uint32_t len)
{
        for (uint32_t i = 0; i < len; i++) {
                if (data[i] != pattern(disk_off + i))
                        return false;
        }
        return true;
}

/* --------------------------------------------------------------- tests */

static void identity(void)
{
        expect_eq32("blk-vendor-device", cfg32(SLOT_BLK, 0), 0x10421af4);
        expect_eq32("rng-vendor-device", cfg32(SLOT_RNG, 0), 0x10441af4);
        expect_eq32("blk-revision", cfg8(SLOT_BLK, 0x08), 1);
        expect_eq32("blk-class", cfg32(SLOT_BLK, 0x08) >> 8, 0x010000);
        expect_eq32("blk-subsystem", cfg32(SLOT_BLK, 0x2c), 0x00021af4);
        expect_eq32("blk-interrupt-pin", cfg8(SLOT_BLK, 0x3d), 1);
        /* The DSDT's _PRT: slot 3 INTA# is GSI 16 + 3. */
        expect_eq32("blk-interrupt-line", cfg8(SLOT_BLK, 0x3c), 19);
        expect_eq32("no-net-without-network", cfg32(SLOT_NET, 0), 0xffffffff);
        report("blk-capabilities-list", cfg16(SLOT_BLK, 0x06) & 0x10);

        /* BAR sizing (PCI 3.0 6.2.5.1): all ones in, the size mask out. */
        uint32_t bar0 = cfg32(SLOT_BLK, 0x10), bar1 = cfg32(SLOT_BLK, 0x14);
        report("blk-bars-assigned", bar0 >= 0xc0000000u && bar1 >= 0xc0000000u);
        cfg_wr32(SLOT_BLK, 0x10, 0xffffffff);
        expect_eq32("blk-bar0-size", cfg32(SLOT_BLK, 0x10), 0xffffc000);
        cfg_wr32(SLOT_BLK, 0x14, 0xffffffff);
        expect_eq32("blk-bar1-size", cfg32(SLOT_BLK, 0x14), 0xfffff000);
        cfg_wr32(SLOT_BLK, 0x10, bar0);
        cfg_wr32(SLOT_BLK, 0x14, bar1);
        expect_eq32("blk-bar0-restored", cfg32(SLOT_BLK, 0x10), bar0);

        report("blk-virtio-capabilities", find_caps(&blk));
        report("rng-virtio-capabilities", find_caps(&rng));
        expect_eq32("blk-msix-table-size", blk.msix_size, 5);
        /* Memory decoding is off until the driver turns it on. */
        expect_eq32("blk-bar-off-reads-ones", r16(&blk, C_NUMQ), 0xffff);
        cfg_wr16(SLOT_BLK, 0x04, 0x06); /* memory space, bus master */
        cfg_wr16(SLOT_RNG, 0x04, 0x06);
        expect_eq32("blk-num-queues", r16(&blk, C_NUMQ), 1);
}

static void features(bool ro)
{
        uint64_t f = device_features(&blk);
        report("blk-offers-version-1", f & (1ull << 32));
        report("blk-offers-blk-size-flush", (f & (1u << 6)) && (f & (1u << 9)));
        expect_eq32("blk-read-only-feature", (uint32_t)(f >> 5) & 1, ro);
        /* Without VERSION_1 a modern device refuses (virtio 1.2 6.1). */
        report("blk-features-without-version-1-refused", !negotiate(&blk, 1u << 9));
        report("blk-features-accepted", negotiate(&blk, 1ull << 32 | 1u << 9));
        /* Capacity, in 512-byte sectors: the 64 KiB pattern image. */
        expect_eq32("blk-capacity", *(volatile uint32_t *)blk.device, 128);
        w16(&blk, C_QSEL, 0);
        expect_eq32("blk-queue-max", r16(&blk, C_QSIZE), 128);
        w16(&blk, C_QSIZE, 3); /* not a power of two: ignored */
        expect_eq32("blk-queue-size-not-power-of-two", r16(&blk, C_QSIZE), 128);
        w16(&blk, C_QSEL, 5);
        expect_eq32("blk-absent-queue-size-zero", r16(&blk, C_QSIZE), 0);
}

static void intx_io(bool ro)
{
        /* MSI-X disabled: the ISR and INTA# through I/O APIC input 19. */
        ioapic_route(blk.line, VEC_INTX);
        report("blk-start-intx", start(&blk, &bq, NO_VECTOR, NO_VECTOR));
        uint32_t n = g_irq_count[VEC_INTX];
        expect_eq32("blk-read-used-len", blk_rw(0, 2, 4096, true), 4097);
        expect_eq32("blk-read-status-ok", status, 0);
        report("blk-read-data", data_is_pattern(2 * 512, 4096));
        report("blk-read-intx", wait_irq(VEC_INTX, n + 1));
        expect_eq32("blk-isr-queue-bit", last_isr, 1);
        expect_eq32("blk-isr-cleared-by-read", *blk.isr, 0);

        for (unsigned i = 0; i < 512; i++)
                data[i] = (uint8_t)(0xa5 ^ i);
        uint32_t len = blk_rw(1, 7, 512, false);
        expect_eq32("blk-write-used-len", len, 1);
        expect_eq32("blk-write-status", status, ro ? 1 : 0);
        memset(data, 0, 512);
        blk_rw(0, 7, 512, true);
        bool back = true;
        for (unsigned i = 0; i < 512; i++)
                back &= data[i] == (uint8_t)(ro ? pattern(7 * 512 + i) : (0xa5 ^ i));
        report(ro ? "blk-read-only-unchanged" : "blk-write-read-back", back);

        blk_rw(4, 0, 0, false);
        expect_eq32("blk-flush-ok", status, 0);
        memset(data, 0, 20);
        blk_rw(8, 0, 20, true);
        expect_eq32("blk-get-id-ok", status, 0);
        report("blk-get-id-is-vm-name", !gstrcmp((const char *)data, "vt"));
        blk_rw(0, 127, 1024, true);
        expect_eq32("blk-read-past-end-ioerr", status, 1);
        blk_rw(0, 1ull << 60, 512, true);
        expect_eq32("blk-read-huge-sector-ioerr", status, 1);
        blk_rw(0, 0, 100, true);
        expect_eq32("blk-read-partial-sector-ioerr", status, 1);
        blk_rw(77, 0, 512, true);
        expect_eq32("blk-unknown-request-unsupp", status, 2);
}

static void reset_and_msix(void)
{
        /* INTx of the last requests (they complete during the notify, so
         * wait_used saw them before any HLT) is taken now. */
        __asm__ volatile("sti; nop; cli");
        w8(&blk, C_STATUS, 0);
        expect_eq32("blk-reset-status-zero", r8(&blk, C_STATUS), 0);
        w16(&blk, C_QSEL, 0);
        expect_eq32("blk-reset-queue-disabled", r16(&blk, C_QEN), 0);
        expect_eq32("blk-reset-queue-size", r16(&blk, C_QSIZE), 128);

        msix_entry(&blk, 0, VEC_MCFG, false);
        msix_entry(&blk, 1, VEC_MQ, false);
        msix_enable(&blk, true);
        report("blk-start-msix", start(&blk, &bq, 0, 1));
        w16(&blk, C_QSEL, 0);
        expect_eq32("blk-queue-vector", r16(&blk, C_QMSIX), 1);
        expect_eq32("blk-config-vector", r16(&blk, C_MSIX), 0);
        w16(&blk, C_MSIX, 9); /* no such vector */
        expect_eq32("blk-bad-vector-no-vector", r16(&blk, C_MSIX), NO_VECTOR);
        w16(&blk, C_MSIX, 0);

        uint32_t n = g_irq_count[VEC_MQ], x = g_irq_count[VEC_INTX];
        blk_rw(0, 0, 512, true);
        report("blk-read-msix", wait_irq(VEC_MQ, n + 1));
        report("blk-msix-no-intx", g_irq_count[VEC_INTX] == x);
        report("blk-msix-read-data", data_is_pattern(0, 512));

        /* A masked vector's message waits in the PBA until unmasked. */
        blk.table[4 * 1 + 3] = 1;
        n = g_irq_count[VEC_MQ];
        blk_rw(0, 1, 512, true);
        spin(20000);
        report("blk-masked-no-interrupt", g_irq_count[VEC_MQ] == n);
        expect_eq32("blk-masked-pending-bit", blk.pba[0] & 2, 2);
        blk.table[4 * 1 + 3] = 0;
        report("blk-unmasked-delivers", wait_irq(VEC_MQ, n + 1));
        expect_eq32("blk-pending-bit-cleared", blk.pba[0] & 2, 0);
}

static void rng_test(void)
{
        static uint8_t buf[2][64];
        msix_entry(&rng, 0, VEC_RNG_Q, false);
        msix_enable(&rng, true);
        report("rng-start", start(&rng, &rq, NO_VECTOR, 0));
        for (unsigned k = 0; k < 2; k++) {
                struct seg s = { buf[k], 64, true };
                uint32_t n = g_irq_count[VEC_RNG_Q];
                offer(&rq, &s, 1);
                kick(&rq);
                report(k ? "rng-second-request" : "rng-request", wait_used(&rq));
                expect_eq32("rng-used-len", rq.used.ring[k].len, 64);
                report("rng-msix", wait_irq(VEC_RNG_Q, n + 1));
        }
        bool differ = false, varied = false;
        for (unsigned i = 0; i < 64; i++) {
                differ |= buf[0][i] != buf[1][i];
                varied |= buf[0][i] != buf[0][0];
        }
        report("rng-bytes-vary", varied);
        report("rng-requests-differ", differ);
}

/* ------------------------------------------------------- hostile rings */

static bool needs_reset(void)
{
        return r8(&blk, C_STATUS) & S_NEEDS_RESET;
}

/* After a malformed ring: NEEDS_RESET and, once the driver had set
 * DRIVER_OK, a configuration interrupt (virtio 1.2 2.1.2; before it, none);
 * then a reset and a fresh start make the device work again. */
static void expect_failed_irq(const char *what, uint32_t cfg_irqs, bool live)
{
        char name[64];
        size_t n = gstrlen(what);
        memcpy(name, what, n);
        memcpy(name + n, "-needs-reset", 13);
        report(name, needs_reset());
        if (live) {
                memcpy(name + n, "-config-irq", 12);
                report(name, wait_irq(VEC_MCFG, cfg_irqs + 1));
        } else {
                memcpy(name + n, "-no-irq-before-driver-ok", 25);
                spin(20000);
                report(name, g_irq_count[VEC_MCFG] == cfg_irqs);
        }
        memcpy(name + n, "-recovers", 10);
        bool ok = start(&blk, &bq, 0, 1);
        ok = ok && blk_rw(0, 3, 512, true) == 513 && status == 0 && data_is_pattern(3 * 512, 512);
        report(name, ok);
}

static void expect_failed(const char *what, uint32_t cfg_irqs)
{
        expect_failed_irq(what, cfg_irqs, true);
}

static void offer_raw(unsigned head)
{
        bq.avail.ring[bq.avail.idx % QSZ] = (uint16_t)head;
        __asm__ volatile("" ::: "memory");
        bq.avail.idx++;
        kick(&bq);
        spin(20000);
}

static void chain(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
        bq.desc[i].addr = addr;
        bq.desc[i].len = len;
        bq.desc[i].flags = flags;
        bq.desc[i].next = next;
}

static void hostile(void)
{
        report("hostile-start", start(&blk, &bq, 0, 1));
        uint32_t c;

        c = g_irq_count[VEC_MCFG];
        offer_raw(200); /* a head beyond the queue */
        expect_failed("desc-index-out-of-range", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, (uint32_t)&hdr, 16, F_NEXT, 5);
        chain(5, (uint32_t)&status, 1, F_WRITE | F_NEXT, 99); /* next beyond */
        offer_raw(0);
        expect_failed("next-index-out-of-range", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, 0xf0000000u, 16, 0, 0); /* outside the 16 MiB of RAM */
        offer_raw(0);
        expect_failed("buffer-outside-ram", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, 0x100000, 0xffffffffu, 0, 0); /* a huge length */
        offer_raw(0);
        expect_failed("huge-length", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, (uint32_t)&hdr, 0, 0, 0);
        offer_raw(0);
        expect_failed("zero-length", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, (uint32_t)&hdr, 16, F_NEXT, 1);
        chain(1, (uint32_t)data, 512, F_NEXT | F_WRITE, 0); /* back to 0: a loop */
        offer_raw(0);
        expect_failed("descriptor-loop", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, (uint32_t)&status, 1, F_WRITE | F_NEXT, 1);
        chain(1, (uint32_t)&hdr, 16, 0, 0); /* readable after writable */
        offer_raw(0);
        expect_failed("readable-after-writable", c);

        c = g_irq_count[VEC_MCFG];
        chain(0, (uint32_t)data, 64, F_INDIRECT, 0);
        offer_raw(0);
        expect_failed("indirect-not-offered", c);

        c = g_irq_count[VEC_MCFG];
        bq.avail.idx = (uint16_t)(bq.avail.idx + 100); /* more than the queue holds */
        kick(&bq);
        spin(20000);
        expect_failed("avail-index-jump", c);

        /* At queue enable: a misaligned ring, a ring outside RAM. */
        c = g_irq_count[VEC_MCFG];
        negotiate(&blk, 1ull << 32);
        w16(&blk, C_MSIX, 0);
        w16(&blk, C_QSEL, 0);
        w16(&blk, C_QMSIX, 1);
        w64(&blk, C_QDESC, (uint32_t)bq.desc + 8);
        w64(&blk, C_QDRV, (uint32_t)&bq.avail);
        w64(&blk, C_QDEV, (uint32_t)&bq.used);
        w16(&blk, C_QEN, 1);
        expect_failed_irq("misaligned-ring", c, false);

        c = g_irq_count[VEC_MCFG];
        negotiate(&blk, 1ull << 32);
        w16(&blk, C_MSIX, 0);
        w16(&blk, C_QSEL, 0);
        w64(&blk, C_QDESC, 0xfff000);
        w64(&blk, C_QDRV, 0x2000000); /* past 16 MiB */
        w64(&blk, C_QDEV, (uint32_t)&bq.used);
        w16(&blk, C_QEN, 1);
        expect_failed_irq("ring-outside-ram", c, false);

        /* Queue fields of an enabled queue are not the driver's to change. */
        c = g_irq_count[VEC_MCFG];
        w16(&blk, C_QSEL, 0);
        w64(&blk, C_QDESC, 0x200000);
        expect_failed("enabled-queue-rewritten", c);
}

/* The ACPI tables every guest type gets (docs/platform.md): the RSDP found
 * by scanning the BIOS area (ACPI 6.4 5.2.5.1), its XSDT naming the FADT,
 * MADT and MCFG, and the DSDT's _PRT that routes the virtio INTx pins. */
static bool acpi_sum_ok(const uint8_t *p, uint32_t len)
{
        uint8_t sum = 0;
        for (uint32_t i = 0; i < len; i++)
                sum = (uint8_t)(sum + p[i]);
        return sum == 0;
}

static const uint8_t *acpi_table(const uint8_t *xsdt, const char *sig)
{
        uint32_t len = *(const uint32_t *)(xsdt + 4);
        for (uint32_t off = 36; off + 8 <= len; off += 8) {
                const uint8_t *t = (const uint8_t *)*(const uint32_t *)(xsdt + off);
                if (!gstrncmp((const char *)t, sig, 4))
                        return t;
        }
        return NULL;
}

static void acpi_tables(void)
{
        const uint8_t *rsdp = NULL;
        for (uint32_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16) {
                if (!gstrncmp((const char *)a, "RSD PTR ", 8) &&
                    acpi_sum_ok((const uint8_t *)a, 20))
                        rsdp = (const uint8_t *)a;
        }
        if (!report("acpi-rsdp-in-bios-area", rsdp != NULL))
                return;
        expect_eq32("acpi-rsdp-revision-2", rsdp[15], 2);
        const uint8_t *xsdt = (const uint8_t *)*(const uint32_t *)(rsdp + 24);
        report("acpi-xsdt", !gstrncmp((const char *)xsdt, "XSDT", 4) &&
                                acpi_sum_ok(xsdt, *(const uint32_t *)(xsdt + 4)));
        const uint8_t *fadt = acpi_table(xsdt, "FACP"), *madt = acpi_table(xsdt, "APIC");
        report("acpi-mcfg", acpi_table(xsdt, "MCFG") != NULL);
        if (!report("acpi-fadt-madt", fadt && madt))
                return;
        /* FADT PM_TMR_BLK (offset 76): the PM timer's port. */
        report("acpi-fadt-pm-timer", *(const uint32_t *)(fadt + 76) != 0);
        /* MADT: one processor local APIC entry (type 0) per vCPU: one. */
        uint32_t n = 0, len = *(const uint32_t *)(madt + 4);
        for (uint32_t off = 44; off + 2 <= len; off += madt[off + 1])
                n += madt[off] == 0 || madt[off] == 9;
        expect_eq32("acpi-madt-one-cpu", n, 1);
        const uint8_t *dsdt = (const uint8_t *)*(const uint32_t *)(fadt + 40);
        uint32_t dlen = *(const uint32_t *)(dsdt + 4);
        bool prt = false;
        for (uint32_t i = 0; i + 4 <= dlen; i++)
                prt |= !gstrncmp((const char *)dsdt + i, "_PRT", 4);
        report("acpi-dsdt-prt", prt);
}

void guest_main(void)
{
        bool ro = cmdline_has_word("ro");
        *(volatile uint32_t *)(APIC + REG_SVR) = 0x1ff;
        g_irq_hook = irq_hook;
        acpi_tables();
        identity();
        if (!blk.have_caps || !rng.have_caps)
                return;
        features(ro);
        intx_io(ro);
        reset_and_msix();
        rng_test();
        if (cmdline_has_word("hostile"))
                hostile();
}
