/* libFuzzer target for devices/pci.c: configuration mechanism #1 and ECAM.
 *
 * Input: one configuration byte (bit 0: attach a second function at
 * 00:03.0, bits 7:1 its revision), then records to the end, each
 *
 *   u8   operation: bits 2:0 pick it (0 port read, 1 port write, 2 ECAM
 *        read, 3 ECAM write, 4 CONFIG_ADDRESS for bus 0 and the register
 *        in the next fields, then a data-port read, 5 the same with a
 *        write, 6 reads of a whole function both ways, 7 re-init)
 *   u8   port offset from 0xcf8 (bits 2:0; bit 3 set: any port near) or bus
 *   u8   devfn
 *   u16  register
 *   u8   size (bits 2:0; values 0-7 reach the odd sizes too)
 *   u32  value
 *
 * Checked against pci.h: a read returns no more than its size; an access
 * the model does not claim reads all-ones; CONFIG_ADDRESS reads back what
 * was written masked by PCI_ADDR_WRITABLE; absent functions read all-ones
 * and ignore writes; the extended space of present functions reads 0;
 * the port mechanism and ECAM read the same bytes; read-only bits never
 * change and write-1-to-clear bits only clear; the host bridge stays an
 * 8086:1237 host bridge with memory and bus master on; a re-init equals a
 * fresh model. */
#include "tests/fuzz/fuzz.h"

#include "devices/pci.h"

#define EXTRA_DEVFN PCI_DEVFN(3, 0)

static struct pci p, fresh;
static struct pci_function extra;
static struct pci_function init_hb, init_extra;
static bool have_extra;

static uint32_t ones(unsigned size)
{
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static const struct pci_function *func(uint8_t bus, uint8_t devfn)
{
        if (bus)
                return NULL;
        if (devfn == 0)
                return &p.host_bridge;
        if (devfn == EXTRA_DEVFN && have_extra)
                return &extra;
        return NULL;
}

/* Read-only bits as at init; write-1-to-clear bits only went to 0. */
static FUZZ_HARNESS void check_function(const struct pci_function *f,
                                        const struct pci_function *init)
{
        for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
                uint8_t ro = (uint8_t)~f->wmask[i] & (uint8_t)~f->w1cmask[i];
                CHECK(((f->cfg[i] ^ init->cfg[i]) & ro) == 0);
                CHECK((f->cfg[i] & ~init->cfg[i] & f->w1cmask[i]) == 0);
        }
        CHECK(memcmp(f->wmask, init->wmask, sizeof(f->wmask)) == 0);
        CHECK(memcmp(f->w1cmask, init->w1cmask, sizeof(f->w1cmask)) == 0);
}

static FUZZ_HARNESS void check_all(void)
{
        check_function(&p.host_bridge, &init_hb);
        const uint8_t *c = p.host_bridge.cfg;
        CHECK(c[0] == 0x86 && c[1] == 0x80 && c[2] == 0x37 && c[3] == 0x12);
        CHECK(c[PCI_CLASS_DEVICE] == 0x00 && c[PCI_CLASS_DEVICE + 1] == 0x06);
        CHECK((c[PCI_COMMAND] & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) ==
              (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
        if (have_extra)
                check_function(&extra, &init_extra);
        CHECK((p.address & ~PCI_ADDR_WRITABLE) == 0);
        for (unsigned d = 1; d < PCI_DEVFNS; d++)
                CHECK(p.bus0[d] == (d == EXTRA_DEVFN && have_extra ? &extra : NULL));
}

/* What an ECAM read of one byte should give. */
static uint8_t expect_byte(uint8_t bus, uint8_t devfn, uint16_t reg)
{
        const struct pci_function *f = func(bus, devfn);
        if (!f)
                return 0xff;
        return reg < PCI_CFG_SIZE ? f->cfg[reg] : 0;
}

static void check_ecam_read(uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size, uint32_t v)
{
        if (size < 4)
                CHECK((v >> (8 * size)) == 0 || size == 0);
        bool valid =
            (size == 1 || size == 2 || size == 4) && reg % size == 0 && reg < PCI_CFG_EXT_SIZE;
        if (!valid) {
                CHECK(v == ones(MIN(size, 4u)));
                return;
        }
        for (unsigned k = 0; k < size; k++)
                CHECK(((v >> (8 * k)) & 0xff) == expect_byte(bus, devfn, (uint16_t)(reg + k)));
}

static void port_read(uint16_t port, unsigned size)
{
        uint32_t v = pci_in(&p, port, size);
        if (size < 4)
                CHECK(size == 0 ? v == 0 : (v >> (8 * size)) == 0);
        if (!pci_claims(port, size)) {
                CHECK(v == ones(MIN(size, 4u)));
                return;
        }
        if (port == PCI_CONFIG_ADDRESS_PORT) {
                CHECK(v == p.address);
                return;
        }
        if (!(p.address & PCI_ADDR_ENABLE)) {
                CHECK(v == ones(size));
                return;
        }
        uint8_t bus = (uint8_t)(p.address >> 16), devfn = (uint8_t)(p.address >> 8);
        uint16_t reg = (uint16_t)((p.address & 0xfc) + (port - PCI_CONFIG_DATA_PORT));
        /* The same bytes through ECAM, one at a time. */
        for (unsigned k = 0; k < size; k++) {
                uint8_t b = (uint8_t)(v >> (8 * k));
                CHECK(b == expect_byte(bus, devfn, (uint16_t)(reg + k)));
                CHECK(b == pci_cfg_read(&p, bus, devfn, (uint16_t)(reg + k), 1));
        }
}

static void snapshot(struct pci_function *hb, struct pci_function *ex)
{
        *hb = p.host_bridge;
        if (have_extra)
                *ex = extra;
}

/* After a write that should have had no effect. */
static void check_unchanged(const struct pci_function *hb, const struct pci_function *ex)
{
        CHECK(memcmp(hb, &p.host_bridge, sizeof(*hb)) == 0);
        if (have_extra)
                CHECK(memcmp(ex, &extra, sizeof(*ex)) == 0);
}

static void setup(uint8_t cfg)
{
        pci_init(&p);
        have_extra = cfg & 1;
        if (have_extra) {
                pci_function_init(&extra, 0x1af4, 0x1000, cfg >> 1, 0x020000);
                extra.wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
                extra.wmask[0x40] = 0xf0; /* a device-specific register */
                extra.w1cmask[0x41] = 0xff;
                extra.cfg[0x41] = 0xa5;
                CHECK(pci_attach(&p, EXTRA_DEVFN, &extra));
                CHECK(!pci_attach(&p, EXTRA_DEVFN, &extra));
                init_extra = extra;
        }
        CHECK(!pci_attach(&p, 0, &extra));
        init_hb = p.host_bridge;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        static struct pci_function hb0, ex0;
        setup(in_u8(&in));

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in);
                uint8_t a = in_u8(&in);
                uint8_t devfn = in_u8(&in);
                uint16_t reg = in_u16(&in);
                unsigned sz = in_u8(&in) & 7;
                uint32_t val = in_u32(&in);
                uint16_t port = (uint16_t)((a & 8) ? 0xcf0 + (a & 0x1f) : 0xcf8 + (a & 7));

                switch (op & 7) {
                case 0:
                        port_read(port, sz);
                        break;
                case 1: {
                        snapshot(&hb0, &ex0);
                        uint32_t addr = p.address;
                        pci_out(&p, port, sz, val);
                        if (!pci_claims(port, sz)) {
                                CHECK(p.address == addr);
                                check_unchanged(&hb0, &ex0);
                        } else if (port == PCI_CONFIG_ADDRESS_PORT) {
                                CHECK(p.address == (val & PCI_ADDR_WRITABLE));
                                check_unchanged(&hb0, &ex0);
                        } else if (!(addr & PCI_ADDR_ENABLE) ||
                                   !func((uint8_t)(addr >> 16), (uint8_t)(addr >> 8))) {
                                check_unchanged(&hb0, &ex0);
                        }
                        break;
                }
                case 2:
                        check_ecam_read(a, devfn, reg, sz, pci_cfg_read(&p, a, devfn, reg, sz));
                        break;
                case 3: {
                        snapshot(&hb0, &ex0);
                        pci_cfg_write(&p, a, devfn, reg, sz, val);
                        bool valid = (sz == 1 || sz == 2 || sz == 4) && reg % sz == 0 &&
                                     reg < PCI_CFG_EXT_SIZE;
                        if (!valid || reg >= PCI_CFG_SIZE || !func(a, devfn))
                                check_unchanged(&hb0, &ex0);
                        break;
                }
                case 4:
                case 5: {
                        uint8_t r = (uint8_t)reg;
                        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4,
                                PCI_ADDR_ENABLE | (uint32_t)devfn << 8 | (r & 0xfc) |
                                    (uint32_t)(a & 1) << 16);
                        uint16_t dport = (uint16_t)(PCI_CONFIG_DATA_PORT + (r & 3));
                        if ((op & 7) == 4) {
                                port_read(dport, sz);
                        } else {
                                pci_out(&p, dport, sz, val);
                                if (pci_claims(dport, sz))
                                        port_read(dport, sz);
                        }
                        break;
                }
                case 6:
                        for (unsigned r = 0; r < PCI_CFG_SIZE + 8; r += 4)
                                check_ecam_read(0, devfn, (uint16_t)r, 4,
                                                pci_cfg_read(&p, 0, devfn, (uint16_t)r, 4));
                        break;
                default:
                        if (val & 1) {
                                pci_init(&fresh);
                                setup((uint8_t)(val >> 8));
                                CHECK(memcmp(&p.host_bridge, &fresh.host_bridge,
                                             sizeof(fresh.host_bridge)) == 0 &&
                                      p.address == 0);
                        }
                        break;
                }
                if (op & 1) /* the writes */
                        check_all();
        }
        check_all();
        return 0;
}
