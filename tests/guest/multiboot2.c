/* multiboot2: the multiboot2 hand-over (Multiboot2 Specification 1.0,
 * 3.3 and 3.6), from inside the VM.  Built with lib/entry_mb2.S, whose
 * header requires the command line, boot loader name, modules, basic
 * memory information, memory map, both ACPI RSDPs and the load base
 * address, gives an entry address tag and an optional framebuffer tag.
 * Checks the magic and the entry state, that the information lies 8-byte
 * aligned in [0x1000, 0x8000) with well-formed tags up to an end tag at
 * total_size, each tag, and the ACPI tables the RSDPs point at (an XSDT
 * with a MADT).  It prints
 *   multiboot2: cmdline "..."
 * and per module
 *   multiboot2: module I cmdline "..." bytes N fnv1a 0x........
 * (FNV-1a of its bytes) for the runner to compare with the files.
 * "expect-ram=SIZE" gives the VM's RAM (default 16M), "expect-mods=N" the
 * number of modules (default 0); a module whose command line is
 * "pattern" must hold build/guests/pattern.img byte for byte. */
#include "guest.h"

static volatile uint32_t loaded_data = 0x2468ace0;
static volatile uint8_t zeroed_bss[8192];

enum {
        TAG_MODULE = 3,
        TAG_MEMINFO = 4,
        TAG_MMAP = 6,
        TAG_ACPI_OLD = 14,
        TAG_ACPI_NEW = 15,
        TAG_LOAD_BASE = 21,
        TAG_LOADER_NAME = 2,
};

static uint32_t total;

static const uint32_t *payload(const struct mb2_tag *t)
{
        return (const uint32_t *)(t + 1);
}

static bool sum_ok(const uint8_t *p, uint32_t len)
{
        uint8_t sum = 0;
        for (uint32_t i = 0; i < len; i++)
                sum = (uint8_t)(sum + p[i]);
        return sum == 0;
}

static uint32_t fnv1a(const uint8_t *p, uint32_t len)
{
        uint32_t h = 2166136261u;
        for (uint32_t i = 0; i < len; i++)
                h = (h ^ p[i]) * 16777619u;
        return h;
}

/* Every tag 8-aligned, at least 8 bytes, inside total_size; an end tag of
 * size 8 ends exactly at total_size. */
static void check_layout(void)
{
        bool aligned = true, sized = true, end_ok = false;
        uint32_t off = 8, n = 0;
        while (off + 8 <= total) {
                const struct mb2_tag *t = (const struct mb2_tag *)(g_mbi2 + off);
                gprintf("multiboot2: tag %u size %u at +%u\n", t->type, t->size, off);
                aligned = aligned && (off & 7) == 0;
                if (t->size < 8 || t->size > total - off) {
                        sized = false;
                        break;
                }
                n++;
                if (t->type == MB2_TAG_END) {
                        end_ok = t->size == 8 && off + 8 == total;
                        break;
                }
                off += (t->size + 7) & ~7u;
        }
        report("tags-aligned", aligned);
        report("tags-sized", sized);
        report("end-tag-at-total-size", end_ok);
        expect_eq32("reserved-zero", ((const uint32_t *)g_mbi2)[1], 0);
        gprintf("multiboot2: %u tags, total_size %u\n", n, total);
}

static void check_mmap(uint64_t ram)
{
        const struct mb2_tag *t = mb2_find(TAG_MMAP, 0);
        if (!report("mmap-tag", t != NULL))
                return;
        const uint32_t *p = payload(t);
        expect_eq32("mmap-entry-size", p[0], 24);
        expect_eq32("mmap-entry-version", p[1], 0);
        expect_eq32("mmap-tag-size", t->size, 16 + 3 * 24);
        const struct {
                uint64_t addr, len;
                uint32_t type;
        } want[3] = { { 0, 0x9f000, 1 }, { 0x9f000, 0x61000, 2 }, { 0x100000, ram - 0x100000, 1 } };
        bool ok = t->size == 16 + 3 * 24;
        for (unsigned i = 0; ok && i < 3; i++) {
                const uint8_t *e = (const uint8_t *)(p + 2) + 24 * i;
                uint64_t addr = *(const uint64_t *)e, len = *(const uint64_t *)(e + 8);
                uint32_t type = *(const uint32_t *)(e + 16);
                gprintf("multiboot2: mmap[%u] addr 0x%llx len 0x%llx type %u\n", i, addr, len,
                        type);
                ok = addr == want[i].addr && len == want[i].len && type == want[i].type &&
                     *(const uint32_t *)(e + 20) == 0;
        }
        report("mmap-entries", ok);
}

static void check_modules(void)
{
        char buf[16];
        uint64_t want = 0;
        if (cmdline_value("expect-mods", buf, sizeof(buf)) && !parse_number(buf, &want))
                report("expect-mods-parses", false);
        uint32_t prev_end = (uint32_t)(uintptr_t)(zeroed_bss + sizeof(zeroed_bss));
        bool placed = true;
        unsigned n = 0;
        for (const struct mb2_tag *t; (t = mb2_find(TAG_MODULE, n)) != NULL; n++) {
                const uint32_t *p = payload(t);
                uint32_t start = p[0], end = p[1];
                const char *cl = (const char *)(p + 2);
                bool cl_ok = t->size > 16 && ((const char *)t)[t->size - 1] == 0;
                report("module-cmdline-terminated", cl_ok);
                if (start & 0xfff || start < prev_end || end < start)
                        placed = false;
                prev_end = end;
                gprintf("multiboot2: module %u cmdline \"%s\" bytes %u fnv1a 0x%08x\n", n,
                        cl_ok ? cl : "?", end - start, fnv1a((const uint8_t *)start, end - start));
                if (cl_ok && !gstrcmp(cl, "pattern")) {
                        /* build/guests/pattern.img: byte o is (7 o + o / 512) mod 256. */
                        bool same = end - start == 65536;
                        for (uint32_t o = 0; same && o < 65536; o++)
                                same = ((const uint8_t *)start)[o] == (uint8_t)(7 * o + o / 512);
                        report("module-pattern-bytes", same);
                }
        }
        expect_eq32("mods-count", n, (uint32_t)want);
        report("mods-placed", placed);
}

/* The RSDPs' copies, and the ACPI tables they lead to. */
static void check_acpi(void)
{
        const struct mb2_tag *old = mb2_find(TAG_ACPI_OLD, 0), *new = mb2_find(TAG_ACPI_NEW, 0);
        if (!report("acpi-old-tag", old && old->size == 8 + 20) ||
            !report("acpi-new-tag", new &&new->size == 8 + 36))
                return;
        const uint8_t *r1 = (const uint8_t *)payload(old), *r2 = (const uint8_t *)payload(new);
        report("acpi-old-signature", !gstrncmp((const char *)r1, "RSD PTR ", 8));
        report("acpi-old-checksum", sum_ok(r1, 20));
        report("acpi-new-checksums", sum_ok(r2, 20) && sum_ok(r2, 36));
        bool same = true;
        for (int i = 0; i < 20; i++)
                same = same && r1[i] == r2[i];
        report("acpi-old-is-new-first-20-bytes", same);
        expect_eq32("acpi-new-revision-2", r2[15], 2);
        expect_eq32("acpi-new-length", *(const uint32_t *)(r2 + 20), 36);
        /* The copy is the VM's RSDP: the same bytes in the BIOS area. */
        bool found = false;
        for (uint32_t a = 0xe0000; a < 0x100000 && !found; a += 16) {
                bool eq = true;
                for (int i = 0; i < 36 && eq; i++)
                        eq = ((const uint8_t *)a)[i] == r2[i];
                found = eq;
        }
        report("acpi-rsdp-is-the-vms", found);
        uint64_t xsdt_pa = *(const uint64_t *)(r2 + 24);
        if (!report("acpi-xsdt-below-4g", xsdt_pa && xsdt_pa < 0x100000000ull))
                return;
        const uint8_t *xsdt = (const uint8_t *)(uint32_t)xsdt_pa;
        uint32_t xlen = *(const uint32_t *)(xsdt + 4);
        if (!report("acpi-xsdt", !gstrncmp((const char *)xsdt, "XSDT", 4) && xlen >= 36 &&
                                     xlen < 4096 && sum_ok(xsdt, xlen)))
                return;
        bool madt = false;
        for (uint32_t off = 36; off + 8 <= xlen; off += 8) {
                const uint8_t *t = (const uint8_t *)*(const uint32_t *)(xsdt + off);
                if (!gstrncmp((const char *)t, "APIC", 4))
                        madt = sum_ok(t, *(const uint32_t *)(t + 4));
        }
        report("acpi-madt", madt);
}

void guest_main(void)
{
        expect_eq32("multiboot2-magic", g_entry_eax, MB2_BOOT_MAGIC);
        gprintf("multiboot2: entry cr0 0x%08x eflags 0x%08x cs 0x%x info 0x%x\n", g_entry_cr0,
                g_entry_eflags, g_entry_cs, g_entry_ebx);
        report("entry-protected-mode", (g_entry_cr0 & 1) != 0);
        report("entry-paging-off", (g_entry_cr0 & 0x80000000u) == 0);
        report("entry-interrupts-off", (g_entry_eflags & (1u << 9)) == 0);
        report("entry-not-v86", (g_entry_eflags & (1u << 17)) == 0);
        expect_eq32("data-loaded", loaded_data, 0x2468ace0);
        bool zero = true;
        for (uint32_t i = 0; i < sizeof(zeroed_bss); i++)
                zero = zero && zeroed_bss[i] == 0;
        report("bss-zeroed", zero);
        if (!g_mbi2)
                return;
        total = *(const uint32_t *)g_mbi2;
        report("info-8-byte-aligned", (g_entry_ebx & 7) == 0);
        if (!report("info-in-info-area",
                    g_entry_ebx >= 0x1000 && total >= 16 && total <= 0x8000 - g_entry_ebx))
                return;
        check_layout();

        uint64_t ram = 16u << 20;
        char buf[32];
        if (cmdline_value("expect-ram", buf, sizeof(buf)) && !parse_number(buf, &ram))
                report("expect-ram-parses", false);
        gprintf("multiboot2: expecting %u MiB of RAM\n", (uint32_t)(ram >> 20));

        const struct mb2_tag *t = mb2_find(MB2_TAG_CMDLINE, 0);
        if (report("cmdline-tag", t != NULL))
                gprintf("multiboot2: cmdline \"%s\"\n", (const char *)payload(t));
        t = mb2_find(TAG_LOADER_NAME, 0);
        report("loader-name-vtvisor", t && !gstrcmp((const char *)payload(t), "vtvisor"));
        t = mb2_find(TAG_MEMINFO, 0);
        if (report("meminfo-tag", t && t->size == 16)) {
                expect_eq32("mem-lower", payload(t)[0], 636);
                expect_eq32("mem-upper", payload(t)[1], (uint32_t)((ram - 0x100000) >> 10));
        }
        t = mb2_find(TAG_LOAD_BASE, 0);
        report("load-base-1m", t && t->size == 12 && payload(t)[0] == 0x100000);
        check_mmap(ram);
        check_modules();
        check_acpi();
}
