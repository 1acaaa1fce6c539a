/* libFuzzer target for devices/virtio/virtio_pci.c: the virtio-pci modern
 * transport driven through its BARs, its configuration space (on a
 * devices/pci.c bus, ECAM accesses) and the device side's calls.
 *
 * Input: two configuration bytes (byte 0: bits 1:0 the device type, bits
 * 4:2 the number of queues, 0-7 (clamped to VIRTIO_MAX_QUEUES); byte 1:
 * bits 3:0 log2 of queue_max, 0-15 (clamped to VQ_MAX_SIZE)), then
 * records to the end, each
 *
 *   u8   operation: bits 3:0 pick it (0/1 BAR 0 read/write, 2/3 BAR 1
 *        read/write, 4/5 configuration read/write, 6 interrupt for queue
 *        b - 1, 7 virtio_pci_fail, 8 a well-behaved driver's whole
 *        initialisation, 9 status 0, 10 bar_base, others BAR 0 write);
 *        bit 7: the offset is value's high 16 bits, or raw, rather than
 *        region + small offset
 *   u8   a: BAR 0 region (bits 1:0: common, ISR, device, notify) and
 *        offset in it (bits 7:2), or a BAR 1 / configuration offset
 *   u8   b: more offset bits
 *   u8   size: bits 3:0 index a table of sizes (0-16, the odd ones too)
 *   u64  value
 *
 * Checked against virtio_pci.h and the specification after every record:
 * a read returns no more bits than its size; the status register changes
 * only by the rules (bits never clear except by a reset, NEEDS_RESET only
 * from a failure, FEATURES_OK only for a valid feature set, DRIVER_OK only
 * with FEATURES_OK, reserved bits never); features are fixed after
 * FEATURES_OK; queue sizes are powers of two within the maximum and a
 * ready queue passed vq_check_config; vectors are in range or NO_VECTOR;
 * the MSI-X table holds only defined bits, no vector is left pending once
 * it could be sent, and every message sent is a table entry's; INTA#
 * follows the ISR, MSI-X and Interrupt Disable; notifications and enables
 * name only ready queues of a live device; read-only configuration bytes
 * never change; and ASan sees no access outside the model. */
#include "tests/fuzz/fuzz.h"

#include "devices/virtio/virtio_pci.h"
#include "lib/bytes.h"

#define DEVFN    PCI_DEVFN(3, 0)
#define RAM_SIZE 0x10000u
#define MSIX_CAP 0x84 /* checked against the list in setup */

static struct pci bus;
static struct virtio_pci vp;
static struct pci_function init_fn;
static uint8_t ram[RAM_SIZE];
static const struct guest_mem mem = { ram, RAM_SIZE };
static struct virtio_pci_effects fx;

static const unsigned sizes[16] = { 1, 2, 4, 8, 1, 2, 4, 8, 4, 2, 0, 3, 5, 6, 7, 16 };
static const uint64_t region[4] = { VIRTIO_BAR0_COMMON, VIRTIO_BAR0_ISR, VIRTIO_BAR0_DEVICE,
                                    VIRTIO_BAR0_NOTIFY };

static FUZZ_HARNESS bool msix_on(void)
{
        return get16(vp.fn.cfg + MSIX_CAP + 2) & 0x8000;
}

static FUZZ_HARNESS bool msix_masked(void)
{
        return get16(vp.fn.cfg + MSIX_CAP + 2) & 0x4000;
}

static void setup(uint8_t c0, uint8_t c1)
{
        static const uint8_t types[4] = { VIRTIO_ID_NET, VIRTIO_ID_BLK, VIRTIO_ID_RNG, 9 };
        pci_init(&bus);
        virtio_pci_init(&vp, types[c0 & 3], 0x30021ull, (c0 >> 2) & 7, (uint16_t)(1u << (c1 & 15)),
                        10, 0xfe000000, 0xfe004000);
        for (unsigned i = 0; i < 12; i++)
                vp.devcfg[i] = (uint8_t)(0xa0 + i);
        vp.devcfg_len = 12;
        CHECK(pci_attach(&bus, DEVFN, &vp.fn));
        CHECK(vp.fn.cfg[MSIX_CAP] == 0x11 && vp.fn.cfg[MSIX_CAP + 1] == 0);
        init_fn = vp.fn;
        memset(ram, 0, sizeof(ram));
}

static void cfg_write(uint16_t reg, unsigned size, uint32_t v)
{
        pci_cfg_write(&bus, 0, DEVFN, reg, size, v);
        virtio_pci_cfg_written(&vp, &fx);
}

static void bar0_write(uint64_t off, unsigned size, uint64_t v)
{
        virtio_pci_bar_write(&vp, &mem, 0, off, size, v, &fx);
}

/* A driver that does everything right (3.1.1, Linux's order), with
 * choices taken from the record, so the fuzzer starts from live queues. */
static void good_init(uint8_t a, uint8_t b, uint64_t v)
{
        cfg_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        bar0_write(0x14, 1, 0);
        bar0_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE);
        bar0_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        uint64_t f = (vp.device_features & v) | BIT(VIRTIO_F_VERSION_1);
        bar0_write(0x08, 4, 0);
        bar0_write(0x0c, 4, (uint32_t)f);
        bar0_write(0x08, 4, 1);
        bar0_write(0x0c, 4, f >> 32);
        bar0_write(0x14, 1,
                   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
        CHECK(vp.status & VIRTIO_STATUS_FEATURES_OK);
        if (a & 1) {
                cfg_write(MSIX_CAP + 2, 2, 0xc000);
                for (unsigned e = 0; e < VIRTIO_MSIX_VECTORS; e++) {
                        virtio_pci_bar_write(&vp, &mem, 1, 16 * e, 8, 0xfee00000u | e << 12, &fx);
                        virtio_pci_bar_write(&vp, &mem, 1, 16 * e + 8, 8,
                                             0x40 + e + ((uint64_t)(b >> e & 1) << 32), &fx);
                }
                cfg_write(MSIX_CAP + 2, 2, 0x8000);
                bar0_write(0x10, 2, 0);
        }
        for (unsigned q = 0; q < vp.nqueues; q++) {
                uint64_t base = 0x4000ull * q;
                bar0_write(0x16, 2, q);
                bar0_write(0x18, 2, vp.queue_max >> (a >> 1 & 3));
                bar0_write(0x20, 8, base);
                bar0_write(0x28, 4, base + 0x1000);
                bar0_write(0x2c, 4, 0);
                bar0_write(0x30, 4, base + 0x2000);
                bar0_write(0x34, 4, 0);
                bar0_write(0x1a, 2, q + 1);
                bar0_write(0x1c, 2, 1);
        }
        if (a & 8)
                bar0_write(0x14, 1, vp.status | VIRTIO_STATUS_DRIVER_OK);
}

static FUZZ_HARNESS bool is_pow2(uint64_t v)
{
        return v && !(v & (v - 1));
}

static FUZZ_HARNESS void check_read(uint64_t v, unsigned size)
{
        if (size == 0 || size > 8)
                CHECK(v == 0);
        else if (size < 8)
                CHECK(v >> (8 * size) == 0);
}

struct before {
        uint8_t status, gen, isr;
        uint64_t driver_features;
        bool intx;
};

static FUZZ_HARNESS void check_all(const struct before *b, bool simple)
{
        const uint8_t s = vp.status;
        const uint8_t known = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                              VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK |
                              VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED;
        /* Status. */
        CHECK((s & ~known) == 0);
        if (!fx.reset)
                CHECK((b->status & ~s) == 0);
        if ((s & VIRTIO_STATUS_NEEDS_RESET) && !(b->status & VIRTIO_STATUS_NEEDS_RESET))
                CHECK(fx.error != NULL);
        if (s & VIRTIO_STATUS_FEATURES_OK) {
                CHECK((vp.driver_features & ~vp.device_features) == 0);
                CHECK(vp.driver_features & BIT(VIRTIO_F_VERSION_1));
        }
        if (s & VIRTIO_STATUS_DRIVER_OK)
                CHECK(s & VIRTIO_STATUS_FEATURES_OK);
        if ((b->status & VIRTIO_STATUS_FEATURES_OK) && !fx.reset)
                CHECK(vp.driver_features == b->driver_features);
        if (fx.reset && simple)
                CHECK(s == 0);
        if (vp.config_generation != b->gen)
                CHECK(fx.error != NULL && (uint8_t)(b->gen + 1) == vp.config_generation);
        CHECK(virtio_pci_live(&vp) == ((s & VIRTIO_STATUS_DRIVER_OK) &&
                                       !(s & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))));

        /* Queues and vectors. */
        CHECK(vp.nqueues <= VIRTIO_MAX_QUEUES);
        uint32_t ready = 0;
        for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
                const struct virtqueue *q = &vp.vq[i];
                if (i >= vp.nqueues) {
                        CHECK(q->size == 0 && !q->ready && !vp.queue_enable[i]);
                        CHECK(q->desc_gpa == 0 && q->avail_gpa == 0 && q->used_gpa == 0);
                        continue;
                }
                CHECK(is_pow2(q->size) && q->size <= vp.queue_max);
                if (q->ready) {
                        ready |= 1u << i;
                        CHECK(vp.queue_enable[i]);
                        CHECK(vq_check_config(q, vp.queue_max, &mem) == NULL);
                        CHECK(q->event_idx == virtio_pci_has(&vp, VIRTIO_F_EVENT_IDX));
                }
                CHECK(vp.queue_msix[i] < VIRTIO_MSIX_VECTORS ||
                      vp.queue_msix[i] == VIRTIO_MSI_NO_VECTOR);
        }
        CHECK(vp.msix_config < VIRTIO_MSIX_VECTORS || vp.msix_config == VIRTIO_MSI_NO_VECTOR);
        CHECK((fx.enabled & ~ready) == 0);
        CHECK((fx.notify & ~ready) == 0);
        if (fx.notify)
                CHECK(virtio_pci_live(&vp));

        /* MSI-X. */
        CHECK((vp.pba >> VIRTIO_MSIX_VECTORS) == 0);
        for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++) {
                CHECK((vp.msix[v].ctrl & ~1u) == 0 && (vp.msix[v].addr_lo & 3) == 0);
                if (vp.pba & (1u << v))
                        CHECK(!msix_on() || msix_masked() || vp.msix[v].ctrl);
        }
        CHECK(fx.nmsi <= VIRTIO_MSIX_VECTORS);
        if (fx.nmsi && simple)
                CHECK(msix_on() && !msix_masked());
        for (unsigned i = 0; i < fx.nmsi; i++) {
                bool found = false;
                for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++)
                        found |= fx.msi[i].addr ==
                                     ((uint64_t)vp.msix[v].addr_hi << 32 | vp.msix[v].addr_lo) &&
                                 fx.msi[i].data == vp.msix[v].data;
                CHECK(found);
        }

        /* INTx and the ISR. */
        CHECK((vp.isr & ~3u) == 0);
        bool pending = vp.isr && !msix_on();
        CHECK(!!(vp.fn.cfg[PCI_STATUS] & 0x08) == pending);
        CHECK(vp.intx == (pending && !(get16(vp.fn.cfg + PCI_COMMAND) & 0x400)));
        if (simple)
                CHECK(fx.intx_changed == (vp.intx != b->intx));

        /* Configuration space: read-only bits as at init (but for the
         * interrupt status bit, which is the device's), masks unchanged. */
        for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
                uint8_t ro = (uint8_t)~vp.fn.wmask[i] & (uint8_t)~vp.fn.w1cmask[i];
                if (i == PCI_STATUS)
                        ro &= (uint8_t)~0x08;
                CHECK(((vp.fn.cfg[i] ^ init_fn.cfg[i]) & ro) == 0);
        }
        CHECK(memcmp(vp.fn.wmask, init_fn.wmask, sizeof(init_fn.wmask)) == 0);
        CHECK(memcmp(vp.fn.w1cmask, init_fn.w1cmask, sizeof(init_fn.w1cmask)) == 0);

        /* BAR decoding. */
        bool mem_on = get16(vp.fn.cfg + PCI_COMMAND) & PCI_COMMAND_MEMORY;
        for (unsigned bar = 0; bar < 3; bar++) {
                uint32_t base = virtio_pci_bar_base(&vp, bar);
                if (!mem_on || bar == 2)
                        CHECK(base == 0);
                else
                        CHECK(base == (get32(vp.fn.cfg + PCI_BAR0 + 4 * bar) & ~0xfu));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t c0 = in_u8(&in), c1 = in_u8(&in);
        setup(c0, c1);

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in), a = in_u8(&in), b = in_u8(&in);
                unsigned sz = sizes[in_u8(&in) & 15];
                uint64_t val = in_u64(&in);
                uint64_t off0 = region[a & 3] + (a >> 2) + (uint64_t)(b & 0x0f) * 64;
                uint64_t off1 = (uint64_t)(a | (b & 0xf) << 8);
                if (op & 0x80) {
                        off0 = (b & 0x80) ? val >> 16 : (uint64_t)(a | b << 8);
                        off1 = (b & 0x80) ? val >> 16 : (uint64_t)(a | b << 8);
                }
                struct before bf = { vp.status, vp.config_generation, vp.isr, vp.driver_features,
                                     vp.intx };
                bool simple = true;
                memset(&fx, 0, sizeof(fx));
                switch (op & 15) {
                case 0: {
                        bool isr_read = off0 == VIRTIO_BAR0_ISR && sz == 1;
                        uint64_t v = virtio_pci_bar_read(&vp, 0, off0, sz, &fx);
                        check_read(v, sz);
                        if (isr_read)
                                CHECK(v == bf.isr && vp.isr == 0);
                        else
                                CHECK(vp.isr == bf.isr);
                        CHECK(vp.status == bf.status);
                        break;
                }
                case 1:
                        bar0_write(off0, sz, val);
                        break;
                case 2: {
                        uint64_t v = virtio_pci_bar_read(&vp, 1, off1, sz, &fx);
                        check_read(v, sz);
                        if (off1 == VIRTIO_BAR1_PBA && (sz == 4 || sz == 8))
                                CHECK(v == vp.pba);
                        break;
                }
                case 3:
                        virtio_pci_bar_write(&vp, &mem, 1, off1, sz, val, &fx);
                        break;
                case 4: {
                        uint32_t v = pci_cfg_read(&bus, 0, DEVFN, (uint16_t)off1, sz);
                        if (sz >= 1 && sz <= 4)
                                check_read(v, sz);
                        break;
                }
                case 5:
                        cfg_write((uint16_t)off1, sz, (uint32_t)val);
                        break;
                case 6:
                        virtio_pci_interrupt(&vp, (int)b - 1, &fx);
                        if (msix_on())
                                CHECK(vp.isr == bf.isr);
                        break;
                case 7:
                        virtio_pci_fail(&vp, "fuzz", &fx);
                        CHECK(vp.status & VIRTIO_STATUS_NEEDS_RESET);
                        break;
                case 8:
                        good_init(a, b, val);
                        simple = false;
                        break;
                case 9:
                        bar0_write(0x14, 1, 0);
                        CHECK(fx.reset && vp.status == 0 && vp.isr == 0 && vp.pba == 0);
                        break;
                case 10:
                        for (unsigned bar = 0; bar < 4; bar++)
                                (void)virtio_pci_bar_base(&vp, bar);
                        break;
                default:
                        bar0_write(off0, sz, val);
                        break;
                }
                check_all(&bf, simple);
        }
        return 0;
}
