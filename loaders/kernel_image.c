#include "loaders/kernel_image.h"
#include "lib/bytes.h"
#include "lib/string.h"

#define ELF_MAGIC  0x464c457fu /* "\x7fELF" */
#define ELF32_EHDR 52
#define ELF64_EHDR 64
#define EM_386     3
#define EM_X86_64  62
#define PT_LOAD    1

long kernel_image_find_header(const uint8_t *image, size_t len, size_t limit, size_t align,
                              uint32_t magic, size_t nwords)
{
        limit = MIN(len, limit);
        for (size_t off = 0; off + 4 * nwords <= limit; off += align) {
                if (get32(image + off) != magic)
                        continue;
                uint32_t sum = 0;
                for (size_t i = 0; i < nwords; i++)
                        sum += get32(image + off + 4 * i);
                if (sum == 0)
                        return (long)off;
        }
        return -1;
}

bool kernel_image_is_elf(const uint8_t *image, size_t len)
{
        return len >= ELF32_EHDR && get32(image) == ELF_MAGIC;
}

/* Copies filesz bytes to dst and clears the rest of memsz, inside
 * [KERNEL_IMAGE_MIN, KERNEL_IMAGE_END) and the VM's RAM. */
static const char *place(struct guest_mem *mem, uint64_t dst, uint64_t memsz, const uint8_t *src,
                         uint64_t filesz, struct kernel_image *k)
{
        if (filesz > memsz)
                return "a segment's file size exceeds its memory size";
        if (dst < KERNEL_IMAGE_MIN)
                return "the kernel loads below 1 MiB, where vtvisor puts the boot information "
                       "and the ACPI tables";
        if (dst + memsz > KERNEL_IMAGE_END)
                return "the kernel loads above 4 GiB";
        uint8_t *ptr = guest_mem_ptr(mem, dst, memsz);
        if (!ptr)
                return "the kernel does not fit in the VM's RAM (raise ram=)";
        vtv_memcpy(ptr, src, filesz);
        vtv_memset(ptr + filesz, 0, memsz - filesz);
        k->lo = MIN(k->lo, dst);
        k->hi = MAX(k->hi, dst + memsz);
        return NULL;
}

const char *kernel_image_load_aout(const uint8_t *image, size_t len, const struct kernel_aout *a,
                                   struct guest_mem *mem, struct kernel_image *k)
{
        *k = (struct kernel_image){ .lo = UINT64_MAX };
        uint64_t load_addr = a->load_addr;
        if (load_addr > a->header_addr || a->header_addr - load_addr > a->header_off)
                return "the multiboot header's load_addr lies before the file's start (or "
                       "after header_addr)";
        uint64_t file_off = a->header_off - (a->header_addr - load_addr);
        uint64_t filesz = len - file_off;
        if (a->load_end) {
                if (a->load_end < load_addr)
                        return "the multiboot header's load_end_addr is below load_addr";
                filesz = a->load_end - load_addr;
                if (filesz > len - file_off)
                        return "the image is shorter than the multiboot header's load_end_addr "
                               "says";
        }
        uint64_t memsz = filesz;
        if (a->bss_end) {
                if (a->bss_end < load_addr + filesz)
                        return "the multiboot header's bss_end_addr is below load_end_addr";
                memsz = a->bss_end - load_addr;
        }
        if (memsz == 0)
                return "the multiboot header's a.out-kludge addresses describe nothing to load";
        const char *err = place(mem, load_addr, memsz, image + file_off, filesz, k);
        if (err)
                return err;
        if (a->entry < k->lo || a->entry >= k->hi)
                return "the multiboot header's entry lies outside the loaded image";
        k->entry = a->entry;
        return NULL;
}

const char *kernel_image_load_elf(const uint8_t *image, size_t len, bool elf64,
                                  const uint32_t *header_entry, struct guest_mem *mem,
                                  struct kernel_image *k)
{
        *k = (struct kernel_image){ .lo = UINT64_MAX };
        if (!kernel_image_is_elf(image, len))
                return "not an ELF file";
        if (!elf64 && (image[4] != 1 || image[5] != 1))
                return "the ELF file is not 32-bit little-endian (a multiboot v1 kernel must be "
                       "ELF32)";
        if ((image[4] != 1 && image[4] != 2) || image[5] != 1)
                return "the ELF file is not 32- or 64-bit little-endian";
        bool is64 = image[4] == 2;
        if (get16(image + 18) != (is64 ? EM_X86_64 : EM_386))
                return is64 ? "the 64-bit ELF file is not for x86-64"
                            : "the 32-bit ELF file is not for i386";
        if (is64 && len < ELF64_EHDR)
                return "the ELF64 header is truncated";
        uint64_t e_entry = is64 ? get64(image + 24) : get32(image + 24);
        uint64_t phoff = is64 ? get64(image + 32) : get32(image + 28);
        uint16_t phentsize = get16(image + (is64 ? 54 : 42));
        uint16_t phnum = get16(image + (is64 ? 56 : 44));
        if (phentsize < (is64 ? 56 : 32) || phnum == 0 || phoff > len ||
            (uint64_t)phnum * phentsize > len - phoff)
                return "the ELF program headers are missing or truncated";

        bool entry_found = false;
        unsigned loaded = 0;
        for (unsigned i = 0; i < phnum; i++) {
                const uint8_t *ph = image + phoff + (uint64_t)i * phentsize;
                if (get32(ph) != PT_LOAD)
                        continue;
                uint64_t off, vaddr, paddr, filesz, memsz;
                if (is64) {
                        off = get64(ph + 8), vaddr = get64(ph + 16), paddr = get64(ph + 24);
                        filesz = get64(ph + 32), memsz = get64(ph + 40);
                } else {
                        off = get32(ph + 4), vaddr = get32(ph + 8), paddr = get32(ph + 12);
                        filesz = get32(ph + 16), memsz = get32(ph + 20);
                }
                if (memsz == 0)
                        continue;
                if (off > len || filesz > len - off)
                        return "an ELF segment extends past the end of the file";
                if (paddr >= KERNEL_IMAGE_END || memsz > KERNEL_IMAGE_END)
                        return "an ELF segment lies above 4 GiB";
                const char *err = place(mem, paddr, memsz, image + off, filesz, k);
                if (err)
                        return err;
                loaded++;
                if (header_entry) {
                        if (*header_entry >= paddr && *header_entry - paddr < memsz)
                                entry_found = true;
                } else if (e_entry >= vaddr && e_entry - vaddr < memsz) {
                        k->entry = paddr + (e_entry - vaddr);
                        entry_found = true;
                }
        }
        if (!loaded)
                return "the ELF file has no loadable segment";
        if (!entry_found)
                return header_entry ? "the multiboot header's entry lies outside every loaded "
                                      "segment"
                                    : "the ELF entry point lies outside every loaded segment";
        if (header_entry)
                k->entry = *header_entry;
        return NULL;
}
