/* Host unit tests for boot/bootinfo.c.  Multiboot v1 and multiboot2
 * information is built in a fake physical memory; the mapper hands the
 * parser a fresh heap copy of exactly the bytes it asked for, so reading one
 * byte more than it mapped is caught by ASan, and it returns NULL for
 * anything outside the fake memory. */
#include "tests/unit/check_compat.h"
#include "boot/bootinfo.h"

/* ---- fake physical memory ---- */

#define RAM_BASE 0x00100000ULL
#define RAM_SIZE 0x10000u

static _Alignas(8) uint8_t ram[RAM_SIZE];
static uint64_t ram_size; /* bytes of ram that are mapped */
static uint64_t ram_next; /* bump allocator for building structures */

static void **copies;
static size_t ncopies, copies_cap;
static unsigned map_calls;
static unsigned map_limit; /* NULL after this many calls (0: no limit) */

static void keep(void *p)
{
        if (ncopies == copies_cap) {
                copies_cap = copies_cap ? 2 * copies_cap : 256;
                copies = realloc(copies, copies_cap * sizeof(*copies));
                ck_assert_ptr_nonnull(copies);
        }
        copies[ncopies++] = p;
}

static const void *fake_map(void *ctx, uint64_t pa, size_t len)
{
        if (ctx != ram)
                ck_abort_msg("mapper: wrong context");
        map_calls++;
        if (map_limit && map_calls > map_limit)
                return NULL;
        if (len == 0 || !range_within(pa, len, RAM_BASE, ram_size))
                return NULL;
        void *p = malloc(len);
        if (!p)
                ck_abort_msg("out of host memory");
        memcpy(p, ram + (pa - RAM_BASE), len);
        keep(p);
        return p;
}

static void setup(void)
{
        memset(ram, 0xee, sizeof(ram)); /* junk, as in uninitialised RAM */
        ram_size = RAM_SIZE;
        ram_next = RAM_BASE;
        map_calls = 0;
        map_limit = 0;
}

static void teardown(void)
{
        for (size_t i = 0; i < ncopies; i++)
                free(copies[i]);
        free(copies);
        copies = NULL;
        ncopies = copies_cap = 0;
}

static uint8_t *at(uint64_t pa)
{
        ck_assert(pa >= RAM_BASE && pa < RAM_BASE + RAM_SIZE);
        return ram + (pa - RAM_BASE);
}

static void w32(uint64_t pa, uint32_t v)
{
        uint8_t *p = at(pa);
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void w64(uint64_t pa, uint64_t v)
{
        w32(pa, (uint32_t)v);
        w32(pa + 4, (uint32_t)(v >> 32));
}

/* Reserves len bytes (8-aligned), zeroed. */
static uint64_t alloc(size_t len)
{
        uint64_t pa = ram_next;
        ram_next = ALIGN_UP(ram_next + len, 8);
        ck_assert(ram_next <= RAM_BASE + RAM_SIZE);
        memset(at(pa), 0, len);
        return pa;
}

static uint64_t put_str(const char *s)
{
        uint64_t pa = alloc(strlen(s) + 1);
        memcpy(at(pa), s, strlen(s) + 1);
        return pa;
}

static struct bootinfo bi;

static const char *parse(uint32_t magic, uint64_t info_pa)
{
        memset(&bi, 0x5a, sizeof(bi)); /* the parser must clear it */
        return bootinfo_parse(&bi, magic, info_pa, fake_map, ram);
}

#define EXPECT_REGION(i, b, l, t)                                                                  \
        do {                                                                                       \
                ck_assert_uint_gt(bi.nregions, (i));                                               \
                ck_assert_x64_eq(bi.regions[i].base, (b));                                         \
                ck_assert_x64_eq(bi.regions[i].len, (l));                                          \
                ck_assert_uint_eq(bi.regions[i].type, (t));                                        \
        } while (0)

#define EXPECT_OK(call)                                                                            \
        do {                                                                                       \
                const char *err_ = (call);                                                         \
                ck_assert_msg(err_ == NULL, "unexpected error: %s", err_);                         \
        } while (0)

#define EXPECT_ERR(call)                                                                           \
        do {                                                                                       \
                const char *err_ = (call);                                                         \
                ck_assert_msg(err_ != NULL, "malformed input accepted");                           \
                ck_assert_uint_gt(strlen(err_), 0);                                                \
        } while (0)

/* Same, and the message must mention a word. */
#define EXPECT_ERR_ABOUT(call, word)                                                               \
        do {                                                                                       \
                const char *err_ = (call);                                                         \
                ck_assert_msg(err_ != NULL, "malformed input accepted");                           \
                ck_assert_msg(strstr(err_, (word)) != NULL, "error \"%s\" does not mention %s",    \
                              err_, (word));                                                       \
        } while (0)

/* ---- multiboot v1 ---- */

#define MB1_MEM     BIT(0)
#define MB1_CMDLINE BIT(2)
#define MB1_MODS    BIT(3)
#define MB1_MMAP    BIT(6)

struct mb1_region {
        uint64_t base, len;
        uint32_t type;
};

/* Writes an mmap of n entries, each with the given size field (20 is the
 * usual; larger sizes carry extra bytes).  Returns its address. */
static uint64_t mb1_mmap(const struct mb1_region *r, size_t n, uint32_t entry_size,
                         uint32_t *len_out)
{
        uint32_t stride = entry_size + 4;
        uint64_t pa = alloc((size_t)stride * n);
        for (size_t i = 0; i < n; i++) {
                uint64_t e = pa + stride * i;
                w32(e, entry_size);
                w64(e + 4, r[i].base);
                w64(e + 12, r[i].len);
                w32(e + 20, r[i].type);
        }
        *len_out = (uint32_t)(stride * n);
        return pa;
}

struct mb1_mod {
        uint32_t start, end;
        const char *cmdline; /* NULL: string field 0 */
};

static uint64_t mb1_mods(const struct mb1_mod *m, size_t n)
{
        uint64_t strs[32];
        ck_assert_uint_le(n, 32);
        for (size_t i = 0; i < n; i++)
                strs[i] = m[i].cmdline ? put_str(m[i].cmdline) : 0;
        uint64_t pa = alloc(16 * n);
        for (size_t i = 0; i < n; i++) {
                w32(pa + 16 * i, m[i].start);
                w32(pa + 16 * i + 4, m[i].end);
                w32(pa + 16 * i + 8, (uint32_t)strs[i]);
                w32(pa + 16 * i + 12, 0);
        }
        return pa;
}

/* The fixed part of the information structure (116 bytes), flags set, rest 0. */
static uint64_t mb1_info(uint32_t flags)
{
        uint64_t pa = alloc(116);
        w32(pa, flags);
        return pa;
}

static const struct mb1_region std_map[] = {
        { 0, 0x9fc00, 1 },          { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },    { 0x100000, 0x7fee0000, 1 },
        { 0x7ffe0000, 0x20000, 3 }, { 0x100000000ULL, 0x180000000ULL, 1 },
};

START_TEST(mb1_full)
{
        uint64_t cmd = put_str("vtvisor console=serial,0x3f8 mem=512M");
        uint32_t mlen;
        uint64_t map = mb1_mmap(std_map, 6, 20, &mlen);
        const struct mb1_mod mods[] = {
                { 0x200000, 0x201234, "guest.bin arg1 arg2" },
                { 0x300000, 0x300000, NULL },
                { 0x400000, 0x480000, "" },
        };
        uint64_t mpa = mb1_mods(mods, 3);
        uint64_t info = mb1_info(MB1_MEM | MB1_CMDLINE | MB1_MODS | MB1_MMAP);
        w32(info + 4, 639);
        w32(info + 8, 64512);
        w32(info + 16, (uint32_t)cmd);
        w32(info + 20, 3);
        w32(info + 24, (uint32_t)mpa);
        w32(info + 44, mlen);
        w32(info + 48, (uint32_t)map);

        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_int_eq(bi.protocol, 1);
        ck_assert_str_eq(bi.cmdline, "vtvisor console=serial,0x3f8 mem=512M");
        /* The mmap wins over mem_lower/mem_upper. */
        ck_assert_uint_eq(bi.nregions, 6);
        for (size_t i = 0; i < 6; i++)
                EXPECT_REGION(i, std_map[i].base, std_map[i].len, std_map[i].type);
        ck_assert_uint_eq(bi.nmodules, 3);
        ck_assert_x64_eq(bi.modules[0].start, 0x200000);
        ck_assert_x64_eq(bi.modules[0].end, 0x201234);
        ck_assert_str_eq(bi.modules[0].cmdline, "guest.bin arg1 arg2");
        ck_assert_x64_eq(bi.modules[1].start, 0x300000);
        ck_assert_x64_eq(bi.modules[1].end, 0x300000);
        ck_assert_str_eq(bi.modules[1].cmdline, "");
        ck_assert_x64_eq(bi.modules[2].end, 0x480000);
        ck_assert_str_eq(bi.modules[2].cmdline, "");
        ck_assert(!bi.truncated);
}
END_TEST

START_TEST(mb1_mem_fallback)
{
        uint64_t info = mb1_info(MB1_MEM);
        w32(info + 4, 639);
        w32(info + 8, 130048);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_int_eq(bi.protocol, 1);
        ck_assert_uint_eq(bi.nregions, 2);
        EXPECT_REGION(0, 0, 639 * 1024, MEM_USABLE);
        EXPECT_REGION(1, 0x100000, 130048ULL * 1024, MEM_USABLE);
        ck_assert_str_eq(bi.cmdline, "");
        ck_assert_uint_eq(bi.nmodules, 0);
        ck_assert(!bi.truncated);

        /* mem_upper is 32 bits of KiB: up to almost 4 TiB. */
        w32(info + 8, 0xffffffff);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        EXPECT_REGION(1, 0x100000, 0xffffffffULL << 10, MEM_USABLE);
}
END_TEST

START_TEST(mb1_no_memory_info)
{
        uint64_t info = mb1_info(MB1_CMDLINE);
        w32(info + 16, (uint32_t)put_str("x"));
        EXPECT_ERR_ABOUT(parse(MB1_BOOT_MAGIC, info), "memory map");
        info = mb1_info(0);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb1_flags_gate_fields)
{
        /* Fields whose flag is clear are ignored, however bogus. */
        uint64_t info = mb1_info(MB1_MEM);
        w32(info + 4, 600);
        w32(info + 8, 1024);
        w32(info + 16, 0xdead0000); /* cmdline pointer, unmapped */
        w32(info + 20, 5000);       /* mods_count, implausible */
        w32(info + 24, 0xdead0000);
        w32(info + 44, 24);
        w32(info + 48, 0xdead0000);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_str_eq(bi.cmdline, "");
        ck_assert_uint_eq(bi.nmodules, 0);
        ck_assert_uint_eq(bi.nregions, 2);
}
END_TEST

START_TEST(bad_magic)
{
        uint64_t info = mb1_info(MB1_MEM);
        EXPECT_ERR_ABOUT(parse(0, info), "magic");
        EXPECT_ERR(parse(0x1badb002, info)); /* the header magic, not the boot one */
        EXPECT_ERR(parse(0xe85250d6, info));
        EXPECT_ERR(parse(MB1_BOOT_MAGIC ^ 1, info));
        ck_assert_int_eq(bi.protocol, 0);
        ck_assert_uint_eq(bi.nregions, 0);
        ck_assert_uint_eq(bi.nmodules, 0);
        ck_assert_str_eq(bi.cmdline, "");
        ck_assert_uint_eq(map_calls, 0);
}
END_TEST

START_TEST(mb1_unreadable_info)
{
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, 0));
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, RAM_BASE + RAM_SIZE));
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, UINT64_MAX - 8));
        /* Only part of the 52 bytes it needs is mapped. */
        uint64_t info = RAM_BASE + RAM_SIZE - 40;
        w32(info, MB1_MEM);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
        ck_assert_int_eq(bi.protocol, 1);
}
END_TEST

START_TEST(mb1_mmap_entry_sizes)
{
        /* Entries with a larger size field carry extra bytes: skip them. */
        uint32_t mlen;
        uint64_t map = mb1_mmap(std_map, 4, 28, &mlen);
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, mlen);
        w32(info + 48, (uint32_t)map);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 4);
        for (size_t i = 0; i < 4; i++)
                EXPECT_REGION(i, std_map[i].base, std_map[i].len, std_map[i].type);

        /* Empty map: valid, no regions. */
        w32(info + 44, 0);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 0);
}
END_TEST

START_TEST(mb1_mmap_entry_too_short)
{
        uint32_t mlen;
        uint64_t map = mb1_mmap(std_map, 3, 20, &mlen);
        w32(map + 24, 16); /* second entry claims 16 bytes */
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, mlen);
        w32(info + 48, (uint32_t)map);
        EXPECT_ERR_ABOUT(parse(MB1_BOOT_MAGIC, info), "short");
        w32(map + 24, 19);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
        w32(map + 24, 0);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
        w32(map + 24, 20);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 3);
}
END_TEST

START_TEST(mb1_mmap_unreadable)
{
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, 48);
        w32(info + 48, 0xfff00000);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));

        /* The map runs off the end of memory. */
        uint32_t mlen;
        ram_next = RAM_BASE + RAM_SIZE - 48;
        uint64_t map = mb1_mmap(std_map, 2, 20, &mlen);
        w32(info + 44, mlen + 24);
        w32(info + 48, (uint32_t)map);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb1_mmap_types_normalised)
{
        const struct mb1_region r[] = {
                { 0x1000, 0x1000, 0 }, { 0x2000, 0x1000, 1 },          { 0x3000, 0x1000, 2 },
                { 0x4000, 0x1000, 3 }, { 0x5000, 0x1000, 4 },          { 0x6000, 0x1000, 5 },
                { 0x7000, 0x1000, 6 }, { 0x8000, 0x1000, 0xffffffff }, { 0x9000, 0, 1 },
        };
        uint32_t mlen;
        uint64_t map = mb1_mmap(r, 9, 20, &mlen);
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, mlen);
        w32(info + 48, (uint32_t)map);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 9);
        static const uint32_t want[] = { MEM_RESERVED, MEM_USABLE,   MEM_RESERVED,
                                         MEM_ACPI,     MEM_NVS,      MEM_BAD,
                                         MEM_RESERVED, MEM_RESERVED, MEM_USABLE };
        for (size_t i = 0; i < 9; i++)
                EXPECT_REGION(i, r[i].base, r[i].len, want[i]);
}
END_TEST

START_TEST(mb1_too_many_regions)
{
        struct mb1_region r[BOOTINFO_MAX_REGIONS + 6];
        for (size_t i = 0; i < ARRAY_SIZE(r); i++)
                r[i] = (struct mb1_region){ i * 0x10000, 0x8000, 1 };
        uint32_t mlen;
        uint64_t map = mb1_mmap(r, ARRAY_SIZE(r), 20, &mlen);
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, mlen);
        w32(info + 48, (uint32_t)map);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, BOOTINFO_MAX_REGIONS);
        ck_assert(bi.truncated);
        EXPECT_REGION(BOOTINFO_MAX_REGIONS - 1, (BOOTINFO_MAX_REGIONS - 1) * 0x10000ULL, 0x8000, 1);

        /* Exactly the maximum is not truncation. */
        w32(info + 44, 24 * BOOTINFO_MAX_REGIONS);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, BOOTINFO_MAX_REGIONS);
        ck_assert(!bi.truncated);
}
END_TEST

START_TEST(mb1_mmap_ignores_bytes_past_its_length)
{
        /* mmap_length covers one entry and 8 more bytes; what follows in
         * memory looks like a perfectly good entry but is not part of the map. */
        uint32_t mlen;
        uint64_t map = mb1_mmap(std_map, 2, 20, &mlen);
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, 24 + 8);
        w32(info + 48, (uint32_t)map);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 1);
        EXPECT_REGION(0, std_map[0].base, std_map[0].len, std_map[0].type);

        /* Same with the partial entry being junk that would not parse. */
        w32(map + 24, 3);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 1);
}
END_TEST

/* A mapper for a machine with RAM everywhere: the fake memory where it
 * exists, and elsewhere the same 24-byte mmap entry at every address. */
static uint8_t entry_everywhere[24];

static const void *two_faced_map(void *ctx, uint64_t pa, size_t len)
{
        if (pa >= RAM_BASE && pa < RAM_BASE + RAM_SIZE)
                return fake_map(ctx, pa, len);
        map_calls++;
        if (map_limit && map_calls > map_limit)
                return NULL;
        if (len > sizeof(entry_everywhere))
                return NULL;
        void *p = malloc(len);
        if (!p)
                ck_abort_msg("out of host memory");
        memcpy(p, entry_everywhere, len);
        keep(p);
        return p;
}

START_TEST(mb1_mmap_length_near_4g_terminates)
{
        /* A corrupt mmap_length of 0xffffffff and entries whose size field
         * brings the offset to the top of 32 bits: the walk must stop, not
         * wrap round and go on (practically) for ever. */
        uint64_t info = mb1_info(MB1_MMAP);
        w32(info + 44, 0xffffffff);
        w32(info + 48, 0x10000000); /* outside the fake RAM */
        uint32_t size = 0xfffffff8, type = 1;
        uint64_t base = 0x1000, len = 0x2000;
        memcpy(entry_everywhere, &size, 4);
        memcpy(entry_everywhere + 4, &base, 8);
        memcpy(entry_everywhere + 12, &len, 8);
        memcpy(entry_everywhere + 20, &type, 4);
        map_limit = 10000;
        memset(&bi, 0, sizeof(bi));
        const char *err = bootinfo_parse(&bi, MB1_BOOT_MAGIC, info, two_faced_map, ram);
        ck_assert_msg(map_calls < 100, "%u map calls: the mmap walk wrapped round", map_calls);
        ck_assert_msg(err == NULL, "unexpected error: %s", err);
        ck_assert_uint_eq(bi.nregions, 1);
        EXPECT_REGION(0, 0x1000, 0x2000, MEM_USABLE);
        ck_assert(!bi.truncated);
}
END_TEST

static const struct mb1_mod many_mods[20] = {
        { 0x10000, 0x11000, "m0" },  { 0x20000, 0x21000, "m1" },  { 0x30000, 0x31000, "m2" },
        { 0x40000, 0x41000, "m3" },  { 0x50000, 0x51000, "m4" },  { 0x60000, 0x61000, "m5" },
        { 0x70000, 0x71000, "m6" },  { 0x80000, 0x81000, "m7" },  { 0x90000, 0x91000, "m8" },
        { 0xa0000, 0xa1000, "m9" },  { 0xb0000, 0xb1000, "m10" }, { 0xc0000, 0xc1000, "m11" },
        { 0xd0000, 0xd1000, "m12" }, { 0xe0000, 0xe1000, "m13" }, { 0xf0000, 0xf1000, "m14" },
        { 0xf8000, 0xf9000, "m15" }, { 0xfa000, 0xfb000, "m16" }, { 0xfc000, 0xfd000, "m17" },
        { 0xfe000, 0xff000, "m18" }, { 0xff000, 0xfffff, "m19" },
};

static uint64_t mb1_with_mods(const struct mb1_mod *m, uint32_t n)
{
        uint64_t mpa = mb1_mods(m, n);
        uint64_t info = mb1_info(MB1_MEM | MB1_MODS);
        w32(info + 20, n);
        w32(info + 24, (uint32_t)mpa);
        return info;
}

START_TEST(mb1_modules_truncated)
{
        uint64_t info = mb1_with_mods(many_mods, 20);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nmodules, BOOTINFO_MAX_MODULES);
        ck_assert(bi.truncated);
        for (size_t i = 0; i < BOOTINFO_MAX_MODULES; i++) {
                ck_assert_x64_eq(bi.modules[i].start, many_mods[i].start);
                ck_assert_x64_eq(bi.modules[i].end, many_mods[i].end);
                ck_assert_str_eq(bi.modules[i].cmdline, many_mods[i].cmdline);
        }

        setup();
        info = mb1_with_mods(many_mods, BOOTINFO_MAX_MODULES);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nmodules, BOOTINFO_MAX_MODULES);
        ck_assert(!bi.truncated);
}
END_TEST

START_TEST(mb1_modules_malformed)
{
        /* Ends before it starts. */
        const struct mb1_mod backwards[] = { { 0x2000, 0x1000, "x" } };
        EXPECT_ERR_ABOUT(parse(MB1_BOOT_MAGIC, mb1_with_mods(backwards, 1)), "module");

        /* Implausible count. */
        uint64_t info = mb1_with_mods(many_mods, 2);
        w32(info + 20, 1025);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
        w32(info + 20, 0xffffffff);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
        /* Zero modules is fine. */
        w32(info + 20, 0);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nmodules, 0);

        /* The list is not in memory. */
        w32(info + 20, 2);
        w32(info + 24, 0xfff00000);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));

        /* A module's command line is not in memory. */
        setup();
        info = mb1_with_mods(many_mods, 2);
        uint32_t mods_addr;
        memcpy(&mods_addr, at(info + 24), 4);
        w32(mods_addr + 16 + 8, 0xfff00000);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb1_module_count_limit)
{
        /* 1024 modules is plausible (16 kept, the rest counted as truncated);
         * 1025 is not, even when every entry is readable. */
        uint64_t list = alloc(16 * 1025);
        for (uint32_t i = 0; i < 1025; i++) {
                w32(list + 16 * i, 0x1000 * i);
                w32(list + 16 * i + 4, 0x1000 * i + 0x800);
                w32(list + 16 * i + 8, 0);
                w32(list + 16 * i + 12, 0);
        }
        uint64_t info = mb1_info(MB1_MEM | MB1_MODS);
        w32(info + 20, 1024);
        w32(info + 24, (uint32_t)list);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nmodules, BOOTINFO_MAX_MODULES);
        ck_assert(bi.truncated);
        ck_assert_x64_eq(bi.modules[15].start, 0xf000);
        ck_assert_x64_eq(bi.modules[15].end, 0xf800);
        w32(info + 20, 1025);
        EXPECT_ERR(parse(MB1_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb1_strings_at_end_of_memory)
{
        /* The command line runs to the last mapped byte without a NUL. */
        uint64_t info = mb1_info(MB1_MEM | MB1_CMDLINE);
        uint64_t s = RAM_BASE + RAM_SIZE - 5;
        memcpy(at(s), "abcde", 5);
        w32(info + 16, (uint32_t)s);
        EXPECT_ERR_ABOUT(parse(MB1_BOOT_MAGIC, info), "command line");

        /* With the NUL as the very last byte it is fine. */
        memcpy(at(s), "abcd", 5);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_str_eq(bi.cmdline, "abcd");

        /* The same for a module's command line. */
        memcpy(at(s), "abcde", 5);
        const struct mb1_mod m[] = { { 0x1000, 0x2000, "placeholder" } };
        info = mb1_with_mods(m, 1);
        uint32_t mods_addr;
        memcpy(&mods_addr, at(info + 24), 4);
        w32(mods_addr + 8, (uint32_t)s);
        EXPECT_ERR_ABOUT(parse(MB1_BOOT_MAGIC, info), "module");
}
END_TEST

START_TEST(mb1_long_cmdline_truncated)
{
        char longs[BOOTINFO_CMDLINE_MAX + 100];
        for (size_t i = 0; i < sizeof(longs) - 1; i++)
                longs[i] = (char)('a' + i % 26);
        longs[sizeof(longs) - 1] = '\0';
        uint64_t info = mb1_info(MB1_MEM | MB1_CMDLINE);
        w32(info + 16, (uint32_t)put_str(longs));
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_uint_eq(strlen(bi.cmdline), BOOTINFO_CMDLINE_MAX - 1);
        ck_assert_mem_eq(bi.cmdline, longs, BOOTINFO_CMDLINE_MAX - 1);

        /* Exactly the maximum length fits. */
        longs[BOOTINFO_CMDLINE_MAX - 1] = '\0';
        w32(info + 16, (uint32_t)put_str(longs));
        EXPECT_OK(parse(MB1_BOOT_MAGIC, info));
        ck_assert_str_eq(bi.cmdline, longs);
}
END_TEST

/* ---- multiboot2 ---- */

#define MB2_END     0
#define MB2_CMDLINE 1
#define MB2_MODULE  3
#define MB2_MEMINFO 4
#define MB2_MMAP    6

/* Builds a multiboot2 information block tag by tag. */
static uint64_t mb2_pa;  /* start of the block */
static uint64_t mb2_pos; /* where the next tag goes */

static void mb2_begin(void)
{
        ram_next = ALIGN_UP(ram_next, 8);
        mb2_pa = alloc(8);
        mb2_pos = mb2_pa + 8;
}

/* Adds a tag with payload bytes after the 8-byte header; returns its address. */
static uint64_t mb2_tag(uint32_t type, const void *payload, size_t plen)
{
        uint64_t pa = mb2_pos;
        ck_assert(pa + 8 + plen <= RAM_BASE + RAM_SIZE);
        w32(pa, type);
        w32(pa + 4, (uint32_t)(8 + plen));
        if (plen)
                memcpy(at(pa + 8), payload, plen);
        mb2_pos = ALIGN_UP(pa + 8 + plen, 8);
        /* Padding is junk on purpose. */
        return pa;
}

static uint64_t mb2_end(void)
{
        mb2_tag(MB2_END, NULL, 0);
        w32(mb2_pa, (uint32_t)(mb2_pos - mb2_pa));
        w32(mb2_pa + 4, 0);
        ram_next = mb2_pos;
        return mb2_pa;
}

/* Ends without an end tag. */
static uint64_t mb2_finish_without_end(void)
{
        w32(mb2_pa, (uint32_t)(mb2_pos - mb2_pa));
        w32(mb2_pa + 4, 0);
        ram_next = mb2_pos;
        return mb2_pa;
}

static void mb2_cmdline(const char *s)
{
        mb2_tag(MB2_CMDLINE, s, strlen(s) + 1);
}

static void mb2_module(uint32_t start, uint32_t end, const char *s)
{
        uint8_t buf[600];
        size_t n = strlen(s) + 1;
        ck_assert_uint_le(n + 8, sizeof(buf));
        memcpy(buf, &start, 4);
        memcpy(buf + 4, &end, 4);
        memcpy(buf + 8, s, n);
        mb2_tag(MB2_MODULE, buf, 8 + n);
}

static void mb2_meminfo(uint32_t lower, uint32_t upper)
{
        uint32_t p[2] = { lower, upper };
        mb2_tag(MB2_MEMINFO, p, sizeof(p));
}

/* entry_size >= 24; entries are base, len, type, then zero padding. */
static uint64_t mb2_mmap(const struct mb1_region *r, size_t n, uint32_t entry_size)
{
        uint8_t buf[8 + 40 * (BOOTINFO_MAX_REGIONS + 8)];
        ck_assert_uint_le(8 + (size_t)entry_size * n, sizeof(buf));
        memset(buf, 0, sizeof(buf));
        uint32_t version = 0;
        memcpy(buf, &entry_size, 4);
        memcpy(buf + 4, &version, 4);
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = buf + 8 + entry_size * i;
                memcpy(e, &r[i].base, 8);
                memcpy(e + 8, &r[i].len, 8);
                memcpy(e + 16, &r[i].type, 4);
        }
        return mb2_tag(MB2_MMAP, buf, 8 + entry_size * n);
}

START_TEST(mb2_full)
{
        mb2_begin();
        mb2_cmdline("vtvisor  debug");
        mb2_tag(2, "GRUB 2.06", 10); /* boot loader name: ignored */
        mb2_module(0x200000, 0x2abcde, "guest-a.elf --fast");
        mb2_meminfo(639, 523264);
        mb2_mmap(std_map, 6, 24);
        mb2_module(0x400000, 0x400001, "");
        mb2_tag(21, "\x00\x00\x10\x00", 4); /* load base address: ignored */
        uint64_t info = mb2_end();

        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_int_eq(bi.protocol, 2);
        ck_assert_str_eq(bi.cmdline, "vtvisor  debug");
        ck_assert_uint_eq(bi.nregions, 6);
        for (size_t i = 0; i < 6; i++)
                EXPECT_REGION(i, std_map[i].base, std_map[i].len, std_map[i].type);
        ck_assert_uint_eq(bi.nmodules, 2);
        ck_assert_x64_eq(bi.modules[0].start, 0x200000);
        ck_assert_x64_eq(bi.modules[0].end, 0x2abcde);
        ck_assert_str_eq(bi.modules[0].cmdline, "guest-a.elf --fast");
        ck_assert_x64_eq(bi.modules[1].start, 0x400000);
        ck_assert_x64_eq(bi.modules[1].end, 0x400001);
        ck_assert_str_eq(bi.modules[1].cmdline, "");
        ck_assert(!bi.truncated);
}
END_TEST

START_TEST(mb2_meminfo_fallback)
{
        mb2_begin();
        mb2_cmdline("");
        mb2_meminfo(600, 2048);
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_str_eq(bi.cmdline, "");
        ck_assert_uint_eq(bi.nregions, 2);
        EXPECT_REGION(0, 0, 600 * 1024, MEM_USABLE);
        EXPECT_REGION(1, 0x100000, 2048 * 1024, MEM_USABLE);

        /* Nothing about memory at all. */
        mb2_begin();
        mb2_cmdline("x");
        info = mb2_end();
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, info), "memory map");

        /* The smallest valid block: just the end tag, still no memory. */
        mb2_begin();
        info = mb2_end();
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb2_mmap_entry_size)
{
        /* Larger entries (as future versions may use) are stepped over. */
        mb2_begin();
        mb2_mmap(std_map, 5, 40);
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 5);
        for (size_t i = 0; i < 5; i++)
                EXPECT_REGION(i, std_map[i].base, std_map[i].len, std_map[i].type);

        /* An mmap tag with no entries is a (useless) memory map. */
        mb2_begin();
        mb2_mmap(std_map, 0, 24);
        info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 0);

        /* Unknown types become reserved. */
        const struct mb1_region odd[] = { { 0x1000, 0x1000, 7 }, { 0x2000, 0x1000, 0 } };
        mb2_begin();
        mb2_mmap(odd, 2, 24);
        info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        EXPECT_REGION(0, 0x1000, 0x1000, MEM_RESERVED);
        EXPECT_REGION(1, 0x2000, 0x1000, MEM_RESERVED);
}
END_TEST

START_TEST(mb2_mmap_bad_entry_size)
{
        static const uint32_t bad[] = { 0, 8, 16, 20, 23, 28, 31 };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                setup();
                mb2_begin();
                uint64_t t = mb2_mmap(std_map, 2, 24);
                w32(t + 8, bad[i]);
                uint64_t info = mb2_end();
                const char *err = parse(MB2_BOOT_MAGIC, info);
                ck_assert_msg(err != NULL, "entry size %u accepted", bad[i]);
        }
        /* A tag too short to hold entry_size and entry_version. */
        setup();
        mb2_begin();
        mb2_tag(MB2_MMAP, "\x18\x00\x00\x00", 4);
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, mb2_end()));
}
END_TEST

START_TEST(mb2_mmap_partial_entry_ignored)
{
        /* The tag's size cuts the last entry short: only whole entries count. */
        mb2_begin();
        uint64_t t = mb2_mmap(std_map, 3, 24);
        w32(t + 4, 16 + 24 * 2 + 20);
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, 2);
}
END_TEST

START_TEST(mb2_mmap_huge_entry_size)
{
        /* An entry size near 2^32 passes the size checks (>= 24, a multiple
         * of 8), but 16 + entry_size wraps in 32 bits to 8 or 0, which a
         * walk computing e + esize takes for an entry that fits, reading
         * past the tag (ASan: heap-buffer-overflow).  No entry fits. */
        static const uint32_t huge[] = { 0xfffffff8, 0xfffffff0, 0xffffffe8 };
        for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
                for (size_t n = 0; n <= 1; n++) {
                        setup();
                        mb2_begin();
                        uint64_t t = mb2_mmap(std_map, n, 24);
                        w32(t + 8, huge[i]);
                        uint64_t info = mb2_end();
                        const char *err = parse(MB2_BOOT_MAGIC, info);
                        ck_assert_msg(err == NULL, "entry size 0x%x: %s", huge[i], err);
                        ck_assert_uint_eq(bi.nregions, 0);
                }
        }
}
END_TEST

START_TEST(mb2_too_many_regions)
{
        struct mb1_region r[BOOTINFO_MAX_REGIONS + 3];
        for (size_t i = 0; i < ARRAY_SIZE(r); i++)
                r[i] = (struct mb1_region){ 0x100000ULL * i, 0x1000, 1 + i % 5 };
        mb2_begin();
        mb2_mmap(r, ARRAY_SIZE(r), 24);
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nregions, BOOTINFO_MAX_REGIONS);
        ck_assert(bi.truncated);
        EXPECT_REGION(63, 0x100000ULL * 63, 0x1000, 1 + 63 % 5);
}
END_TEST

START_TEST(mb2_too_many_modules)
{
        mb2_begin();
        mb2_meminfo(640, 1024);
        for (unsigned i = 0; i < 20; i++)
                mb2_module(0x100000 * (i + 1), 0x100000 * (i + 1) + 0x1000, many_mods[i].cmdline);
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.nmodules, BOOTINFO_MAX_MODULES);
        ck_assert(bi.truncated);
        for (unsigned i = 0; i < BOOTINFO_MAX_MODULES; i++) {
                ck_assert_x64_eq(bi.modules[i].start, 0x100000ULL * (i + 1));
                ck_assert_str_eq(bi.modules[i].cmdline, many_mods[i].cmdline);
        }
        ck_assert_uint_eq(bi.nregions, 2);
}
END_TEST

START_TEST(mb2_module_malformed)
{
        mb2_begin();
        mb2_meminfo(640, 1024);
        mb2_module(0x3000, 0x2fff, "back");
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, mb2_end()), "module");

        /* Too short for start, end and at least a NUL. */
        mb2_begin();
        mb2_meminfo(640, 1024);
        uint32_t se[2] = { 0x1000, 0x2000 };
        mb2_tag(MB2_MODULE, se, 8);
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, mb2_end()));
}
END_TEST

START_TEST(mb2_meminfo_too_short)
{
        mb2_begin();
        uint32_t lower = 640;
        mb2_tag(MB2_MEMINFO, &lower, 4);
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, mb2_end()));
}
END_TEST

START_TEST(mb2_missing_end_tag)
{
        mb2_begin();
        mb2_cmdline("no end");
        mb2_meminfo(640, 1024);
        uint64_t info = mb2_finish_without_end();
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, info), "end");

        /* total_size stops just short of the end tag. */
        mb2_begin();
        mb2_meminfo(640, 1024);
        info = mb2_end();
        w32(info, 8 + 16 + 4);
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb2_tags_after_end_ignored)
{
        mb2_begin();
        mb2_meminfo(640, 1024);
        mb2_tag(MB2_END, NULL, 0);
        mb2_cmdline("after the end");
        mb2_module(0x1000, 0x2000, "late");
        uint64_t info = mb2_finish_without_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_str_eq(bi.cmdline, "");
        ck_assert_uint_eq(bi.nmodules, 0);
        ck_assert_uint_eq(bi.nregions, 2);
}
END_TEST

START_TEST(mb2_bad_tag_size)
{
        static const uint32_t bad[] = { 0, 1, 7 };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                setup();
                mb2_begin();
                uint64_t t = mb2_tag(99, "12345678", 8);
                mb2_meminfo(640, 1024);
                uint64_t info = mb2_end();
                w32(t + 4, bad[i]);
                const char *err = parse(MB2_BOOT_MAGIC, info);
                ck_assert_msg(err != NULL, "tag size %u accepted", bad[i]);
                ck_assert_ptr_nonnull(strstr(err, "size"));
        }
        /* A tag reaching past total_size. */
        setup();
        mb2_begin();
        mb2_meminfo(640, 1024);
        uint64_t t = mb2_tag(99, "12345678", 8);
        uint64_t info = mb2_end();
        w32(t + 4, 16 + 8 + 1);
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, info), "size");
        w32(t + 4, 0xfffffff0);
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, info));
}
END_TEST

START_TEST(mb2_odd_sizes_padded)
{
        /* Tag sizes that are not multiples of 8: the next tag is 8-aligned. */
        mb2_begin();
        mb2_tag(99, "abcde", 5); /* size 13 */
        mb2_cmdline("ab");       /* size 11 */
        mb2_tag(98, "", 1);      /* size 9 */
        mb2_meminfo(1, 2);
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_str_eq(bi.cmdline, "ab");
        EXPECT_REGION(1, 0x100000, 2048, MEM_USABLE);
}
END_TEST

START_TEST(mb2_header_malformed)
{
        /* Unreadable. */
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, 0));
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, RAM_BASE + RAM_SIZE - 4));
        /* total_size too small to hold an end tag. */
        mb2_begin();
        uint64_t info = mb2_end();
        for (uint32_t total = 0; total < 16; total++) {
                w32(info, total);
                ck_assert_ptr_nonnull(parse(MB2_BOOT_MAGIC, info));
        }
        /* total_size claims more than is mapped, and the tags run off the
         * end of memory before any end tag. */
        ram_next = RAM_BASE + RAM_SIZE - 32;
        mb2_begin();
        mb2_meminfo(640, 1024);
        ck_assert_x64_eq(mb2_pos, RAM_BASE + RAM_SIZE - 8);
        w32(mb2_pos, 99);
        w32(mb2_pos + 4, 16);
        w32(mb2_pa, 64);
        w32(mb2_pa + 4, 0);
        EXPECT_ERR(parse(MB2_BOOT_MAGIC, mb2_pa));
        ck_assert_int_eq(bi.protocol, 2);
}
END_TEST

START_TEST(mb2_strings_at_end_of_memory)
{
        /* A command-line tag that ends the mapped memory without a NUL. */
        ram_next = RAM_BASE + RAM_SIZE - 32;
        mb2_begin();
        uint64_t t = mb2_tag(MB2_CMDLINE, "0123456789abcdef", 16);
        w32(mb2_pa, 32);
        w32(mb2_pa + 4, 0);
        ck_assert_x64_eq(t + 24, RAM_BASE + RAM_SIZE);
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, mb2_pa), "command line");

        /* A module tag likewise. */
        setup();
        ram_next = RAM_BASE + RAM_SIZE - 32;
        mb2_begin();
        uint8_t payload[16] = {
                0, 0x10, 0, 0, 0, 0x20, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'
        };
        mb2_tag(MB2_MODULE, payload, sizeof(payload));
        w32(mb2_pa, 32);
        w32(mb2_pa + 4, 0);
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, mb2_pa), "module");
}
END_TEST

START_TEST(mb2_unterminated_strings_stay_in_their_tag)
{
        /* Found by tests/fuzz/fuzz_bootinfo.c: a command-line tag of 9
         * bytes, one character and no NUL, was read on into the next tag
         * (here a meminfo tag), past the tag's size.  A string must end
         * inside its tag. */
        mb2_begin();
        mb2_tag(MB2_CMDLINE, "x", 1);
        mb2_meminfo(640, 1024);
        uint64_t pa = mb2_end();
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, pa), "command line");

        /* A module tag's string likewise (17 bytes: one character). */
        setup();
        mb2_begin();
        uint8_t payload[9] = { 0, 0x10, 0, 0, 0, 0x20, 0, 0, 'm' };
        mb2_tag(MB2_MODULE, payload, sizeof(payload));
        mb2_meminfo(640, 1024);
        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, mb2_end()), "module");

        /* Terminated at the very end of the tag: fine. */
        setup();
        mb2_begin();
        mb2_tag(MB2_CMDLINE, "x", 2);
        mb2_meminfo(640, 1024);
        EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
        ck_assert_str_eq(bi.cmdline, "x");
}
END_TEST

START_TEST(mb2_long_cmdline_truncated)
{
        char longs[BOOTINFO_CMDLINE_MAX * 2];
        memset(longs, 'q', sizeof(longs) - 1);
        longs[sizeof(longs) - 1] = '\0';
        mb2_begin();
        mb2_cmdline(longs);
        mb2_module(1, 2, longs);
        mb2_meminfo(1, 1);
        EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
        ck_assert_uint_eq(strlen(bi.cmdline), BOOTINFO_CMDLINE_MAX - 1);
        ck_assert_uint_eq(strlen(bi.modules[0].cmdline), BOOTINFO_CMDLINE_MAX - 1);
}
END_TEST

/* ---- multiboot2 ACPI tags ---- */

#define MB2_ACPI_OLD 14
#define MB2_ACPI_NEW 15

/* Bytes that stand for an RSDP: bootinfo copies them without judging. */
static void fake_rsdp(uint8_t *p, size_t n, uint8_t seed)
{
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(seed + 7 * i);
        if (n >= 8)
                memcpy(p, "RSD PTR ", 8);
}

START_TEST(mb2_acpi_old_rsdp)
{
        uint8_t v1[20];
        fake_rsdp(v1, sizeof(v1), 1);
        mb2_begin();
        mb2_meminfo(640, 1024);
        mb2_tag(MB2_ACPI_OLD, v1, sizeof(v1));
        uint64_t info = mb2_end();
        EXPECT_OK(parse(MB2_BOOT_MAGIC, info));
        ck_assert_uint_eq(bi.rsdp_len, 20);
        ck_assert_uint_eq(bi.rsdp_tag, MB2_ACPI_OLD);
        ck_assert_mem_eq(bi.rsdp, v1, 20);
        /* The copy outlives the information: scribble over it. */
        memset(at(info), 0, (size_t)(mb2_pos - info));
        ck_assert_mem_eq(bi.rsdp, v1, 20);
}
END_TEST

START_TEST(mb2_acpi_new_rsdp)
{
        uint8_t v1[20], v2[36];
        fake_rsdp(v1, sizeof(v1), 1);
        fake_rsdp(v2, sizeof(v2), 2);
        mb2_begin();
        mb2_meminfo(640, 1024);
        mb2_tag(MB2_ACPI_NEW, v2, sizeof(v2));
        EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
        ck_assert_uint_eq(bi.rsdp_len, 36);
        ck_assert_uint_eq(bi.rsdp_tag, MB2_ACPI_NEW);
        ck_assert_mem_eq(bi.rsdp, v2, 36);

        /* GRUB gives both on ACPI 2.0+ firmware: the new one wins, before
         * or after the old one. */
        for (int order = 0; order < 2; order++) {
                mb2_begin();
                mb2_meminfo(640, 1024);
                if (order == 0) {
                        mb2_tag(MB2_ACPI_OLD, v1, sizeof(v1));
                        mb2_tag(MB2_ACPI_NEW, v2, sizeof(v2));
                } else {
                        mb2_tag(MB2_ACPI_NEW, v2, sizeof(v2));
                        mb2_tag(MB2_ACPI_OLD, v1, sizeof(v1));
                }
                EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
                ck_assert_uint_eq(bi.rsdp_len, 36);
                ck_assert_uint_eq(bi.rsdp_tag, MB2_ACPI_NEW);
                ck_assert_mem_eq(bi.rsdp, v2, 36);
        }
}
END_TEST

START_TEST(mb2_acpi_tag_sizes)
{
        /* A longer copy (a future RSDP) keeps its first 36 bytes. */
        uint8_t big[48];
        fake_rsdp(big, sizeof(big), 3);
        mb2_begin();
        mb2_meminfo(640, 1024);
        mb2_tag(MB2_ACPI_NEW, big, sizeof(big));
        EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
        ck_assert_uint_eq(bi.rsdp_len, BOOTINFO_RSDP_MAX);
        ck_assert_mem_eq(bi.rsdp, big, BOOTINFO_RSDP_MAX);

        /* A 2.0 tag holding only the 1.0 part is copied as it is. */
        mb2_begin();
        mb2_meminfo(640, 1024);
        mb2_tag(MB2_ACPI_NEW, big, 24);
        EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
        ck_assert_uint_eq(bi.rsdp_len, 24);

        /* Shorter than an ACPI 1.0 RSDP: malformed. */
        static const size_t bad[] = { 0, 1, 19 };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                for (uint32_t type = MB2_ACPI_OLD; type <= MB2_ACPI_NEW; type++) {
                        mb2_begin();
                        mb2_meminfo(640, 1024);
                        mb2_tag(type, big, bad[i]);
                        EXPECT_ERR_ABOUT(parse(MB2_BOOT_MAGIC, mb2_end()), "RSDP");
                }
        }

        /* No tag, no RSDP; multiboot v1 has no such tag at all. */
        mb2_begin();
        mb2_meminfo(640, 1024);
        EXPECT_OK(parse(MB2_BOOT_MAGIC, mb2_end()));
        ck_assert_uint_eq(bi.rsdp_len, 0);
        ck_assert_uint_eq(bi.rsdp_tag, 0);
        EXPECT_OK(parse(MB1_BOOT_MAGIC, mb1_info(MB1_MEM)));
        ck_assert_uint_eq(bi.rsdp_len, 0);
        ck_assert_uint_eq(bi.rsdp_tag, 0);
}
END_TEST

/* A mapper that serves the real fake memory near info_pa but claims any
 * length is mapped there (as on a machine with more than 4 GiB of RAM),
 * copying only what exists and zero-filling the rest. */
static const void *generous_map(void *ctx, uint64_t pa, size_t len)
{
        map_calls++;
        if (map_limit && map_calls > map_limit)
                return NULL;
        if (pa < RAM_BASE || pa >= RAM_BASE + RAM_SIZE)
                return NULL;
        /* Only the first 64 bytes are ever read by the parser here. */
        size_t n = len < 64 ? len : 64;
        uint8_t *p = calloc(1, 64);
        if (!p)
                ck_abort_msg("out of host memory");
        uint64_t avail = RAM_BASE + RAM_SIZE - pa;
        memcpy(p, ram + (pa - RAM_BASE), n < avail ? n : avail);
        keep(p);
        return p;
}

START_TEST(mb2_total_size_near_4g_terminates)
{
        /* total_size 0xffffffff, reserved field 8, then an unknown tag whose
         * size brings the offset to 2^32: a 32-bit offset wraps to 0, reads
         * the header as a tag of size 8, and loops for ever. */
        mb2_begin();
        mb2_tag(99, NULL, 0);
        w32(mb2_pa, 0xffffffff);
        w32(mb2_pa + 4, 8);
        w32(mb2_pa + 8 + 4, 0xfffffff1);
        map_limit = 1000;
        memset(&bi, 0, sizeof(bi));
        const char *err = bootinfo_parse(&bi, MB2_BOOT_MAGIC, mb2_pa, generous_map, ram);
        ck_assert_msg(map_calls < 100, "%u map calls: the tag walk wrapped round", map_calls);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "end"));
}
END_TEST

static Suite *bootinfo_suite(void)
{
        Suite *s = suite_create("bootinfo");
        TCase *v1 = tcase_create("multiboot1");
        tcase_add_checked_fixture(v1, setup, teardown);
        tcase_add_test(v1, mb1_full);
        tcase_add_test(v1, mb1_mem_fallback);
        tcase_add_test(v1, mb1_no_memory_info);
        tcase_add_test(v1, mb1_flags_gate_fields);
        tcase_add_test(v1, bad_magic);
        tcase_add_test(v1, mb1_unreadable_info);
        tcase_add_test(v1, mb1_mmap_entry_sizes);
        tcase_add_test(v1, mb1_mmap_entry_too_short);
        tcase_add_test(v1, mb1_mmap_unreadable);
        tcase_add_test(v1, mb1_mmap_types_normalised);
        tcase_add_test(v1, mb1_too_many_regions);
        tcase_add_test(v1, mb1_mmap_ignores_bytes_past_its_length);
        tcase_add_test(v1, mb1_mmap_length_near_4g_terminates);
        tcase_add_test(v1, mb1_modules_truncated);
        tcase_add_test(v1, mb1_modules_malformed);
        tcase_add_test(v1, mb1_module_count_limit);
        tcase_add_test(v1, mb1_strings_at_end_of_memory);
        tcase_add_test(v1, mb1_long_cmdline_truncated);
        suite_add_tcase(s, v1);

        TCase *v2 = tcase_create("multiboot2");
        tcase_add_checked_fixture(v2, setup, teardown);
        tcase_add_test(v2, mb2_full);
        tcase_add_test(v2, mb2_meminfo_fallback);
        tcase_add_test(v2, mb2_mmap_entry_size);
        tcase_add_test(v2, mb2_mmap_bad_entry_size);
        tcase_add_test(v2, mb2_mmap_partial_entry_ignored);
        tcase_add_test(v2, mb2_too_many_regions);
        tcase_add_test(v2, mb2_too_many_modules);
        tcase_add_test(v2, mb2_module_malformed);
        tcase_add_test(v2, mb2_meminfo_too_short);
        tcase_add_test(v2, mb2_missing_end_tag);
        tcase_add_test(v2, mb2_tags_after_end_ignored);
        tcase_add_test(v2, mb2_bad_tag_size);
        tcase_add_test(v2, mb2_odd_sizes_padded);
        tcase_add_test(v2, mb2_header_malformed);
        tcase_add_test(v2, mb2_strings_at_end_of_memory);
        tcase_add_test(v2, mb2_unterminated_strings_stay_in_their_tag);
        tcase_add_test(v2, mb2_long_cmdline_truncated);
        tcase_add_test(v2, mb2_total_size_near_4g_terminates);
        tcase_add_test(v2, mb2_mmap_huge_entry_size);
        tcase_add_test(v2, mb2_acpi_old_rsdp);
        tcase_add_test(v2, mb2_acpi_new_rsdp);
        tcase_add_test(v2, mb2_acpi_tag_sizes);
        suite_add_tcase(s, v2);
        return s;
}

int main(void)
{
        return unit_run_suite(bootinfo_suite());
}
