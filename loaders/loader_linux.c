#include "loaders/loader_linux.h"
#include "lib/bytes.h"
#include "lib/printf.h"
#include "lib/string.h"

/* Setup-header fields, as file offsets (= zero-page offsets), from boot.rst
 * "The real-mode kernel header". */
#define HDR_START            0x1f1
#define HDR_SETUP_SECTS      0x1f1
#define HDR_SYSSIZE          0x1f4
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP             0x200
#define HDR_MAGIC            0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_HEAP_END_PTR     0x224
#define HDR_EXT_LOADER_VER   0x226
#define HDR_EXT_LOADER_TYPE  0x227
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_MIN_ALIGNMENT    0x235
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_HW_SUBARCH       0x23c
#define HDR_HW_SUBARCH_DATA  0x240
#define HDR_PAYLOAD_OFFSET   0x248
#define HDR_PAYLOAD_LENGTH   0x24c
#define HDR_SETUP_DATA       0x250
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260
/* init_size is the last field this loader reads: present since 2.10. */
#define HDR_MIN_END 0x264
/* The zero page's header area ends where edd_mbr_sig_buffer starts. */
#define HDR_MAX_END 0x290

/* Zero-page fields outside the setup header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_E820_TABLE        0x2d0
#define BP_E820_ENTRY_SIZE   20
#define BP_SIZE              0x1000

#define BOOT_FLAG_MAGIC      0xaa55
#define LINUX_KEEP_SEGMENTS  BIT(6)
#define TYPE_OF_LOADER_UNDEF 0xff
#define ENTRY_64_OFFSET      0x200
/* boot.rst's sample loader: heap_end = 0xe000 for protocol >= 2.02 with
 * LOADED_HIGH; heap_end_ptr = heap_end - 0x200.  Only the 16-bit setup code
 * reads it, and the 64-bit entry skips that code. */
#define HEAP_END_PTR          0xde00
#define ACPI_RSDP_MIN_VERSION 0x020e /* acpi_rsdp_addr: protocol 2.14 */

/* Paging-structure bits (SDM Vol. 3A 4.5, tables 4-14 to 4-18). */
#define PTE_P  BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

#define CR0_PE     BIT(0)
#define CR0_ET     BIT(4)
#define CR0_NE     BIT(5)
#define CR0_PG     BIT(31)
#define CR4_PAE    BIT(5)
#define EFER_LME   BIT(8)
#define EFER_LMA   BIT(10)
#define RFLAGS_MB1 BIT(1)

/* Descriptor access bytes and flag nibbles (SDM Vol. 3A 3.4.5, 7.2.3).
 * The accessed bit is preset so the CPU never writes the GDT, and so the
 * VMCS access rights match it (VM entry requires accessed code/data
 * segments, SDM Vol. 3C 26.3.1.2). */
#define ACC_CODE64 0x9b /* P, DPL0, S, execute/read, accessed */
#define ACC_DATA   0x93 /* P, DPL0, S, read/write, accessed */
#define ACC_TSS64  0x8b /* P, DPL0, 64-bit TSS busy */
#define FLG_CODE64 0xa  /* G, L */
#define FLG_DATA   0xc  /* G, D/B */
#define FLG_TSS    0x0
#define TSS_SIZE   0x68
#define TSS_IOPB   0x66 /* I/O map base at the limit: no I/O bitmap */
#define GDT_SLOTS  6    /* null, null, CS, DS, 16-byte TSS descriptor */

static bool is_pow2(uint64_t x)
{
        return x && !(x & (x - 1));
}

#define FAIL(buf, ...) (vtv_snprintf((buf), sizeof(buf), __VA_ARGS__), (const char *)(buf))

const char *linux_parse(const uint8_t *img, size_t len, struct linux_image *info)
{
        vtv_memset(info, 0, sizeof(*info));

        if (len < HDR_VERSION + 2)
                return FAIL(info->err,
                            "kernel file too short: %zu bytes, a bzImage's setup header "
                            "needs at least 0x%x",
                            len, HDR_VERSION + 2);
        if (get16(img + HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC)
                return FAIL(info->err,
                            "boot_flag at 0x1fe is 0x%04x, not 0xaa55: not a Linux "
                            "kernel image",
                            get16(img + HDR_BOOT_FLAG));
        if (vtv_memcmp(img + HDR_MAGIC, "HdrS", 4) != 0)
                return FAIL(info->err, "no \"HdrS\" magic at 0x202: not a bzImage, or boot "
                                       "protocol older than 2.00");
        info->version = get16(img + HDR_VERSION);
        if (info->version < LINUX_MIN_VERSION)
                return FAIL(info->err,
                            "boot protocol %u.%02u is older than 2.12: no xloadflags, so no "
                            "64-bit entry point",
                            info->version >> 8, info->version & 0xff);
        /* boot.rst: the header ends at 0x202 + the byte at 0x201, the
         * displacement of the short jump at 0x200. */
        if (img[HDR_JUMP] != 0xeb)
                return FAIL(info->err,
                            "byte at 0x200 is 0x%02x, not a short jump (0xeb): cannot find "
                            "the end of the setup header",
                            img[HDR_JUMP]);
        info->hdr_end = HDR_MAGIC + img[HDR_JUMP + 1];
        if (info->hdr_end < HDR_MIN_END)
                return FAIL(info->err,
                            "setup header ends at 0x%x, before init_size (0x260) which "
                            "protocol %u.%02u must have",
                            info->hdr_end, info->version >> 8, info->version & 0xff);
        if (info->hdr_end > HDR_MAX_END)
                return FAIL(info->err,
                            "setup header claims to end at 0x%x, past the zero page's "
                            "header area (0x%x)",
                            info->hdr_end, HDR_MAX_END);
        if (len < info->hdr_end)
                return FAIL(info->err,
                            "kernel file truncated: %zu bytes, but the setup header ends "
                            "at 0x%x",
                            len, info->hdr_end);

        /* boot.rst: setup_sects == 0 means 4; the protected-mode kernel
         * follows the boot sector and the setup sectors. */
        info->setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
        info->pm_offset = ((size_t)info->setup_sects + 1) * 512;
        info->syssize = get32(img + HDR_SYSSIZE);
        info->loadflags = img[HDR_LOADFLAGS];
        info->code32_start = get32(img + HDR_CODE32_START);
        info->initrd_addr_max = get32(img + HDR_INITRD_ADDR_MAX);
        info->kernel_alignment = get32(img + HDR_KERNEL_ALIGNMENT);
        info->relocatable = img[HDR_RELOCATABLE];
        info->min_alignment = img[HDR_MIN_ALIGNMENT];
        info->xloadflags = get16(img + HDR_XLOADFLAGS);
        info->cmdline_size = get32(img + HDR_CMDLINE_SIZE);
        info->pref_address = get64(img + HDR_PREF_ADDRESS);
        info->init_size = get32(img + HDR_INIT_SIZE);

        if (len <= info->pm_offset)
                return FAIL(info->err,
                            "kernel file truncated: %zu bytes, but the setup code "
                            "(%u sectors) ends at 0x%zx and no protected-mode kernel follows",
                            len, info->setup_sects, info->pm_offset);
        info->pm_size = len - info->pm_offset;
        if ((uint64_t)info->syssize * 16 > info->pm_size)
                return FAIL(info->err,
                            "kernel file truncated: the protected-mode kernel has %zu bytes, "
                            "syssize says %llu",
                            info->pm_size, (unsigned long long)info->syssize * 16);
        uint64_t payload_end =
            (uint64_t)get32(img + HDR_PAYLOAD_OFFSET) + get32(img + HDR_PAYLOAD_LENGTH);
        if (payload_end > info->pm_size)
                return FAIL(info->err,
                            "kernel file truncated: the compressed payload ends at 0x%llx "
                            "of the protected-mode kernel, which has %zu bytes",
                            (unsigned long long)payload_end, info->pm_size);
        if (info->pm_size <= ENTRY_64_OFFSET)
                return FAIL(info->err,
                            "kernel file truncated: the protected-mode kernel has %zu bytes, "
                            "none at the 64-bit entry point (offset 0x200)",
                            info->pm_size);
        if (!(info->loadflags & LINUX_LOADED_HIGH))
                return FAIL(info->err,
                            "loadflags 0x%02x lacks LOADED_HIGH: a zImage that runs below "
                            "1 MiB, not supported",
                            info->loadflags);
        if (!(info->xloadflags & LINUX_XLF_KERNEL_64))
                return FAIL(info->err,
                            "xloadflags 0x%04x lacks XLF_KERNEL_64: the kernel has no 64-bit "
                            "entry point",
                            info->xloadflags);
        if (!is_pow2(info->kernel_alignment))
                return FAIL(info->err, "kernel_alignment 0x%x is not a power of two",
                            info->kernel_alignment);
        if (info->init_size == 0)
                return FAIL(info->err, "init_size is 0: the kernel does not say how much "
                                       "memory it needs to boot");
        return NULL;
}

/* True when [addr, addr+size) is covered by usable e820 entries (adjacent
 * ones chain, in any order) and lies inside RAM. */
static bool usable(const struct linux_load_params *p, uint64_t addr, uint64_t size)
{
        if (!range_within(addr, size, 0, p->mem.size))
                return false;
        uint64_t cur = addr, end = addr + size;
        while (cur < end) {
                bool found = false;
                for (size_t i = 0; i < p->e820_count; i++) {
                        const struct linux_e820 *e = &p->e820[i];
                        if (e->type == LINUX_E820_RAM && e->addr <= cur &&
                            cur - e->addr < e->size) {
                                cur = e->addr + e->size;
                                found = true;
                                break;
                        }
                }
                if (!found)
                        return false;
        }
        return true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
        return a < b + blen && b < a + alen;
}

/* The kernel must not start below pref_address: for x86-64 that is
 * LOAD_PHYSICAL_ADDR, and the decompressor moves a kernel loaded lower up
 * to it anyway (arch/x86/boot/compressed/head_64.S), onto memory this
 * loader would not have reserved.  So: pref_address if it fits, else the
 * lowest address above it aligned to kernel_alignment.  Kept below 4 GiB,
 * where code32_start can hold it. */
static bool place_kernel(const struct linux_load_params *p, const struct linux_image *im,
                         uint64_t span, uint64_t floor, uint64_t *out)
{
        if (im->pref_address >= floor && range_within(im->pref_address, span, 0, GiB(4)) &&
            usable(p, im->pref_address, span)) {
                *out = im->pref_address;
                return true;
        }
        if (!im->relocatable)
                return false;
        uint64_t lowest = MAX(im->pref_address, floor);
        uint64_t start = ALIGN_UP(lowest, im->kernel_alignment);
        if (start < lowest)
                return false; /* a pref_address near 2^64: the alignment wrapped */
        bool found = false;
        for (size_t i = 0; i < p->e820_count; i++) {
                uint64_t c = ALIGN_UP(MAX(p->e820[i].addr, start), im->kernel_alignment);
                if (p->e820[i].type != LINUX_E820_RAM || c < p->e820[i].addr)
                        continue; /* not RAM, or the alignment wrapped */
                if (!range_within(c, span, 0, GiB(4)) || !usable(p, c, span))
                        continue;
                if (!found || c < *out)
                        *out = c;
                found = true;
        }
        return found;
}

/* As high as possible below limit (boot.rst recommends the initrd high),
 * page-aligned, clear of the kernel's span and of the boot data below
 * floor.  The best spot ends at the top of some RAM entry or limit, or just
 * below the kernel, so only those candidates are tried. */
static bool place_initrd(const struct linux_load_params *p, uint64_t size, uint64_t limit,
                         uint64_t floor, uint64_t kaddr, uint64_t kspan, uint64_t *out)
{
        bool found = false;
        for (size_t i = 0; i <= p->e820_count; i++) {
                uint64_t top;
                if (i < p->e820_count) {
                        if (p->e820[i].type != LINUX_E820_RAM)
                                continue;
                        top = MIN(p->e820[i].addr + p->e820[i].size, limit);
                } else {
                        top = MIN(kaddr, limit);
                }
                if (top < size)
                        continue;
                uint64_t c = ALIGN_DOWN(top - size, PAGE_SIZE);
                if (c < floor || !usable(p, c, size) || overlaps(c, size, kaddr, kspan))
                        continue;
                if (!found || c > *out)
                        *out = c;
                found = true;
        }
        return found;
}

static uint64_t gdt_desc(uint64_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
        return (limit & 0xffffULL) | (base & 0xffffffULL) << 16 | (uint64_t)access << 40 |
               (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
               ((base >> 24) & 0xffULL) << 56;
}

static struct seg_state seg(uint16_t sel, uint64_t base, uint32_t limit, uint8_t access,
                            uint8_t flags)
{
        struct seg_state s = {
                .sel = sel,
                .base = base,
                .limit = limit,
                .ar = access | (uint32_t)flags << 12,
        };
        return s;
}

static void build_gdt(uint8_t *ram)
{
        uint8_t *gdt = ram + LINUX_GDT_ADDR;
        put64(gdt + LINUX_BOOT_CS, gdt_desc(0, 0xfffff, ACC_CODE64, FLG_CODE64));
        put64(gdt + LINUX_BOOT_DS, gdt_desc(0, 0xfffff, ACC_DATA, FLG_DATA));
        /* A 64-bit TSS descriptor is 16 bytes; the upper half holds base
         * bits 63:32 (SDM Vol. 3A 7.2.3). */
        put64(gdt + LINUX_BOOT_TR, gdt_desc(LINUX_TSS_ADDR, TSS_SIZE - 1, ACC_TSS64, FLG_TSS));
        put64(gdt + LINUX_BOOT_TR + 8, LINUX_TSS_ADDR >> 32);
        put16(ram + LINUX_TSS_ADDR + TSS_IOPB, TSS_SIZE);
}

/* Identity map [0, cover) with 2 MiB pages: one PML4, one PDPT per 512 GiB,
 * one page directory per GiB, laid out in that order from LINUX_PT_ADDR. */
static void build_page_tables(uint8_t *ram, uint64_t cover)
{
        uint64_t npd = cover / GiB(1), npdpt = (npd + 511) / 512;
        gpa_t pml4 = LINUX_PT_ADDR, pdpt0 = pml4 + PAGE_SIZE, pd0 = pdpt0 + npdpt * PAGE_SIZE;

        for (uint64_t i = 0; i < npdpt; i++)
                put64(ram + pml4 + i * 8, (pdpt0 + i * PAGE_SIZE) | PTE_P | PTE_RW);
        for (uint64_t i = 0; i < npd; i++) {
                put64(ram + pdpt0 + i * 8, (pd0 + i * PAGE_SIZE) | PTE_P | PTE_RW);
                for (uint64_t j = 0; j < 512; j++)
                        put64(ram + pd0 + i * PAGE_SIZE + j * 8,
                              (i * GiB(1) + j * MiB(2)) | PTE_P | PTE_RW | PTE_PS);
        }
}

static void fill_boot_params(const struct linux_load_params *p, const struct linux_image *im,
                             const struct linux_layout *l)
{
        uint8_t *bp = p->mem.base + LINUX_BOOT_PARAMS;

        /* boot.rst, 64-bit boot protocol: zero the page, copy the setup
         * header in, then fill what a loader fills. */
        vtv_memcpy(bp + HDR_START, p->kernel + HDR_START, im->hdr_end - HDR_START);
        bp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEF;
        bp[HDR_EXT_LOADER_VER] = 0;
        bp[HDR_EXT_LOADER_TYPE] = 0;
        bp[HDR_LOADFLAGS] = (uint8_t)((im->loadflags | LINUX_CAN_USE_HEAP) & ~LINUX_KEEP_SEGMENTS);
        put16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR);
        put32(bp + HDR_CODE32_START, (uint32_t)l->kernel);
        put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)l->initrd);
        put32(bp + HDR_RAMDISK_SIZE, (uint32_t)l->initrd_size);
        put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(l->initrd >> 32));
        put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(l->initrd_size >> 32));
        put32(bp + HDR_CMD_LINE_PTR, (uint32_t)l->cmdline);
        put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(l->cmdline >> 32));
        put32(bp + HDR_HW_SUBARCH, 0); /* X86_SUBARCH_PC */
        put64(bp + HDR_HW_SUBARCH_DATA, 0);
        put64(bp + HDR_SETUP_DATA, 0); /* no setup_data list */
        if (im->version >= ACPI_RSDP_MIN_VERSION)
                put64(bp + BP_ACPI_RSDP_ADDR, p->rsdp);

        bp[BP_E820_ENTRIES] = (uint8_t)p->e820_count;
        for (size_t i = 0; i < p->e820_count; i++) {
                uint8_t *e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
                put64(e, p->e820[i].addr);
                put64(e + 8, p->e820[i].size);
                put32(e + 16, p->e820[i].type);
        }
}

static void fill_vcpu(struct guest_state *v, const struct linux_layout *l)
{
        vtv_memset(v, 0, sizeof(*v));
        v->rip = l->kernel + ENTRY_64_OFFSET;
        v->gpr[RSI] = l->boot_params;
        v->gpr[RSP] = l->stack_top;
        /* IF = 0: boot.rst requires interrupts disabled at entry. */
        v->rflags = RFLAGS_MB1;
        /* Long mode needs PE, PG, CR4.PAE and EFER.LME (SDM Vol. 3A 10.8.5);
         * LMA is what the CPU then reports, and VM entry takes it from the
         * "IA-32e mode guest" control, which must agree.  ET is fixed to 1
         * on every CPU since the 486; NE selects native x87 error
         * reporting, which Linux expects and which VMX requires anyway
         * (IA32_VMX_CR0_FIXED0).  EFER.NXE stays 0: these tables never set
         * XD, and the kernel sets NXE itself once it has checked CPUID
         * (arch/x86/kernel/head_64.S), so the guest's CPUID stays the only
         * authority on NX. */
        v->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
        v->cr3 = l->page_tables;
        v->cr4 = CR4_PAE;
        v->efer = EFER_LME | EFER_LMA;
        /* boot.rst: CS = __BOOT_CS, DS = ES = SS = __BOOT_DS, 4 GiB flat.
         * FS and GS get the same flat data segment. */
        v->cs = seg(LINUX_BOOT_CS, 0, 0xffffffff, ACC_CODE64, FLG_CODE64);
        v->ds = seg(LINUX_BOOT_DS, 0, 0xffffffff, ACC_DATA, FLG_DATA);
        v->es = v->ds;
        v->ss = v->ds;
        v->fs = v->ds;
        v->gs = v->ds;
        /* VM entry needs a usable busy TSS in TR (SDM Vol. 3C 26.3.1.2);
         * this one is real, in the GDT. */
        v->tr = seg(LINUX_BOOT_TR, LINUX_TSS_ADDR, TSS_SIZE - 1, ACC_TSS64, FLG_TSS);
        v->ldtr.ar = AR_UNUSABLE;
        v->gdtr_base = LINUX_GDT_ADDR;
        v->gdtr_limit = GDT_SLOTS * 8 - 1;
        /* An empty IDT: any exception before the kernel loads its own is a
         * triple fault, which the hypervisor sees as an exit. */
        v->idtr_base = 0;
        v->idtr_limit = 0;
}

const char *linux_load(const struct linux_load_params *p, struct linux_load_result *out)
{
        vtv_memset(out, 0, sizeof(*out));
        struct linux_image *im = &out->image;
        struct linux_layout *l = &out->layout;

        if (linux_parse(p->kernel, p->kernel_len, im))
                return FAIL(out->err, "%s", im->err);
        if (p->e820_count == 0)
                return FAIL(out->err, "the e820 map is empty");
        if (p->e820_count > LINUX_E820_MAX)
                return FAIL(out->err, "the e820 map has %zu entries; the zero page holds %u",
                            p->e820_count, LINUX_E820_MAX);
        for (size_t i = 0; i < p->e820_count; i++) {
                if (p->e820[i].addr + p->e820[i].size < p->e820[i].addr)
                        return FAIL(out->err, "e820 entry %zu at 0x%llx wraps around", i,
                                    (unsigned long long)p->e820[i].addr);
        }

        /* Boot data and page tables. */
        uint64_t cover = ALIGN_UP(MAX(p->mem.size, LINUX_MIN_PT_COVER), GiB(1));
        uint64_t npd = cover / GiB(1), npdpt = (npd + 511) / 512;
        uint64_t pt_size = (1 + npdpt + npd) * PAGE_SIZE;
        if (LINUX_PT_ADDR + pt_size > LINUX_PT_LIMIT)
                return FAIL(out->err,
                            "RAM of %llu MiB needs %llu KiB of identity page tables, more "
                            "than fit between 0x%llx and 0x%llx",
                            (unsigned long long)(p->mem.size >> 20),
                            (unsigned long long)(pt_size >> 10), LINUX_PT_ADDR, LINUX_PT_LIMIT);
        uint64_t low_end = LINUX_PT_ADDR + pt_size;
        if (p->mem.size < low_end)
                return FAIL(out->err,
                            "RAM too small: %llu bytes, the boot data alone needs up to 0x%llx",
                            (unsigned long long)p->mem.size, (unsigned long long)low_end);
        if (!usable(p, LINUX_GDT_ADDR, low_end - LINUX_GDT_ADDR))
                return FAIL(out->err,
                            "the e820 map does not mark [0x%llx, 0x%llx) as usable RAM; the "
                            "loader puts the GDT, boot_params, command line, stack and page "
                            "tables there",
                            LINUX_GDT_ADDR, (unsigned long long)low_end);

        const char *cmdline = p->cmdline ? p->cmdline : "";
        size_t cmdlen = vtv_strlen(cmdline);
        /* boot.rst: cmdline_size is the maximum without the NUL. */
        if (cmdlen > im->cmdline_size)
                return FAIL(out->err,
                            "command line is %zu bytes; the kernel accepts at most %u "
                            "(cmdline_size)",
                            cmdlen, im->cmdline_size);
        if (cmdlen + 1 > LINUX_CMDLINE_MAX)
                return FAIL(out->err, "command line is %zu bytes; the loader's buffer holds %llu",
                            cmdlen, LINUX_CMDLINE_MAX - 1);

        /* The kernel needs init_size bytes from its load address for
         * decompression and its early boot (boot.rst, init_size). */
        l->kernel_size = im->pm_size;
        l->kernel_span = MAX((uint64_t)im->init_size, (uint64_t)im->pm_size);
        if (!place_kernel(p, im, l->kernel_span, MAX(low_end, MiB(1)), &l->kernel)) {
                if (!im->relocatable)
                        return FAIL(out->err,
                                    "RAM too small: the kernel is not relocatable and needs "
                                    "usable RAM at [0x%llx, 0x%llx) (pref_address + "
                                    "init_size); RAM ends at 0x%llx",
                                    (unsigned long long)im->pref_address,
                                    (unsigned long long)(im->pref_address + l->kernel_span),
                                    (unsigned long long)p->mem.size);
                return FAIL(out->err,
                            "RAM too small: no usable RAM below 4 GiB holds the kernel's "
                            "0x%llx bytes (init_size) at a 0x%x-aligned address from "
                            "pref_address 0x%llx, so RAM must end at 0x%llx or above; it ends "
                            "at 0x%llx",
                            (unsigned long long)l->kernel_span, im->kernel_alignment,
                            (unsigned long long)im->pref_address,
                            (unsigned long long)(im->pref_address + l->kernel_span),
                            (unsigned long long)p->mem.size);
        }

        if (p->initrd_len) {
                /* initrd_addr_max is the highest address the initrd may
                 * occupy (boot.rst), so its end may be one past it. */
                uint64_t limit = MIN((uint64_t)im->initrd_addr_max + 1, p->mem.size);
                if (!place_initrd(p, p->initrd_len, limit, low_end, l->kernel, l->kernel_span,
                                  &l->initrd))
                        return FAIL(out->err,
                                    "initrd of %zu bytes does not fit in usable RAM below "
                                    "0x%llx (initrd_addr_max 0x%x, RAM ends at 0x%llx) "
                                    "beside the kernel at [0x%llx, 0x%llx)",
                                    p->initrd_len, (unsigned long long)limit, im->initrd_addr_max,
                                    (unsigned long long)p->mem.size, (unsigned long long)l->kernel,
                                    (unsigned long long)(l->kernel + l->kernel_span));
                l->initrd_size = p->initrd_len;
        }

        l->boot_params = LINUX_BOOT_PARAMS;
        l->cmdline = LINUX_CMDLINE_ADDR;
        l->cmdline_len = cmdlen;
        l->gdt = LINUX_GDT_ADDR;
        l->page_tables = LINUX_PT_ADDR;
        l->page_tables_size = pt_size;
        l->identity_mapped = cover;
        l->stack_top = LINUX_STACK_TOP;

        vtv_memset(p->mem.base + LINUX_GDT_ADDR, 0, low_end - LINUX_GDT_ADDR);
        build_gdt(p->mem.base);
        vtv_memcpy(p->mem.base + LINUX_CMDLINE_ADDR, cmdline, cmdlen + 1);
        build_page_tables(p->mem.base, cover);
        vtv_memcpy(p->mem.base + l->kernel, p->kernel + im->pm_offset, im->pm_size);
        if (p->initrd_len)
                vtv_memcpy(p->mem.base + l->initrd, p->initrd, p->initrd_len);
        fill_boot_params(p, im, l);
        fill_vcpu(&out->vcpu, l);
        return NULL;
}
