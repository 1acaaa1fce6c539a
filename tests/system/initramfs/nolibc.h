/* What the initramfs's own little programs (rdtsc.c, tsccat.c) need
 * without a libc: a three-argument Linux x86-64 system call and the TSC.
 * They are built static with -nostdlib (tools/get-guest-linux.sh). */
#ifndef VTVISOR_INITRAMFS_NOLIBC_H
#define VTVISOR_INITRAMFS_NOLIBC_H

typedef unsigned long u64;

#define SYS_READ  0
#define SYS_WRITE 1
#define SYS_EXIT  60

static inline long sys3(long nr, long a, long b, long c)
{
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(nr), "D"(a), "S"(b), "d"(c)
                         : "rcx", "r11", "memory");
        return ret;
}

static inline u64 tsc(void)
{
        unsigned lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((u64)hi << 32) | lo;
}

#endif
