#include "core/console.h"
#include "core/log.h"

/* The VM whose unfinished line is on screen, its "[NAME] " already shown. */
static const void *open_owner;

void console_break(void)
{
        if (open_owner) {
                log_write("\n", 1);
                open_owner = NULL;
        }
}

void console_guest(const void *owner, const char *name, const char *text, size_t len, bool complete)
{
        if (open_owner != owner) {
                console_break();
                log_printf("[%s] ", name);
        }
        log_write(text, len);
        if (complete) {
                log_write("\n", 1);
                open_owner = NULL;
        } else {
                open_owner = owner;
        }
}
