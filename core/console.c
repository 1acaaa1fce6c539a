#include "core/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/serial.h"
#include "lib/log.h"
#include "lib/string.h"

/* The VM whose unfinished line is on screen, its "[NAME] " already shown. */
static const void *open_owner;

static void serial_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                serial_putc(s[i]);
}

void console_break(void)
{
        if (open_owner) {
                serial_write("\n", 1);
                open_owner = NULL;
        }
}

void console_guest(const void *owner, const char *name, const char *text, size_t len, bool complete)
{
        if (open_owner != owner) {
                console_break();
                serial_write("[", 1);
                serial_write(name, vtv_strlen(name));
                serial_write("] ", 2);
        }
        serial_write(text, len);
        if (complete) {
                serial_write("\n", 1);
                open_owner = NULL;
        } else {
                open_owner = owner;
        }
}

static void hypervisor_line(const char *text, size_t len)
{
        console_break();
        serial_write(text, len);
}

__attribute__((noreturn)) static void console_halt(void)
{
        serial_flush();
        cpu_halt_forever();
}

static const struct log_output console_output = {
        .line = hypervisor_line,
        .halt = console_halt,
};

void console_init(void)
{
        serial_init();
        log_set_output(&console_output);
}
