/* Host unit tests for loaders/loader_flat.c, loaders/loader_multiboot.c and
 * loaders/guest_state.c, over synthetic images in a fake guest RAM. */
#include "tests/unit/check_compat.h"
#include "loaders/loader_flat.h"
#include "loaders/loader_multiboot.h"

#define RAM (8u << 20)

static uint8_t *ram;
static struct guest_mem mem;
static struct guest_state st;
static uint8_t img[16384];

static void setup(void)
{
        ram = calloc(1, RAM);
        mem = (struct guest_mem){ ram, RAM };
        memset(img, 0, sizeof(img));
        memset(&st, 0xee, sizeof(st));
}

static void teardown(void)
{
        free(ram);
}

static void put32(uint8_t *p, uint32_t v)
{
        memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
        memcpy(p, &v, 2);
}

static uint32_t get32(uint64_t gpa)
{
        uint32_t v;
        memcpy(&v, ram + gpa, 4);
        return v;
}

static uint64_t get64(uint64_t gpa)
{
        uint64_t v;
        memcpy(&v, ram + gpa, 8);
        return v;
}

/* ---- flat ---- */

START_TEST(flat_loads_at_7c00_in_real_mode)
{
        const uint8_t code[] = { 0xfa, 0xf4, 0x90 };
        ck_assert_ptr_null(loader_flat(code, sizeof(code), &mem, &st));
        ck_assert_mem_eq(ram + 0x7c00, code, sizeof(code));
        ck_assert_x64_eq(st.rip, 0x7c00);
        ck_assert_x64_eq(st.gpr[RDX], 0x80);
        ck_assert_x64_eq(st.cs.sel, 0);
        ck_assert_x64_eq(st.cs.base, 0);
        ck_assert_x64_eq(st.cs.limit, 0xffff);
        ck_assert_x64_eq(st.cs.ar, AR_TYPE_CODE_RX | AR_S | AR_P);
        ck_assert_x64_eq(st.ss.ar, AR_TYPE_DATA_RW | AR_S | AR_P);
        ck_assert_x64_eq(st.cr0 & 1, 0);
        ck_assert_x64_eq(st.rflags, 2);
        ck_assert_x64_eq(st.ldtr.ar, AR_UNUSABLE);
        ck_assert_x64_eq(st.tr.ar, AR_TYPE_TSS_BUSY | AR_P);
}
END_TEST

START_TEST(flat_refuses_empty_and_too_big)
{
        ck_assert_ptr_nonnull(loader_flat(img, 0, &mem, &st));
        size_t max = FLAT_MAX_END - FLAT_LOAD_ADDR;
        uint8_t *big = calloc(1, max + 1);
        ck_assert_ptr_null(loader_flat(big, max, &mem, &st));
        ck_assert_ptr_nonnull(loader_flat(big, max + 1, &mem, &st));
        free(big);
        struct guest_mem tiny = { ram, 0x8000 };
        ck_assert_ptr_nonnull(loader_flat(img, 0x1000, &tiny, &st));
}
END_TEST

/* ---- multiboot ---- */

/* A minimal ELF32 multiboot kernel: one PT_LOAD at paddr 0x100000 holding
 * the multiboot header and code, memsz larger than filesz (bss). */
static size_t build_elf(uint32_t mb_flags, uint32_t paddr, uint32_t vaddr, uint32_t entry)
{
        img[0] = 0x7f, img[1] = 'E', img[2] = 'L', img[3] = 'F';
        img[4] = 1, img[5] = 1, img[6] = 1;
        put16(img + 16, 2); /* ET_EXEC */
        put16(img + 18, 3); /* EM_386 */
        put32(img + 24, entry);
        put32(img + 28, 52); /* phoff */
        put16(img + 42, 32);
        put16(img + 44, 1);
        uint8_t *ph = img + 52;
        put32(ph, 1);          /* PT_LOAD */
        put32(ph + 4, 0x1000); /* offset */
        put32(ph + 8, vaddr);
        put32(ph + 12, paddr);
        put32(ph + 16, 0x100);  /* filesz */
        put32(ph + 20, 0x3000); /* memsz */
        uint8_t *h = img + 0x1000;
        put32(h, MB_HEADER_MAGIC);
        put32(h + 4, mb_flags);
        put32(h + 8, (uint32_t) - (MB_HEADER_MAGIC + mb_flags));
        h[0x20] = 0xf4;
        return 0x1100;
}

START_TEST(multiboot_detect)
{
        size_t len = build_elf(0, 0x100000, 0x100000, 0x100020);
        ck_assert(loader_multiboot_detect(img, len));
        img[0x1008] ^= 1; /* checksum */
        ck_assert(!loader_multiboot_detect(img, len));
        ck_assert(!loader_multiboot_detect(img, 3));
}
END_TEST

START_TEST(multiboot_elf_entry_state_and_info)
{
        size_t len = build_elf(3, 0x100000, 0x100000, 0x100020);
        memset(ram + 0x100100, 0xaa, 0x100); /* must become bss zeros */
        ck_assert_ptr_null(loader_multiboot(img, len, "console=x y", NULL, 0, &mem, &st));
        ck_assert_mem_eq(ram + 0x100000, img + 0x1000, 0x100);
        ck_assert_uint_eq(ram[0x100150], 0);
        ck_assert_x64_eq(st.rip, 0x100020);
        ck_assert_x64_eq(st.gpr[RAX], MB_BOOTLOADER_MAGIC);
        ck_assert_x64_eq(st.gpr[RBX], MB_INFO_ADDR);
        ck_assert_x64_eq(st.cr0 & 1, 1);
        ck_assert_x64_eq(st.cs.limit, 0xffffffff);
        ck_assert_x64_eq(st.cs.ar, AR_TYPE_CODE_RX | AR_S | AR_P | AR_DB | AR_G);
        ck_assert_x64_eq(st.ds.ar, AR_TYPE_DATA_RW | AR_S | AR_P | AR_DB | AR_G);
        ck_assert_x64_eq(st.rflags & (1u << 9), 0); /* IF clear */

        uint32_t flags = get32(MB_INFO_ADDR);
        ck_assert_x64_eq(flags, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MEM_MAP |
                                    MB_INFO_LOADER_NAME);
        ck_assert_uint_eq(get32(MB_INFO_ADDR + 4), 0x9f000 / 1024);
        ck_assert_uint_eq(get32(MB_INFO_ADDR + 8), (RAM - (1u << 20)) / 1024);
        ck_assert_str_eq((char *)ram + get32(MB_INFO_ADDR + 16), "console=x y");
        ck_assert_uint_eq(get32(MB_INFO_ADDR + 20), 0);
        ck_assert_str_eq((char *)ram + get32(MB_INFO_ADDR + 64), "vtvisor");
        uint32_t mlen = get32(MB_INFO_ADDR + 44), maddr = get32(MB_INFO_ADDR + 48);
        ck_assert_uint_eq(mlen, 3 * 24);
        const uint64_t want[3][3] = { { 0, 0x9f000, 1 },
                                      { 0x9f000, 0x61000, 2 },
                                      { 0x100000, RAM - 0x100000, 1 } };
        for (int i = 0; i < 3; i++) {
                uint32_t e = maddr + 24 * (uint32_t)i;
                ck_assert_uint_eq(get32(e), 20);
                ck_assert_x64_eq(get64(e + 4), want[i][0]);
                ck_assert_x64_eq(get64(e + 12), want[i][1]);
                ck_assert_uint_eq(get32(e + 20), want[i][2]);
        }
}
END_TEST

START_TEST(multiboot_modules)
{
        /* The kernel occupies [0x100000, 0x103000): modules follow it on
         * page boundaries, in order, listed with their command lines. */
        size_t len = build_elf(0, 0x100000, 0x100000, 0x100020);
        static const uint8_t a[] = "first module", b[5000] = { 1, 2, 3 };
        struct mb_module mods[3] = {
                { a, sizeof(a), "a.bin x=1" },
                { b, sizeof(b), NULL },
                { a, 0, "empty" },
        };
        ck_assert_ptr_null(loader_multiboot(img, len, "k", mods, 3, &mem, &st));
        ck_assert_uint_eq(get32(MB_INFO_ADDR + 20), 3);
        uint32_t list = get32(MB_INFO_ADDR + 24);
        ck_assert_uint_eq(list, MB_MODS_ADDR);
        const uint32_t start[3] = { 0x103000, 0x104000, 0x106000 };
        for (uint32_t i = 0; i < 3; i++) {
                ck_assert_x64_eq(get32(list + 16 * i), start[i]);
                ck_assert_x64_eq(get32(list + 16 * i + 4), start[i] + mods[i].len);
                ck_assert_uint_eq(get32(list + 16 * i + 12), 0);
                ck_assert_mem_eq(ram + start[i], mods[i].data, mods[i].len);
        }
        ck_assert_str_eq((char *)ram + get32(list + 8), "a.bin x=1");
        ck_assert_str_eq((char *)ram + get32(list + 16 + 8), "");
        ck_assert_str_eq((char *)ram + get32(list + 32 + 8), "empty");
        ck_assert_uint_ge(get32(list + 8), MB_MODS_CMDLINES);
        ck_assert_uint_lt(get32(list + 32 + 8), MB_MODS_CMDLINES_END);
}
END_TEST

START_TEST(multiboot_modules_refused)
{
        size_t len = build_elf(0, 0x100000, 0x100000, 0x100020);
        static uint8_t big[RAM];
        static char longline[8000];
        memset(longline, 'x', sizeof(longline) - 1);
        struct mb_module too_big = { big, RAM - 0x100000, "big" };
        struct mb_module long_cl = { big, 1, longline };
        struct mb_module many[MB_MODS_MAX + 1];
        for (size_t i = 0; i < MB_MODS_MAX + 1; i++)
                many[i] = (struct mb_module){ big, 1, "m" };
        memset(ram, 0xa5, 0x10000);
        const char *e = loader_multiboot(img, len, "k", &too_big, 1, &mem, &st);
        ck_assert_ptr_nonnull(e);
        ck_assert(strstr(e, "raise ram=") != NULL);
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "k", &long_cl, 1, &mem, &st));
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "k", many, MB_MODS_MAX + 1, &mem, &st));
        /* A refusal writes nothing below 1 MiB: no information, no list. */
        for (size_t i = 0; i < 0x10000; i++)
                ck_assert_uint_eq(ram[i], 0xa5);
        ck_assert_ptr_null(loader_multiboot(img, len, "k", many, MB_MODS_MAX, &mem, &st));
        ck_assert_uint_eq(get32(MB_INFO_ADDR + 20), MB_MODS_MAX);
}
END_TEST

START_TEST(multiboot_entry_translated_from_virtual)
{
        size_t len = build_elf(0, 0x200000, 0xc0200000, 0xc0200020);
        ck_assert_ptr_null(loader_multiboot(img, len, "", NULL, 0, &mem, &st));
        ck_assert_x64_eq(st.rip, 0x200020);
}
END_TEST

START_TEST(multiboot_aout_kludge)
{
        /* Header at file offset 0x40 describing a load at 0x300000. */
        uint32_t flags = (1u << 16);
        uint8_t *h = img + 0x40;
        put32(h, MB_HEADER_MAGIC);
        put32(h + 4, flags);
        put32(h + 8, (uint32_t) - (MB_HEADER_MAGIC + flags));
        put32(h + 12, 0x300040); /* header_addr */
        put32(h + 16, 0x300000); /* load_addr */
        put32(h + 20, 0x300200); /* load_end_addr */
        put32(h + 24, 0x301000); /* bss_end_addr */
        put32(h + 28, 0x300080); /* entry */
        img[0x80] = 0xf4;
        img[0x1ff] = 0x77;
        img[0x200] = 0x99; /* beyond load_end: not loaded */
        ck_assert_ptr_null(loader_multiboot(img, 0x400, "", NULL, 0, &mem, &st));
        ck_assert_x64_eq(st.rip, 0x300080);
        ck_assert_uint_eq(ram[0x300080], 0xf4);
        ck_assert_uint_eq(ram[0x3001ff], 0x77);
        ck_assert_uint_eq(ram[0x300200], 0);
        /* Entry outside the image. */
        put32(h + 28, 0x400000);
        ck_assert_ptr_nonnull(loader_multiboot(img, 0x400, "", NULL, 0, &mem, &st));
        /* load_end beyond the file. */
        put32(h + 28, 0x300080);
        put32(h + 20, 0x310000);
        ck_assert_ptr_nonnull(loader_multiboot(img, 0x400, "", NULL, 0, &mem, &st));
}
END_TEST

START_TEST(multiboot_refusals)
{
        size_t len;
        const char *e;

        ck_assert_ptr_nonnull(
            loader_multiboot(img, sizeof(img), "", NULL, 0, &mem, &st)); /* no header */

        len = build_elf(1u << 2, 0x100000, 0x100000, 0x100020); /* video required */
        e = loader_multiboot(img, len, "", NULL, 0, &mem, &st);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_nonnull(strstr(e, "video"));

        len = build_elf(1u << 5, 0x100000, 0x100000, 0x100020); /* unknown required bit */
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "", NULL, 0, &mem, &st));

        len = build_elf(0, 0x8000, 0x8000, 0x8020); /* below 1 MiB */
        e = loader_multiboot(img, len, "", NULL, 0, &mem, &st);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_nonnull(strstr(e, "below 1 MiB"));

        len = build_elf(0, RAM - 0x1000, RAM - 0x1000, RAM - 0x1000); /* memsz past RAM end */
        e = loader_multiboot(img, len, "", NULL, 0, &mem, &st);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_nonnull(strstr(e, "RAM"));

        len = build_elf(0, 0x100000, 0x100000, 0x900000); /* entry outside segments */
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "", NULL, 0, &mem, &st));

        len = build_elf(0, 0x100000, 0x100000, 0x100020);
        put32(img + 52 + 16, 0x4000); /* filesz > memsz */
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "", NULL, 0, &mem, &st));

        len = build_elf(0, 0x100000, 0x100000, 0x100020);
        put32(img + 52 + 4, 0xfffff000); /* offset beyond the file */
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "", NULL, 0, &mem, &st));

        len = build_elf(0, 0x100000, 0x100000, 0x100020);
        img[4] = 2; /* ELF64 */
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "", NULL, 0, &mem, &st));

        len = build_elf(0, 0x100000, 0x100000, 0x100020);
        put16(img + 44, 200); /* program headers past the end */
        ck_assert_ptr_nonnull(loader_multiboot(img, len, "", NULL, 0, &mem, &st));
}
END_TEST

START_TEST(multiboot_long_cmdline_truncated_safely)
{
        size_t len = build_elf(0, 0x100000, 0x100000, 0x100020);
        char line[0x400];
        memset(line, 'c', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\0';
        ck_assert_ptr_null(loader_multiboot(img, len, line, NULL, 0, &mem, &st));
        size_t room = MB_MMAP_ADDR - MB_CMDLINE_ADDR;
        ck_assert_uint_eq(strlen((char *)ram + MB_CMDLINE_ADDR), room - 1);
        ck_assert_uint_eq(get32(MB_MMAP_ADDR), 20); /* the map is intact */
}
END_TEST

int main(void)
{
        Suite *s = suite_create("loaders");
        TCase *tc = tcase_create("flat+multiboot");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, flat_loads_at_7c00_in_real_mode);
        tcase_add_test(tc, flat_refuses_empty_and_too_big);
        tcase_add_test(tc, multiboot_detect);
        tcase_add_test(tc, multiboot_elf_entry_state_and_info);
        tcase_add_test(tc, multiboot_entry_translated_from_virtual);
        tcase_add_test(tc, multiboot_modules);
        tcase_add_test(tc, multiboot_modules_refused);
        tcase_add_test(tc, multiboot_aout_kludge);
        tcase_add_test(tc, multiboot_refusals);
        tcase_add_test(tc, multiboot_long_cmdline_truncated_safely);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
