#include "boot/bootinfo.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* Copies a NUL-terminated string from boot-loader memory, reading it in
 * small bounded steps so an unterminated string cannot run off the map.
 * Only avail bytes belong to the string (a multiboot2 tag's payload): one
 * whose NUL is not among them is refused rather than read on into the
 * next tag. */
static bool copy_string(char *dst, size_t size, uint64_t pa, uint64_t avail, phys_map_fn map,
                        void *ctx)
{
        size_t i = 0;
        for (; i + 1 < size; i++) {
                if (i == avail)
                        return false;
                const char *c = map(ctx, pa + i, 1);
                if (!c)
                        return false;
                if (!*c)
                        break;
                dst[i] = *c;
        }
        dst[i] = '\0';
        return true;
}

static void add_region(struct bootinfo *bi, uint64_t base, uint64_t len, uint32_t type)
{
        if (bi->nregions == BOOTINFO_MAX_REGIONS) {
                bi->truncated = true;
                return;
        }
        if (type < MEM_USABLE || type > MEM_BAD)
                type = MEM_RESERVED;
        bi->regions[bi->nregions++] = (struct mem_region){ base, len, type };
}

static const char *add_module(struct bootinfo *bi, uint64_t start, uint64_t end, uint64_t cmdline,
                              uint64_t cmdline_avail, phys_map_fn map, void *ctx)
{
        if (end < start)
                return "a module ends before it starts";
        if (bi->nmodules == BOOTINFO_MAX_MODULES) {
                bi->truncated = true;
                return NULL;
        }
        struct boot_module *m = &bi->modules[bi->nmodules];
        m->start = start;
        m->end = end;
        m->cmdline[0] = '\0';
        if (cmdline &&
            !copy_string(m->cmdline, sizeof(m->cmdline), cmdline, cmdline_avail, map, ctx))
                return "a module command line is unreadable or unterminated";
        bi->nmodules++;
        return NULL;
}

/* Multiboot v1 information structure (multiboot specification 0.6.96, 3.3). */
#define MB1_INFO_MEM     BIT(0)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS    BIT(3)
#define MB1_INFO_MMAP    BIT(6)

static const char *parse_mb1(struct bootinfo *bi, uint64_t info_pa, phys_map_fn map, void *ctx)
{
        const uint8_t *info = map(ctx, info_pa, 52);
        if (!info)
                return "the multiboot information structure is unreadable";
        uint32_t flags = get32(info);

        if ((flags & MB1_INFO_CMDLINE) &&
            !copy_string(bi->cmdline, sizeof(bi->cmdline), get32(info + 16), UINT64_MAX, map, ctx))
                return "the command line is unreadable";

        if (flags & MB1_INFO_MMAP) {
                uint32_t len = get32(info + 44), addr = get32(info + 48);
                uint32_t off = 0;
                /* Each entry: u32 size (not counting itself), u64 base, u64 len, u32 type.
                 * Only whole entries inside mmap_length count; off <= len always,
                 * so nothing here can wrap. */
                while (len - off >= 24) {
                        const uint8_t *e = map(ctx, (uint64_t)addr + off, 24);
                        if (!e)
                                return "the memory map is unreadable";
                        uint32_t size = get32(e);
                        if (size < 20)
                                return "a memory map entry is too short";
                        add_region(bi, get64(e + 4), get64(e + 12), get32(e + 20));
                        if (size > len - off - 4)
                                break;
                        off += size + 4;
                }
        } else if (flags & MB1_INFO_MEM) {
                add_region(bi, 0, (uint64_t)get32(info + 4) << 10, MEM_USABLE);
                add_region(bi, MiB(1), (uint64_t)get32(info + 8) << 10, MEM_USABLE);
        } else {
                return "the boot loader gave no memory map";
        }

        if (flags & MB1_INFO_MODS) {
                uint32_t count = get32(info + 20), addr = get32(info + 24);
                if (count > 1024)
                        return "the module count is implausible";
                for (uint32_t i = 0; i < count; i++) {
                        const uint8_t *m = map(ctx, (uint64_t)addr + 16ULL * i, 16);
                        if (!m)
                                return "the module list is unreadable";
                        const char *err = add_module(bi, get32(m), get32(m + 4), get32(m + 8),
                                                     UINT64_MAX, map, ctx);
                        if (err)
                                return err;
                }
        }
        return NULL;
}

/* Multiboot2 boot information (multiboot2 specification, 3.6). */
#define MB2_TAG_END      0
#define MB2_TAG_CMDLINE  1
#define MB2_TAG_MODULE   3
#define MB2_TAG_MEMINFO  4
#define MB2_TAG_MMAP     6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

static const char *parse_mb2(struct bootinfo *bi, uint64_t info_pa, phys_map_fn map, void *ctx)
{
        const uint8_t *hdr = map(ctx, info_pa, 8);
        if (!hdr)
                return "the multiboot2 information is unreadable";
        uint32_t total = get32(hdr);
        if (total < 16)
                return "the multiboot2 information is too short";
        bool have_mmap = false, have_meminfo = false, ended = false;
        uint32_t lower = 0, upper = 0;

        /* 64-bit so that stepping past a tag near 4 GiB cannot wrap to 0. */
        for (uint64_t off = 8; off + 8 <= total;) {
                const uint8_t *tag = map(ctx, info_pa + off, 8);
                if (!tag)
                        return "a multiboot2 tag is unreadable";
                uint32_t type = get32(tag), size = get32(tag + 4);
                if (size < 8 || size > total - off)
                        return "a multiboot2 tag has a bad size";
                tag = map(ctx, info_pa + off, size);
                if (!tag)
                        return "a multiboot2 tag is unreadable";
                if (type == MB2_TAG_END) {
                        ended = true;
                        break;
                }
                switch (type) {
                case MB2_TAG_CMDLINE:
                        if (!copy_string(bi->cmdline, sizeof(bi->cmdline), info_pa + off + 8,
                                         size - 8, map, ctx))
                                return "the command line is unreadable or unterminated";
                        break;
                case MB2_TAG_MODULE: {
                        if (size < 17)
                                return "a module tag is too short";
                        const char *err = add_module(bi, get32(tag + 8), get32(tag + 12),
                                                     info_pa + off + 16, size - 16, map, ctx);
                        if (err)
                                return err;
                        break;
                }
                case MB2_TAG_MEMINFO:
                        if (size < 16)
                                return "a memory-info tag is too short";
                        lower = get32(tag + 8);
                        upper = get32(tag + 12);
                        have_meminfo = true;
                        break;
                case MB2_TAG_MMAP: {
                        if (size < 16)
                                return "a memory-map tag is too short";
                        uint32_t esize = get32(tag + 8);
                        if (esize < 24 || esize % 8)
                                return "the memory map has a bad entry size";
                        /* Compared as "fits in what is left", never as
                         * e + esize, which a huge entry size wraps round in
                         * 32 bits to a small number and so reads past the
                         * tag.  16 <= e <= size holds throughout. */
                        for (uint32_t e = 16; esize <= size - e; e += esize)
                                add_region(bi, get64(tag + e), get64(tag + e + 8),
                                           get32(tag + e + 16));
                        have_mmap = true;
                        break;
                }
                case MB2_TAG_ACPI_OLD:
                case MB2_TAG_ACPI_NEW: {
                        /* A copy of the firmware's RSDP follows the tag
                         * header: 20 bytes for ACPI 1.0, the RSDP's Length
                         * (36) for ACPI 2.0+ (multiboot2 specification,
                         * 3.6, "ACPI old RSDP" and "ACPI new RSDP").  The
                         * new one wins whatever the order of the tags. */
                        if (size - 8 < 20)
                                return "an ACPI RSDP tag is too short";
                        if (type == MB2_TAG_ACPI_OLD && bi->rsdp_tag == MB2_TAG_ACPI_NEW)
                                break;
                        size_t n = MIN(size - 8, (uint32_t)BOOTINFO_RSDP_MAX);
                        vtv_memcpy(bi->rsdp, tag + 8, n);
                        bi->rsdp_len = n;
                        bi->rsdp_tag = type;
                        break;
                }
                default:
                        break;
                }
                off += (size + 7) & ~7u;
        }
        if (!ended)
                return "the multiboot2 information has no end tag";
        if (!have_mmap) {
                if (!have_meminfo)
                        return "the boot loader gave no memory map";
                add_region(bi, 0, (uint64_t)lower << 10, MEM_USABLE);
                add_region(bi, MiB(1), (uint64_t)upper << 10, MEM_USABLE);
        }
        return NULL;
}

const char *bootinfo_parse(struct bootinfo *bi, uint32_t magic, uint64_t info_pa, phys_map_fn map,
                           void *ctx)
{
        vtv_memset(bi, 0, sizeof(*bi));
        if (magic == MB1_BOOT_MAGIC) {
                bi->protocol = 1;
                return parse_mb1(bi, info_pa, map, ctx);
        }
        if (magic == MB2_BOOT_MAGIC) {
                bi->protocol = 2;
                return parse_mb2(bi, info_pa, map, ctx);
        }
        return "not started by a multiboot boot loader (bad magic in EAX)";
}
