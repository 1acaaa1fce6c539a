/* Port I/O of a VM: which virtual device answers which port.  Ports no
 * device claims read as all-ones and ignore writes, like an empty ISA bus. */
#ifndef VTV_CORE_IOBUS_H
#define VTV_CORE_IOBUS_H

#include "lib/types.h"

struct vm;

#define DEBUG_EXIT_PORT 0xf4

/* Brings the VM's UART interrupt line (I/O APIC pin) up to date after its
 * state changed: a register access or received input. */
void iobus_uart_update_irq(struct vm *vm);

/* Resets the VM's port devices (RTC, PCI, ACPI PM, reset control). */
void iobus_init(struct vm *vm);
uint32_t iobus_in(struct vm *vm, uint16_t port, unsigned size);
void iobus_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value);

#endif
