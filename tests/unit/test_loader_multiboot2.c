/* Host unit tests for loaders/loader_multiboot2.c over synthetic kernels in
 * a fake guest RAM: header detection, every header tag, each refusal, the
 * boot information byte for byte, and hostile offsets and sizes. */
#include <stdio.h>

#include "tests/unit/check_compat.h"
#include "lib/bytes.h"
#include "loaders/loader_multiboot2.h"

#define RAM    MiB(8)
#define IMG    40000
#define STATE  0xee
#define MAGIC2 MB2_HEADER_MAGIC

static uint8_t *ram;
static struct guest_mem mem;
static struct guest_state st;
static uint8_t img[IMG];
static uint8_t rsdp[36];
static size_t hdr_at, tag_at;

static void setup(void)
{
        ram = calloc(1, RAM);
        mem = (struct guest_mem){ ram, RAM };
        memset(img, 0, sizeof(img));
        memset(&st, STATE, sizeof(st));
        memcpy(rsdp, "RSD PTR ", 8);
        for (size_t i = 8; i < sizeof(rsdp); i++)
                rsdp[i] = (uint8_t)(i * 7);
        rsdp[15] = 2; /* revision */
}

static void teardown(void)
{
        free(ram);
}

static uint32_t rd32(uint64_t gpa)
{
        return get32(ram + gpa);
}

/* ---- building kernels ---- */

static void hdr_checksum(void)
{
        uint8_t *h = img + hdr_at;
        put32(h + 12, (uint32_t) - (get32(h) + get32(h + 4) + get32(h + 8)));
}

static void hdr_begin(size_t off)
{
        hdr_at = off;
        tag_at = off + 16;
        put32(img + off, MAGIC2);
        put32(img + off + 4, MB2_ARCH_I386);
}

static uint8_t *tag(uint16_t type, uint16_t flags, uint32_t size)
{
        uint8_t *t = img + tag_at;
        memset(t, 0, MIN(size, 256u));
        put16(t, type);
        put16(t + 2, flags);
        put32(t + 4, size);
        tag_at += ALIGN_UP(size, 8);
        return t;
}

/* The end tag; header_length covers everything so far. */
static void hdr_end(void)
{
        tag(MB2_HTAG_END, 0, 8);
        put32(img + hdr_at + 8, (uint32_t)(tag_at - hdr_at));
        hdr_checksum();
}

static void info_request(uint16_t flags, const uint32_t *types, size_t n)
{
        uint8_t *t = tag(MB2_HTAG_INFO_REQUEST, flags, (uint32_t)(8 + 4 * n));
        for (size_t i = 0; i < n; i++)
                put32(t + 8 + 4 * i, types[i]);
}

/* An ELF32 kernel: one PT_LOAD of file offset 0x1000, 0x400 bytes in the
 * file and 0x3000 in memory at physical 0x100000; its multiboot2 header
 * at file offset 0x1000 (tags to be added, then hdr_end()), HLT at entry
 * 0x100380. */
static size_t elf32(uint32_t paddr, uint32_t vaddr)
{
        img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
        img[4] = 1, img[5] = 1, img[6] = 1;
        put16(img + 16, 2); /* ET_EXEC */
        put16(img + 18, 3); /* EM_386 */
        put32(img + 24, vaddr + 0x380);
        put32(img + 28, 52);
        put16(img + 42, 32);
        put16(img + 44, 1);
        uint8_t *ph = img + 52;
        put32(ph, 1);
        put32(ph + 4, 0x1000);
        put32(ph + 8, vaddr);
        put32(ph + 12, paddr);
        put32(ph + 16, 0x400);
        put32(ph + 20, 0x3000);
        img[0x1380] = 0xf4;
        hdr_begin(0x1000);
        return 0x1400;
}

/* The same as ELF64 for x86-64, linked at 0xffffffff80000000 + paddr. */
static size_t elf64(uint64_t paddr)
{
        uint64_t vaddr = 0xffffffff80000000ULL + paddr;
        img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
        img[4] = 2, img[5] = 1, img[6] = 1;
        put16(img + 16, 2);
        put16(img + 18, 62); /* EM_X86_64 */
        put64(img + 24, vaddr + 0x380);
        put64(img + 32, 64);
        put16(img + 54, 56);
        put16(img + 56, 1);
        uint8_t *ph = img + 64;
        put32(ph, 1);
        put64(ph + 8, 0x1000);
        put64(ph + 16, vaddr);
        put64(ph + 24, paddr);
        put64(ph + 32, 0x400);
        put64(ph + 40, 0x3000);
        img[0x1380] = 0xf4;
        hdr_begin(0x1000);
        return 0x1400;
}

static struct mb2_params params(size_t len, const char *cmdline)
{
        return (struct mb2_params){ .image = img, .len = len, .cmdline = cmdline };
}

static const char *load(size_t len)
{
        struct mb2_params p = params(len, "");
        return loader_multiboot2(&p, &mem, &st);
}

/* A refusal names what is wrong and leaves the information area and the
 * vCPU state alone. */
static void refused(const char *err, const char *want)
{
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, want) != NULL, "'%s' does not say '%s'", err, want);
        for (uint64_t a = 0; a < MB2_STACK_TOP; a++)
                ck_assert_msg(ram[a] == 0, "byte 0x%llx written", (unsigned long long)a);
        uint8_t untouched[sizeof(st)];
        memset(untouched, STATE, sizeof(untouched));
        ck_assert_mem_eq(&st, untouched, sizeof(st));
}

/* ---- expected information ---- */

static uint8_t want[MB2_INFO_END - MB2_INFO_ADDR];
static size_t want_len;

static uint8_t *want_tag(uint32_t type, uint32_t size)
{
        uint8_t *t = want + want_len;
        put32(t, type);
        put32(t + 4, size);
        want_len += ALIGN_UP(size, 8);
        return t + 8;
}

static void want_begin(uint32_t load_base, const char *cmdline)
{
        memset(want, 0, sizeof(want));
        want_len = 8;
        put32(want_tag(21, 12), load_base);
        size_t n = strlen(cmdline) + 1;
        memcpy(want_tag(1, (uint32_t)(8 + n)), cmdline, n);
        memcpy(want_tag(2, 16), "vtvisor", 8);
}

static void want_module(uint32_t start, uint32_t end, const char *cl)
{
        size_t n = strlen(cl) + 1;
        uint8_t *m = want_tag(3, (uint32_t)(16 + n));
        put32(m, start);
        put32(m + 4, end);
        memcpy(m + 8, cl, n);
}

static void want_finish(bool acpi)
{
        uint8_t *b = want_tag(4, 16);
        put32(b, 636);
        put32(b + 4, (uint32_t)((RAM - MiB(1)) / 1024));
        uint8_t *m = want_tag(6, 16 + 3 * 24);
        put32(m, 24);
        put32(m + 4, 0);
        const uint64_t map[3][3] = { { 0, 0x9f000, 1 },
                                     { 0x9f000, 0x61000, 2 },
                                     { MiB(1), RAM - MiB(1), 1 } };
        for (int i = 0; i < 3; i++) {
                put64(m + 8 + 24 * i, map[i][0]);
                put64(m + 8 + 24 * i + 8, map[i][1]);
                put32(m + 8 + 24 * i + 16, (uint32_t)map[i][2]);
        }
        if (acpi) {
                memcpy(want_tag(14, 28), rsdp, 20);
                if (rsdp[15] >= 2)
                        memcpy(want_tag(15, 44), rsdp, 36);
        }
        want_tag(0, 8);
        put32(want, (uint32_t)want_len);
}

static void info_is_want(void)
{
        ck_assert_uint_eq(rd32(MB2_INFO_ADDR), want_len);
        for (size_t i = 0; i < want_len; i++)
                ck_assert_msg(ram[MB2_INFO_ADDR + i] == want[i],
                              "information byte %zu is 0x%02x, want 0x%02x", i,
                              ram[MB2_INFO_ADDR + i], want[i]);
        /* Nothing after it. */
        for (size_t i = want_len; i < 256; i++)
                ck_assert_uint_eq(ram[MB2_INFO_ADDR + i], 0);
}

/* ---- detection ---- */

START_TEST(detect)
{
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        ck_assert(loader_multiboot2_detect(img, len));
        ck_assert(!loader_multiboot_detect(img, len)); /* no v1 header */
        ck_assert(!loader_multiboot2_detect(img, 0x100f));
        img[0x100c] ^= 1; /* checksum */
        ck_assert(!loader_multiboot2_detect(img, len));
        ck_assert(!loader_multiboot2_detect(img, 3));

        /* 4-byte aligned only: not a header. */
        memset(img, 0, sizeof(img));
        hdr_begin(0x1004);
        hdr_end();
        ck_assert(!loader_multiboot2_detect(img, 0x2000));
        /* The last place a 16-byte header starts in the first 32 KiB. */
        memset(img, 0, sizeof(img));
        hdr_begin(32768 - 16);
        put32(img + hdr_at + 8, 24);
        hdr_checksum();
        ck_assert(loader_multiboot2_detect(img, IMG));
        refused(load(IMG), "does not fit in the first 32 KiB");
        memset(img, 0, sizeof(img));
        hdr_begin(32768 - 8);
        put32(img + hdr_at + 8, 24);
        hdr_checksum();
        ck_assert(!loader_multiboot2_detect(img, IMG));
}
END_TEST

/* ---- a clean load ---- */

START_TEST(elf32_state_and_information)
{
        size_t len = elf32(0x100000, 0x100000);
        static const uint32_t req[] = { 1, 2, 3, 4, 6, 14, 15, 21, 0 };
        info_request(0, req, ARRAY_SIZE(req));
        tag(MB2_HTAG_MODULE_ALIGN, 0, 8);
        put32(tag(MB2_HTAG_CONSOLE_FLAGS, 0, 12) + 8, 2); /* EGA text supported */
        hdr_end();
        memset(ram + 0x100400, 0xaa, 0x100); /* must become bss zeros */
        struct mb2_params p = params(len, "console=x y");
        p.rsdp = rsdp;
        p.rsdp_len = sizeof(rsdp);
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));

        ck_assert_mem_eq(ram + 0x100000, img + 0x1000, 0x400);
        for (uint64_t a = 0x100400; a < 0x103000; a++)
                ck_assert_uint_eq(ram[a], 0);
        ck_assert_x64_eq(st.rip, 0x100380);
        ck_assert_x64_eq(st.gpr[RAX], 0x36d76289);
        ck_assert_x64_eq(st.gpr[RBX], MB2_INFO_ADDR);
        ck_assert_x64_eq(st.gpr[RBX] % 8, 0);
        ck_assert_x64_eq(st.gpr[RSP], MB2_STACK_TOP);
        ck_assert_x64_eq(st.cr0 & 1, 1);
        ck_assert_x64_eq(st.cr0 & BIT(31), 0);
        ck_assert_x64_eq(st.cs.limit, 0xffffffff);
        ck_assert_x64_eq(st.cs.base, 0);
        ck_assert_x64_eq(st.cs.ar, AR_TYPE_CODE_RX | AR_S | AR_P | AR_DB | AR_G);
        ck_assert_x64_eq(st.ds.ar, AR_TYPE_DATA_RW | AR_S | AR_P | AR_DB | AR_G);
        ck_assert_x64_eq(st.ss.ar, AR_TYPE_DATA_RW | AR_S | AR_P | AR_DB | AR_G);
        ck_assert_x64_eq(st.rflags & (BIT(9) | BIT(17)), 0); /* IF and VM clear */

        want_begin(0x100000, "console=x y");
        want_finish(true);
        ck_assert_uint_eq(want_len, 256);
        info_is_want();
}
END_TEST

START_TEST(without_acpi_or_revision_0)
{
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        struct mb2_params p = params(len, "");
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
        want_begin(0x100000, "");
        want_finish(false);
        info_is_want();

        /* An ACPI 1.0 RSDP: only the old tag. */
        memset(ram, 0, RAM);
        rsdp[15] = 0;
        p.rsdp = rsdp;
        p.rsdp_len = 20;
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
        want_begin(0x100000, "");
        want_finish(true);
        info_is_want();
}
END_TEST

START_TEST(modules)
{
        /* The kernel occupies [0x100000, 0x103000): modules follow it on
         * page boundaries, in order, each in its own tag. */
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        static const uint8_t a[] = "first module", b[5000] = { 1, 2, 3 };
        struct mb_module mods[3] = {
                { a, sizeof(a), "a.bin x=1" },
                { b, sizeof(b), NULL },
                { a, 0, "empty" },
        };
        struct mb2_params p = params(len, "k");
        p.mods = mods;
        p.nmods = 3;
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
        const uint32_t start[3] = { 0x103000, 0x104000, 0x106000 };
        for (int i = 0; i < 3; i++)
                ck_assert_mem_eq(ram + start[i], mods[i].data, mods[i].len);
        want_begin(0x100000, "k");
        want_module(0x103000, 0x103000 + sizeof(a), "a.bin x=1");
        want_module(0x104000, 0x104000 + sizeof(b), "");
        want_module(0x106000, 0x106000, "empty");
        want_finish(false);
        info_is_want();
}
END_TEST

START_TEST(modules_refused)
{
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        static uint8_t big[RAM];
        static char longline[MB2_INFO_END - MB2_INFO_ADDR + 1];
        memset(longline, 'x', sizeof(longline) - 1);
        struct mb_module m = { big, RAM - 0x103000 + 1, "big" };
        struct mb2_params p = params(len, "k");
        p.mods = &m;
        p.nmods = 1;
        const char *e = loader_multiboot2(&p, &mem, &st);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_nonnull(strstr(e, "raise ram="));
        memset(ram, 0, RAM);
        m.len = RAM - 0x103000; /* exactly fits */
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));

        memset(ram, 0, RAM);
        memset(&st, STATE, sizeof(st));
        m = (struct mb_module){ big, 1, longline };
        refused(loader_multiboot2(&p, &mem, &st), "longer than the multiboot2 information area");

        static struct mb_module many[MB2_MODS_MAX + 1];
        for (size_t i = 0; i < ARRAY_SIZE(many); i++)
                many[i] = (struct mb_module){ big, 1, "m" };
        p.mods = many;
        p.nmods = MB2_MODS_MAX + 1;
        refused(loader_multiboot2(&p, &mem, &st), "more than 64 modules");
        /* 64 modules with 400-byte command lines: more than 24 KiB of tags. */
        static char line400[401];
        memset(line400, 'y', 400);
        for (size_t i = 0; i < MB2_MODS_MAX; i++)
                many[i].cmdline = line400;
        p.nmods = MB2_MODS_MAX;
        refused(loader_multiboot2(&p, &mem, &st), "shorten the command lines");
        p.nmods = 10;
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));

        memset(ram, 0, RAM);
        memset(&st, STATE, sizeof(st));
        p.nmods = 0;
        p.cmdline = longline;
        refused(loader_multiboot2(&p, &mem, &st), "command line is longer");
}
END_TEST

/* ---- other layouts ---- */

START_TEST(elf_entry_translated_and_entry_tag)
{
        size_t len = elf32(0x200000, 0xc0200000);
        hdr_end();
        ck_assert_ptr_null(load(len));
        ck_assert_x64_eq(st.rip, 0x200380);
        ck_assert_x64_eq(rd32(MB2_INFO_ADDR + 16), 0x200000); /* load base */

        /* The entry address tag wins over the ELF entry. */
        memset(ram, 0, RAM);
        len = elf32(0x100000, 0x100000);
        put32(tag(MB2_HTAG_ENTRY, 0, 12) + 8, 0x100100);
        hdr_end();
        ck_assert_ptr_null(load(len));
        ck_assert_x64_eq(st.rip, 0x100100);

        memset(ram, 0, RAM);
        memset(&st, STATE, sizeof(st));
        memset(img, 0, sizeof(img));
        len = elf32(0x100000, 0x100000);
        put32(tag(MB2_HTAG_ENTRY, 0, 12) + 8, 0x103000);
        hdr_end();
        const char *e = load(len);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_nonnull(strstr(e, "header's entry lies outside every loaded segment"));
}
END_TEST

START_TEST(elf64_kernel)
{
        size_t len = elf64(0x100000);
        hdr_end();
        ck_assert_ptr_null(load(len));
        ck_assert_x64_eq(st.rip, 0x100380);
        ck_assert_mem_eq(ram + 0x100000, img + 0x1000, 0x400);
        ck_assert_x64_eq(st.cs.ar & AR_L, 0); /* 32-bit protected mode all the same */

        /* Hostile 64-bit fields. */
        memset(ram, 0, RAM);
        memset(&st, STATE, sizeof(st));
        put64(img + 64 + 24, BIT(32)); /* paddr */
        refused(load(len), "above 4 GiB");
        put64(img + 64 + 24, 0x100000);
        put64(img + 64 + 8, BIT(63)); /* offset */
        refused(load(len), "past the end of the file");
        put64(img + 64 + 8, 0x1000);
        put64(img + 64 + 32, UINT64_MAX); /* filesz */
        refused(load(len), "past the end of the file");
        put64(img + 64 + 32, 0x400);
        put64(img + 32, UINT64_MAX - 8); /* phoff */
        refused(load(len), "program headers are missing or truncated");
        put64(img + 32, 64);
        put16(img + 18, 3); /* ELF64 for i386 */
        refused(load(len), "not for x86-64");
}
END_TEST

/* An a.out-kludge kernel: header at file offset 0x40, file loaded at
 * 0x300000, text and data 0x200 bytes, bss to 0x1000, entry at +0x80. */
static size_t aout(uint32_t load_addr, uint32_t load_end, uint32_t bss_end, bool entry)
{
        hdr_begin(0x40);
        uint8_t *a = tag(MB2_HTAG_ADDRESS, 0, 24);
        put32(a + 8, 0x300040);
        put32(a + 12, load_addr);
        put32(a + 16, load_end);
        put32(a + 20, bss_end);
        if (entry)
                put32(tag(MB2_HTAG_ENTRY, 0, 12) + 8, 0x300080);
        hdr_end();
        img[0x80] = 0xf4;
        return 0x400;
}

START_TEST(aout_kludge)
{
        memset(img + 0x200, 0x77, 0x200); /* past load_end: not loaded */
        size_t len = aout(0x300000, 0x300200, 0x301000, true);
        ck_assert_ptr_null(load(len));
        ck_assert_mem_eq(ram + 0x300000, img, 0x200);
        ck_assert_uint_eq(ram[0x300200], 0);
        ck_assert_uint_eq(ram[0x300fff], 0);
        ck_assert_x64_eq(st.rip, 0x300080);
        ck_assert_x64_eq(rd32(MB2_INFO_ADDR + 16), 0x300000);

        /* load_end 0: the whole file; bss_end 0: no bss; load_addr -1:
         * from the file's start. */
        memset(ram, 0, RAM);
        len = aout(0xffffffff, 0, 0, true);
        ck_assert_ptr_null(load(len));
        ck_assert_mem_eq(ram + 0x300000, img, 0x400);
        ck_assert_uint_eq(ram[0x300400], 0);

        /* Modules go after the bss. */
        memset(ram, 0, RAM);
        len = aout(0x300000, 0x300200, 0x301800, true);
        static const uint8_t m[] = "mod";
        struct mb_module mod = { m, sizeof(m), "c" };
        struct mb2_params p = params(len, "");
        p.mods = &mod;
        p.nmods = 1;
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
        ck_assert_mem_eq(ram + 0x302000, m, sizeof(m));
}
END_TEST

START_TEST(aout_refusals)
{
        size_t len = aout(0x300000, 0x300200, 0x301000, false);
        refused(load(len), "address tag but no entry address tag");
        len = aout(0x300041, 0x300200, 0x301000, true);
        refused(load(len), "load_addr lies before the file's start");
        len = aout(0x300000 - 0x41, 0, 0, true); /* 0x41 bytes before the file */
        refused(load(len), "load_addr lies before the file's start");
        len = aout(0x300000, 0x2fffff, 0, true);
        refused(load(len), "load_end_addr is below load_addr");
        len = aout(0x300000, 0x300401, 0, true);
        refused(load(len), "shorter than the multiboot header's load_end_addr");
        len = aout(0x300000, 0xffffffff, 0, true);
        refused(load(len), "shorter than the multiboot header's load_end_addr");
        len = aout(0x300000, 0x300200, 0x3001ff, true);
        refused(load(len), "bss_end_addr is below load_end_addr");
        len = aout(0x300000, 0x300200, 0xffffffff, true);
        refused(load(len), "does not fit in the VM's RAM");
        /* Entry outside the image. */
        hdr_begin(0x40);
        uint8_t *a = tag(MB2_HTAG_ADDRESS, 0, 24);
        put32(a + 8, 0x300040), put32(a + 12, 0x300000);
        put32(tag(MB2_HTAG_ENTRY, 0, 12) + 8, 0x300400);
        hdr_end();
        refused(load(0x400), "entry lies outside the loaded image");
        /* header_addr below the file's start with load_addr -1. */
        hdr_begin(0x40);
        a = tag(MB2_HTAG_ADDRESS, 0, 24);
        put32(a + 8, 0x3f), put32(a + 12, 0xffffffff);
        put32(tag(MB2_HTAG_ENTRY, 0, 12) + 8, 0x300080);
        hdr_end();
        refused(load(0x400), "header_addr lies below the file's start");
        /* Below 1 MiB, where the information lives. */
        hdr_begin(0x40);
        a = tag(MB2_HTAG_ADDRESS, 0, 24);
        put32(a + 8, 0x8040), put32(a + 12, 0x8000);
        put32(tag(MB2_HTAG_ENTRY, 0, 12) + 8, 0x8080);
        hdr_end();
        refused(load(0x400), "below 1 MiB");
}
END_TEST

/* ---- the header and its tags ---- */

START_TEST(header_refusals)
{
        refused(load(sizeof(img)), "no multiboot2 header");
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        struct guest_mem small = { ram, MiB(2) - 4096 };
        struct mb2_params p = params(len, "");
        refused(loader_multiboot2(&p, &small, &st), "at least 2 MiB");

        put32(img + hdr_at + 4, 4); /* MIPS */
        hdr_checksum();
        refused(load(len), "architecture is 4");
        put32(img + hdr_at + 4, 0);

        put32(img + hdr_at + 8, 16); /* no room for the end tag */
        hdr_checksum();
        refused(load(len), "header_length 16");
        put32(img + hdr_at + 8, 0xfffffff8);
        hdr_checksum();
        refused(load(len), "header_length 4294967288");
        memset(img + 0x1010, 0, 8); /* no end tag where the tags are */
        put32(img + hdr_at + 8, 0x400);
        hdr_checksum();
        refused(load(len), "has size 0");

        /* Tags running to header_length without an end tag. */
        hdr_begin(0x1000);
        tag(MB2_HTAG_MODULE_ALIGN, 0, 8);
        put32(img + hdr_at + 8, 24);
        hdr_checksum();
        refused(load(len), "no end tag");
}
END_TEST

START_TEST(tag_refusals)
{
        size_t len = elf32(0x100000, 0x100000);
        struct {
                uint16_t type, flags;
                uint32_t size, value;
                const char *want; /* NULL: accepted */
        } cases[] = {
                { MB2_HTAG_ADDRESS, 0, 16, 0, "too small for its fields" },
                { MB2_HTAG_ENTRY, 0, 8, 0, "too small" },
                { MB2_HTAG_CONSOLE_FLAGS, 0, 12, 1, "requires a console" },
                { MB2_HTAG_CONSOLE_FLAGS, 1, 12, 3, "requires a console" },
                { MB2_HTAG_CONSOLE_FLAGS, 0, 12, 2, NULL },
                { MB2_HTAG_FRAMEBUFFER, 0, 20, 0, "requires a framebuffer" },
                { MB2_HTAG_FRAMEBUFFER, 1, 20, 0, NULL },
                { MB2_HTAG_FRAMEBUFFER, 1, 12, 0, "too small" },
                { MB2_HTAG_MODULE_ALIGN, 0, 8, 0, NULL },
                { MB2_HTAG_EFI_BS, 0, 8, 0, "EFI boot services" },
                { MB2_HTAG_EFI_BS, 1, 8, 0, NULL },
                { MB2_HTAG_ENTRY_EFI32, 0, 12, 0, "EFI entry (multiboot2 header tag 8" },
                { MB2_HTAG_ENTRY_EFI64, 0, 12, 0, "EFI entry (multiboot2 header tag 9" },
                { MB2_HTAG_ENTRY_EFI64, 1, 12, 0, NULL },
                { MB2_HTAG_RELOCATABLE, 0, 24, 0, NULL },
                { 42, 0, 8, 0, "header tag 42, which vtvisor does not know" },
                { 42, 1, 8, 0, NULL },
                { MB2_HTAG_END, 0, 16, 0, "end tag does not have size 8" },
                { MB2_HTAG_MODULE_ALIGN, 0, 4, 0, "has size 4" },
                { MB2_HTAG_MODULE_ALIGN, 0, 0xfffffff8, 0, "past the end of the header" },
                { MB2_HTAG_INFO_REQUEST, 0, 10, 0, "not 8 plus a multiple of 4" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                memset(ram, 0, RAM);
                memset(&st, STATE, sizeof(st));
                hdr_begin(0x1000);
                memset(img + 0x1010, 0, 0x40);
                uint8_t *t = tag(cases[i].type, cases[i].flags, cases[i].size);
                if (cases[i].size >= 12 && cases[i].size < 0x40)
                        put32(t + 8, cases[i].value);
                if (cases[i].size >= 0x40)
                        tag_at = 0x1010 + 8; /* keep the end tag near */
                hdr_end();
                const char *e = load(len);
                if (cases[i].want)
                        refused(e, cases[i].want);
                else
                        ck_assert_msg(e == NULL, "tag %u flags %u: %s", cases[i].type,
                                      cases[i].flags, e);
        }
}
END_TEST

START_TEST(information_requests)
{
        size_t len = elf32(0x100000, 0x100000);
        struct mb2_params p = params(len, "");
        for (uint32_t type = 0; type <= 24; type++) {
                memset(ram, 0, RAM);
                memset(&st, STATE, sizeof(st));
                hdr_begin(0x1000);
                info_request(0, &type, 1);
                hdr_end();
                bool givable = type <= 4 || type == 6 || type == 21;
                p.rsdp = NULL;
                const char *e = loader_multiboot2(&p, &mem, &st);
                if (givable) {
                        ck_assert_msg(e == NULL, "type %u: %s", type, e);
                        continue;
                }
                char want_type[32];
                snprintf(want_type, sizeof(want_type), "(tag type %u)", type);
                refused(e, want_type);
                if (type == 8)
                        refused(e, "framebuffer information");
                if (type == 14 || type == 15) {
                        refused(e, "no ACPI tables");
                        memset(&st, STATE, sizeof(st));
                        p.rsdp = rsdp;
                        p.rsdp_len = sizeof(rsdp);
                        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
                }
                /* Optional: ignored. */
                memset(ram, 0, RAM);
                hdr_begin(0x1000);
                info_request(MB2_HTAG_OPTIONAL, &type, 1);
                hdr_end();
                ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
        }
        /* The new RSDP needs a revision 2 RSDP of 36 bytes. */
        memset(ram, 0, RAM);
        memset(&st, STATE, sizeof(st));
        hdr_begin(0x1000);
        uint32_t t15 = 15;
        info_request(0, &t15, 1);
        hdr_end();
        p.rsdp = rsdp;
        p.rsdp_len = 20;
        refused(loader_multiboot2(&p, &mem, &st), "ACPI new RSDP");
}
END_TEST

START_TEST(elf_refusals)
{
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        img[0] = 0;
        refused(load(len), "not an ELF file and no address tag");
        img[0] = 0x7f;
        img[4] = 3;
        refused(load(len), "not 32- or 64-bit little-endian");
        img[4] = 1, img[5] = 2;
        refused(load(len), "not 32- or 64-bit little-endian");
        img[5] = 1;
        put16(img + 18, 62);
        refused(load(len), "not for i386");
        put16(img + 18, 3);
        put32(img + 28, 0xffffffff); /* phoff */
        refused(load(len), "program headers are missing or truncated");
        put32(img + 28, 52);
        put16(img + 44, 0xffff); /* phnum */
        refused(load(len), "program headers are missing or truncated");
        put16(img + 44, 1);
        put16(img + 42, 16); /* phentsize */
        refused(load(len), "program headers are missing or truncated");
        put16(img + 42, 32);
        uint8_t *ph = img + 52;
        put32(ph + 4, 0xfffff000); /* offset + filesz wraps */
        put32(ph + 16, 0x2000);
        refused(load(len), "past the end of the file");
        put32(ph + 4, 0x1000);
        put32(ph + 16, 0x400);
        put32(ph + 16, 0x4000); /* filesz > memsz */
        refused(load(0x6000), "file size exceeds its memory size");
        put32(ph + 16, 0x400);
        put32(ph + 12, 0xfffff000); /* paddr + memsz past 4 GiB */
        refused(load(len), "above 4 GiB");
        put32(ph + 12, 0x7fe000); /* past the end of RAM */
        refused(load(len), "does not fit in the VM's RAM");
        put32(ph + 12, 0x9f000);
        refused(load(len), "below 1 MiB");
        put32(ph + 12, 0x100000);
        put32(ph + 20, 0);
        refused(load(len), "no loadable segment");
        put32(ph + 20, 0x3000);
        put32(img + 24, 0x103000); /* entry just past the segment */
        refused(load(len), "ELF entry point lies outside every loaded segment");
}
END_TEST

START_TEST(long_cmdline)
{
        size_t len = elf32(0x100000, 0x100000);
        hdr_end();
        static char line[4000];
        memset(line, 'z', sizeof(line) - 1);
        struct mb2_params p = params(len, line);
        ck_assert_ptr_null(loader_multiboot2(&p, &mem, &st));
        ck_assert_uint_eq(rd32(MB2_INFO_ADDR + 24), 1);
        ck_assert_uint_eq(rd32(MB2_INFO_ADDR + 28), 8 + sizeof(line));
        ck_assert_str_eq((char *)ram + MB2_INFO_ADDR + 32, line);
        want_begin(0x100000, line);
        want_finish(false);
        info_is_want();
}
END_TEST

int main(void)
{
        Suite *s = suite_create("loader_multiboot2");
        TCase *tc = tcase_create("multiboot2");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, detect);
        tcase_add_test(tc, elf32_state_and_information);
        tcase_add_test(tc, without_acpi_or_revision_0);
        tcase_add_test(tc, modules);
        tcase_add_test(tc, modules_refused);
        tcase_add_test(tc, elf_entry_translated_and_entry_tag);
        tcase_add_test(tc, elf64_kernel);
        tcase_add_test(tc, aout_kludge);
        tcase_add_test(tc, aout_refusals);
        tcase_add_test(tc, header_refusals);
        tcase_add_test(tc, tag_refusals);
        tcase_add_test(tc, information_requests);
        tcase_add_test(tc, elf_refusals);
        tcase_add_test(tc, long_cmdline);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
