/* Host unit tests for loaders/kernel_image.c, the kernel-image loading the
 * multiboot v1 and multiboot2 loaders share: the header search, ELF32 and
 * ELF64 program headers, the a.out-kludge layout and their bounds, over
 * synthetic images in a fake guest RAM. */
#include "tests/unit/check_compat.h"
#include "lib/bytes.h"
#include "loaders/kernel_image.h"

#define RAM   MiB(8)
#define MAGIC 0x1badb002u

static uint8_t *ram;
static struct guest_mem mem;
static struct kernel_image k;
static uint8_t img[16384];

static void setup(void)
{
        ram = calloc(1, RAM);
        mem = (struct guest_mem){ ram, RAM };
        memset(img, 0, sizeof(img));
        memset(&k, 0xee, sizeof(k));
}

static void teardown(void)
{
        free(ram);
}

static void refused(const char *err, const char *want)
{
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, want) != NULL, "'%s' does not say '%s'", err, want);
        static const uint8_t zeros[KERNEL_IMAGE_MIN];
        ck_assert_msg(memcmp(ram, zeros, sizeof(zeros)) == 0, "RAM below 1 MiB written");
}

/* ---- the header search ---- */

static void header(size_t off, size_t nwords)
{
        uint32_t sum = MAGIC;
        put32(img + off, MAGIC);
        for (size_t i = 1; i + 1 < nwords; i++) {
                put32(img + off + 4 * i, (uint32_t)(0x100 * i));
                sum += (uint32_t)(0x100 * i);
        }
        put32(img + off + 4 * (nwords - 1), (uint32_t)-sum);
}

START_TEST(find_header_magic_checksum_alignment_limit)
{
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 8192, 4, MAGIC, 3), -1);
        header(0x104, 3);
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 8192, 4, MAGIC, 3), 0x104);
        /* Not at a multiple of 8; a fourth word breaks the sum. */
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 8192, 8, MAGIC, 3), -1);
        put32(img + 0x110, 1);
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 8192, 4, MAGIC, 4), -1);
        /* The whole header must lie below the limit and the file's end. */
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 0x110, 4, MAGIC, 3), 0x104);
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 0x10f, 4, MAGIC, 3), -1);
        ck_assert_int_eq(kernel_image_find_header(img, 0x10f, 8192, 4, MAGIC, 3), -1);
        header(0x200, 4);
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 8192, 8, MAGIC, 4), 0x200);
        img[0x200 + 12] ^= 1;
        ck_assert_int_eq(kernel_image_find_header(img, sizeof(img), 8192, 8, MAGIC, 4), -1);
}
END_TEST

/* ---- ELF ---- */

/* ELF32 for i386: two PT_LOADs, [0x200000, 0x201000) from file 0x1000 and
 * [0x300000, 0x304000) from file 0x2000 (0x800 bytes, then bss), linked
 * at 0xc0000000 + paddr, with a PT_NOTE between them. */
static size_t elf32(uint32_t entry)
{
        img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
        img[4] = 1, img[5] = 1, img[6] = 1;
        put16(img + 18, 3);
        put32(img + 24, entry);
        put32(img + 28, 52);
        put16(img + 42, 32);
        put16(img + 44, 3);
        const uint32_t ph[3][6] = {
                { 1, 0x1000, 0xc0200000, 0x200000, 0x1000, 0x1000 },
                { 4, 0x2000, 0, 0, 0x10, 0x10 },
                { 1, 0x2000, 0xc0300000, 0x300000, 0x800, 0x4000 },
        };
        for (int i = 0; i < 3; i++)
                for (int j = 0; j < 6; j++)
                        put32(img + 52 + 32 * i + 4 * j, ph[i][j]);
        memset(img + 0x1000, 0x11, 0x1000);
        memset(img + 0x2000, 0x22, 0x800);
        return 0x2800;
}

/* ELF64 for x86-64: one PT_LOAD [0x100000, 0x103000) from file 0x1000
 * (0x400 bytes), linked at 0xffffffff80000000 + paddr. */
static size_t elf64(void)
{
        img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
        img[4] = 2, img[5] = 1, img[6] = 1;
        put16(img + 18, 62);
        put64(img + 24, 0xffffffff80100380ULL);
        put64(img + 32, 64);
        put16(img + 54, 56);
        put16(img + 56, 1);
        uint8_t *ph = img + 64;
        put32(ph, 1);
        put64(ph + 8, 0x1000);
        put64(ph + 16, 0xffffffff80100000ULL);
        put64(ph + 24, 0x100000);
        put64(ph + 32, 0x400);
        put64(ph + 40, 0x3000);
        memset(img + 0x1000, 0x33, 0x400);
        return 0x1400;
}

START_TEST(elf32_segments_span_and_entry)
{
        memset(ram + 0x300800, 0xaa, 0x100); /* must become bss zeros */
        size_t len = elf32(0xc0300010);
        ck_assert(kernel_image_is_elf(img, len));
        ck_assert(!kernel_image_is_elf(img, 51));
        ck_assert_ptr_null(kernel_image_load_elf(img, len, false, NULL, &mem, &k));
        ck_assert_x64_eq(k.lo, 0x200000);
        ck_assert_x64_eq(k.hi, 0x304000);
        ck_assert_x64_eq(k.entry, 0x300010);
        ck_assert_mem_eq(ram + 0x200000, img + 0x1000, 0x1000);
        ck_assert_mem_eq(ram + 0x300000, img + 0x2000, 0x800);
        for (size_t i = 0x300800; i < 0x304000; i++)
                ck_assert_uint_eq(ram[i], 0);

        /* A physical entry from the header instead, in either segment. */
        uint32_t at = 0x200ffc;
        ck_assert_ptr_null(kernel_image_load_elf(img, len, true, &at, &mem, &k));
        ck_assert_x64_eq(k.entry, 0x200ffc);
        at = 0x201000; /* between the segments */
        memset(ram, 0, RAM);
        refused(kernel_image_load_elf(img, len, false, &at, &mem, &k),
                "header's entry lies outside every loaded segment");
        len = elf32(0xc0201000);
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k),
                "ELF entry point lies outside every loaded segment");
}
END_TEST

START_TEST(elf64_only_when_allowed)
{
        size_t len = elf64();
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k), "not 32-bit little-endian");
        ck_assert_ptr_null(kernel_image_load_elf(img, len, true, NULL, &mem, &k));
        ck_assert_x64_eq(k.lo, 0x100000);
        ck_assert_x64_eq(k.hi, 0x103000);
        ck_assert_x64_eq(k.entry, 0x100380);
        ck_assert_mem_eq(ram + 0x100000, img + 0x1000, 0x400);

        memset(ram, 0, RAM);
        refused(kernel_image_load_elf(img, 63, true, NULL, &mem, &k), "ELF64 header is truncated");
        put16(img + 18, 3);
        refused(kernel_image_load_elf(img, len, true, NULL, &mem, &k), "not for x86-64");
        put16(img + 18, 62);
        put64(img + 64 + 24, BIT(32)); /* paddr */
        refused(kernel_image_load_elf(img, len, true, NULL, &mem, &k), "above 4 GiB");
        put64(img + 64 + 24, 0x100000);
        put64(img + 64 + 8, BIT(63)); /* offset */
        refused(kernel_image_load_elf(img, len, true, NULL, &mem, &k), "past the end of the file");
}
END_TEST

START_TEST(elf_refusals)
{
        size_t len = elf32(0xc0300010);
        img[5] = 2;
        refused(kernel_image_load_elf(img, len, true, NULL, &mem, &k),
                "not 32- or 64-bit little-endian");
        img[5] = 1;
        put16(img + 18, 62);
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k), "not for i386");
        put16(img + 18, 3);
        put16(img + 44, 0x200);
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k),
                "program headers are missing or truncated");
        put16(img + 44, 3);
        put32(img + 52 + 64 + 16, 0x5000); /* filesz > memsz */
        refused(kernel_image_load_elf(img, 0x8000, false, NULL, &mem, &k),
                "file size exceeds its memory size");
        put32(img + 52 + 64 + 16, 0x800);
        put32(img + 52 + 64 + 12, 0x9f000);
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k), "below 1 MiB");
        put32(img + 52 + 64 + 12, 0x7fe000);
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k), "raise ram=");
        /* Straddling 4 GiB in a RAM larger than that: refused before any
         * byte is written (this RAM is not really 8 GiB). */
        struct guest_mem huge = { ram, 8ULL << 30 };
        put32(img + 52 + 64 + 12, 0xfffff000);
        refused(kernel_image_load_elf(img, len, false, NULL, &huge, &k), "above 4 GiB");
        put32(img + 52 + 64 + 12, 0x300000);
        for (int i = 0; i < 3; i++)
                put32(img + 52 + 32 * i + 20, 0);
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k), "no loadable segment");
        img[0] = 0;
        refused(kernel_image_load_elf(img, len, false, NULL, &mem, &k), "not an ELF file");
}
END_TEST

/* ---- the a.out kludge ---- */

/* The header at file offset 0x40 says the file loads at 0x300000, 0x200
 * bytes, bss to 0x301000, entry at +0x80. */
static struct kernel_aout aout(void)
{
        memset(img, 0x44, 0x400);
        return (struct kernel_aout){ .header_off = 0x40,
                                     .header_addr = 0x300040,
                                     .load_addr = 0x300000,
                                     .load_end = 0x300200,
                                     .bss_end = 0x301000,
                                     .entry = 0x300080 };
}

START_TEST(aout_layout)
{
        struct kernel_aout a = aout();
        ck_assert_ptr_null(kernel_image_load_aout(img, 0x400, &a, &mem, &k));
        ck_assert_x64_eq(k.lo, 0x300000);
        ck_assert_x64_eq(k.hi, 0x301000);
        ck_assert_x64_eq(k.entry, 0x300080);
        ck_assert_mem_eq(ram + 0x300000, img, 0x200);
        ck_assert_uint_eq(ram[0x300200], 0);

        /* load_end 0: the whole file from header_off - (header_addr -
         * load_addr); bss_end 0: no bss. */
        memset(ram, 0, RAM);
        a.load_addr = 0x300020, a.load_end = 0, a.bss_end = 0;
        ck_assert_ptr_null(kernel_image_load_aout(img, 0x400, &a, &mem, &k));
        ck_assert_x64_eq(k.lo, 0x300020);
        ck_assert_x64_eq(k.hi, 0x300020 + 0x3e0);
        ck_assert_mem_eq(ram + 0x300020, img + 0x20, 0x3e0);
}
END_TEST

START_TEST(aout_refusals)
{
        struct kernel_aout a = aout();
        a.load_addr = 0x300041;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k), "after header_addr");
        a = aout(), a.load_addr = 0x300000 - 1;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k), "before the file's start");
        a = aout(), a.load_end = 0x2fffff;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k),
                "load_end_addr is below load_addr");
        a = aout(), a.load_end = 0x300401;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k),
                "shorter than the multiboot header's load_end_addr");
        a = aout(), a.bss_end = 0x3001ff;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k),
                "bss_end_addr is below load_end_addr");
        a = aout(), a.load_end = 0x300000, a.bss_end = 0;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k), "nothing to load");
        a = aout(), a.entry = 0x301000;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k),
                "entry lies outside the loaded image");
        a = aout(), a.bss_end = 0xffffffff;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k), "does not fit in the VM's RAM");
        a = aout(), a.header_addr = 0x8040, a.load_addr = 0x8000, a.load_end = 0x8200;
        a.bss_end = 0, a.entry = 0x8080;
        refused(kernel_image_load_aout(img, 0x400, &a, &mem, &k), "below 1 MiB");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("kernel_image");
        TCase *tc = tcase_create("kernel_image");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, find_header_magic_checksum_alignment_limit);
        tcase_add_test(tc, elf32_segments_span_and_entry);
        tcase_add_test(tc, elf64_only_when_allowed);
        tcase_add_test(tc, elf_refusals);
        tcase_add_test(tc, aout_layout);
        tcase_add_test(tc, aout_refusals);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
