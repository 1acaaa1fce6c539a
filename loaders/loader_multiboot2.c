#include "loaders/loader_multiboot2.h"
#include "lib/bytes.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "loaders/kernel_image.h"

/* Messages that name a number are formatted into the caller's p->err. */
#define FAIL(...) (vtv_snprintf(p->err, sizeof(p->err), __VA_ARGS__), (const char *)p->err)

#define HDR_FIXED 16 /* magic, architecture, header_length, checksum */
#define TAG_ALIGN 8

#define CONSOLE_REQUIRED BIT(0) /* console flags tag: a console must be present */

#define ACPI_OLD_LEN 20 /* the ACPI 1.0 RSDP */
#define ACPI_NEW_LEN 36 /* the ACPI 2.0 RSDP */

/* What the header asks for, once its tags have been checked. */
struct mb2_header {
        size_t off;
        bool has_address; /* address tag: a.out-kludge layout */
        uint32_t header_addr, load_addr, load_end, bss_end;
        bool has_entry; /* entry address tag */
        uint32_t entry;
};

static long find_header(const uint8_t *image, size_t len)
{
        return kernel_image_find_header(image, len, MB2_SEARCH_LIMIT, TAG_ALIGN, MB2_HEADER_MAGIC,
                                        HDR_FIXED / 4);
}

bool loader_multiboot2_detect(const uint8_t *image, size_t len)
{
        return find_header(image, len) >= 0;
}

/* Names of the boot information tags vtvisor never gives, for refusals. */
static const char *info_name(uint32_t type)
{
        static const char *const names[] = {
                [5] = "BIOS boot device",
                [7] = "VBE information",
                [8] = "framebuffer information",
                [9] = "ELF sections",
                [10] = "APM table",
                [11] = "EFI 32-bit system table",
                [12] = "EFI 64-bit system table",
                [13] = "SMBIOS tables",
                [14] = "ACPI old RSDP",
                [15] = "ACPI new RSDP",
                [16] = "networking information",
                [17] = "EFI memory map",
                [18] = "EFI boot services not terminated",
                [19] = "EFI 32-bit image handle",
                [20] = "EFI 64-bit image handle",
        };
        return type < ARRAY_SIZE(names) && names[type] ? names[type] : "an unknown tag";
}

static bool acpi_new_ok(const uint8_t *rsdp, size_t rsdp_len)
{
        return rsdp && rsdp_len >= ACPI_NEW_LEN && rsdp[15] >= 2;
}

static bool can_give(uint32_t type, const struct mb2_params *p)
{
        switch (type) {
        case MB2_TAG_END:
        case MB2_TAG_CMDLINE:
        case MB2_TAG_LOADER_NAME:
        case MB2_TAG_MODULE:
        case MB2_TAG_BASIC_MEMINFO:
        case MB2_TAG_MMAP:
        case MB2_TAG_LOAD_BASE_ADDR:
                return true;
        case MB2_TAG_ACPI_OLD:
                return p->rsdp && p->rsdp_len >= ACPI_OLD_LEN;
        case MB2_TAG_ACPI_NEW:
                return acpi_new_ok(p->rsdp, p->rsdp_len);
        default:
                return false;
        }
}

/* Checks every header tag (spec 3.1.3-3.1.12) up to the end tag. */
static const char *parse_tags(const uint8_t *image, size_t end, struct mb2_params *p,
                              struct mb2_header *h)
{
        static const uint32_t min_size[] = {
                [MB2_HTAG_END] = 8,
                [MB2_HTAG_INFO_REQUEST] = 8,
                [MB2_HTAG_ADDRESS] = 24,
                [MB2_HTAG_ENTRY] = 12,
                [MB2_HTAG_CONSOLE_FLAGS] = 12,
                [MB2_HTAG_FRAMEBUFFER] = 20,
                [MB2_HTAG_MODULE_ALIGN] = 8,
                [MB2_HTAG_EFI_BS] = 8,
                [MB2_HTAG_ENTRY_EFI32] = 12,
                [MB2_HTAG_ENTRY_EFI64] = 12,
                [MB2_HTAG_RELOCATABLE] = 24,
        };
        uint64_t t = h->off + HDR_FIXED;
        for (;;) {
                if (t + 8 > end)
                        return "the multiboot2 header has no end tag within its header_length";
                const uint8_t *tag = image + t;
                uint32_t type = get16(tag), size = get32(tag + 4);
                bool optional = get16(tag + 2) & MB2_HTAG_OPTIONAL;
                uint32_t need = type < ARRAY_SIZE(min_size) ? min_size[type] : 8;
                if (size < need || size > end - t)
                        return FAIL("multiboot2 header tag %u (at file offset 0x%llx) has size %u, "
                                    "%s",
                                    type, (unsigned long long)t, size,
                                    size < need ? "too small for its fields"
                                                : "past the end of the header");
                switch (type) {
                case MB2_HTAG_END:
                        if (size != 8)
                                return "the multiboot2 header's end tag does not have size 8";
                        return NULL;
                case MB2_HTAG_INFO_REQUEST:
                        if ((size - 8) % 4)
                                return "the multiboot2 information request tag's size is not 8 "
                                       "plus a multiple of 4";
                        for (uint32_t i = 8; i < size && !optional; i += 4) {
                                uint32_t want = get32(tag + i);
                                if (!can_give(want, p))
                                        return FAIL("the kernel requires boot information "
                                                    "vtvisor cannot give: %s (tag type %u)%s",
                                                    info_name(want), want,
                                                    (want == MB2_TAG_ACPI_OLD ||
                                                     want == MB2_TAG_ACPI_NEW) &&
                                                            !p->rsdp
                                                        ? "; this VM has no ACPI tables "
                                                          "(lower ram=)"
                                                        : "");
                        }
                        break;
                case MB2_HTAG_ADDRESS:
                        h->has_address = true;
                        h->header_addr = get32(tag + 8);
                        h->load_addr = get32(tag + 12);
                        h->load_end = get32(tag + 16);
                        h->bss_end = get32(tag + 20);
                        break;
                case MB2_HTAG_ENTRY:
                        h->has_entry = true;
                        h->entry = get32(tag + 8);
                        break;
                case MB2_HTAG_CONSOLE_FLAGS:
                        if (get32(tag + 8) & CONSOLE_REQUIRED)
                                return "the kernel requires a console (multiboot2 console flags "
                                       "bit 0), but vtvisor gives no EGA text or framebuffer "
                                       "console (only a serial port)";
                        break;
                case MB2_HTAG_FRAMEBUFFER:
                        if (!optional)
                                return "the kernel requires a framebuffer (multiboot2 header tag "
                                       "5, not optional), which vtvisor does not provide";
                        break;
                case MB2_HTAG_MODULE_ALIGN:
                        break; /* modules are page aligned anyway */
                case MB2_HTAG_EFI_BS:
                        if (!optional)
                                return "the kernel requires EFI boot services (multiboot2 header "
                                       "tag 7, not optional); vtvisor boots like a BIOS";
                        break;
                case MB2_HTAG_ENTRY_EFI32:
                case MB2_HTAG_ENTRY_EFI64:
                        if (!optional)
                                return FAIL("the kernel requires an EFI entry (multiboot2 header "
                                            "tag %u, not optional); vtvisor boots like a BIOS",
                                            type);
                        break;
                case MB2_HTAG_RELOCATABLE:
                        break; /* loaded at its preferred (linked) addresses */
                default:
                        if (!optional)
                                return FAIL("the kernel requires multiboot2 header tag %u, "
                                            "which vtvisor does not know",
                                            type);
                        break;
                }
                t += ALIGN_UP(size, TAG_ALIGN);
        }
}

/* The address tag (spec 3.1.5) with the entry address tag, load_addr
 * 0xFFFFFFFF meaning that the file is loaded from its start; else the ELF
 * file, entered at the entry address tag's address when there is one. */
static const char *load_kernel(const struct mb2_params *p, const struct mb2_header *h,
                               struct guest_mem *mem, struct kernel_image *k)
{
        if (!h->has_address) {
                if (!kernel_image_is_elf(p->image, p->len))
                        return "not an ELF file and no address tag in the multiboot2 header";
                return kernel_image_load_elf(p->image, p->len, true,
                                             h->has_entry ? &h->entry : NULL, mem, k);
        }
        if (!h->has_entry)
                return "the multiboot2 header has an address tag but no entry address tag";
        struct kernel_aout a = {
                .header_off = h->off,
                .header_addr = h->header_addr,
                .load_addr = h->load_addr,
                .load_end = h->load_end,
                .bss_end = h->bss_end,
                .entry = h->entry,
        };
        if (h->load_addr == 0xffffffffu) {
                if (h->header_addr < h->off)
                        return "the address tag's header_addr lies below the file's start";
                a.load_addr = (uint32_t)(h->header_addr - h->off);
        }
        return kernel_image_load_aout(p->image, p->len, &a, mem, k);
}

static size_t tag_size(size_t payload)
{
        return ALIGN_UP(8 + payload, TAG_ALIGN);
}

/* Where each module goes: after the kernel, page by page, all below 4 GiB
 * (the tags' addresses are 32-bit) and inside RAM.  Nothing is written. */
static const char *place_modules(const struct mb2_params *p, const struct guest_mem *mem,
                                 uint64_t kernel_end)
{
        if (p->nmods > MB2_MODS_MAX)
                return "more than 64 modules for one multiboot2 kernel";
        uint64_t at = ALIGN_UP(kernel_end, PAGE_SIZE);
        for (size_t i = 0; i < p->nmods; i++) {
                uint64_t n = p->mods[i].len;
                if (!guest_mem_ptr(mem, at, n ? n : 1) || at + n > 0xffffffffULL)
                        return "the modules do not fit in the VM's RAM after the kernel (raise "
                               "ram=)";
                at = ALIGN_UP(at + n, PAGE_SIZE);
        }
        return NULL;
}

static uint8_t *put_tag(uint8_t *at, uint32_t type, size_t payload)
{
        put32(at, type);
        put32(at + 4, (uint32_t)(8 + payload));
        return at + 8;
}

/* Builds the boot information (spec 3.6) in RAM already cleared. */
static void write_info(uint8_t *info, const struct mb2_params *p, const uint8_t *rsdp, uint64_t ram,
                       uint64_t load_base, uint64_t kernel_end, size_t total)
{
        uint8_t *t = info + 8;
        put32(info, (uint32_t)total);
        put32(info + 4, 0);

        put32(put_tag(t, MB2_TAG_LOAD_BASE_ADDR, 4), (uint32_t)load_base);
        t += tag_size(4);

        size_t n = vtv_strlen(p->cmdline) + 1;
        vtv_memcpy(put_tag(t, MB2_TAG_CMDLINE, n), p->cmdline, n);
        t += tag_size(n);

        vtv_memcpy(put_tag(t, MB2_TAG_LOADER_NAME, 8), "vtvisor", 8);
        t += tag_size(8);

        uint64_t at = ALIGN_UP(kernel_end, PAGE_SIZE);
        for (size_t i = 0; i < p->nmods; i++) {
                const char *cl = p->mods[i].cmdline ? p->mods[i].cmdline : "";
                n = vtv_strlen(cl) + 1;
                uint8_t *m = put_tag(t, MB2_TAG_MODULE, 8 + n);
                put32(m, (uint32_t)at);
                put32(m + 4, (uint32_t)(at + p->mods[i].len)); /* the first byte after it */
                vtv_memcpy(m + 8, cl, n);
                t += tag_size(8 + n);
                at = ALIGN_UP(at + p->mods[i].len, PAGE_SIZE);
        }

        uint8_t *b = put_tag(t, MB2_TAG_BASIC_MEMINFO, 8);
        put32(b, MB_LOW_RAM_END / 1024);
        put32(b + 4, (uint32_t)((ram - MiB(1)) / 1024));
        t += tag_size(8);

        /* The map the multiboot v1 loader gives. */
        struct mb_region map[MB_MAP_ENTRIES];
        mb_memory_map(ram, map);
        uint8_t *mm = put_tag(t, MB2_TAG_MMAP, 8 + ARRAY_SIZE(map) * 24);
        put32(mm, 24); /* entry_size */
        put32(mm + 4, 0);
        for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
                uint8_t *e = mm + 8 + 24 * i;
                put64(e, map[i].base);
                put64(e + 8, map[i].len);
                put32(e + 16, map[i].type);
                put32(e + 20, 0);
        }
        t += tag_size(8 + ARRAY_SIZE(map) * 24);

        if (rsdp) {
                vtv_memcpy(put_tag(t, MB2_TAG_ACPI_OLD, ACPI_OLD_LEN), rsdp, ACPI_OLD_LEN);
                t += tag_size(ACPI_OLD_LEN);
                if (acpi_new_ok(rsdp, p->rsdp_len)) {
                        vtv_memcpy(put_tag(t, MB2_TAG_ACPI_NEW, ACPI_NEW_LEN), rsdp, ACPI_NEW_LEN);
                        t += tag_size(ACPI_NEW_LEN);
                }
        }
        put_tag(t, MB2_TAG_END, 0);
}

const char *loader_multiboot2(struct mb2_params *p, struct guest_mem *mem,
                              struct guest_state *state)
{
        long off = find_header(p->image, p->len);
        if (off < 0)
                return "no multiboot2 header (magic 0xE85250D6 with a valid checksum, 8-byte "
                       "aligned) in the first 32 KiB";
        if (mem->size < MiB(2))
                return "a multiboot2 guest needs at least 2 MiB of RAM";
        struct mb2_header h = { .off = (size_t)off };
        const uint8_t *hp = p->image + off;
        uint32_t arch = get32(hp + 4), hlen = get32(hp + 8);
        if (arch != MB2_ARCH_I386)
                return FAIL("the multiboot2 header's architecture is %u, not 0 (i386 protected "
                            "mode)",
                            arch);
        size_t limit = MIN(p->len, (size_t)MB2_SEARCH_LIMIT);
        if (hlen < HDR_FIXED + 8 || hlen > limit - h.off)
                return FAIL("the multiboot2 header's header_length %u does not fit in the "
                            "first 32 KiB of the file or holds no end tag",
                            hlen);
        const char *err = parse_tags(p->image, h.off + hlen, p, &h);
        if (err)
                return err;

        /* The RSDP may lie in the same RAM: copied before RAM is written. */
        uint8_t rsdp[ACPI_NEW_LEN];
        bool has_rsdp = p->rsdp && p->rsdp_len >= ACPI_OLD_LEN;
        if (has_rsdp)
                vtv_memcpy(rsdp, p->rsdp, MIN(p->rsdp_len, sizeof(rsdp)));

        /* The information's size, checked before anything is loaded. */
        if (p->nmods > MB2_MODS_MAX)
                return "more than 64 modules for one multiboot2 kernel";
        size_t total = 8 + tag_size(4) + tag_size(8) + tag_size(8) + tag_size(8 + 3 * 24) + 8;
        size_t room = MB2_INFO_END - MB2_INFO_ADDR;
        size_t cl = vtv_strlen(p->cmdline);
        if (cl >= room)
                return "the command line is longer than the multiboot2 information area";
        total += tag_size(cl + 1);
        for (size_t i = 0; i < p->nmods; i++) {
                size_t n = vtv_strlen(p->mods[i].cmdline ? p->mods[i].cmdline : "");
                if (n >= room)
                        return "a module's command line is longer than the multiboot2 "
                               "information area";
                total += tag_size(8 + n + 1);
        }
        if (has_rsdp)
                total += tag_size(ACPI_OLD_LEN) +
                         (acpi_new_ok(rsdp, p->rsdp_len) ? tag_size(ACPI_NEW_LEN) : 0);
        if (total > room)
                return FAIL("the multiboot2 boot information would take %zu bytes, more than "
                            "the %zu vtvisor has room for (shorten the command lines)",
                            total, room);

        struct kernel_image k;
        err = load_kernel(p, &h, mem, &k);
        if (!err)
                err = place_modules(p, mem, k.hi);
        if (err)
                return err;

        uint64_t at = ALIGN_UP(k.hi, PAGE_SIZE);
        for (size_t i = 0; i < p->nmods; i++) {
                vtv_memcpy(guest_mem_ptr(mem, at, p->mods[i].len ? p->mods[i].len : 1),
                           p->mods[i].data, p->mods[i].len);
                at = ALIGN_UP(at + p->mods[i].len, PAGE_SIZE);
        }
        uint8_t *info = guest_mem_ptr(mem, MB2_INFO_ADDR, total);
        vtv_memset(info, 0, total);
        write_info(info, p, has_rsdp ? rsdp : NULL, mem->size, k.lo, k.hi, total);

        guest_state_flat32(state, 0x08, 0x10);
        state->rip = k.entry;
        state->gpr[RAX] = MB2_BOOTLOADER_MAGIC;
        state->gpr[RBX] = MB2_INFO_ADDR;
        state->gpr[RSP] = MB2_STACK_TOP;
        return NULL;
}
