#include "devices/pci.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* A released 82441FX stepping; no OS behaviour depends on it. */
#define HOST_BRIDGE_REVISION 0x02

void pci_function_init(struct pci_function *f, uint16_t vendor, uint16_t device, uint8_t revision,
                       uint32_t class_code)
{
        vtv_memset(f, 0, sizeof(*f));
        /* Identification registers are read-only (PCI 3.0 6.2.1). */
        put16(f->cfg + PCI_VENDOR_ID, vendor);
        put16(f->cfg + PCI_DEVICE_ID, device);
        f->cfg[PCI_REVISION_ID] = revision;
        f->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
        put16(f->cfg + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
        f->cfg[PCI_HEADER_TYPE] = 0; /* type 0, single function */
        /* Status errors are cleared by writing 1 (PCI 3.0 6.2.3). */
        put16(f->w1cmask + PCI_STATUS, PCI_STATUS_ERRORS);
        /* The latency timer and the interrupt line are read/write for the
         * OS's bookkeeping (PCI 3.0 6.2.4). */
        f->wmask[PCI_LATENCY_TIMER] = 0xff;
        f->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_init(struct pci *p)
{
        vtv_memset(p, 0, sizeof(*p));
        struct pci_function *hb = &p->host_bridge;
        pci_function_init(hb, PCI_VENDOR_INTEL, PCI_DEVICE_82441FX, HOST_BRIDGE_REVISION,
                          PCI_CLASS_HOST_BRIDGE);
        /* A host bridge always claims memory cycles and masters PCI cycles
         * on behalf of the CPU, so memory space and bus master read 1 and
         * stay; parity and SERR# reporting are the OS's to set. */
        put16(hb->cfg + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        put16(hb->wmask + PCI_COMMAND, PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
        /* Medium DEVSEL timing, no capabilities list, no errors. */
        put16(hb->cfg + PCI_STATUS, PCI_STATUS_DEVSEL_MED);
        /* No BARs: its registers are chipset configuration, not resources;
         * the 0x40-0xff device-specific space (PAM, DRAM rows) reads 0 and
         * ignores writes, as nothing the guest could set there matters to
         * a VM whose memory map is fixed by the hypervisor. */
}

bool pci_attach(struct pci *p, uint8_t devfn, struct pci_function *f)
{
        if (devfn == 0 || p->bus0[devfn])
                return false;
        p->bus0[devfn] = f;
        return true;
}

bool pci_claims(uint16_t port, unsigned size)
{
        if (port == PCI_CONFIG_ADDRESS_PORT && size == 4)
                return true;
        return port >= PCI_CONFIG_DATA_PORT && port < PCI_CONFIG_DATA_PORT + 4 &&
               (size == 1 || size == 2 || size == 4) && (port - PCI_CONFIG_DATA_PORT) + size <= 4;
}

/* The function at bus:devfn, or NULL when there is none. */
static struct pci_function *lookup(struct pci *p, uint8_t bus, uint8_t devfn)
{
        if (bus != 0)
                return NULL; /* only bus 0 exists: no PCI-PCI bridges */
        return devfn == 0 ? &p->host_bridge : p->bus0[devfn];
}

static uint32_t ones(unsigned size)
{
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* The configuration read and write that both mechanisms deliver.  The
 * callers have checked the access: size is 1, 2 or 4 and reg..reg+size-1
 * lie within one dword below PCI_CFG_EXT_SIZE, so an access is either
 * entirely in the 256-byte conventional space or entirely above it.
 *
 * Above it, 0x100-0xfff, is PCIe extended configuration space, which a
 * conventional function does not have.  It reads 0 and ignores writes:
 * extended capabilities always start at 0x100, and a header of 0 there
 * (capability ID 0, version 0, next offset 0) is how a function says it
 * has none (PCIe Base 5.0 7.6); the rest of the space is then
 * unimplemented registers, which read 0 (PCI 3.0 6.1).  Linux's
 * pci_cfg_space_size_ext accepts exactly this ("0 or a valid extended
 * capability header"), and an all-zero 0x100 cannot be mistaken for an
 * alias of the vendor/device ID at 0. */
static uint32_t cfg_read(struct pci *p, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size)
{
        const struct pci_function *f = lookup(p, bus, devfn);
        if (!f)
                return ones(size); /* master abort (PCI 3.0 6.1) */
        if (reg >= PCI_CFG_SIZE)
                return 0;
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
                v |= (uint32_t)f->cfg[reg + i] << (8 * i);
        return v;
}

static void cfg_write(struct pci *p, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size,
                      uint32_t value)
{
        struct pci_function *f = lookup(p, bus, devfn);
        if (!f || reg >= PCI_CFG_SIZE)
                return;
        for (unsigned i = 0; i < size; i++) {
                unsigned off = reg + i;
                uint8_t b = (uint8_t)(value >> (8 * i));
                uint8_t w = f->wmask[off];
                f->cfg[off] = (uint8_t)((f->cfg[off] & ~w) | (b & w));
                f->cfg[off] &= (uint8_t) ~(b & f->w1cmask[off]);
        }
}

/* Mechanism #1: the register CONFIG_ADDRESS names (dword aligned) plus the
 * byte lane of the data port.  Returns false when the enable bit is clear:
 * then CONFIG_DATA is an ordinary, empty I/O port. */
static bool port_target(const struct pci *p, uint16_t port, uint8_t *bus, uint8_t *devfn,
                        uint16_t *reg)
{
        uint32_t a = p->address;
        if (!(a & PCI_ADDR_ENABLE))
                return false;
        *bus = (uint8_t)(a >> 16);
        *devfn = (uint8_t)(a >> 8);
        *reg = (uint16_t)((a & 0xfc) + (port - PCI_CONFIG_DATA_PORT));
        return true;
}

uint32_t pci_in(struct pci *p, uint16_t port, unsigned size)
{
        if (!pci_claims(port, size))
                return ones(size);
        if (port == PCI_CONFIG_ADDRESS_PORT)
                return p->address;
        uint8_t bus, devfn;
        uint16_t reg;
        if (!port_target(p, port, &bus, &devfn, &reg))
                return ones(size);
        return cfg_read(p, bus, devfn, reg, size);
}

void pci_out(struct pci *p, uint16_t port, unsigned size, uint32_t value)
{
        if (!pci_claims(port, size))
                return;
        if (port == PCI_CONFIG_ADDRESS_PORT) {
                p->address = value & PCI_ADDR_WRITABLE;
                return;
        }
        uint8_t bus, devfn;
        uint16_t reg;
        if (port_target(p, port, &bus, &devfn, &reg))
                cfg_write(p, bus, devfn, reg, size, value);
}

/* An ECAM access the model serves: 1, 2 or 4 bytes, naturally aligned,
 * within the 4 KiB of one function. */
static bool ecam_valid(uint16_t reg, unsigned size)
{
        return (size == 1 || size == 2 || size == 4) && reg % size == 0 && reg < PCI_CFG_EXT_SIZE;
}

uint32_t pci_cfg_read(struct pci *p, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size)
{
        if (!ecam_valid(reg, size))
                return ones(size);
        return cfg_read(p, bus, devfn, reg, size);
}

void pci_cfg_write(struct pci *p, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size,
                   uint32_t value)
{
        if (ecam_valid(reg, size))
                cfg_write(p, bus, devfn, reg, size, value);
}
