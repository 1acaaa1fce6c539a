/* libFuzzer target for loaders/loader_multiboot.c: multiboot v1 kernels,
 * ELF or a.out kludge, as hostile images.
 *
 * Input: one byte choosing the guest RAM size (bits 2:0), a u8 command
 * line length and that many bytes (a NUL ends it early), then the image.
 *
 * The image is handed over in a heap buffer of exactly its size and the
 * RAM is a buffer whose bytes past the chosen size are poisoned, so ASan
 * stops any access outside them.  The RAM starts filled with 0xcc.
 * Checked against loader_multiboot.h and the Multiboot Specification
 * 0.6.96: an image loads only with a valid header in its first 8 KiB and
 * at least 2 MiB of RAM; on any error the information area and the vCPU
 * state are untouched; on success the vCPU enters 32-bit protected mode
 * at an entry inside what was loaded, at or above 1 MiB and inside RAM,
 * with EAX the boot loader magic, EBX the information structure and ESP
 * 0x8000; the information structure describes the RAM and holds the
 * command line (cut to fit) and "vtvisor"; nothing below 1 MiB but the
 * information area is written, and the last segment loaded holds its file
 * bytes followed by zeros.  "Untouched" compares every RAM byte the input
 * could have changed: fuzz_ram.h tracks which chunks were written. */
#define _DEFAULT_SOURCE

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_ram.h"

#include "lib/bytes.h"
#include "loaders/loader_multiboot.h"

#define RAM_MAX MiB(4)
#define FILL    0xcc
#define INFO_LO MB_INFO_ADDR
#define INFO_HI (MB_MMAP_ADDR + 3 * 24)
/* With modules: their list and command lines too. */
#define MODS_LO MB_MODS_ADDR
#define MODS_HI MB_MODS_CMDLINES_END

static uint8_t *ram;
static size_t ram_cur; /* the bytes ASan lets the loader reach */

static const uint64_t ram_sizes[8] = {
        MiB(1), MiB(2) - 0x1000, MiB(2), MiB(2), MiB(2) + 0x1000, MiB(3), MiB(4), MiB(2) + 0x3000,
};

static bool all_fill(uint64_t start, uint64_t end)
{
        return fuzz_ram_untouched(ram + start, end - start);
}

struct seg {
        uint64_t dst, memsz, off, filesz;
};

/* The segments the loader would place, in its order, for a loaded image. */
static size_t segments(const uint8_t *img, size_t len, size_t hdr, struct seg *s, size_t max,
                       uint32_t *entry_out)
{
        uint32_t flags = get32(img + hdr + 4);
        if (flags & BIT(16)) {
                const uint8_t *h = img + hdr;
                uint32_t header_addr = get32(h + 12), load_addr = get32(h + 16),
                         load_end = get32(h + 20), bss_end = get32(h + 24);
                uint64_t file_off = hdr - (header_addr - load_addr);
                uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : len - file_off;
                uint64_t memsz = bss_end ? (uint64_t)bss_end - load_addr : filesz;
                s[0] = (struct seg){ load_addr, memsz, file_off, filesz };
                *entry_out = get32(h + 28);
                return 1;
        }
        uint32_t phoff = get32(img + 28);
        uint16_t phentsize = get16(img + 42), phnum = get16(img + 44);
        size_t n = 0;
        for (unsigned i = 0; i < phnum && n < max; i++) {
                const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
                if (get32(ph) != 1 || get32(ph + 20) == 0)
                        continue;
                s[n++] =
                    (struct seg){ get32(ph + 12), get32(ph + 20), get32(ph + 4), get32(ph + 16) };
        }
        *entry_out = 0;
        return n;
}

static long find_header(const uint8_t *img, size_t len)
{
        for (size_t off = 0; off + 12 <= MIN(len, (size_t)MB_SEARCH_LIMIT); off += 4)
                if (get32(img + off) == MB_HEADER_MAGIC &&
                    (uint32_t)(get32(img + off) + get32(img + off + 4) + get32(img + off + 8)) == 0)
                        return (long)off;
        return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!ram)
                ram = fuzz_ram_map(RAM_MAX, FILL);
        struct fuzz_in in = fuzz_in(data, size);
        uint64_t ram_size = ram_sizes[in_u8(&in) & 7];
        size_t clen;
        const uint8_t *cl = in_bytes(&in, in_u8(&in), &clen);
        char *cmdline = malloc(clen + 1);
        uint8_t *img = malloc(in.n ? in.n : 1);
        CHECK(cmdline && img);
        memcpy(cmdline, cl, clen);
        cmdline[clen] = '\0';
        size_t len = in.n;
        memcpy(img, in.p, len);

        fuzz_ram_resize(ram, &ram_cur, ram_size);
        struct guest_mem mem = { ram, ram_size };
        struct guest_state st, before;
        memset(&st, 0x5a, sizeof(st));
        before = st;

        long hdr = find_header(img, len);
        CHECK(loader_multiboot_detect(img, len) == (hdr >= 0));
        /* 0-2 modules cut from the command line's bytes (the input format
         * stays the one of the seeds), with command lines "m0", "m1". */
        struct mb_module mods[2];
        size_t nmods = clen % 3;
        for (size_t i = 0; i < nmods; i++)
                mods[i] =
                    (struct mb_module){ (const uint8_t *)cmdline + i, clen - i, i ? "m1" : "m0" };
        const char *err = loader_multiboot(img, len, cmdline, mods, nmods, &mem, &st);
        if (hdr < 0 || ram_size < MiB(2))
                CHECK(err != NULL);
        if (err) {
                CHECK(*err != '\0');
                CHECK(memcmp(&st, &before, sizeof(st)) == 0);
                /* Kernels go at or above 1 MiB, the information only on
                 * success. */
                CHECK(all_fill(0, MIN(ram_size, (uint64_t)MiB(1))));
        } else {
                struct seg s[64];
                uint32_t aout_entry;
                size_t n = segments(img, len, (size_t)hdr, s, 64, &aout_entry);
                CHECK(n > 0);
                bool in_seg = false;
                for (size_t i = 0; i < n; i++) {
                        CHECK(s[i].dst >= MB_KERNEL_MIN && s[i].filesz <= s[i].memsz);
                        CHECK(range_within(s[i].dst, s[i].memsz, 0, ram_size));
                        if (st.rip >= s[i].dst && st.rip - s[i].dst < s[i].memsz)
                                in_seg = true;
                }
                CHECK(in_seg);
                if (get32(img + hdr + 4) & BIT(16))
                        CHECK(st.rip == aout_entry);
                /* The last segment holds its bytes, then zeros. */
                const struct seg *l = &s[n - 1];
                if (n < 64) {
                        CHECK(l->off + l->filesz <= len);
                        CHECK(memcmp(ram + l->dst, img + l->off, l->filesz) == 0);
                        CHECK(fuzz_all_zero(ram + l->dst + l->filesz, l->memsz - l->filesz));
                }
                /* Entry state. */
                CHECK(st.rip >= MB_KERNEL_MIN && st.rip < ram_size);
                CHECK(st.gpr[RAX] == MB_BOOTLOADER_MAGIC && st.gpr[RBX] == MB_INFO_ADDR);
                CHECK(st.gpr[RSP] == MB_STACK_TOP && (st.cr0 & 1) && !(st.cr0 & BIT(31)));
                CHECK(!(st.rflags & BIT(9)));
                /* The information structure. */
                const uint8_t *info = ram + MB_INFO_ADDR;
                CHECK(get32(info + 4) == 0x9f000 / 1024);
                CHECK(get32(info + 8) == (ram_size - MiB(1)) / 1024);
                CHECK(get32(info + 20) == nmods && get32(info + 44) == 72);
                /* Modules: after every segment, page-aligned, in order, with
                 * their bytes and command lines. */
                uint64_t kend = 0;
                for (size_t i = 0; i < n; i++)
                        kend = MAX(kend, s[i].dst + s[i].memsz);
                uint64_t prev_end = kend;
                for (size_t i = 0; i < nmods; i++) {
                        const uint8_t *e = ram + get32(info + 24) + 16 * i;
                        uint32_t ms = get32(e), me = get32(e + 4);
                        CHECK(get32(info + 24) == MB_MODS_ADDR);
                        CHECK(ms % 4096 == 0 && ms >= prev_end && me - ms == mods[i].len);
                        CHECK(range_within(ms, mods[i].len, 0, ram_size));
                        CHECK(memcmp(ram + ms, mods[i].data, mods[i].len) == 0);
                        CHECK(strcmp((const char *)ram + get32(e + 8), mods[i].cmdline) == 0);
                        prev_end = me;
                }
                if (nmods)
                        memset(ram + MODS_LO, FILL, MODS_HI - MODS_LO);
                const char *c = (const char *)ram + get32(info + 16);
                size_t room = MB_MMAP_ADDR - MB_CMDLINE_ADDR;
                CHECK(memchr(c, 0, room) != NULL);
                CHECK(strncmp(c, cmdline, room - 1) == 0);
                CHECK(strcmp((const char *)ram + get32(info + 64), "vtvisor") == 0);
                const uint8_t *mm = ram + get32(info + 48);
                CHECK(get64(mm + 24 * 2 + 4) == MiB(1) &&
                      get64(mm + 24 * 2 + 12) == ram_size - MiB(1));
                /* Below 1 MiB only the information area changed. */
                CHECK(all_fill(0, INFO_LO) && all_fill(INFO_HI, MiB(1)));
        }
        fuzz_ram_reset(); /* also what a partial load wrote */
        free(img);
        free(cmdline);
        return 0;
}
