/* Tiny library for vtvisor's multiboot test guests: UART output, checks,
 * exception recording, debug exit, command-line parsing.  See guest.h. */
#include "guest.h"

#define UART_BASE 0x3f8
#define UART_LSR  (UART_BASE + 5)
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

uint32_t g_entry_eax, g_entry_ebx, g_entry_eflags, g_entry_cr0;
uint16_t g_entry_cs;
const struct mb_info *g_mbi;
const char *g_cmdline;
const uint8_t *g_mbi2;

volatile uint32_t g_recover;
volatile int g_fault_vector;
volatile uint32_t g_fault_error;
volatile uint32_t g_fault_eip;
volatile uint32_t g_fault_eflags;
volatile int g_catch_db;
volatile uint32_t g_db_count, g_db_eip, g_db_dr6;

unsigned g_passed, g_failed;

struct idt_gate {
        uint16_t off_lo;
        uint16_t sel;
        uint8_t zero;
        uint8_t type;
        uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(8)));
extern const uint32_t g_exc_stubs[32];
extern const uint32_t g_irq_stubs[224];
extern const uint32_t g_irq_stubs[224];

void guest_start(void);
void guest_exception(struct exc_frame *f);
void guest_irq(uint32_t vector);

volatile uint32_t g_irq_count[256];
volatile uint32_t g_irq_last;
void (*volatile g_irq_hook)(uint32_t vector);

void guest_irq(uint32_t vector)
{
        g_irq_count[vector & 255]++;
        g_irq_last = vector;
        if (g_irq_hook)
                g_irq_hook(vector);
}

/* ---- UART ---- */

static void uart_wait(uint8_t bits)
{
        /* Bounded: a UART that never reports "empty" must not hang the
         * guest silently; the bytes then show the problem. */
        for (uint32_t i = 0; i < 1000000; i++) {
                if ((inb(UART_LSR) & bits) == bits)
                        return;
        }
}

void uart_drain(void)
{
        uart_wait(LSR_THRE | LSR_TEMT);
}

void gputc(char c)
{
        uart_wait(LSR_THRE);
        outb(UART_BASE, (uint8_t)c);
}

void gputs(const char *s)
{
        while (*s)
                gputc(*s++);
}

static void put_unsigned(uint64_t v, unsigned base, int width, char pad)
{
        char buf[24];
        int n = 0;
        if (base == 16) {
                do {
                        buf[n++] = "0123456789abcdef"[v & 15];
                        v >>= 4;
                } while (v);
        } else {
                /* Only 32-bit division: no libgcc in the guests. */
                uint32_t w = (uint32_t)v;
                do {
                        buf[n++] = (char)('0' + w % 10);
                        w /= 10;
                } while (w);
        }
        while (n < width && n < (int)sizeof(buf))
                buf[n++] = pad;
        while (n > 0)
                gputc(buf[--n]);
}

/* Supports %s %c %d %u %x %llx %% with an optional 0 flag and width. */
void gvprintf(const char *fmt, va_list ap)
{
        for (; *fmt; fmt++) {
                if (*fmt != '%') {
                        gputc(*fmt);
                        continue;
                }
                fmt++;
                char pad = ' ';
                int width = 0, longs = 0;
                if (*fmt == '0') {
                        pad = '0';
                        fmt++;
                }
                while (*fmt >= '0' && *fmt <= '9')
                        width = width * 10 + (*fmt++ - '0');
                while (*fmt == 'l') {
                        longs++;
                        fmt++;
                }
                switch (*fmt) {
                case 's': {
                        const char *s = va_arg(ap, const char *);
                        gputs(s ? s : "(null)");
                        break;
                }
                case 'c':
                        gputc((char)va_arg(ap, int));
                        break;
                case 'd': {
                        int32_t v = va_arg(ap, int32_t);
                        if (v < 0) {
                                gputc('-');
                                put_unsigned((uint32_t)0 - (uint32_t)v, 10, width, pad);
                        } else {
                                put_unsigned((uint32_t)v, 10, width, pad);
                        }
                        break;
                }
                case 'u':
                        put_unsigned(va_arg(ap, uint32_t), 10, width, pad);
                        break;
                case 'x':
                        if (longs >= 2)
                                put_unsigned(va_arg(ap, uint64_t), 16, width, pad);
                        else
                                put_unsigned(va_arg(ap, uint32_t), 16, width, pad);
                        break;
                case '%':
                        gputc('%');
                        break;
                case '\0':
                        return;
                default:
                        gputc('%');
                        gputc(*fmt);
                        break;
                }
        }
}

void gprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        gvprintf(fmt, ap);
        va_end(ap);
}

/* ---- Checks ---- */

bool report(const char *name, bool cond)
{
        if (cond)
                g_passed++;
        else
                g_failed++;
        gprintf("%s: %s\n", cond ? "PASS" : "FAIL", name);
        return cond;
}

bool expect_eq32(const char *name, uint32_t got, uint32_t want)
{
        if (got == want)
                return report(name, true);
        g_failed++;
        gprintf("FAIL: %s (got 0x%x, want 0x%x)\n", name, got, want);
        return false;
}

bool expect_eq64(const char *name, uint64_t got, uint64_t want)
{
        if (got == want)
                return report(name, true);
        g_failed++;
        gprintf("FAIL: %s (got 0x%llx, want 0x%llx)\n", name, got, want);
        return false;
}

static void put_vec(int v)
{
        static const char *const names[32] = {
                "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS",
                "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
        };
        if (v == VEC_NONE)
                gputs("no exception");
        else if (v >= 0 && v < 32 && names[v])
                gputs(names[v]);
        else
                gprintf("vector %d", v);
}

bool expect_vec(const char *name, int got, int want)
{
        if (got == want)
                return report(name, true);
        g_failed++;
        gprintf("FAIL: %s (got ", name);
        put_vec(got);
        gputs(", want ");
        put_vec(want);
        gputs(")\n");
        return false;
}

/* ---- Exit ---- */

void guest_exit(uint8_t value)
{
        uart_drain();
        outb(0xf4, value);
        /* Only reached on bare Bochs (or if vtvisor ignored the write).
         * Bochs's UART may still hold the last byte: give it time. */
        spin(2000000);
        uart_drain();
        for (const char *s = "Shutdown"; *s; s++)
                outb(0x8900, (uint8_t)*s);
        for (;;)
                __asm__ volatile("cli; hlt");
}

/* ---- Exceptions ---- */

void guest_exception(struct exc_frame *f)
{
        if (f->vector == 1 && g_catch_db) {
                uint32_t dr6;
                __asm__ volatile("movl %%dr6, %0" : "=r"(dr6));
                g_db_count++;
                g_db_eip = f->eip;
                g_db_dr6 = dr6;
                f->eflags &= ~(1u << 8); /* TF */
                return;
        }
        g_fault_vector = (int)f->vector;
        g_fault_error = f->error;
        g_fault_eip = f->eip;
        g_fault_eflags = f->eflags;
        if (g_recover) {
                f->eip = g_recover;
                g_recover = 0;
                return;
        }
        g_failed++;
        gputs("FAIL: unexpected exception ");
        put_vec((int)f->vector);
        gprintf(" (error 0x%x) at eip 0x%08x\n", f->error, f->eip);
        gprintf("DONE: %u passed, %u failed\n", g_passed, g_failed);
        guest_exit(0x7f);
}

static void idt_init(void)
{
        for (int i = 0; i < 256; i++) {
                uint32_t stub = i < 32 ? g_exc_stubs[i] : g_irq_stubs[i - 32];
                idt[i].off_lo = (uint16_t)stub;
                idt[i].sel = 0x08;
                idt[i].zero = 0;
                idt[i].type = 0x8e; /* present, DPL 0, 32-bit interrupt gate */
                idt[i].off_hi = (uint16_t)(stub >> 16);
        }
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) desc = { sizeof(idt) - 1, (uint32_t)idt };
        __asm__ volatile("lidt %0" : : "m"(desc));
}

/* ---- Strings and command line ---- */

void *memset(void *d, int c, size_t n)
{
        uint8_t *p = d;
        while (n--)
                *p++ = (uint8_t)c;
        return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
        uint8_t *p = d;
        const uint8_t *q = s;
        while (n--)
                *p++ = *q++;
        return d;
}

size_t gstrlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

int gstrncmp(const char *a, const char *b, size_t n)
{
        for (; n; n--, a++, b++) {
                if (*a != *b)
                        return (unsigned char)*a - (unsigned char)*b;
                if (!*a)
                        return 0;
        }
        return 0;
}

int gstrcmp(const char *a, const char *b)
{
        return gstrncmp(a, b, (size_t)-1);
}

bool cmdline_word(unsigned n, char *buf, size_t size)
{
        const char *p = g_cmdline;
        bool first = true;
        for (;;) {
                while (*p == ' ')
                        p++;
                if (!*p)
                        return false;
                const char *start = p;
                while (*p && *p != ' ')
                        p++;
                if (first && *start == '/') {
                        first = false;
                        continue;
                }
                first = false;
                if (n-- == 0) {
                        size_t len = (size_t)(p - start);
                        if (len >= size)
                                len = size - 1;
                        memcpy(buf, start, len);
                        buf[len] = '\0';
                        return true;
                }
        }
}

uint64_t spin_until_tsc(uint64_t until, uint64_t *worst)
{
        uint64_t now;
        do {
                uint64_t before = rdtsc();
                now = rdtsc();
                if (now - before > *worst)
                        *worst = now - before;
        } while (now < until);
        return now;
}

uint32_t cmdline_number(const char *key, uint32_t dflt)
{
        char buf[24];
        uint64_t n;
        if (!cmdline_value(key, buf, sizeof(buf)) || !parse_number(buf, &n))
                return dflt;
        return (uint32_t)n;
}

bool cmdline_value(const char *key, char *buf, size_t size)
{
        size_t klen = gstrlen(key);
        char word[128];
        for (unsigned i = 0; cmdline_word(i, word, sizeof(word)); i++) {
                if (gstrncmp(word, key, klen) == 0 && word[klen] == '=') {
                        size_t len = gstrlen(word + klen + 1);
                        if (len >= size)
                                len = size - 1;
                        memcpy(buf, word + klen + 1, len);
                        buf[len] = '\0';
                        return true;
                }
        }
        return false;
}

bool cmdline_has_word(const char *word)
{
        char w[128];
        for (unsigned i = 0; cmdline_word(i, w, sizeof(w)); i++) {
                if (gstrcmp(w, word) == 0)
                        return true;
        }
        return false;
}

bool parse_number(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        bool any = false;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                s += 2;
                for (;; s++, any = true) {
                        char c = *s;
                        unsigned d;
                        if (c >= '0' && c <= '9')
                                d = (unsigned)(c - '0');
                        else if (c >= 'a' && c <= 'f')
                                d = (unsigned)(c - 'a' + 10);
                        else if (c >= 'A' && c <= 'F')
                                d = (unsigned)(c - 'A' + 10);
                        else
                                break;
                        v = (v << 4) | d;
                }
        } else {
                for (; *s >= '0' && *s <= '9'; s++, any = true)
                        v = v * 10 + (uint64_t)(*s - '0');
        }
        if (!any)
                return false;
        switch (*s) {
        case 'K':
        case 'k':
                v <<= 10;
                s++;
                break;
        case 'M':
        case 'm':
                v <<= 20;
                s++;
                break;
        case 'G':
        case 'g':
                v <<= 30;
                s++;
                break;
        }
        if (*s)
                return false;
        *out = v;
        return true;
}

/* ---- Misc ---- */

bool under_vtvisor(void)
{
        struct cpuid_regs r = cpuid(1, 0);
        if (!(r.ecx & (1u << 31)))
                return false;
        r = cpuid(0x40000000, 0);
        return r.ebx == 0x69767476 && r.ecx == 0x00726f73 && r.edx == 0;
}

void spin(uint32_t n)
{
        if (!n)
                return;
        __asm__ volatile("1: decl %0\n\tjnz 1b" : "+r"(n));
}

/* ---- Multiboot2 ---- */

const struct mb2_tag *mb2_find(uint32_t type, unsigned nth)
{
        if (!g_mbi2)
                return NULL;
        uint32_t total = *(const uint32_t *)g_mbi2;
        for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
                const struct mb2_tag *t = (const struct mb2_tag *)(g_mbi2 + off);
                if (t->size < sizeof(*t) || t->size > total - off)
                        return NULL;
                if (t->type == type && nth-- == 0)
                        return t;
                if (t->type == MB2_TAG_END)
                        return NULL;
                off += (t->size + 7) & ~7u;
        }
        return NULL;
}

/* ---- Start ---- */

void guest_start(void)
{
        /* Library state is initialised explicitly, so a loader that fails to
         * zero .bss shows up in the guests' own checks, not here. */
        g_recover = 0;
        g_fault_vector = VEC_NONE;
        g_passed = 0;
        g_failed = 0;
        g_mbi = NULL;
        g_mbi2 = NULL;
        g_cmdline = "";
        idt_init();
        /* Bare Bochs: nobody set the line format and Bochs's UART then
         * sends 5-bit characters.  vtvisor's UART needs no set-up (the
         * "uart init" case tests programming it). */
        if (!under_vtvisor())
                outb(UART_BASE + 3, 0x03); /* LCR: 8N1 */

        if (g_entry_eax == MB_BOOT_MAGIC) {
                g_mbi = (const struct mb_info *)g_entry_ebx;
                if ((g_mbi->flags & MB_INFO_CMDLINE) && g_mbi->cmdline)
                        g_cmdline = (const char *)g_mbi->cmdline;
        } else if (g_entry_eax == MB2_BOOT_MAGIC) {
                g_mbi2 = (const uint8_t *)g_entry_ebx;
                const struct mb2_tag *t = mb2_find(MB2_TAG_CMDLINE, 0);
                if (t && t->size > sizeof(*t))
                        g_cmdline = (const char *)(t + 1);
        }

        /* "delay=N": spin about 2N million instructions first (lets a test
         * order this VM after another one). */
        char buf[32];
        uint64_t n;
        if (cmdline_value("delay", buf, sizeof(buf)) && parse_number(buf, &n)) {
                for (uint64_t i = 0; i < n; i++)
                        spin(1000000);
        }

        guest_main();

        gprintf("DONE: %u passed, %u failed\n", g_passed, g_failed);
        if (g_passed == 0 && g_failed == 0)
                guest_exit(0x7e);
        guest_exit((uint8_t)(g_failed > 127 ? 127 : g_failed));
}
