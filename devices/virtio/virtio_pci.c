#include "devices/virtio/virtio_pci.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* Configuration space layout.  pci.c serves every configuration access from
 * cfg[] through wmask[]/w1cmask[]; this module sets the masks so that only
 * the registers a driver may program are writable, and reacts to what it
 * wrote in virtio_pci_cfg_written. */
#define STATUS_INTERRUPT     0x0008 /* PCI 3.0 6.2.3: INTx pending */
#define STATUS_CAP_LIST      0x0010
#define COMMAND_INTX_DISABLE 0x0400 /* PCI 3.0 6.2.2 */

#define CAP_ID_VNDR 0x09
#define CAP_ID_MSIX 0x11

/* The virtio capabilities (4.1.4): struct virtio_pci_cap is cap_vndr,
 * cap_next, cap_len, cfg_type, bar, id, padding[2], le32 offset, le32
 * length; the notification capability adds le32 notify_off_multiplier. */
#define VCAP_LEN        16
#define VCAP_NOTIFY_LEN 20
#define CFG_TYPE_COMMON 1
#define CFG_TYPE_NOTIFY 2
#define CFG_TYPE_ISR    3
#define CFG_TYPE_DEVICE 4

#define CAP_COMMON 0x40
#define CAP_NOTIFY (CAP_COMMON + VCAP_LEN)
#define CAP_ISR    (CAP_NOTIFY + VCAP_NOTIFY_LEN)
#define CAP_DEVICE (CAP_ISR + VCAP_LEN)
#define CAP_MSIX   (CAP_DEVICE + VCAP_LEN)

/* MSI-X capability (PCI 3.0 6.8.2): id, next, le16 message control (table
 * size - 1 in bits 10:0, function mask bit 14, enable bit 15), le32 table
 * offset/BIR, le32 PBA offset/BIR. */
#define MSIX_CTRL        (CAP_MSIX + 2)
#define MSIX_CTRL_MASK   0x4000
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_ENTRY_SIZE  16
#define MSIX_ENTRY_MASK  1u

/* Common configuration (4.1.4.3): field offsets. */
#define CC_DFSELECT 0x00
#define CC_DF       0x04
#define CC_GFSELECT 0x08
#define CC_GF       0x0c
#define CC_MSIX     0x10
#define CC_NUMQ     0x12
#define CC_STATUS   0x14
#define CC_CFGGEN   0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE   0x18
#define CC_Q_MSIX   0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF   0x1e
#define CC_Q_DESC   0x20
#define CC_Q_DRIVER 0x28
#define CC_Q_DEVICE 0x30
#define CC_LEN      0x38 /* sizeof(struct virtio_pci_common_cfg) */

/* The status bits a driver may set (2.1); NEEDS_RESET is the device's. */
#define STATUS_DRIVER_BITS                                                                         \
        (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |            \
         VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)

static uint32_t class_of(uint8_t type)
{
        switch (type) {
        case VIRTIO_ID_NET:
                return 0x020000; /* network controller, Ethernet */
        case VIRTIO_ID_BLK:
                return 0x010000; /* mass storage, SCSI (as QEMU's virtio-blk) */
        default:
                return 0xff0000; /* unassigned class (as QEMU's virtio-rng) */
        }
}

static void put_vcap(uint8_t *c, uint8_t next, uint8_t len, uint8_t type, uint32_t off,
                     uint32_t size)
{
        c[0] = CAP_ID_VNDR;
        c[1] = next;
        c[2] = len;
        c[3] = type;
        c[4] = 0; /* BAR 0 */
        put32(c + 8, off);
        put32(c + 12, size);
}

static bool msix_enabled(const struct virtio_pci *p)
{
        return get16(p->fn.cfg + MSIX_CTRL) & MSIX_CTRL_ENABLE;
}

static bool msix_fn_masked(const struct virtio_pci *p)
{
        return get16(p->fn.cfg + MSIX_CTRL) & MSIX_CTRL_MASK;
}

/* INTA# follows the ISR status while MSI-X is off (4.1.4.5.1: the PCI
 * status Interrupt Status bit is the OR of the ISR bits) unless the
 * command register's Interrupt Disable masks it (PCI 3.0 6.2.2); with
 * MSI-X enabled the function may not use INTx (PCI 3.0 6.8.1). */
static void update_intx(struct virtio_pci *p, struct virtio_pci_effects *fx)
{
        bool pending = p->isr != 0 && !msix_enabled(p);
        uint16_t st = get16(p->fn.cfg + PCI_STATUS) & (uint16_t)~STATUS_INTERRUPT;
        put16(p->fn.cfg + PCI_STATUS, (uint16_t)(st | (pending ? STATUS_INTERRUPT : 0)));
        bool level = pending && !(get16(p->fn.cfg + PCI_COMMAND) & COMMAND_INTX_DISABLE);
        if (level != p->intx) {
                p->intx = level;
                fx->intx_changed = true;
        }
}

/* Queues the MSI of vector v; the same message twice in one set of
 * effects is sent once (MSIs are edge events, one covers both). */
static void send_msi(struct virtio_pci *p, unsigned v, struct virtio_pci_effects *fx)
{
        const struct virtio_msix_entry *e = &p->msix[v];
        struct virtio_msi m = { (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data };
        for (unsigned i = 0; i < fx->nmsi; i++)
                if (fx->msi[i].addr == m.addr && fx->msi[i].data == m.data)
                        return;
        if (fx->nmsi < VIRTIO_MSIX_VECTORS)
                fx->msi[fx->nmsi++] = m;
}

/* Delivers the pending vectors that are no longer masked (PCI 3.0 6.8.2.9:
 * a pending message is sent once its vector and the function are
 * unmasked). */
static void flush_pending(struct virtio_pci *p, struct virtio_pci_effects *fx)
{
        if (!msix_enabled(p) || msix_fn_masked(p))
                return;
        for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++) {
                if ((p->pba & (1u << v)) && !(p->msix[v].ctrl & MSIX_ENTRY_MASK)) {
                        p->pba &= ~(1u << v);
                        send_msi(p, v, fx);
                }
        }
}

/* Device reset (2.4, 4.1.4.3.1): the virtio state returns to its initial
 * values.  The MSI-X table belongs to the PCI function and stays, but
 * nothing the device signalled before the reset is still pending. */
static void reset(struct virtio_pci *p, struct virtio_pci_effects *fx)
{
        p->status = 0;
        p->driver_features = 0;
        p->device_feature_select = p->driver_feature_select = 0;
        p->msix_config = VIRTIO_MSI_NO_VECTOR;
        p->queue_select = 0;
        for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
                vq_reset(&p->vq[i]);
                p->vq[i].size = i < p->nqueues ? p->queue_max : 0;
                p->queue_msix[i] = VIRTIO_MSI_NO_VECTOR;
                p->queue_enable[i] = false;
        }
        p->isr = 0;
        p->pba = 0;
        update_intx(p, fx);
}

void virtio_pci_init(struct virtio_pci *p, uint8_t type, uint64_t device_features, unsigned nqueues,
                     uint16_t queue_max, uint8_t irq, uint32_t bar0, uint32_t bar1)
{
        vtv_memset(p, 0, sizeof(*p));
        struct pci_function *f = &p->fn;
        /* Identity (4.1.2.1): 1af4:1040+type, revision 1 (modern only). */
        pci_function_init(f, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type),
                          VIRTIO_PCI_REVISION, class_of(type));
        put16(f->cfg + PCI_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR);
        put16(f->cfg + PCI_SUBSYS_ID, type);
        /* Memory decoding, bus mastering (the device reads the rings) and
         * Interrupt Disable are the OS's (PCI 3.0 6.2.2); no I/O BARs. */
        put16(f->wmask + PCI_COMMAND,
              PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | COMMAND_INTX_DISABLE);
        put16(f->cfg + PCI_STATUS, STATUS_CAP_LIST);
        /* Two 32-bit non-prefetchable memory BARs (PCI 3.0 6.2.5.1): the
         * address bits above the size are writable, so writing all-ones
         * reads back the size; the type bits read 0. */
        put32(f->cfg + PCI_BAR0, bar0 & ~(VIRTIO_BAR0_SIZE - 1));
        put32(f->wmask + PCI_BAR0, ~(VIRTIO_BAR0_SIZE - 1));
        put32(f->cfg + PCI_BAR0 + 4, bar1 & ~(VIRTIO_BAR1_SIZE - 1));
        put32(f->wmask + PCI_BAR0 + 4, ~(VIRTIO_BAR1_SIZE - 1));
        f->cfg[PCI_INTERRUPT_LINE] = irq;
        f->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA# */

        p->type = type;
        p->nqueues = MIN(nqueues, (unsigned)VIRTIO_MAX_QUEUES);
        p->queue_max = MIN(queue_max, (uint16_t)VQ_MAX_SIZE);
        p->device_features = device_features | BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX);

        /* The capability list (4.1.4): the four structures in BAR 0, then
         * MSI-X.  No VIRTIO_PCI_CAP_PCI_CFG: its window would need reads of
         * configuration space to reach the BAR, which pci.c does not offer,
         * and drivers map the BAR instead.  The device configuration is
         * VIRTIO_DEVCFG_MAX bytes long whatever devcfg_len becomes (bytes
         * past it read 0). */
        f->cfg[PCI_CAP_PTR] = CAP_COMMON;
        put_vcap(f->cfg + CAP_COMMON, CAP_NOTIFY, VCAP_LEN, CFG_TYPE_COMMON, VIRTIO_BAR0_COMMON,
                 CC_LEN);
        put_vcap(f->cfg + CAP_NOTIFY, CAP_ISR, VCAP_NOTIFY_LEN, CFG_TYPE_NOTIFY, VIRTIO_BAR0_NOTIFY,
                 VIRTIO_NOTIFY_MULT * p->nqueues);
        put32(f->cfg + CAP_NOTIFY + 16, VIRTIO_NOTIFY_MULT);
        put_vcap(f->cfg + CAP_ISR, CAP_DEVICE, VCAP_LEN, CFG_TYPE_ISR, VIRTIO_BAR0_ISR, 1);
        put_vcap(f->cfg + CAP_DEVICE, CAP_MSIX, VCAP_LEN, CFG_TYPE_DEVICE, VIRTIO_BAR0_DEVICE,
                 VIRTIO_DEVCFG_MAX);
        f->cfg[CAP_MSIX] = CAP_ID_MSIX;
        f->cfg[CAP_MSIX + 1] = 0; /* end of the list */
        put16(f->cfg + MSIX_CTRL, VIRTIO_MSIX_VECTORS - 1);
        put16(f->wmask + MSIX_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_MASK);
        put32(f->cfg + CAP_MSIX + 4, 0 | 1);               /* table: BAR 1 + 0 */
        put32(f->cfg + CAP_MSIX + 8, VIRTIO_BAR1_PBA | 1); /* PBA: BAR 1 + 0x800 */

        /* Every vector starts masked (PCI 3.0 6.8.2.9). */
        for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++)
                p->msix[v].ctrl = MSIX_ENTRY_MASK;
        struct virtio_pci_effects fx = { 0 };
        reset(p, &fx);
}

bool virtio_pci_has(const struct virtio_pci *p, unsigned bit)
{
        return bit < 64 && (p->status & VIRTIO_STATUS_FEATURES_OK) &&
               (p->driver_features & BIT(bit));
}

bool virtio_pci_live(const struct virtio_pci *p)
{
        return (p->status & VIRTIO_STATUS_DRIVER_OK) &&
               !(p->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

uint32_t virtio_pci_bar_base(const struct virtio_pci *p, unsigned bar)
{
        if (bar > 1 || !(get16(p->fn.cfg + PCI_COMMAND) & PCI_COMMAND_MEMORY))
                return 0;
        return get32(p->fn.cfg + PCI_BAR0 + 4 * bar) & ~0xfu;
}

void virtio_pci_interrupt(struct virtio_pci *p, int q, struct virtio_pci_effects *fx)
{
        if (q >= (int)p->nqueues)
                return;
        /* Without MSI-X: the ISR bit, then INTA# (4.1.4.5.1).  With MSI-X
         * the ISR is left alone, the configuration bit included: a driver
         * using MSI-X does not read it, and a stale bit would raise INTA#
         * the moment MSI-X is turned off. */
        if (!msix_enabled(p)) {
                p->isr |= q < 0 ? VIRTIO_ISR_CONFIG : VIRTIO_ISR_QUEUE;
                update_intx(p, fx);
                return;
        }
        uint16_t v = q < 0 ? p->msix_config : p->queue_msix[q];
        if (v >= VIRTIO_MSIX_VECTORS)
                return; /* VIRTIO_MSI_NO_VECTOR: the driver wants none */
        if (msix_fn_masked(p) || (p->msix[v].ctrl & MSIX_ENTRY_MASK))
                p->pba |= 1u << v;
        else
                send_msi(p, v, fx);
}

void virtio_pci_fail(struct virtio_pci *p, const char *why, struct virtio_pci_effects *fx)
{
        fx->error = why;
        if (p->status & VIRTIO_STATUS_NEEDS_RESET)
                return;
        p->status |= VIRTIO_STATUS_NEEDS_RESET;
        p->config_generation++;
        /* 2.1.2: the notification is due once DRIVER_OK is set; before,
         * the driver may have no handler for it. */
        if (p->status & VIRTIO_STATUS_DRIVER_OK)
                virtio_pci_interrupt(p, -1, fx);
}

void virtio_pci_cfg_written(struct virtio_pci *p, struct virtio_pci_effects *fx)
{
        update_intx(p, fx);
        flush_pending(p, fx);
}

/* ---- Common configuration ---- */

/* A vector the driver asks for: one of ours, else NO_VECTOR (4.1.5.1.2:
 * the device reports a vector it cannot map as NO_VECTOR). */
static uint16_t vector(uint64_t v)
{
        return v < VIRTIO_MSIX_VECTORS ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static bool is_pow2(uint64_t v)
{
        return v && !(v & (v - 1));
}

/* Whether an access of size bytes at off is one the layout defines: a
 * whole field of its own width, or a 64-bit field as one 64-bit access or
 * two 32-bit halves (4.1.3.1). */
static bool common_access_ok(uint64_t off, unsigned size)
{
        static const uint8_t width[CC_LEN] = {
                [CC_DFSELECT] = 4, [CC_DF] = 4,     [CC_GFSELECT] = 4, [CC_GF] = 4,
                [CC_MSIX] = 2,     [CC_NUMQ] = 2,   [CC_STATUS] = 1,   [CC_CFGGEN] = 1,
                [CC_Q_SELECT] = 2, [CC_Q_SIZE] = 2, [CC_Q_MSIX] = 2,   [CC_Q_ENABLE] = 2,
                [CC_Q_NOFF] = 2,   [CC_Q_DESC] = 8, [CC_Q_DRIVER] = 8, [CC_Q_DEVICE] = 8,
        };
        if (off >= CC_LEN)
                return false;
        if (off >= CC_Q_DESC)
                return size == 4 ? off % 4 == 0 : size == 8 && off % 8 == 0;
        return width[off] == size;
}

/* The 64-bit queue address field at off (CC_Q_DESC/DRIVER/DEVICE). */
static uint64_t *queue_addr(struct virtqueue *q, uint64_t off)
{
        if (off < CC_Q_DRIVER)
                return &q->desc_gpa;
        return off < CC_Q_DEVICE ? &q->avail_gpa : &q->used_gpa;
}

static uint64_t common_read(struct virtio_pci *p, uint64_t off, unsigned size)
{
        if (!common_access_ok(off, size))
                return 0;
        unsigned sel = p->queue_select;
        struct virtqueue *q = sel < p->nqueues ? &p->vq[sel] : NULL;
        switch (off) {
        case CC_DFSELECT:
                return p->device_feature_select;
        case CC_DF:
                return p->device_feature_select < 2
                           ? (uint32_t)(p->device_features >> (32 * p->device_feature_select))
                           : 0;
        case CC_GFSELECT:
                return p->driver_feature_select;
        case CC_GF:
                return p->driver_feature_select < 2
                           ? (uint32_t)(p->driver_features >> (32 * p->driver_feature_select))
                           : 0;
        case CC_MSIX:
                return p->msix_config;
        case CC_NUMQ:
                return p->nqueues;
        case CC_STATUS:
                return p->status;
        case CC_CFGGEN:
                return p->config_generation;
        case CC_Q_SELECT:
                return p->queue_select;
        }
        /* Queue fields: a queue that does not exist reads size 0, which
         * says so (4.1.4.3), and 0 elsewhere. */
        if (!q)
                return 0;
        switch (off) {
        case CC_Q_SIZE:
                return q->size;
        case CC_Q_MSIX:
                return p->queue_msix[sel];
        case CC_Q_ENABLE:
                return p->queue_enable[sel];
        case CC_Q_NOFF:
                return sel; /* notification at 0x3000 + sel * VIRTIO_NOTIFY_MULT */
        }
        uint64_t v = *queue_addr(q, off);
        return size == 8 ? v : (uint32_t)(v >> (off % 8 ? 32 : 0));
}

/* status written by the driver (2.1, 3.1.1, 4.1.4.3.1). */
static void write_status(struct virtio_pci *p, uint8_t v, struct virtio_pci_effects *fx)
{
        if (v == 0) {
                reset(p, fx);
                fx->reset = true;
                return;
        }
        /* A driver sets bits one step at a time and never clears one
         * (2.1.2); only a reset clears them. */
        uint8_t add = (uint8_t)(v & STATUS_DRIVER_BITS & ~p->status);
        if (add & VIRTIO_STATUS_FEATURES_OK) {
                /* 2.2.2, 6.1: only features the device offered, and
                 * VERSION_1 for this modern-only transport; otherwise the
                 * bit stays clear for the driver to see. */
                bool ok = !(p->driver_features & ~p->device_features) &&
                          (p->driver_features & BIT(VIRTIO_F_VERSION_1));
                if (!ok)
                        add &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
        }
        /* DRIVER_OK without negotiated features would leave the queues'
         * format undecided (3.1.1 steps 5-8). */
        if ((add & VIRTIO_STATUS_DRIVER_OK) && !((p->status | add) & VIRTIO_STATUS_FEATURES_OK))
                add &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
        p->status |= add;
        if (add & VIRTIO_STATUS_DRIVER_OK)
                fx->driver_ok = true;
}

static void enable_queue(struct virtio_pci *p, const struct guest_mem *m, unsigned sel,
                         struct virtio_pci_effects *fx)
{
        p->queue_enable[sel] = true;
        if (!(p->status & VIRTIO_STATUS_FEATURES_OK)) {
                /* 3.1.1: queues are set up after feature negotiation,
                 * which decides their format (EVENT_IDX). */
                virtio_pci_fail(p, "queue enabled before FEATURES_OK", fx);
                return;
        }
        struct virtqueue *q = &p->vq[sel];
        const char *why = vq_check_config(q, p->queue_max, m);
        if (why) {
                virtio_pci_fail(p, why, fx);
                return;
        }
        q->event_idx = virtio_pci_has(p, VIRTIO_F_EVENT_IDX);
        q->ready = true;
        fx->enabled |= 1u << sel;
}

static void common_write(struct virtio_pci *p, const struct guest_mem *m, uint64_t off,
                         unsigned size, uint64_t v, struct virtio_pci_effects *fx)
{
        if (!common_access_ok(off, size))
                return;
        switch (off) {
        case CC_DFSELECT:
                p->device_feature_select = (uint32_t)v;
                return;
        case CC_GFSELECT:
                p->driver_feature_select = (uint32_t)v;
                return;
        case CC_GF:
                /* Fixed once FEATURES_OK is accepted (2.2.2). */
                if (p->driver_feature_select < 2 && !(p->status & VIRTIO_STATUS_FEATURES_OK)) {
                        unsigned sh = 32 * p->driver_feature_select;
                        p->driver_features = (p->driver_features & ~(0xffffffffull << sh)) |
                                             (uint64_t)(uint32_t)v << sh;
                }
                return;
        case CC_MSIX:
                p->msix_config = vector(v);
                return;
        case CC_STATUS:
                write_status(p, (uint8_t)v, fx);
                return;
        case CC_Q_SELECT:
                p->queue_select = (uint16_t)v;
                return;
        case CC_DF:
        case CC_NUMQ:
        case CC_CFGGEN:
        case CC_Q_NOFF:
                return; /* read-only */
        }
        unsigned sel = p->queue_select;
        if (sel >= p->nqueues)
                return;
        struct virtqueue *q = &p->vq[sel];
        if (off == CC_Q_MSIX) {
                /* Not a ring property: accepted whenever written. */
                p->queue_msix[sel] = vector(v);
                return;
        }
        if (off == CC_Q_ENABLE) {
                /* Only 1 means anything: a driver may not write 0
                 * (4.1.4.3.2) and enabling twice changes nothing. */
                if (v == 1 && !p->queue_enable[sel])
                        enable_queue(p, m, sel, fx);
                return;
        }
        if (p->queue_enable[sel]) {
                /* 4.1.4.3.2: the fields are fixed once the queue is
                 * enabled; the device is reading the rings they name. */
                virtio_pci_fail(p, "queue configuration written while the queue is enabled", fx);
                return;
        }
        if (off == CC_Q_SIZE) {
                /* 2.7: a power of two no larger than the maximum. */
                if (is_pow2(v) && v <= p->queue_max)
                        q->size = (uint16_t)v;
                return;
        }
        uint64_t *a = queue_addr(q, off);
        if (size == 8)
                *a = v;
        else if (off % 8)
                *a = (*a & 0xffffffffull) | v << 32;
        else
                *a = (*a & ~0xffffffffull) | (uint32_t)v;
}

/* ---- The rest of BAR 0 ---- */

static uint64_t devcfg_read(const struct virtio_pci *p, uint64_t off, unsigned size)
{
        /* 4.1.3.1: 8-, 16- and 32-bit aligned accesses. */
        if (size > 4 || off % size || off >= VIRTIO_DEVCFG_MAX)
                return 0;
        unsigned len = MIN(p->devcfg_len, (unsigned)VIRTIO_DEVCFG_MAX);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
                if (off + i < len)
                        v |= (uint64_t)p->devcfg[off + i] << (8 * i);
        return v;
}

static void notify(struct virtio_pci *p, uint64_t off, unsigned size, struct virtio_pci_effects *fx)
{
        /* 4.1.4.4: queue n at n * notify_off_multiplier, written as 16 bits
         * (32 with VIRTIO_F_NOTIFICATION_DATA; accepted, the data unused). */
        if ((size != 2 && size != 4) || off % VIRTIO_NOTIFY_MULT)
                return;
        uint64_t n = off / VIRTIO_NOTIFY_MULT;
        if (n < p->nqueues && p->vq[n].ready && virtio_pci_live(p))
                fx->notify |= 1u << n;
}

/* ---- BAR 1: MSI-X table and PBA (PCI 3.0 6.8.2) ---- */

/* Table and PBA take aligned 32- and 64-bit accesses only (6.8.2.9). */
static bool msix_access_ok(uint64_t off, unsigned size)
{
        return (size == 4 || size == 8) && off % size == 0;
}

static uint32_t *msix_dword(struct virtio_pci *p, uint64_t off)
{
        struct virtio_msix_entry *e = &p->msix[off / MSIX_ENTRY_SIZE];
        uint32_t *f[4] = { &e->addr_lo, &e->addr_hi, &e->data, &e->ctrl };
        return f[off % MSIX_ENTRY_SIZE / 4];
}

static uint64_t msix_read(struct virtio_pci *p, uint64_t off, unsigned size)
{
        if (!msix_access_ok(off, size))
                return 0;
        if (off < VIRTIO_MSIX_VECTORS * MSIX_ENTRY_SIZE) {
                uint64_t v = *msix_dword(p, off);
                if (size == 8)
                        v |= (uint64_t)*msix_dword(p, off + 4) << 32;
                return v;
        }
        if (off == VIRTIO_BAR1_PBA)
                return p->pba; /* read-only; bits above the table read 0 */
        return 0;
}

static void msix_write_dword(struct virtio_pci *p, uint64_t off, uint32_t v,
                             struct virtio_pci_effects *fx)
{
        struct virtio_msix_entry *e = &p->msix[off / MSIX_ENTRY_SIZE];
        switch (off % MSIX_ENTRY_SIZE) {
        case 0:
                e->addr_lo = v & ~3u; /* dword aligned: bits 1:0 read 0 */
                break;
        case 4:
                e->addr_hi = v;
                break;
        case 8:
                e->data = v;
                break;
        default:
                /* Vector control: only the mask bit is defined.
                 * Unmasking sends what was pending (6.8.2.9). */
                e->ctrl = v & MSIX_ENTRY_MASK;
                flush_pending(p, fx);
                break;
        }
}

static void msix_write(struct virtio_pci *p, uint64_t off, unsigned size, uint64_t v,
                       struct virtio_pci_effects *fx)
{
        if (!msix_access_ok(off, size) || off >= VIRTIO_MSIX_VECTORS * MSIX_ENTRY_SIZE)
                return; /* the PBA is read-only */
        msix_write_dword(p, off, (uint32_t)v, fx);
        if (size == 8)
                msix_write_dword(p, off + 4, (uint32_t)(v >> 32), fx);
}

/* ---- Entry points ---- */

static bool bar_access_ok(unsigned bar, uint64_t off, unsigned size)
{
        uint64_t len = bar == 0 ? VIRTIO_BAR0_SIZE : bar == 1 ? VIRTIO_BAR1_SIZE : 0;
        return (size == 1 || size == 2 || size == 4 || size == 8) && off < len && size <= len - off;
}

static uint64_t mask(uint64_t v, unsigned size)
{
        return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

uint64_t virtio_pci_bar_read(struct virtio_pci *p, unsigned bar, uint64_t off, unsigned size,
                             struct virtio_pci_effects *fx)
{
        if (!bar_access_ok(bar, off, size))
                return 0;
        if (bar == 1)
                return mask(msix_read(p, off, size), size);
        if (off < VIRTIO_BAR0_ISR)
                return mask(common_read(p, off - VIRTIO_BAR0_COMMON, size), size);
        if (off < VIRTIO_BAR0_DEVICE) {
                /* 4.1.4.5: reading the ISR status clears it and deasserts
                 * INTA#. */
                if (off != VIRTIO_BAR0_ISR || size != 1)
                        return 0;
                uint8_t isr = p->isr;
                p->isr = 0;
                update_intx(p, fx);
                return isr;
        }
        if (off < VIRTIO_BAR0_NOTIFY)
                return devcfg_read(p, off - VIRTIO_BAR0_DEVICE, size);
        return 0; /* notifications are write-only */
}

void virtio_pci_bar_write(struct virtio_pci *p, const struct guest_mem *m, unsigned bar,
                          uint64_t off, unsigned size, uint64_t value,
                          struct virtio_pci_effects *fx)
{
        if (!bar_access_ok(bar, off, size))
                return;
        value = mask(value, size);
        if (bar == 1)
                msix_write(p, off, size, value, fx);
        else if (off < VIRTIO_BAR0_ISR)
                common_write(p, m, off - VIRTIO_BAR0_COMMON, size, value, fx);
        else if (off >= VIRTIO_BAR0_NOTIFY)
                notify(p, off - VIRTIO_BAR0_NOTIFY, size, fx);
        /* The ISR status and the device configuration are read-only. */
}
