/* Linux x86 boot protocol loader (Documentation/arch/x86/boot.rst, "64-bit
 * boot protocol"; zero-page layout from Documentation/arch/x86/zero-page.rst).
 *
 * Pure: it reads a bzImage from a byte buffer, writes the kernel, initrd,
 * boot_params, command line, a GDT and identity page tables into a host buffer
 * that stands for guest-physical [0, mem.size), and describes the vCPU state
 * in which the kernel's 64-bit entry point expects to be started.  No VMX
 * knowledge: turning the state into VMCS fields is the caller's job.
 *
 * Fixed low-memory layout (guest-physical), all inside conventional memory
 * below the 0x9d000-0x9f000 window that the decompressor borrows for its
 * paging trampoline (arch/x86/boot/compressed/pgtable_64.c), and below the
 * 16 MiB floor of physical KASLR, so nothing the kernel relocates lands on
 * it before it has switched to its own page tables and GDT:
 *
 *   0x00000-0x00fff  untouched: the decompressor reads the BIOS data area
 *                    words at 0x40e/0x413; zero there means "use defaults"
 *   0x01000          GDT, then a 64-bit TSS at +0x80
 *   0x02000          boot_params ("zero page")
 *   0x03000-0x07fff  command line buffer
 *   0x08000-0x08fff  boot stack (RSP = 0x9000)
 *   0x09000-...      PML4, PDPT, page directories (below 0x80000)
 */
#ifndef VTV_LOADERS_LOADER_LINUX_H
#define VTV_LOADERS_LOADER_LINUX_H

#include "loaders/guest_state.h"

#define LINUX_GDT_ADDR     0x1000ULL
#define LINUX_TSS_ADDR     0x1080ULL
#define LINUX_BOOT_PARAMS  0x2000ULL
#define LINUX_CMDLINE_ADDR 0x3000ULL
#define LINUX_CMDLINE_MAX  0x5000ULL /* buffer size, terminating NUL included */
#define LINUX_STACK_TOP    0x9000ULL
#define LINUX_PT_ADDR      0x9000ULL
#define LINUX_PT_LIMIT     0x80000ULL
#define LINUX_MIN_PT_COVER GiB(4) /* identity map at least the 32-bit space */

/* Selectors of the boot protocol (boot.rst: __BOOT_CS, __BOOT_DS). */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18
#define LINUX_BOOT_TR 0x20

/* e820 types (zero-page.rst, struct boot_e820_entry; ACPI 6.4 table 15.1). */
#define LINUX_E820_RAM      1
#define LINUX_E820_RESERVED 2
#define LINUX_E820_ACPI     3
#define LINUX_E820_NVS      4
#define LINUX_E820_UNUSABLE 5
/* E820_MAX_ENTRIES_ZEROPAGE: e820_table in the zero page holds 128 entries. */
#define LINUX_E820_MAX 128

/* Setup-header flags used here (boot.rst, "Details of header fields"). */
#define LINUX_LOADED_HIGH                BIT(0)
#define LINUX_CAN_USE_HEAP               BIT(7)
#define LINUX_XLF_KERNEL_64              BIT(0)
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G BIT(1)

#define LINUX_MIN_VERSION 0x020c /* 2.12: first with xloadflags */

struct linux_e820 {
        uint64_t addr;
        uint64_t size;
        uint32_t type;
};

/* What the setup header of a bzImage says, after validation. */
struct linux_image {
        uint16_t version; /* 0x020f = 2.15 */
        uint8_t setup_sects;
        uint8_t loadflags;
        uint16_t xloadflags;
        uint8_t relocatable;
        uint8_t min_alignment; /* log2 */
        uint32_t syssize;      /* 16-byte paragraphs */
        uint32_t code32_start;
        uint32_t initrd_addr_max;
        uint32_t kernel_alignment;
        uint32_t cmdline_size; /* without the terminating NUL */
        uint64_t pref_address;
        uint32_t init_size;
        uint32_t hdr_end; /* file offset just past the setup header */
        size_t pm_offset; /* file offset of the protected-mode kernel */
        size_t pm_size;   /* bytes of it in the file */
        char err[256];
};

struct linux_load_params {
        const uint8_t *kernel; /* the bzImage file */
        size_t kernel_len;
        const uint8_t *initrd; /* may be NULL when initrd_len is 0 */
        size_t initrd_len;
        const char *cmdline;  /* NULL means empty */
        struct guest_mem mem; /* guest RAM: guest-physical [0, mem.size) */
        gpa_t rsdp;           /* 0: no ACPI */
        const struct linux_e820 *e820;
        size_t e820_count;
};

/* Where everything went, all guest-physical. */
struct linux_layout {
        gpa_t kernel;         /* protected-mode kernel (= code32_start) */
        uint64_t kernel_size; /* bytes copied from the file */
        uint64_t kernel_span; /* bytes reserved: max(init_size, kernel_size) */
        gpa_t initrd;         /* 0 when there is none */
        uint64_t initrd_size;
        gpa_t boot_params;
        gpa_t cmdline;
        uint64_t cmdline_len; /* without the NUL */
        gpa_t gdt;
        gpa_t page_tables;         /* PML4 */
        uint64_t page_tables_size; /* PML4 + PDPT + page directories */
        uint64_t identity_mapped;  /* [0, identity_mapped) is mapped 1:1 */
        gpa_t stack_top;
};

/* vcpu is the state the kernel's 64-bit entry requires (boot.rst, "64-bit
 * boot protocol"), as the guest must observe it: the caller folds in the
 * VMX fixed bits (IA32_VMX_CR0/CR4_FIXED0, e.g. CR4.VMXE) and keeps the
 * guest's view in the CR read shadows, and sets the "IA-32e mode guest"
 * entry control to match EFER.LMA. */
struct linux_load_result {
        struct linux_image image;
        struct guest_state vcpu;
        struct linux_layout layout;
        char err[256];
};

/* Validates the setup header of a bzImage.  Returns NULL, or info->err
 * saying what is wrong. */
const char *linux_parse(const uint8_t *img, size_t len, struct linux_image *info);

/* Loads the kernel (and initrd) into guest RAM and fills out.  Returns NULL,
 * or out->err saying what is wrong; every check comes before the first
 * write, so on error guest RAM is untouched. */
const char *linux_load(const struct linux_load_params *p, struct linux_load_result *out);

#endif
