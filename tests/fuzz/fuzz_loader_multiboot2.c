/* libFuzzer target for loaders/loader_multiboot2.c: multiboot2 kernels,
 * ELF32, ELF64 or a.out kludge, with any header tags, as hostile images.
 *
 * Input: one byte of configuration (bits 2:0 the guest RAM size; bit 3 an
 * ACPI 2.0 RSDP of 36 bytes, else bit 4 an ACPI 1.0 RSDP of 20 bytes), a
 * u8 command line length and that many bytes (a NUL ends it early), then
 * the image.  0-2 modules are cut from the command line's bytes.
 *
 * The image is handed over in a heap buffer of exactly its size and the
 * RAM is a buffer whose bytes past the chosen size are poisoned, so ASan
 * stops any access outside them.  The RAM starts filled with 0xcc.
 * Checked against loader_multiboot2.h and the Multiboot2 Specification
 * 1.0: a kernel loads only with a header in its first 32 KiB and at least
 * 2 MiB of RAM; on any error nothing below 1 MiB and not the vCPU state is
 * written; on success the vCPU enters 32-bit protected mode, paging and
 * interrupts off, at or above 1 MiB inside RAM, with EAX the magic, EBX
 * the information and ESP 0x8000; the information is a well-formed list of
 * 8-byte aligned tags, in the documented order, ending at total_size,
 * inside its area; each tag holds what it must (command line, "vtvisor",
 * each module's place, bytes and command line, the memory sizes and map,
 * the RSDP copies); and below 1 MiB only the information changed.
 * "Unchanged" compares every RAM byte the input could have changed:
 * fuzz_ram.h tracks which chunks were written. */
#define _DEFAULT_SOURCE

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_ram.h"

#include "lib/bytes.h"
#include "loaders/loader_multiboot2.h"

#define RAM_MAX MiB(4)
#define FILL    0xcc

static uint8_t *ram;
static size_t ram_cur; /* the bytes ASan lets the loader reach */

static const uint64_t ram_sizes[8] = {
        MiB(1), MiB(2) - 0x1000, MiB(2), MiB(2), MiB(2) + 0x1000, MiB(3), MiB(4), MiB(2) + 0x3000,
};

static bool all_fill(uint64_t start, uint64_t end)
{
        return fuzz_ram_untouched(ram + start, end - start);
}

static long find_header(const uint8_t *img, size_t len)
{
        for (size_t off = 0; off + 16 <= MIN(len, (size_t)MB2_SEARCH_LIMIT); off += 8)
                if (get32(img + off) == MB2_HEADER_MAGIC &&
                    (uint32_t)(get32(img + off) + get32(img + off + 4) + get32(img + off + 8) +
                               get32(img + off + 12)) == 0)
                        return (long)off;
        return -1;
}

/* The next tag at *off, checked to be well-formed; advances *off. */
static const uint8_t *next_tag(const uint8_t *info, uint32_t total, uint32_t *off, uint32_t type)
{
        CHECK(*off % 8 == 0 && *off + 8 <= total);
        const uint8_t *t = info + *off;
        CHECK(get32(t) == type);
        uint32_t size = get32(t + 4);
        CHECK(size >= 8 && size <= total - *off);
        *off += (uint32_t)ALIGN_UP(size, 8);
        return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!ram)
                ram = fuzz_ram_map(RAM_MAX, FILL);
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t cfg = in_u8(&in);
        uint64_t ram_size = ram_sizes[cfg & 7];
        size_t clen;
        const uint8_t *cl = in_bytes(&in, in_u8(&in), &clen);
        char *cmdline = malloc(clen + 1);
        uint8_t *img = malloc(in.n ? in.n : 1);
        CHECK(cmdline && img);
        memcpy(cmdline, cl, clen);
        cmdline[clen] = '\0';
        size_t len = in.n;
        memcpy(img, in.p, len);

        uint8_t rsdp[36];
        memset(rsdp, 0x5a, sizeof(rsdp));
        memcpy(rsdp, "RSD PTR ", 8);
        rsdp[15] = (cfg & BIT(3)) ? 2 : 0;
        size_t rsdp_len = (cfg & BIT(3)) ? 36 : (cfg & BIT(4)) ? 20 : 0;

        fuzz_ram_resize(ram, &ram_cur, ram_size);
        struct guest_mem mem = { ram, ram_size };
        struct guest_state st, before;
        memset(&st, 0x5a, sizeof(st));
        before = st;

        long hdr = find_header(img, len);
        CHECK(loader_multiboot2_detect(img, len) == (hdr >= 0));
        struct mb_module mods[2];
        size_t nmods = clen % 3;
        for (size_t i = 0; i < nmods; i++)
                mods[i] =
                    (struct mb_module){ (const uint8_t *)cmdline + i, clen - i, i ? "m1" : "m0" };
        struct mb2_params p = {
                .image = img,
                .len = len,
                .cmdline = cmdline,
                .mods = mods,
                .nmods = nmods,
                .rsdp = rsdp_len ? rsdp : NULL,
                .rsdp_len = rsdp_len,
        };
        const char *err = loader_multiboot2(&p, &mem, &st);
        if (hdr < 0 || ram_size < MiB(2))
                CHECK(err != NULL);
        if (err) {
                CHECK(*err != '\0');
                CHECK(memcmp(&st, &before, sizeof(st)) == 0);
                CHECK(all_fill(0, MIN(ram_size, (uint64_t)MiB(1))));
        } else {
                CHECK(st.rip >= MB2_KERNEL_MIN && st.rip < ram_size);
                CHECK(st.gpr[RAX] == MB2_BOOTLOADER_MAGIC && st.gpr[RBX] == MB2_INFO_ADDR);
                CHECK(st.gpr[RSP] == MB2_STACK_TOP && (st.cr0 & 1) && !(st.cr0 & BIT(31)));
                CHECK(!(st.rflags & (BIT(9) | BIT(17))) && !(st.cs.ar & AR_L));

                const uint8_t *info = ram + MB2_INFO_ADDR;
                uint32_t total = get32(info), off = 8;
                CHECK(total <= MB2_INFO_END - MB2_INFO_ADDR && get32(info + 4) == 0);
                const uint8_t *t = next_tag(info, total, &off, MB2_TAG_LOAD_BASE_ADDR);
                uint32_t base = get32(t + 8);
                CHECK(base >= MB2_KERNEL_MIN && base <= st.rip);
                t = next_tag(info, total, &off, MB2_TAG_CMDLINE);
                CHECK(get32(t + 4) == 8 + strlen(cmdline) + 1);
                CHECK(strcmp((const char *)t + 8, cmdline) == 0);
                t = next_tag(info, total, &off, MB2_TAG_LOADER_NAME);
                CHECK(get32(t + 4) == 16 && strcmp((const char *)t + 8, "vtvisor") == 0);
                uint32_t prev_end = 0;
                for (size_t i = 0; i < nmods; i++) {
                        t = next_tag(info, total, &off, MB2_TAG_MODULE);
                        uint32_t ms = get32(t + 8), me = get32(t + 12);
                        CHECK(ms % 4096 == 0 && ms > st.rip && ms >= prev_end);
                        CHECK(me - ms == mods[i].len && range_within(ms, me - ms, 0, ram_size));
                        CHECK(memcmp(ram + ms, mods[i].data, mods[i].len) == 0);
                        CHECK(strcmp((const char *)t + 16, mods[i].cmdline) == 0);
                        prev_end = me;
                }
                t = next_tag(info, total, &off, MB2_TAG_BASIC_MEMINFO);
                CHECK(get32(t + 8) == 0x9f000 / 1024 &&
                      get32(t + 12) == (ram_size - MiB(1)) / 1024);
                t = next_tag(info, total, &off, MB2_TAG_MMAP);
                CHECK(get32(t + 4) == 16 + 3 * 24 && get32(t + 8) == 24 && get32(t + 12) == 0);
                CHECK(get64(t + 16 + 48) == MiB(1) && get64(t + 16 + 56) == ram_size - MiB(1));
                if (rsdp_len) {
                        t = next_tag(info, total, &off, MB2_TAG_ACPI_OLD);
                        CHECK(get32(t + 4) == 28 && memcmp(t + 8, rsdp, 20) == 0);
                }
                if (rsdp_len == 36) {
                        t = next_tag(info, total, &off, MB2_TAG_ACPI_NEW);
                        CHECK(get32(t + 4) == 44 && memcmp(t + 8, rsdp, 36) == 0);
                }
                t = next_tag(info, total, &off, MB2_TAG_END);
                CHECK(get32(t + 4) == 8 && off == total);
                /* Below 1 MiB only the information changed. */
                CHECK(all_fill(0, MB2_INFO_ADDR) && all_fill(MB2_INFO_ADDR + total, MiB(1)));
        }
        fuzz_ram_reset(); /* also what a partial load wrote */
        free(img);
        free(cmdline);
        return 0;
}
