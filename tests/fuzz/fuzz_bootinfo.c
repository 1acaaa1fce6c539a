/* libFuzzer target for boot/bootinfo.c: multiboot v1 and multiboot2 boot
 * information.
 *
 * Input: one byte choosing the magic (bits 1:0: 0 multiboot v1, 1
 * multiboot2, 2 the next u32, 3 multiboot2) and whether to fix the
 * multiboot2 total_size to the memory's end (bit 2), a u16 offset of the
 * information structure in the memory, then the memory itself, which
 * starts at physical FUZZ_BASE (1 MiB), as tests/unit/test_bootinfo.c lays
 * structures out: pointers in the input that fall inside it reach it.
 *
 * The mapper hands out a fresh heap copy of exactly the bytes asked for
 * (so ASan catches a read past what was mapped) and NULL outside the
 * memory.  Checked against bootinfo.h: an error is a non-empty message;
 * on success the protocol matches the magic, counts are within their
 * arrays, region types are 1-5, modules end at or after their start,
 * every string is terminated inside its buffer, the RSDP copy is at most
 * 36 bytes and comes from an ACPI tag; and for multiboot2 nothing outside
 * [info, info + total_size) is ever mapped.  Parsing is deterministic. */
#include "tests/fuzz/fuzz.h"

#include "boot/bootinfo.h"

#define FUZZ_BASE 0x100000ULL

struct fake {
        const uint8_t *mem;
        size_t size;
        void **copies;
        size_t ncopies, cap;
        /* multiboot2: the information's extent, once its header is read */
        uint64_t lo, hi;
        bool bounded;
};

static const void *fake_map(void *ctx, uint64_t pa, size_t len)
{
        struct fake *f = ctx;
        CHECK(len > 0);
        if (f->bounded)
                CHECK(pa >= f->lo && len <= f->hi - f->lo && pa - f->lo <= f->hi - f->lo - len);
        if (!range_within(pa, len, FUZZ_BASE, f->size))
                return NULL;
        if (f->ncopies == f->cap) {
                f->cap = f->cap ? 2 * f->cap : 64;
                f->copies = realloc(f->copies, f->cap * sizeof(*f->copies));
                CHECK(f->copies != NULL);
        }
        void *p = malloc(len);
        CHECK(p != NULL);
        memcpy(p, f->mem + (pa - FUZZ_BASE), len);
        f->copies[f->ncopies++] = p;
        return p;
}

static bool terminated(const char *s, size_t n)
{
        return memchr(s, 0, n) != NULL;
}

static void check_ok(const struct bootinfo *bi, uint32_t magic)
{
        CHECK(bi->protocol == (magic == MB1_BOOT_MAGIC ? 1 : 2));
        CHECK(bi->nregions <= BOOTINFO_MAX_REGIONS && bi->nmodules <= BOOTINFO_MAX_MODULES);
        CHECK(terminated(bi->cmdline, sizeof(bi->cmdline)));
        for (size_t i = 0; i < bi->nregions; i++)
                CHECK(bi->regions[i].type >= MEM_USABLE && bi->regions[i].type <= MEM_BAD);
        for (size_t i = 0; i < bi->nmodules; i++) {
                CHECK(bi->modules[i].start <= bi->modules[i].end);
                CHECK(terminated(bi->modules[i].cmdline, sizeof(bi->modules[i].cmdline)));
        }
        CHECK(bi->rsdp_len <= BOOTINFO_RSDP_MAX);
        CHECK((bi->rsdp_len == 0) == (bi->rsdp_tag == 0));
        CHECK(bi->rsdp_tag == 0 || bi->rsdp_tag == 14 || bi->rsdp_tag == 15);
        if (bi->rsdp_tag)
                CHECK(bi->rsdp_len >= 20);
        if (magic == MB1_BOOT_MAGIC)
                CHECK(bi->rsdp_tag == 0);
        /* Unused entries stay zero. */
        static const struct mem_region zero_region;
        for (size_t i = bi->nregions; i < BOOTINFO_MAX_REGIONS; i++)
                CHECK(memcmp(&bi->regions[i], &zero_region, sizeof(zero_region)) == 0);
}

static const char *parse(struct fake *f, struct bootinfo *bi, uint32_t magic, uint64_t info)
{
        f->bounded = false;
        if (magic == MB2_BOOT_MAGIC && range_within(info, 4, FUZZ_BASE, f->size)) {
                const uint8_t *h = f->mem + (info - FUZZ_BASE);
                uint32_t total = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                                 (uint32_t)h[3] << 24;
                f->lo = info;
                f->hi = info + MAX(total, 8u);
                f->bounded = true;
        }
        memset(bi, 0xa5, sizeof(*bi));
        return bootinfo_parse(bi, magic, info, fake_map, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct bootinfo bi, bi2;
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t kind = in_u8(&in);
        uint32_t magic = (kind & 3) == 0   ? MB1_BOOT_MAGIC
                         : (kind & 3) == 2 ? in_u32(&in)
                                           : MB2_BOOT_MAGIC;
        uint64_t info = FUZZ_BASE + in_u16(&in);
        size_t n = in.n;
        uint8_t *mem = malloc(n ? n : 1);
        CHECK(mem != NULL);
        memcpy(mem, in.p, n);
        /* multiboot2: total_size reaching exactly to the end of memory. */
        if ((kind & 4) && magic == MB2_BOOT_MAGIC && range_within(info, 4, FUZZ_BASE, n)) {
                size_t off = (size_t)(info - FUZZ_BASE);
                uint32_t total = (uint32_t)(n - off);
                memcpy(mem + off, &total, 4);
        }
        struct fake f = { .mem = mem, .size = n };

        const char *err = parse(&f, &bi, magic, info);
        if (err) {
                CHECK(*err != '\0');
        } else {
                CHECK(magic == MB1_BOOT_MAGIC || magic == MB2_BOOT_MAGIC);
                check_ok(&bi, magic);
        }
        /* The same input parses the same way. */
        const char *err2 = parse(&f, &bi2, magic, info);
        CHECK(err == err2 || (err && err2 && strcmp(err, err2) == 0));
        if (!err)
                CHECK(memcmp(&bi, &bi2, sizeof(bi)) == 0);

        for (size_t i = 0; i < f.ncopies; i++)
                free(f.copies[i]);
        free(f.copies);
        free(mem);
        return 0;
}
