/* libFuzzer target for loaders/loader_linux.c: a hostile bzImage (and
 * initrd) loaded into a fake guest RAM of a few MiB.
 *
 * Input (fields little-endian; a short input reads as zeros):
 *
 *   u8   config: bits 2:0 pick the RAM size (1 to 17 MiB, some not a
 *        multiple of 2 MiB), bits 4:3 the e820 map (core/vm.c's; the unit
 *        test's PC map; RAM entries split and out of order; one that claims
 *        more RAM than there is), bit 5 no command line (NULL), bits 7:6
 *        pad the initrd with 0, 64, 256 or 1024 KiB of zeros
 *   u8   command-line length, then that many bytes (a NUL ends it early)
 *   u32  initrd length: the last (that mod (rest + 1)) bytes of the input
 *   the rest: the bzImage file, then the initrd
 *
 * The kernel, initrd and command line are handed over in heap buffers of
 * exactly their size (the initrd's kept across inputs, with ASan poisoning
 * both sides of it), and the RAM is a buffer whose bytes past the chosen
 * size (and a guard before it) are poisoned, so ASan stops any access
 * outside them.  The RAM starts filled with 0xcc; the loader must zero what
 * it uses and write nothing on error.
 *
 * On success every promise of loader_linux.h and boot.rst is checked: the
 * kernel at pref_address or the lowest kernel_alignment-aligned address
 * above it, inside usable RAM, above the boot data and 1 MiB, below 4 GiB;
 * the initrd page-aligned, under initrd_addr_max, clear of the kernel's
 * span and of the boot data; the bytes of kernel, initrd and command line
 * where the layout says; the zero page, GDT, page tables and vCPU state as
 * described; and every other byte of RAM untouched.  On error every byte
 * of RAM is untouched.  Untouched is checked byte for byte wherever the
 * input could have written: fuzz_ram.h tracks which chunks were. */
#define _DEFAULT_SOURCE

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_ram.h"

#include "lib/bytes.h"
#include "loaders/loader_linux.h"

#define GUARD   MiB(1)
#define RAM_MAX MiB(17)
#define FILL    0xcc
#define RSDP    0xe0000ULL

static uint8_t *ram;   /* GUARD + RAM_MAX + GUARD mapped, RAM after the first guard */
static size_t ram_cur; /* the bytes ASan lets the loader reach */

/* [start, end) of RAM still holds only FILL. */
static bool untouched(uint64_t start, uint64_t end)
{
        return fuzz_ram_untouched(ram + start, end - start);
}

static const uint64_t ram_sizes[8] = {
        MiB(1), MiB(2), MiB(2) + 0x3000, MiB(3), MiB(4), MiB(6) + 0x1000, MiB(8), MiB(17),
};

static size_t make_e820(unsigned kind, uint64_t size, struct linux_e820 *e)
{
        switch (kind) {
        case 0: /* core/vm.c */
                e[0] = (struct linux_e820){ 0, 0x9f000, LINUX_E820_RAM };
                e[1] = (struct linux_e820){ 0x9f000, MiB(1) - 0x9f000, LINUX_E820_RESERVED };
                e[2] = (struct linux_e820){ MiB(1), size - MiB(1), LINUX_E820_RAM };
                return 3;
        case 1: /* tests/unit/test_loader_linux.c */
                e[0] = (struct linux_e820){ 0, 0x9fc00, LINUX_E820_RAM };
                e[1] = (struct linux_e820){ 0x9fc00, 0x400, LINUX_E820_RESERVED };
                e[2] = (struct linux_e820){ 0xe0000, 0x20000, LINUX_E820_RESERVED };
                e[3] = (struct linux_e820){ MiB(1), size - MiB(1), LINUX_E820_RAM };
                return 4;
        case 2: /* adjacent RAM entries out of order, a hole in the middle */
                if (size < MiB(4))
                        return make_e820(0, size, e);
                e[0] = (struct linux_e820){ MiB(1) + size / 2, size - MiB(1) - size / 2,
                                            LINUX_E820_RAM };
                e[1] = (struct linux_e820){ 0x8000, 0x90000, LINUX_E820_RAM };
                e[2] = (struct linux_e820){ MiB(1), size / 4, LINUX_E820_RAM };
                e[3] = (struct linux_e820){ MiB(1) + size / 4, size / 4, LINUX_E820_ACPI };
                e[4] = (struct linux_e820){ 0, 0x8000, LINUX_E820_RAM };
                return 5;
        default: /* more RAM than the VM has */
                e[0] = (struct linux_e820){ 0, 0x9f000, LINUX_E820_RAM };
                e[1] = (struct linux_e820){ MiB(1), size - MiB(1) + MiB(64), LINUX_E820_RAM };
                return 2;
        }
}

/* Whether [addr, addr+len) is covered by RAM entries (chained) and lies in
 * the VM's RAM: what "usable" means in loader_linux.c. */
static bool covered(const struct linux_e820 *e, size_t n, uint64_t ram_size, uint64_t addr,
                    uint64_t len)
{
        if (!range_within(addr, len, 0, ram_size))
                return false;
        uint64_t cur = addr, end = addr + len;
        while (cur < end) {
                bool moved = false;
                for (size_t i = 0; i < n; i++) {
                        if (e[i].type == LINUX_E820_RAM && e[i].addr <= cur &&
                            cur - e[i].addr < e[i].size) {
                                cur = e[i].addr + e[i].size;
                                moved = true;
                        }
                }
                if (!moved)
                        return false;
        }
        return true;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
        return alen && blen && a < b + blen && b < a + alen;
}

/* The regions a successful load writes, in address order, for the
 * untouched-bytes scan: [start, end). */
struct region {
        uint64_t start, end;
};

static void sort_regions(struct region *r, size_t n)
{
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && r[j].start < r[j - 1].start; j--) {
                        struct region t = r[j];
                        r[j] = r[j - 1];
                        r[j - 1] = t;
                }
}

static void check_untouched_except(struct region *r, size_t n, uint64_t ram_size)
{
        sort_regions(r, n);
        uint64_t at = 0;
        for (size_t i = 0; i < n; i++) {
                if (r[i].start > at)
                        CHECK(untouched(at, r[i].start));
                at = MAX(at, r[i].end);
        }
        if (at < ram_size)
                CHECK(untouched(at, ram_size));
}

static void check_success(const struct linux_load_params *p, const struct linux_load_result *out,
                          const char *cmdline)
{
        const struct linux_image *im = &out->image;
        const struct linux_layout *l = &out->layout;
        uint64_t size = p->mem.size;

        /* The image the load used is the one linux_parse describes. */
        static struct linux_image parsed;
        CHECK(linux_parse(p->kernel, p->kernel_len, &parsed) == NULL);
        CHECK(memcmp(&parsed, im, sizeof(parsed)) == 0);
        CHECK(im->pm_offset + im->pm_size == p->kernel_len);

        /* Boot data below the kernel (loader_linux.h). */
        uint64_t cover = ALIGN_UP(MAX(size, LINUX_MIN_PT_COVER), GiB(1));
        uint64_t npd = cover / GiB(1), npdpt = (npd + 511) / 512;
        uint64_t pt_size = (1 + npdpt + npd) * PAGE_SIZE;
        uint64_t low_end = LINUX_PT_ADDR + pt_size;
        CHECK(l->identity_mapped == cover && l->page_tables_size == pt_size);
        CHECK(l->page_tables == LINUX_PT_ADDR && l->boot_params == LINUX_BOOT_PARAMS);
        CHECK(l->cmdline == LINUX_CMDLINE_ADDR && l->gdt == LINUX_GDT_ADDR);
        CHECK(l->stack_top == LINUX_STACK_TOP);
        CHECK(low_end <= LINUX_PT_LIMIT && low_end <= size);
        CHECK(covered(p->e820, p->e820_count, size, LINUX_GDT_ADDR, low_end - LINUX_GDT_ADDR));

        /* The kernel: pref_address, or the lowest aligned address above it
         * (relocatable kernels only), in usable RAM above the boot data and
         * 1 MiB, below 4 GiB. */
        CHECK(l->kernel_size == im->pm_size);
        CHECK(l->kernel_span == MAX((uint64_t)im->init_size, (uint64_t)im->pm_size));
        uint64_t floor = MAX(low_end, MiB(1));
        CHECK(l->kernel >= floor && l->kernel >= im->pref_address);
        CHECK(l->kernel == im->pref_address ||
              (im->relocatable && l->kernel % im->kernel_alignment == 0));
        CHECK(range_within(l->kernel, l->kernel_span, 0, GiB(4)));
        CHECK(covered(p->e820, p->e820_count, size, l->kernel, l->kernel_span));

        /* The initrd: high, page-aligned, under initrd_addr_max, beside the
         * kernel and the boot data. */
        if (p->initrd_len) {
                CHECK(l->initrd_size == p->initrd_len);
                CHECK(l->initrd % PAGE_SIZE == 0 && l->initrd >= low_end);
                CHECK(covered(p->e820, p->e820_count, size, l->initrd, l->initrd_size));
                CHECK(l->initrd + l->initrd_size - 1 <= im->initrd_addr_max);
                CHECK(!overlap(l->initrd, l->initrd_size, l->kernel, l->kernel_span));
        } else {
                CHECK(l->initrd == 0 && l->initrd_size == 0);
        }

        /* The bytes. */
        CHECK(memcmp(ram + l->kernel, p->kernel + im->pm_offset, im->pm_size) == 0);
        if (p->initrd_len)
                CHECK(memcmp(ram + l->initrd, p->initrd, p->initrd_len) == 0);
        size_t cmdlen = strlen(cmdline);
        CHECK(l->cmdline_len == cmdlen && cmdlen <= im->cmdline_size);
        CHECK(memcmp(ram + LINUX_CMDLINE_ADDR, cmdline, cmdlen + 1) == 0);

        /* The zero page: the file's setup header with the loader's fields. */
        const uint8_t *bp = ram + LINUX_BOOT_PARAMS;
        CHECK(get16(bp + 0x1fe) == 0xaa55 && memcmp(bp + 0x202, "HdrS", 4) == 0);
        CHECK(bp[0x1f1] == p->kernel[0x1f1]);
        CHECK(bp[0x210] == 0xff);                         /* type_of_loader: undefined */
        CHECK((bp[0x211] & 0x80) && !(bp[0x211] & 0x40)); /* CAN_USE_HEAP, !KEEP_SEGMENTS */
        CHECK(get32(bp + 0x214) == l->kernel);            /* code32_start */
        CHECK(get32(bp + 0x218) == (uint32_t)l->initrd);
        CHECK(get32(bp + 0x21c) == (uint32_t)l->initrd_size);
        CHECK(get32(bp + 0x228) == LINUX_CMDLINE_ADDR);
        CHECK(get64(bp + 0x250) == 0); /* setup_data */
        if (im->version >= 0x020e)
                CHECK(get64(bp + 0x070) == p->rsdp);
        CHECK(bp[0x1e8] == p->e820_count);
        for (size_t i = 0; i < p->e820_count; i++) {
                const uint8_t *e = bp + 0x2d0 + 20 * i;
                CHECK(get64(e) == p->e820[i].addr && get64(e + 8) == p->e820[i].size &&
                      get32(e + 16) == p->e820[i].type);
        }
        /* Nothing past the header area came from the file. */
        for (size_t i = im->hdr_end; i < 0x290; i++)
                CHECK(bp[i] == 0);

        /* Page tables: an identity map of [0, cover) in 2 MiB pages. */
        const uint8_t *pml4 = ram + LINUX_PT_ADDR;
        uint64_t pdpt = get64(pml4) & ~0xfffULL;
        CHECK(pdpt == LINUX_PT_ADDR + PAGE_SIZE && (get64(pml4) & 3) == 3);
        for (uint64_t g = 0; g < npd; g++) {
                uint64_t pde = get64(ram + pdpt + 8 * g);
                uint64_t pd = pde & ~0xfffULL;
                CHECK((pde & 3) == 3 && pd + PAGE_SIZE <= low_end);
                CHECK(get64(ram + pd) == (g * GiB(1) | 0x83));
                CHECK(get64(ram + pd + 8 * 511) == ((g * GiB(1) + 511 * MiB(2)) | 0x83));
        }

        /* The entry state of the 64-bit boot protocol. */
        const struct guest_state *v = &out->vcpu;
        CHECK(v->rip == l->kernel + 0x200 && v->gpr[RSI] == LINUX_BOOT_PARAMS);
        CHECK(v->gpr[RSP] == LINUX_STACK_TOP && v->cr3 == LINUX_PT_ADDR);
        CHECK((v->cr0 & 0x80000001u) == 0x80000001u && (v->cr4 & BIT(5)));
        CHECK((v->efer & (BIT(8) | BIT(10))) == (BIT(8) | BIT(10)));
        CHECK(!(v->rflags & BIT(9))); /* interrupts off */
        CHECK(v->cs.sel == LINUX_BOOT_CS && v->ds.sel == LINUX_BOOT_DS);
        CHECK(v->gdtr_base == LINUX_GDT_ADDR);

        /* Nothing else was written. */
        struct region r[3] = {
                { LINUX_GDT_ADDR, low_end },
                { l->kernel, l->kernel + l->kernel_size },
                { l->initrd, l->initrd + l->initrd_size },
        };
        check_untouched_except(r, p->initrd_len ? 3 : 2, size);
}

static const size_t initrd_pads[4] = { 0, KiB(64), KiB(256), KiB(1024) };

/* The initrd: ilen bytes from src, then ipad zeros.  A fresh MiB of zeros
 * per input cost a third of the target's time, so the buffer stays: it is
 * all zeros but for the last input's bytes, which are cleared again.  ASan
 * sees the initrd as a block of exactly its size: the INITRD_RZ bytes
 * before it and everything after it are poisoned. */
#define INITRD_RZ 64
static uint8_t *ibuf;
static size_t ibuf_cap;  /* bytes after the red zone */
static size_t ibuf_used; /* [0, this) may be nonzero */
static size_t ibuf_open; /* [0, this) is unpoisoned */

static void initrd_open(size_t n)
{
        uint8_t *p = ibuf + INITRD_RZ;
        if (n > ibuf_open)
                ASAN_UNPOISON_MEMORY_REGION(p + ibuf_open, n - ibuf_open);
        else if (n < ibuf_open)
                ASAN_POISON_MEMORY_REGION(p + n, ibuf_open - n);
        ibuf_open = n;
}

static uint8_t *initrd_make(const uint8_t *src, size_t ilen, size_t ipad)
{
        size_t n = ilen + ipad;
        if (!n)
                return NULL;
        if (n > ibuf_cap) {
                if (ibuf)
                        ASAN_UNPOISON_MEMORY_REGION(ibuf, INITRD_RZ + ibuf_cap);
                free(ibuf);
                ibuf_cap = MAX(n, (size_t)KiB(1024) + KiB(64));
                ibuf = calloc(1, INITRD_RZ + ibuf_cap);
                CHECK(ibuf != NULL);
                ASAN_POISON_MEMORY_REGION(ibuf, INITRD_RZ + ibuf_cap);
                ibuf_used = ibuf_open = 0;
        }
        uint8_t *p = ibuf + INITRD_RZ;
        initrd_open(MAX(ibuf_used, ilen));
        if (ibuf_used > ilen)
                memset(p + ilen, 0, ibuf_used - ilen);
        memcpy(p, src, ilen);
        ibuf_used = ilen;
        initrd_open(n);
        return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!ram)
                ram = fuzz_ram_map(GUARD + RAM_MAX + GUARD, FILL) + GUARD;
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t cfg = in_u8(&in);
        uint64_t ram_size = ram_sizes[cfg & 7];
        size_t clen;
        const uint8_t *cl = in_bytes(&in, in_u8(&in), &clen);
        uint32_t ilen_field = in_u32(&in);
        size_t rest = in.n;
        size_t ilen = (size_t)(ilen_field % ((uint64_t)rest + 1));
        size_t klen = rest - ilen;
        size_t ipad = initrd_pads[cfg >> 6];

        /* Exactly-sized copies: ASan sees any read past their ends. */
        uint8_t *kernel = malloc(klen ? klen : 1);
        uint8_t *initrd = initrd_make(in.p + klen, ilen, ipad);
        char *cmdline = malloc(clen + 1);
        CHECK(kernel && cmdline && (initrd || !(ilen + ipad)));
        memcpy(kernel, in.p, klen);
        memcpy(cmdline, cl, clen);
        cmdline[clen] = '\0';

        fuzz_ram_resize(ram, &ram_cur, ram_size);

        struct linux_e820 e820[8];
        struct linux_load_params p = {
                .kernel = kernel,
                .kernel_len = klen,
                .initrd = initrd,
                .initrd_len = ilen + ipad,
                .cmdline = (cfg & 0x20) ? NULL : cmdline,
                .mem = { ram, ram_size },
                .rsdp = RSDP,
                .e820 = e820,
                .e820_count = make_e820((cfg >> 3) & 3, ram_size, e820),
        };
        static struct linux_load_result out;
        static struct linux_image parsed;
        memset(&out, 0x5a, sizeof(out));
        const char *err = linux_load(&p, &out);
        const char *perr = linux_parse(kernel, klen, &parsed);
        if (err) {
                CHECK(err == out.err && err[0] != '\0');
                CHECK(memchr(out.err, 0, sizeof(out.err)) != NULL);
                /* A bad header is reported as linux_parse words it. */
                if (perr)
                        CHECK(strcmp(err, perr) == 0);
                /* On error guest RAM is untouched (loader_linux.h). */
                CHECK(untouched(0, ram_size));
        } else {
                CHECK(perr == NULL);
                check_success(&p, &out, p.cmdline ? p.cmdline : "");
        }

        fuzz_ram_reset();
        free(kernel);
        free(cmdline);
        return 0;
}
