/* The physical console shared by every VM and the hypervisor.  Guest output
 * arrives line by line from each VM's UART and is printed "[NAME] text".
 * A line still being written (a shell prompt) is shown once the guest
 * pauses; its rest follows on the same screen line unless someone else
 * prints first, in which case the open line is ended there. */
#ifndef VTV_CORE_CONSOLE_H
#define VTV_CORE_CONSOLE_H

#include "lib/types.h"

/* Text from VM name; complete means it ends the line. */
void console_guest(const void *owner, const char *name, const char *text, size_t len,
                   bool complete);
/* Sets up COM1 and makes it the output of the hypervisor's log. */
void console_init(void);

#endif
