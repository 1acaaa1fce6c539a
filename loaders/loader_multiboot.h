/* Multiboot (v1) ELF kernels, entered in 32-bit protected mode exactly as
 * the Multiboot Specification 0.6.96, section 3.2, describes.  Pure. */
#ifndef VTV_LOADERS_LOADER_MULTIBOOT_H
#define VTV_LOADERS_LOADER_MULTIBOOT_H

#include "loaders/guest_state.h"
#include "loaders/kernel_image.h"

#define MB_HEADER_MAGIC     0x1badb002u
#define MB_BOOTLOADER_MAGIC 0x2badb002u
#define MB_SEARCH_LIMIT     8192

/* Guest-physical layout of what the loader writes besides the kernel. */
#define MB_INFO_ADDR         0x1000
#define MB_LOADER_NAME_ADDR  0x1100
#define MB_CMDLINE_ADDR      0x1200
#define MB_MMAP_ADDR         0x1400
#define MB_MODS_ADDR         0x2000 /* the module list, 16 bytes per module */
#define MB_MODS_CMDLINES     0x2400 /* their command lines, up to MB_MODS_CMDLINES_END */
#define MB_MODS_CMDLINES_END 0x4000
#define MB_MODS_MAX          64
#define MB_STACK_TOP         0x8000
#define MB_KERNEL_MIN        KERNEL_IMAGE_MIN /* kernels load at or above 1 MiB */
#define MB_LOW_RAM_END       0x9f000          /* low RAM reported as usable */

/* The memory map both multiboot loaders give (types: 1 RAM, 2 reserved):
 * low RAM, the BIOS area with the ACPI tables reserved, RAM from 1 MiB. */
#define MB_MAP_ENTRIES 3
struct mb_region {
        uint64_t base, len;
        uint32_t type;
};
static inline void mb_memory_map(uint64_t ram, struct mb_region map[MB_MAP_ENTRIES])
{
        map[0] = (struct mb_region){ 0, MB_LOW_RAM_END, 1 };
        map[1] = (struct mb_region){ MB_LOW_RAM_END, MiB(1) - MB_LOW_RAM_END, 2 };
        map[2] = (struct mb_region){ MiB(1), ram - MiB(1), 1 };
}

#define MB_INFO_MEMORY      BIT(0)
#define MB_INFO_CMDLINE     BIT(2)
#define MB_INFO_MODS        BIT(3)
#define MB_INFO_MEM_MAP     BIT(6)
#define MB_INFO_LOADER_NAME BIT(9)

/* True when image has a valid multiboot header in its first 8 KiB. */
bool loader_multiboot_detect(const uint8_t *image, size_t len);

/* A boot module for the kernel (Multiboot Specification 3.3: mods_count,
 * mods_addr): its bytes and its command line. */
struct mb_module {
        const uint8_t *data;
        size_t len;
        const char *cmdline;
};

/* Loads the kernel, writes the information structure (memory map for a RAM
 * of mem->size bytes, command line, boot loader name "vtvisor", the
 * modules) and fills the entry state.  The nmods modules (at most
 * MB_MODS_MAX) are copied in order, each starting on a page boundary,
 * after the highest byte the kernel occupies; their list sits at
 * MB_MODS_ADDR and their command lines after it.  Returns NULL or what is
 * wrong with the image or the modules. */
const char *loader_multiboot(const uint8_t *image, size_t len, const char *cmdline,
                             const struct mb_module *mods, size_t nmods, struct guest_mem *mem,
                             struct guest_state *state);

#endif
