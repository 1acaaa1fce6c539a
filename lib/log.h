/* Hypervisor messages, the panic path and boot refusals: the ground floor
 * every layer may call.  Every hypervisor line starts with "vtvisor: ".
 *
 * The log formats whole lines and hands each to one output (a struct
 * log_output) that the layer owning the physical console registers at boot
 * (core/console.c): so arch/, vmx/ and ept/ can log without depending on
 * that layer, and a line reaches the output in one piece, never interleaved
 * with another.  Before an output is registered lines are dropped.  Pure:
 * the host unit tests register a recording output. */
#ifndef VTV_LIB_LOG_H
#define VTV_LIB_LOG_H

#include "lib/types.h"

/* A line longer than this is cut, ending in "...". */
#define LOG_LINE_MAX 320

struct log_output {
        /* One complete line, newline included. */
        void (*line)(const char *text, size_t len);
        /* Flushes what was written and stops the machine (never returns). */
        __attribute__((noreturn)) void (*halt)(void);
        /* The CPU this runs on, for panic messages (NULL: not known). */
        unsigned (*cpu)(void);
};

void log_set_output(const struct log_output *out);

/* One line with the "vtvisor: " prefix and a newline added. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A hypervisor bug: print where and why, then stop the machine. */
__attribute__((noreturn, format(printf, 3, 4))) void panic_at(const char *file, int line,
                                                              const char *fmt, ...);
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

/* One line "backtrace: 0x... 0x..." of the return addresses up the frame
 * pointer chain from frame (an RBP value; vtvisor keeps frame pointers),
 * at most 16, stopping where the chain stops going up the stack. */
void log_backtrace(const void *frame);

/* Mixes seed into the stack-canary guard; call once, early, from a
 * function that never returns. */
void log_init_canary(uint64_t seed);

/* Bad machine or configuration: say what and how to fix it, then stop. */
__attribute__((noreturn, format(printf, 1, 2))) void refuse(const char *fmt, ...);

/* Stops the machine after a final "halted" line; never returns. */
__attribute__((noreturn)) void hv_halt(void);

#define BUG_ON(c)                                                                                  \
        do {                                                                                       \
                if (c)                                                                             \
                        panic("BUG: %s", #c);                                                      \
        } while (0)

#endif
