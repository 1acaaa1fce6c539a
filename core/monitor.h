/* The operator's console on the physical serial port.  Keys go to the VM
 * that has the keyboard; Ctrl-A then 'c' opens the "vtvisor> " prompt
 * (Ctrl-A twice sends one Ctrl-A to the guest), as in QEMU and screen.
 * Commands: help, list, console NAME, stop NAME, restart NAME, start NAME,
 * stats NAME, cpus, exit.  docs/console.md describes them.  CPU 0 only. */
#ifndef VTV_CORE_MONITOR_H
#define VTV_CORE_MONITOR_H

#include "core/vm.h"

/* After the VMs are built: the keyboard goes to the VM named `name` (NULL
 * or not found: the first VM that runs); prints how to open the prompt. */
void monitor_init(const char *name);
/* Takes whatever arrived on COM1 (from CPU 0's scheduler loop). */
void monitor_poll(void);

#endif
