/* PCI configuration space through configuration mechanism #1 (PCI Local Bus
 * Specification 3.0, 3.2.2.3.2): CONFIG_ADDRESS at 0xcf8 (32-bit accesses
 * only) and CONFIG_DATA at 0xcfc-0xcff (byte, word or dword).  Pure: no I/O,
 * no VMX, no globals.
 *
 * Bus 0 holds one host bridge at 00:00.0, an Intel 82441FX PMC (the i440FX
 * host bridge, 8086:1237, revision 02): the PC chipset host bridge that
 * operating systems know best, with no BARs and nothing for a driver to
 * bind to, class 06 00 00 so that Linux's type-1 sanity check
 * (arch/x86/pci/direct.c, pci_sanity_check) accepts the mechanism.  Linux
 * prints one informational line for it ("Limiting direct PCI/PCI
 * transfers", its Natoma quirk), nothing more.  Other functions on bus 0 can
 * be attached (later virtio devices); every other bus, device and function
 * reads all-ones and ignores writes, as an empty slot does (a master abort
 * on a configuration read returns all-ones, PCI 3.0 6.1).
 *
 * Port claims: 0xcf8 only for 32-bit accesses (a byte at 0xcf9 is the
 * reset control register, devices/reset.h; other byte and word accesses to
 * 0xcf8-0xcfb are not configuration cycles and read all-ones here), and
 * 0xcfc-0xcff for accesses that stay within the dword.
 *
 * The same configuration space is reachable directly, as PCI Express's
 * enhanced configuration access mechanism (ECAM, PCIe Base 5.0 7.2.2)
 * delivers it: pci_cfg_read/pci_cfg_write take bus, device/function and a
 * 12-bit register number (0x000-0xfff).  The caller maps its memory window
 * to those (PCI_ECAM_BUS/DEVFN/REG below).  Both mechanisms share one
 * implementation, so a register reads the same through either.  Every
 * function here is conventional PCI: its 256-byte space is all there is,
 * and the PCIe extended space 0x100-0xfff reads 0 and ignores writes (see
 * pci.c for why 0). */
#ifndef VTV_DEVICES_PCI_H
#define VTV_DEVICES_PCI_H

#include "lib/types.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc
#define PCI_PORT_BASE           PCI_CONFIG_ADDRESS_PORT
#define PCI_PORTS               8

/* CONFIG_ADDRESS fields (PCI 3.0 figure 3-1). */
#define PCI_ADDR_ENABLE 0x80000000u
/* Bits 30:24 are reserved and read 0; bits 1:0 read 0 (they would select
 * a type 1 cycle on the bus, not a register). */
#define PCI_ADDR_WRITABLE 0x80fffffcu

#define PCI_CFG_SIZE       256  /* conventional configuration space */
#define PCI_CFG_EXT_SIZE   4096 /* with PCIe extended space, as ECAM reaches it */
#define PCI_DEVFNS         256  /* 32 devices x 8 functions */
#define PCI_DEVFN(dev, fn) ((uint8_t)((dev) << 3 | (fn)))

/* ECAM (PCIe Base 5.0 7.2.2): a window offset encodes bus in
 * bits 27:20, device in 19:15, function in 14:12 and register in 11:0, so
 * each bus takes 1 MiB and each function 4 KiB. */
#define PCI_ECAM_BUS_SIZE   0x100000u
#define PCI_ECAM_BUS(off)   ((uint8_t)((off) >> 20))
#define PCI_ECAM_DEVFN(off) ((uint8_t)((off) >> 12))
#define PCI_ECAM_REG(off)   ((uint16_t)((off)&0xfff))

/* Type 0 header offsets (PCI 3.0 6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_CACHE_LINE     0x0c
#define PCI_LATENCY_TIMER  0x0d
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR   0x0100
/* Status error bits, each cleared by writing 1 (PCI 3.0 6.2.3). */
#define PCI_STATUS_ERRORS     0xf900
#define PCI_STATUS_DEVSEL_MED 0x0200

#define PCI_VENDOR_INTEL      0x8086
#define PCI_DEVICE_82441FX    0x1237
#define PCI_CLASS_HOST_BRIDGE 0x060000 /* base class 06, subclass 00, prog-if 00 */

/* One function's configuration space: what reads return, which bits a
 * write may change, and which are write-1-to-clear. */
struct pci_function {
        uint8_t cfg[PCI_CFG_SIZE];
        uint8_t wmask[PCI_CFG_SIZE];
        uint8_t w1cmask[PCI_CFG_SIZE];
};

struct pci {
        uint32_t address; /* CONFIG_ADDRESS as last written */
        struct pci_function host_bridge;
        /* Bus 0 functions other than 00:00.0 (NULL: absent); not owned. */
        struct pci_function *bus0[PCI_DEVFNS];
};

void pci_init(struct pci *p);

/* A type 0 header with the given identity: command, status, BARs and
 * interrupt pin 0, interrupt line writable; the rest read-only zero. */
void pci_function_init(struct pci_function *f, uint16_t vendor, uint16_t device, uint8_t revision,
                       uint32_t class_code);

/* Puts f at 00:devfn.  Returns false when devfn is 0 (the host bridge) or
 * taken. */
bool pci_attach(struct pci *p, uint8_t devfn, struct pci_function *f);

/* True when this model decodes an access of size bytes at port. */
bool pci_claims(uint16_t port, unsigned size);

uint32_t pci_in(struct pci *p, uint16_t port, unsigned size);
void pci_out(struct pci *p, uint16_t port, unsigned size, uint32_t value);

/* Direct (ECAM) configuration access to register reg of bus:devfn, size 1,
 * 2 or 4 bytes, with the port mechanism's semantics: a function that is
 * absent (any bus but 0, an empty slot) reads all-ones and ignores writes;
 * read-only bits keep their value and write-1-to-clear bits clear.  reg
 * must be below PCI_CFG_EXT_SIZE and aligned to size, as operating systems
 * access ECAM (PCIe Base 5.0 7.2.2 promises no more than accesses within a
 * dword).  Any other access, including other sizes such as 8 bytes, reads
 * all-ones (size bytes of them, at most 4) and is ignored when written. */
uint32_t pci_cfg_read(struct pci *p, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size);
void pci_cfg_write(struct pci *p, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned size,
                   uint32_t value);

#endif
