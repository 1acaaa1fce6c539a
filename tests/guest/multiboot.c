/* multiboot: the multiboot v1 hand-over.  Checks the magic, the entry
 * state, the info flags, mem_lower/mem_upper and each memory-map entry for
 * the configured RAM size, that everything lies in [0x1000, 0x8000), that
 * .data was loaded and .bss zeroed, and boot_loader_name == "vtvisor".
 * It prints the command line as  multiboot: cmdline "..."  for the runner
 * to compare with what the case passed after "--".
 * "expect-ram=SIZE" on the command line gives the RAM size the VM was
 * configured with (default 16M); "expect-mods=N" the number of boot
 * modules (default 0), each of which must lie page-aligned above the
 * kernel, inside RAM, apart from the others, with its command line in the
 * information area; each is printed as
 *   multiboot: module I cmdline "..." bytes N begins "..."  */
#include "guest.h"

static volatile uint32_t loaded_data = 0x13579bdf;
static volatile uint8_t zeroed_bss[32768];

static bool in_info_area(uint32_t addr, uint32_t len)
{
        return addr >= 0x1000 && addr < 0x8000 && len <= 0x8000 - addr;
}

static void check_string(const char *name, uint32_t addr)
{
        if (!in_info_area(addr, 1)) {
                g_failed++;
                gprintf("FAIL: %s (at 0x%x, outside [0x1000, 0x8000))\n", name, addr);
                return;
        }
        uint32_t len = (uint32_t)gstrlen((const char *)addr);
        report(name, in_info_area(addr, len + 1));
}

struct mb_mod {
        uint32_t start, end, string, reserved;
};

static void check_modules(const struct mb_info *mbi, uint64_t ram)
{
        char buf[16];
        uint64_t want = 0;
        if (cmdline_value("expect-mods", buf, sizeof(buf)) && !parse_number(buf, &want))
                report("expect-mods-parses", false);
        expect_eq32("mods-count", mbi->mods_count, (uint32_t)want);
        if (!mbi->mods_count)
                return;
        if (!report("mods-list-in-info-area", in_info_area(mbi->mods_addr, mbi->mods_count * 16)))
                return;
        const struct mb_mod *m = (const struct mb_mod *)mbi->mods_addr;
        /* Past the kernel's last byte (its .bss is last). */
        uint32_t prev_end = (uint32_t)(uintptr_t)(zeroed_bss + sizeof(zeroed_bss));
        bool placed = true;
        for (uint32_t i = 0; i < mbi->mods_count; i++) {
                check_string("mod-string-in-info-area", m[i].string);
                if (m[i].start & 0xfff || m[i].start < prev_end || m[i].end < m[i].start ||
                    m[i].end > ram)
                        placed = false;
                char head[24];
                uint32_t n = 0;
                for (; n < sizeof(head) - 1 && m[i].start + n < m[i].end; n++) {
                        char c = ((const char *)m[i].start)[n];
                        head[n] = c >= ' ' && c < 127 ? c : '.';
                }
                head[n] = 0;
                gprintf("multiboot: module %u cmdline \"%s\" bytes %u begins \"%s\"\n", i,
                        (const char *)m[i].string, m[i].end - m[i].start, head);
                prev_end = m[i].end;
        }
        report("mods-placed", placed);
}

static void check_mmap(const struct mb_info *mbi, uint64_t ram)
{
        static const struct {
                uint64_t addr, len;
                uint32_t type;
        } want[3] = {
                { 0, 0x9f000, 1 },
                { 0x9f000, 0x100000 - 0x9f000, 2 },
                { 0x100000, 0, 1 }, /* length filled in below */
        };
        gprintf("multiboot: mmap at 0x%x length %u\n", mbi->mmap_addr, mbi->mmap_length);
        if (!report("mmap-in-info-area", in_info_area(mbi->mmap_addr, mbi->mmap_length)))
                return;
        uint32_t off = 0;
        unsigned n = 0;
        bool sizes_ok = true, entries_ok = true;
        while (off + 4 <= mbi->mmap_length) {
                const struct mb_mmap_entry *e =
                    (const struct mb_mmap_entry *)(mbi->mmap_addr + off);
                gprintf("multiboot: mmap[%u] size %u addr 0x%llx len 0x%llx type %u\n", n, e->size,
                        e->addr, e->len, e->type);
                if (e->size < 20)
                        sizes_ok = false;
                if (n < 3) {
                        uint64_t len = n == 2 ? ram - 0x100000 : want[n].len;
                        if (e->addr != want[n].addr || e->len != len || e->type != want[n].type) {
                                entries_ok = false;
                                gprintf("multiboot: mmap[%u] want addr 0x%llx len 0x%llx type "
                                        "%u\n",
                                        n, want[n].addr, len, want[n].type);
                        }
                }
                n++;
                if (e->size < 20)
                        break;
                off += e->size + 4;
        }
        report("mmap-entry-sizes", sizes_ok);
        expect_eq32("mmap-entry-count", n, 3);
        expect_eq32("mmap-length-exact", off, mbi->mmap_length);
        report("mmap-entries", entries_ok);
}

void guest_main(void)
{
        expect_eq32("multiboot-magic", g_entry_eax, MB_BOOT_MAGIC);
        gprintf("multiboot: entry cr0 0x%08x eflags 0x%08x cs 0x%x info 0x%x\n", g_entry_cr0,
                g_entry_eflags, g_entry_cs, g_entry_ebx);
        report("entry-protected-mode", (g_entry_cr0 & 1) != 0);
        report("entry-paging-off", (g_entry_cr0 & 0x80000000u) == 0);
        report("entry-interrupts-off", (g_entry_eflags & (1u << 9)) == 0);
        report("entry-not-v86", (g_entry_eflags & (1u << 17)) == 0);
        expect_eq32("data-loaded", loaded_data, 0x13579bdf);
        bool zero = true;
        for (uint32_t i = 0; i < sizeof(zeroed_bss); i++)
                zero = zero && zeroed_bss[i] == 0;
        report("bss-zeroed", zero);

        const struct mb_info *mbi = g_mbi;
        if (!mbi)
                return;
        report("info-in-info-area", in_info_area(g_entry_ebx, sizeof(*mbi)));
        gprintf("multiboot: flags 0x%08x\n", mbi->flags);
        report("flag-mem", (mbi->flags & MB_INFO_MEM) != 0);
        report("flag-cmdline", (mbi->flags & MB_INFO_CMDLINE) != 0);
        report("flag-mmap", (mbi->flags & MB_INFO_MMAP) != 0);
        report("flag-boot-loader-name", (mbi->flags & MB_INFO_LOADER) != 0);
        uint64_t ram = 16u << 20;
        char buf[32];
        if (cmdline_value("expect-ram", buf, sizeof(buf)) && !parse_number(buf, &ram))
                report("expect-ram-parses", false);
        gprintf("multiboot: expecting %u MiB of RAM\n", (uint32_t)(ram >> 20));
        if (mbi->flags & MB_INFO_MEM) {
                expect_eq32("mem-lower", mbi->mem_lower, 636);
                expect_eq32("mem-upper", mbi->mem_upper, (uint32_t)((ram - 0x100000) >> 10));
        }

        if (mbi->flags & MB_INFO_CMDLINE) {
                check_string("cmdline-in-info-area", mbi->cmdline);
                gprintf("multiboot: cmdline \"%s\"\n", (const char *)mbi->cmdline);
        }
        if (mbi->flags & MB_INFO_LOADER) {
                check_string("loader-name-in-info-area", mbi->boot_loader_name);
                const char *name = (const char *)mbi->boot_loader_name;
                gprintf("multiboot: boot_loader_name \"%s\"\n", name);
                report("boot-loader-name-vtvisor", gstrcmp(name, "vtvisor") == 0);
        }
        if (mbi->flags & MB_INFO_MMAP)
                check_mmap(mbi, ram);
        report("flag-mods", (mbi->flags & MB_INFO_MODS) != 0);
        if (mbi->flags & MB_INFO_MODS)
                check_modules(mbi, ram);
}
