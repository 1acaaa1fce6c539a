/* The two legacy ways a PC guest resets itself.  Pure: no I/O, no VMX, no
 * globals.
 *
 *   0xcf9  Reset control register of PC chipsets (Intel PIIX3/PIIX4 "RC",
 *          ICH/PCH "RST_CNT"), byte access: SYS_RST (bit 1) picks a hard
 *          or soft reset, and a 0-to-1 transition of RST_CPU (bit 2)
 *          starts it.  The FADT's RESET_REG names this port with value
 *          ACPI_RESET_VALUE (0x06), which Linux's default reboot (ACPI
 *          first) writes; reboot=pci writes 0x02 then 0x06.  Either kind of
 *          reset means "reset the VM": there is no firmware for a soft
 *          reset to return to.  Word and dword accesses at 0xcf8 are PCI
 *          CONFIG_ADDRESS (devices/pci.h), not this register.
 *   0x64   Keyboard controller (8042) command port: commands 0xf0-0xff
 *          pulse the output-port bits whose mask bit is 0 for about 6 us,
 *          and bit 0 of the output port drives the CPU reset line, so an
 *          even command in that range (Linux's 0xfe) resets (IBM PC AT
 *          Technical Reference, keyboard controller commands).
 *
 * There is no keyboard controller otherwise, and the guest is told so: the
 * FADT clears IAPC_BOOT_ARCH.8042 and the DSDT has no PNP0303, so Linux
 * 6.1's i8042 driver says "PNP: No PS/2 controller found." and never
 * touches the ports.  Reads of 0x64 return 0xff, what an empty ISA bus
 * returns: a guest that probes anyway sees the output buffer "full" on
 * every read, and Linux's i8042_flush gives up after 16 reads of the data
 * port ("No controller found", an informational line), where a controller
 * that looked present but did not answer commands would make it print
 * errors.  The data port 0x60 is left unclaimed (all-ones too).  The cost:
 * Linux's keyboard-controller reboot waits for the input buffer to drain
 * (kb_wait, about 0x10000 polls) before writing 0xfe, which only happens
 * after the ACPI reset register failed. */
#ifndef VTV_DEVICES_RESET_H
#define VTV_DEVICES_RESET_H

#include "lib/types.h"

#define RESET_CONTROL_PORT 0xcf9
#define KBC_COMMAND_PORT   0x64 /* write: command; read: status */

/* Reset control register bits. */
#define RCR_SYS_RST  0x02
#define RCR_RST_CPU  0x04
#define RCR_FULL_RST 0x08 /* ICH and later: full power cycle; stored only */
#define RCR_BITS     (RCR_SYS_RST | RCR_RST_CPU | RCR_FULL_RST)

#define KBC_CMD_PULSE_RESET 0xfe
#define KBC_STATUS_ABSENT   0xff

struct reset {
        uint8_t rcr; /* the reset control register */
};

void reset_init(struct reset *r);

/* True for a byte access to RESET_CONTROL_PORT or KBC_COMMAND_PORT. */
bool reset_claims(uint16_t port, unsigned size);

uint32_t reset_in(struct reset *r, uint16_t port, unsigned size);
/* *reset_requested is always written: true when this write resets the VM. */
void reset_out(struct reset *r, uint16_t port, unsigned size, uint32_t value,
               bool *reset_requested);

#endif
