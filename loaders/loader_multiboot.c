#include "loaders/loader_multiboot.h"
#include "lib/bytes.h"
#include "lib/string.h"

#define MB_FLAG_PAGE_ALIGN      BIT(0)
#define MB_FLAG_MEMINFO         BIT(1)
#define MB_FLAG_VIDEO           BIT(2)
#define MB_FLAG_AOUT            BIT(16)
#define MB_FLAGS_KNOWN_REQUIRED (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO)

/* Returns the header's offset, or -1. */
static long find_header(const uint8_t *image, size_t len)
{
        size_t limit = len < MB_SEARCH_LIMIT ? len : MB_SEARCH_LIMIT;
        for (size_t off = 0; off + 12 <= limit; off += 4) {
                uint32_t magic = get32(image + off), flags = get32(image + off + 4),
                         sum = get32(image + off + 8);
                if (magic == MB_HEADER_MAGIC && (uint32_t)(magic + flags + sum) == 0)
                        return (long)off;
        }
        return -1;
}

bool loader_multiboot_detect(const uint8_t *image, size_t len)
{
        return find_header(image, len) >= 0;
}

/* The kernel may use [1 MiB, RAM end); the information area and stack sit
 * below 0x8000, so a kernel there would overwrite them. */
static const char *place(struct guest_mem *mem, uint64_t dst, uint64_t memsz, const uint8_t *src,
                         uint64_t filesz, uint64_t *end)
{
        if (filesz > memsz)
                return "a segment's file size exceeds its memory size";
        if (dst < MB_KERNEL_MIN)
                return "the kernel loads below 1 MiB, where vtvisor puts the multiboot "
                       "information";
        uint8_t *p = guest_mem_ptr(mem, dst, memsz);
        if (!p)
                return "the kernel does not fit in the VM's RAM (raise ram=)";
        vtv_memcpy(p, src, filesz);
        vtv_memset(p + filesz, 0, memsz - filesz);
        if (dst + memsz > *end)
                *end = dst + memsz;
        return NULL;
}

static const char *load_aout(const uint8_t *image, size_t len, size_t hdr_off,
                             struct guest_mem *mem, uint32_t *entry, uint64_t *end)
{
        if (hdr_off + 32 > len)
                return "the multiboot header is truncated";
        const uint8_t *h = image + hdr_off;
        uint32_t header_addr = get32(h + 12), load_addr = get32(h + 16), load_end = get32(h + 20),
                 bss_end = get32(h + 24);
        *entry = get32(h + 28);
        if (load_addr > header_addr || header_addr - load_addr > hdr_off)
                return "the multiboot header's load address lies before the file start";
        uint64_t file_off = hdr_off - (header_addr - load_addr);
        uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : len - file_off;
        if (load_end && load_end < load_addr)
                return "load_end_addr is below load_addr";
        if (file_off + filesz > len)
                return "the image is shorter than its multiboot header says";
        uint64_t memsz = bss_end ? (uint64_t)bss_end - load_addr : filesz;
        if (bss_end && memsz < filesz)
                return "bss_end_addr is below load_end_addr";
        const char *err = place(mem, load_addr, memsz, image + file_off, filesz, end);
        if (err)
                return err;
        if (*entry < load_addr || *entry >= load_addr + memsz)
                return "the entry point lies outside the loaded image";
        return NULL;
}

#define EM_386  3
#define PT_LOAD 1

static const char *load_elf(const uint8_t *image, size_t len, struct guest_mem *mem,
                            uint32_t *entry, uint64_t *end)
{
        if (len < 52 || get32(image) != 0x464c457f)
                return "not an ELF file and no a.out addresses in the multiboot header";
        if (image[4] != 1 || image[5] != 1)
                return "the ELF file is not 32-bit little-endian (multiboot kernels are 32-bit)";
        if (get16(image + 18) != EM_386)
                return "the ELF file is not for i386";
        uint32_t phoff = get32(image + 28);
        uint16_t phentsize = get16(image + 42), phnum = get16(image + 44);
        if (phentsize < 32 || phnum == 0 || phoff > len ||
            (uint64_t)phnum * phentsize > len - phoff)
                return "the ELF program headers are missing or truncated";
        uint32_t e_entry = get32(image + 24);
        bool entry_found = false;
        unsigned loaded = 0;

        for (unsigned i = 0; i < phnum; i++) {
                const uint8_t *ph = image + phoff + (uint64_t)i * phentsize;
                if (get32(ph) != PT_LOAD)
                        continue;
                uint32_t off = get32(ph + 4), vaddr = get32(ph + 8), paddr = get32(ph + 12),
                         filesz = get32(ph + 16), memsz = get32(ph + 20);
                if (memsz == 0)
                        continue;
                if ((uint64_t)off + filesz > len)
                        return "an ELF segment extends past the end of the file";
                const char *err = place(mem, paddr, memsz, image + off, filesz, end);
                if (err)
                        return err;
                loaded++;
                /* The entry is a virtual address; translate it through the
                 * segment that holds it (spec 3.1.3: loaded by physical address). */
                if (e_entry >= vaddr && e_entry - vaddr < memsz) {
                        *entry = paddr + (e_entry - vaddr);
                        entry_found = true;
                }
        }
        if (!loaded)
                return "the ELF file has no loadable segment";
        if (!entry_found)
                return "the ELF entry point lies outside every loaded segment";
        return NULL;
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
        const struct {
                uint64_t base, len;
                uint32_t type;
        } map[] = {
                { 0, MB_LOW_RAM_END, 1 },
                { MB_LOW_RAM_END, MiB(1) - MB_LOW_RAM_END, 2 },
                { MiB(1), mem->size - MiB(1), 1 },
        };
        uint8_t *mm = guest_mem_ptr(mem, MB_MMAP_ADDR, sizeof(map) / sizeof(map[0]) * 24);
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
                uint8_t *e = mm + i * 24;
                put32(e, 20);
                put64(e + 4, map[i].base);
                put64(e + 12, map[i].len);
                put32(e + 20, map[i].type);
        }
        put32(info + 44, (uint32_t)(sizeof(map) / sizeof(map[0]) * 24));
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

        uint32_t entry = 0;
        uint64_t end = 0;
        const char *err = (flags & MB_FLAG_AOUT)
                              ? load_aout(image, len, (size_t)off, mem, &entry, &end)
                              : load_elf(image, len, mem, &entry, &end);
        if (!err)
                err = load_modules(mem, mods, nmods, end);
        if (err)
                return err;

        write_info(mem, cmdline, nmods);
        guest_state_flat32(state, 0x08, 0x10);
        state->rip = entry;
        state->gpr[RAX] = MB_BOOTLOADER_MAGIC;
        state->gpr[RBX] = MB_INFO_ADDR;
        state->gpr[RSP] = MB_STACK_TOP;
        return NULL;
}
