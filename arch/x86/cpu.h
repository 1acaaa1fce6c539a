/* One-instruction wrappers for the host CPU.  Everything here is inline
 * assembly of a single instruction; longer sequences live in .S files. */
#ifndef VTV_ARCH_X86_CPU_H
#define VTV_ARCH_X86_CPU_H

#include "lib/types.h"

#define MSR_IA32_TSC       0x010
#define MSR_IA32_APIC_BASE 0x01b
#define MSR_IA32_PAT       0x277
#define MSR_IA32_EFER      0xc0000080
#define MSR_IA32_STAR      0xc0000081
#define MSR_IA32_LSTAR     0xc0000082
#define MSR_IA32_CSTAR     0xc0000083
#define MSR_IA32_FMASK     0xc0000084
#define MSR_IA32_FS_BASE   0xc0000100
#define MSR_IA32_GS_BASE   0xc0000101
#define MSR_IA32_KERNEL_GS 0xc0000102
#define MSR_IA32_TSC_AUX   0xc0000103

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

static inline uint64_t rdmsr(uint32_t msr)
{
        uint32_t lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
        return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
        __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return (uint64_t)hi << 32 | lo;
}

#define DEFINE_CR(n)                                                                               \
        static inline uint64_t read_cr##n(void)                                                    \
        {                                                                                          \
                uint64_t v;                                                                        \
                __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                  \
                return v;                                                                          \
        }                                                                                          \
        static inline void write_cr##n(uint64_t v)                                                 \
        {                                                                                          \
                __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");                           \
        }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

#define DEFINE_DR(n)                                                                               \
        static inline uint64_t read_dr##n(void)                                                    \
        {                                                                                          \
                uint64_t v;                                                                        \
                __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));                                  \
                return v;                                                                          \
        }                                                                                          \
        static inline void write_dr##n(uint64_t v)                                                 \
        {                                                                                          \
                __asm__ volatile("mov %0, %%dr" #n ::"r"(v));                                      \
        }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
#undef DEFINE_DR

static inline uint64_t xgetbv(uint32_t index)
{
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
        return (uint64_t)hi << 32 | lo;
}

static inline void xsetbv(uint32_t index, uint64_t v)
{
        __asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void xsave(void *area, uint64_t mask)
{
        __asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)mask),
                         "d"((uint32_t)(mask >> 32))
                         : "memory");
}

static inline void xrstor(const void *area, uint64_t mask)
{
        __asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)mask),
                         "d"((uint32_t)(mask >> 32))
                         : "memory");
}

static inline void fxsave(void *area)
{
        __asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static inline void fxrstor(const void *area)
{
        __asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

/* RDSEED and RDRAND (SDM Vol. 1 7.3.17): CF set when a value was
 * delivered.  Check CPUID first (cpu_has_rdrand/rdseed). */
static inline bool rdseed64(uint64_t *v)
{
        uint8_t ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        return ok;
}

static inline bool rdrand64(uint64_t *v)
{
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        return ok;
}

static inline bool cpu_has_rdrand(void)
{
        return cpuid(1, 0).ecx & BIT(30);
}

static inline bool cpu_has_rdseed(void)
{
        return cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & BIT(18));
}

static inline void outb(uint16_t port, uint8_t v)
{
        __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}

__attribute__((noreturn)) static inline void cpu_halt_forever(void)
{
        for (;;)
                __asm__ volatile("cli; hlt");
}

static inline void cpu_pause(void)
{
        __asm__ volatile("pause");
}

static inline void wbinvd(void)
{
        __asm__ volatile("wbinvd" ::: "memory");
}

struct __attribute__((packed)) desc_ptr {
        uint16_t limit;
        uint64_t base;
};

static inline void lgdt(const struct desc_ptr *p)
{
        __asm__ volatile("lgdt %0" ::"m"(*p));
}

static inline void lidt(const struct desc_ptr *p)
{
        __asm__ volatile("lidt %0" ::"m"(*p));
}

static inline void ltr(uint16_t sel)
{
        __asm__ volatile("ltr %0" ::"r"(sel));
}

static inline struct desc_ptr sgdt(void)
{
        struct desc_ptr p;
        __asm__ volatile("sgdt %0" : "=m"(p));
        return p;
}

static inline struct desc_ptr sidt(void)
{
        struct desc_ptr p;
        __asm__ volatile("sidt %0" : "=m"(p));
        return p;
}

static inline uint16_t read_tr(void)
{
        uint16_t sel;
        __asm__ volatile("str %0" : "=r"(sel));
        return sel;
}

static inline void *hpa_to_hva(hpa_t pa)
{
        return (void *)(uintptr_t)pa;
}

static inline hpa_t hva_to_hpa(const void *va)
{
        return (hpa_t)(uintptr_t)va;
}

#endif
