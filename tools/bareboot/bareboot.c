/* bareboot: the benchmark's baseline.  A multiboot kernel that loads the
 * same Linux bzImage, initrd and command line with vtvisor's own loader
 * (loaders/loader_linux.c) and jumps to it natively, without VMX, after
 * printing the TSC.  tools/bench.py compares the instructions from there to
 * /init with the same count under vtvisor.
 *
 * Boot modules: the bzImage (its module line is the kernel command line)
 * and, optionally, the initrd.  Linux then sees the machine (Bochs) as it
 * is: the BIOS's e820 map and ACPI tables (found by the usual scan). */
#include "arch/x86/cpu.h"
#include "arch/x86/serial.h"
#include "boot/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "loaders/loader_linux.h"

void kmain(uint32_t magic, uint32_t info);
void bareboot_enter(uint64_t cr3, const void *gdtr, uint64_t rip, uint64_t rsi); /* enter.S */

static struct bootinfo bi;
static struct linux_load_result result;
static struct linux_e820 e820[BOOTINFO_MAX_REGIONS + BOOTINFO_MAX_MODULES + 2];

extern char __image_start[], __image_end[];

static void sink(void *ctx, char c)
{
        UNUSED(ctx);
        serial_putc(c);
}

static void say(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vtv_vformat(sink, NULL, fmt, ap);
        va_end(ap);
}

static __attribute__((noreturn)) void fail(const char *why)
{
        say("bareboot: %s\n", why);
        serial_flush();
        cpu_halt_forever();
}

static const void *map(void *ctx, uint64_t pa, size_t len)
{
        UNUSED(ctx);
        if (pa == 0 || pa >= GiB(4) || len > GiB(4) - pa)
                return NULL;
        return hpa_to_hva(pa);
}

/* The loader must not place anything over this program or the modules it
 * is still copying from: give it those as reserved. */
static size_t build_e820(void)
{
        size_t n = 0;
        for (size_t i = 0; i < bi.nregions; i++)
                e820[n++] = (struct linux_e820){ bi.regions[i].base, bi.regions[i].len,
                                                 bi.regions[i].type };
        uint64_t img = (uint64_t)(uintptr_t)__image_start;
        e820[n++] =
            (struct linux_e820){ img, (uint64_t)(uintptr_t)__image_end - img, LINUX_E820_RESERVED };
        for (size_t i = 0; i < bi.nmodules; i++)
                e820[n++] = (struct linux_e820){ bi.modules[i].start,
                                                 ALIGN_UP(bi.modules[i].end, PAGE_SIZE) -
                                                     bi.modules[i].start,
                                                 LINUX_E820_RESERVED };
        return n;
}

/* The usable map ends at the highest usable byte the boot loader reported
 * below 4 GiB (the boot page tables map no further). */
static uint64_t ram_top(void)
{
        uint64_t top = 0;
        for (size_t i = 0; i < bi.nregions; i++) {
                uint64_t end = bi.regions[i].base + bi.regions[i].len;
                if (bi.regions[i].type == MEM_USABLE && end > top && end <= GiB(4))
                        top = end;
        }
        return top;
}

void kmain(uint32_t magic, uint32_t info)
{
        serial_init();
        const char *err = bootinfo_parse(&bi, magic, info, map, NULL);
        if (err)
                fail(err);
        if (bi.nmodules < 1)
                fail("no kernel module");
        const struct boot_module *k = &bi.modules[0];
        const struct boot_module *rd = bi.nmodules > 1 ? &bi.modules[1] : NULL;

        struct linux_load_params p = {
                .kernel = hpa_to_hva(k->start),
                .kernel_len = k->end - k->start,
                .initrd = rd ? hpa_to_hva(rd->start) : NULL,
                .initrd_len = rd ? rd->end - rd->start : 0,
                .cmdline = k->cmdline,
                .mem = { hpa_to_hva(0), ram_top() },
                .rsdp = 0,
                .e820 = e820,
                .e820_count = build_e820(),
        };
        err = linux_load(&p, &result);
        if (err)
                fail(err);

        static struct desc_ptr gdtr;
        gdtr.base = result.vcpu.gdtr_base;
        gdtr.limit = (uint16_t)result.vcpu.gdtr_limit;
        say("bareboot: entering Linux at 0x%llx, TSC %llu\n", (unsigned long long)result.vcpu.rip,
            (unsigned long long)rdtsc());
        serial_flush();
        bareboot_enter(result.vcpu.cr3, &gdtr, result.vcpu.rip, result.vcpu.gpr[RSI]);
}
