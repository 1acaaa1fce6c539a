/* Host tests of the ACPI table builder: structure and checksums checked
 * here, then every table handed to ACPICA's own tools (Debian package
 * acpica-tools): iasl disassembles each and recompiles the result, which
 * must give back the same bytes; acpiexec loads the set the way Linux's
 * ACPICA does and evaluates \_S5. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check_compat.h"
#include "devices/acpi.h"

#define BASE 0xe0000ULL
#define ECAM 0xb0000000ULL

static uint64_t rd(const uint8_t *p, unsigned n)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < n; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
        uint8_t s = 0;
        for (size_t i = 0; i < n; i++)
                s = (uint8_t)(s + p[i]);
        return s;
}

static struct acpi_config full_config(unsigned ncpus)
{
        struct acpi_config c = {
                .base = BASE,
                .ncpus = ncpus,
                .ioapic_id = (uint8_t)ncpus,
                .pm_timer = true,
                .reset_reg = true,
                .pci = true,
                .pci_mmio_base = 0xc0000000,
                .pci_mmio_size = 0x3ec00000,
                .com1 = true,
                .mcfg_base = ECAM,
                .mcfg_end_bus = 0,
        };
        return c;
}

static struct acpi_config minimal_config(void)
{
        struct acpi_config c = { .base = BASE, .ncpus = 1 };
        return c;
}

struct built {
        struct acpi_config cfg;
        uint8_t buf[ACPI_MAX_SIZE];
        struct acpi_layout l;
};

static struct built *build(const struct acpi_config *cfg)
{
        struct built *b = calloc(1, sizeof(*b));
        ck_assert_ptr_nonnull(b);
        b->cfg = *cfg;
        memset(b->buf, 0xee, sizeof(b->buf));
        const char *err = acpi_build(cfg, b->buf, sizeof(b->buf), &b->l);
        ck_assert_msg(err == NULL, "acpi_build: %s", err);
        return b;
}

static const uint8_t *at(const struct built *b, uint64_t gpa)
{
        ck_assert_uint_ge(gpa, b->cfg.base);
        ck_assert_uint_lt(gpa - b->cfg.base, b->l.size);
        return b->buf + (gpa - b->cfg.base);
}

/* Checks a table with the standard header and returns it. */
static const uint8_t *table(const struct built *b, uint64_t gpa, const char *sig, uint32_t len,
                            uint8_t rev)
{
        const uint8_t *t = at(b, gpa);
        ck_assert_mem_eq(t, sig, 4);
        ck_assert_uint_eq(rd(t + 4, 4), len);
        ck_assert_uint_le(gpa - b->cfg.base + len, b->l.size);
        ck_assert_uint_eq(t[8], rev);
        ck_assert_msg(sum8(t, len) == 0, "%s checksum does not sum to 0", sig);
        ck_assert_mem_eq(t + 10, "VTVISR", 6);
        ck_assert_mem_eq(t + 16, "VTVISR  ", 8);
        ck_assert_mem_eq(t + 28, "VTVR", 4);
        ck_assert_uint_eq(gpa % 8, 0);
        return t;
}

START_TEST(rsdp)
{
        struct acpi_config cfg = full_config(4);
        struct built *b = build(&cfg);
        const uint8_t *r = at(b, b->l.rsdp);
        ck_assert_uint_eq(b->l.rsdp, BASE);
        ck_assert_uint_eq(b->l.rsdp % 16, 0);
        ck_assert_mem_eq(r, "RSD PTR ", 8);
        ck_assert_uint_eq(sum8(r, 20), 0);
        ck_assert_uint_eq(sum8(r, 36), 0);
        ck_assert_mem_eq(r + 9, "VTVISR", 6);
        ck_assert_uint_eq(r[15], 2);
        ck_assert_uint_eq(rd(r + 16, 4), 0); /* no RSDT */
        ck_assert_uint_eq(rd(r + 20, 4), 36);
        ck_assert_uint_eq(rd(r + 24, 8), b->l.xsdt);
        ck_assert_uint_eq(rd(r + 33, 3), 0);
        free(b);
}
END_TEST

START_TEST(every_table_valid)
{
        struct acpi_config cfgs[] = { full_config(4), minimal_config() };
        for (size_t i = 0; i < ARRAY_SIZE(cfgs); i++) {
                struct built *b = build(&cfgs[i]);
                const struct acpi_layout *l = &b->l;
                table(b, l->xsdt, "XSDT", l->xsdt_len, 1);
                table(b, l->fadt, "FACP", 276, 6);
                table(b, l->madt, "APIC", l->madt_len, 5);
                table(b, l->dsdt, "DSDT", l->dsdt_len, 2);
                if (cfgs[i].mcfg_base)
                        table(b, l->mcfg, "MCFG", 60, 1);
                ck_assert_uint_eq(l->fadt_len, 276);
                const uint8_t *facs = at(b, l->facs);
                ck_assert_mem_eq(facs, "FACS", 4);
                ck_assert_uint_eq(rd(facs + 4, 4), 64);
                ck_assert_uint_eq(facs[32], 2);
                ck_assert_uint_eq(l->facs % 64, 0);
                /* Tables do not overlap: sorted by address, each ends before
                 * the next starts. */
                uint64_t starts[] = {
                        l->rsdp, l->facs, l->xsdt, l->fadt, l->madt, l->mcfg, l->dsdt
                };
                uint64_t lens[] = { 36,          64,          l->xsdt_len, l->fadt_len,
                                    l->madt_len, l->mcfg_len, l->dsdt_len };
                for (size_t j = 0, k = 1; k < ARRAY_SIZE(starts); k++) {
                        if (!lens[k])
                                continue; /* no MCFG */
                        ck_assert_uint_le(starts[j] + lens[j], starts[k]);
                        j = k;
                }
                ck_assert_uint_eq(l->dsdt + l->dsdt_len, BASE + l->size);
                ck_assert_uint_le(l->size, ACPI_MAX_SIZE);
                free(b);
        }
}
END_TEST

START_TEST(xsdt_points_to_fadt_madt_and_mcfg)
{
        struct acpi_config cfg = full_config(2);
        struct built *b = build(&cfg);
        const uint8_t *x = table(b, b->l.xsdt, "XSDT", 36 + 24, 1);
        ck_assert_uint_eq(b->l.xsdt_len, 36 + 24);
        ck_assert_uint_eq(rd(x + 36, 8), b->l.fadt);
        ck_assert_uint_eq(rd(x + 44, 8), b->l.madt);
        ck_assert_uint_eq(rd(x + 52, 8), b->l.mcfg);
        ck_assert_mem_eq(at(b, rd(x + 36, 8)), "FACP", 4);
        ck_assert_mem_eq(at(b, rd(x + 44, 8)), "APIC", 4);
        ck_assert_mem_eq(at(b, rd(x + 52, 8)), "MCFG", 4);
        free(b);

        /* Without an ECAM window: FADT and MADT only. */
        cfg.mcfg_base = 0;
        b = build(&cfg);
        x = table(b, b->l.xsdt, "XSDT", 36 + 16, 1);
        ck_assert_uint_eq(rd(x + 36, 8), b->l.fadt);
        ck_assert_uint_eq(rd(x + 44, 8), b->l.madt);
        free(b);
}
END_TEST

static void check_gas(const uint8_t *g, uint8_t bits, uint8_t access, uint64_t port)
{
        ck_assert_uint_eq(g[0], 1); /* system I/O */
        ck_assert_uint_eq(g[1], bits);
        ck_assert_uint_eq(g[2], 0);
        ck_assert_uint_eq(g[3], access);
        ck_assert_uint_eq(rd(g + 4, 8), port);
}

START_TEST(fadt_fields)
{
        struct acpi_config cfg = full_config(4);
        struct built *b = build(&cfg);
        const uint8_t *f = table(b, b->l.fadt, "FACP", 276, 6);
        ck_assert_uint_eq(rd(f + 36, 4), b->l.facs);
        ck_assert_uint_eq(rd(f + 40, 4), b->l.dsdt);
        ck_assert_uint_eq(rd(f + 132, 8), b->l.facs);
        ck_assert_uint_eq(rd(f + 140, 8), b->l.dsdt);
        ck_assert_mem_eq(at(b, rd(f + 140, 8)), "DSDT", 4);
        ck_assert_uint_eq(rd(f + 46, 2), 9); /* SCI_INT */
        ck_assert_uint_eq(rd(f + 48, 4), 0); /* SMI_CMD: always ACPI mode */
        ck_assert_uint_eq(rd(f + 56, 4), 0x600);
        ck_assert_uint_eq(rd(f + 60, 4), 0); /* no PM1b */
        ck_assert_uint_eq(rd(f + 64, 4), 0x604);
        ck_assert_uint_eq(rd(f + 76, 4), 0x608);
        ck_assert_uint_eq(rd(f + 80, 4), 0); /* no GPE0 */
        ck_assert_uint_eq(f[88], 4);
        ck_assert_uint_eq(f[89], 2);
        ck_assert_uint_eq(f[91], 4);
        ck_assert_uint_eq(rd(f + 96, 2), 101);
        ck_assert_uint_eq(rd(f + 98, 2), 1001);
        ck_assert_uint_eq(rd(f + 109, 2), 0x5); /* legacy devices, no VGA, no 8042 */
        uint32_t flags = (uint32_t)rd(f + 112, 4);
        ck_assert_uint_eq(flags & (1u << 20), 0); /* not hardware-reduced */
        ck_assert_uint_eq(flags & (1u << 8), 0);  /* 24-bit PM timer */
        ck_assert_uint_ne(flags & (1u << 0), 0);  /* WBINVD */
        ck_assert_uint_ne(flags & (1u << 10), 0); /* RESET_REG_SUP */
        ck_assert_uint_eq(flags, 0x1475);
        check_gas(f + 116, 8, 1, 0xcf9);
        ck_assert_uint_eq(f[128], 6);
        ck_assert_uint_eq(f[131], 4); /* FADT 6.4 */
        check_gas(f + 148, 32, 2, 0x600);
        check_gas(f + 172, 16, 2, 0x604);
        check_gas(f + 208, 32, 3, 0x608);
        for (unsigned off = 160; off < 172; off++)
                ck_assert_uint_eq(f[off], 0); /* X_PM1b_EVT_BLK */
        free(b);

        /* Without the timer and the reset register. */
        cfg = minimal_config();
        b = build(&cfg);
        f = table(b, b->l.fadt, "FACP", 276, 6);
        ck_assert_uint_eq(rd(f + 76, 4), 0);
        ck_assert_uint_eq(f[91], 0);
        for (unsigned off = 208; off < 220; off++)
                ck_assert_uint_eq(f[off], 0);
        ck_assert_uint_eq(rd(f + 112, 4) & (1u << 10), 0);
        for (unsigned off = 116; off < 129; off++)
                ck_assert_uint_eq(f[off], 0);
        free(b);
}
END_TEST

struct madt_counts {
        unsigned lapic, ioapic, iso, nmi, other;
};

static struct madt_counts walk_madt(const struct built *b, unsigned ncpus)
{
        struct madt_counts c = { 0 };
        uint32_t len = 44 + 8 * ncpus + 12 + 2 * 10 + 6;
        const uint8_t *m = table(b, b->l.madt, "APIC", len, 5);
        ck_assert_uint_eq(b->l.madt_len, len);
        ck_assert_uint_eq(rd(m + 36, 4), 0xfee00000);
        ck_assert_uint_eq(rd(m + 40, 4), 1); /* PCAT_COMPAT */
        uint32_t off = 44;
        while (off < len) {
                const uint8_t *e = m + off;
                ck_assert_uint_ge(e[1], 2);
                ck_assert_uint_le(off + e[1], len);
                switch (e[0]) {
                case 0:
                        ck_assert_uint_eq(e[1], 8);
                        ck_assert_uint_eq(e[2], c.lapic); /* UID */
                        ck_assert_uint_eq(e[3], c.lapic); /* APIC ID */
                        ck_assert_uint_eq(rd(e + 4, 4), 1);
                        c.lapic++;
                        break;
                case 1:
                        ck_assert_uint_eq(e[1], 12);
                        ck_assert_uint_eq(e[2], b->cfg.ioapic_id);
                        ck_assert_uint_eq(rd(e + 4, 4), 0xfec00000);
                        ck_assert_uint_eq(rd(e + 8, 4), 0);
                        c.ioapic++;
                        break;
                case 2:
                        ck_assert_uint_eq(e[1], 10);
                        ck_assert_uint_eq(e[2], 0);
                        if (e[3] == 0) {
                                ck_assert_uint_eq(rd(e + 4, 4), 2);
                                ck_assert_uint_eq(rd(e + 8, 2), 0);
                        } else {
                                ck_assert_uint_eq(e[3], 9);
                                ck_assert_uint_eq(rd(e + 4, 4), 9);
                                ck_assert_uint_eq(rd(e + 8, 2), 0xd); /* level, high */
                        }
                        c.iso++;
                        break;
                case 4:
                        ck_assert_uint_eq(e[1], 6);
                        ck_assert_uint_eq(e[2], 0xff);
                        ck_assert_uint_eq(rd(e + 3, 2), 0);
                        ck_assert_uint_eq(e[5], 1);
                        c.nmi++;
                        break;
                default:
                        c.other++;
                }
                off += e[1];
        }
        ck_assert_uint_eq(off, len);
        return c;
}

START_TEST(madt_counts)
{
        static const unsigned ns[] = { 1, 4, 255 };
        for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
                struct acpi_config cfg = full_config(ns[i]);
                cfg.ioapic_id = 0xfe;
                struct built *b = build(&cfg);
                struct madt_counts c = walk_madt(b, ns[i]);
                ck_assert_uint_eq(c.lapic, ns[i]);
                ck_assert_uint_eq(c.ioapic, 1);
                ck_assert_uint_eq(c.iso, 2);
                ck_assert_uint_eq(c.nmi, 1);
                ck_assert_uint_eq(c.other, 0);
                free(b);
        }
}
END_TEST

/* EISAID ("PNP0C02") as a DWordConst. */
#define PNP0C02 "\x0c\x41\xd0\x0c\x02"

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
        for (size_t i = 0; i + m <= n; i++)
                if (!memcmp(hay + i, needle, m))
                        return true;
        return false;
}

START_TEST(dsdt_contents)
{
        /* Name (_S5, Package (4) { 5, 5, Zero, Zero }) right after the header. */
        static const uint8_t s5[] = { 0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
                                      0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
        struct acpi_config cfg = full_config(1);
        struct built *b = build(&cfg);
        const uint8_t *d = table(b, b->l.dsdt, "DSDT", b->l.dsdt_len, 2);
        ck_assert_mem_eq(d + 36, s5, sizeof(s5));
        ck_assert(contains(d, b->l.dsdt_len, "PCI0", 4));
        ck_assert(contains(d, b->l.dsdt_len, "COM1", 4));
        /* EISAID("PNP0A03") and EISAID("PNP0501") as DWordConsts. */
        ck_assert(contains(d, b->l.dsdt_len, "\x0c\x41\xd0\x0a\x03", 5));
        ck_assert(contains(d, b->l.dsdt_len, "\x0c\x41\xd0\x05\x01", 5));
        /* The ECAM window's motherboard resource, EISAID("PNP0C02"). */
        ck_assert(contains(d, b->l.dsdt_len, "ECAM", 4));
        ck_assert(contains(d, b->l.dsdt_len, PNP0C02, 5));
        /* _PRT: slot 3 INTA# -> GSI 19 and slot 31 INTD# -> GSI 18, each
         * Package (4) { DWord 0xSSSSFFFF, pin, Zero, GSI }. */
        ck_assert(contains(d, b->l.dsdt_len, "_PRT\x12", 5));
        ck_assert(
            contains(d, b->l.dsdt_len, "\x12\x0b\x04\x0c\xff\xff\x03\x00\x00\x00\x0a\x13", 12));
        ck_assert(
            contains(d, b->l.dsdt_len, "\x12\x0c\x04\x0c\xff\xff\x1f\x00\x0a\x03\x00\x0a\x12", 13));
        ck_assert_int_eq(ACPI_PCI_GSI(2, 0), 18);
        free(b);

        cfg = minimal_config();
        b = build(&cfg);
        d = table(b, b->l.dsdt, "DSDT", b->l.dsdt_len, 2);
        ck_assert_uint_eq(b->l.dsdt_len, 36 + sizeof(s5));
        ck_assert_mem_eq(d + 36, s5, sizeof(s5));
        free(b);

        /* Each optional device alone. */
        cfg = minimal_config();
        cfg.com1 = true;
        b = build(&cfg);
        ck_assert(contains(b->buf, b->l.size, "COM1", 4));
        ck_assert(!contains(b->buf, b->l.size, "PCI0", 4));
        free(b);
        cfg = minimal_config();
        cfg.pci = true;
        b = build(&cfg);
        ck_assert(!contains(b->buf, b->l.size, "COM1", 4));
        ck_assert(contains(b->buf, b->l.size, "PCI0", 4));
        ck_assert(!contains(b->buf, b->l.size, "ECAM", 4));
        free(b);
}
END_TEST

/* PCI0._CRS's bus number range: a WordBusNumber producer 0..max (ACPI 6.4
 * 6.4.3.5.3). */
static bool has_bus_range(const struct built *b, unsigned max)
{
        const uint8_t desc[] = { 0x88,
                                 13,
                                 0,
                                 2,
                                 0x0c,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 (uint8_t)max,
                                 (uint8_t)(max >> 8),
                                 0,
                                 0,
                                 (uint8_t)(max + 1),
                                 (uint8_t)((max + 1) >> 8) };
        return contains(at(b, b->l.dsdt), b->l.dsdt_len, desc, sizeof(desc));
}

/* The XSDT entries that point at a table with signature sig. */
static unsigned xsdt_count(const struct built *b, const char *sig)
{
        const uint8_t *x = at(b, b->l.xsdt);
        unsigned n = 0;
        for (uint32_t off = 36; off + 8 <= b->l.xsdt_len; off += 8)
                n += !memcmp(at(b, rd(x + off, 8)), sig, 4);
        return n;
}

START_TEST(mcfg_table)
{
        static const struct {
                uint64_t base;
                uint8_t end_bus;
        } cases[] = { { ECAM, 0 }, { 0xb0000000, 3 }, { 0xa0000000, 15 }, { 0x80000000, 255 } };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct acpi_config cfg = full_config(4);
                cfg.mcfg_base = cases[i].base;
                cfg.mcfg_end_bus = cases[i].end_bus;
                struct built *b = build(&cfg);
                uint64_t len = ((uint64_t)cases[i].end_bus + 1) << 20;
                /* Header, length 60, revision 1, checksum (table() checks). */
                ck_assert_uint_eq(b->l.mcfg_len, 60);
                const uint8_t *m = table(b, b->l.mcfg, "MCFG", 60, 1);
                for (unsigned off = 36; off < 44; off++)
                        ck_assert_uint_eq(m[off], 0);
                /* The one allocation structure. */
                ck_assert_uint_eq(rd(m + 44, 8), cases[i].base);
                ck_assert_uint_eq(rd(m + 52, 2), 0); /* segment */
                ck_assert_uint_eq(m[54], 0);         /* start bus */
                ck_assert_uint_eq(m[55], cases[i].end_bus);
                ck_assert_uint_eq(rd(m + 56, 4), 0);
                ck_assert_uint_eq(xsdt_count(b, "MCFG"), 1);
                ck_assert_uint_eq(xsdt_count(b, "FACP"), 1);
                ck_assert_uint_eq(xsdt_count(b, "APIC"), 1);
                /* The DSDT reserves the window as a motherboard resource,
                 * Memory32Fixed (ReadWrite, base, len), and the bridge
                 * decodes just the buses the MCFG covers. */
                const uint8_t *d = at(b, b->l.dsdt);
                uint8_t mem[12] = { 0x86, 9, 0, 1 };
                for (unsigned k = 0; k < 4; k++) {
                        mem[4 + k] = (uint8_t)(cases[i].base >> (8 * k));
                        mem[8 + k] = (uint8_t)(len >> (8 * k));
                }
                ck_assert(contains(d, b->l.dsdt_len, PNP0C02, 5));
                ck_assert(contains(d, b->l.dsdt_len, mem, sizeof(mem)));
                ck_assert(has_bus_range(b, cases[i].end_bus));
                ck_assert(cases[i].end_bus == 0xff || !has_bus_range(b, 0xff));
                free(b);
        }
}
END_TEST

START_TEST(no_mcfg_without_base)
{
        struct acpi_config cfgs[] = { full_config(4), full_config(1), minimal_config() };
        cfgs[0].mcfg_base = 0;
        cfgs[1].mcfg_base = 0;
        cfgs[1].mcfg_end_bus = 7; /* ignored without a base */
        for (size_t i = 0; i < ARRAY_SIZE(cfgs); i++) {
                struct built *b = build(&cfgs[i]);
                ck_assert_uint_eq(b->l.mcfg, 0);
                ck_assert_uint_eq(b->l.mcfg_len, 0);
                ck_assert_uint_eq(b->l.xsdt_len, 36 + 16);
                ck_assert_uint_eq(xsdt_count(b, "MCFG"), 0);
                ck_assert(!contains(b->buf, b->l.size, "MCFG", 4));
                ck_assert(!contains(b->buf, b->l.size, "ECAM", 4));
                ck_assert(!contains(b->buf, b->l.size, PNP0C02, 5));
                /* The bridge keeps decoding all 256 buses. */
                ck_assert(has_bus_range(b, 0xff) == cfgs[i].pci);
                free(b);
        }
}
END_TEST

static void expect_error(const struct acpi_config *cfg, size_t size, const char *what)
{
        static uint8_t buf[ACPI_MAX_SIZE];
        struct acpi_layout l;
        const char *err = acpi_build(cfg, buf, size, &l);
        ck_assert_msg(err != NULL, "accepted a config that should fail with \"%s\"", what);
        ck_assert_msg(strstr(err, what) != NULL, "error \"%s\" does not mention \"%s\"", err, what);
}

START_TEST(errors)
{
        static uint8_t buf[ACPI_MAX_SIZE];
        struct acpi_layout l;
        struct acpi_config cfg = full_config(0);
        expect_error(&cfg, ACPI_MAX_SIZE, "0 vCPUs");
        cfg = full_config(256);
        expect_error(&cfg, ACPI_MAX_SIZE, "256 vCPUs");
        cfg = full_config(4);
        cfg.base = BASE + 16;
        expect_error(&cfg, ACPI_MAX_SIZE, "not 64-byte aligned");
        cfg = full_config(4);
        cfg.base = 0xffffff00;
        expect_error(&cfg, ACPI_MAX_SIZE, "above 4 GiB");
        cfg.base = GiB(4);
        expect_error(&cfg, ACPI_MAX_SIZE, "above 4 GiB");
        cfg = full_config(4);
        cfg.pci_mmio_base = 0xf0000000;
        cfg.pci_mmio_size = 0x10000000;
        expect_error(&cfg, ACPI_MAX_SIZE, "overlaps the I/O APIC");
        cfg.pci_mmio_base = 0xfff00000;
        cfg.pci_mmio_size = 0x00200000;
        expect_error(&cfg, ACPI_MAX_SIZE, "crosses 4 GiB");
        cfg = minimal_config();
        cfg.pci_mmio_size = 0x1000;
        expect_error(&cfg, ACPI_MAX_SIZE, "without the PCI host bridge");

        /* ECAM windows. */
        cfg = minimal_config();
        cfg.mcfg_base = ECAM;
        expect_error(&cfg, ACPI_MAX_SIZE, "ECAM window (MCFG) without the PCI host bridge");
        cfg = full_config(4);
        cfg.mcfg_base = ECAM + 0x80000;
        expect_error(&cfg, ACPI_MAX_SIZE, "not aligned to 1 MiB");
        cfg.mcfg_base = ECAM + MiB(1);
        cfg.mcfg_end_bus = 1;
        expect_error(&cfg, ACPI_MAX_SIZE, "not aligned to 2 MiB");
        cfg.mcfg_end_bus = 2; /* 3 buses: 2 bits of bus number */
        expect_error(&cfg, ACPI_MAX_SIZE, "not aligned to 4 MiB");
        cfg.mcfg_base = 0x88000000;
        cfg.mcfg_end_bus = 255;
        expect_error(&cfg, ACPI_MAX_SIZE, "not aligned to 256 MiB");
        cfg.mcfg_base = 0xb0000000; /* all 256 buses, up to the MMIO window */
        ck_assert_ptr_null(acpi_build(&cfg, buf, ACPI_MAX_SIZE, &l));
        cfg.mcfg_end_bus = 0;
        cfg.mcfg_base = GiB(4);
        expect_error(&cfg, ACPI_MAX_SIZE, "does not end below 4 GiB");
        cfg.mcfg_base = 0xfffffffffff00000ULL;
        expect_error(&cfg, ACPI_MAX_SIZE, "does not end below 4 GiB");
        cfg.mcfg_base = 0xc0000000;
        expect_error(&cfg, ACPI_MAX_SIZE, "overlaps the PCI MMIO window");
        cfg.mcfg_base = 0xfeb00000;
        expect_error(&cfg, ACPI_MAX_SIZE, "overlaps the PCI MMIO window");
        cfg.pci_mmio_size = 0;
        cfg.mcfg_base = 0xfec00000;
        expect_error(&cfg, ACPI_MAX_SIZE, "overlaps the I/O APIC or local APIC");
        cfg.mcfg_base = 0xfee00000;
        expect_error(&cfg, ACPI_MAX_SIZE, "overlaps the I/O APIC or local APIC");
        cfg.mcfg_base = 0x100000;
        cfg.base = 0x100000;
        expect_error(&cfg, ACPI_MAX_SIZE, "overlaps the ACPI tables");
        cfg.base = 0x100000 - ACPI_MAX_SIZE; /* tables end where the window starts */
        ck_assert_ptr_null(acpi_build(&cfg, buf, ACPI_MAX_SIZE, &l));
        /* Right next to the MMIO window, the APICs and 4 GiB is fine. */
        cfg = full_config(4);
        cfg.mcfg_base = 0xbff00000;
        ck_assert_ptr_null(acpi_build(&cfg, buf, ACPI_MAX_SIZE, &l));
        cfg.pci_mmio_size = 0;
        cfg.mcfg_base = 0xfeb00000;
        ck_assert_ptr_null(acpi_build(&cfg, buf, ACPI_MAX_SIZE, &l));
        cfg.mcfg_base = 0xfef00000;
        ck_assert_ptr_null(acpi_build(&cfg, buf, ACPI_MAX_SIZE, &l));
        cfg.mcfg_base = 0xfff00000;
        ck_assert_ptr_null(acpi_build(&cfg, buf, ACPI_MAX_SIZE, &l));
        ck_assert_uint_eq(l.mcfg_len, 60);

        /* Buffer sizes: every size short of the need fails, the need works. */
        cfg = full_config(4);
        struct built *b = build(&cfg);
        size_t need = b->l.size;
        free(b);
        static const size_t shorts[] = { 0, 1, 36, 100, 400, 600 };
        for (size_t i = 0; i < ARRAY_SIZE(shorts); i++)
                expect_error(&cfg, shorts[i], "too small");
        for (size_t s = need - 40; s < need; s++)
                expect_error(&cfg, s, "too small");
        ck_assert_ptr_null(acpi_build(&cfg, buf, need, &l));
        cfg = full_config(ACPI_MAX_CPUS);
        ck_assert_ptr_null(acpi_build(&cfg, buf, sizeof(buf), &l));
}
END_TEST

/* ---- ACPICA tools ---- */

static void need_tool(const char *tool)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
        ck_assert_msg(system(cmd) == 0,
                      "%s not found: install Debian's acpica-tools (apt-get install "
                      "acpica-tools)",
                      tool);
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *s = malloc((size_t)n + 1);
        ck_assert_ptr_nonnull(s);
        size_t got = fread(s, 1, (size_t)n, f);
        fclose(f);
        s[got] = 0;
        if (len)
                *len = got;
        return s;
}

static void spit(const char *path, const void *p, size_t n)
{
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(p, 1, n, f), n);
        fclose(f);
}

/* Runs cmd in dir with output to dir/log; returns its exit status. */
static int run(const char *dir, const char *cmd, char **log)
{
        char full[1024], path[512];
        snprintf(path, sizeof(path), "%s/log", dir);
        snprintf(full, sizeof(full), "cd '%s' && %s >log 2>&1", dir, cmd);
        int rc = system(full);
        *log = slurp(path, NULL);
        ck_assert_ptr_nonnull(*log);
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Lines that mean iasl or ACPICA found something wrong. */
static const char *find_complaint(const char *text)
{
        static const char *bad[] = { "warning", "error",   "incorrect", "invalid",
                                     "****",    "unknown", "mismatch" };
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t n = end ? (size_t)(end - line) : strlen(line);
                char buf[512];
                snprintf(buf, sizeof(buf), "%.*s", (int)MIN(n, sizeof(buf) - 1), line);
                for (char *c = buf; *c; c++)
                        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
                /* "Compilation successful. 0 Errors, 0 Warnings" is fine. */
                bool summary = strstr(buf, "compilation successful") != NULL;
                for (size_t i = 0; i < ARRAY_SIZE(bad) && !summary; i++)
                        if (strstr(buf, bad[i]))
                                return line;
                if (!end)
                        break;
                line = end + 1;
        }
        return NULL;
}

static char *make_tmpdir(void)
{
        char *dir = strdup("/tmp/vtv_acpi_XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        return dir;
}

static void remove_tmpdir(char *dir)
{
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
        free(dir);
}

/* iasl -d, then the disassembly compiled back: the same bytes must come
 * out, except the checksum and the compiler ID and revision that iasl
 * puts in its own output. */
static void iasl_round_trip(const char *dir, const char *name, const uint8_t *t, size_t len)
{
        char cmd[256], path[512], *log;
        snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
        spit(path, t, len);

        snprintf(cmd, sizeof(cmd), "iasl -d %s.dat", name);
        int rc = run(dir, cmd, &log);
        ck_assert_msg(rc == 0, "iasl -d %s failed (%d):\n%s", name, rc, log);
        const char *bad = find_complaint(log);
        ck_assert_msg(bad == NULL, "iasl -d %s complains: %.200s", name, bad);
        free(log);
        snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
        char *dsl = slurp(path, NULL);
        ck_assert_msg(dsl != NULL, "iasl -d %s wrote no %s.dsl", name, name);
        bad = find_complaint(dsl);
        ck_assert_msg(bad == NULL, "disassembly of %s flags: %.200s", name, bad);
        free(dsl);

        /* -oa: no optimizations, so AML comes back as written. */
        snprintf(cmd, sizeof(cmd), "iasl -oa -p rt_%s %s.dsl", name, name);
        rc = run(dir, cmd, &log);
        ck_assert_msg(rc == 0 && strstr(log, " 0 Errors"), "recompiling %s.dsl failed:\n%s", name,
                      log);
        bad = find_complaint(log);
        ck_assert_msg(bad == NULL, "recompiling %s.dsl complains: %.200s", name, bad);
        free(log);
        snprintf(path, sizeof(path), "%s/rt_%s.aml", dir, name);
        size_t rt_len;
        char *rt = slurp(path, &rt_len);
        ck_assert_ptr_nonnull(rt);
        ck_assert_uint_eq(rt_len, len);
        for (size_t i = 0; i < len; i++) {
                bool compiler_field = (i == 9 && len > 36) || (i >= 28 && i < 36);
                if (!compiler_field)
                        ck_assert_msg((uint8_t)rt[i] == t[i],
                                      "%s byte %zu: built 0x%02x, iasl 0x%02x", name, i, t[i],
                                      (uint8_t)rt[i]);
        }
        free(rt);
}

/* This iasl (20200925) cannot disassemble an RSDP file ("does not contain
 * a valid ACPI table"), so the RSDP goes the other way: iasl compiles it
 * from its data-table description, computing both checksums itself, and
 * the result must equal the built bytes. */
static void iasl_rsdp(const char *dir, const uint8_t *r)
{
        char src[1024], path[512], *log;
        snprintf(src, sizeof(src),
                 "[0008] Signature : \"RSD PTR \"\n"
                 "[0001] Checksum : 00\n"
                 "[0006] Oem ID : \"%.6s\"\n"
                 "[0001] Revision : %02X\n"
                 "[0004] RSDT Address : %08llX\n"
                 "[0004] Length : %08llX\n"
                 "[0008] XSDT Address : %016llX\n"
                 "[0001] Extended Checksum : 00\n"
                 "[0003] Reserved : 000000\n",
                 (const char *)r + 9, r[15], (unsigned long long)rd(r + 16, 4),
                 (unsigned long long)rd(r + 20, 4), (unsigned long long)rd(r + 24, 8));
        snprintf(path, sizeof(path), "%s/rsdp.asl", dir);
        spit(path, src, strlen(src));
        int rc = run(dir, "iasl -p rt_rsdp rsdp.asl", &log);
        ck_assert_msg(rc == 0 && strstr(log, " 0 Errors"), "iasl rsdp.asl failed:\n%s", log);
        free(log);
        snprintf(path, sizeof(path), "%s/rt_rsdp.aml", dir);
        size_t len;
        char *rt = slurp(path, &len);
        ck_assert_ptr_nonnull(rt);
        ck_assert_uint_eq(len, 36);
        ck_assert_mem_eq(rt, r, 36);
        free(rt);
}

static void iasl_all(const struct acpi_config *cfg)
{
        need_tool("iasl");
        struct built *b = build(cfg);
        char *dir = make_tmpdir();
        const struct acpi_layout *l = &b->l;
        iasl_round_trip(dir, "xsdt", at(b, l->xsdt), l->xsdt_len);
        iasl_round_trip(dir, "facp", at(b, l->fadt), l->fadt_len);
        iasl_round_trip(dir, "facs", at(b, l->facs), 64);
        iasl_round_trip(dir, "apic", at(b, l->madt), l->madt_len);
        iasl_round_trip(dir, "dsdt", at(b, l->dsdt), l->dsdt_len);
        char path[512];
        if (cfg->mcfg_base) {
                iasl_round_trip(dir, "mcfg", at(b, l->mcfg), l->mcfg_len);
                /* iasl knows the MCFG layout: its field names carry our values. */
                snprintf(path, sizeof(path), "%s/mcfg.dsl", dir);
                char *mcfg = slurp(path, NULL), want[80];
                ck_assert_ptr_nonnull(mcfg);
                snprintf(want, sizeof(want), "Base Address : %016llX",
                         (unsigned long long)cfg->mcfg_base);
                ck_assert_msg(strstr(mcfg, want), "MCFG disassembly lacks \"%s\":\n%s", want, mcfg);
                ck_assert(strstr(mcfg, "Segment Group Number : 0000"));
                ck_assert(strstr(mcfg, "Start Bus Number : 00"));
                snprintf(want, sizeof(want), "End Bus Number : %02X", cfg->mcfg_end_bus);
                ck_assert_msg(strstr(mcfg, want), "MCFG disassembly lacks \"%s\":\n%s", want, mcfg);
                free(mcfg);
        }
        /* A malformed resource template disassembles as a plain Buffer, which
         * round-trips as well; so every _CRS must come out as a template. */
        snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
        char *dsl = slurp(path, NULL);
        ck_assert_ptr_nonnull(dsl);
        unsigned crs = 0, templates = 0;
        for (const char *p = dsl; (p = strstr(p, "Name (_CRS, ")); p++) {
                crs++;
                templates += !strncmp(p + 12, "ResourceTemplate ()", 19);
        }
        ck_assert_uint_eq(crs, (unsigned)cfg->pci + (unsigned)cfg->com1 + (cfg->mcfg_base != 0));
        ck_assert_uint_eq(templates, crs);
        free(dsl);
        iasl_rsdp(dir, at(b, l->rsdp));
        remove_tmpdir(dir);
        free(b);
}

START_TEST(iasl_full_4cpu)
{
        struct acpi_config cfg = full_config(4);
        iasl_all(&cfg);
}
END_TEST

START_TEST(iasl_minimal_1cpu)
{
        struct acpi_config cfg = minimal_config();
        iasl_all(&cfg);
}
END_TEST

START_TEST(iasl_pci_without_ecam)
{
        struct acpi_config cfg = full_config(4);
        cfg.mcfg_base = 0;
        iasl_all(&cfg);
}
END_TEST

START_TEST(iasl_ecam_256_buses)
{
        struct acpi_config cfg = full_config(2);
        cfg.mcfg_base = 0x80000000;
        cfg.mcfg_end_bus = 255;
        iasl_all(&cfg);
}
END_TEST

START_TEST(iasl_only_com1)
{
        struct acpi_config cfg = minimal_config();
        cfg.com1 = true;
        cfg.pm_timer = true;
        iasl_all(&cfg);
}
END_TEST

/* acpiexec loads the tables with the same ACPICA code as Linux: its FADT
 * checks (e.g. "32/64X length mismatch") print "Firmware Warning".  Its
 * own hardware self-tests ("Unexpected ... from ... (aetests-NNN)") poke
 * the PM2 and GPE blocks this FADT deliberately leaves out; they are not
 * about the tables. */
START_TEST(acpiexec_loads_tables)
{
        need_tool("acpiexec");
        struct acpi_config cfg = full_config(4);
        struct built *b = build(&cfg);
        char *dir = make_tmpdir(), path[512], *log;
        const struct acpi_layout *l = &b->l;
        const struct {
                const char *name;
                uint64_t gpa;
                size_t len;
        } t[] = { { "facp", l->fadt, l->fadt_len },
                  { "facs", l->facs, 64 },
                  { "apic", l->madt, l->madt_len },
                  { "mcfg", l->mcfg, l->mcfg_len },
                  { "dsdt", l->dsdt, l->dsdt_len } };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                snprintf(path, sizeof(path), "%s/%s.dat", dir, t[i].name);
                spit(path, at(b, t[i].gpa), t[i].len);
        }
        int rc = run(dir,
                     "acpiexec -b 'evaluate \\_S5_; evaluate \\_SB.PCI0._HID; "
                     "resources \\_SB.PCI0; resources \\_SB.COM1; "
                     "evaluate \\_SB.PCI0.ECAM._HID; resources \\_SB.PCI0.ECAM; quit' "
                     "facp.dat facs.dat apic.dat mcfg.dat dsdt.dat",
                     &log);
        ck_assert_msg(rc == 0, "acpiexec failed (%d):\n%s", rc, log);
        for (const char *line = log; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t n = end ? (size_t)(end - line) : strlen(line);
                char one[512];
                snprintf(one, sizeof(one), "%.*s", (int)MIN(n, sizeof(one) - 1), line);
                if (!strstr(one, "(aetests-"))
                        ck_assert_msg(find_complaint(one) == NULL, "acpiexec: %s", one);
                line = end ? end + 1 : NULL;
        }
        ck_assert_msg(strstr(log, "[Package] Contains 4 Elements"), "\\_S5 not a package:\n%s",
                      log);
        ck_assert_msg(strstr(log, "[Integer] = 0000000000000005"), "SLP_TYP not 5:\n%s", log);
        ck_assert_msg(strstr(log, "[Integer] = 00000000030AD041"), "_HID not PNP0A03:\n%s", log);
        ck_assert_msg(strstr(log, "32-Bit DWORD Address Space Resource"),
                      "no MMIO window in PCI0._CRS:\n%s", log);
        ck_assert_msg(strstr(log, "IRQ Resource"), "no IRQ in COM1._CRS:\n%s", log);
        ck_assert_msg(strstr(log, "ACPI: MCFG "), "MCFG not installed:\n%s", log);
        ck_assert_msg(strstr(log, "[Integer] = 00000000020CD041"), "ECAM._HID not PNP0C02:\n%s",
                      log);
        ck_assert_msg(strstr(log, "32-Bit Fixed Memory Range Resource") &&
                          strstr(log, "Address : B0000000") &&
                          strstr(log, "Address Length : 00100000"),
                      "ECAM._CRS does not reserve the window:\n%s", log);
        free(log);
        remove_tmpdir(dir);
        free(b);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("acpi");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, rsdp);
        tcase_add_test(tc, every_table_valid);
        tcase_add_test(tc, xsdt_points_to_fadt_madt_and_mcfg);
        tcase_add_test(tc, fadt_fields);
        tcase_add_test(tc, madt_counts);
        tcase_add_test(tc, dsdt_contents);
        tcase_add_test(tc, mcfg_table);
        tcase_add_test(tc, no_mcfg_without_base);
        tcase_add_test(tc, errors);
        tcase_add_test(tc, iasl_full_4cpu);
        tcase_add_test(tc, iasl_minimal_1cpu);
        tcase_add_test(tc, iasl_pci_without_ecam);
        tcase_add_test(tc, iasl_ecam_256_buses);
        tcase_add_test(tc, iasl_only_com1);
        tcase_add_test(tc, acpiexec_loads_tables);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
