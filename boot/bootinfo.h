/* What the boot loader told us, in one form for multiboot v1 and v2:
 * command line, physical memory map and modules.  Pure: the parsers reach
 * boot-loader memory only through an injected, bounds-checking mapper. */
#ifndef VTV_BOOT_BOOTINFO_H
#define VTV_BOOT_BOOTINFO_H

#include "lib/types.h"

#define MB1_BOOT_MAGIC 0x2badb002u
#define MB2_BOOT_MAGIC 0x36d76289u

#define BOOTINFO_MAX_REGIONS 64
#define BOOTINFO_MAX_MODULES 16
#define BOOTINFO_CMDLINE_MAX 256

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
};

/* Returns a pointer to len readable bytes at physical address pa, or NULL. */
typedef const void *(*phys_map_fn)(void *ctx, uint64_t pa, size_t len);

/* Returns NULL on success, else what is wrong with the information. */
const char *bootinfo_parse(struct bootinfo *bi, uint32_t magic, uint64_t info_pa, phys_map_fn map,
                           void *ctx);

#endif
