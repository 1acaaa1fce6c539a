/* The physical console shared by every VM and the hypervisor.  Guest output
 * arrives line by line from each VM's UART and is printed "[NAME] text"
 * through a bounded output ring (console.c), so no VM waits for the line.
 * A line still being written (a shell prompt) is shown once the guest
 * pauses; its rest follows on the same screen line unless someone else
 * prints first, in which case the open line is ended there. */
#ifndef VTV_CORE_CONSOLE_H
#define VTV_CORE_CONSOLE_H

#include "lib/types.h"

/* Kept by each VM for the console: its bytes waiting to go out, and what
 * it printed while its share of the output ring was full. */
struct console_share {
        uint32_t queued;
        uint64_t dropped;       /* since the last "output dropped" note */
        uint64_t dropped_total; /* since the VM was built */
};

/* Text from VM name; complete means it ends the line.  Queued, never
 * waited for: beyond the VM's share it is dropped and counted. */
void console_guest(struct console_share *sh, const char *name, const char *text, size_t len,
                   bool complete);
/* More than half of the VM's share waits: its UART shows a busy
 * transmitter (vuart_set_tx_busy), so a driver that polls LSR waits in
 * the guest, as on a slow line, instead of losing its output. */
bool console_backlogged(const struct console_share *sh);
/* Bytes wait for the serial line.  CPU 0 then leaves guest mode every
 * CONSOLE_DRAIN_HZ-th of a second to refill the UART's FIFO: 16 bytes at
 * 115,200 baud last 1.4 ms. */
#define CONSOLE_DRAIN_HZ 720
bool console_pending(void);
/* Text of the operator's console (core/monitor.c): no "[NAME] " prefix,
 * never dropped (waits for room like vtvisor's log); complete ends the
 * line, otherwise the text stays open (a prompt, an echoed key). */
void console_operator(const char *text, size_t len, bool complete);
/* Sends what the serial transmitter takes now, without waiting.  Any CPU,
 * often: cheap when nothing waits. */
void console_drain(void);
/* Sets up COM1 and makes it the output of the hypervisor's log. */
void console_init(void);

#endif
