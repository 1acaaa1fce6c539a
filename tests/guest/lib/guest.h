/* Tiny library for vtvisor's multiboot test guests (32-bit, no libc).
 *
 * A guest defines guest_main(); the library has already set up a stack, a
 * flat GDT and an IDT whose handlers record exceptions.  guest_main() checks
 * things with report()/expect_eq*(), which print "PASS: name" or
 * "FAIL: name" on the UART; when it returns the library prints
 * "DONE: P passed, F failed" and exits through the debug-exit port 0xF4
 * with value min(F, 127), so vtvisor reports "debug exit, code 1" exactly
 * when every check passed.  See tests/guest/README.md. */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Multiboot v1 information (as handed over in EBX) ---- */
#define MB_BOOT_MAGIC   0x2badb002u
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)
#define MB_INFO_LOADER  (1u << 9)

struct mb_info {
        uint32_t flags;
        uint32_t mem_lower;
        uint32_t mem_upper;
        uint32_t boot_device;
        uint32_t cmdline;
        uint32_t mods_count;
        uint32_t mods_addr;
        uint32_t syms[4];
        uint32_t mmap_length;
        uint32_t mmap_addr;
        uint32_t drives_length;
        uint32_t drives_addr;
        uint32_t config_table;
        uint32_t boot_loader_name;
} __attribute__((packed));

struct mb_mmap_entry {
        uint32_t size; /* of the rest of the entry, normally 20 */
        uint64_t addr;
        uint64_t len;
        uint32_t type;
} __attribute__((packed));

/* ---- Multiboot2 information (Multiboot2 Specification 1.0, 3.6) ---- */
#define MB2_BOOT_MAGIC  0x36d76289u
#define MB2_TAG_END     0
#define MB2_TAG_CMDLINE 1

struct mb2_tag {
        uint32_t type;
        uint32_t size; /* of the tag with its header, without padding */
};

/* The multiboot2 information, or NULL when EAX did not hold its magic. */
extern const uint8_t *g_mbi2;
/* Its nth (0-based) tag of this type, or NULL; tags are walked only
 * while they stay inside total_size. */
const struct mb2_tag *mb2_find(uint32_t type, unsigned nth);

/* ---- State recorded by the entry stub ---- */
extern uint32_t g_entry_eax, g_entry_ebx, g_entry_eflags, g_entry_cr0;
extern uint16_t g_entry_cs;
/* Multiboot information, or NULL when EAX did not hold the magic. */
extern const struct mb_info *g_mbi;
/* The guest's command line ("" when there is none). */
extern const char *g_cmdline;

/* ---- Exceptions ----
 * Before an instruction that may fault, set g_recover to the address to
 * resume at and g_fault_vector to -1; the handler records the vector and
 * error code and resumes at g_recover (clearing it).  An exception with
 * g_recover == 0 is unexpected: it is reported as a FAIL and the guest
 * exits.  The try_* helpers below wrap this. */
struct exc_frame {
        uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
        uint32_t vector, error;
        uint32_t eip, cs, eflags;
};
extern volatile uint32_t g_recover;
extern volatile int g_fault_vector;
extern volatile uint32_t g_fault_error;
extern volatile uint32_t g_fault_eip;
extern volatile uint32_t g_fault_eflags; /* EFLAGS as the fault pushed them */
/* With g_catch_db set, a #DB is counted (g_db_count, g_db_eip, g_db_dr6)
 * and the trap flag cleared in the frame, so single-stepping stops there. */
extern volatile int g_catch_db;
extern volatile uint32_t g_db_count, g_db_eip, g_db_dr6;

#define VEC_NONE (-1)
#define VEC_UD   6
#define VEC_GP   13

/* Resume address for a single faulting instruction:
 *   "movl $1f, g_recover" INSN "1: movl $0, g_recover" */
#define TRY_BEGIN "movl $1f, g_recover\n\t"
#define TRY_END   "\n1:\n\tmovl $0, g_recover\n\t"

static inline void fault_arm(void)
{
        g_fault_vector = VEC_NONE;
        g_fault_error = 0;
}

/* ---- Interrupts (vectors 32-255) ----
 * Every vector has a gate; the handler counts it, remembers it and calls
 * g_irq_hook (if set) before returning.  EOIs are the test's business. */
extern volatile uint32_t g_irq_count[256];
extern volatile uint32_t g_irq_last;
extern void (*volatile g_irq_hook)(uint32_t vector);

/* ---- Output, checks, exit ---- */
void gputc(char c);
void gputs(const char *s); /* no newline added */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gvprintf(const char *fmt, va_list ap);

bool report(const char *name, bool cond);
bool expect_eq32(const char *name, uint32_t got, uint32_t want);
bool expect_eq64(const char *name, uint64_t got, uint64_t want);
/* Expects the last try_* to have raised exception `want` (VEC_NONE: none). */
bool expect_vec(const char *name, int got, int want);
extern unsigned g_passed, g_failed;

/* Waits for the UART to drain, writes value to port 0xF4 (vtvisor ends the
 * VM with code (value << 1) | 1).  On bare Bochs port 0xF4 does nothing, so
 * it then shuts Bochs down through port 0x8900, and halts. */
void guest_exit(uint8_t value) __attribute__((noreturn));
void uart_drain(void);

/* Implemented by each guest. */
void guest_main(void);

/* ---- Command line ---- */
/* The value of "key=value" in the command line, copied into buf (returns
 * false when absent). */
bool cmdline_value(const char *key, char *buf, size_t size);
bool cmdline_has_word(const char *word);
/* Word n (0-based) of the command line, skipping a leading path ("/...")
 * that GRUB puts in front when a guest boots on bare Bochs. */
bool cmdline_word(unsigned n, char *buf, size_t size);
/* Parses decimal, 0x-hex, and K/M/G suffixes. */
bool parse_number(const char *s, uint64_t *out);
/* The number given as KEY=N on the command line (decimal or 0x hex), or dflt. */
uint32_t cmdline_number(const char *key, uint32_t dflt);
/* Spins until the TSC reaches until; *worst keeps the longest gap seen
 * between two TSC reads (time the vCPU did not run).  Returns the TSC. */
uint64_t spin_until_tsc(uint64_t until, uint64_t *worst);

/* ---- Misc ---- */
size_t gstrlen(const char *s);
int gstrcmp(const char *a, const char *b);
int gstrncmp(const char *a, const char *b, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
/* True when CPUID 0x40000000 reports vtvisor's signature. */
bool under_vtvisor(void);
/* Busy loop of about 2 * n instructions. */
void spin(uint32_t n);

/* ---- Instructions ---- */
struct cpuid_regs {
        uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
        struct cpuid_regs r;
        __asm__ volatile("cpuid"
                         : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                         : "a"(leaf), "c"(subleaf));
        return r;
}

static inline void outb(uint16_t port, uint8_t v)
{
        __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
        __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
        __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint16_t inw(uint16_t port)
{
        uint16_t v;
        __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint32_t inl(uint16_t port)
{
        uint32_t v;
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}

static inline uint64_t rdtsc(void)
{
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t read_cr0(void)
{
        uint32_t v;
        __asm__ volatile("movl %%cr0, %0" : "=r"(v));
        return v;
}
static inline uint32_t read_cr4(void)
{
        uint32_t v;
        __asm__ volatile("movl %%cr4, %0" : "=r"(v));
        return v;
}
static inline uint32_t read_eflags(void)
{
        uint32_t v;
        __asm__ volatile("pushfl\n\tpopl %0" : "=r"(v));
        return v;
}

/* rdmsr; returns the exception vector raised or VEC_NONE. */
static inline int try_rdmsr(uint32_t msr, uint64_t *val)
{
        uint32_t lo = 0, hi = 0;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "rdmsr" TRY_END : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
        *val = ((uint64_t)hi << 32) | lo;
        return g_fault_vector;
}

static inline int try_wrmsr(uint32_t msr, uint64_t val)
{
        fault_arm();
        __asm__ volatile(TRY_BEGIN "wrmsr" TRY_END
                         :
                         : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                         : "memory");
        return g_fault_vector;
}

static inline int try_write_cr4(uint32_t val)
{
        fault_arm();
        __asm__ volatile(TRY_BEGIN "movl %0, %%cr4" TRY_END : : "r"(val) : "memory");
        return g_fault_vector;
}

static inline int try_xsetbv(uint32_t index, uint64_t val)
{
        fault_arm();
        __asm__ volatile(TRY_BEGIN "xsetbv" TRY_END
                         :
                         : "c"(index), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                         : "memory");
        return g_fault_vector;
}

static inline int try_xgetbv(uint32_t index, uint64_t *val)
{
        uint32_t lo = 0, hi = 0;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "xgetbv" TRY_END : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
        *val = ((uint64_t)hi << 32) | lo;
        return g_fault_vector;
}

/* vmcall with EAX = *eax (updated with the returned EAX). */
/* A vtvisor hypercall: EBX holds the signature of CPUID leaf 0x40000000
 * ("vtvi"), which is how a guest opts in (docs/hypercalls.md). */
#define HYPERCALL_SIGNATURE 0x69767476u
static inline int try_hypercall(uint32_t *eax)
{
        uint32_t a = *eax;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "vmcall" TRY_END
                         : "+a"(a)
                         : "b"(HYPERCALL_SIGNATURE)
                         : "ecx", "edx", "memory");
        *eax = a;
        return g_fault_vector;
}

/* VMCALL with EBX as it happens to be (0): no opt-in. */
static inline int try_vmcall(uint32_t *eax)
{
        uint32_t a = *eax;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "vmcall" TRY_END : "+a"(a) : "b"(0) : "ecx", "edx", "memory");
        *eax = a;
        return g_fault_vector;
}

#endif
