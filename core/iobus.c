#include "core/iobus.h"
#include "core/irq.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "core/clock.h"
#include "core/vm.h"
#include "devices/uart.h"

struct io_range {
        uint16_t base, count;
        /* Byte-wide devices: wider accesses are split into consecutive ports,
         * as an 8-bit ISA device sees them. */
        uint8_t (*in8)(struct vm *vm, uint16_t offset);
        void (*out8)(struct vm *vm, uint16_t offset, uint8_t v);
};

/* The UART's interrupt line can change on any register access. */
void iobus_uart_update_irq(struct vm *vm)
{
        bool level = vuart_irq_asserted(&vm->uart);
        if (level != vm->uart_irq) {
                vm->uart_irq = level;
                irq_set_line(vm, UART_IRQ, level);
        }
}

/* The UART's transmitter shows the console's backlog of this VM: before
 * the registers that tell it (LSR, IIR) are read and the transmit register
 * is written; the others need no look at the console. */
#define UART_REG_THR 0
#define UART_REG_IIR 2
#define UART_REG_LSR 5
static void uart_sync_tx(struct vm *vm)
{
        console_drain();
        vuart_set_tx_busy(&vm->uart, console_backlogged(&vm->console));
}

static uint8_t uart_in(struct vm *vm, uint16_t offset)
{
        if (offset == UART_REG_LSR || offset == UART_REG_IIR)
                uart_sync_tx(vm);
        uint8_t v = vuart_read(&vm->uart, offset);
        iobus_uart_update_irq(vm);
        return v;
}

static void uart_out(struct vm *vm, uint16_t offset, uint8_t v)
{
        if (offset == UART_REG_THR) {
                vm->uart_activity = rdtsc(); /* for partial lines (vm_poll_console) */
                uart_sync_tx(vm);            /* a printing guest moves the line along */
        }
        if (vuart_write(&vm->uart, offset, v))
                iobus_uart_update_irq(vm);
}

static const struct io_range ranges[] = {
        { UART_BASE, UART_PORTS, uart_in, uart_out },
};

static const struct io_range *find(uint16_t port)
{
        for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
                if (port >= ranges[i].base && port - ranges[i].base < ranges[i].count)
                        return &ranges[i];
        }
        return NULL;
}

/* Wall-clock time for the guest's RTC: the host's, in seconds. */
static uint64_t now_seconds(void)
{
        return clock_seconds();
}

static bool wide_in(struct vm *vm, uint16_t port, unsigned size, uint32_t *val)
{
        if (reset_claims(port, size)) {
                *val = reset_in(&vm->reset, port, size);
        } else if (port >= RTC_PORT_BASE && port < RTC_PORT_BASE + RTC_PORTS) {
                *val = rtc_in(&vm->rtc, port, size, now_seconds());
        } else if (pci_claims(port, size)) {
                *val = pci_in(&vm->pci, port, size);
        } else if (acpi_pm_claims(port)) {
                *val = acpi_pm_in(&vm->pm, port, size, rdtsc());
        } else {
                return false;
        }
        return true;
}

static bool wide_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
        if (reset_claims(port, size)) {
                bool reset = false;
                reset_out(&vm->reset, port, size, value, &reset);
                if (reset)
                        vm_request_reset(vm, port == RESET_CONTROL_PORT
                                                 ? "reset control register 0xcf9"
                                                 : "keyboard controller reset");
        } else if (port >= RTC_PORT_BASE && port < RTC_PORT_BASE + RTC_PORTS) {
                rtc_out(&vm->rtc, port, size, value, now_seconds());
        } else if (pci_claims(port, size)) {
                pci_out(&vm->pci, port, size, value);
                if (port >= PCI_CONFIG_DATA_PORT)
                        vdev_cfg_written(vm);
        } else if (acpi_pm_claims(port)) {
                struct acpi_pm_event ev = { false, 0 };
                acpi_pm_out(&vm->pm, port, size, value, rdtsc(), &ev);
                if (ev.sleep && ev.slp_typ == ACPI_SLP_TYP_S5 &&
                    vm->cfg.on_poweroff == POWEROFF_RESTART)
                        vm_request_reset(vm, "power-off through ACPI S5, on_poweroff = restart");
                else if (ev.sleep && ev.slp_typ == ACPI_SLP_TYP_S5)
                        vm_stop(vm, "powered off (ACPI S5)");
                else if (ev.sleep)
                        vm_stop(vm,
                                "entered ACPI sleep type %u, which vtvisor does not support "
                                "(only S5, power-off)",
                                ev.slp_typ);
        } else {
                return false;
        }
        return true;
}

void iobus_init(struct vm *vm)
{
        rtc_init(&vm->rtc);
        pci_init(&vm->pci);
        acpi_pm_init(&vm->pm, tsc_hz());
        reset_init(&vm->reset);
}

/* Every port but the UART's (out of line: the UART, the port a guest uses
 * most, needs none of this frame). */
static __attribute__((noinline)) uint32_t in_other(struct vm *vm, uint16_t port, unsigned size)
{
        uint32_t wide;
        if (wide_in(vm, port, size, &wide))
                return wide;
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) {
                uint16_t p = (uint16_t)(port + i);
                const struct io_range *r = find(p);
                uint8_t b = r ? r->in8(vm, (uint16_t)(p - r->base)) : 0xff;
                v |= (uint32_t)b << (8 * i);
        }
        return v;
}

static __attribute__((noinline)) void out_other(struct vm *vm, uint16_t port, unsigned size,
                                                uint32_t value)
{
        if (port == DEBUG_EXIT_PORT) {
                /* QEMU's isa-debug-exit convention: value V ends the VM with
                 * exit status (V << 1) | 1. */
                uint32_t v = size == 4 ? value : value & ((1u << (8 * size)) - 1);
                vm->exit_code = (int64_t)(((uint64_t)v << 1) | 1);
                /* Code 1 (V = 0) is success by the convention the test
                 * guests follow; anything else reports a failure. */
                vm_stop(vm, "debug exit, code %lld (%s)", (long long)vm->exit_code,
                        v == 0 ? "0 written to port 0xf4: success by the isa-debug-exit convention"
                               : "a value other than 0 written to port 0xf4: failure by the "
                                 "isa-debug-exit convention");
                return;
        }
        if (wide_out(vm, port, size, value))
                return;
        for (unsigned i = 0; i < size; i++) {
                uint16_t p = (uint16_t)(port + i);
                const struct io_range *r = find(p);
                if (r)
                        r->out8(vm, (uint16_t)(p - r->base), (uint8_t)(value >> (8 * i)));
        }
}

uint32_t iobus_in(struct vm *vm, uint16_t port, unsigned size)
{
        if (size == 1 && (uint16_t)(port - UART_BASE) < UART_PORTS)
                return uart_in(vm, (uint16_t)(port - UART_BASE));
        return in_other(vm, port, size);
}

void iobus_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
        if (size == 1 && (uint16_t)(port - UART_BASE) < UART_PORTS)
                uart_out(vm, (uint16_t)(port - UART_BASE), (uint8_t)value);
        else
                out_other(vm, port, size, value);
}
