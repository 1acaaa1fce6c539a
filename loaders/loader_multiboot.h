/* Multiboot (v1) ELF kernels, entered in 32-bit protected mode exactly as
 * the Multiboot Specification 0.6.96, section 3.2, describes.  Pure. */
#ifndef VTV_LOADERS_LOADER_MULTIBOOT_H
#define VTV_LOADERS_LOADER_MULTIBOOT_H

#include "loaders/guest_state.h"

#define MB_HEADER_MAGIC     0x1badb002u
#define MB_BOOTLOADER_MAGIC 0x2badb002u
#define MB_SEARCH_LIMIT     8192

/* Guest-physical layout of what the loader writes besides the kernel. */
#define MB_INFO_ADDR        0x1000
#define MB_LOADER_NAME_ADDR 0x1100
#define MB_CMDLINE_ADDR     0x1200
#define MB_MMAP_ADDR        0x1400
#define MB_STACK_TOP        0x8000
#define MB_KERNEL_MIN       0x100000 /* kernels load at or above 1 MiB */
#define MB_LOW_RAM_END      0x9f000  /* low RAM reported as usable */

#define MB_INFO_MEMORY      BIT(0)
#define MB_INFO_CMDLINE     BIT(2)
#define MB_INFO_MODS        BIT(3)
#define MB_INFO_MEM_MAP     BIT(6)
#define MB_INFO_LOADER_NAME BIT(9)

/* True when image has a valid multiboot header in its first 8 KiB. */
bool loader_multiboot_detect(const uint8_t *image, size_t len);

/* Loads the kernel, writes the information structure (memory map for a RAM
 * of mem->size bytes, command line, boot loader name "vtvisor") and fills
 * the entry state.  Returns NULL or what is wrong with the image. */
const char *loader_multiboot(const uint8_t *image, size_t len, const char *cmdline,
                             struct guest_mem *mem, struct guest_state *state);

#endif
