/* Host tests of the Linux boot protocol loader: synthetic bzImages with a
 * realistic 2.15 setup header, and, when it has been downloaded, Debian's
 * own cloud kernel (see real_kernel_path()). */
#define _DEFAULT_SOURCE
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/unit/check_compat.h"
#include "loaders/loader_linux.h"

#define RAM_SIZE  MiB(64)
#define PM_SIZE   KiB(64)
#define INIT_SIZE MiB(8)
#define PREF      MiB(16)
#define RSDP      0xe0000ULL

static uint64_t rd(const uint8_t *p, unsigned n)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < n; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static void wr(uint8_t *p, unsigned n, uint64_t v)
{
        for (unsigned i = 0; i < n; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* The fields a test may vary; fake_default() gives the values of a modern
 * x86-64 kernel (compare the real one in real_kernel). */
struct fake {
        uint8_t setup_sects;
        uint16_t version;
        uint8_t jump_disp; /* header end = 0x202 + this */
        uint8_t loadflags;
        uint16_t xloadflags;
        uint8_t relocatable;
        uint32_t kernel_alignment;
        uint64_t pref_address;
        uint32_t init_size;
        uint32_t cmdline_size;
        uint32_t initrd_addr_max;
        size_t pm_size;
};

static struct fake fake_default(void)
{
        struct fake f = {
                .setup_sects = 4,
                .version = 0x020f,
                .jump_disp = 0x6a,
                .loadflags = 0x01,
                .xloadflags = 0x7f,
                .relocatable = 1,
                .kernel_alignment = 0x200000,
                .pref_address = PREF,
                .init_size = INIT_SIZE,
                .cmdline_size = 2047,
                .initrd_addr_max = 0x7fffffff,
                .pm_size = PM_SIZE,
        };
        return f;
}

static size_t pm_offset_of(const struct fake *f)
{
        return ((size_t)(f->setup_sects ? f->setup_sects : 4) + 1) * 512;
}

static uint8_t pm_byte(size_t i)
{
        return (uint8_t)(i * 7 + 3);
}

static uint8_t *make_image(const struct fake *f, size_t *len)
{
        size_t off = pm_offset_of(f);
        *len = off + f->pm_size;
        uint8_t *img = calloc(1, *len);
        ck_assert_ptr_nonnull(img);
        /* Everything outside the header is junk a loader must not copy. */
        for (size_t i = 0; i < off; i++)
                img[i] = (uint8_t)(0xa5 ^ i);
        memset(img + 0x1f1, 0, 0x290 - 0x1f1);
        img[0x1ef] = 0xff; /* the sentinel, as in real images */
        img[0x1f1] = f->setup_sects;
        wr(img + 0x1f4, 4, f->pm_size / 16);
        wr(img + 0x1fa, 2, 0xffff); /* vid_mode: normal */
        wr(img + 0x1fe, 2, 0xaa55);
        img[0x200] = 0xeb;
        img[0x201] = f->jump_disp;
        memcpy(img + 0x202, "HdrS", 4);
        wr(img + 0x206, 2, f->version);
        wr(img + 0x20e, 2, 0x3a00); /* kernel_version pointer */
        img[0x211] = f->loadflags;
        wr(img + 0x214, 4, 0x100000);
        wr(img + 0x22c, 4, f->initrd_addr_max);
        wr(img + 0x230, 4, f->kernel_alignment);
        img[0x234] = f->relocatable;
        img[0x235] = 21;
        wr(img + 0x236, 2, f->xloadflags);
        wr(img + 0x238, 4, f->cmdline_size);
        wr(img + 0x248, 4, 0x2cc);
        wr(img + 0x24c, 4, (uint32_t)(f->pm_size - 0x400));
        wr(img + 0x258, 8, f->pref_address);
        wr(img + 0x260, 4, f->init_size);
        wr(img + 0x264, 4, 0x1234); /* handover_offset */
        wr(img + 0x268, 4, 0x5678); /* kernel_info_offset */
        for (size_t i = 0; i < f->pm_size; i++)
                img[off + i] = pm_byte(i);
        return img;
}

/* A PC-like map: low RAM, EBDA, BIOS area with the ACPI tables, RAM from
 * 1 MiB. */
static size_t pc_e820(struct linux_e820 *e, uint64_t ram_size)
{
        e[0] = (struct linux_e820){ 0, 0x9fc00, LINUX_E820_RAM };
        e[1] = (struct linux_e820){ 0x9fc00, 0x400, LINUX_E820_RESERVED };
        e[2] = (struct linux_e820){ 0xe0000, 0x20000, LINUX_E820_RESERVED };
        e[3] = (struct linux_e820){ MiB(1), ram_size - MiB(1), LINUX_E820_RAM };
        return 4;
}

struct setup {
        struct fake f;
        uint8_t *img;
        size_t img_len;
        uint8_t *ram;
        uint64_t ram_size;
        uint8_t *initrd;
        size_t initrd_len;
        struct linux_e820 e820[LINUX_E820_MAX + 1];
        struct linux_load_params p;
        struct linux_load_result r;
};

static struct setup *setup_new(const struct fake *f, uint64_t ram_size, size_t initrd_len)
{
        struct setup *s = calloc(1, sizeof(*s));
        ck_assert_ptr_nonnull(s);
        s->f = *f;
        s->img = make_image(f, &s->img_len);
        s->ram_size = ram_size;
        s->ram = calloc(1, ram_size);
        ck_assert_ptr_nonnull(s->ram);
        memset(s->ram, 0xcc, ram_size); /* the loader must zero what it uses */
        s->initrd_len = initrd_len;
        if (initrd_len) {
                s->initrd = malloc(initrd_len);
                ck_assert_ptr_nonnull(s->initrd);
                for (size_t i = 0; i < initrd_len; i++)
                        s->initrd[i] = (uint8_t)(i * 13 + 1);
        }
        s->p = (struct linux_load_params){
                .kernel = s->img,
                .kernel_len = s->img_len,
                .initrd = s->initrd,
                .initrd_len = initrd_len,
                .cmdline = "console=ttyS0 earlyprintk=serial panic=-1",
                .mem = { s->ram, ram_size },
                .rsdp = RSDP,
                .e820 = s->e820,
                .e820_count = pc_e820(s->e820, ram_size),
        };
        return s;
}

static void setup_free(struct setup *s)
{
        free(s->img);
        free(s->ram);
        free(s->initrd);
        free(s);
}

static const char *load(struct setup *s)
{
        return linux_load(&s->p, &s->r);
}

/* 4-level walk of the loader's tables inside the RAM buffer.  Returns the
 * level of the leaf (1 = 2 MiB) or -1 when va is unmapped. */
static int walk(const uint8_t *ram, uint64_t ram_size, uint64_t cr3, uint64_t va, uint64_t *pa,
                uint64_t *flags)
{
        uint64_t table = cr3 & ~0xfffULL;
        for (int level = 3; level >= 0; level--) {
                ck_assert_uint_lt(table + PAGE_SIZE - 1, ram_size);
                uint64_t e = rd(ram + table + ((va >> (12 + 9 * level)) & 511) * 8, 8);
                if (!(e & 1))
                        return -1;
                if (level == 0 || (e & BIT(7))) {
                        ck_assert_int_ne(level, 3); /* PS is reserved in a PML4E */
                        uint64_t size = PAGE_SIZE << (9 * level);
                        *pa = (e & 0x000ffffffffff000ULL & ~(size - 1)) | (va & (size - 1));
                        *flags = e & 0xfff;
                        return level;
                }
                table = e & 0x000ffffffffff000ULL;
        }
        return -1;
}

START_TEST(good_image_layout)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, MiB(1) + 123);
        ck_assert_ptr_null(load(s));
        const struct linux_layout *l = &s->r.layout;

        ck_assert_uint_eq(l->kernel, PREF);
        ck_assert_uint_eq(l->kernel_size, PM_SIZE);
        ck_assert_uint_eq(l->kernel_span, INIT_SIZE);
        /* Highest page-aligned spot below the end of RAM. */
        ck_assert_uint_eq(l->initrd, ALIGN_DOWN(RAM_SIZE - (MiB(1) + 123), PAGE_SIZE));
        ck_assert_uint_eq(l->initrd_size, MiB(1) + 123);
        ck_assert_uint_ge(l->initrd, l->kernel + l->kernel_span);
        ck_assert_uint_eq(l->boot_params, LINUX_BOOT_PARAMS);
        ck_assert_uint_eq(l->cmdline, LINUX_CMDLINE_ADDR);
        ck_assert_uint_eq(l->cmdline_len, strlen(s->p.cmdline));
        ck_assert_uint_eq(l->gdt, LINUX_GDT_ADDR);
        ck_assert_uint_eq(l->page_tables, LINUX_PT_ADDR);
        /* 64 MiB of RAM: 4 GiB covered = PML4 + PDPT + 4 page directories. */
        ck_assert_uint_eq(l->identity_mapped, GiB(4));
        ck_assert_uint_eq(l->page_tables_size, 6 * PAGE_SIZE);
        ck_assert_uint_eq(l->stack_top, LINUX_STACK_TOP);

        /* Contents. */
        ck_assert_mem_eq(s->ram + l->kernel, s->img + pm_offset_of(&f), PM_SIZE);
        ck_assert_mem_eq(s->ram + l->initrd, s->initrd, s->initrd_len);
        ck_assert_str_eq((const char *)s->ram + l->cmdline, s->p.cmdline);
        /* The loader leaves RAM it does not own alone. */
        ck_assert_uint_eq(s->ram[0x500], 0xcc);
        ck_assert_uint_eq(s->ram[l->kernel - 1], 0xcc);
        ck_assert_uint_eq(s->ram[l->kernel + PM_SIZE], 0xcc);
        setup_free(s);
}
END_TEST

START_TEST(good_image_boot_params)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, MiB(1));
        ck_assert_ptr_null(load(s));
        const struct linux_layout *l = &s->r.layout;
        const uint8_t *bp = s->ram + LINUX_BOOT_PARAMS;

        /* The setup header is the image's, except what the loader sets. */
        static const struct {
                unsigned off, len;
                uint64_t val;
        } set[] = {
                { 0x210, 1, 0xff }, /* type_of_loader: undefined */
                { 0x211, 1, 0x81 }, /* LOADED_HIGH | CAN_USE_HEAP */
                { 0x214, 4, PREF }, /* code32_start */
                { 0x218, 4, RAM_SIZE - MiB(1) },
                { 0x21c, 4, MiB(1) },
                { 0x224, 2, 0xde00 },             /* heap_end_ptr */
                { 0x226, 2, 0 },                  /* ext_loader_ver/type */
                { 0x228, 4, LINUX_CMDLINE_ADDR }, /* cmd_line_ptr */
                { 0x23c, 4, 0 },                  /* hardware_subarch */
                { 0x240, 8, 0 },                  /* hardware_subarch_data */
                { 0x250, 8, 0 },                  /* setup_data */
        };
        for (unsigned off = 0x1f1; off < 0x202u + f.jump_disp; off++) {
                bool loader_field = false;
                for (size_t i = 0; i < ARRAY_SIZE(set); i++)
                        loader_field |= off >= set[i].off && off < set[i].off + set[i].len;
                if (!loader_field)
                        ck_assert_msg(bp[off] == s->img[off], "header byte 0x%x differs", off);
        }
        for (size_t i = 0; i < ARRAY_SIZE(set); i++)
                ck_assert_msg(rd(bp + set[i].off, set[i].len) == set[i].val,
                              "field at 0x%x is 0x%llx, want 0x%llx", set[i].off,
                              (unsigned long long)rd(bp + set[i].off, set[i].len),
                              (unsigned long long)set[i].val);
        ck_assert_uint_eq(rd(bp + 0x218, 4), l->initrd);

        /* Zero-page fields outside the header. */
        ck_assert_uint_eq(rd(bp + 0x070, 8), RSDP); /* acpi_rsdp_addr */
        ck_assert_uint_eq(rd(bp + 0x0c0, 4), 0);    /* ext_ramdisk_image */
        ck_assert_uint_eq(rd(bp + 0x0c4, 4), 0);    /* ext_ramdisk_size */
        ck_assert_uint_eq(rd(bp + 0x0c8, 4), 0);    /* ext_cmd_line_ptr */
        ck_assert_uint_eq(bp[0x1ef], 0);            /* sentinel not copied */
        ck_assert_uint_eq(bp[0x1e8], 4);            /* e820_entries */
        for (unsigned i = 0; i < 4; i++) {
                const uint8_t *e = bp + 0x2d0 + 20 * i;
                ck_assert_uint_eq(rd(e, 8), s->e820[i].addr);
                ck_assert_uint_eq(rd(e + 8, 8), s->e820[i].size);
                ck_assert_uint_eq(rd(e + 16, 4), s->e820[i].type);
        }
        /* Everything else is zero: the junk around the header in the image
         * and the 0xcc fill of RAM stayed out. */
        for (unsigned off = 0; off < 0x1000; off++) {
                bool written = off == 0x1e8 || (off >= 0x070 && off < 0x078) ||
                               (off >= 0x1f1 && off < 0x202u + f.jump_disp) ||
                               (off >= 0x2d0 && off < 0x2d0 + 4 * 20);
                if (!written)
                        ck_assert_msg(bp[off] == 0, "zero-page byte 0x%x is 0x%02x", off, bp[off]);
        }
        setup_free(s);
}
END_TEST

START_TEST(good_image_vcpu_state)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        ck_assert_ptr_null(load(s));
        const struct guest_state *v = &s->r.vcpu;

        ck_assert_uint_eq(v->rip, PREF + 0x200);
        ck_assert_uint_eq(v->gpr[RSI], LINUX_BOOT_PARAMS);
        ck_assert_uint_eq(v->gpr[RSP], LINUX_STACK_TOP);
        ck_assert_uint_eq(v->rflags, 0x2);
        ck_assert_uint_eq(v->cr0, 0x80000031); /* PG NE ET PE */
        ck_assert_uint_eq(v->cr3, LINUX_PT_ADDR);
        ck_assert_uint_eq(v->cr4, 0x20);   /* PAE */
        ck_assert_uint_eq(v->efer, 0x500); /* LMA LME */
        ck_assert_uint_eq(v->cs.sel, 0x10);
        ck_assert_uint_eq(v->cs.ar, 0xa09b);
        ck_assert_uint_eq(v->cs.limit, 0xffffffff);
        ck_assert_uint_eq(v->cs.base, 0);
        const struct seg_state *data[] = { &v->ds, &v->es, &v->ss, &v->fs, &v->gs };
        for (size_t i = 0; i < ARRAY_SIZE(data); i++) {
                ck_assert_uint_eq(data[i]->sel, 0x18);
                ck_assert_uint_eq(data[i]->ar, 0xc093);
                ck_assert_uint_eq(data[i]->limit, 0xffffffff);
                ck_assert_uint_eq(data[i]->base, 0);
        }
        ck_assert_uint_eq(v->tr.sel, 0x20);
        ck_assert_uint_eq(v->tr.ar, 0x8b);
        ck_assert_uint_eq(v->tr.base, LINUX_TSS_ADDR);
        ck_assert_uint_eq(v->tr.limit, 0x67);
        ck_assert_uint_eq(v->ldtr.ar, AR_UNUSABLE);
        ck_assert_uint_eq(v->gdtr_base, LINUX_GDT_ADDR);
        ck_assert_uint_eq(v->gdtr_limit, 47);
        ck_assert_uint_eq(v->idtr_limit, 0);
        /* The entry point holds byte 0x200 of the protected-mode kernel. */
        ck_assert_uint_eq(s->ram[v->rip], pm_byte(0x200));
        setup_free(s);
}
END_TEST

/* Decodes a GDT descriptor into VMCS form (SDM Vol. 3A 3.4.5). */
static struct seg_state decode(const uint8_t *gdt, uint16_t sel)
{
        uint64_t d = rd(gdt + sel, 8);
        struct seg_state s = { .sel = sel };
        s.base = ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
        uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);
        s.ar = (uint32_t)((d >> 40) & 0xff) | (uint32_t)((d >> 52) & 0xf) << 12;
        s.limit = (s.ar & BIT(15)) ? limit << 12 | 0xfff : limit;
        if (!(s.ar & BIT(4))) /* system descriptor: 16 bytes */
                s.base |= rd(gdt + sel + 8, 4) << 32;
        return s;
}

START_TEST(gdt_matches_state)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        ck_assert_ptr_null(load(s));
        const struct guest_state *v = &s->r.vcpu;
        const uint8_t *gdt = s->ram + v->gdtr_base;

        ck_assert_uint_eq(rd(gdt, 8), 0);
        ck_assert_uint_eq(rd(gdt + 8, 8), 0);
        ck_assert_uint_eq(rd(gdt + 0x10, 8), 0x00af9b000000ffffULL);
        ck_assert_uint_eq(rd(gdt + 0x18, 8), 0x00cf93000000ffffULL);
        const struct seg_state *want[] = { &v->cs, &v->ds, &v->tr };
        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                struct seg_state got = decode(gdt, want[i]->sel);
                ck_assert_uint_lt(want[i]->sel + 7u, v->gdtr_limit + 1u);
                ck_assert_uint_eq(got.base, want[i]->base);
                ck_assert_uint_eq(got.limit, want[i]->limit);
                ck_assert_uint_eq(got.ar, want[i]->ar);
        }
        /* The TSS: I/O map base at its limit, so no I/O bitmap. */
        ck_assert_uint_eq(rd(s->ram + LINUX_TSS_ADDR + 0x66, 2), 0x68);
        setup_free(s);
}
END_TEST

START_TEST(page_tables_identity)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        ck_assert_ptr_null(load(s));
        const struct linux_layout *l = &s->r.layout;
        uint64_t pa, flags;

        for (uint64_t va = 0; va < l->identity_mapped; va += MiB(2)) {
                uint64_t probe = va + (va >> 21) % MiB(2);
                ck_assert_int_eq(walk(s->ram, s->ram_size, l->page_tables, probe, &pa, &flags), 1);
                ck_assert_uint_eq(pa, probe);
                ck_assert_uint_eq(flags, 0x83); /* P RW PS */
        }
        ck_assert_int_eq(walk(s->ram, s->ram_size, l->page_tables, l->identity_mapped, &pa, &flags),
                         -1);
        ck_assert_int_eq(walk(s->ram, s->ram_size, l->page_tables, GiB(512), &pa, &flags), -1);
        /* Every table sits inside the area the layout reports. */
        const uint8_t *pml4 = s->ram + l->page_tables;
        uint64_t pdpt = rd(pml4, 8) & ~0xfffULL;
        ck_assert_uint_ge(pdpt, l->page_tables);
        ck_assert_uint_lt(pdpt, l->page_tables + l->page_tables_size);
        for (unsigned i = 0; i < 4; i++) {
                uint64_t pd = rd(s->ram + pdpt + 8 * i, 8) & ~0xfffULL;
                ck_assert_uint_ge(pd, l->page_tables);
                ck_assert_uint_lt(pd, l->page_tables + l->page_tables_size);
        }
        setup_free(s);
}
END_TEST

/* RAM above 4 GiB: the map grows with it.  The buffer is reserved, not
 * committed; the loader touches only the pages it writes. */
START_TEST(page_tables_large_ram)
{
        uint64_t ram_size = GiB(5) + MiB(2);
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, MiB(32), 0);
        uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        ck_assert_ptr_ne(ram, MAP_FAILED);
        s->p.mem = (struct guest_mem){ ram, ram_size };
        s->p.e820_count = pc_e820(s->e820, ram_size);
        ck_assert_ptr_null(load(s));
        const struct linux_layout *l = &s->r.layout;
        ck_assert_uint_eq(l->identity_mapped, GiB(6));
        ck_assert_uint_eq(l->page_tables_size, (1 + 1 + 6) * PAGE_SIZE);
        uint64_t pa, flags;
        for (uint64_t va = 0; va < GiB(6); va += MiB(2)) {
                ck_assert_int_eq(walk(ram, ram_size, l->page_tables, va, &pa, &flags), 1);
                ck_assert_uint_eq(pa, va);
        }
        ck_assert_int_eq(walk(ram, ram_size, l->page_tables, GiB(6), &pa, &flags), -1);
        munmap(ram, ram_size);
        s->p.mem.base = NULL;
        setup_free(s);
}
END_TEST

START_TEST(ram_too_large_for_page_tables)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, MiB(32), 0);
        /* Nothing is written before this check fails, so the small buffer
         * stands in for a huge RAM. */
        s->p.mem.size = GiB(200);
        s->p.e820_count = pc_e820(s->e820, s->p.mem.size);
        const char *err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "page tables"));
        setup_free(s);
}
END_TEST

START_TEST(setup_sects_zero_means_four)
{
        struct fake f = fake_default();
        f.setup_sects = 0;
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(s->r.image.pm_offset, 5 * 512);
        ck_assert_uint_eq(s->r.image.setup_sects, 4);
        ck_assert_mem_eq(s->ram + PREF, s->img + 5 * 512, PM_SIZE);
        setup_free(s);
}
END_TEST

static void expect_parse_error(const uint8_t *img, size_t len, const char *what)
{
        struct linux_image im;
        const char *err = linux_parse(img, len, &im);
        ck_assert_msg(err != NULL, "accepted an image that should fail with \"%s\"", what);
        ck_assert_msg(strstr(err, what) != NULL, "error \"%s\" does not mention \"%s\"", err, what);
}

START_TEST(truncated_images)
{
        struct fake f = fake_default();
        size_t len;
        uint8_t *img = make_image(&f, &len);
        size_t pm = pm_offset_of(&f);
        expect_parse_error(img, 0, "too short");
        expect_parse_error(img, 0x100, "too short");
        expect_parse_error(img, 0x204, "too short");
        expect_parse_error(img, 0x250, "truncated"); /* inside the header */
        expect_parse_error(img, 0x26b, "truncated");
        expect_parse_error(img, 0x26c, "truncated"); /* header, no setup code */
        expect_parse_error(img, pm - 1, "truncated");
        expect_parse_error(img, pm, "truncated"); /* no protected-mode kernel */
        expect_parse_error(img, pm + 0x100, "syssize");
        expect_parse_error(img, len - 1, "syssize");
        struct linux_image im;
        ck_assert_ptr_null(linux_parse(img, len, &im));
        /* syssize fits but the payload runs past the end. */
        wr(img + 0x24c, 4, (uint32_t)PM_SIZE);
        expect_parse_error(img, len, "payload");
        /* A protected-mode part too short to hold the 64-bit entry. */
        wr(img + 0x1f4, 4, 0);
        wr(img + 0x248, 4, 0);
        wr(img + 0x24c, 4, 0);
        expect_parse_error(img, pm + 0x200, "64-bit entry");
        free(img);
}
END_TEST

START_TEST(malformed_headers)
{
        struct fake f = fake_default();
        size_t len;
        uint8_t *img = make_image(&f, &len);
        struct linux_image im;

        img[0x205] = 'X';
        expect_parse_error(img, len, "HdrS");
        img[0x205] = 'S';
        wr(img + 0x1fe, 2, 0x55aa);
        expect_parse_error(img, len, "0xaa55");
        wr(img + 0x1fe, 2, 0xaa55);
        img[0x200] = 0xe9;
        expect_parse_error(img, len, "short jump");
        img[0x200] = 0xeb;
        img[0x201] = 0x50; /* header would end at 0x252 */
        expect_parse_error(img, len, "before init_size");
        img[0x201] = 0xa0; /* 0x2a2: into edd_mbr_sig_buffer */
        expect_parse_error(img, len, "past the zero page");
        img[0x201] = 0x6a;
        img[0x211] = 0;
        expect_parse_error(img, len, "LOADED_HIGH");
        img[0x211] = 1;
        wr(img + 0x230, 4, 0x300000);
        expect_parse_error(img, len, "power of two");
        wr(img + 0x230, 4, 0);
        expect_parse_error(img, len, "power of two");
        wr(img + 0x230, 4, 0x200000);
        wr(img + 0x260, 4, 0);
        expect_parse_error(img, len, "init_size");
        wr(img + 0x260, 4, INIT_SIZE);
        ck_assert_ptr_null(linux_parse(img, len, &im));
        free(img);
}
END_TEST

START_TEST(old_protocol_and_no_64bit_entry)
{
        struct fake f = fake_default();
        f.version = 0x020a;
        size_t len;
        uint8_t *img = make_image(&f, &len);
        expect_parse_error(img, len, "2.10 is older than 2.12");
        free(img);

        f = fake_default();
        f.version = 0x020b;
        img = make_image(&f, &len);
        expect_parse_error(img, len, "2.11 is older than 2.12");
        free(img);

        f = fake_default();
        f.xloadflags = 0x7e;
        img = make_image(&f, &len);
        expect_parse_error(img, len, "XLF_KERNEL_64");
        free(img);

        /* 2.12 is enough, with the header of its time (ends at 0x268). */
        f = fake_default();
        f.version = 0x020c;
        f.jump_disp = 0x66;
        img = make_image(&f, &len);
        struct linux_image im;
        ck_assert_ptr_null(linux_parse(img, len, &im));
        ck_assert_uint_eq(im.hdr_end, 0x268);
        free(img);
}
END_TEST

START_TEST(rsdp_only_from_protocol_2_14)
{
        struct fake f = fake_default();
        f.version = 0x020d;
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(rd(s->ram + LINUX_BOOT_PARAMS + 0x70, 8), 0);
        setup_free(s);

        f.version = 0x020e;
        s = setup_new(&f, RAM_SIZE, 0);
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(rd(s->ram + LINUX_BOOT_PARAMS + 0x70, 8), RSDP);
        setup_free(s);
}
END_TEST

START_TEST(initrd_placement)
{
        struct fake f = fake_default();
        /* initrd_addr_max below the kernel's end: the initrd goes below the
         * kernel, as high as it can. */
        f.initrd_addr_max = PREF + MiB(4) - 1;
        struct setup *s = setup_new(&f, RAM_SIZE, MiB(3) + 5);
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(s->r.layout.initrd, ALIGN_DOWN(PREF - (MiB(3) + 5), PAGE_SIZE));
        ck_assert_mem_eq(s->ram + s->r.layout.initrd, s->initrd, s->initrd_len);
        setup_free(s);

        /* initrd_addr_max limits the end, not only the start. */
        f = fake_default();
        f.initrd_addr_max = MiB(40) - 1;
        s = setup_new(&f, RAM_SIZE, MiB(2));
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(s->r.layout.initrd, MiB(38));
        setup_free(s);
}
END_TEST

START_TEST(initrd_too_big)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, MiB(41));
        const char *err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "initrd of 42991616 bytes does not fit"));
        /* The last check fails, and still nothing was written. */
        size_t i = 0;
        while (i < s->ram_size && s->ram[i] == 0xcc)
                i++;
        ck_assert_msg(i == s->ram_size, "RAM written at 0x%zx despite the error", i);
        setup_free(s);

        /* Fits in RAM, but not below initrd_addr_max. */
        f.initrd_addr_max = MiB(32) - 1;
        s = setup_new(&f, RAM_SIZE, MiB(16));
        err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "initrd_addr_max 0x1ffffff"));
        f.initrd_addr_max = 0x7fffffff;
        setup_free(s);
        s = setup_new(&f, RAM_SIZE, MiB(16));
        ck_assert_ptr_null(load(s));
        setup_free(s);
}
END_TEST

START_TEST(cmdline_limits)
{
        struct fake f = fake_default();
        f.cmdline_size = 16;
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        s->p.cmdline = "0123456789abcdef"; /* exactly 16 */
        ck_assert_ptr_null(load(s));
        ck_assert_str_eq((const char *)s->ram + LINUX_CMDLINE_ADDR, "0123456789abcdef");
        s->p.cmdline = "0123456789abcdefg";
        const char *err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "command line is 17 bytes"));
        ck_assert_ptr_nonnull(strstr(err, "cmdline_size"));
        s->p.cmdline = NULL;
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(s->ram[LINUX_CMDLINE_ADDR], 0);
        setup_free(s);

        /* A kernel accepting more than the loader's buffer. */
        f.cmdline_size = 0x100000;
        s = setup_new(&f, RAM_SIZE, 0);
        char *big = malloc(LINUX_CMDLINE_MAX + 1);
        memset(big, 'x', LINUX_CMDLINE_MAX);
        big[LINUX_CMDLINE_MAX] = 0;
        s->p.cmdline = big;
        err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "loader's buffer"));
        big[LINUX_CMDLINE_MAX - 1] = 0;
        ck_assert_ptr_null(load(s));
        free(big);
        setup_free(s);
}
END_TEST

START_TEST(ram_too_small)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, MiB(24) - PAGE_SIZE, 0);
        const char *err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "RAM too small"));
        setup_free(s);
        s = setup_new(&f, MiB(24), 0); /* exactly pref_address + init_size */
        ck_assert_ptr_null(load(s));
        setup_free(s);

        s = setup_new(&f, KiB(32), 0);
        s->e820[0].size = KiB(32);
        s->p.e820_count = 1;
        err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "boot data alone"));
        setup_free(s);

        f.relocatable = 0;
        s = setup_new(&f, MiB(20), 0);
        err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "not relocatable"));
        setup_free(s);
}
END_TEST

START_TEST(pref_address_near_top_is_refused)
{
        /* Aligning a pref_address within kernel_alignment of 2^64 up wraps
         * to 0; the kernel must not be placed there, on the boot data. */
        struct fake f = fake_default();
        f.pref_address = UINT64_MAX - KiB(4) + 1;
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        const char *err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "RAM too small"));
        setup_free(s);
}
END_TEST

START_TEST(relocation_around_a_hole)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, MiB(1));
        /* A reserved range over pref_address: a relocatable kernel moves to
         * the next kernel_alignment boundary past it. */
        s->e820[3] = (struct linux_e820){ MiB(1), MiB(16) + KiB(4) - MiB(1), LINUX_E820_RAM };
        s->e820[4] = (struct linux_e820){ MiB(16) + KiB(4), KiB(8), LINUX_E820_RESERVED };
        s->e820[5] =
            (struct linux_e820){ MiB(16) + KiB(12), RAM_SIZE - MiB(16) - KiB(12), LINUX_E820_RAM };
        s->p.e820_count = 6;
        ck_assert_ptr_null(load(s));
        ck_assert_uint_eq(s->r.layout.kernel, MiB(18));
        ck_assert_uint_eq(s->r.vcpu.rip, MiB(18) + 0x200);
        ck_assert_uint_eq(rd(s->ram + LINUX_BOOT_PARAMS + 0x214, 4), MiB(18));
        ck_assert_uint_eq(s->ram[MiB(18) + 0x200], pm_byte(0x200));
        setup_free(s);

        /* Not relocatable: the same hole is fatal. */
        f.relocatable = 0;
        s = setup_new(&f, RAM_SIZE, 0);
        s->e820[3].size = MiB(15);
        const char *err = load(s);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "not relocatable"));
        setup_free(s);
}
END_TEST

START_TEST(bad_e820)
{
        struct fake f = fake_default();
        struct setup *s = setup_new(&f, RAM_SIZE, 0);
        s->p.e820_count = 0;
        ck_assert_ptr_nonnull(strstr(load(s), "e820 map is empty"));
        s->p.e820_count = LINUX_E820_MAX + 1;
        ck_assert_ptr_nonnull(strstr(load(s), "129 entries"));
        s->p.e820_count = 4;
        s->e820[0].type = LINUX_E820_RESERVED;
        ck_assert_ptr_nonnull(strstr(load(s), "does not mark [0x1000,"));
        s->e820[0].type = LINUX_E820_RAM;
        s->e820[2].size = UINT64_MAX;
        ck_assert_ptr_nonnull(strstr(load(s), "wraps"));
        setup_free(s);
}
END_TEST

/* Debian's cloud kernel, fetched outside the repository, e.g.
 *   mkdir -p /var/cache/vtvisor && cd /var/cache/vtvisor &&
 *   apt-get download linux-image-6.1.0-NN-cloud-amd64 && dpkg -x *.deb x &&
 *   cp x/boot/vmlinuz-* . && rm -rf x
 * or named by VTV_LINUX_BZIMAGE.  Absent: the test is skipped. */
static char real_kernel[4096];

static const char *real_kernel_path(void)
{
        const char *env = getenv("VTV_LINUX_BZIMAGE");
        if (env && *env)
                return env;
        glob_t g;
        if (glob("/var/cache/vtvisor/vmlinuz-*", 0, NULL, &g) != 0)
                return NULL;
        /* glob sorts: the last is the newest ABI number. */
        snprintf(real_kernel, sizeof(real_kernel), "%s", g.gl_pathv[g.gl_pathc - 1]);
        globfree(&g);
        return real_kernel;
}

static uint8_t *read_file(const char *path, size_t *len)
{
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return NULL;
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
        if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
                free(buf);
                buf = NULL;
        }
        fclose(fp);
        *len = (size_t)n;
        return buf;
}

START_TEST(real_debian_kernel)
{
        const char *path = real_kernel_path();
        size_t len;
        uint8_t *img = read_file(path, &len);
        ck_assert_msg(img != NULL, "cannot read %s", path);

        struct linux_image im;
        const char *err = linux_parse(img, len, &im);
        ck_assert_msg(err == NULL, "%s: %s", path, err);
        printf("real kernel %s: %zu bytes, protocol %u.%02u, xloadflags 0x%x, loadflags 0x%x, "
               "setup_sects %u, init_size 0x%x, pref_address 0x%llx, kernel_alignment 0x%x, "
               "relocatable %u, cmdline_size %u, initrd_addr_max 0x%x\n",
               path, len, im.version >> 8, im.version & 0xff, im.xloadflags, im.loadflags,
               im.setup_sects, im.init_size, (unsigned long long)im.pref_address,
               im.kernel_alignment, im.relocatable, im.cmdline_size, im.initrd_addr_max);
        ck_assert_uint_ge(im.version, 0x020c);
        ck_assert(im.xloadflags & LINUX_XLF_KERNEL_64);
        ck_assert_uint_ge(im.init_size, im.pm_size);

        uint64_t ram_size = ALIGN_UP(im.pref_address + im.init_size, MiB(2)) + MiB(8);
        uint8_t *ram = calloc(1, ram_size);
        ck_assert_ptr_nonnull(ram);
        uint8_t initrd[4096] = { 1, 2, 3 };
        struct linux_e820 e820[4];
        struct linux_load_params p = {
                .kernel = img,
                .kernel_len = len,
                .initrd = initrd,
                .initrd_len = sizeof(initrd),
                .cmdline = "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1",
                .mem = { ram, ram_size },
                .rsdp = RSDP,
                .e820 = e820,
                .e820_count = pc_e820(e820, ram_size),
        };
        struct linux_load_result *r = malloc(sizeof(*r));
        err = linux_load(&p, r);
        ck_assert_msg(err == NULL, "%s", err);
        ck_assert_uint_eq(r->layout.kernel, im.pref_address);
        ck_assert_uint_eq(r->vcpu.rip, im.pref_address + 0x200);
        /* arch/x86/boot/compressed/head_64.S: startup_64 begins cld; cli. */
        ck_assert_uint_eq(ram[r->vcpu.rip], 0xfc);
        ck_assert_uint_eq(ram[r->vcpu.rip + 1], 0xfa);
        ck_assert_uint_eq(r->layout.initrd, ram_size - sizeof(initrd));
        ck_assert_uint_eq(ram[LINUX_BOOT_PARAMS + 0x1ef], 0); /* the image has 0xff there */
        free(r);
        free(ram);
        free(img);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("loader_linux");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, good_image_layout);
        tcase_add_test(tc, good_image_boot_params);
        tcase_add_test(tc, good_image_vcpu_state);
        tcase_add_test(tc, gdt_matches_state);
        tcase_add_test(tc, page_tables_identity);
        tcase_add_test(tc, page_tables_large_ram);
        tcase_add_test(tc, ram_too_large_for_page_tables);
        tcase_add_test(tc, setup_sects_zero_means_four);
        tcase_add_test(tc, truncated_images);
        tcase_add_test(tc, malformed_headers);
        tcase_add_test(tc, old_protocol_and_no_64bit_entry);
        tcase_add_test(tc, rsdp_only_from_protocol_2_14);
        tcase_add_test(tc, initrd_placement);
        tcase_add_test(tc, initrd_too_big);
        tcase_add_test(tc, cmdline_limits);
        tcase_add_test(tc, ram_too_small);
        tcase_add_test(tc, relocation_around_a_hole);
        tcase_add_test(tc, pref_address_near_top_is_refused);
        tcase_add_test(tc, bad_e820);
        const char *path = real_kernel_path();
        FILE *fp = path ? fopen(path, "rb") : NULL;
        if (fp) {
                fclose(fp);
                tcase_add_test(tc, real_debian_kernel);
        } else {
                printf("SKIP real_debian_kernel: no bzImage at /var/cache/vtvisor/vmlinuz-* "
                       "or $VTV_LINUX_BZIMAGE (see tests/unit/test_loader_linux.c)\n");
        }
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
