/* Host unit tests for devices/virtio/virtio_pci.c: the virtio-pci modern
 * transport (virtio 1.2, 4.1) on a PCI function at 00:03.0 of a bus from
 * devices/pci.c, configured the way Linux's virtio_pci_modern does it
 * (capability walk, reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
 * queues, MSI-X, DRIVER_OK), then every way a driver can get it wrong. */
#include "tests/unit/check_compat.h"
#include "devices/virtio/virtio_pci.h"
#include "lib/bytes.h"

#define DEVFN    PCI_DEVFN(3, 0)
#define BAR0     0xfe000000u
#define BAR1     0xfe004000u
#define IRQ      11
#define QMAX     256
#define NQ       2
#define RAM_SIZE 0x40000u
#define DEV_FEAT (BIT(5) | BIT(16)) /* as virtio-net's MAC and STATUS */

/* Where queue q's rings go in the tests' RAM. */
#define DESC(q)  (0x10000u * (q) + 0x1000u)
#define AVAIL(q) (0x10000u * (q) + 0x6000u)
#define USED(q)  (0x10000u * (q) + 0x8000u)

/* The MSI-X message of vector v (an x86 local APIC address and vector). */
#define MSI_ADDR(v) (0xfee00000u | (unsigned)(v) << 12)
#define MSI_DATA(v) (0x40u + (v))

static struct pci bus;
static struct virtio_pci vp;
static struct guest_mem mem;
static struct virtio_pci_effects fx; /* what the last access set off */

static void setup(void)
{
        pci_init(&bus);
        virtio_pci_init(&vp, VIRTIO_ID_NET, DEV_FEAT, NQ, QMAX, IRQ, BAR0, BAR1);
        static const uint8_t cfg[] = { 2, 0x76, 0x74, 1, 2, 3, 1, 0, 1, 0, 0xdc, 0x05 };
        memcpy(vp.devcfg, cfg, sizeof(cfg));
        vp.devcfg_len = sizeof(cfg);
        ck_assert(pci_attach(&bus, DEVFN, &vp.fn));
        mem.size = RAM_SIZE;
        mem.base = calloc(1, RAM_SIZE);
        ck_assert_ptr_nonnull(mem.base);
}

static void teardown(void)
{
        free(mem.base);
}

/* ---- Accessors, each recording its effects in fx ---- */

static uint32_t cfg_rd(unsigned reg, unsigned size)
{
        return pci_cfg_read(&bus, 0, DEVFN, (uint16_t)reg, size);
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t v)
{
        memset(&fx, 0, sizeof(fx));
        pci_cfg_write(&bus, 0, DEVFN, (uint16_t)reg, size, v);
        virtio_pci_cfg_written(&vp, &fx);
}

static uint64_t rd(unsigned bar, uint64_t off, unsigned size)
{
        memset(&fx, 0, sizeof(fx));
        return virtio_pci_bar_read(&vp, bar, off, size, &fx);
}

static void wr(unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
        memset(&fx, 0, sizeof(fx));
        virtio_pci_bar_write(&vp, &mem, bar, off, size, v, &fx);
}

static void irq(int q)
{
        memset(&fx, 0, sizeof(fx));
        virtio_pci_interrupt(&vp, q, &fx);
}

/* Common configuration fields (4.1.4.3). */
#define DFSELECT 0x00
#define DF       0x04
#define GFSELECT 0x08
#define GF       0x0c
#define CMSIX    0x10
#define NUMQ     0x12
#define STATUS   0x14
#define CFGGEN   0x15
#define Q_SELECT 0x16
#define Q_SIZE   0x18
#define Q_MSIX   0x1a
#define Q_ENABLE 0x1c
#define Q_NOFF   0x1e
#define Q_DESC   0x20
#define Q_DRIVER 0x28
#define Q_DEVICE 0x30

static uint8_t status(void)
{
        return (uint8_t)rd(0, STATUS, 1);
}

static void add_status(uint8_t s)
{
        wr(0, STATUS, 1, status() | s);
}

/* Linux's vp_iowrite64_twopart: low half, then high half. */
static void wr64(uint64_t off, uint64_t v)
{
        wr(0, off, 4, (uint32_t)v);
        wr(0, off + 4, 4, v >> 32);
}

static uint64_t rd64(uint64_t off)
{
        return rd(0, off, 4) | rd(0, off + 4, 4) << 32;
}

static uint64_t device_features(void)
{
        wr(0, DFSELECT, 4, 0);
        uint64_t f = rd(0, DF, 4);
        wr(0, DFSELECT, 4, 1);
        return f | rd(0, DF, 4) << 32;
}

static void set_driver_features(uint64_t f)
{
        wr(0, GFSELECT, 4, 0);
        wr(0, GF, 4, (uint32_t)f);
        wr(0, GFSELECT, 4, 1);
        wr(0, GF, 4, f >> 32);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (3.1.1 steps 1-6). */
static bool negotiate(uint64_t f)
{
        wr(0, STATUS, 1, 0);
        ck_assert_uint_eq(status(), 0);
        add_status(VIRTIO_STATUS_ACKNOWLEDGE);
        add_status(VIRTIO_STATUS_DRIVER);
        set_driver_features(f);
        add_status(VIRTIO_STATUS_FEATURES_OK);
        return status() & VIRTIO_STATUS_FEATURES_OK;
}

/* vp_modern's setup_vq, minus enabling: size, rings, vector. */
static void setup_queue(unsigned q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
                        uint16_t vec)
{
        wr(0, Q_SELECT, 2, q);
        wr(0, Q_SIZE, 2, size);
        wr64(Q_DESC, desc);
        wr64(Q_DRIVER, avail);
        wr64(Q_DEVICE, used);
        wr(0, Q_MSIX, 2, vec);
}

static void enable_queue(unsigned q)
{
        wr(0, Q_SELECT, 2, q);
        wr(0, Q_ENABLE, 2, 1);
}

/* Linux's msix_capability_init: enable with all masked, program the
 * entries (masked), clear the function mask, unmask each vector. */
static void setup_msix(unsigned cap)
{
        cfg_wr(cap + 2, 2, 0xc000);
        for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++) {
                wr(1, 16 * v + 12, 4, 1);
                wr(1, 16 * v, 4, MSI_ADDR(v));
                wr(1, 16 * v + 4, 4, 0);
                wr(1, 16 * v + 8, 4, MSI_DATA(v));
        }
        cfg_wr(cap + 2, 2, 0x8000);
        for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++)
                wr(1, 16 * v + 12, 4, 0);
}

/* The capability list walk of pci_find_capability/_next_capability:
 * the first capability with id (and, for a vendor capability, cfg_type
 * type), or 0.  At most 48 steps, as Linux's PCI_FIND_CAP_TTL. */
static unsigned find_cap(uint8_t id, int type)
{
        ck_assert(cfg_rd(PCI_STATUS, 2) & 0x10);
        unsigned pos = cfg_rd(PCI_CAP_PTR, 1);
        for (int ttl = 48; ttl-- && pos >= 0x40; pos = cfg_rd(pos + 1, 1)) {
                ck_assert_uint_eq(pos % 4, 0);
                if (cfg_rd(pos, 1) == id && (type < 0 || cfg_rd(pos + 3, 1) == (unsigned)type))
                        return pos;
        }
        return 0;
}

static unsigned msix_cap(void)
{
        return find_cap(0x11, -1);
}

/* The whole of virtio_pci_modern's probe and a driver's probe, with per
 * queue vectors (vector 0 for configuration, 1 + q for queue q). */
static void linux_init(uint64_t features)
{
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        ck_assert(negotiate(features));
        setup_msix(msix_cap());
        wr(0, CMSIX, 2, 0);
        ck_assert_uint_eq(rd(0, CMSIX, 2), 0);
        for (unsigned q = 0; q < NQ; q++) {
                setup_queue(q, QMAX, DESC(q), AVAIL(q), USED(q), (uint16_t)(q + 1));
                ck_assert_uint_eq(rd(0, Q_MSIX, 2), q + 1);
        }
        for (unsigned q = 0; q < NQ; q++) {
                enable_queue(q);
                ck_assert_uint_eq(fx.enabled, 1u << q);
                ck_assert_ptr_null(fx.error);
        }
        add_status(VIRTIO_STATUS_DRIVER_OK);
        ck_assert(fx.driver_ok);
        ck_assert(virtio_pci_live(&vp));
}

#define FEAT_OK (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) | BIT(5))

/* ---- The PCI function ---- */

START_TEST(identity)
{
        ck_assert_x64_eq(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
        ck_assert_x64_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x1041);
        ck_assert_x64_eq(cfg_rd(PCI_REVISION_ID, 4), 0x02000001);
        ck_assert_x64_eq(cfg_rd(PCI_HEADER_TYPE, 1), 0);
        ck_assert_x64_eq(cfg_rd(PCI_SUBSYS_VENDOR, 2), 0x1af4);
        ck_assert_x64_eq(cfg_rd(PCI_SUBSYS_ID, 2), VIRTIO_ID_NET);
        ck_assert_x64_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
        ck_assert_x64_eq(cfg_rd(PCI_INTERRUPT_LINE, 1), IRQ);
        ck_assert_x64_eq(cfg_rd(PCI_STATUS, 2), 0x10);
        ck_assert_x64_eq(cfg_rd(PCI_COMMAND, 2), 0);
        ck_assert_x64_eq(cfg_rd(PCI_BAR0, 4), BAR0);
        ck_assert_x64_eq(cfg_rd(PCI_BAR0 + 4, 4), BAR1);
        for (unsigned r = PCI_BAR0 + 8; r < PCI_BAR0 + 24; r += 4)
                ck_assert_x64_eq(cfg_rd(r, 4), 0);

        static const struct {
                uint8_t type;
                uint32_t class_code;
        } t[] = { { VIRTIO_ID_NET, 0x020000 },
                  { VIRTIO_ID_BLK, 0x010000 },
                  { VIRTIO_ID_RNG, 0xff0000 } };
        for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
                virtio_pci_init(&vp, t[i].type, 0, 1, 64, 5, BAR0, BAR1);
                ck_assert_x64_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x1040 + t[i].type);
                ck_assert_x64_eq(cfg_rd(PCI_REVISION_ID, 4) >> 8, t[i].class_code);
                ck_assert_x64_eq(cfg_rd(PCI_SUBSYS_ID, 2), t[i].type);
                ck_assert_x64_eq(cfg_rd(PCI_INTERRUPT_LINE, 1), 5);
        }
}
END_TEST

START_TEST(bar_sizing_and_decoding)
{
        /* Linux's __pci_read_base: decode off, all-ones, read, restore. */
        cfg_wr(PCI_BAR0, 4, 0xffffffff);
        ck_assert_x64_eq(cfg_rd(PCI_BAR0, 4), (uint32_t)-VIRTIO_BAR0_SIZE);
        cfg_wr(PCI_BAR0 + 4, 4, 0xffffffff);
        ck_assert_x64_eq(cfg_rd(PCI_BAR0 + 4, 4), (uint32_t)-VIRTIO_BAR1_SIZE);
        for (unsigned r = PCI_BAR0 + 8; r < PCI_BAR0 + 24; r += 4) {
                cfg_wr(r, 4, 0xffffffff);
                ck_assert_x64_eq(cfg_rd(r, 4), 0);
        }
        cfg_wr(PCI_BAR0, 4, BAR0);
        cfg_wr(PCI_BAR0 + 4, 4, BAR1 | 0xfff); /* low bits are not address */
        ck_assert_x64_eq(cfg_rd(PCI_BAR0 + 4, 4), BAR1);

        /* Decoding is off until the driver turns it on. */
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 0), 0);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 1), 0);
        cfg_wr(PCI_COMMAND, 2, 0xffff);
        ck_assert_x64_eq(cfg_rd(PCI_COMMAND, 2), 0x0406); /* memory, master, INTx disable */
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 0), BAR0);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 1), BAR1);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 2), 0);
        /* The OS moves a BAR: the base follows. */
        cfg_wr(PCI_BAR0, 4, 0xc0010000);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 0), 0xc0010000);
        cfg_wr(PCI_BAR0 + 4, 2, 0x8000); /* low half only */
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 1), 0xfe008000);
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MASTER);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 0), 0);
        /* An unassigned BAR decodes nowhere. */
        virtio_pci_init(&vp, VIRTIO_ID_RNG, 0, 1, 64, 5, 0, BAR1);
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 0), 0);
        ck_assert_x64_eq(virtio_pci_bar_base(&vp, 1), BAR1);
}
END_TEST

/* virtio_pci_find_capability and vp_modern_map_capability's checks. */
START_TEST(capability_walk)
{
        static const struct {
                uint8_t type;
                uint32_t off, len;
        } want[] = { { 1, VIRTIO_BAR0_COMMON, 0x38 },
                     { 2, VIRTIO_BAR0_NOTIFY, NQ * VIRTIO_NOTIFY_MULT },
                     { 3, VIRTIO_BAR0_ISR, 1 },
                     { 4, VIRTIO_BAR0_DEVICE, VIRTIO_DEVCFG_MAX } };
        for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
                unsigned pos = find_cap(0x09, want[i].type);
                ck_assert_uint_ne(pos, 0);
                ck_assert_uint_ge(cfg_rd(pos + 2, 1), want[i].type == 2 ? 20 : 16);
                ck_assert_uint_eq(cfg_rd(pos + 4, 1), 0); /* BAR 0 */
                ck_assert_x64_eq(cfg_rd(pos + 8, 4), want[i].off);
                ck_assert_x64_eq(cfg_rd(pos + 12, 4), want[i].len);
                ck_assert_uint_le(want[i].off + want[i].len, VIRTIO_BAR0_SIZE);
                if (want[i].type == 2)
                        ck_assert_x64_eq(cfg_rd(pos + 16, 4), VIRTIO_NOTIFY_MULT);
        }
        ck_assert_uint_eq(find_cap(0x09, 5), 0); /* no PCI_CFG capability */
        unsigned m = msix_cap();
        ck_assert_uint_ne(m, 0);
        ck_assert_x64_eq(cfg_rd(m + 2, 2), VIRTIO_MSIX_VECTORS - 1);
        ck_assert_x64_eq(cfg_rd(m + 4, 4), 0 | 1);
        ck_assert_x64_eq(cfg_rd(m + 8, 4), VIRTIO_BAR1_PBA | 1);
        ck_assert_uint_le(VIRTIO_MSIX_VECTORS * 16, VIRTIO_BAR1_PBA);
}
END_TEST

/* Only the MSI-X enable and function mask bits in the capabilities are
 * writable; every other byte of the list ignores writes. */
START_TEST(capabilities_are_read_only)
{
        uint8_t before[256];
        for (unsigned r = 0; r < 256; r++)
                before[r] = (uint8_t)cfg_rd(r, 1);
        for (unsigned r = 0x34; r < 256; r++) {
                if (r == PCI_INTERRUPT_LINE)
                        continue;
                cfg_wr(r, 1, 0xff);
                cfg_wr(r, 1, 0x00);
        }
        for (unsigned r = 0x00; r < 0x10; r += 4)
                if (r != PCI_COMMAND)
                        cfg_wr(r, 4, 0xffffffff);
        unsigned m = msix_cap();
        for (unsigned r = 0; r < 256; r++)
                if (r != m + 3 && r != 0x0d) /* latency timer is the OS's */
                        ck_assert_msg(cfg_rd(r, 1) == before[r], "register 0x%x changed", r);
        cfg_wr(m + 2, 2, 0xffff);
        ck_assert_x64_eq(cfg_rd(m + 2, 2), 0xc000 | (VIRTIO_MSIX_VECTORS - 1));
        cfg_wr(m + 2, 2, 0);
        ck_assert_x64_eq(cfg_rd(m + 2, 2), VIRTIO_MSIX_VECTORS - 1);
}
END_TEST

/* ---- Initialisation as Linux does it ---- */

START_TEST(linux_style_init)
{
        ck_assert_x64_eq(device_features(),
                         DEV_FEAT | BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX));
        ck_assert_uint_eq(rd(0, NUMQ, 2), NQ);
        ck_assert_uint_eq(rd(0, CMSIX, 2), VIRTIO_MSI_NO_VECTOR);
        for (unsigned q = 0; q < NQ; q++) {
                wr(0, Q_SELECT, 2, q);
                ck_assert_uint_eq(rd(0, Q_SIZE, 2), QMAX);
                ck_assert_uint_eq(rd(0, Q_ENABLE, 2), 0);
                ck_assert_uint_eq(rd(0, Q_NOFF, 2), q);
                ck_assert_uint_eq(rd(0, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
        }
        linux_init(FEAT_OK);
        ck_assert(virtio_pci_has(&vp, VIRTIO_F_VERSION_1));
        ck_assert(virtio_pci_has(&vp, VIRTIO_F_EVENT_IDX));
        ck_assert(virtio_pci_has(&vp, 5));
        ck_assert(!virtio_pci_has(&vp, 16));
        ck_assert(!virtio_pci_has(&vp, 64));
        ck_assert_uint_eq(status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                        VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
        for (unsigned q = 0; q < NQ; q++) {
                ck_assert(vp.vq[q].ready);
                ck_assert(vp.vq[q].event_idx);
                ck_assert_uint_eq(vp.vq[q].size, QMAX);
                ck_assert_x64_eq(vp.vq[q].desc_gpa, DESC(q));
                ck_assert_x64_eq(vp.vq[q].avail_gpa, AVAIL(q));
                ck_assert_x64_eq(vp.vq[q].used_gpa, USED(q));
                wr(0, Q_SELECT, 2, q);
                ck_assert_uint_eq(rd(0, Q_ENABLE, 2), 1);
                ck_assert_x64_eq(rd64(Q_DESC), DESC(q));
                ck_assert_x64_eq(rd(0, Q_DRIVER, 8), AVAIL(q));
                ck_assert_x64_eq(rd(0, Q_DEVICE, 8), USED(q));
        }
        /* The driver kicks queue 1 (vp_notify: a 16-bit write of the
         * queue index), the device answers on vector 2. */
        wr(0, VIRTIO_BAR0_NOTIFY + 1 * VIRTIO_NOTIFY_MULT, 2, 1);
        ck_assert_uint_eq(fx.notify, 2);
        irq(1);
        ck_assert_uint_eq(fx.nmsi, 1);
        ck_assert_x64_eq(fx.msi[0].addr, MSI_ADDR(2));
        ck_assert_x64_eq(fx.msi[0].data, MSI_DATA(2));
        ck_assert(!fx.intx_changed && !vp.intx);
        ck_assert_uint_eq(vp.isr, 0); /* no queue bit with MSI-X (4.1.4.5.1) */
        irq(-1);
        ck_assert_uint_eq(fx.nmsi, 1);
        ck_assert_x64_eq(fx.msi[0].addr, MSI_ADDR(0));
        ck_assert(!vp.intx);
        /* The device configuration reads through its capability. */
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE, 4), 0x01747602);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 10, 2), 1500);
}
END_TEST

START_TEST(no_event_idx_unless_negotiated)
{
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        ck_assert(negotiate(BIT(VIRTIO_F_VERSION_1)));
        setup_queue(0, 16, DESC(0), AVAIL(0), USED(0), VIRTIO_MSI_NO_VECTOR);
        enable_queue(0);
        ck_assert_uint_eq(fx.enabled, 1);
        ck_assert(vp.vq[0].ready && !vp.vq[0].event_idx);
        ck_assert_uint_eq(vp.vq[0].size, 16);
}
END_TEST

/* ---- Feature negotiation and status ---- */

START_TEST(feature_negotiation)
{
        /* Not offered: bit 6; FEATURES_OK stays clear (3.1.1 step 6). */
        ck_assert(!negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(6)));
        ck_assert(!virtio_pci_has(&vp, VIRTIO_F_VERSION_1));
        /* Without VERSION_1. */
        ck_assert(!negotiate(BIT(5)));
        /* Offered, but beyond bit 63 nothing is: windows 2+ read 0 and
         * ignore writes. */
        wr(0, DFSELECT, 4, 2);
        ck_assert_x64_eq(rd(0, DF, 4), 0);
        ck_assert_x64_eq(rd(0, DFSELECT, 4), 2);
        wr(0, GFSELECT, 4, 7);
        wr(0, GF, 4, 0xffffffff);
        ck_assert_x64_eq(rd(0, GF, 4), 0);
        ck_assert(negotiate(BIT(VIRTIO_F_VERSION_1)));
        /* device_feature is read-only. */
        wr(0, DFSELECT, 4, 0);
        wr(0, DF, 4, 0xffffffff);
        ck_assert_x64_eq(rd(0, DF, 4), (uint32_t)(DEV_FEAT | BIT(VIRTIO_F_EVENT_IDX)));
        /* Features are fixed once accepted (2.2.2). */
        wr(0, GFSELECT, 4, 0);
        wr(0, GF, 4, (uint32_t)BIT(5));
        ck_assert_x64_eq(rd(0, GF, 4), 0);
        ck_assert(!virtio_pci_has(&vp, 5));
        wr(0, GFSELECT, 4, 1);
        ck_assert_x64_eq(rd(0, GF, 4), 1);
        /* Setting FEATURES_OK again changes nothing. */
        add_status(VIRTIO_STATUS_FEATURES_OK);
        ck_assert(virtio_pci_has(&vp, VIRTIO_F_VERSION_1));
}
END_TEST

START_TEST(status_rules)
{
        add_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        /* Bits stay set; only a reset clears them (2.1.2). */
        wr(0, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
        ck_assert_uint_eq(status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        /* NEEDS_RESET and the reserved bits are not the driver's. */
        wr(0, STATUS, 1, 0x70 | VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        ck_assert_uint_eq(status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        /* DRIVER_OK needs FEATURES_OK. */
        add_status(VIRTIO_STATUS_DRIVER_OK);
        ck_assert(!fx.driver_ok);
        ck_assert_uint_eq(status() & VIRTIO_STATUS_DRIVER_OK, 0);
        ck_assert(!virtio_pci_live(&vp));
        /* Both in one write: accepted together. */
        set_driver_features(BIT(VIRTIO_F_VERSION_1));
        add_status(VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
        ck_assert(fx.driver_ok);
        ck_assert(virtio_pci_live(&vp));
        add_status(VIRTIO_STATUS_DRIVER_OK);
        ck_assert(!fx.driver_ok); /* not again */
        /* FAILED: the driver gave up; the device is no longer live. */
        add_status(VIRTIO_STATUS_FAILED);
        ck_assert(status() & VIRTIO_STATUS_FAILED);
        ck_assert(!virtio_pci_live(&vp));
        /* Config generation is read-only. */
        wr(0, CFGGEN, 1, 9);
        ck_assert_uint_eq(rd(0, CFGGEN, 1), 0);
        wr(0, NUMQ, 2, 9);
        ck_assert_uint_eq(rd(0, NUMQ, 2), NQ);
}
END_TEST

START_TEST(reset_restores_everything)
{
        linux_init(FEAT_OK);
        unsigned m = msix_cap();
        /* Leave a pending vector, ISR bits and INTA# behind. */
        wr(1, 16 * 1 + 12, 4, 1);
        irq(0);
        ck_assert_uint_eq(vp.pba, 2);
        cfg_wr(m + 2, 2, 0);
        irq(0);
        ck_assert(vp.intx);
        wr(0, Q_SELECT, 2, 1);
        wr(0, GFSELECT, 4, 1);
        wr(0, DFSELECT, 4, 1);

        wr(0, STATUS, 1, 0);
        ck_assert(fx.reset);
        ck_assert(fx.intx_changed && !vp.intx);
        ck_assert_uint_eq(status(), 0);
        ck_assert_uint_eq(vp.isr, 0);
        ck_assert_uint_eq(vp.pba, 0);
        ck_assert_x64_eq(vp.driver_features, 0);
        ck_assert(!virtio_pci_has(&vp, VIRTIO_F_VERSION_1));
        ck_assert(!virtio_pci_live(&vp));
        ck_assert_uint_eq(rd(0, Q_SELECT, 2), 0);
        ck_assert_uint_eq(rd(0, DFSELECT, 4), 0);
        ck_assert_uint_eq(rd(0, GFSELECT, 4), 0);
        ck_assert_uint_eq(rd(0, CMSIX, 2), VIRTIO_MSI_NO_VECTOR);
        for (unsigned q = 0; q < NQ; q++) {
                wr(0, Q_SELECT, 2, q);
                ck_assert_uint_eq(rd(0, Q_SIZE, 2), QMAX);
                ck_assert_uint_eq(rd(0, Q_ENABLE, 2), 0);
                ck_assert_uint_eq(rd(0, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
                ck_assert_x64_eq(rd(0, Q_DESC, 8), 0);
                ck_assert(!vp.vq[q].ready);
        }
        /* The MSI-X table is the PCI function's, not the device's. */
        ck_assert_x64_eq(rd(1, 16, 8), MSI_ADDR(1));
        /* A second reset reports no INTx change. */
        wr(0, STATUS, 1, 0);
        ck_assert(fx.reset && !fx.intx_changed);
        /* And the device can be brought up again. */
        linux_init(FEAT_OK);
}
END_TEST

/* ---- Queue configuration ---- */

START_TEST(queue_size_rules)
{
        ck_assert(negotiate(FEAT_OK));
        wr(0, Q_SELECT, 2, 0);
        static const uint16_t bad[] = { 0, 3, 100, 255, 512, 0xffff };
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
                wr(0, Q_SIZE, 2, bad[i]);
                ck_assert_uint_eq(rd(0, Q_SIZE, 2), QMAX);
        }
        for (unsigned s = 1; s <= QMAX; s *= 2) {
                wr(0, Q_SIZE, 2, s);
                ck_assert_uint_eq(rd(0, Q_SIZE, 2), s);
        }
        /* A queue that does not exist: size 0, fields 0, writes ignored. */
        wr(0, Q_SELECT, 2, NQ);
        ck_assert_uint_eq(rd(0, Q_SELECT, 2), NQ);
        ck_assert_uint_eq(rd(0, Q_SIZE, 2), 0);
        wr(0, Q_SIZE, 2, 16);
        wr(0, Q_MSIX, 2, 1);
        wr64(Q_DESC, DESC(0));
        wr(0, Q_ENABLE, 2, 1);
        ck_assert_uint_eq(fx.enabled, 0);
        ck_assert_uint_eq(rd(0, Q_SIZE, 2), 0);
        ck_assert_uint_eq(rd(0, Q_MSIX, 2), 0);
        ck_assert_uint_eq(rd(0, Q_ENABLE, 2), 0);
        ck_assert_uint_eq(rd(0, Q_NOFF, 2), 0);
        ck_assert_x64_eq(rd(0, Q_DESC, 8), 0);
        wr(0, Q_SELECT, 2, 0xffff);
        ck_assert_uint_eq(rd(0, Q_SIZE, 2), 0);
        ck_assert_uint_eq(status() & VIRTIO_STATUS_NEEDS_RESET, 0);
}
END_TEST

START_TEST(queue_addresses_in_halves)
{
        wr(0, Q_SELECT, 2, 1);
        wr(0, Q_DESC + 4, 4, 0x12345678);
        wr(0, Q_DESC, 4, 0x9abcdef0);
        ck_assert_x64_eq(vp.vq[1].desc_gpa, 0x123456789abcdef0ull);
        wr(0, Q_DESC, 4, 0x1000);
        ck_assert_x64_eq(vp.vq[1].desc_gpa, 0x1234567800001000ull);
        wr(0, Q_DRIVER, 8, 0xaaaabbbbccccddddull);
        ck_assert_x64_eq(rd(0, Q_DRIVER + 4, 4), 0xaaaabbbb);
        ck_assert_x64_eq(rd(0, Q_DRIVER, 4), 0xccccdddd);
        ck_assert_x64_eq(vp.vq[0].desc_gpa, 0);
}
END_TEST

/* One enabling that must fail: NEEDS_RESET, a reason, no queue. */
static void expect_enable_fails(unsigned q, const char *part)
{
        uint8_t gen = (uint8_t)rd(0, CFGGEN, 1);
        enable_queue(q);
        ck_assert_ptr_nonnull(fx.error);
        ck_assert_msg(strstr(fx.error, part), "\"%s\" does not name %s", fx.error, part);
        ck_assert_uint_eq(fx.enabled, 0);
        ck_assert(!vp.vq[q].ready);
        ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
        ck_assert_uint_eq(rd(0, CFGGEN, 1), (uint8_t)(gen + 1));
        /* Before DRIVER_OK there is no interrupt to send (2.1.2). */
        ck_assert_uint_eq(vp.isr, 0);
        ck_assert(!vp.intx);
}

START_TEST(bad_rings_fail_the_device)
{
        /* part: the ring vq_check_config's message names. */
        static const struct {
                uint64_t desc, avail, used;
                const char *part;
        } bad[] = {
                { DESC(0) + 8, AVAIL(0), USED(0), "descriptor" },         /* 16-byte */
                { DESC(0), AVAIL(0) + 1, USED(0), "available" },          /* 2-byte */
                { DESC(0), AVAIL(0), USED(0) + 2, "used" },               /* 4-byte */
                { RAM_SIZE, AVAIL(0), USED(0), "descriptor" },            /* outside RAM */
                { DESC(0), AVAIL(0), RAM_SIZE - 16, "used" },             /* across its end */
                { RAM_SIZE - 0x800, AVAIL(0), USED(0), "descriptor" },    /* 16 x 256 > 0x800 */
                { DESC(0), 0xfffffffffffff000ull, USED(0), "available" }, /* wraps */
                { DESC(0), AVAIL(0), 0x100000000ull + USED(0), "used" },
        };
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
                ck_assert(negotiate(FEAT_OK));
                setup_queue(0, QMAX, bad[i].desc, bad[i].avail, bad[i].used, 1);
                expect_enable_fails(0, bad[i].part);
                /* The queue stays enabled as written, and dead. */
                ck_assert_uint_eq(rd(0, Q_ENABLE, 2), 1);
                wr(0, VIRTIO_BAR0_NOTIFY, 2, 0);
                ck_assert_uint_eq(fx.notify, 0);
        }
        /* Enabling before FEATURES_OK (3.1.1): the format is undecided. */
        wr(0, STATUS, 1, 0);
        add_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        setup_queue(1, 16, DESC(1), AVAIL(1), USED(1), 2);
        expect_enable_fails(1, "FEATURES_OK");
        /* A failed device stays failed, however the driver pushes on, and
         * the generation moves once. */
        uint8_t gen = (uint8_t)rd(0, CFGGEN, 1);
        set_driver_features(BIT(VIRTIO_F_VERSION_1));
        add_status(VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
        ck_assert(!virtio_pci_live(&vp));
        wr(0, Q_SELECT, 2, 1);
        wr(0, Q_SIZE, 2, 8);
        ck_assert_ptr_nonnull(fx.error);
        ck_assert_uint_eq(rd(0, CFGGEN, 1), gen);
}
END_TEST

START_TEST(writing_an_enabled_queue_fails)
{
        static const struct {
                unsigned off, size;
        } field[] = { { Q_SIZE, 2 },   { Q_DESC, 4 },   { Q_DESC + 4, 4 },
                      { Q_DRIVER, 8 }, { Q_DEVICE, 4 }, { Q_DEVICE + 4, 4 } };
        for (unsigned i = 0; i < ARRAY_SIZE(field); i++) {
                linux_init(FEAT_OK);
                wr(0, Q_SELECT, 2, 1);
                /* Vectors may move; enabling again and writing 0 are no-ops. */
                wr(0, Q_MSIX, 2, 3);
                ck_assert_uint_eq(rd(0, Q_MSIX, 2), 3);
                wr(0, Q_ENABLE, 2, 1);
                wr(0, Q_ENABLE, 2, 0);
                ck_assert_uint_eq(rd(0, Q_ENABLE, 2), 1);
                ck_assert_uint_eq(fx.enabled, 0);
                ck_assert(virtio_pci_live(&vp));

                wr(0, field[i].off, field[i].size, 0x40);
                ck_assert_ptr_nonnull(fx.error);
                /* DRIVER_OK was set: a configuration interrupt, vector 0. */
                ck_assert_uint_eq(fx.nmsi, 1);
                ck_assert_x64_eq(fx.msi[0].addr, MSI_ADDR(0));
                ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
                ck_assert(!virtio_pci_live(&vp));
                ck_assert_x64_eq(vp.vq[1].desc_gpa, DESC(1));
                ck_assert_uint_eq(vp.vq[1].size, QMAX);
                /* Notifications are ignored until the reset. */
                wr(0, VIRTIO_BAR0_NOTIFY, 2, 0);
                ck_assert_uint_eq(fx.notify, 0);
        }
}
END_TEST

START_TEST(vectors_out_of_range)
{
        wr(0, CMSIX, 2, VIRTIO_MSIX_VECTORS);
        ck_assert_uint_eq(rd(0, CMSIX, 2), VIRTIO_MSI_NO_VECTOR);
        wr(0, CMSIX, 2, VIRTIO_MSIX_VECTORS - 1);
        ck_assert_uint_eq(rd(0, CMSIX, 2), VIRTIO_MSIX_VECTORS - 1);
        wr(0, CMSIX, 2, 0x8000);
        ck_assert_uint_eq(rd(0, CMSIX, 2), VIRTIO_MSI_NO_VECTOR);
        wr(0, Q_SELECT, 2, 1);
        wr(0, Q_MSIX, 2, 0x1234);
        ck_assert_uint_eq(rd(0, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
        wr(0, Q_MSIX, 2, 2);
        ck_assert_uint_eq(rd(0, Q_MSIX, 2), 2);
        wr(0, Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
        ck_assert_uint_eq(rd(0, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

/* ---- Access widths and offsets ---- */

START_TEST(odd_widths_and_offsets)
{
        linux_init(FEAT_OK);
        struct virtio_pci before;
        memcpy(&before, &vp, sizeof(vp));
        /* Fields at the wrong width read 0 and ignore writes (4.1.3.1). */
        static const struct {
                unsigned off, size;
        } bad[] = {
                { DFSELECT, 2 },   { DF, 8 },           { DF + 2, 2 },   { GF, 1 },
                { CMSIX, 4 },      { CMSIX, 1 },        { NUMQ, 4 },     { STATUS, 2 },
                { STATUS, 4 },     { CFGGEN, 2 },       { Q_SELECT, 1 }, { Q_SIZE, 4 },
                { Q_SIZE + 1, 1 }, { Q_MSIX, 4 },       { Q_ENABLE, 1 }, { Q_ENABLE, 4 },
                { Q_NOFF, 4 },     { Q_DESC, 2 },       { Q_DESC, 1 },   { Q_DESC + 4, 8 },
                { Q_DESC + 2, 4 }, { Q_DRIVER + 4, 8 }, { 0x38, 2 },     { 0x3a, 2 },
                { 0x3c, 4 },       { 0x100, 4 },        { 0xffc, 4 },
        };
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
                ck_assert_msg(rd(0, bad[i].off, bad[i].size) == 0, "read %x/%u", bad[i].off,
                              bad[i].size);
                wr(0, bad[i].off, bad[i].size, 0);
                wr(0, bad[i].off, bad[i].size, ~0ull);
                ck_assert_ptr_null(fx.error);
        }
        ck_assert_mem_eq(&vp, &before, sizeof(vp));
        /* Sizes and BARs that do not exist, accesses past a BAR's end
         * (including offsets that would wrap). */
        static const struct {
                unsigned bar;
                uint64_t off;
                unsigned size;
        } wild[] = {
                { 0, STATUS, 0 },
                { 0, STATUS, 3 },
                { 0, Q_DESC, 16 },
                { 2, 0, 4 },
                { 5, STATUS, 1 },
                { 0, VIRTIO_BAR0_SIZE, 1 },
                { 0, VIRTIO_BAR0_SIZE - 2, 4 },
                { 1, VIRTIO_BAR1_SIZE - 4, 8 },
                { 1, VIRTIO_BAR1_SIZE, 4 },
                { 0, ~0ull, 1 },
                { 0, ~0ull - 3, 8 },
                { 1, ~0ull - 7, 8 },
        };
        for (unsigned i = 0; i < ARRAY_SIZE(wild); i++) {
                ck_assert_x64_eq(rd(wild[i].bar, wild[i].off, wild[i].size), 0);
                wr(wild[i].bar, wild[i].off, wild[i].size, 0);
                wr(wild[i].bar, wild[i].off, wild[i].size, ~0ull);
        }
        ck_assert_mem_eq(&vp, &before, sizeof(vp));
        /* Between the structures and after them. */
        for (uint64_t off = 0x38; off < VIRTIO_BAR0_SIZE; off += 0x1c4) {
                uint64_t v = rd(0, off, 4);
                if (off >= VIRTIO_BAR0_DEVICE && off < VIRTIO_BAR0_DEVICE + 12)
                        continue;
                ck_assert_x64_eq(v, 0);
        }
        /* A read never returns more than its width. */
        ck_assert_x64_eq(rd(0, STATUS, 1), 0x0f);
        ck_assert_x64_eq(rd(0, Q_DESC, 8), DESC(1)); /* queue 1 is selected */
}
END_TEST

START_TEST(device_configuration)
{
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE, 1), 2);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 1, 1), 0x76);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 6, 2), 1);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 8, 4), 0x05dc0001);
        /* Past devcfg_len and up to the capability's length: 0. */
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 12, 4), 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + VIRTIO_DEVCFG_MAX - 4, 4), 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + VIRTIO_DEVCFG_MAX, 1), 0);
        /* Misaligned or 64-bit: 0. */
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 1, 2), 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + 2, 4), 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE, 8), 0);
        /* Read-only. */
        wr(0, VIRTIO_BAR0_DEVICE, 4, 0xffffffff);
        wr(0, VIRTIO_BAR0_DEVICE, 1, 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE, 4), 0x01747602);
        /* A devcfg_len beyond the buffer is clamped. */
        vp.devcfg_len = 1000;
        vp.devcfg[VIRTIO_DEVCFG_MAX - 1] = 0x5a;
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + VIRTIO_DEVCFG_MAX - 1, 1), 0x5a);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_DEVICE + VIRTIO_DEVCFG_MAX, 1), 0);
}
END_TEST

/* ---- Notifications ---- */

START_TEST(notifications)
{
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        ck_assert(negotiate(FEAT_OK));
        setup_queue(0, 64, DESC(0), AVAIL(0), USED(0), VIRTIO_MSI_NO_VECTOR);
        enable_queue(0);
        ck_assert_uint_eq(fx.enabled, 1);
        /* Not live yet: ignored. */
        wr(0, VIRTIO_BAR0_NOTIFY, 2, 0);
        ck_assert_uint_eq(fx.notify, 0);
        add_status(VIRTIO_STATUS_DRIVER_OK);
        wr(0, VIRTIO_BAR0_NOTIFY, 2, 0);
        ck_assert_uint_eq(fx.notify, 1);
        wr(0, VIRTIO_BAR0_NOTIFY, 4, 0x12340000); /* with notification data */
        ck_assert_uint_eq(fx.notify, 1);
        /* Queue 1 exists but is not enabled; 2 does not exist. */
        wr(0, VIRTIO_BAR0_NOTIFY + 4, 2, 1);
        ck_assert_uint_eq(fx.notify, 0);
        wr(0, VIRTIO_BAR0_NOTIFY + 8, 2, 2);
        ck_assert_uint_eq(fx.notify, 0);
        /* Bytes, 64 bits, misaligned: ignored. */
        wr(0, VIRTIO_BAR0_NOTIFY, 1, 0);
        ck_assert_uint_eq(fx.notify, 0);
        wr(0, VIRTIO_BAR0_NOTIFY, 8, 0);
        ck_assert_uint_eq(fx.notify, 0);
        wr(0, VIRTIO_BAR0_NOTIFY + 2, 2, 0);
        ck_assert_uint_eq(fx.notify, 0);
        /* Write-only. */
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_NOTIFY, 2), 0);
        ck_assert_uint_eq(fx.notify, 0);
}
END_TEST

/* ---- INTx and the ISR status (4.1.4.5) ---- */

START_TEST(intx_and_isr)
{
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        irq(0);
        ck_assert(fx.intx_changed && vp.intx);
        ck_assert(cfg_rd(PCI_STATUS, 2) & 0x08);
        irq(1);
        ck_assert(!fx.intx_changed && vp.intx);
        irq(NQ); /* no such queue */
        ck_assert(!fx.intx_changed);
        ck_assert_uint_eq(vp.isr, VIRTIO_ISR_QUEUE);
        /* Wrong width or offset: 0, nothing cleared. */
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR, 2), 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR, 4), 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR + 1, 1), 0);
        wr(0, VIRTIO_BAR0_ISR, 1, 0);
        ck_assert(vp.intx);
        /* vp_interrupt: the read returns and clears, INTA# drops. */
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR, 1), VIRTIO_ISR_QUEUE);
        ck_assert(fx.intx_changed && !vp.intx);
        ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & 0x08, 0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR, 1), 0);
        ck_assert(!fx.intx_changed);
        /* Both causes together. */
        irq(-1);
        irq(0);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR, 1), VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
        /* Interrupt Disable masks the line, not the status (PCI 3.0 6.2). */
        irq(0);
        ck_assert(vp.intx);
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | 0x400);
        ck_assert(fx.intx_changed && !vp.intx);
        ck_assert(cfg_rd(PCI_STATUS, 2) & 0x08);
        irq(1);
        ck_assert(!fx.intx_changed && !vp.intx);
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        ck_assert(fx.intx_changed && vp.intx);
        /* Enabling MSI-X takes INTx away (PCI 3.0 6.8.1). */
        cfg_wr(msix_cap() + 2, 2, 0x8000);
        ck_assert(fx.intx_changed && !vp.intx);
        /* The status register's interrupt bit is not the driver's. */
        cfg_wr(PCI_STATUS, 2, 0xffff);
        ck_assert_x64_eq(cfg_rd(PCI_STATUS, 2), 0x10);
}
END_TEST

/* ---- MSI-X (PCI 3.0 6.8) ---- */

START_TEST(msix_table_accesses)
{
        unsigned m = msix_cap();
        ck_assert_uint_ne(m, 0);
        /* Every vector starts masked, at 0. */
        for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++) {
                ck_assert_x64_eq(rd(1, 16 * v, 8), 0);
                ck_assert_x64_eq(rd(1, 16 * v + 8, 4), 0);
                ck_assert_x64_eq(rd(1, 16 * v + 12, 4), 1);
        }
        /* 64-bit address writes; low address bits and reserved control
         * bits read 0. */
        wr(1, 16 * 2, 8, 0x00000001fee01003ull);
        ck_assert_x64_eq(rd(1, 16 * 2, 4), 0xfee01000);
        ck_assert_x64_eq(rd(1, 16 * 2 + 4, 4), 1);
        wr(1, 16 * 2 + 8, 8, 0xfffffffe00000041ull);
        ck_assert_x64_eq(rd(1, 16 * 2 + 8, 4), 0x41);
        ck_assert_x64_eq(rd(1, 16 * 2 + 12, 4), 0);
        ck_assert_x64_eq(rd(1, 16 * 2 + 8, 8), 0x41);
        /* Bytes, words, misaligned: ignored. */
        wr(1, 16 * 3, 1, 0xff);
        wr(1, 16 * 3, 2, 0xffff);
        wr(1, 16 * 3 + 2, 4, 0xffffffff);
        wr(1, 16 * 3 + 4, 8, ~0ull);
        ck_assert_x64_eq(rd(1, 16 * 3, 8), 0);
        ck_assert_x64_eq(rd(1, 16 * 3, 2), 0);
        ck_assert_x64_eq(rd(1, 16 * 3 + 12, 1), 0);
        /* Past the table, before and after the PBA: 0, writes ignored. */
        wr(1, 16 * VIRTIO_MSIX_VECTORS, 4, 0xffffffff);
        ck_assert_x64_eq(rd(1, 16 * VIRTIO_MSIX_VECTORS, 4), 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA - 4, 4), 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA + 8, 4), 0);
        /* The PBA is read-only. */
        vp.pba = 0x5;
        wr(1, VIRTIO_BAR1_PBA, 8, 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 8), 0x5);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 0x5);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA + 4, 4), 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 2), 0);
}
END_TEST

START_TEST(msix_masking_and_pending)
{
        linux_init(FEAT_OK);
        unsigned m = msix_cap();
        /* Function mask: the vector goes pending, then out on unmask. */
        cfg_wr(m + 2, 2, 0xc000);
        irq(0);
        ck_assert_uint_eq(fx.nmsi, 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 1u << 1);
        irq(-1);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 1u << 1 | 1u << 0);
        cfg_wr(m + 2, 2, 0x8000);
        ck_assert_uint_eq(fx.nmsi, 2);
        ck_assert_x64_eq(fx.msi[0].addr, MSI_ADDR(0));
        ck_assert_x64_eq(fx.msi[1].addr, MSI_ADDR(1));
        ck_assert_x64_eq(fx.msi[1].data, MSI_DATA(1));
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 0);
        cfg_wr(m + 2, 2, 0x8000);
        ck_assert_uint_eq(fx.nmsi, 0);

        /* Entry mask: pending; the unmasking write sends it. */
        wr(1, 16 * 2 + 12, 4, 1);
        irq(1);
        irq(1);
        ck_assert_uint_eq(fx.nmsi, 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 1u << 2);
        /* Reprogrammed while masked: the new message goes out. */
        wr(1, 16 * 2 + 8, 4, 0x99);
        ck_assert_uint_eq(fx.nmsi, 0);
        wr(1, 16 * 2 + 12, 4, 0);
        ck_assert_uint_eq(fx.nmsi, 1);
        ck_assert_x64_eq(fx.msi[0].data, 0x99);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 0);
        wr(1, 16 * 2 + 12, 4, 0);
        ck_assert_uint_eq(fx.nmsi, 0);

        /* Unmasking the entry while the function is masked: still pending. */
        wr(1, 16 * 1 + 12, 4, 1);
        irq(0);
        cfg_wr(m + 2, 2, 0xc000);
        wr(1, 16 * 1 + 12, 4, 0);
        ck_assert_uint_eq(fx.nmsi, 0);
        ck_assert_x64_eq(rd(1, VIRTIO_BAR1_PBA, 4), 1u << 1);
        cfg_wr(m + 2, 2, 0x8000);
        ck_assert_uint_eq(fx.nmsi, 1);

        /* NO_VECTOR: nothing at all. */
        wr(0, Q_SELECT, 2, 0);
        wr(0, Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
        irq(0);
        ck_assert_uint_eq(fx.nmsi, 0);
        ck_assert_x64_eq(vp.pba, 0);
        ck_assert(!vp.intx && vp.isr == 0); /* no ISR bits with MSI-X */
        /* One MSI per message in one set of effects. */
        wr(0, Q_MSIX, 2, 2);
        memset(&fx, 0, sizeof(fx));
        virtio_pci_interrupt(&vp, 0, &fx);
        virtio_pci_interrupt(&vp, 0, &fx);
        virtio_pci_interrupt(&vp, 1, &fx);
        ck_assert_uint_eq(fx.nmsi, 1);
        /* MSI-X disabled again: back to INTx, with nothing stale. */
        cfg_wr(m + 2, 2, 0);
        ck_assert(!vp.intx && !fx.intx_changed);
        irq(0);
        ck_assert(vp.intx && fx.nmsi == 0);
}
END_TEST

START_TEST(fail_after_driver_ok_interrupts)
{
        /* INTx: the configuration bit and the line. */
        cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        ck_assert(negotiate(FEAT_OK));
        add_status(VIRTIO_STATUS_DRIVER_OK);
        memset(&fx, 0, sizeof(fx));
        virtio_pci_fail(&vp, "ring broken", &fx);
        ck_assert_str_eq(fx.error, "ring broken");
        ck_assert(fx.intx_changed && vp.intx);
        ck_assert_uint_eq(rd(0, CFGGEN, 1), 1);
        ck_assert_x64_eq(rd(0, VIRTIO_BAR0_ISR, 1), VIRTIO_ISR_CONFIG);
        ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
        /* Again: reported, not signalled twice. */
        memset(&fx, 0, sizeof(fx));
        virtio_pci_fail(&vp, "again", &fx);
        ck_assert_str_eq(fx.error, "again");
        ck_assert(!fx.intx_changed && !vp.intx);
        ck_assert_uint_eq(rd(0, CFGGEN, 1), 1);
        /* The reset clears it; the generation keeps counting. */
        wr(0, STATUS, 1, 0);
        ck_assert_uint_eq(status(), 0);
        ck_assert_uint_eq(rd(0, CFGGEN, 1), 1);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("virtio_pci");
        TCase *pci = tcase_create("pci_function");
        tcase_add_checked_fixture(pci, setup, teardown);
        tcase_add_test(pci, identity);
        tcase_add_test(pci, bar_sizing_and_decoding);
        tcase_add_test(pci, capability_walk);
        tcase_add_test(pci, capabilities_are_read_only);
        suite_add_tcase(s, pci);

        TCase *init = tcase_create("init");
        tcase_add_checked_fixture(init, setup, teardown);
        tcase_add_test(init, linux_style_init);
        tcase_add_test(init, no_event_idx_unless_negotiated);
        tcase_add_test(init, feature_negotiation);
        tcase_add_test(init, status_rules);
        tcase_add_test(init, reset_restores_everything);
        suite_add_tcase(s, init);

        TCase *queues = tcase_create("queues");
        tcase_add_checked_fixture(queues, setup, teardown);
        tcase_add_test(queues, queue_size_rules);
        tcase_add_test(queues, queue_addresses_in_halves);
        tcase_add_test(queues, bad_rings_fail_the_device);
        tcase_add_test(queues, writing_an_enabled_queue_fails);
        tcase_add_test(queues, vectors_out_of_range);
        suite_add_tcase(s, queues);

        TCase *regs = tcase_create("registers");
        tcase_add_checked_fixture(regs, setup, teardown);
        tcase_add_test(regs, odd_widths_and_offsets);
        tcase_add_test(regs, device_configuration);
        tcase_add_test(regs, notifications);
        suite_add_tcase(s, regs);

        TCase *irqs = tcase_create("interrupts");
        tcase_add_checked_fixture(irqs, setup, teardown);
        tcase_add_test(irqs, intx_and_isr);
        tcase_add_test(irqs, msix_table_accesses);
        tcase_add_test(irqs, msix_masking_and_pending);
        tcase_add_test(irqs, fail_after_driver_ok_interrupts);
        suite_add_tcase(s, irqs);
        return unit_run_suite(s);
}
