/* The machine's own ACPI tables, read to find its CPUs and I/O APICs: the
 * RSDP (found in the BIOS areas or handed over by the boot loader), the
 * RSDT or XSDT it points to, and the MADT listed there (ACPI 6.5, 5.2.5 to
 * 5.2.8 and 5.2.12).
 *
 * Pure: no privileged instructions and no globals; firmware memory is
 * reached only through an injected mapper (phys_map_fn, as for the boot
 * information), and every byte read from it is treated as hostile: no
 * length, count or address in the tables can make the parser read outside
 * what the mapper returned, loop without bound or overflow an integer.
 *
 * Each function returns NULL on success, or a message saying what is
 * wrong (a constant string). */
#ifndef VTV_BOOT_FW_ACPI_H
#define VTV_BOOT_FW_ACPI_H

#include "boot/bootinfo.h"
#include "lib/types.h"

#define FW_MAX_CPUS    64
#define FW_MAX_IOAPICS 8

/* Sizes of the RSDP: ACPI 1.0's (revision 0) and ACPI 2.0+'s (5.2.5.3). */
#define FW_RSDP_V1_LEN 20
#define FW_RSDP_V2_LEN 36

struct fw_cpu {
        uint32_t apic_id;    /* xAPIC ID (type 0) or x2APIC ID (type 9) */
        uint32_t acpi_uid;   /* ACPI processor UID */
        bool enabled;        /* ready for use now (flags bit 0) */
        bool online_capable; /* not enabled, but may be brought online later (flags bit 1) */
        bool x2apic_entry;   /* listed by a Processor Local x2APIC entry */
};

struct fw_ioapic {
        uint8_t id;
        uint32_t address;
        uint32_t gsi_base;
};

struct fw_madt {
        uint64_t lapic_address; /* from the MADT header, overridden by a type-5 entry */
        bool pcat_compat;       /* MADT flags bit 0: 8259s present */
        size_t ncpus;           /* usable CPUs, in MADT order (firmware should list the
                                 * boot CPU first, 5.2.12.1, but need not) */
        struct fw_cpu cpus[FW_MAX_CPUS];
        size_t nioapics;
        struct fw_ioapic ioapics[FW_MAX_IOAPICS];
        bool truncated; /* more CPUs or I/O APICs than fit */
};

/* Scans the BIOS areas for the RSDP (5.2.5.1): the first KiB of the EBDA,
 * whose real-mode segment is the 16-bit word at physical 0x40E, then
 * 0xE0000-0xFFFFF, on 16-byte boundaries, checking the signature
 * "RSD PTR ", the 20-byte checksum and, for revision >= 2, the length and
 * the extended checksum.  Returns NULL and sets *rsdp_pa; the caller then
 * maps the RSDP there (FW_RSDP_V2_LEN bytes, or the RSDP's Length) and
 * passes it to fw_acpi_rsdp_root. */
const char *fw_acpi_find_rsdp(phys_map_fn map, void *ctx, uint64_t *rsdp_pa);

/* Validates an RSDP held in memory, len bytes (e.g. the copy from a
 * multiboot2 ACPI tag, or bytes mapped at the address found above), and
 * gives the root table to use: the XSDT when the revision is >= 2 and its
 * address is not 0, else the RSDT. */
const char *fw_acpi_rsdp_root(const uint8_t *rsdp, size_t len, uint64_t *root_pa, bool *is_xsdt);

/* Walks the RSDT (4-byte entries) or XSDT (8-byte entries) at root_pa,
 * finds the MADT (signature "APIC") and fills *out from its entries:
 * Processor Local APIC (type 0), I/O APIC (1), Local APIC Address Override
 * (5) and Processor Local x2APIC (9); other types are skipped by their
 * length.  Left out: CPUs neither enabled nor online-capable (Online
 * Capable counts from MADT revision 5 on, where ACPI 6.3 defined it), the
 * broadcast IDs 0xFF (type 0) and 0xFFFFFFFF (type 9), and repeats of an
 * APIC ID already listed.  Only the first MADT listed is read.  On failure
 * *out is left all zero. */
const char *fw_acpi_parse_madt(phys_map_fn map, void *ctx, uint64_t root_pa, bool is_xsdt,
                               struct fw_madt *out);

#endif
