#include "lib/printf.h"
#include "lib/string.h"

struct fmt_spec {
        bool left;
        bool zero;
        int width;
        int precision; /* -1: none */
        int length;    /* 0 int, 1 long, 2 long long/size_t, -1 short, -2 char */
};

struct counting_sink {
        fmt_sink_fn sink;
        void *ctx;
        size_t count;
};

static void put(struct counting_sink *cs, char c)
{
        cs->sink(cs->ctx, c);
        cs->count++;
}

static void pad(struct counting_sink *cs, char c, int n)
{
        while (n-- > 0)
                put(cs, c);
}

static void emit_string(struct counting_sink *cs, const struct fmt_spec *sp, const char *s)
{
        if (!s)
                s = "(null)";
        size_t len = sp->precision >= 0 ? vtv_strnlen(s, (size_t)sp->precision) : vtv_strlen(s);
        int padding = sp->width > (int)len ? sp->width - (int)len : 0;
        if (!sp->left)
                pad(cs, ' ', padding);
        for (size_t i = 0; i < len; i++)
                put(cs, s[i]);
        if (sp->left)
                pad(cs, ' ', padding);
}

static void emit_number(struct counting_sink *cs, const struct fmt_spec *sp, uint64_t v,
                        bool negative, unsigned base, bool upper, const char *prefix)
{
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[24];
        int n = 0;

        do {
                tmp[n++] = digits[v % base];
                v /= base;
        } while (v);

        int prec = sp->precision > n ? sp->precision : n;
        int plen = (int)vtv_strlen(prefix) + (negative ? 1 : 0);
        int total = prec + plen;
        int padding = sp->width > total ? sp->width - total : 0;
        bool zero_pad = sp->zero && !sp->left && sp->precision < 0;

        if (!sp->left && !zero_pad)
                pad(cs, ' ', padding);
        if (negative)
                put(cs, '-');
        for (const char *p = prefix; *p; p++)
                put(cs, *p);
        if (zero_pad)
                pad(cs, '0', padding);
        pad(cs, '0', prec - n);
        while (n)
                put(cs, tmp[--n]);
        if (sp->left)
                pad(cs, ' ', padding);
}

static uint64_t fetch_unsigned(va_list *ap, int length)
{
        switch (length) {
        case -2:
                return (unsigned char)va_arg(*ap, unsigned int);
        case -1:
                return (unsigned short)va_arg(*ap, unsigned int);
        case 1:
                return va_arg(*ap, unsigned long);
        case 2:
                return va_arg(*ap, unsigned long long);
        default:
                return va_arg(*ap, unsigned int);
        }
}

static int64_t fetch_signed(va_list *ap, int length)
{
        switch (length) {
        case -2:
                return (signed char)va_arg(*ap, int);
        case -1:
                return (short)va_arg(*ap, int);
        case 1:
                return va_arg(*ap, long);
        case 2:
                return va_arg(*ap, long long);
        default:
                return va_arg(*ap, int);
        }
}

static int parse_int(const char **fmt, va_list *ap)
{
        if (**fmt == '*') {
                (*fmt)++;
                return va_arg(*ap, int);
        }
        int v = 0;
        while (**fmt >= '0' && **fmt <= '9') {
                if (v < 100000)
                        v = v * 10 + (**fmt - '0');
                (*fmt)++;
        }
        return v;
}

size_t vtv_vformat(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap_in)
{
        struct counting_sink cs = { .sink = sink, .ctx = ctx, .count = 0 };
        va_list ap;
        va_copy(ap, ap_in);

        for (; *fmt; fmt++) {
                if (*fmt != '%') {
                        put(&cs, *fmt);
                        continue;
                }
                fmt++;
                struct fmt_spec sp = { .precision = -1 };
                for (;; fmt++) {
                        if (*fmt == '-')
                                sp.left = true;
                        else if (*fmt == '0')
                                sp.zero = true;
                        else
                                break;
                }
                sp.width = parse_int(&fmt, &ap);
                if (sp.width < 0) {
                        sp.left = true;
                        sp.width = -sp.width;
                }
                if (*fmt == '.') {
                        fmt++;
                        sp.precision = parse_int(&fmt, &ap);
                        if (sp.precision < 0)
                                sp.precision = -1;
                }
                if (*fmt == 'h') {
                        fmt++;
                        sp.length = -1;
                        if (*fmt == 'h') {
                                fmt++;
                                sp.length = -2;
                        }
                } else if (*fmt == 'l') {
                        fmt++;
                        sp.length = 1;
                        if (*fmt == 'l') {
                                fmt++;
                                sp.length = 2;
                        }
                } else if (*fmt == 'z') {
                        fmt++;
                        sp.length = 2;
                }

                switch (*fmt) {
                case 'd':
                case 'i': {
                        int64_t v = fetch_signed(&ap, sp.length);
                        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
                        emit_number(&cs, &sp, mag, v < 0, 10, false, "");
                        break;
                }
                case 'u':
                        emit_number(&cs, &sp, fetch_unsigned(&ap, sp.length), false, 10, false, "");
                        break;
                case 'x':
                case 'X':
                        emit_number(&cs, &sp, fetch_unsigned(&ap, sp.length), false, 16,
                                    *fmt == 'X', "");
                        break;
                case 'p':
                        emit_number(&cs, &sp, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16,
                                    false, "0x");
                        break;
                case 's':
                        emit_string(&cs, &sp, va_arg(ap, const char *));
                        break;
                case 'c': {
                        char c[2] = { (char)va_arg(ap, int), 0 };
                        struct fmt_spec one = sp;
                        one.precision = 1;
                        if (c[0] == 0) {
                                /* emit_string stops at NUL; print it raw. */
                                int padding = sp.width > 1 ? sp.width - 1 : 0;
                                if (!sp.left)
                                        pad(&cs, ' ', padding);
                                put(&cs, 0);
                                if (sp.left)
                                        pad(&cs, ' ', padding);
                                break;
                        }
                        emit_string(&cs, &one, c);
                        break;
                }
                case '%':
                        put(&cs, '%');
                        break;
                case '\0':
                        fmt--; /* a lone '%' at the end: stop */
                        break;
                default:
                        /* Unknown conversion: show it rather than guess. */
                        put(&cs, '%');
                        put(&cs, *fmt);
                        break;
                }
        }
        va_end(ap);
        return cs.count;
}

struct buf_sink {
        char *buf;
        size_t size;
        size_t pos;
};

static void buf_put(void *ctx, char c)
{
        struct buf_sink *b = ctx;
        if (b->size && b->pos < b->size - 1)
                b->buf[b->pos] = c;
        b->pos++;
}

size_t vtv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
        struct buf_sink b = { .buf = buf, .size = size, .pos = 0 };
        size_t n = vtv_vformat(buf_put, &b, fmt, ap);
        if (size)
                buf[b.pos < size ? b.pos : size - 1] = '\0';
        return n;
}

size_t vtv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        size_t n = vtv_vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return n;
}
