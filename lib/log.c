#include "lib/log.h"
#include "lib/printf.h"

static const struct log_output *output;

void log_set_output(const struct log_output *out)
{
        output = out;
}

/* Formats "vtvisor: PREFIX" + the message + "\n" into one buffer, so the
 * output gets the line whole. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
        char buf[LOG_LINE_MAX + 1];
        size_t n = vtv_snprintf(buf, sizeof(buf), "vtvisor: %s", prefix);
        if (n < LOG_LINE_MAX)
                n += vtv_vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
        if (n >= LOG_LINE_MAX) {
                /* Cut: mark it so a reader knows. */
                n = LOG_LINE_MAX - 4;
                buf[n++] = '.';
                buf[n++] = '.';
                buf[n++] = '.';
        }
        buf[n++] = '\n';
        if (output)
                output->line(buf, n);
}

void log_line(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vline("", fmt, ap);
        va_end(ap);
}

void hv_halt(void)
{
        log_line("halted");
        if (output)
                output->halt();
        /* No output to stop the machine: nothing better than to spin. */
        for (;;)
                ;
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vline("PANIC: ", fmt, ap);
        va_end(ap);
        log_line("(hypervisor bug at %s:%d)", file, line);
        hv_halt();
}

void refuse(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vline("refused: ", fmt, ap);
        va_end(ap);
        hv_halt();
}
