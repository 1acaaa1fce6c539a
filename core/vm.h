/* VMs and their vCPUs.
 *
 * Locks (docs/architecture.md, "Locks"): vm->lock protects a VM's devices,
 * every one of its vCPUs' local APICs, its run state and its reset/stop
 * flags; exit handling of any of its vCPUs runs under it.  Nested locks are
 * taken in the order vm->lock, then the page allocator's, then the
 * console's. */
#ifndef VTV_CORE_VM_H
#define VTV_CORE_VM_H

#include "config/config.h"
#include "core/console.h"
#include "core/mmio.h"
#include "core/vdev.h"
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/reset.h"
#include "devices/rtc.h"
#include "devices/lapic.h"
#include "devices/uart.h"
#include "arch/x86/spinlock.h"
#include "ept/ept.h"
#include "lib/types.h"
#include "loaders/guest_state.h"
#include "loaders/loader_multiboot.h"
#include "vmx/vmx_defs.h"

#define MAX_VMS         16
#define MAX_VCPUS       64   /* per VM */
#define VAPIC_TPR       0x80 /* the TPR's offset in the virtual-APIC page */
#define STOP_REASON_MAX 192

/* Guest GPRs in SDM order, then CR2: vmx_entry.S depends on this layout.
 * gpr[RSP] is unused (RSP lives in the VMCS). */
struct guest_regs {
        uint64_t gpr[NGPR];
        uint64_t cr2;
};
_Static_assert(sizeof(struct guest_regs) == 17 * 8, "vmx_entry.S layout");

/* One CPUID answer a vCPU keeps (core/exit.c). */
#define VCPU_CPUID_CACHE 8
struct cpuid_entry {
        uint32_t leaf, sub;
        uint32_t eax, ebx, ecx, edx;
};

/* A vCPU's run state.  HALTED: HLT with interrupts enabled, woken by an
 * interrupt; HALTED_NOINT: HLT with interrupts disabled, woken only by NMI,
 * INIT or SIPI; WAIT_SIPI: after INIT, as an application processor waits
 * (SDM 8.4.1). */
enum vcpu_state { VCPU_RUNNABLE, VCPU_HALTED, VCPU_HALTED_NOINT, VCPU_WAIT_SIPI };

/* Requests another CPU leaves for a vCPU (vm->lock held to set them): the
 * vCPU's own CPU acts on them before its next entry. */
#define VCPU_REQ_INIT BIT(0) /* INIT IPI: back to wait-for-SIPI */
#define VCPU_REQ_SIPI BIT(1) /* STARTUP IPI, vector in sipi_vector */
#define VCPU_REQ_NMI  BIT(2) /* NMI IPI */

struct vcpu {
        struct guest_regs regs; /* first: vmx_entry.S takes a pointer to it */
        struct vm *vm;
        unsigned index; /* vCPU number, also its APIC ID */
        unsigned cpu;   /* the physical CPU that runs it (fixed at boot) */
        uint16_t vpid;
        hpa_t vmcs;
        bool launched;
        bool host_state_cpu_valid; /* HOST_*_BASE written for this CPU */
        bool needs_flush;          /* INVEPT/INVVPID before its first entry */
        volatile enum vcpu_state state;
        uint32_t requests; /* VCPU_REQ_*, under vm->lock */
        uint8_t sipi_vector;

        /* State VMX does not switch, swapped when another VM's vCPU runs. */
        void *xsave_area;
        uint64_t xcr0;
        uint64_t kernel_gs_base, star, lstar, cstar, fmask, tsc_aux;
        uint64_t dr[4], dr6;
        uint64_t tsc_adjust; /* IA32_TSC_ADJUST */
        /* The VMCS's TSC offset ("use TSC offsetting" is on): the guest's
         * TSC is the host's plus this.  The local APIC's timer runs on the
         * guest's TSC (vcpu_tsc). */
        uint64_t tsc_offset;
        uint64_t misc_enable_flip; /* IA32_MISC_ENABLE bits changed (core/msr.c) */
        uint32_t cpuid_max;        /* its highest basic CPUID leaf (exit_cpuid_limits) */
        /* The CPUID answers it gave for leaves that depend on nothing the
         * guest changes without an exit (core/exit.c, "CPUID answers"). */
        struct cpuid_entry cpuid_cache[VCPU_CPUID_CACHE];
        struct lapic lapic;
        struct mmio_region lapic_region; /* its xAPIC page, where the guest put it */
        uint64_t slice_end;              /* TSC at which this vCPU's time slice ends */
        bool intr_window;                /* interrupt-window exiting is on */
        bool nmi_window;                 /* NMI-window exiting is on */
        bool yield;                      /* leave vcpu_run after this exit */
        /* The slow path must run before the next entry (vcpu_run): something
         * changed what irq_inject decides, or the vCPU must yield, stop or
         * change state.  Whoever sets yield, vm->stopped or a state other
         * than RUNNABLE from outside an exit handler also sets this (the
         * fast path checks only this flag).  event_tsc: the TSC at which
         * the slice ends or the APIC timer fires, whichever is first. */
        bool irq_dirty;
        uint64_t event_tsc;
        uint8_t fast_action; /* enum exit_action of an exit the fast path handled */
        /* The virtual-APIC page (TPR shadow), or NULL on a CPU without it:
         * its TPR byte mirrors the local APIC model's. */
        uint8_t *vapic;
        uint8_t vapic_tpr; /* the page's TPR as the model last saw it */
        /* APIC virtualization (core/vapic.c).  vid: the CPU delivers this
         * vCPU's APIC interrupts itself (virtual-interrupt delivery), with
         * IRR, ISR and TPR in the virtual-APIC page.  vapic_live: the page
         * holds them now and the model's are stale until vapic_sync_in.
         * vapic_fresh: vectors accepted into the model while the page was
         * live.  vapic_export_all: the model's other registers changed and
         * the page must show them (APIC-register virtualization reads them
         * there).  apic_access: "virtualize APIC accesses" is on. */
        bool vid, vapic_live, vapic_export_all, apic_access;
        uint32_t vapic_fresh[8];
        uint64_t eoi_exit[4]; /* the EOI-exit bitmap as last written */

        /* Exits by basic reason since the VM was built; written by the
         * vCPU's own CPU only (the fast path holds no lock), read by the
         * operator's `stats` (vm_exits). */
        uint64_t exits_by_reason[EXIT_REASON_MAX];
};

enum vm_run_state { VM_EMPTY = 0, VM_RUNNING, VM_STOPPING, VM_DEAD };

struct vm {
        /* Kept across a rebuild (reset): */
        struct spinlock lock;
        unsigned gen;                   /* builds so far; a reset makes a new one */
        volatile enum vm_run_state run; /* written under lock */
        unsigned nparked;               /* vCPUs that have let go of this build */
        uint16_t vpid_base;             /* vCPU i has VPID vpid_base + i */
        unsigned vcpu_cpu[MAX_VCPUS];   /* the physical CPU of each vCPU */
        /* Its lines may still wait in the console's ring across a rebuild. */
        struct console_share console;
        /* Guest resets in the current window (vm_request_reset). */
        uint64_t reset_window_tsc;
        unsigned resets_in_window;
        /* The operator asked for this stopped VM to be built again
         * (vm_operator_start); CPU 0's scheduler does it. */
        volatile bool start_requested;
        bool placed; /* its vCPUs are on the CPUs' run queues (main.c) */
        /* Rebuilt from here on (vm_build_slot clears it): */
        int id;
        struct vm_config cfg;
        const struct vm_source *src;
        hpa_t ram_hpa;
        struct guest_mem mem;
        struct ept ept;
        hpa_t msr_bitmap, io_bitmap_a, io_bitmap_b;
        struct vuart uart;
        bool uart_irq;          /* level of the UART's interrupt line */
        uint64_t uart_activity; /* TSC of the guest's last UART access */
        struct ioapic ioapic;
        struct rtc rtc;
        struct pci pci;
        struct acpi_pm pm;
        struct reset reset;
        struct mmio_region mmio[2]; /* I/O APIC, PCI ECAM (size 0: none) */
        /* virtio devices (core/vdev.h) and scratch space for one
         * descriptor chain of its blk or rng device (vm->lock). */
        struct vdev vdev[VDEV_MAX];
        unsigned nvdev;
        struct vq_chain chain;
        gpa_t rsdp;        /* its ACPI tables' RSDP, 0 when its RAM leaves no room */
        bool vdev_pending; /* another VM's frame left an interrupt (atomic) */
        unsigned nvcpus;
        struct vcpu vcpus[MAX_VCPUS];
        bool stopped;
        /* The APIC-access page (core/vapic.c), 0 without one, and whether
         * the EPT maps the xAPIC page 0xfee00000 to it. */
        hpa_t apic_access_page;
        bool apic_access_mapped;
        bool restart;             /* rebuild from src once stopped (guest reset) */
        int64_t exit_code;        /* from the debug-exit port, or -1 */
        unsigned unbacked_logged; /* accesses to unbacked memory logged */
        /* For the operator's list and stats, since this build (vm->lock). */
        uint64_t built_tsc;
        uint64_t irqs_injected;
        char load_err[160]; /* a loader's formatted refusal, printed after the build */
};

/* What a VM is built from: its configuration and its boot module(s). */
/* Boot modules one multiboot or multiboot2 VM may take (module-for=). */
#define VM_MODULES_MAX 16
_Static_assert(VM_MODULES_MAX == VM_CONFIG_MODULES_MAX,
               "a configuration file's modules = [...] must fit a VM's boot modules");

struct vm_source {
        int id; /* module number, for messages */
        struct vm_config cfg;
        const uint8_t *image;
        size_t len;
        const uint8_t *initrd; /* Linux guests: the initrd-for= module, or NULL */
        size_t initrd_len;
        struct vdev_disk disk; /* the disk-for= (disk =) module; image NULL: none */
        /* Multiboot(2) guests: the module-for= modules, in module order, or
         * a configuration file's modules = [...], in array order. */
        struct mb_module mods[VM_MODULES_MAX];
        size_t nmods;
};

/* Builds a VM whose vCPU i runs on physical CPU vcpu_cpu[i].  On failure prints why (naming the VM)
 * and returns NULL; the hypervisor carries on with the other VMs.  The source must stay valid while
 * the VM exists (a reset rebuilds the VM from it). */
struct vm *vm_create(const struct vm_source *src, const unsigned *vcpu_cpu);

/* Stops a VM: prints one "vm NAME: stopped: ..." line, flushes its console
 * and releases its memory. */
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The guest asked for a reset (how: for the message): restarts or stops the
 * VM according to its on-reset= option. */
void vm_request_reset(struct vm *vm, const char *how);

/* The created VMs, for the scheduler: slots 0 .. vm_count()-1. */
size_t vm_count(void);
struct vm *vm_at(size_t i);
/* The scheduler calls these on the vCPU's own CPU once the VM stopped:
 * the last of a VM's vCPUs to let go releases its memory and, for a reset,
 * rebuilds it (vm.c). */
void vm_vcpu_parked(struct vm *vm);
/* Console: physical COM1 input for the VM that has the keyboard, and lines a
 * guest left unfinished shown after a pause.  Called by CPU 0's loop. */
void vm_poll_console(uint64_t now);

/* The operator's console (core/monitor.c).  Each returns NULL, or why it
 * cannot (for the operator).  stop: the VM stops as on a guest error;
 * restart: a running VM is rebuilt from its modules (fresh RAM, devices,
 * vCPUs) while the others run, a stopped one is built again; start: only a
 * stopped VM, built again. */
const char *vm_operator_stop(struct vm *vm);
const char *vm_operator_restart(struct vm *vm);
const char *vm_operator_start(struct vm *vm);
/* Builds the VMs the operator asked to start.  CPU 0's scheduler, with no
 * VMCS current on it. */
bool vm_start_pending(void);
void vm_start_requested(void);
struct vm *vm_by_name(const char *name);
/* Exits of all the VM's vCPUs with this basic reason, or of every reason
 * for EXIT_REASON_MAX. */
uint64_t vm_exits(const struct vm *vm, unsigned reason);
/* Whether anything can still wake a VM whose every vCPU is halted. */
bool vm_can_wake(struct vm *vm);

/* Guest-physical memory access, bounds-checked against the VM's RAM. */
void *vm_gpa_ptr(struct vm *vm, gpa_t gpa, uint64_t len);

#endif
