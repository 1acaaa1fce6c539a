/* ACPI tables for a guest: RSDP, XSDT, FADT, FACS, MADT, DSDT (ACPI 6.4,
 * chapter 5) and optionally MCFG (PCI Firmware Specification 3.2, 4.1.2),
 * built into a caller-given buffer that the guest will see at a given
 * guest-physical address.  Pure: no device emulation here, only the
 * description of the devices the hypervisor must emulate:
 *
 *   I/O 0x600-0x603  PM1a event block: PM1_STS (0x600, write 1 to clear) and
 *                    PM1_EN (0x602), 16-bit.  PM1_EN must keep what is
 *                    written: ACPICA enables GBL_EN (bit 5) and reads it
 *                    back to detect the global lock hardware
 *   I/O 0x604-0x605  PM1a control block: PM1_CNT, 16-bit.  SCI_EN (bit 0)
 *                    should read as 1; a write with SLP_EN (bit 13) and
 *                    SLP_TYP (bits 12:10) = ACPI_SLP_TYP_S5 is a power-off
 *   I/O 0x608-0x60b  PM timer (when cfg->pm_timer): 24-bit counter at
 *                    3.579545 MHz, 32-bit reads, bits 31:24 read as 0
 *   I/O 0xcf9        reset register (when cfg->reset_reg): a byte write of
 *                    ACPI_RESET_VALUE resets the VM
 *   SCI              ISA IRQ 9 = GSI 9, level-triggered, active high
 *   MMIO ECAM        (when cfg->mcfg_base) PCIe enhanced configuration
 *                    access for segment 0, buses 0..cfg->mcfg_end_bus:
 *                    (mcfg_end_bus + 1) MiB at mcfg_base, offset = bus << 20
 *                    | device << 15 | function << 12 | register.  x86
 *                    Linux (arch/x86/pci/mmconfig-shared.c) takes it up
 *                    early when the e820 map reserves the window, else
 *                    only after the ACPI namespace is up, through the
 *                    PNP0C02 device here; so the caller should reserve it
 *                    in e820 as well
 *
 * Layout in the buffer, each table at an offset aligned as ACPI requires:
 * RSDP at 0 (16-byte aligned, ACPI 6.4 5.2.5.1), FACS at 64 (64-byte
 * aligned, 5.2.10), then XSDT, FADT, MADT, MCFG (when present) and DSDT. */
#ifndef VTV_DEVICES_ACPI_H
#define VTV_DEVICES_ACPI_H

#include "lib/types.h"

#define ACPI_PM1A_EVT_PORT 0x600
#define ACPI_PM1A_CNT_PORT 0x604
#define ACPI_PM_TMR_PORT   0x608
#define ACPI_PM1_EVT_LEN   4
#define ACPI_PM1_CNT_LEN   2
#define ACPI_PM_TMR_LEN    4
#define ACPI_PM_TMR_HZ     3579545
#define ACPI_SCI_IRQ       9
#define ACPI_RESET_PORT    0xcf9
#define ACPI_RESET_VALUE   0x06

/* PM1 control register bits (ACPI 6.4 4.8.3.2.1, table 4.16). */
#define ACPI_PM1_CNT_SCI_EN        BIT(0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN        BIT(13)
/* The SLP_TYP value the DSDT's \_S5 object names. */
#define ACPI_SLP_TYP_S5 5

#define ACPI_LAPIC_ADDR      0xfee00000u
#define ACPI_IOAPIC_ADDR     0xfec00000u
#define ACPI_IOAPIC_GSI_BASE 0
/* APIC IDs 0..254 fit a Processor Local APIC entry; 255 is broadcast. */
#define ACPI_MAX_CPUS 255

/* The PCI interrupt routing the DSDT's _PRT declares for the host bridge:
 * pin (0 INTA# .. 3 INTD#) of device slot (1-31) on bus 0 is wired to
 * I/O APIC input ACPI_PCI_GSI(slot, pin), one of the eight inputs 16-23,
 * level-triggered and active-low as PCI interrupts are (a _PRT entry
 * naming a GSI directly, ACPI 6.4 6.2.13). */
#define ACPI_PCI_GSI_BASE       16
#define ACPI_PCI_GSI(slot, pin) (ACPI_PCI_GSI_BASE + (((slot) + (pin)) & 7))

/* Enough for ACPI_MAX_CPUS and every optional device. */
#define ACPI_MAX_SIZE 0x2000

struct acpi_config {
        gpa_t base;     /* where the buffer appears to the guest; 64-byte aligned */
        unsigned ncpus; /* vCPU i has APIC ID i and ACPI processor UID i */
        uint8_t ioapic_id;
        bool pm_timer;          /* declare the PM timer in the FADT */
        bool reset_reg;         /* declare the reset register in the FADT */
        bool pci;               /* a PCI host bridge (PNP0A03) for bus 0 in the DSDT */
        uint32_t pci_mmio_base; /* its 32-bit MMIO window; size 0: none */
        uint32_t pci_mmio_size;
        bool com1; /* a 16550 at 0x3f8, IRQ 4 (PNP0501) in the DSDT */
        /* PCIe ECAM window for segment 0, buses 0..mcfg_end_bus (needs pci;
         * 0: none): an MCFG table describes it, a motherboard resource
         * (PNP0C02) under the host bridge reserves it, as PCI Firmware 3.2
         * 4.1.2 requires, and the host bridge's bus range ends at
         * mcfg_end_bus so the MCFG covers all of it.  It must lie below
         * 4 GiB (Linux ignores an MCFG above 4 GiB on firmware without a
         * 2010+ DMI date) aligned to its size rounded up to a power of two
         * (PCIe Base 5.0 7.2.2), clear of the PCI MMIO window, the APICs
         * and the tables. */
        uint64_t mcfg_base;
        uint8_t mcfg_end_bus;
};

/* Guest-physical addresses and lengths of what was built. */
struct acpi_layout {
        gpa_t rsdp, facs, xsdt, fadt, madt, dsdt;
        uint32_t xsdt_len, fadt_len, madt_len, dsdt_len;
        gpa_t mcfg; /* 0 when there is no MCFG */
        uint32_t mcfg_len;
        size_t size; /* bytes of the buffer used */
        char err[160];
};

/* Builds every table into buf.  Returns NULL, or out->err saying what is
 * wrong. */
const char *acpi_build(const struct acpi_config *cfg, void *buf, size_t buf_size,
                       struct acpi_layout *out);

#endif
