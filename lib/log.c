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

#ifndef VTV_HOST_TEST
/* Stack canaries (-fstack-protector-strong, Makefile): the guard every
 * protected function copies below its return address, made unguessable at
 * boot (log_init_canary), and what runs when a copy was overwritten. */
uintptr_t __stack_chk_guard = 0x2f8d3a5bc61e9407ULL;
__attribute__((noreturn)) void __stack_chk_fail(void);
__attribute__((noreturn)) void __stack_chk_fail(void)
{
        panic("stack smashing detected: a stack canary was overwritten (a buffer overflow on a "
              "hypervisor stack)");
}

void log_init_canary(uint64_t seed)
{
        __stack_chk_guard ^= (uintptr_t)(seed * 0x9e3779b97f4a7c15ULL);
}
#endif

#define BACKTRACE_MAX  16
#define FRAME_STEP_MAX 0x100000 /* a caller's frame lies within 1 MiB above */

void log_backtrace(const void *frame)
{
        char buf[LOG_LINE_MAX];
        size_t n = (size_t)vtv_snprintf(buf, sizeof(buf), "backtrace:");
        const uint64_t *fp = frame;
        for (unsigned i = 0; i < BACKTRACE_MAX && fp && !((uintptr_t)fp & 7); i++) {
                uint64_t ret = fp[1];
                if (!ret || n + 20 >= sizeof(buf))
                        break;
                n += (size_t)vtv_snprintf(buf + n, sizeof(buf) - n, " 0x%llx",
                                          (unsigned long long)ret);
                const uint64_t *next = (const uint64_t *)(uintptr_t)fp[0];
                if (next <= fp || (uintptr_t)next - (uintptr_t)fp > FRAME_STEP_MAX)
                        break;
                fp = next;
        }
        log_line("%s", buf);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
        char prefix[32];
        vtv_snprintf(prefix, sizeof(prefix),
                     "PANIC: cpu %u: ", output && output->cpu ? output->cpu() : 0);
        va_list ap;
        va_start(ap, fmt);
        vline(prefix, fmt, ap);
        va_end(ap);
        log_line("(hypervisor bug at %s:%d)", file, line);
        log_backtrace(__builtin_frame_address(0));
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
