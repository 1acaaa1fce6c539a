/* Prints the TSC in decimal: /init's first act, so the benchmark can count
 * the instructions from kernel entry to /init (Bochs: one TSC tick per
 * instruction).  A static Linux x86-64 program with no libc: two system
 * calls, write and exit. */
typedef unsigned long u64;

static long sys3(long nr, long a, long b, long c)
{
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(nr), "D"(a), "S"(b), "d"(c)
                         : "rcx", "r11", "memory");
        return ret;
}

void _start(void) __attribute__((noreturn));
void _start(void)
{
        unsigned lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        u64 v = ((u64)hi << 32) | lo;
        char buf[24];
        int n = sizeof(buf);
        buf[--n] = '\n';
        do {
                buf[--n] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        sys3(1 /* write */, 1, (long)(buf + n), (long)(sizeof(buf) - n));
        sys3(60 /* exit */, 0, 0, 0);
        for (;;)
                ;
}
