#include "lib/string.h"

/* The compiler may emit calls to memset/memcpy/memmove/memcmp for struct
 * copies and zeroing, so the freestanding build provides them under their
 * standard names (see lib/libc_names.c); everything else calls vtv_*. */

/* In the hypervisor, memset and memcpy are x86 string instructions: a VM's
 * RAM is cleared before it runs, and a byte loop over 256 MiB costs about
 * 10^9 instructions where REP STOSQ needs 1/8 of a pass (and CPUs with fast
 * string operations do better still).  DF is clear (the ABI, and boot.S).
 * The host unit tests keep the plain loops, so ASan sees every access. */
#if defined(VTV_HOST_TEST) || !defined(__x86_64__)
void *vtv_memset(void *dst, int c, size_t n)
{
        unsigned char *d = dst;
        while (n--)
                *d++ = (unsigned char)c;
        return dst;
}

void *vtv_memcpy(void *dst, const void *src, size_t n)
{
        unsigned char *d = dst;
        const unsigned char *s = src;
        while (n--)
                *d++ = *s++;
        return dst;
}
#else
void *vtv_memset(void *dst, int c, size_t n)
{
        uint64_t pattern = 0x0101010101010101ULL * (unsigned char)c;
        size_t quads = n / 8, rest = n % 8;
        void *d = dst;
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(rest) : "a"(pattern) : "memory");
        return dst;
}

void *vtv_memcpy(void *dst, const void *src, size_t n)
{
        size_t quads = n / 8, rest = n % 8;
        void *d = dst;
        const void *s = src;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(quads) : : "memory");
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(rest) : : "memory");
        return dst;
}
#endif

void *vtv_memmove(void *dst, const void *src, size_t n)
{
        unsigned char *d = dst;
        const unsigned char *s = src;
        if (d == s || n == 0)
                return dst;
        if (d < s) {
                while (n--)
                        *d++ = *s++;
        } else {
                while (n--)
                        d[n] = s[n];
        }
        return dst;
}

int vtv_memcmp(const void *a, const void *b, size_t n)
{
        const unsigned char *x = a, *y = b;
        for (size_t i = 0; i < n; i++) {
                if (x[i] != y[i])
                        return x[i] < y[i] ? -1 : 1;
        }
        return 0;
}

size_t vtv_strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

size_t vtv_strnlen(const char *s, size_t max)
{
        size_t n = 0;
        while (n < max && s[n])
                n++;
        return n;
}

int vtv_strcmp(const char *a, const char *b)
{
        while (*a && *a == *b) {
                a++;
                b++;
        }
        return (unsigned char)*a - (unsigned char)*b;
}

int vtv_strncmp(const char *a, const char *b, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (a[i] != b[i] || !a[i])
                        return (unsigned char)a[i] - (unsigned char)b[i];
        }
        return 0;
}

size_t vtv_strlcpy(char *dst, const char *src, size_t size)
{
        size_t len = vtv_strlen(src);
        if (size) {
                size_t n = len < size - 1 ? len : size - 1;
                vtv_memcpy(dst, src, n);
                dst[n] = '\0';
        }
        return len;
}

int vtv_digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

bool vtv_parse_u64(const char *s, size_t len, uint64_t *out)
{
        uint64_t base = 10, v = 0;
        size_t i = 0;

        if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                i = 2;
        }
        if (i == len)
                return false;
        size_t digits = 0;
        for (; i < len; i++) {
                int d = vtv_digit_value(s[i]);
                if (d < 0 || (uint64_t)d >= base)
                        break;
                if (v > (UINT64_MAX - (uint64_t)d) / base)
                        return false;
                v = v * base + (uint64_t)d;
                digits++;
        }
        if (!digits)
                return false;
        if (i < len) {
                unsigned shift;
                switch (s[i]) {
                case 'K':
                case 'k':
                        shift = 10;
                        break;
                case 'M':
                case 'm':
                        shift = 20;
                        break;
                case 'G':
                case 'g':
                        shift = 30;
                        break;
                default:
                        return false;
                }
                if (i + 1 != len)
                        return false;
                if (v > (UINT64_MAX >> shift))
                        return false;
                v <<= shift;
        }
        *out = v;
        return true;
}
