/* printf-style formatting without libc.
 *
 * Supported: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width and a
 * precision (numbers or '*'), length modifiers hh h l ll z.  Output goes to a
 * sink function so the same code serves the serial console and buffers. */
#ifndef VTV_LIB_PRINTF_H
#define VTV_LIB_PRINTF_H

#include <stdarg.h>
#include "lib/types.h"

typedef void (*fmt_sink_fn)(void *ctx, char c);

/* Returns the number of characters produced. */
size_t vtv_vformat(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap);

/* Like snprintf: always terminates when size > 0, returns the length the
 * full output would have had. */
size_t vtv_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t vtv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
