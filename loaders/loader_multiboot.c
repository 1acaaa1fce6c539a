#include "loaders/loader_multiboot.h"
#include "lib/bytes.h"
#include "lib/string.h"
#include "loaders/kernel_image.h"

#define MB_FLAG_PAGE_ALIGN      BIT(0)
#define MB_FLAG_MEMINFO         BIT(1)
#define MB_FLAG_VIDEO           BIT(2)
#define MB_FLAG_AOUT            BIT(16)
#define MB_FLAGS_KNOWN_REQUIRED (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO)

static long find_header(const uint8_t *image, size_t len)
{
        return kernel_image_find_header(image, len, MB_SEARCH_LIMIT, 4, MB_HEADER_MAGIC, 3);
}

bool loader_multiboot_detect(const uint8_t *image, size_t len)
{
        return find_header(image, len) >= 0;
}

/* Flag 16: the header's a.out-kludge addresses (spec 3.1.3) give the
 * layout; otherwise the file must be an ELF32 file for i386. */
static const char *load_kernel(const uint8_t *image, size_t len, size_t hdr_off, uint32_t flags,
                               struct guest_mem *mem, struct kernel_image *k)
{
        if (!(flags & MB_FLAG_AOUT)) {
                if (!kernel_image_is_elf(image, len))
                        return "not an ELF file and no a.out addresses in the multiboot header";
                return kernel_image_load_elf(image, len, false, NULL, mem, k);
        }
        if (hdr_off + 32 > len)
                return "the multiboot header is truncated";
        const uint8_t *h = image + hdr_off;
        struct kernel_aout a = {
                .header_off = hdr_off,
                .header_addr = get32(h + 12),
                .load_addr = get32(h + 16),
                .load_end = get32(h + 20),
                .bss_end = get32(h + 24),
                .entry = get32(h + 28),
        };
        return kernel_image_load_aout(image, len, &a, mem, k);
}

/* The modules after the kernel (which ends at kernel_end), page by page,
 * their list and command lines below the stack.  Everything is checked
 * before anything is written, so a refusal leaves the information area
 * alone. */
static const char *load_modules(struct guest_mem *mem, const struct mb_module *mods, size_t n,
                                uint64_t kernel_end)
{
        if (n > MB_MODS_MAX)
                return "more than 64 modules for one multiboot kernel";
        uint64_t at = ALIGN_UP(kernel_end, PAGE_SIZE), text = MB_MODS_CMDLINES;
        for (size_t i = 0; i < n; i++) {
                text += vtv_strlen(mods[i].cmdline ? mods[i].cmdline : "") + 1;
                if (text > MB_MODS_CMDLINES_END)
                        return "the modules' command lines are longer than 7 KiB together";
                /* Above 4 GiB no 32-bit field could say where it is. */
                if (!guest_mem_ptr(mem, at, mods[i].len ? mods[i].len : 1) ||
                    at + mods[i].len > 0xffffffffULL)
                        return "the modules do not fit in the VM's RAM after the kernel (raise "
                               "ram=)";
                at = ALIGN_UP(at + mods[i].len, PAGE_SIZE);
        }
        uint8_t *list = guest_mem_ptr(mem, MB_MODS_ADDR, MB_MODS_MAX * 16);
        at = ALIGN_UP(kernel_end, PAGE_SIZE);
        text = MB_MODS_CMDLINES;
        for (size_t i = 0; i < n; i++) {
                const char *cl = mods[i].cmdline ? mods[i].cmdline : "";
                size_t cl_len = vtv_strlen(cl) + 1;
                vtv_memcpy(guest_mem_ptr(mem, text, cl_len), cl, cl_len);
                vtv_memcpy(guest_mem_ptr(mem, at, mods[i].len ? mods[i].len : 1), mods[i].data,
                           mods[i].len);
                /* mod_start, mod_end (the first byte after it), string. */
                put32(list + 16 * i, (uint32_t)at);
                put32(list + 16 * i + 4, (uint32_t)(at + mods[i].len));
                put32(list + 16 * i + 8, (uint32_t)text);
                put32(list + 16 * i + 12, 0);
                text += cl_len;
                at = ALIGN_UP(at + mods[i].len, PAGE_SIZE);
        }
        return NULL;
}

static void write_info(struct guest_mem *mem, const char *cmdline, size_t nmods)
{
        uint8_t *info = guest_mem_ptr(mem, MB_INFO_ADDR, 116);
        vtv_memset(info, 0, 116);
        put32(info + 4, MB_LOW_RAM_END / 1024);
        put32(info + 8, (uint32_t)((mem->size - MiB(1)) / 1024));
        put32(info + 16, MB_CMDLINE_ADDR);
        put32(info + 20, (uint32_t)nmods);
        put32(info + 24, nmods ? MB_MODS_ADDR : 0);

        char *name = guest_mem_ptr(mem, MB_LOADER_NAME_ADDR, 8);
        vtv_memcpy(name, "vtvisor", 8);
        put32(info + 64, MB_LOADER_NAME_ADDR);

        char *cl = guest_mem_ptr(mem, MB_CMDLINE_ADDR, MB_MMAP_ADDR - MB_CMDLINE_ADDR);
        vtv_strlcpy(cl, cmdline, MB_MMAP_ADDR - MB_CMDLINE_ADDR);

        /* Entry: u32 size (20, not counting itself), u64 base, u64 length, u32 type. */
        struct mb_region map[MB_MAP_ENTRIES];
        mb_memory_map(mem->size, map);
        uint8_t *mm = guest_mem_ptr(mem, MB_MMAP_ADDR, MB_MAP_ENTRIES * 24);
        for (size_t i = 0; i < MB_MAP_ENTRIES; i++) {
                uint8_t *e = mm + i * 24;
                put32(e, 20);
                put64(e + 4, map[i].base);
                put64(e + 12, map[i].len);
                put32(e + 20, map[i].type);
        }
        put32(info + 44, MB_MAP_ENTRIES * 24);
        put32(info + 48, MB_MMAP_ADDR);
        put32(info, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MEM_MAP |
                        MB_INFO_LOADER_NAME);
}

const char *loader_multiboot(const uint8_t *image, size_t len, const char *cmdline,
                             const struct mb_module *mods, size_t nmods, struct guest_mem *mem,
                             struct guest_state *state)
{
        long off = find_header(image, len);
        if (off < 0)
                return "no multiboot header in the first 8 KiB";
        if (mem->size < MiB(2))
                return "a multiboot guest needs at least 2 MiB of RAM";
        uint32_t flags = get32(image + off + 4);
        if (flags & MB_FLAG_VIDEO)
                return "the kernel requires video mode information (multiboot flag 2), which "
                       "vtvisor does not provide";
        if ((flags & 0xffff) & ~MB_FLAGS_KNOWN_REQUIRED)
                return "the kernel requires a multiboot feature vtvisor does not know "
                       "(flag bits 3-15)";

        struct kernel_image k;
        const char *err = load_kernel(image, len, (size_t)off, flags, mem, &k);
        if (!err)
                err = load_modules(mem, mods, nmods, k.hi);
        if (err)
                return err;

        write_info(mem, cmdline, nmods);
        guest_state_flat32(state, 0x08, 0x10);
        state->rip = k.entry;
        state->gpr[RAX] = MB_BOOTLOADER_MAGIC;
        state->gpr[RBX] = MB_INFO_ADDR;
        state->gpr[RSP] = MB_STACK_TOP;
        return NULL;
}
