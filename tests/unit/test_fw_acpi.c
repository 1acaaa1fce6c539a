/* Host unit tests for boot/fw_acpi.c.  The firmware's tables are built in
 * a fake physical memory of 2 MiB (BIOS data area, EBDA, BIOS area at
 * 0xE0000-0xFFFFF, tables above 1 MiB); the mapper hands the parser a
 * fresh heap copy of exactly the bytes it asked for, so reading one byte
 * more than it mapped is caught by ASan, and returns NULL for anything
 * outside the fake memory or inside a hole the test punches in it.
 *
 * `test_fw_acpi --write-corpus DIR` writes the fuzzer's seeds (see
 * tests/fuzz/fuzz_fw_acpi.c for their format) built with the same helpers. */
#include <stdio.h>

#include "tests/unit/check_compat.h"
#include "boot/bootinfo.h"
#include "boot/fw_acpi.h"
#include "devices/acpi.h"

/* ---- fake physical memory ---- */

#define MEM_SIZE 0x200000u

static _Alignas(16) uint8_t mem[MEM_SIZE];
static uint64_t mem_size;         /* bytes from 0 that are mapped */
static uint64_t hole_lo, hole_hi; /* [hole_lo, hole_hi) is not mapped */
static unsigned map_calls;

static void **copies;
static size_t ncopies, copies_cap;

static void keep(void *p)
{
        if (ncopies == copies_cap) {
                copies_cap = copies_cap ? 2 * copies_cap : 1024;
                copies = realloc(copies, copies_cap * sizeof(*copies));
                ck_assert_ptr_nonnull(copies);
        }
        copies[ncopies++] = p;
}

static const void *fake_map(void *ctx, uint64_t pa, size_t len)
{
        if (ctx != mem)
                ck_abort_msg("mapper: wrong context");
        map_calls++;
        if (len == 0 || !range_within(pa, len, 0, mem_size))
                return NULL;
        if (pa < hole_hi && pa + len > hole_lo)
                return NULL;
        void *p = malloc(len);
        if (!p)
                ck_abort_msg("out of host memory");
        memcpy(p, mem + pa, len);
        keep(p);
        return p;
}

static void free_copies(void)
{
        for (size_t i = 0; i < ncopies; i++)
                free(copies[i]);
        ncopies = 0;
}

static void setup(void)
{
        memset(mem, 0xee, sizeof(mem)); /* junk, as in uninitialised RAM */
        mem[0x40e] = mem[0x40f] = 0;    /* no EBDA unless a test sets one */
        mem_size = MEM_SIZE;
        hole_lo = hole_hi = 0;
        map_calls = 0;
}

static void teardown(void)
{
        free_copies();
        free(copies);
        copies = NULL;
        copies_cap = 0;
}

/* No ck_assert on the way (it reports progress, which --write-corpus,
 * running outside Check, cannot): only a failure calls into Check. */
static uint8_t *at(uint64_t pa)
{
        if (pa >= MEM_SIZE)
                ck_abort_msg("0x%llx is outside the fake memory", (unsigned long long)pa);
        return mem + pa;
}

static void w8(uint64_t pa, uint8_t v)
{
        *at(pa) = v;
}

static void w16(uint64_t pa, uint16_t v)
{
        w8(pa, (uint8_t)v);
        w8(pa + 1, (uint8_t)(v >> 8));
}

static void w32(uint64_t pa, uint32_t v)
{
        w16(pa, (uint16_t)v);
        w16(pa + 2, (uint16_t)(v >> 16));
}

static void w64(uint64_t pa, uint64_t v)
{
        w32(pa, (uint32_t)v);
        w32(pa + 4, (uint32_t)(v >> 32));
}

static uint32_t r32(uint64_t pa)
{
        const uint8_t *p = at(pa);
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum8(uint64_t pa, size_t n)
{
        uint8_t s = 0;
        for (size_t i = 0; i < n; i++)
                s = (uint8_t)(s + *at(pa + i));
        return s;
}

/* Sets the byte at pa + at_off so that n bytes from pa sum to 0. */
static void fix_sum(uint64_t pa, size_t n, size_t at_off)
{
        w8(pa + at_off, 0);
        w8(pa + at_off, (uint8_t)-sum8(pa, n));
}

/* ---- table builders ---- */

/* Usual addresses: the RSDP in the BIOS area, the tables above 1 MiB. */
#define RSDP_PA 0xf5a40ULL
#define RSDT_PA 0x180000ULL
#define XSDT_PA 0x181000ULL
#define MADT_PA 0x182000ULL
#define FACP_PA 0x188000ULL
#define HPET_PA 0x189000ULL
#define EBDA_PA 0x9fc00ULL

static void rsdp_v1(uint64_t pa, uint32_t rsdt)
{
        memcpy(at(pa), "RSD PTR ", 8);
        memcpy(at(pa + 9), "BOCHS ", 6);
        w8(pa + 15, 0);
        w32(pa + 16, rsdt);
        fix_sum(pa, 20, 8);
}

static void rsdp_v2(uint64_t pa, uint32_t rsdt, uint64_t xsdt)
{
        memcpy(at(pa), "RSD PTR ", 8);
        memcpy(at(pa + 9), "VTVOEM", 6);
        w8(pa + 15, 2);
        w32(pa + 16, rsdt);
        w32(pa + 20, 36);
        w64(pa + 24, xsdt);
        w8(pa + 33, 0);
        w8(pa + 34, 0);
        w8(pa + 35, 0);
        fix_sum(pa, 20, 8);
        fix_sum(pa, 36, 32);
}

/* The 36-byte header (5.2.6); the checksum is fixed by sdt_seal. */
static void sdt_header(uint64_t pa, const char *sig, uint32_t len, uint8_t rev)
{
        memcpy(at(pa), sig, 4);
        w32(pa + 4, len);
        w8(pa + 8, rev);
        memcpy(at(pa + 10), "VTVOEM", 6);
        memcpy(at(pa + 16), "TESTTABL", 8);
        w32(pa + 24, 1);
        w32(pa + 28, 0x4c545654);
        w32(pa + 32, 1);
}

static void sdt_seal(uint64_t pa)
{
        fix_sum(pa, r32(pa + 4), 9);
}

/* A table with nothing but its header and some body bytes. */
static void other_table(uint64_t pa, const char *sig, uint32_t len)
{
        sdt_header(pa, sig, len, 1);
        memset(at(pa + 36), 0x5a, len - 36);
        sdt_seal(pa);
}

static void rsdt(uint64_t pa, const uint64_t *tables, size_t n)
{
        sdt_header(pa, "RSDT", (uint32_t)(36 + 4 * n), 1);
        for (size_t i = 0; i < n; i++)
                w32(pa + 36 + 4 * i, (uint32_t)tables[i]);
        sdt_seal(pa);
}

static void xsdt(uint64_t pa, const uint64_t *tables, size_t n)
{
        sdt_header(pa, "XSDT", (uint32_t)(36 + 8 * n), 1);
        for (size_t i = 0; i < n; i++)
                w64(pa + 36 + 8 * i, tables[i]);
        sdt_seal(pa);
}

/* The MADT is built entry by entry, then sealed. */
static uint64_t madt_pa;
static uint32_t madt_len;

static void madt_begin(uint64_t pa, uint8_t rev, uint32_t lapic, uint32_t flags)
{
        madt_pa = pa;
        madt_len = 44;
        sdt_header(pa, "APIC", 44, rev);
        w32(pa + 36, lapic);
        w32(pa + 40, flags);
}

static void madt_raw(const uint8_t *e, size_t n)
{
        memcpy(at(madt_pa + madt_len), e, n);
        madt_len += (uint32_t)n;
}

static void madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
        uint8_t e[8] = { 0, 8, uid, apic_id };
        memcpy(e + 4, &flags, 4);
        madt_raw(e, sizeof(e));
}

static void madt_x2apic(uint32_t apic_id, uint32_t uid, uint32_t flags)
{
        uint8_t e[16] = { 9, 16 };
        memcpy(e + 4, &apic_id, 4);
        memcpy(e + 8, &flags, 4);
        memcpy(e + 12, &uid, 4);
        madt_raw(e, sizeof(e));
}

static void madt_ioapic(uint8_t id, uint32_t address, uint32_t gsi_base)
{
        uint8_t e[12] = { 1, 12, id, 0 };
        memcpy(e + 4, &address, 4);
        memcpy(e + 8, &gsi_base, 4);
        madt_raw(e, sizeof(e));
}

static void madt_override(uint64_t address)
{
        uint8_t e[12] = { 5, 12 };
        memcpy(e + 4, &address, 8);
        madt_raw(e, sizeof(e));
}

/* Interrupt source override (type 2) and local APIC NMI (type 4), as
 * every PC firmware has: the parser steps over them. */
static void madt_iso(uint8_t irq, uint32_t gsi)
{
        uint8_t e[10] = { 2, 10, 0, irq };
        memcpy(e + 4, &gsi, 4);
        madt_raw(e, sizeof(e));
}

static void madt_lapic_nmi(void)
{
        const uint8_t e[6] = { 4, 6, 0xff, 0, 0, 1 };
        madt_raw(e, sizeof(e));
}

static uint64_t madt_end(void)
{
        w32(madt_pa + 4, madt_len);
        sdt_seal(madt_pa);
        return madt_pa;
}

/* Bochs's (and SeaBIOS's) set: RSDP v1 in the BIOS area, an RSDT listing
 * a FACP and the MADT, two CPUs, one I/O APIC, the usual overrides. */
static void bochs_tables(void)
{
        rsdp_v1(RSDP_PA, RSDT_PA);
        other_table(FACP_PA, "FACP", 116);
        madt_begin(MADT_PA, 1, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 1, 1);
        madt_ioapic(2, 0xfec00000, 0);
        madt_iso(0, 2);
        madt_iso(9, 9);
        madt_lapic_nmi();
        madt_end();
        const uint64_t t[] = { FACP_PA, MADT_PA };
        rsdt(RSDT_PA, t, 2);
}

/* ---- calling the parser ---- */

static struct fw_madt madt;

static const char *find(uint64_t *pa)
{
        return fw_acpi_find_rsdp(fake_map, mem, pa);
}

static const char *parse(uint64_t root, bool is_xsdt)
{
        memset(&madt, 0x5a, sizeof(madt)); /* the parser must clear it */
        return fw_acpi_parse_madt(fake_map, mem, root, is_xsdt, &madt);
}

/* The whole path from the BIOS areas: find, root, MADT. */
static const char *parse_from_bios(void)
{
        uint64_t pa, root;
        bool x;
        const char *err = find(&pa);
        if (err)
                return err;
        err = fw_acpi_rsdp_root(at(pa), MIN(36, MEM_SIZE - pa), &root, &x);
        if (err)
                return err;
        return parse(root, x);
}

#define EXPECT_OK(call)                                                                            \
        do {                                                                                       \
                const char *err_ = (call);                                                         \
                ck_assert_msg(err_ == NULL, "unexpected error: %s", err_);                         \
        } while (0)

/* An error whose message mentions a word; and the MADT left empty. */
#define EXPECT_ERR_ABOUT(call, word)                                                               \
        do {                                                                                       \
                const char *err_ = (call);                                                         \
                ck_assert_msg(err_ != NULL, "malformed input accepted");                           \
                ck_assert_msg(strstr(err_, (word)) != NULL, "error \"%s\" does not mention %s",    \
                              err_, (word));                                                       \
        } while (0)

#define EXPECT_MADT_ERR(call, word)                                                                \
        do {                                                                                       \
                EXPECT_ERR_ABOUT(call, word);                                                      \
                ck_assert_uint_eq(madt.ncpus, 0);                                                  \
                ck_assert_uint_eq(madt.nioapics, 0);                                               \
                ck_assert(!madt.truncated);                                                        \
        } while (0)

#define EXPECT_CPU(i, id, uid, en, oc, x2)                                                         \
        do {                                                                                       \
                ck_assert_uint_gt(madt.ncpus, (i));                                                \
                ck_assert_uint_eq(madt.cpus[i].apic_id, (id));                                     \
                ck_assert_uint_eq(madt.cpus[i].acpi_uid, (uid));                                   \
                ck_assert(madt.cpus[i].enabled == (en));                                           \
                ck_assert(madt.cpus[i].online_capable == (oc));                                    \
                ck_assert(madt.cpus[i].x2apic_entry == (x2));                                      \
        } while (0)

/* ---- finding the RSDP ---- */

START_TEST(rsdp_in_bios_area)
{
        rsdp_v1(RSDP_PA, RSDT_PA);
        uint64_t pa = 1;
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, RSDP_PA);

        /* The first and the last 16-byte slot of the area. */
        setup();
        rsdp_v1(0xe0000, RSDT_PA);
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, 0xe0000);
        setup();
        rsdp_v1(0xffff0, RSDT_PA);
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, 0xffff0);
}
END_TEST

START_TEST(rsdp_in_ebda)
{
        w16(0x40e, EBDA_PA >> 4);
        rsdp_v2(EBDA_PA + 0x30, RSDT_PA, XSDT_PA);
        uint64_t pa;
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, EBDA_PA + 0x30);

        /* The EBDA is searched before the BIOS area. */
        rsdp_v1(RSDP_PA, RSDT_PA);
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, EBDA_PA + 0x30);

        /* Only its first KiB: the last slot counts, the next does not. */
        setup();
        w16(0x40e, EBDA_PA >> 4);
        rsdp_v1(EBDA_PA + 1008, RSDT_PA);
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, EBDA_PA + 1008);
        setup();
        w16(0x40e, EBDA_PA >> 4);
        rsdp_v1(EBDA_PA + 1024, RSDT_PA);
        EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
        ck_assert_x64_eq(pa, 0);
}
END_TEST

START_TEST(rsdp_ebda_pointer_ignored_when_implausible)
{
        /* Segment 0 (no EBDA) or one inside the IVT/BDA: not scanned. */
        static const uint16_t segs[] = { 0, 0x40, 0x4f };
        for (size_t i = 0; i < ARRAY_SIZE(segs); i++) {
                setup();
                w16(0x40e, segs[i]);
                rsdp_v1((uint64_t)segs[i] << 4 | 0x100, RSDT_PA);
                uint64_t pa;
                EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
        }
        /* The BDA itself unmapped: the BIOS area is still searched. */
        setup();
        hole_lo = 0;
        hole_hi = 0x1000;
        rsdp_v1(RSDP_PA, RSDT_PA);
        uint64_t pa;
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, RSDP_PA);
}
END_TEST

START_TEST(rsdp_only_on_16_byte_boundaries)
{
        rsdp_v1(RSDP_PA + 8, RSDT_PA);
        uint64_t pa;
        EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
        rsdp_v1(RSDP_PA + 4, RSDT_PA);
        EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
}
END_TEST

START_TEST(rsdp_none)
{
        uint64_t pa = 1;
        EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
        ck_assert_x64_eq(pa, 0);
        /* A bare signature, or nothing mapped below 1 MiB at all. */
        memcpy(at(RSDP_PA), "RSD PTR ", 8);
        EXPECT_ERR_ABOUT(find(&pa), "checksum");
        hole_lo = 0;
        hole_hi = 0x100000;
        EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
}
END_TEST

START_TEST(rsdp_bad_checksum_skipped)
{
        /* A signature with a wrong checksum (a stray copy, a string in
         * the BIOS) does not stop the search; the valid one after it wins. */
        rsdp_v1(0xe1000, RSDT_PA);
        w8(0xe1000 + 8, (uint8_t)(*at(0xe1000 + 8) + 1));
        rsdp_v1(RSDP_PA, RSDT_PA);
        uint64_t pa;
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, RSDP_PA);
        /* Alone, it is reported. */
        memset(at(RSDP_PA), 0, 20);
        EXPECT_ERR_ABOUT(find(&pa), "RSDP checksum is wrong");
}
END_TEST

START_TEST(rsdp_v2_extended_checksum)
{
        rsdp_v2(RSDP_PA, RSDT_PA, XSDT_PA);
        uint64_t pa;
        EXPECT_OK(find(&pa));
        /* A byte beyond the first 20: the first checksum still holds. */
        w8(RSDP_PA + 28, 0x77);
        ck_assert_uint_eq(sum8(RSDP_PA, 20), 0);
        EXPECT_ERR_ABOUT(find(&pa), "extended checksum");
        uint64_t root;
        bool x;
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 36, &root, &x), "extended checksum");
        /* A good one later in the area is found past the bad one. */
        rsdp_v2(0xf8000, RSDT_PA, XSDT_PA);
        EXPECT_OK(find(&pa));
        ck_assert_x64_eq(pa, 0xf8000);
}
END_TEST

START_TEST(rsdp_v2_length)
{
        uint64_t pa, root;
        bool x;
        /* Length below 36, implausibly large, or past the end of memory. */
        static const uint32_t bad[] = { 0, 20, 35, 4097, 0xffffffff };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                setup();
                rsdp_v2(RSDP_PA, RSDT_PA, XSDT_PA);
                w32(RSDP_PA + 20, bad[i]);
                fix_sum(RSDP_PA, 20, 8);
                fix_sum(RSDP_PA, 36, 32);
                EXPECT_ERR_ABOUT(find(&pa), "length");
                EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 36, &root, &x), "RSDP");
        }
        /* A longer RSDP (a future revision) is checked over its length. */
        setup();
        rsdp_v2(RSDP_PA, RSDT_PA, XSDT_PA);
        w32(RSDP_PA + 20, 48);
        memset(at(RSDP_PA + 36), 0x11, 12);
        fix_sum(RSDP_PA, 20, 8);
        fix_sum(RSDP_PA, 48, 32);
        EXPECT_OK(find(&pa));
        EXPECT_OK(fw_acpi_rsdp_root(at(RSDP_PA), 48, &root, &x));
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 36, &root, &x), "longer");
        /* The same where memory ends after 36 bytes. */
        setup();
        mem_size = 0x100000;
        rsdp_v2(0xfffd0, RSDT_PA, XSDT_PA);
        w32(0xfffd0 + 20, 0x40);
        fix_sum(0xfffd0, 20, 8);
        EXPECT_ERR_ABOUT(find(&pa), "past mapped memory");
}
END_TEST

START_TEST(rsdp_at_end_of_memory)
{
        /* Memory ends at 1 MiB: nothing may be read past it.  A v2 RSDP
         * whose first 20 bytes fit but not its 36 ... */
        mem_size = 0x100000;
        rsdp_v2(0xfffe0, RSDT_PA, XSDT_PA);
        uint64_t pa;
        EXPECT_ERR_ABOUT(find(&pa), "past mapped memory");
        /* ... and a v1 RSDP in the last slot, whose 20 bytes do not fit. */
        setup();
        mem_size = 0x100000;
        rsdp_v1(0xffff0, RSDT_PA);
        EXPECT_ERR_ABOUT(find(&pa), "no RSDP");
}
END_TEST

/* ---- validating an RSDP in memory ---- */

START_TEST(rsdp_root_selects_table)
{
        uint64_t root = 1;
        bool x = true;
        rsdp_v1(RSDP_PA, 0x7ffe1234);
        EXPECT_OK(fw_acpi_rsdp_root(at(RSDP_PA), 20, &root, &x));
        ck_assert_x64_eq(root, 0x7ffe1234);
        ck_assert(!x);

        /* Revision 2: the XSDT, even above 4 GiB ... */
        rsdp_v2(RSDP_PA, 0x7ffe1234, 0x12345678abcULL);
        EXPECT_OK(fw_acpi_rsdp_root(at(RSDP_PA), 36, &root, &x));
        ck_assert_x64_eq(root, 0x12345678abcULL);
        ck_assert(x);
        /* ... unless its address is 0. */
        rsdp_v2(RSDP_PA, 0x7ffe1234, 0);
        EXPECT_OK(fw_acpi_rsdp_root(at(RSDP_PA), 36, &root, &x));
        ck_assert_x64_eq(root, 0x7ffe1234);
        ck_assert(!x);
        /* Neither. */
        rsdp_v2(RSDP_PA, 0, 0);
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 36, &root, &x), "neither");
        ck_assert_x64_eq(root, 0);
        rsdp_v1(RSDP_PA, 0);
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 20, &root, &x), "neither");
}
END_TEST

START_TEST(rsdp_root_malformed)
{
        uint64_t root;
        bool x;
        rsdp_v1(RSDP_PA, RSDT_PA);
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 19, &root, &x), "shorter");
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(NULL, 36, &root, &x), "shorter");
        w8(RSDP_PA + 7, 'X');
        fix_sum(RSDP_PA, 20, 8);
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 20, &root, &x), "signature");
        /* A v2 RSDP given only its first 20 bytes. */
        rsdp_v2(RSDP_PA, RSDT_PA, XSDT_PA);
        EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 20, &root, &x), "36");
        /* Every single-byte change of the first 20 bytes breaks the checksum. */
        for (unsigned i = 8; i < 20; i++) {
                rsdp_v1(RSDP_PA, RSDT_PA);
                w8(RSDP_PA + i, (uint8_t)(*at(RSDP_PA + i) + 1));
                EXPECT_ERR_ABOUT(fw_acpi_rsdp_root(at(RSDP_PA), 20, &root, &x), "checksum");
        }
}
END_TEST

START_TEST(rsdp_from_multiboot2_tag)
{
        /* The copy GRUB puts in an "ACPI new RSDP" tag, through bootinfo. */
        rsdp_v2(RSDP_PA, RSDT_PA, XSDT_PA);
        uint64_t info = 0x100000;
        w32(info, 8 + 48 + 16 + 8);
        w32(info + 4, 0);
        w32(info + 8, 15);
        w32(info + 12, 8 + 36);
        memcpy(at(info + 16), at(RSDP_PA), 36);
        w32(info + 56, 4); /* basic memory info */
        w32(info + 60, 16);
        w32(info + 64, 639);
        w32(info + 68, 1024);
        w32(info + 72, 0); /* end */
        w32(info + 76, 8);
        memset(at(RSDP_PA), 0, 36); /* only the copy is left */

        static struct bootinfo bi;
        EXPECT_OK(bootinfo_parse(&bi, MB2_BOOT_MAGIC, info, fake_map, mem));
        ck_assert_uint_eq(bi.rsdp_len, 36);
        uint64_t root;
        bool x;
        EXPECT_OK(fw_acpi_rsdp_root(bi.rsdp, bi.rsdp_len, &root, &x));
        ck_assert_x64_eq(root, XSDT_PA);
        ck_assert(x);
}
END_TEST

/* ---- the MADT ---- */

START_TEST(bochs_like)
{
        bochs_tables();
        EXPECT_OK(parse_from_bios());
        ck_assert_x64_eq(madt.lapic_address, 0xfee00000);
        ck_assert(madt.pcat_compat);
        ck_assert_uint_eq(madt.ncpus, 2);
        EXPECT_CPU(0, 0, 0, true, false, false);
        EXPECT_CPU(1, 1, 1, true, false, false);
        ck_assert_uint_eq(madt.nioapics, 1);
        ck_assert_uint_eq(madt.ioapics[0].id, 2);
        ck_assert_x64_eq(madt.ioapics[0].address, 0xfec00000);
        ck_assert_uint_eq(madt.ioapics[0].gsi_base, 0);
        ck_assert(!madt.truncated);

        /* PCAT_COMPAT clear. */
        w32(MADT_PA + 40, 0);
        sdt_seal(MADT_PA);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert(!madt.pcat_compat);
        ck_assert_uint_eq(madt.ncpus, 2);
}
END_TEST

START_TEST(xsdt_tables)
{
        /* XSDT with 8-byte entries: a null one, one above 4 GiB that is
         * not mapped, an HPET, then the MADT. */
        other_table(HPET_PA, "HPET", 56);
        madt_begin(MADT_PA, 5, 0xfee00000, 0);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 2, 1);
        madt_lapic(2, 4, 1);
        madt_lapic(3, 6, 1);
        madt_ioapic(0, 0xfec00000, 0);
        madt_ioapic(1, 0xfec01000, 24);
        madt_end();
        const uint64_t t[] = { 0, 0x100000000ULL, HPET_PA, MADT_PA };
        xsdt(XSDT_PA, t, 4);
        /* An RSDT listing no MADT, which must not be used. */
        const uint64_t rt[] = { HPET_PA };
        rsdt(RSDT_PA, rt, 1);
        w16(0x40e, EBDA_PA >> 4);
        rsdp_v2(EBDA_PA, RSDT_PA, XSDT_PA);

        EXPECT_OK(parse_from_bios());
        ck_assert(!madt.pcat_compat);
        ck_assert_uint_eq(madt.ncpus, 4);
        for (unsigned i = 0; i < 4; i++)
                EXPECT_CPU(i, 2 * i, i, true, false, false);
        ck_assert_uint_eq(madt.nioapics, 2);
        ck_assert_x64_eq(madt.ioapics[1].address, 0xfec01000);
        ck_assert_uint_eq(madt.ioapics[1].gsi_base, 24);
        ck_assert_uint_eq(madt.ioapics[1].id, 1);

        EXPECT_ERR_ABOUT(parse(RSDT_PA, false), "no MADT in the RSDT");
        /* The RSDT is not an XSDT, nor the other way round. */
        EXPECT_MADT_ERR(parse(RSDT_PA, true), "signature");
        EXPECT_MADT_ERR(parse(XSDT_PA, false), "signature");
}
END_TEST

START_TEST(x2apic_entries)
{
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_x2apic(0x100, 0x100, 1);
        madt_x2apic(0x1234567, 77, 1);
        madt_x2apic(5, 5, 1); /* below 255 is allowed too */
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 4);
        EXPECT_CPU(0, 0, 0, true, false, false);
        EXPECT_CPU(1, 0x100, 0x100, true, false, true);
        EXPECT_CPU(2, 0x1234567, 77, true, false, true);
        EXPECT_CPU(3, 5, 5, true, false, true);
}
END_TEST

START_TEST(disabled_cpus_left_out)
{
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 1, 0);          /* neither enabled nor online capable */
        madt_x2apic(0x200, 2, 0);     /* the same as x2APIC */
        madt_lapic(3, 3, 0xfffffffc); /* reserved bits only */
        madt_lapic(4, 4, 1);
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 2);
        EXPECT_CPU(0, 0, 0, true, false, false);
        EXPECT_CPU(1, 4, 4, true, false, false);
}
END_TEST

START_TEST(online_capable_cpus)
{
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 1, 2); /* may be brought online later */
        madt_lapic(2, 2, 3); /* enabled: bit 1 is reserved then */
        madt_x2apic(0x300, 3, 2);
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 4);
        EXPECT_CPU(0, 0, 0, true, false, false);
        EXPECT_CPU(1, 1, 1, false, true, false);
        EXPECT_CPU(2, 2, 2, true, false, false);
        EXPECT_CPU(3, 0x300, 3, false, true, true);

        /* Before MADT revision 5 (ACPI 6.3) bit 1 is reserved: a disabled
         * CPU is unusable whatever it says. */
        w8(MADT_PA + 8, 4);
        sdt_seal(MADT_PA);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 2);
        EXPECT_CPU(0, 0, 0, true, false, false);
        EXPECT_CPU(1, 2, 2, true, false, false);
}
END_TEST

START_TEST(duplicate_apic_ids)
{
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 1, 1);
        madt_lapic(2, 1, 1);  /* ID 1 again: skipped */
        madt_x2apic(0, 9, 1); /* ID 0 as x2APIC: skipped */
        madt_lapic(3, 3, 0);  /* unusable, so ignored ... */
        madt_lapic(4, 3, 1);  /* ... and this one is not a repeat */
        madt_x2apic(0x400, 5, 2);
        madt_x2apic(0x400, 6, 1); /* the first entry stands */
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 4);
        EXPECT_CPU(0, 0, 0, true, false, false);
        EXPECT_CPU(1, 1, 1, true, false, false);
        EXPECT_CPU(2, 3, 4, true, false, false);
        EXPECT_CPU(3, 0x400, 5, false, true, true);
        ck_assert(!madt.truncated);
}
END_TEST

START_TEST(broadcast_ids_left_out)
{
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0xff, 1);
        madt_x2apic(0xffffffff, 1, 1);
        madt_x2apic(0xff, 2, 1); /* 255 is a fine x2APIC ID */
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 1);
        EXPECT_CPU(0, 0xff, 2, true, false, true);
}
END_TEST

START_TEST(too_many_cpus)
{
        /* 70 xAPIC entries and 300 x2APIC ones: the first FW_MAX_CPUS kept. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        for (unsigned i = 0; i < 70; i++)
                madt_lapic((uint8_t)i, (uint8_t)i, 1);
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, FW_MAX_CPUS);
        ck_assert(madt.truncated);
        EXPECT_CPU(FW_MAX_CPUS - 1, FW_MAX_CPUS - 1, FW_MAX_CPUS - 1, true, false, false);

        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        for (unsigned i = 0; i < 300; i++)
                madt_x2apic(1000 + i, i, 1);
        madt_end();
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, FW_MAX_CPUS);
        ck_assert(madt.truncated);
        EXPECT_CPU(FW_MAX_CPUS - 1, 1000 + FW_MAX_CPUS - 1, FW_MAX_CPUS - 1, true, false, true);

        /* Exactly FW_MAX_CPUS, plus repeats and unusable ones: no truncation. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        for (unsigned i = 0; i < FW_MAX_CPUS; i++)
                madt_lapic((uint8_t)i, (uint8_t)i, 1);
        madt_lapic(99, 0, 1);
        madt_lapic(100, 200, 0);
        madt_end();
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, FW_MAX_CPUS);
        ck_assert(!madt.truncated);
}
END_TEST

START_TEST(too_many_ioapics)
{
        madt_begin(MADT_PA, 3, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        for (unsigned i = 0; i < FW_MAX_IOAPICS + 2; i++)
                madt_ioapic((uint8_t)(i + 1), 0xfec00000 + 0x1000 * i, 24 * i);
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.nioapics, FW_MAX_IOAPICS);
        ck_assert(madt.truncated);
        ck_assert_uint_eq(madt.ncpus, 1);
        ck_assert_uint_eq(madt.ioapics[FW_MAX_IOAPICS - 1].id, FW_MAX_IOAPICS);
        ck_assert_uint_eq(madt.ioapics[FW_MAX_IOAPICS - 1].gsi_base, 24 * (FW_MAX_IOAPICS - 1));
}
END_TEST

START_TEST(lapic_address_override)
{
        madt_begin(MADT_PA, 3, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_override(0x1fee00000ULL);
        madt_override(0xdead0000ULL); /* only one may exist: the first stands */
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_x64_eq(madt.lapic_address, 0x1fee00000ULL);
        ck_assert_uint_eq(madt.ncpus, 1);
}
END_TEST

START_TEST(entries_stepped_over)
{
        /* Unknown and OEM types are skipped by their length, known ones
         * may be longer than their fields. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        const uint8_t unknown[] = { 0x7f, 3, 0 };
        const uint8_t oem[] = { 0x80, 2 };
        const uint8_t gicc[80] = { 0xb, 80 };
        const uint8_t long_lapic[12] = { 0, 12, 7, 8, 1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd };
        madt_raw(unknown, sizeof(unknown));
        madt_raw(oem, sizeof(oem));
        madt_raw(gicc, sizeof(gicc));
        madt_raw(long_lapic, sizeof(long_lapic));
        madt_lapic(1, 1, 1);
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 2);
        EXPECT_CPU(0, 8, 7, true, false, false);
        EXPECT_CPU(1, 1, 1, true, false, false);

        /* No entries at all is a valid (if useless) MADT. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_end();
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 0);
}
END_TEST

/* Builds a MADT of one good CPU followed by the given bytes, sealed. */
static void madt_with_tail(const uint8_t *tail, size_t n)
{
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_raw(tail, n);
        madt_lapic(1, 1, 1);
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
}

START_TEST(zero_length_entry)
{
        const uint8_t zero[] = { 0x7f, 0, 0, 0 };
        madt_with_tail(zero, sizeof(zero));
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "length below 2");
        const uint8_t one[] = { 0, 1 };
        madt_with_tail(one, sizeof(one));
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "length below 2");
}
END_TEST

START_TEST(entry_past_end)
{
        /* The last entry claims more bytes than the table has. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        const uint8_t e[8] = { 0, 9, 1, 1, 1, 0, 0, 0 };
        madt_raw(e, sizeof(e));
        madt_end();
        const uint64_t t[] = { MADT_PA };
        rsdt(RSDT_PA, t, 1);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "past the end");
        /* 255, far past it. */
        w8(MADT_PA + 44 + 8 + 1, 0xff);
        sdt_seal(MADT_PA);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "past the end");
        /* One byte left after the last entry: no room for a header. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        const uint8_t lone = 0;
        madt_raw(&lone, 1);
        madt_end();
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "past the end");
}
END_TEST

START_TEST(known_entry_too_short)
{
        static const uint8_t types[] = { 0, 1, 5, 9 };
        for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
                uint8_t e[16] = { types[i], 6, 1, 1, 1 };
                madt_with_tail(e, 6);
                EXPECT_MADT_ERR(parse(RSDT_PA, false), "too short");
        }
        /* The x2APIC entry needs all of its 16 bytes. */
        uint8_t x[15] = { 9, 15, 0, 0, 7 };
        madt_with_tail(x, sizeof(x));
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "x2APIC entry is too short");
}
END_TEST

START_TEST(bad_checksums_everywhere)
{
        /* One byte changed anywhere in a table breaks its checksum. */
        bochs_tables();
        EXPECT_OK(parse(RSDT_PA, false));
        uint32_t mlen = r32(MADT_PA + 4), rlen = r32(RSDT_PA + 4);
        for (uint32_t i = 0; i < mlen; i++) {
                w8(MADT_PA + i, (uint8_t)(*at(MADT_PA + i) + 1));
                const char *err = parse(RSDT_PA, false);
                ck_assert_msg(err != NULL, "MADT byte %u changed, accepted", i);
                ck_assert_uint_eq(madt.ncpus, 0);
                w8(MADT_PA + i, (uint8_t)(*at(MADT_PA + i) - 1));
        }
        w8(MADT_PA + 9, (uint8_t)(*at(MADT_PA + 9) ^ 0x40));
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "MADT checksum is wrong");
        w8(MADT_PA + 9, (uint8_t)(*at(MADT_PA + 9) ^ 0x40));
        for (uint32_t i = 0; i < rlen; i++) {
                w8(RSDT_PA + i, (uint8_t)(*at(RSDT_PA + i) + 1));
                ck_assert_msg(parse(RSDT_PA, false) != NULL, "RSDT byte %u changed, accepted", i);
                w8(RSDT_PA + i, (uint8_t)(*at(RSDT_PA + i) - 1));
        }
        w8(RSDT_PA + 30, 0);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "RSDT checksum is wrong");

        const uint64_t t[] = { MADT_PA };
        xsdt(XSDT_PA, t, 1);
        EXPECT_OK(parse(XSDT_PA, true));
        w8(XSDT_PA + 40, 0x10);
        EXPECT_MADT_ERR(parse(XSDT_PA, true), "XSDT checksum is wrong");
        /* Tables it does not need may have bad checksums. */
        bochs_tables();
        w8(FACP_PA + 50, 0x33);
        EXPECT_OK(parse(RSDT_PA, false));
}
END_TEST

START_TEST(table_length_past_mapped_memory)
{
        /* The MADT is the last thing in memory and claims 16 bytes more. */
        bochs_tables();
        uint32_t mlen = r32(MADT_PA + 4);
        mem_size = MADT_PA + mlen;
        EXPECT_OK(parse(RSDT_PA, false));
        w32(MADT_PA + 4, mlen + 16);
        sdt_seal(MADT_PA);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "MADT length runs past mapped memory");
        w32(MADT_PA + 4, 0xffffffff);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "past mapped memory");

        /* A hole in the middle of the table. */
        setup();
        bochs_tables();
        hole_lo = MADT_PA + 40;
        hole_hi = MADT_PA + 41;
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "MADT length runs past mapped memory");
        /* Even the header unmapped: no MADT to be found. */
        hole_lo = MADT_PA;
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "unreadable");

        /* The RSDT likewise. */
        setup();
        bochs_tables();
        mem_size = RSDT_PA + 40;
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "RSDT length runs past mapped memory");
        mem_size = RSDT_PA + 20;
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "RSDT is unreadable");
        EXPECT_MADT_ERR(parse(0xfffffffffffffff0ULL, true), "XSDT is unreadable");
        EXPECT_MADT_ERR(parse(0xffffffffffffffffULL, false), "RSDT is unreadable");
}
END_TEST

START_TEST(table_lengths_too_short)
{
        static const uint32_t short_lens[] = { 0, 1, 35 };
        for (size_t i = 0; i < ARRAY_SIZE(short_lens); i++) {
                setup();
                bochs_tables();
                w32(RSDT_PA + 4, short_lens[i]);
                EXPECT_MADT_ERR(parse(RSDT_PA, false), "below its 36-byte header");
        }
        /* A MADT too short for its LAPIC address and flags. */
        static const uint32_t mshort[] = { 0, 36, 40, 43 };
        for (size_t i = 0; i < ARRAY_SIZE(mshort); i++) {
                setup();
                bochs_tables();
                w32(MADT_PA + 4, mshort[i]);
                if (mshort[i] >= 36)
                        fix_sum(MADT_PA, mshort[i], 9);
                EXPECT_MADT_ERR(parse(RSDT_PA, false), "below its 44 bytes");
        }
        /* An RSDT of just its header lists nothing. */
        setup();
        rsdt(RSDT_PA, NULL, 0);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "no MADT in the RSDT");
}
END_TEST

START_TEST(root_partial_entries)
{
        bochs_tables();
        /* 2 entries and 2 bytes: not a whole number of 4-byte entries. */
        w32(RSDT_PA + 4, 36 + 8 + 2);
        sdt_seal(RSDT_PA);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "whole number");
        const uint64_t t[] = { MADT_PA };
        xsdt(XSDT_PA, t, 1);
        w32(XSDT_PA + 4, 36 + 4);
        sdt_seal(XSDT_PA);
        EXPECT_MADT_ERR(parse(XSDT_PA, true), "whole number");
}
END_TEST

START_TEST(no_madt)
{
        other_table(FACP_PA, "FACP", 116);
        other_table(HPET_PA, "HPET", 56);
        const uint64_t t[] = { FACP_PA, 0, HPET_PA };
        rsdt(RSDT_PA, t, 3);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "no MADT in the RSDT");
        ck_assert_ptr_null(strstr(parse(RSDT_PA, false), "unreadable"));
        xsdt(XSDT_PA, t, 3);
        EXPECT_MADT_ERR(parse(XSDT_PA, true), "no MADT in the XSDT");
        /* ... and a listed table that cannot be read may have been it. */
        const uint64_t u[] = { FACP_PA, 0x7fff0000, HPET_PA };
        rsdt(RSDT_PA, u, 3);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "unreadable");
}
END_TEST

START_TEST(first_madt_wins)
{
        /* A second "APIC" table is not looked at, even a broken one; a
         * broken first one is an error. */
        bochs_tables();
        other_table(HPET_PA, "APIC", 30 + 36);
        w8(HPET_PA + 20, 1);
        const uint64_t t[] = { FACP_PA, MADT_PA, HPET_PA };
        rsdt(RSDT_PA, t, 3);
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 2);
        const uint64_t u[] = { FACP_PA, HPET_PA, MADT_PA };
        rsdt(RSDT_PA, u, 3);
        EXPECT_MADT_ERR(parse(RSDT_PA, false), "MADT checksum");
}
END_TEST

START_TEST(guest_tables_parse)
{
        /* The tables vtvisor builds for its guests (devices/acpi.c), found
         * the way firmware's are: a second, independent writer of MADTs. */
        static const unsigned ns[] = { 1, 4, 64, 65, 200 };
        for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
                setup();
                struct acpi_config cfg = { .base = 0xe0000, .ncpus = ns[i], .ioapic_id = 0xfe };
                static struct acpi_layout l;
                EXPECT_OK(acpi_build(&cfg, at(0xe0000), ACPI_MAX_SIZE, &l));
                EXPECT_OK(parse_from_bios());
                ck_assert_uint_eq(madt.ncpus, MIN(ns[i], FW_MAX_CPUS));
                ck_assert(madt.truncated == (ns[i] > FW_MAX_CPUS));
                for (unsigned c = 0; c < madt.ncpus; c++)
                        EXPECT_CPU(c, c, c, true, false, false);
                ck_assert_uint_eq(madt.nioapics, 1);
                ck_assert_uint_eq(madt.ioapics[0].id, 0xfe);
                ck_assert_x64_eq(madt.ioapics[0].address, ACPI_IOAPIC_ADDR);
                ck_assert_x64_eq(madt.lapic_address, ACPI_LAPIC_ADDR);
        }
}
END_TEST

START_TEST(hostile_sizes_terminate)
{
        /* A 64 KiB MADT of 2-byte unknown entries: many steps, all bounded. */
        madt_begin(MADT_PA, 5, 0xfee00000, 1);
        const uint8_t tiny[2] = { 0x7e, 2 };
        for (unsigned i = 0; i < 32000; i++)
                madt_raw(tiny, 2);
        madt_lapic(0, 0, 1);
        madt_end();
        /* An RSDT listing the same MADT 1000 times; and null entries. */
        uint64_t t[1000];
        for (size_t i = 0; i < ARRAY_SIZE(t); i++)
                t[i] = i < 999 ? 0 : MADT_PA;
        rsdt(RSDT_PA, t, ARRAY_SIZE(t));
        unsigned before = map_calls;
        EXPECT_OK(parse(RSDT_PA, false));
        ck_assert_uint_eq(madt.ncpus, 1);
        ck_assert_uint_lt(map_calls - before, 10);
}
END_TEST

/* ---- fuzz seeds ---- */

/* The fuzzer's input: one flags byte, then the memory from FUZZ_BASE. */
#define FUZZ_BASE 0xe0000ULL

static int write_seed(const char *dir, const char *name, uint8_t flags, size_t len)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(&flags, 1, 1, f) != 1 || fwrite(at(FUZZ_BASE), 1, len, f) != len ||
            fclose(f) != 0) {
                perror(path);
                return 1;
        }
        return 0;
}

/* Tables laid out for the fuzzer: RSDP at FUZZ_BASE, the rest just after. */
static int write_corpus(const char *dir)
{
        int bad = 0;
        const uint64_t r = FUZZ_BASE + 0x40, m = FUZZ_BASE + 0x100, f = FUZZ_BASE + 0x80;

        setup();
        memset(at(FUZZ_BASE), 0, 0x400);
        rsdp_v1(FUZZ_BASE, (uint32_t)r);
        madt_begin(m, 1, 0xfee00000, 1);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 1, 1);
        madt_ioapic(2, 0xfec00000, 0);
        madt_iso(0, 2);
        madt_lapic_nmi();
        madt_end();
        other_table(f, "FACP", 0x74);
        const uint64_t t2[] = { f, m };
        rsdt(r, t2, 2);
        bad |= write_seed(dir, "bochs-rsdt", 0, 0x100 + madt_len);
        bad |= write_seed(dir, "bochs-rsdt-fix", 1, 0x100 + madt_len);
        bad |= write_seed(dir, "bochs-rsdt-ebda", 2, 0x100 + madt_len);

        setup();
        memset(at(FUZZ_BASE), 0, 0x400);
        rsdp_v2(FUZZ_BASE, 0, FUZZ_BASE + 0x40);
        madt_begin(m, 5, 0xfee00000, 0);
        madt_lapic(0, 0, 1);
        madt_lapic(1, 1, 2);
        madt_lapic(2, 1, 1);
        madt_x2apic(0x100, 3, 1);
        madt_x2apic(0x101, 4, 0);
        madt_override(0x1fee00000ULL);
        madt_ioapic(1, 0xfec00000, 0);
        madt_ioapic(2, 0xfec01000, 24);
        madt_end();
        const uint64_t t1[] = { m };
        xsdt(FUZZ_BASE + 0x40, t1, 1);
        bad |= write_seed(dir, "xsdt-x2apic", 0, 0x100 + madt_len);
        bad |= write_seed(dir, "xsdt-x2apic-fix", 1, 0x100 + madt_len);

        /* Malformed entries, checksums fixed by the fuzzer (flag 1). */
        const uint8_t zero[] = { 0x7f, 0 };
        madt_begin(m, 5, 0xfee00000, 0);
        madt_lapic(0, 0, 1);
        madt_raw(zero, sizeof(zero));
        madt_end();
        bad |= write_seed(dir, "zero-length-entry", 1, 0x100 + madt_len);

        /* More CPUs and I/O APICs than fit. */
        madt_begin(m, 5, 0xfee00000, 1);
        for (unsigned i = 0; i < FW_MAX_CPUS + 4; i++)
                madt_lapic((uint8_t)i, (uint8_t)i, 1);
        for (unsigned i = 0; i < FW_MAX_IOAPICS + 1; i++)
                madt_ioapic((uint8_t)(0xf0 + i), 0xfec00000 + 0x1000 * i, 24 * i);
        madt_end();
        bad |= write_seed(dir, "too-many", 0, 0x100 + madt_len);
        return bad;
}

static Suite *fw_acpi_suite(void)
{
        Suite *s = suite_create("fw_acpi");
        TCase *tc = tcase_create("rsdp");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, rsdp_in_bios_area);
        tcase_add_test(tc, rsdp_in_ebda);
        tcase_add_test(tc, rsdp_ebda_pointer_ignored_when_implausible);
        tcase_add_test(tc, rsdp_only_on_16_byte_boundaries);
        tcase_add_test(tc, rsdp_none);
        tcase_add_test(tc, rsdp_bad_checksum_skipped);
        tcase_add_test(tc, rsdp_v2_extended_checksum);
        tcase_add_test(tc, rsdp_v2_length);
        tcase_add_test(tc, rsdp_at_end_of_memory);
        tcase_add_test(tc, rsdp_root_selects_table);
        tcase_add_test(tc, rsdp_root_malformed);
        tcase_add_test(tc, rsdp_from_multiboot2_tag);
        suite_add_tcase(s, tc);

        tc = tcase_create("madt");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, bochs_like);
        tcase_add_test(tc, xsdt_tables);
        tcase_add_test(tc, x2apic_entries);
        tcase_add_test(tc, disabled_cpus_left_out);
        tcase_add_test(tc, online_capable_cpus);
        tcase_add_test(tc, duplicate_apic_ids);
        tcase_add_test(tc, broadcast_ids_left_out);
        tcase_add_test(tc, too_many_cpus);
        tcase_add_test(tc, too_many_ioapics);
        tcase_add_test(tc, lapic_address_override);
        tcase_add_test(tc, entries_stepped_over);
        tcase_add_test(tc, zero_length_entry);
        tcase_add_test(tc, entry_past_end);
        tcase_add_test(tc, known_entry_too_short);
        tcase_add_test(tc, bad_checksums_everywhere);
        tcase_add_test(tc, table_length_past_mapped_memory);
        tcase_add_test(tc, table_lengths_too_short);
        tcase_add_test(tc, root_partial_entries);
        tcase_add_test(tc, no_madt);
        tcase_add_test(tc, first_madt_wins);
        tcase_add_test(tc, guest_tables_parse);
        tcase_add_test(tc, hostile_sizes_terminate);
        suite_add_tcase(s, tc);
        return s;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
                int rc = write_corpus(argv[2]);
                teardown();
                return rc;
        }
        return unit_run_suite(fw_acpi_suite());
}
