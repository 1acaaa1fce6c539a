/* vtvisor's C entry: bring up the host, enter VMX, build the VMs from the
 * boot modules and run them. */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/fpu.h"
#include "arch/x86/hapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/mm.h"
#include "arch/x86/serial.h"
#include "arch/x86/tsc.h"
#include "boot/bootinfo.h"
#include "boot/fw_acpi.h"
#include "config/placement.h"
#include "config/vmconfig.h"
#include "core/sched.h"
#include "core/clock.h"
#include "core/console.h"
#include "core/monitor.h"
#include "lib/log.h"
#include "core/vm.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmx/vmx.h"

void kmain(uint32_t magic, uint32_t info);

static struct bootinfo bootinfo;
static struct vm_source sources[BOOTINFO_MAX_MODULES];
static size_t nsources;
/* CPUs VMs may be placed on: every CPU up, or the file's maxcpus. */
static unsigned vm_ncpus;

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
 * missing.  "selftest=panic" shows the panic path: CPU, place, backtrace;
 * "selftest=stack-smash" that a stack overflow is caught by the canary. */
/* Writes n bytes into an 8-byte stack buffer: with n > 8 the canary below
 * the return address is overwritten ("selftest=stack-smash"). */
static __attribute__((noinline)) void smash_stack(size_t n)
{
        volatile char buf[8];
        volatile size_t len = n;
        for (size_t i = 0; i < len; i++)
                buf[i] = 0x41;
        log_line("selftest: wrote %zu bytes into an 8-byte buffer (first 0x%x)", n,
                 (unsigned)buf[0]);
}

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
        if (cmdline_has(cmdline, "selftest=panic"))
                panic("selftest: a deliberate panic");
        if (cmdline_has(cmdline, "selftest=stack-smash")) {
                smash_stack(64);
                refuse("selftest: a stack buffer overflow went unnoticed: no stack canaries");
        }
        if (cmdline_has(cmdline, "selftest=exec-data")) {
                log_line("selftest: executing hypervisor data at %p", (void *)&data_byte);
                ((void (*)(void))(uintptr_t)&data_byte)();
                refuse("selftest: executing data succeeded: data is executable");
        }
}

/* The other CPUs wait for the VMs to be built, then run their vCPUs. */
static volatile bool cpus_go;
static unsigned cpus_done;

static void cpu_main(struct pcpu *p)
{
        fpu_init();
        const char *why = vmx_init_ap();
        if (why)
                smp_ap_failed(p, why);
        log_line("cpu %u up (APIC ID %u)", p->id, p->apic_id);
        smp_ap_ready(p);
        while (!__atomic_load_n(&cpus_go, __ATOMIC_ACQUIRE))
                cpu_pause();
        sched_run();
        __atomic_fetch_add(&cpus_done, 1, __ATOMIC_RELEASE);
        cpu_halt_forever();
}

/* "maxcpus=N" among vtvisor's own command-line words, or 0. */
static unsigned cmdline_maxcpus(const char *cmdline)
{
        for (const char *p = cmdline; *p; p++) {
                if ((p == cmdline || p[-1] == ' ') && !vtv_strncmp(p, "maxcpus=", 8)) {
                        unsigned n = 0;
                        for (p += 8; *p >= '0' && *p <= '9' && n < 1000; p++)
                                n = n * 10 + (unsigned)(*p - '0');
                        return n;
                }
        }
        return 0;
}

static struct fw_madt madt;
static const char *madt_err = "not read";

/* The firmware's tables are read only where the memory map says there is
 * memory (or in the first MiB: BIOS data, EBDA, BIOS ROM), never from a
 * device's registers, whatever lengths the tables claim. */
static const void *fw_map(void *ctx, uint64_t pa, size_t len)
{
        if (pa + len <= MiB(1))
                return boot_map(ctx, pa, len);
        for (size_t i = 0; i < bootinfo.nregions; i++) {
                const struct mem_region *r = &bootinfo.regions[i];
                if (range_within(pa, len, r->base, r->len))
                        return boot_map(ctx, pa, len);
        }
        return NULL;
}

/* The machine's CPUs from the firmware's ACPI MADT: the RSDP from the
 * multiboot2 tag, else found in the BIOS areas.  Runs on the boot page
 * tables, which map the first 4 GiB whole (the host's leave page 0, where
 * the EBDA pointer is, unmapped). */
static void read_firmware_cpus(void)
{
        uint64_t root = 0;
        bool xsdt = false;
        const char *err;
        if (bootinfo.rsdp_len) {
                err = fw_acpi_rsdp_root(bootinfo.rsdp, bootinfo.rsdp_len, &root, &xsdt);
        } else {
                uint64_t rsdp_pa;
                err = fw_acpi_find_rsdp(fw_map, NULL, &rsdp_pa);
                const uint8_t *rsdp = err ? NULL : fw_map(NULL, rsdp_pa, FW_RSDP_V1_LEN);
                if (rsdp) {
                        const uint8_t *full = fw_map(NULL, rsdp_pa, FW_RSDP_V2_LEN);
                        err = fw_acpi_rsdp_root(rsdp, full ? FW_RSDP_V2_LEN : FW_RSDP_V1_LEN, &root,
                                                &xsdt);
                }
        }
        if (!err)
                err = fw_acpi_parse_madt(fw_map, NULL, root, xsdt, &madt);
        madt_err = err;
}

static void start_other_cpus(void)
{
        if (madt_err) {
                log_line("no CPU list from the firmware (%s): running on the boot CPU only",
                         madt_err);
                return;
        }
        unsigned max = cmdline_maxcpus(bootinfo.cmdline);
        uint32_t ids[FW_MAX_CPUS];
        size_t n = 0;
        for (size_t i = 0; i < madt.ncpus; i++) {
                if (madt.cpus[i].enabled)
                        ids[n++] = madt.cpus[i].apic_id;
        }
        log_line("firmware lists %zu CPU(s)%s%s", n,
                 madt.truncated ? " (more than vtvisor keeps)" : "",
                 max ? "; maxcpus= limits how many are used" : "");
        smp_start_cpus(ids, n, max ? max : MAX_CPUS, cpu_main);
        log_line("%u CPU(s) in VMX root operation", ncpus_online);
}

/* A module that belongs to another VM rather than being one. */
static bool module_of_vm(const struct vm_config *c)
{
        return c->initrd_for[0] || c->disk_for[0] || c->module_for[0];
}

/* Places every VM's vCPUs on the CPUs (config/placement.c) and builds the
 * VMs that could be placed.  Returns how many were built. */
static size_t create_vms(void)
{
        static struct placement plan;
        struct placement_vm want[BOOTINFO_MAX_MODULES] = { 0 };
        struct vm_source *vms[BOOTINFO_MAX_MODULES];
        unsigned n = 0;
        for (size_t i = 0; i < nsources; i++) {
                if (sources[i].id < 0 || module_of_vm(&sources[i].cfg))
                        continue;
                vms[n] = &sources[i];
                want[n++] = (struct placement_vm){ sources[i].cfg.name, sources[i].cfg.vcpus,
                                                   sources[i].cfg.cpu_mask };
        }
        placement_plan(&plan, want, n, vm_ncpus);
        size_t created = 0;
        for (unsigned i = 0; i < n; i++) {
                if (plan.error[i]) {
                        log_line("vm %s: refused: %s", vms[i]->cfg.name, plan.error[i]);
                        continue;
                }
                unsigned cpu_of[MAX_VCPUS];
                for (unsigned j = 0; j < want[i].vcpus; j++)
                        cpu_of[j] = plan.cpu_of[i][j];
                struct vm *vm = vm_create(vms[i], cpu_of);
                if (!vm)
                        continue;
                for (unsigned j = 0; j < vm->nvcpus; j++) {
                        if (!sched_add(vm, j, cpu_of[j]))
                                panic("run queue of CPU %u full", cpu_of[j]);
                }
                vm->placed = true;
                created++;
        }
        return created;
}

/* The module-line shorthand: each module's words configure its VM
 * (config/config.c); initrd-for= modules attach to the VM they name. */
static void sources_from_module_lines(void)
{
        nsources = bootinfo.nmodules;
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
        /* Initrd, disk and boot modules belong to the VM they name,
         * wherever they stand. */
        for (size_t i = 0; i < bootinfo.nmodules; i++) {
                struct vm_source *rd = &sources[i];
                bool disk = rd->cfg.disk_for[0], bootmod = rd->cfg.module_for[0];
                const char *name = disk      ? rd->cfg.disk_for
                                   : bootmod ? rd->cfg.module_for
                                             : rd->cfg.initrd_for;
                const char *key = disk ? "disk-for" : bootmod ? "module-for" : "initrd-for";
                if (rd->id < 0 || !name[0])
                        continue;
                struct vm_source *owner = NULL;
                for (size_t j = 0; j < bootinfo.nmodules; j++) {
                        if (sources[j].id >= 0 && !module_of_vm(&sources[j].cfg) &&
                            !vtv_strcmp(sources[j].cfg.name, name))
                                owner = &sources[j];
                }
                if (!owner)
                        log_line("module %zu: refused: %s=%s names no VM", i, key, name);
                else if (bootmod && owner->nmods == VM_MODULES_MAX)
                        log_line("module %zu: refused: VM %s already has %d boot modules", i, name,
                                 VM_MODULES_MAX);
                else if (bootmod)
                        owner->mods[owner->nmods++] =
                            (struct mb_module){ rd->image, rd->len, rd->cfg.cmdline };
                else if (disk && owner->disk.image)
                        log_line("module %zu: refused: VM %s already has a disk", i, name);
                else if (!disk && owner->initrd)
                        log_line("module %zu: refused: VM %s already has an initrd", i, name);
                else if (disk) {
                        owner->disk = (struct vdev_disk){ rd->image, rd->len, (int)i };
                        owner->cfg.disk_readonly = rd->cfg.disk_readonly;
                } else {
                        owner->initrd = rd->image;
                        owner->initrd_len = rd->len;
                }
        }
}

/* The configuration file: the first module whose name ends in ".toml". */
static int find_config_module(void)
{
        for (size_t i = 0; i < bootinfo.nmodules; i++) {
                size_t len;
                const char *name = vmconfig_module_name(bootinfo.modules[i].cmdline, &len);
                if (len > 5 && !vtv_strncmp(name + len - 5, ".toml", 5))
                        return (int)i;
        }
        return -1;
}

static struct toml_node conf_nodes[VMCONFIG_NODES];
static char conf_pool[VMCONFIG_POOL];
static struct vmconfig conf;

static void config_message(void *ctx, const char *line)
{
        UNUSED(ctx);
        log_line("%s", line);
}

/* The VMs of configuration file cm (config/vmconfig.c): its messages are
 * those of tools/vtvisor-check; a VM with an error is refused, the
 * others are kept. */
static void sources_from_config(size_t cm)
{
        const struct boot_module *m = &bootinfo.modules[cm];
        const char *mods[BOOTINFO_MAX_MODULES];
        for (size_t i = 0; i < bootinfo.nmodules; i++)
                mods[i] = bootinfo.modules[i].cmdline;
        size_t len;
        const char *name = vmconfig_module_name(m->cmdline, &len);
        char file[64];
        vtv_snprintf(file, sizeof(file), "%.*s", (int)len, name);
        log_line("configuration file %s (module %zu) describes the VMs; the other modules' "
                 "command lines only name them",
                 file, cm);
        struct vmconfig_machine mach = { mods, bootinfo.nmodules, ncpus_online, mm_free_bytes() };
        struct toml_doc doc;
        toml_init(&doc, conf_nodes, VMCONFIG_NODES, conf_pool, VMCONFIG_POOL);
        vmconfig_load(&conf, &doc, file, hpa_to_hva(m->start), m->end - m->start, &mach,
                      config_message, NULL);
        if (conf.maxcpus && conf.maxcpus < ncpus_online) {
                vm_ncpus = conf.maxcpus;
                log_line("%s: maxcpus = %u: VMs use CPUs 0-%u only", file, conf.maxcpus,
                         conf.maxcpus - 1);
        }
        nsources = conf.nvms;
        for (unsigned i = 0; i < conf.nvms; i++) {
                struct vm_source *src = &sources[i];
                const struct vm_config *c = &conf.vms[i];
                const struct boot_module *k = &bootinfo.modules[c->kernel_module];
                src->id = c->kernel_module;
                src->cfg = *c;
                src->image = hpa_to_hva(k->start);
                src->len = k->end - k->start;
                if (c->initrd_module >= 0) {
                        const struct boot_module *r = &bootinfo.modules[c->initrd_module];
                        src->initrd = hpa_to_hva(r->start);
                        src->initrd_len = r->end - r->start;
                }
                if (c->disk_module >= 0) {
                        const struct boot_module *r = &bootinfo.modules[c->disk_module];
                        src->disk = (struct vdev_disk){ hpa_to_hva(r->start), r->end - r->start,
                                                        c->disk_module };
                }
                /* Each boot module's command line for the guest is what follows
                 * "--" on its module line, as with module-for=. */
                src->nmods = c->nmodules;
                for (unsigned j = 0; j < c->nmodules; j++) {
                        const struct boot_module *bm = &bootinfo.modules[c->module_index[j]];
                        src->mods[j] =
                            (struct mb_module){ hpa_to_hva(bm->start), bm->end - bm->start,
                                                config_module_args(bm->cmdline) };
                }
        }
}

void kmain(uint32_t magic, uint32_t info)
{
        uint64_t entry_tsc = rdtsc();
        log_init_canary(entry_tsc);
        console_init();
        /* The TSC lets make bench time the way to each VM's first entry. */
        log_line("starting (vtvisor 0.1, Intel VT-x hypervisor) at TSC %llu",
                 (unsigned long long)entry_tsc);
        percpu_enter(&pcpus[0]);

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
        read_firmware_cpus();
        mm_init(&bootinfo);
        paging_init(&bootinfo);
        wx_selftest(bootinfo.cmdline);
        fpu_init();
        tsc_init();
        clock_init();
        vmx_init();

        hapic_init_cpu();
        pcpus[0].apic_id = hapic_id();
        pcpus[0].online = true;
        log_line("cpu 0 up (APIC ID %u, %s)", pcpus[0].apic_id,
                 hapic_x2apic() ? "x2APIC" : "xAPIC");
        start_other_cpus();

        if (bootinfo.nmodules == 0)
                refuse("no guest was given: add one boot module per VM (GRUB: 'module2 /guest.elf "
                       "name=NAME ram=16M'; QEMU: -initrd 'guest.elf name=NAME')");

        vm_ncpus = ncpus_online;
        int cm = find_config_module();
        const char *console = NULL;
        if (cm >= 0) {
                sources_from_config((size_t)cm);
                console = conf.console[0] ? conf.console : NULL;
        } else {
                sources_from_module_lines();
        }
        size_t created = create_vms();
        if (created == 0)
                refuse("none of the %zu module(s) could be made into a VM (see the messages above)",
                       bootinfo.nmodules);
        monitor_init(console);

        __atomic_store_n(&cpus_go, true, __ATOMIC_RELEASE);
        sched_run();
        /* The other CPUs finish their own vCPUs. */
        while (__atomic_load_n(&cpus_done, __ATOMIC_ACQUIRE) + 1 < ncpus_online)
                cpu_pause();
        log_line("all VMs stopped");
        hv_halt();
}
