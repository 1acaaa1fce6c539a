/* libFuzzer target for boot/fw_acpi.c.
 *
 * Input: one flags byte, then a small fake physical memory that starts at
 * FUZZ_BASE (0xE0000, the BIOS area), so an RSDP at its start is found by
 * the scan and the tables lie wherever the bytes point:
 *
 *   bit 0  fix the checksums first (the RSDP's two, then every table the
 *          RSDT or XSDT lists that lies in the memory, then the root), so
 *          that mutations reach the entry walk instead of stopping at a
 *          checksum
 *   bit 1  the BIOS data area's EBDA segment (0x40E) points at FUZZ_BASE,
 *          so the EBDA scan runs over the input too
 *
 * The mapper gives a fresh heap copy of exactly the bytes asked for, so
 * ASan catches any read past what was mapped; anything outside the memory
 * is unmapped.  Every call must return, and what it returns must hold the
 * invariants checked here; a violation aborts with its name. */
#include "tests/fuzz/fuzz.h"

#include "boot/fw_acpi.h"

#define FUZZ_BASE    0xe0000ULL
#define FLAG_FIX_SUM 0x01
#define FLAG_EBDA    0x02

struct fake {
        const uint8_t *mem;
        size_t size;
        bool ebda;
        void **copies;
        size_t ncopies, cap;
};

static FUZZ_HARNESS const void *copy_of(struct fake *f, const void *src, size_t len)
{
        if (f->ncopies == f->cap) {
                f->cap = f->cap ? 2 * f->cap : 64;
                f->copies = realloc(f->copies, f->cap * sizeof(*f->copies));
                CHECK(f->copies != NULL);
        }
        void *p = malloc(len);
        CHECK(p != NULL);
        memcpy(p, src, len);
        f->copies[f->ncopies++] = p;
        return p;
}

static FUZZ_HARNESS const void *fake_map(void *ctx, uint64_t pa, size_t len)
{
        struct fake *f = ctx;
        static const uint8_t ebda_seg[2] = { (uint8_t)(FUZZ_BASE >> 4),
                                             (uint8_t)(FUZZ_BASE >> 12) };
        CHECK(len > 0);
        if (f->ebda && pa >= 0x40e && len <= 2 && pa - 0x40e <= 2 - len)
                return copy_of(f, ebda_seg + (pa - 0x40e), len);
        if (!range_within(pa, len, FUZZ_BASE, f->size))
                return NULL;
        return copy_of(f, f->mem + (pa - FUZZ_BASE), len);
}

static uint32_t rd32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
        return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Sets byte at[ck] so that mem[at, at+len) sums to 0. */
static void fix(uint8_t *mem, size_t at, size_t len, size_t ck)
{
        uint8_t s = 0;
        mem[at + ck] = 0;
        for (size_t i = 0; i < len; i++)
                s = (uint8_t)(s + mem[at + i]);
        mem[at + ck] = (uint8_t)-s;
}

/* The table header at physical pa, if it and its length lie in mem. */
static bool table_at(const uint8_t *mem, size_t size, uint64_t pa, size_t *off, size_t *len)
{
        if (!range_within(pa, 36, FUZZ_BASE, size))
                return false;
        *off = (size_t)(pa - FUZZ_BASE);
        *len = rd32(mem + *off + 4);
        return *len >= 36 && *len <= size - *off;
}

static void fix_root(uint8_t *mem, size_t size, uint64_t pa, unsigned esize)
{
        size_t off, len;
        if (!table_at(mem, size, pa, &off, &len))
                return;
        for (size_t e = 36; e + esize <= len; e += esize) {
                uint64_t t = esize == 8 ? rd64(mem + off + e) : rd32(mem + off + e);
                size_t toff, tlen;
                if (table_at(mem, size, t, &toff, &tlen))
                        fix(mem, toff, tlen, 9);
        }
        fix(mem, off, len, 9);
}

static void fix_checksums(uint8_t *mem, size_t size)
{
        if (size < 36)
                return;
        fix_root(mem, size, rd32(mem + 16), 4);
        fix_root(mem, size, rd64(mem + 24), 8);
        fix(mem, 0, 20, 8);
        uint32_t len = rd32(mem + 20);
        if (mem[15] >= 2 && len >= 36 && len <= size)
                fix(mem, 0, len, 32);
}

static void check_madt(const struct fw_madt *m)
{
        CHECK(m->ncpus <= FW_MAX_CPUS);
        CHECK(m->nioapics <= FW_MAX_IOAPICS);
        for (size_t i = 0; i < m->ncpus; i++) {
                const struct fw_cpu *c = &m->cpus[i];
                CHECK(c->enabled != c->online_capable);
                CHECK(c->apic_id != (c->x2apic_entry ? 0xffffffffu : 0xffu));
                CHECK(c->x2apic_entry || c->apic_id <= 0xff);
                for (size_t j = 0; j < i; j++)
                        CHECK(m->cpus[j].apic_id != c->apic_id);
        }
}

static bool is_zero(const void *p, size_t n)
{
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

static void parse(struct fake *f, uint64_t root, bool is_xsdt)
{
        struct fw_madt m;
        memset(&m, 0xa5, sizeof(m));
        const char *err = fw_acpi_parse_madt(fake_map, f, root, is_xsdt, &m);
        if (err) {
                CHECK(*err != '\0');
                /* On failure nothing half-parsed is left behind. */
                CHECK(m.ncpus == 0 && m.nioapics == 0 && !m.truncated);
        } else {
                check_madt(&m);
                CHECK(is_zero(&m.cpus[m.ncpus], (FW_MAX_CPUS - m.ncpus) * sizeof(m.cpus[0])));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t flags = data[0];
        size_t n = size - 1;
        uint8_t *mem = malloc(n ? n : 1);
        CHECK(mem != NULL);
        memcpy(mem, data + 1, n);
        if (flags & FLAG_FIX_SUM)
                fix_checksums(mem, n);
        struct fake f = { .mem = mem, .size = n, .ebda = flags & FLAG_EBDA };

        uint64_t rsdp_pa = 1, root = 1;
        bool is_xsdt = true;
        const char *err = fw_acpi_find_rsdp(fake_map, &f, &rsdp_pa);
        if (err) {
                CHECK(*err != '\0' && rsdp_pa == 0);
        } else {
                CHECK(rsdp_pa % 16 == 0);
                CHECK(range_within(rsdp_pa, 20, FUZZ_BASE, n));
                /* What was found validates as an RSDP. */
                size_t off = (size_t)(rsdp_pa - FUZZ_BASE);
                err = fw_acpi_rsdp_root(mem + off, n - off, &root, &is_xsdt);
                CHECK(err == NULL);
                parse(&f, root, is_xsdt);
        }

        /* The RSDP at the start directly, as from a multiboot2 tag copy of
         * at most 36 bytes, then both kinds of root wherever it points. */
        size_t len = n < FW_RSDP_V2_LEN ? n : FW_RSDP_V2_LEN;
        const uint8_t *copy = copy_of(&f, mem, len ? len : 1);
        err = fw_acpi_rsdp_root(len ? copy : NULL, len, &root, &is_xsdt);
        if (err) {
                CHECK(root == 0 && !is_xsdt);
        } else {
                CHECK(root != 0);
                parse(&f, root, is_xsdt);
                parse(&f, root, !is_xsdt);
        }

        for (size_t i = 0; i < f.ncopies; i++)
                free(f.copies[i]);
        free(f.copies);
        free(mem);
        return 0;
}
