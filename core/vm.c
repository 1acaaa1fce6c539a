#include "core/vm.h"
#include "core/vapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/mm.h"
#include "arch/x86/smp.h"
#include "arch/x86/serial.h"
#include "arch/x86/tsc.h"
#include "core/console.h"
#include "core/irq.h"
#include "core/iobus.h"
#include "core/monitor.h"
#include "lib/log.h"
#include "core/msr.h"
#include "core/vcpu.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "devices/acpi.h"
#include "loaders/loader_flat.h"
#include "loaders/loader_linux.h"
#include "loaders/loader_multiboot.h"
#include "loaders/loader_multiboot2.h"
#include "vmx/vmcs.h"

static struct vm vms[MAX_VMS];
static size_t nvms;

void *vm_gpa_ptr(struct vm *vm, gpa_t gpa, uint64_t len)
{
        return guest_mem_ptr(&vm->mem, gpa, len);
}

static void console_line(void *ctx, const char *line, size_t len, bool complete)
{
        struct vm *vm = ctx;
        console_guest(&vm->console, vm->cfg.name, line, len, complete);
}

/* Every vCPU of the VM leaves guest mode soon: each then lets go of this
 * build (sched.c).  vm->lock held. */
static void kick_vcpus(struct vm *vm)
{
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                __atomic_store_n(&vm->vcpus[i].irq_dirty, true, __ATOMIC_RELAXED);
                smp_kick(vm->vcpus[i].cpu);
        }
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
        if (vm->stopped)
                return;
        vm->stopped = true;
        vm->run = VM_STOPPING;
        vuart_flush(&vm->uart);
        char reason[STOP_REASON_MAX];
        va_list ap;
        va_start(ap, fmt);
        vtv_vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        log_line("vm %s: stopped: %s", vm->cfg.name, reason);
        kick_vcpus(vm);
}

/* Gives back everything the VM held.  Its VMCS must not be current. */
static void vm_release(struct vm *vm)
{
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                vcpu_destroy(&vm->vcpus[i]);
                /* Drop this CPU's TLB entries of the guest before its VPID
                 * or memory is reused; the CPUs that ran it flush when
                 * they next run a vCPU with that VPID (needs_flush). */
                invvpid(INVVPID_SINGLE_CONTEXT, vm->vcpus[i].vpid);
        }
        vdev_release(vm);
        ept_destroy(&vm->ept);
        vapic_release_vm(vm);
        if (vm->ram_hpa)
                mm_free_pages(vm->ram_hpa, vm->cfg.ram_size / PAGE_SIZE);
        mm_free_pages(vm->msr_bitmap, 1);
        mm_free_pages(vm->io_bitmap_a, 2);
        vm->ram_hpa = vm->msr_bitmap = vm->io_bitmap_a = vm->io_bitmap_b = 0;
}

/* Where every guest finds its ACPI tables: the BIOS area, which the e820
 * and multiboot memory maps report reserved (ACPI 6.4 5.2.5.1: the RSDP
 * is found by scanning 0xE0000-0xFFFFF). */
#define ACPI_BASE     0xe0000ULL
#define LINUX_LOW_RAM 0x9f000ULL
/* PCI MMIO window the DSDT declares, between RAM and the I/O APIC. */
#define PCI_MMIO_BASE 0xc0000000u
#define PCI_MMIO_SIZE (0xfec00000u - PCI_MMIO_BASE)
/* The PCI Express configuration window (ECAM, bus 0 only) below the PCI
 * MMIO window; the guest's e820 map reserves it. */
#define PCI_ECAM_BASE 0xb0000000u
#define PCI_ECAM_SIZE PCI_ECAM_BUS_SIZE

/* The platform every guest type gets (docs/platform.md): ACPI tables in
 * the BIOS area (RSDP, XSDT, FADT with the PM timer and reset register,
 * MADT, MCFG, DSDT) and the PCI windows, when its RAM covers the BIOS area
 * and ends below the PCI windows.  Sets vm->rsdp (0: none). */
static const char *build_platform(struct vm *vm)
{
        vm->rsdp = 0;
        if (vm->cfg.ram_size < MiB(1) || vm->cfg.ram_size > PCI_ECAM_BASE)
                return NULL;
        static struct acpi_layout acpi;
        struct acpi_config ac = {
                .base = ACPI_BASE,
                .ncpus = vm->nvcpus,
                .ioapic_id = 0,
                .pm_timer = true,
                .reset_reg = true,
                .pci = true,
                .pci_mmio_base = PCI_MMIO_BASE,
                .pci_mmio_size = PCI_MMIO_SIZE,
                .mcfg_base = PCI_ECAM_BASE,
                .mcfg_end_bus = 0,
                .com1 = true,
        };
        void *buf = vm_gpa_ptr(vm, ACPI_BASE, ACPI_MAX_SIZE);
        const char *err = acpi_build(&ac, buf, ACPI_MAX_SIZE, &acpi);
        if (err)
                return err;
        irq_add_ecam(vm, PCI_ECAM_BASE, PCI_ECAM_SIZE);
        vm->rsdp = acpi.rsdp;
        return NULL;
}

static struct linux_load_result linux_result; /* large; VMs are built one at a time */

static const char *load_linux(struct vm *vm, struct guest_state *state)
{
        const struct vm_source *src = vm->src;
        if (!vm->rsdp)
                return "a Linux guest's RAM must end below 2.75 GiB, where its PCI windows "
                       "start (lower ram=)";
        const struct linux_e820 e820[] = {
                { 0, LINUX_LOW_RAM, LINUX_E820_RAM },
                { LINUX_LOW_RAM, MiB(1) - LINUX_LOW_RAM, LINUX_E820_RESERVED },
                { MiB(1), vm->cfg.ram_size - MiB(1), LINUX_E820_RAM },
        };
        struct linux_load_params p = {
                .kernel = src->image,
                .kernel_len = src->len,
                .initrd = src->initrd,
                .initrd_len = src->initrd_len,
                .cmdline = vm->cfg.cmdline,
                .mem = vm->mem,
                .rsdp = vm->rsdp,
                .e820 = e820,
                .e820_count = ARRAY_SIZE(e820),
        };
        const char *err = linux_load(&p, &linux_result);
        if (err)
                return err;
        *state = linux_result.vcpu;
        log_line("vm %s: Linux boot protocol %u.%02u, kernel at 0x%llx, initrd %llu KiB at "
                 "0x%llx, ACPI RSDP at 0x%llx",
                 vm->cfg.name, linux_result.image.version >> 8, linux_result.image.version & 0xff,
                 (unsigned long long)linux_result.layout.kernel,
                 (unsigned long long)(linux_result.layout.initrd_size >> 10),
                 (unsigned long long)linux_result.layout.initrd, (unsigned long long)vm->rsdp);
        return NULL;
}

static bool is_bzimage(const uint8_t *image, size_t len)
{
        /* "HdrS" at 0x202: the boot protocol's setup header (boot.rst). */
        return len > 0x206 && image[0x202] == 'H' && image[0x203] == 'd' && image[0x204] == 'r' &&
               image[0x205] == 'S';
}

/* A Linux bzImage, a multiboot or multiboot2 kernel, or a boot sector
 * (0x55 0xAA at offset 510); anything else is GUEST_AUTO: not recognisably
 * a guest.  A kernel with both multiboot headers (vtvisor.elf itself has)
 * boots as multiboot v1, the older and simpler hand-over, unless
 * type=multiboot2 asks for the other (docs/platform.md). */
static enum guest_type detect_type(const uint8_t *image, size_t len)
{
        if (is_bzimage(image, len))
                return GUEST_LINUX;
        if (loader_multiboot_detect(image, len))
                return GUEST_MULTIBOOT;
        if (loader_multiboot2_detect(image, len))
                return GUEST_MULTIBOOT2;
        if (len >= 512 && image[510] == 0x55 && image[511] == 0xaa)
                return GUEST_FLAT;
        return GUEST_AUTO;
}

static const char *unrecognised(const uint8_t *image, size_t len)
{
        if (len >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F')
                return "not recognisably a guest: an ELF file without a multiboot header (v1 in "
                       "its first 8 KiB, multiboot2 in its first 32 KiB; vtvisor boots multiboot "
                       "and multiboot2 kernels, Linux bzImages and flat real-mode images)";
        return "not recognisably a guest: no multiboot header, no Linux boot header and no "
               "boot-sector signature (0x55 0xAA at offset 510); give type=flat (type = \"flat\" "
               "in a configuration file) to run it as real-mode code at 0x7C00";
}

static const char *load_guest(struct vm *vm, struct guest_state *state)
{
        const uint8_t *image = vm->src->image;
        size_t len = vm->src->len;
        if (vm->src->initrd && vm->cfg.type != GUEST_LINUX)
                return "an initrd-for= module names it, but only Linux guests take an initrd";
        if (vm->src->nmods && vm->cfg.type != GUEST_MULTIBOOT && vm->cfg.type != GUEST_MULTIBOOT2)
                return vm->cfg.nmodules
                           ? "its modules = [...] are boot modules, but only multiboot and "
                             "multiboot2 guests take boot modules"
                           : "a module-for= module names it, but only multiboot and multiboot2 "
                             "guests take boot modules";
        switch (vm->cfg.type) {
        case GUEST_LINUX:
                return load_linux(vm, state);
        case GUEST_MULTIBOOT:
                return loader_multiboot(image, len, vm->cfg.cmdline, vm->src->mods, vm->src->nmods,
                                        &vm->mem, state);
        case GUEST_MULTIBOOT2: {
                /* The RSDP build_platform wrote (revision 2: 36 bytes). */
                const uint8_t *rsdp = vm->rsdp ? vm_gpa_ptr(vm, vm->rsdp, 36) : NULL;
                struct mb2_params p = {
                        .image = image,
                        .len = len,
                        .cmdline = vm->cfg.cmdline,
                        .mods = vm->src->mods,
                        .nmods = vm->src->nmods,
                        .rsdp = rsdp,
                        .rsdp_len = rsdp ? 36 : 0,
                };
                const char *err = loader_multiboot2(&p, &vm->mem, state);
                if (err == p.err) { /* p ends here; the caller prints the message */
                        vtv_strlcpy(vm->load_err, p.err, sizeof(vm->load_err));
                        err = vm->load_err;
                }
                return err;
        }
        default:
                return loader_flat(image, len, &vm->mem, state);
        }
}

static const char *build(struct vm *vm, struct guest_state *state)
{
        if (vm->cfg.type == GUEST_AUTO)
                vm->cfg.type = detect_type(vm->src->image, vm->src->len);
        if (vm->cfg.type == GUEST_AUTO)
                return unrecognised(vm->src->image, vm->src->len);
        if (vm->cfg.type == GUEST_LINUX && !vm->cfg.ram_given)
                vm->cfg.ram_size = VM_RAM_DEFAULT_LINUX;
        uint64_t pages = vm->cfg.ram_size / PAGE_SIZE;
        /* 2 MiB alignment lets EPT map RAM with large pages. */
        vm->ram_hpa = mm_alloc_pages(pages, MiB(2));
        if (!vm->ram_hpa)
                return "not enough free host memory for its RAM (lower ram= or give the machine "
                       "more memory)";
        vm->mem = (struct guest_mem){ hpa_to_hva(vm->ram_hpa), vm->cfg.ram_size };

        vm->msr_bitmap = mm_alloc_pages(1, PAGE_SIZE);
        vm->io_bitmap_a = mm_alloc_pages(2, PAGE_SIZE);
        if (!vm->msr_bitmap || !vm->io_bitmap_a)
                return "out of host memory for its bitmaps";
        vm->io_bitmap_b = vm->io_bitmap_a + PAGE_SIZE;
        msr_bitmap_init(hpa_to_hva(vm->msr_bitmap));
        /* Every port exits: devices are emulated, nothing is passed through. */
        vtv_memset(hpa_to_hva(vm->io_bitmap_a), 0xff, 2 * PAGE_SIZE);

        const char *err = ept_create(&vm->ept);
        if (!err)
                err = ept_map_ram(&vm->ept, 0, vm->ram_hpa, vm->cfg.ram_size);
        if (!err)
                err = vapic_init_vm(vm);
        if (err)
                return err;

        irq_init_vm(vm);
        iobus_init(vm);
        err = build_platform(vm);
        if (!err)
                err = vdev_init(vm, &vm->src->disk, vm->rsdp != 0);
        if (err)
                return err;
        err = load_guest(vm, state);
        if (err)
                return err;
        /* vCPU 0 starts where the loader says; the others wait for INIT and
         * SIPI as application processors do (SDM 8.4.1). */
        for (unsigned i = 0; i < vm->nvcpus && !err; i++)
                err = vcpu_init(&vm->vcpus[i], vm, i, i == 0 ? state : NULL);
        return err;
}

/* A guest that resets itself in a loop would have vtvisor rebuild it
 * without end: more than RESET_STORM_MAX resets within RESET_STORM_SECONDS
 * stop the VM instead.  A rebuild clears the VM's RAM (a string store,
 * bounded by its size) on the CPU its vCPU ran on, in its own time. */
#define RESET_STORM_MAX     16
#define RESET_STORM_SECONDS 5

void vm_request_reset(struct vm *vm, const char *how)
{
        if (vm->cfg.on_reset == RESET_STOP) {
                vm_stop(vm, "reset by the guest (%s); on-reset=stop", how);
                return;
        }
        if (vm->stopped)
                return;
        uint64_t now = rdtsc();
        if (vm->resets_in_window == 0 ||
            now - vm->reset_window_tsc > RESET_STORM_SECONDS * tsc_hz()) {
                vm->reset_window_tsc = now;
                vm->resets_in_window = 0;
        }
        if (++vm->resets_in_window > RESET_STORM_MAX) {
                vm_stop(vm,
                        "reset storm: more than %u guest resets within %u s (the last through "
                        "%s); stopped rather than rebuilt again",
                        RESET_STORM_MAX, RESET_STORM_SECONDS, how);
                return;
        }
        /* Not a stop: the VM goes on, rebuilt from its modules. */
        vm->restart = true;
        vm->stopped = true;
        vm->run = VM_STOPPING;
        vuart_flush(&vm->uart);
        log_line("vm %s: reset by the guest (%s); restarting", vm->cfg.name, how);
        kick_vcpus(vm);
}

/* Builds a VM into slot vm: shared by creation and restart.  Only the part
 * from vm->id on is cleared: the lock, the generation and the run state
 * stay.  Runs with vm->lock held once other CPUs can see the VM. */
static bool vm_build_slot(struct vm *vm, const struct vm_source *src)
{
        vtv_memset(&vm->id, 0, sizeof(*vm) - offsetof(struct vm, id));
        vm->cfg = src->cfg;
        vm->src = src;
        vm->id = src->id;
        vm->exit_code = -1;
        vm->nvcpus = src->cfg.vcpus ? src->cfg.vcpus : 1;
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                vm->vcpus[i].cpu = vm->vcpu_cpu[i];
                vm->vcpus[i].vpid = (uint16_t)(vm->vpid_base + i);
        }
        vuart_init(&vm->uart, console_line, vm);

        struct guest_state state;
        const char *err = build(vm, &state);
        if (err) {
                log_line("vm %s: refused: %s", vm->cfg.name, err);
                vm_release(vm);
                vm->stopped = true;
                __atomic_store_n(&vm->run, VM_DEAD, __ATOMIC_RELEASE);
                return false;
        }
        char where[64];
        size_t pos = 0;
        for (unsigned i = 0; i < vm->nvcpus && pos < sizeof(where) - 8; i++)
                pos += vtv_snprintf(where + pos, sizeof(where) - pos, "%s%u", i ? "," : "",
                                    vm->vcpus[i].cpu);
        log_line("vm %s: %s guest, %llu MiB RAM at host 0x%llx, %u vCPU%s on CPU %s, VPID %u%s, "
                 "entry 0x%llx",
                 vm->cfg.name, guest_type_name(vm->cfg.type),
                 (unsigned long long)(vm->cfg.ram_size >> 20), (unsigned long long)vm->ram_hpa,
                 vm->nvcpus, vm->nvcpus == 1 ? "" : "s", where, vm->vpid_base,
                 vm->nvcpus == 1 ? "" : "+", (unsigned long long)state.rip);
        vm->gen++;
        vm->nparked = 0;
        vm->built_tsc = rdtsc();
        __atomic_store_n(&vm->run, VM_RUNNING, __ATOMIC_RELEASE);
        return true;
}

uint64_t vm_exits(const struct vm *vm, unsigned reason)
{
        uint64_t n = 0;
        for (unsigned k = 0; k < vm->nvcpus; k++) {
                const uint64_t *by = vm->vcpus[k].exits_by_reason;
                if (reason < EXIT_REASON_MAX)
                        n += __atomic_load_n(&by[reason], __ATOMIC_RELAXED);
                else
                        for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
                                n += __atomic_load_n(&by[r], __ATOMIC_RELAXED);
        }
        return n;
}

struct vm *vm_by_name(const char *name)
{
        for (size_t i = 0; i < nvms; i++) {
                if (!vtv_strcmp(vms[i].cfg.name, name))
                        return &vms[i];
        }
        return NULL;
}

const char *vm_operator_stop(struct vm *vm)
{
        const char *err = NULL;
        spin_lock(&vm->lock);
        if (vm->run == VM_RUNNING && !vm->stopped)
                vm_stop(vm, "stopped by the operator");
        else
                err = "it is not running";
        spin_unlock(&vm->lock);
        return err;
}

const char *vm_operator_start(struct vm *vm)
{
        const char *err = NULL;
        spin_lock(&vm->lock);
        if (!vm->placed)
                err = "it was refused at boot: fix its configuration and reboot";
        else if (vm->run == VM_DEAD)
                vm->start_requested = true;
        else if (vm->run == VM_STOPPING)
                err = "it is still stopping: try again in a moment";
        else
                err = "it is running (restart rebuilds a running VM)";
        spin_unlock(&vm->lock);
        return err;
}

const char *vm_operator_restart(struct vm *vm)
{
        spin_lock(&vm->lock);
        enum vm_run_state rs = vm->run;
        if (rs == VM_RUNNING && vm->stopped) {
                spin_unlock(&vm->lock);
                return "it is stopping: try again in a moment";
        }
        if (rs == VM_RUNNING) {
                /* As a guest reset, but not counted as one. */
                vm->restart = true;
                vm->stopped = true;
                vm->run = VM_STOPPING;
                vuart_flush(&vm->uart);
                log_line("vm %s: restarted by the operator", vm->cfg.name);
                kick_vcpus(vm);
        }
        spin_unlock(&vm->lock);
        if (rs == VM_RUNNING)
                return NULL;
        return vm_operator_start(vm);
}

bool vm_start_pending(void)
{
        for (size_t i = 0; i < nvms; i++) {
                if (vms[i].start_requested)
                        return true;
        }
        return false;
}

void vm_start_requested(void)
{
        for (size_t i = 0; i < nvms; i++) {
                struct vm *vm = &vms[i];
                if (!vm->start_requested)
                        continue;
                spin_lock(&vm->lock);
                vm->start_requested = false;
                if (vm->run == VM_DEAD) {
                        log_line("vm %s: started by the operator", vm->cfg.name);
                        vm_build_slot(vm, vm->src);
                }
                spin_unlock(&vm->lock);
        }
}

static uint16_t next_vpid = 1; /* VPID 0 belongs to the host (SDM 28.1) */

struct vm *vm_create(const struct vm_source *src, const unsigned *vcpu_cpu)
{
        if (nvms == MAX_VMS) {
                log_line("module %d: refused: at most %d VMs are supported", src->id, MAX_VMS);
                return NULL;
        }
        for (size_t i = 0; i < nvms; i++) {
                if (!vtv_strcmp(vms[i].cfg.name, src->cfg.name)) {
                        log_line("module %d: refused: the name '%s' is already taken", src->id,
                                 src->cfg.name);
                        return NULL;
                }
        }
        struct vm *vm = &vms[nvms];
        unsigned n = src->cfg.vcpus ? src->cfg.vcpus : 1;
        vm->vpid_base = next_vpid;
        for (unsigned i = 0; i < n; i++)
                vm->vcpu_cpu[i] = vcpu_cpu[i];
        nvms++;
        next_vpid = (uint16_t)(next_vpid + n);
        if (!src->cfg.autostart) {
                /* Placed, not built: "start NAME" at the prompt builds it. */
                vm->cfg = src->cfg;
                vm->src = src;
                vm->id = src->id;
                vm->nvcpus = n;
                vm->stopped = true;
                __atomic_store_n(&vm->run, VM_DEAD, __ATOMIC_RELEASE);
                log_line("vm %s: not started at boot (autostart = false); 'start %s' at the "
                         "vtvisor> prompt starts it",
                         vm->cfg.name, vm->cfg.name);
                return vm;
        }
        if (!vm_build_slot(vm, src))
                return NULL;
        return vm;
}

size_t vm_count(void)
{
        return nvms;
}

struct vm *vm_at(size_t i)
{
        return &vms[i];
}

void vm_vcpu_parked(struct vm *vm)
{
        if (++vm->nparked < vm->nvcpus)
                return;
        vm_release(vm);
        if (vm->restart) {
                /* The CMOS is battery-backed: it keeps its contents over a
                 * reset. */
                struct rtc cmos = vm->rtc;
                if (vm_build_slot(vm, vm->src))
                        vm->rtc = cmos;
        } else {
                __atomic_store_n(&vm->run, VM_DEAD, __ATOMIC_RELEASE);
        }
}

/* A guest that stopped writing in the middle of a line (a prompt) gets
 * that much shown once it waits (every vCPU halted) for 1/50 s, or after
 * half a second in any case.  A vCPU that merely lost its CPU to another
 * in the middle of a line is not waiting: its line stays whole. */
#define PARTIAL_LINE_IDLE_DIVISOR 50 /* 1/50 s */
#define PARTIAL_LINE_MAX_DIVISOR  2  /* 1/2 s */

static bool vm_waits(const struct vm *vm)
{
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                if (vm->vcpus[i].state == VCPU_RUNNABLE)
                        return false;
        }
        return true;
}

void vm_poll_console(uint64_t now)
{
        monitor_poll();
        for (size_t i = 0; i < nvms; i++) {
                struct vm *vm = &vms[i];
                if (vm->run != VM_RUNNING)
                        continue;
                spin_lock(&vm->lock);
                if (vm->uart.tx_busy && !console_backlogged(&vm->console)) {
                        /* Caught up: THRE, and its interrupt if enabled. */
                        vuart_set_tx_busy(&vm->uart, false);
                        iobus_uart_update_irq(vm);
                }
                uint64_t idle = now - vm->uart_activity;
                if (vm->run == VM_RUNNING && !vm->stopped && vuart_pending(&vm->uart) &&
                    ((idle > tsc_hz() / PARTIAL_LINE_IDLE_DIVISOR && vm_waits(vm)) ||
                     idle > tsc_hz() / PARTIAL_LINE_MAX_DIVISOR))
                        vuart_flush(&vm->uart);
                spin_unlock(&vm->lock);
        }
}

bool vm_can_wake(struct vm *vm)
{
        bool uart = ((vm->uart.ier & 1) && (vm->uart.mcr & 0x08)) || vdev_can_wake(vm);
        for (unsigned i = 0; i < vm->nvcpus; i++) {
                const struct vcpu *v = &vm->vcpus[i];
                if (v->state == VCPU_RUNNABLE)
                        return true;
                if (v->state == VCPU_HALTED &&
                    (uart || lapic_timer_deadline(&v->lapic) != UINT64_MAX))
                        return true;
        }
        return false;
}
