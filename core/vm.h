/* VMs and their vCPUs (one vCPU per VM for now). */
#ifndef VTV_CORE_VM_H
#define VTV_CORE_VM_H

#include "config/config.h"
#include "core/mmio.h"
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/reset.h"
#include "devices/rtc.h"
#include "devices/lapic.h"
#include "devices/uart.h"
#include "ept/ept.h"
#include "lib/types.h"
#include "loaders/guest_state.h"

#define MAX_VMS         16
#define STOP_REASON_MAX 192

/* Guest GPRs in SDM order, then CR2: vmx_entry.S depends on this layout.
 * gpr[RSP] is unused (RSP lives in the VMCS). */
struct guest_regs {
        uint64_t gpr[NGPR];
        uint64_t cr2;
};
_Static_assert(sizeof(struct guest_regs) == 17 * 8, "vmx_entry.S layout");

enum vcpu_state { VCPU_RUNNABLE, VCPU_HALTED, VCPU_STOPPED };

struct vcpu {
        struct guest_regs regs; /* first: vmx_entry.S takes a pointer to it */
        struct vm *vm;
        hpa_t vmcs;
        bool launched;
        enum vcpu_state state;

        /* State VMX does not switch, swapped when another VM's vCPU runs. */
        void *xsave_area;
        uint64_t xcr0;
        uint64_t kernel_gs_base, star, lstar, cstar, fmask, tsc_aux;
        uint64_t dr[4], dr6;
        uint64_t tsc_adjust; /* IA32_TSC_ADJUST */
        struct lapic lapic;
        uint64_t slice_end; /* TSC at which this vCPU's time slice ends */
        bool intr_window;   /* interrupt-window exiting is on */

        uint64_t exits;
};

struct vm {
        int id;
        struct vm_config cfg;
        const struct vm_source *src;
        uint16_t vpid;
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
        struct mmio_region mmio[3]; /* local APIC, I/O APIC, PCI ECAM (size 0: none) */
        struct vcpu vcpu;
        bool stopped;
        bool restart;      /* rebuild from src once stopped (guest reset) */
        int64_t exit_code; /* from the debug-exit port, or -1 */
};

/* What a VM is built from: its configuration and its boot module(s). */
struct vm_source {
        int id; /* module number, for messages */
        struct vm_config cfg;
        const uint8_t *image;
        size_t len;
        const uint8_t *initrd; /* Linux guests: the initrd-for= module, or NULL */
        size_t initrd_len;
};

/* Builds a VM.  On failure prints why (naming the VM) and returns NULL; the
 * hypervisor carries on with the other VMs.  The source must stay valid
 * while the VM exists (a reset rebuilds the VM from it). */
struct vm *vm_create(const struct vm_source *src);

/* Stops a VM: prints one "vm NAME: stopped: ..." line, flushes its console
 * and releases its memory. */
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The guest asked for a reset (how: for the message): restarts or stops the
 * VM according to its on-reset= option. */
void vm_request_reset(struct vm *vm, const char *how);

/* Runs every created VM round-robin until all have stopped. */
void vm_run_all(void);

/* Guest-physical memory access, bounds-checked against the VM's RAM. */
void *vm_gpa_ptr(struct vm *vm, gpa_t gpa, uint64_t len);

#endif
