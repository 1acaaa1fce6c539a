#include "arch/x86/desc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "lib/log.h"

struct __attribute__((packed)) idt_gate {
        uint16_t offset_lo;
        uint16_t selector;
        uint8_t ist;
        uint8_t type_attr;
        uint16_t offset_mid;
        uint32_t offset_hi;
        uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate (SDM 6.14.1)");

/* One IDT for every CPU: the handlers are the same; each CPU's TSS gives
 * its own IST stack. */
static struct idt_gate idt[32] __attribute__((aligned(16)));

extern const uint64_t trap_stubs[32]; /* traps.S */

/* Panics and NMIs: the CPU that panics first owns the console's last words;
 * every other CPU stops when the NMI it sends arrives. */
static volatile bool panicking;

static void idt_init(void)
{
        for (unsigned v = 0; v < 32; v++) {
                uint64_t off = trap_stubs[v];
                idt[v] = (struct idt_gate){
                        .offset_lo = (uint16_t)off,
                        .selector = HOST_CS_SEL,
                        /* #DF, NMI and #MC run on their own stack: the one
                         * they interrupted may be the cause. */
                        .ist = (v == 2 || v == 8 || v == 18) ? 1 : 0,
                        .type_attr = 0x8e, /* present, DPL 0, interrupt gate */
                        .offset_mid = (uint16_t)(off >> 16),
                        .offset_hi = (uint32_t)(off >> 32),
                };
        }
}

void desc_init_cpu(struct pcpu *p)
{
        if (p->id == 0)
                idt_init();
        uint64_t base = (uint64_t)(uintptr_t)&p->tss, limit = sizeof(p->tss) - 1;

        p->gdt[0] = 0;
        p->gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, as in boot.S */
        p->gdt[2] = 0x00cf92000000ffffULL; /* data */
        /* Available 64-bit TSS, 16 bytes (SDM 8.2.3). */
        p->gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
        p->gdt[4] = base >> 32;

        p->tss.ist[0] = (uint64_t)(uintptr_t)p->ist_top;
        p->tss.iomap_base = sizeof(p->tss);

        struct desc_ptr g = { .limit = sizeof(p->gdt) - 1, .base = (uint64_t)(uintptr_t)p->gdt };
        struct desc_ptr i = { .limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt };
        lgdt(&g);
        lidt(&i);
        ltr(HOST_TR_SEL);
}

void desc_panic_begin(void)
{
        panicking = true;
}

bool desc_panic_under_way(void)
{
        return panicking;
}

static const char *const vector_names[32] = {
        "#DE divide error",
        "#DB debug",
        "NMI",
        "#BP breakpoint",
        "#OF overflow",
        "#BR bound",
        "#UD invalid opcode",
        "#NM no FPU",
        "#DF double fault",
        "coprocessor overrun",
        "#TS invalid TSS",
        "#NP segment not present",
        "#SS stack fault",
        "#GP general protection",
        "#PF page fault",
        "reserved 15",
        "#MF x87 error",
        "#AC alignment check",
        "#MC machine check",
        "#XM SIMD error",
        "#VE virtualization",
        "#CP control protection",
};

void trap_handler(struct trap_frame *f);
void trap_handler(struct trap_frame *f)
{
        if (f->vector == 2) {
                /* Another CPU panicked and stops the others with an NMI. */
                if (panicking)
                        cpu_halt_forever();
                /* NMIs normally exit from guests (NMI exiting); one taken in
                 * the hypervisor itself has no other consumer.  Say so. */
                log_line("cpu %u: NMI in the hypervisor at rip 0x%llx (no panic under way: "
                         "ignored)",
                         this_cpu_id(), (unsigned long long)f->rip);
                return;
        }
        const char *name =
            f->vector < 32 && vector_names[f->vector] ? vector_names[f->vector] : "reserved";
        log_line("PANIC: cpu %u: CPU exception %llu (%s) in the hypervisor, error code 0x%llx",
                 this_cpu_id(), (unsigned long long)f->vector, name,
                 (unsigned long long)f->error_code);
        log_line("  rip 0x%016llx rsp 0x%016llx rflags 0x%llx cr2 0x%llx",
                 (unsigned long long)f->rip, (unsigned long long)f->rsp,
                 (unsigned long long)f->rflags, (unsigned long long)read_cr2());
        log_line("  rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx rsi 0x%llx rdi 0x%llx",
                 (unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx,
                 (unsigned long long)f->rdx, (unsigned long long)f->rsi,
                 (unsigned long long)f->rdi);
        log_backtrace((const void *)(uintptr_t)f->rbp);
        hv_halt();
}
