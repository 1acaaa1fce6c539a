#include "core/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/smp.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/serial.h"
#include "lib/log.h"
#include "lib/string.h"

/* console_lock protects COM1 and open_owner: every line, a guest's or the
 * hypervisor's, goes out whole under it.  Innermost of all locks. */
static struct spinlock console_lock = SPINLOCK_INIT;

/* The VM whose unfinished line is on screen, its "[NAME] " already shown. */
static const void *open_owner;

static void serial_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                serial_putc(s[i]);
}

static void console_break_locked(void)
{
        if (open_owner) {
                serial_write("\n", 1);
                open_owner = NULL;
        }
}

void console_guest(const void *owner, const char *name, const char *text, size_t len, bool complete)
{
        spin_lock(&console_lock);
        if (open_owner != owner) {
                console_break_locked();
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
        spin_unlock(&console_lock);
}

static void hypervisor_line(const char *text, size_t len)
{
        spin_lock(&console_lock);
        console_break_locked();
        serial_write(text, len);
        spin_unlock(&console_lock);
}

__attribute__((noreturn)) static void console_halt(void)
{
        /* Whatever the other CPUs were doing stops here too. */
        desc_panic_begin();
        smp_stop_others();
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
