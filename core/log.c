#include "core/log.h"
#include "core/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/serial.h"
#include "lib/printf.h"

static void serial_sink(void *ctx, char c)
{
        UNUSED(ctx);
        serial_putc(c);
}

void log_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                serial_putc(s[i]);
}

void log_printf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vtv_vformat(serial_sink, NULL, fmt, ap);
        va_end(ap);
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
        console_break();
        log_printf("vtvisor: %s", prefix);
        vtv_vformat(serial_sink, NULL, fmt, ap);
        serial_putc('\n');
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
        serial_flush();
        cpu_halt_forever();
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
