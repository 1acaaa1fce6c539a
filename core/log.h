/* Console output.  Every hypervisor line starts with "vtvisor: "; guest
 * console lines are written whole by the UART model with the VM's name. */
#ifndef VTV_CORE_LOG_H
#define VTV_CORE_LOG_H

#include "lib/types.h"

void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line with the "vtvisor: " prefix and a newline added. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_write(const char *s, size_t len);

/* A hypervisor bug: print where and why, then stop the machine. */
__attribute__((noreturn, format(printf, 3, 4))) void panic_at(const char *file, int line,
                                                              const char *fmt, ...);
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

/* Bad machine or configuration: say what and how to fix it, then stop. */
__attribute__((noreturn, format(printf, 1, 2))) void refuse(const char *fmt, ...);

/* Stops the machine after a final message; never returns. */
__attribute__((noreturn)) void hv_halt(void);

#define BUG_ON(c)                                                                                  \
        do {                                                                                       \
                if (c)                                                                             \
                        panic("BUG: %s", #c);                                                      \
        } while (0)

#endif
