/* vtvisor's C entry: bring up the host, enter VMX, build the VMs from the
 * boot modules and run them. */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/fpu.h"
#include "arch/x86/mm.h"
#include "arch/x86/serial.h"
#include "arch/x86/tsc.h"
#include "boot/bootinfo.h"
#include "core/clock.h"
#include "core/console.h"
#include "lib/log.h"
#include "core/vm.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmx/vmx.h"

void kmain(uint32_t magic, uint32_t info);

static struct bootinfo bootinfo;
static struct vm_source sources[BOOTINFO_MAX_MODULES];

/* The boot tables map the first 4 GiB 1:1; boot information lies there. */
static const void *boot_map(void *ctx, uint64_t pa, size_t len)
{
        UNUSED(ctx);
        if (pa == 0 || pa >= GiB(4) || len > GiB(4) - pa)
                return NULL;
        return hpa_to_hva(pa);
}

static void mask_legacy_pics(void)
{
        /* The BIOS leaves the PIT ticking through the 8259s; vtvisor takes no
         * host interrupts yet, so mask both controllers. */
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
}

/* "selftest=write-text" and "selftest=exec-data" on vtvisor's own command
 * line prove the host page tables are W^X: each must end in a page fault
 * that the test suite looks for.  Returning means the protection is
 * missing. */
/* Whether word is one of the command line's space-separated words (GRUB
 * passes only the arguments, QEMU the kernel's file name first). */
static bool cmdline_has(const char *cmdline, const char *word)
{
        size_t n = vtv_strlen(word);
        for (const char *p = cmdline; *p;) {
                while (*p == ' ')
                        p++;
                const char *start = p;
                while (*p && *p != ' ')
                        p++;
                if ((size_t)(p - start) == n && !vtv_strncmp(start, word, n))
                        return true;
        }
        return false;
}

static void wx_selftest(const char *cmdline)
{
        static uint8_t data_byte = 0xc3; /* ret */
        if (cmdline_has(cmdline, "selftest=write-text")) {
                log_line("selftest: writing to hypervisor text at %p", (void *)wx_selftest);
                *(volatile uint8_t *)(uintptr_t)wx_selftest = 0xcc;
                refuse("selftest: the write to text succeeded: text is writable");
        }
        if (cmdline_has(cmdline, "selftest=exec-data")) {
                log_line("selftest: executing hypervisor data at %p", (void *)&data_byte);
                ((void (*)(void))(uintptr_t)&data_byte)();
                refuse("selftest: executing data succeeded: data is executable");
        }
}

void kmain(uint32_t magic, uint32_t info)
{
        console_init();
        log_line("starting (vtvisor 0.1, Intel VT-x hypervisor)");
        desc_init();

        const char *err = bootinfo_parse(&bootinfo, magic, info, boot_map, NULL);
        if (err)
                refuse("%s; boot vtvisor.elf with GRUB (multiboot2 or multiboot) or QEMU -kernel",
                       err);
        log_line("booted by multiboot%s, command line '%s', %zu module(s)",
                 bootinfo.protocol == 2 ? "2" : " v1", bootinfo.cmdline, bootinfo.nmodules);
        if (bootinfo.truncated)
                log_line("warning: more memory regions or modules than vtvisor can hold; "
                         "the rest are ignored");

        mask_legacy_pics();
        mm_init(&bootinfo);
        paging_init(&bootinfo);
        wx_selftest(bootinfo.cmdline);
        fpu_init();
        tsc_init();
        clock_init();
        vmx_init();

        if (bootinfo.nmodules == 0)
                refuse("no guest was given: add one boot module per VM (GRUB: 'module2 /guest.elf "
                       "name=NAME ram=16M'; QEMU: -initrd 'guest.elf name=NAME')");

        size_t created = 0;
        for (size_t i = 0; i < bootinfo.nmodules; i++) {
                struct vm_source *src = &sources[i];
                const struct boot_module *m = &bootinfo.modules[i];
                char defname[VM_NAME_MAX], why[160];
                vtv_snprintf(defname, sizeof(defname), "vm%zu", i);
                src->id = (int)i;
                src->image = hpa_to_hva(m->start);
                src->len = m->end - m->start;
                if (config_parse(&src->cfg, m->cmdline, defname, why, sizeof(why))) {
                        log_line("module %zu ('%s'): refused: %s", i, m->cmdline, why);
                        src->id = -1;
                }
        }
        /* Initrd modules belong to the VM they name, wherever they stand. */
        for (size_t i = 0; i < bootinfo.nmodules; i++) {
                struct vm_source *rd = &sources[i];
                if (rd->id < 0 || !rd->cfg.initrd_for[0])
                        continue;
                struct vm_source *owner = NULL;
                for (size_t j = 0; j < bootinfo.nmodules; j++) {
                        if (sources[j].id >= 0 && !sources[j].cfg.initrd_for[0] &&
                            !vtv_strcmp(sources[j].cfg.name, rd->cfg.initrd_for))
                                owner = &sources[j];
                }
                if (!owner)
                        log_line("module %zu: refused: initrd-for=%s names no VM", i,
                                 rd->cfg.initrd_for);
                else if (owner->initrd)
                        log_line("module %zu: refused: VM %s already has an initrd", i,
                                 rd->cfg.initrd_for);
                else {
                        owner->initrd = rd->image;
                        owner->initrd_len = rd->len;
                }
        }
        for (size_t i = 0; i < bootinfo.nmodules; i++) {
                if (sources[i].id >= 0 && !sources[i].cfg.initrd_for[0] && vm_create(&sources[i]))
                        created++;
        }
        if (created == 0)
                refuse("none of the %zu module(s) could be made into a VM (see the messages above)",
                       bootinfo.nmodules);

        vm_run_all();
        log_line("all VMs stopped");
        hv_halt();
}
