/* What the boot loader told us, in one form for multiboot v1 and v2:
 * command line, physical memory map, modules and (multiboot2 only) a copy
 * of the firmware's ACPI RSDP.  Pure: the parsers reach boot-loader memory
 * only through an injected, bounds-checking mapper. */
#ifndef VTV_BOOT_BOOTINFO_H
#define VTV_BOOT_BOOTINFO_H

#include "lib/types.h"

#define MB1_BOOT_MAGIC 0x2badb002u
#define MB2_BOOT_MAGIC 0x36d76289u

#define BOOTINFO_MAX_REGIONS 64
#define BOOTINFO_MAX_MODULES 16
#define BOOTINFO_CMDLINE_MAX 256
/* The ACPI 2.0+ RSDP is 36 bytes (ACPI 6.5, 5.2.5.3); ACPI 1.0's is 20. */
#define BOOTINFO_RSDP_MAX 36

enum mem_type { MEM_USABLE = 1, MEM_RESERVED = 2, MEM_ACPI = 3, MEM_NVS = 4, MEM_BAD = 5 };

struct mem_region {
        uint64_t base;
        uint64_t len;
        uint32_t type;
};

struct boot_module {
        uint64_t start;
        uint64_t end; /* exclusive */
        char cmdline[BOOTINFO_CMDLINE_MAX];
};

struct bootinfo {
        int protocol; /* 1 or 2 */
        char cmdline[BOOTINFO_CMDLINE_MAX];
        size_t nregions;
        struct mem_region regions[BOOTINFO_MAX_REGIONS];
        size_t nmodules;
        struct boot_module modules[BOOTINFO_MAX_MODULES];
        bool truncated; /* more regions or modules than fit */
        /* A copy of the RSDP from a multiboot2 "ACPI new RSDP" tag (type
         * 15), else from an "ACPI old RSDP" tag (type 14): the first
         * rsdp_len bytes of the tag's payload, at most BOOTINFO_RSDP_MAX,
         * not validated here (fw_acpi_rsdp_root() does that).  rsdp_tag is
         * the type of that tag; both are 0 when there was none.  A copy, so
         * the multiboot information need not be kept. */
        uint8_t rsdp[BOOTINFO_RSDP_MAX];
        size_t rsdp_len;
        uint32_t rsdp_tag;
};

/* Returns a pointer to len readable bytes at physical address pa, or NULL.
 * The parsers keep earlier results while they map more, so a pointer must
 * stay valid until the parser that asked for it returns. */
typedef const void *(*phys_map_fn)(void *ctx, uint64_t pa, size_t len);

/* Returns NULL on success, else what is wrong with the information. */
const char *bootinfo_parse(struct bootinfo *bi, uint32_t magic, uint64_t info_pa, phys_map_fn map,
                           void *ctx);

#endif
