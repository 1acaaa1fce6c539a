/* Kernel images as the multiboot v1 and multiboot2 loaders load them: the
 * boot protocol's header found by magic and checksum, then the file's
 * parts copied into guest RAM, either by the ELF32 (i386) or ELF64
 * (x86-64) program headers or by the a.out-kludge addresses of the
 * header, with every bound checked.  The protocols' own headers, tags,
 * information structures and entry states stay in their loaders.  Pure. */
#ifndef VTV_LOADERS_KERNEL_IMAGE_H
#define VTV_LOADERS_KERNEL_IMAGE_H

#include "lib/guest_mem.h"
#include "lib/types.h"

/* A kernel may use [1 MiB, 4 GiB): below 1 MiB lie the boot information,
 * the stack and the ACPI tables, and a kernel entered in 32-bit protected
 * mode reaches nothing above 4 GiB. */
#define KERNEL_IMAGE_MIN 0x100000
#define KERNEL_IMAGE_END BIT(32)

/* What was loaded: every byte written lies in [lo, hi); entry is the
 * physical address to start at. */
struct kernel_image {
        uint64_t lo, hi;
        uint64_t entry;
};

/* The a.out-kludge addresses of a multiboot header (v1: flag 16's fields,
 * multiboot2: the address and entry address tags).  The file from
 * header_off - (header_addr - load_addr) is loaded at load_addr up to
 * load_end (0: the whole file), then zeros up to bss_end (0: none). */
struct kernel_aout {
        size_t header_off; /* the header's offset in the file */
        uint32_t header_addr, load_addr, load_end, bss_end;
        uint32_t entry;
};

/* The offset of the first header in image[0, MIN(len, limit)) at a
 * multiple of align that starts with magic and whose nwords 32-bit words
 * (the magic among them) sum to 0, or -1. */
long kernel_image_find_header(const uint8_t *image, size_t len, size_t limit, size_t align,
                              uint32_t magic, size_t nwords);

/* True when image is long enough for an ELF32 header and has the ELF
 * magic: what a loader checks before choosing the ELF path. */
bool kernel_image_is_elf(const uint8_t *image, size_t len);

/* Loads the a.out-kludge layout a describes and checks that its entry lies
 * in it.  Returns NULL or what is wrong; on error guest RAM below
 * KERNEL_IMAGE_MIN is untouched. */
const char *kernel_image_load_aout(const uint8_t *image, size_t len, const struct kernel_aout *a,
                                   struct guest_mem *mem, struct kernel_image *k);

/* Loads the PT_LOAD segments of an ELF32 file for i386, or also of an
 * ELF64 file for x86-64 when elf64, each at its physical address (the
 * multiboot specifications, 3.1.3 of each).  The entry: *header_entry
 * when not NULL (a physical address, which must lie in a loaded
 * segment), else the ELF entry, a virtual address, translated through the
 * segment that holds it.  Returns NULL or what is wrong; on error guest
 * RAM below KERNEL_IMAGE_MIN is untouched. */
const char *kernel_image_load_elf(const uint8_t *image, size_t len, bool elf64,
                                  const uint32_t *header_entry, struct guest_mem *mem,
                                  struct kernel_image *k);

#endif
