/* tsccat N: copies standard input to standard output and, at the end,
 * writes "first=T0 last=T1 bytes=B" to standard error: the TSC when the
 * first byte arrived and when the N-th did (or the input ended), and how
 * many bytes came.  The network benchmark's receiver (Bochs: one TSC tick
 * per instruction).  A static Linux x86-64 program with no libc, as
 * rdtsc.c. */
#include "nolibc.h"

static int put_num(char *p, u64 v)
{
        char tmp[24];
        int n = 0, k = 0;
        do {
                tmp[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (n)
                p[k++] = tmp[--n];
        return k;
}

static int put_str(char *p, const char *s)
{
        int k = 0;
        while (s[k]) {
                p[k] = s[k];
                k++;
        }
        return k;
}

static char buf[65536];

/* The kernel starts us with argc, argv[0], argv[1]... at the stack
 * pointer: hand that to C on an aligned stack. */
__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall cstart\n");

void cstart(const long *sp) __attribute__((noreturn, used));
void cstart(const long *sp)
{
        u64 want = 0;
        if (sp[0] > 1)
                for (const char *s = (const char *)sp[2]; *s >= '0' && *s <= '9'; s++)
                        want = want * 10 + (u64)(*s - '0');
        u64 first = 0, last = 0, total = 0;
        for (;;) {
                long n = sys3(SYS_READ, 0, (long)buf, sizeof(buf));
                if (n <= 0)
                        break;
                if (!total)
                        first = tsc();
                total += (u64)n;
                if (!last && want && total >= want)
                        last = tsc();
                for (long off = 0; off < n;) {
                        long w = sys3(SYS_WRITE, 1, (long)(buf + off), n - off);
                        if (w <= 0)
                                break;
                        off += w;
                }
        }
        if (!last)
                last = tsc();
        char line[96];
        int k = put_str(line, "first=");
        k += put_num(line + k, first);
        k += put_str(line + k, " last=");
        k += put_num(line + k, last);
        k += put_str(line + k, " bytes=");
        k += put_num(line + k, total);
        line[k++] = '\n';
        sys3(SYS_WRITE, 2, (long)line, k);
        sys3(SYS_EXIT, 0, 0, 0);
        for (;;)
                ;
}
