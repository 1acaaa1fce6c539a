#include "devices/pci.h"
#include "lib/string.h"

/* A released 82441FX stepping; no OS behaviour depends on it. */
#define HOST_BRIDGE_REVISION 0x02

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

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

/* The function CONFIG_ADDRESS selects, or NULL when there is none or the
 * enable bit is clear (then CONFIG_DATA is an ordinary, empty I/O port). */
static struct pci_function *selected(struct pci *p)
{
        uint32_t a = p->address;
        if (!(a & PCI_ADDR_ENABLE))
                return NULL;
        if ((a >> 16 & 0xff) != 0)
                return NULL; /* only bus 0 exists: no PCI-PCI bridges */
        uint8_t devfn = (uint8_t)(a >> 8);
        return devfn == 0 ? &p->host_bridge : p->bus0[devfn];
}

static uint32_t ones(unsigned size)
{
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t pci_in(struct pci *p, uint16_t port, unsigned size)
{
        if (!pci_claims(port, size))
                return ones(size);
        if (port == PCI_CONFIG_ADDRESS_PORT)
                return p->address;
        struct pci_function *f = selected(p);
        if (!f)
                return ones(size);
        /* Register number from CONFIG_ADDRESS (dword aligned) plus the
         * byte lane the data port access uses. */
        unsigned off = (p->address & 0xfc) + (port - PCI_CONFIG_DATA_PORT);
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
                v |= (uint32_t)f->cfg[off + i] << (8 * i);
        return v;
}

void pci_out(struct pci *p, uint16_t port, unsigned size, uint32_t value)
{
        if (!pci_claims(port, size))
                return;
        if (port == PCI_CONFIG_ADDRESS_PORT) {
                p->address = value & PCI_ADDR_WRITABLE;
                return;
        }
        struct pci_function *f = selected(p);
        if (!f)
                return;
        unsigned off = (p->address & 0xfc) + (port - PCI_CONFIG_DATA_PORT);
        for (unsigned i = 0; i < size; i++, off++) {
                uint8_t b = (uint8_t)(value >> (8 * i));
                uint8_t w = f->wmask[off];
                f->cfg[off] = (uint8_t)((f->cfg[off] & ~w) | (b & w));
                f->cfg[off] &= (uint8_t) ~(b & f->w1cmask[off]);
        }
}
