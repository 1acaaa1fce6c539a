/* Multiboot2 kernels, loaded as GRUB's `multiboot2` command loads them
 * (Multiboot2 Specification 1.0): the header's tags honoured or refused,
 * the ELF32/ELF64 program headers or the address tag's a.out-kludge
 * layout loaded, the boot information built as tags in guest RAM, and the
 * kernel entered in 32-bit protected mode (spec 3.3).  Pure. */
#ifndef VTV_LOADERS_LOADER_MULTIBOOT2_H
#define VTV_LOADERS_LOADER_MULTIBOOT2_H

#include "loaders/guest_state.h"
#include "loaders/loader_multiboot.h"

#define MB2_HEADER_MAGIC     0xe85250d6u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_SEARCH_LIMIT     32768 /* the header lies wholly in the first 32 KiB */
#define MB2_ARCH_I386        0

/* Header tags (spec 3.1.3-3.1.12); flags bit 0: the tag is optional. */
#define MB2_HTAG_END           0
#define MB2_HTAG_INFO_REQUEST  1
#define MB2_HTAG_ADDRESS       2
#define MB2_HTAG_ENTRY         3
#define MB2_HTAG_CONSOLE_FLAGS 4
#define MB2_HTAG_FRAMEBUFFER   5
#define MB2_HTAG_MODULE_ALIGN  6
#define MB2_HTAG_EFI_BS        7
#define MB2_HTAG_ENTRY_EFI32   8
#define MB2_HTAG_ENTRY_EFI64   9
#define MB2_HTAG_RELOCATABLE   10
#define MB2_HTAG_OPTIONAL      BIT(0)

/* Boot information tags (spec 3.6). */
#define MB2_TAG_END            0
#define MB2_TAG_CMDLINE        1
#define MB2_TAG_LOADER_NAME    2
#define MB2_TAG_MODULE         3
#define MB2_TAG_BASIC_MEMINFO  4
#define MB2_TAG_MMAP           6
#define MB2_TAG_ACPI_OLD       14
#define MB2_TAG_ACPI_NEW       15
#define MB2_TAG_LOAD_BASE_ADDR 21

/* Guest-physical layout: the boot information from MB2_INFO_ADDR, at most
 * up to MB2_INFO_END, below the stack vtvisor leaves in ESP (the spec
 * leaves ESP undefined); the kernel at or above 1 MiB, the modules after
 * it on page boundaries. */
#define MB2_INFO_ADDR  0x1000
#define MB2_INFO_END   0x7000
#define MB2_STACK_TOP  0x8000
#define MB2_KERNEL_MIN KERNEL_IMAGE_MIN
#define MB2_MODS_MAX   MB_MODS_MAX

/* True when image has a multiboot2 header (magic and checksum) at an
 * 8-byte aligned offset in its first 32 KiB. */
bool loader_multiboot2_detect(const uint8_t *image, size_t len);

struct mb2_params {
        const uint8_t *image;
        size_t len;
        const char *cmdline;
        const struct mb_module *mods; /* nmods (at most MB2_MODS_MAX), in order */
        size_t nmods;
        /* The VM's ACPI RSDP (rsdp_len bytes: 20 for revision 0, 36 from
         * revision 2), or NULL when it has no ACPI tables.  Copied before
         * anything is written to guest RAM. */
        const uint8_t *rsdp;
        size_t rsdp_len;
        char err[160]; /* out: where a refusal that names a number is written */
};

/* Loads the kernel and its modules, writes the boot information at
 * MB2_INFO_ADDR (tags in this order: load base address, command line, boot
 * loader name "vtvisor", one per module, basic memory information, memory
 * map, ACPI old and new RSDP when there are ACPI tables, end) and fills
 * the entry state: EAX 0x36d76289, EBX the information, ESP MB2_STACK_TOP.
 * Returns NULL or what is wrong with the image, its header or the modules
 * (a static string or p->err); on error neither the information area nor
 * *state is written. */
const char *loader_multiboot2(struct mb2_params *p, struct guest_mem *mem,
                              struct guest_state *state);

#endif
