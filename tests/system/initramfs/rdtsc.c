/* Prints the TSC in decimal: /init's first act, so the benchmark can count
 * the instructions from kernel entry to /init (Bochs: one TSC tick per
 * instruction).  A static Linux x86-64 program with no libc: two system
 * calls, write and exit. */
#include "nolibc.h"

void _start(void) __attribute__((noreturn));
void _start(void)
{
        u64 v = tsc();
        char buf[24];
        int n = sizeof(buf);
        buf[--n] = '\n';
        do {
                buf[--n] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        sys3(SYS_WRITE, 1, (long)(buf + n), (long)(sizeof(buf) - n));
        sys3(SYS_EXIT, 0, 0, 0);
        for (;;)
                ;
}
