/* Hardware task switches, which vtvisor performs for the guest (every one
 * exits; core/taskswitch.c, emulate/task_switch.c): JMP and CALL to a TSS,
 * IRET back through the back link, task gates in the IDT for an exception
 * with an error code and for INT n, a fault raised in the new task, and
 * the faults the CPU raises before it would exit.  Runs with 4 MiB pages
 * (CR4.PSE) and two page directories, so that one task's CR3 differs. */
#include "guest.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_MAIN 0x18 /* the task guest_main runs in */
#define SEL_B    0x20 /* JMP target, other CR3 */
#define SEL_C    0x28 /* CALL target, returns by IRET */
#define SEL_LIM  0x30 /* limit 0x66 */
#define SEL_NP   0x38 /* not present */
#define SEL_F    0x40 /* CS in its TSS is a data segment */
#define SEL_D    0x48 /* #GP task gate */
#define SEL_E    0x50 /* INT 0x80 task gate */
#define SEL_G    0x58 /* #TS task gate */
#define SEL_OUT  0x60 /* `outside=ADDR`: a TSS outside the VM's RAM */
#define NGDT     13

#define VEC_TS   10
#define VEC_NP   11
#define INT_TASK 0x80
#define EFL_NT   (1u << 14)
#define CR0_TS   (1u << 3)
#define MARK1    0x11111111u
#define MARK2    0x22222222u
#define WINDOW   0x40000000u /* PD1 maps it to 8 MiB, PD2 to 12 MiB */

struct tss32 {
        uint16_t link, r0;
        uint32_t esp0;
        uint16_t ss0, r1;
        uint32_t esp1;
        uint16_t ss1, r2;
        uint32_t esp2;
        uint16_t ss2, r3;
        uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
        uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10, trap, iomap;
} __attribute__((packed));
_Static_assert(sizeof(struct tss32) == 0x68, "32-bit TSS");

static uint64_t gdt[NGDT] __attribute__((aligned(8)));
static struct tss32 tss_main, tss_b, tss_c, tss_f, tss_d, tss_e, tss_g,
    tss_bad __attribute__((aligned(128)));
static uint32_t pd1[1024] __attribute__((aligned(4096)));
static uint32_t pd2[1024] __attribute__((aligned(4096)));
#define STACK 4096
static uint8_t stacks[6][STACK] __attribute__((aligned(16)));

/* What each task saw, written by the tasks and checked by guest_main. */
struct seen {
        uint32_t eax, ebx, ecx, esi, edi, esp, eflags, error; /* the entry stubs write these */
        uint32_t cr0, cr3, tr, window, link, count, main_busy, own_busy;
        uint16_t cs, ss, ds;
};
volatile struct seen seen_b, seen_c, seen_d, seen_e, seen_g;
volatile uint32_t g_saved_main_eip, f_saved_cs;

/* Entry stubs: each records the registers the switch loaded, calls its
 * C body, then switches back and, when switched to again, starts over. */
void task_b_body(void);
void task_c_body(void);
void task_d_body(void);
void task_e_body(void);
void task_g_body(void);
void task_b_entry(void);
void task_c_entry(void);
void task_d_entry(void);
void task_e_entry(void);
void task_g_entry(void);
void task_f_return(void);
void gp_fault_insn(void);
void gp_fault_resume(void);
void int80_insn(void);
void int80_next(void);

#define RECORD(s)                                                                                  \
        "movl %eax, " s "+0\n\t"                                                                   \
        "movl %ebx, " s "+4\n\t"                                                                   \
        "movl %ecx, " s "+8\n\t"                                                                   \
        "movl %esi, " s "+12\n\t"                                                                  \
        "movl %edi, " s "+16\n\t"                                                                  \
        "movl %esp, " s "+20\n\t"                                                                  \
        "pushfl\n\tpopl " s "+24\n\t"

__asm__(".text\n"
        /* B: entered by JMP, leaves by JMP to the main task. */
        "task_b_entry:\n\t" RECORD(
            "seen_b") "call task_b_body\n\t"
                      "ljmp $0x18, $0\n\t"
                      "jmp task_b_entry\n"
                      /* C: entered by CALL, leaves by IRET (NT set). */
                      "task_c_entry:\n\t" RECORD(
                          "seen_c") "call task_c_body\n\t"
                                    "iret\n\t"
                                    "jmp task_c_entry\n"
                                    /* D: the #GP handler task; the error code is on its stack. */
                                    "task_d_entry:\n\t" RECORD(
                                        "seen_d") "popl seen_d+28\n\t"
                                                  "call task_d_body\n\t"
                                                  "iret\n\t"
                                                  "jmp task_d_entry\n"
                                                  /* E: the INT 0x80 task: no error code. */
                                                  "task_e_entry:\n\t" RECORD(
                                                      "seen_e") "call task_e_body\n\t"
                                                                "iret\n\t"
                                                                "jmp task_e_entry\n"
                                                                /* G: the #TS handler task. */
                                                                "task_g_entry:\n\t" RECORD(
                                                                    "seen_g") "popl seen_g+28\n\t"
                                                                              "call task_g_body\n\t"
                                                                              "iret\n\t"
                                                                              "jmp task_g_entry\n"
                                                                              /* Where G sends the
                                                                                 broken task F: back
                                                                                 to its caller. */
                                                                              "task_f_return:\n\t"
                                                                              "iret\n");

static void set_desc(unsigned sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
        gdt[sel >> 3] = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
                        ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
                        ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static unsigned type_of(unsigned sel)
{
        return (unsigned)(gdt[sel >> 3] >> 40) & 0xf;
}

static uint32_t read_cr3(void)
{
        uint32_t v;
        __asm__ volatile("movl %%cr3, %0" : "=r"(v));
        return v;
}

static uint16_t read_tr(void)
{
        uint16_t v;
        __asm__ volatile("str %0" : "=r"(v));
        return v;
}

static void clts(void)
{
        __asm__ volatile("clts");
}

static uint32_t window(void)
{
        return *(volatile uint32_t *)WINDOW;
}

static void tss_init(struct tss32 *t, void (*entry)(void), unsigned stack, uint32_t cr3)
{
        memset(t, 0, sizeof(*t));
        t->cr3 = cr3;
        t->eip = (uint32_t)entry;
        t->eflags = 0x2;
        t->esp = (uint32_t)&stacks[stack][STACK];
        t->esp0 = t->esp;
        t->ss0 = SEL_DATA;
        t->cs = SEL_CODE;
        t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA;
        t->iomap = sizeof(*t);
}

static void note(volatile struct seen *s)
{
        s->cr0 = read_cr0();
        s->cr3 = read_cr3();
        s->tr = read_tr();
        s->window = window();
        s->main_busy = type_of(SEL_MAIN);
        s->count++;
        uint16_t cs, ss, ds;
        __asm__ volatile("movw %%cs, %0; movw %%ss, %1; movw %%ds, %2"
                         : "=r"(cs), "=r"(ss), "=r"(ds));
        s->cs = cs;
        s->ss = ss;
        s->ds = ds;
}

void task_b_body(void)
{
        note(&seen_b);
        seen_b.own_busy = type_of(SEL_B);
        clts();
}

void task_c_body(void)
{
        note(&seen_c);
        seen_c.own_busy = type_of(SEL_C);
        seen_c.link = tss_c.link;
        clts();
}

void task_d_body(void)
{
        note(&seen_d);
        seen_d.link = tss_d.link;
        /* The main task resumes at the faulting instruction: skip it. */
        g_saved_main_eip = tss_main.eip;
        tss_main.eip = (uint32_t)gp_fault_resume;
        clts();
}

void task_e_body(void)
{
        note(&seen_e);
        seen_e.link = tss_e.link;
        g_saved_main_eip = tss_main.eip;
        clts();
}

/* F's switch committed, then its CS faulted (#TS) in F: F's TSS now holds
 * what F had.  Send F to an IRET back to its caller, the main task. */
void task_g_body(void)
{
        note(&seen_g);
        seen_g.link = tss_g.link;
        f_saved_cs = tss_f.cs;
        tss_f.cs = SEL_CODE;
        tss_f.eip = (uint32_t)task_f_return;
        tss_f.esp = (uint32_t)&stacks[3][STACK];
        tss_f.eflags = 0x2 | EFL_NT;
        clts();
}

static uint32_t idt_base(void)
{
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) d;
        __asm__ volatile("sidt %0" : "=m"(d));
        return d.base;
}

static uint64_t set_task_gate(unsigned vector, unsigned sel)
{
        volatile uint64_t *idt = (volatile uint64_t *)idt_base();
        uint64_t old = idt[vector];
        idt[vector] = ((uint64_t)sel << 16) | ((uint64_t)0x85 << 40);
        return old;
}

static void restore_gate(unsigned vector, uint64_t old)
{
        ((volatile uint64_t *)idt_base())[vector] = old;
}

static void setup(void)
{
        /* Paging with 4 MiB pages: both directories map the first 16 MiB
         * 1:1 and WINDOW to 8 MiB (pd1) or 12 MiB (pd2). */
        for (unsigned i = 0; i < 4; i++)
                pd1[i] = pd2[i] = (i << 22) | 0x83;
        pd1[WINDOW >> 22] = (2u << 22) | 0x83;
        pd2[WINDOW >> 22] = (3u << 22) | 0x83;
        *(volatile uint32_t *)(2u << 22) = MARK1;
        *(volatile uint32_t *)(3u << 22) = MARK2;
        __asm__ volatile("movl %%cr4, %%eax; orl $0x10, %%eax; movl %%eax, %%cr4\n\t"
                         "movl %0, %%cr3\n\t"
                         "movl %%cr0, %%eax; orl $0x80000000, %%eax; movl %%eax, %%cr0"
                         :
                         : "r"((uint32_t)pd1)
                         : "eax", "memory");

        set_desc(SEL_CODE, 0, 0xfffff, 0x9b, 0xc);
        set_desc(SEL_DATA, 0, 0xfffff, 0x93, 0xc);
        struct {
                unsigned sel;
                struct tss32 *tss;
                uint32_t limit;
                uint8_t access;
        } tsss[] = {
                { SEL_MAIN, &tss_main, 0x67, 0x89 }, { SEL_B, &tss_b, 0x67, 0x89 },
                { SEL_C, &tss_c, 0x67, 0x89 },       { SEL_LIM, &tss_bad, 0x66, 0x89 },
                { SEL_NP, &tss_bad, 0x67, 0x09 },    { SEL_F, &tss_f, 0x67, 0x89 },
                { SEL_D, &tss_d, 0x67, 0x89 },       { SEL_E, &tss_e, 0x67, 0x89 },
                { SEL_G, &tss_g, 0x67, 0x89 },
        };
        for (unsigned i = 0; i < sizeof(tsss) / sizeof(tsss[0]); i++)
                set_desc(tsss[i].sel, (uint32_t)tsss[i].tss, tsss[i].limit, tsss[i].access, 0);
        memset(&tss_main, 0, sizeof(tss_main));
        tss_main.cr3 = (uint32_t)pd1; /* a switch does not save CR3 */
        tss_main.iomap = sizeof(tss_main);
        tss_init(&tss_b, task_b_entry, 0, (uint32_t)pd2);
        tss_b.eax = 0x1111;
        tss_b.ebx = 0x2222;
        tss_b.ecx = 0x3333;
        tss_b.esi = 0x4444;
        tss_b.edi = 0x5555;
        tss_init(&tss_c, task_c_entry, 1, (uint32_t)pd1);
        tss_c.eax = 0xc0c0;
        tss_init(&tss_f, task_f_return, 3, (uint32_t)pd1);
        tss_f.cs = SEL_DATA; /* not code: #TS(0x10) in F */
        tss_init(&tss_d, task_d_entry, 2, (uint32_t)pd1);
        tss_init(&tss_e, task_e_entry, 4, (uint32_t)pd1);
        tss_init(&tss_g, task_g_entry, 5, (uint32_t)pd1);

        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) d = { sizeof(gdt) - 1, (uint32_t)gdt };
        __asm__ volatile("lgdt %0\n\t"
                         "ljmp $0x08, $1f\n"
                         "1:\tmovw $0x10, %%ax\n\t"
                         "movw %%ax, %%ds; movw %%ax, %%es; movw %%ax, %%ss\n\t"
                         "movw %%ax, %%fs; movw %%ax, %%gs\n\t"
                         "movw $0x18, %%ax; ltr %%ax"
                         :
                         : "m"(d)
                         : "eax", "memory");
}

/* The main task's registers after a switch away and back. */
volatile uint32_t r_esi, r_edi, r_ebx, r_eflags;

static __attribute__((noinline)) void test_jmp(void)
{
        clts();
        __asm__ volatile(
            "movl $0xaaaa0001, %%esi; movl $0xaaaa0002, %%edi; movl $0xaaaa0003, %%ebx\n\t"
            "ljmp $0x20, $0\n\t"
            "movl %%esi, r_esi; movl %%edi, r_edi; movl %%ebx, r_ebx\n\t"
            "pushfl; popl r_eflags" ::
                : "esi", "edi", "ebx", "memory");
        uint32_t esi = r_esi, edi = r_edi, ebx = r_ebx, eflags = r_eflags;
        uint32_t cr0 = read_cr0();
        expect_eq32("jmp-entered-task-b", seen_b.count, 1);
        expect_eq32("jmp-task-b-eax", seen_b.eax, 0x1111);
        expect_eq32("jmp-task-b-ebx", seen_b.ebx, 0x2222);
        expect_eq32("jmp-task-b-ecx", seen_b.ecx, 0x3333);
        expect_eq32("jmp-task-b-esi-edi", seen_b.esi ^ seen_b.edi, 0x4444 ^ 0x5555);
        expect_eq32("jmp-task-b-esp", seen_b.esp, tss_b.esp0);
        expect_eq32("jmp-task-b-nt-clear", seen_b.eflags & EFL_NT, 0);
        expect_eq32("jmp-task-b-tr", seen_b.tr, SEL_B);
        report("jmp-task-b-cr0-ts", seen_b.cr0 & CR0_TS);
        expect_eq32("jmp-task-b-busy", seen_b.own_busy, 0xb);
        expect_eq32("jmp-main-not-busy-in-b", seen_b.main_busy, 0x9);
        expect_eq32("jmp-task-b-segments", seen_b.cs | (uint32_t)seen_b.ss << 16,
                    SEL_CODE | SEL_DATA << 16);
        expect_eq32("jmp-task-b-cr3", seen_b.cr3, (uint32_t)pd2);
        expect_eq32("jmp-task-b-sees-its-mapping", seen_b.window, MARK2);
        /* And back by JMP. */
        expect_eq32("jmp-back-tr", read_tr(), SEL_MAIN);
        expect_eq32("jmp-back-main-busy", type_of(SEL_MAIN), 0xb);
        expect_eq32("jmp-back-b-not-busy", type_of(SEL_B), 0x9);
        report("jmp-back-cr0-ts", cr0 & CR0_TS);
        expect_eq32("jmp-back-registers", esi ^ edi ^ ebx, 0xaaaa0001 ^ 0xaaaa0002 ^ 0xaaaa0003);
        expect_eq32("jmp-back-cr3", read_cr3(), (uint32_t)pd1);
        expect_eq32("jmp-back-mapping", window(), MARK1);
        expect_eq32("jmp-back-nt-clear", eflags & EFL_NT, 0);
        /* B's saved state: it resumes after its own JMP. */
        report("jmp-b-saved-eip", tss_b.eip > (uint32_t)task_b_entry);
        clts();
        /* A second round trip resumes B where it left. */
        __asm__ volatile("ljmp $0x20, $0" ::: "memory");
        expect_eq32("jmp-second-round-trip", seen_b.count, 2);
        clts();
}

static __attribute__((noinline)) void test_call_iret(void)
{
        __asm__ volatile("movl $0xbbbb0001, %%esi; movl $0xbbbb0002, %%edi\n\t"
                         "lcall $0x28, $0\n\t"
                         "movl %%esi, r_esi; movl %%edi, r_edi\n\t"
                         "pushfl; popl r_eflags" ::
                             : "esi", "edi", "memory");
        uint32_t esi = r_esi, edi = r_edi, eflags = r_eflags;
        uint32_t cr0 = read_cr0();
        expect_eq32("call-entered-task-c", seen_c.count, 1);
        expect_eq32("call-task-c-eax", seen_c.eax, 0xc0c0);
        report("call-task-c-nt-set", seen_c.eflags & EFL_NT);
        expect_eq32("call-task-c-back-link", seen_c.link, SEL_MAIN);
        expect_eq32("call-task-c-busy", seen_c.own_busy, 0xb);
        expect_eq32("call-main-still-busy", seen_c.main_busy, 0xb);
        expect_eq32("call-task-c-tr", seen_c.tr, SEL_C);
        report("call-task-c-cr0-ts", seen_c.cr0 & CR0_TS);
        expect_eq32("call-task-c-cr3", seen_c.cr3, (uint32_t)pd1);
        /* IRET back. */
        expect_eq32("iret-back-tr", read_tr(), SEL_MAIN);
        expect_eq32("iret-c-not-busy", type_of(SEL_C), 0x9);
        expect_eq32("iret-main-busy", type_of(SEL_MAIN), 0xb);
        expect_eq32("iret-c-saved-nt-clear", tss_c.eflags & EFL_NT, 0);
        expect_eq32("iret-main-nt-clear", eflags & EFL_NT, 0);
        report("iret-cr0-ts", cr0 & CR0_TS);
        expect_eq32("iret-back-registers", esi ^ edi, 0xbbbb0001 ^ 0xbbbb0002);
        clts();
}

static __attribute__((noinline)) void test_gate_exception(void)
{
        uint64_t old = set_task_gate(13, SEL_D);
        /* A selector past the GDT's limit: #GP(0x1ff8), through the gate. */
        __asm__ volatile("gp_fault_insn:\n\t"
                         "movw %%ax, %%fs\n"
                         "gp_fault_resume:\n\t"
                         "movw $0x10, %%ax; movw %%ax, %%fs"
                         :
                         : "a"(0x1ff8)
                         : "memory");
        restore_gate(13, old);
        expect_eq32("gate-gp-entered-task", seen_d.count, 1);
        expect_eq32("gate-gp-error-code-pushed", seen_d.error, 0x1ff8);
        expect_eq32("gate-gp-error-code-on-new-stack", seen_d.esp, tss_d.esp0 - 4);
        expect_eq32("gate-gp-back-link", seen_d.link, SEL_MAIN);
        report("gate-gp-nt-set", seen_d.eflags & EFL_NT);
        expect_eq32("gate-gp-tr", seen_d.tr, SEL_D);
        expect_eq32("gate-gp-saved-eip-is-faulting-insn", g_saved_main_eip,
                    (uint32_t)gp_fault_insn);
        expect_eq32("gate-gp-back-tr", read_tr(), SEL_MAIN);
        expect_eq32("gate-gp-d-not-busy", type_of(SEL_D), 0x9);
        clts();
}

static __attribute__((noinline)) void test_gate_int(void)
{
        uint64_t old = set_task_gate(INT_TASK, SEL_E);
        __asm__ volatile("int80_insn:\n\t"
                         "int $0x80\n"
                         "int80_next:" ::
                             : "memory");
        restore_gate(INT_TASK, old);
        expect_eq32("gate-int-entered-task", seen_e.count, 1);
        expect_eq32("gate-int-back-link", seen_e.link, SEL_MAIN);
        report("gate-int-nt-set", seen_e.eflags & EFL_NT);
        expect_eq32("gate-int-no-error-code", seen_e.esp, tss_e.esp0);
        expect_eq32("gate-int-saved-eip-is-next-insn", g_saved_main_eip, (uint32_t)int80_next);
        expect_eq32("gate-int-back-tr", read_tr(), SEL_MAIN);
        clts();
}

/* A far JMP that faults: the vector, with the error code in *error. */
static int try_ljmp(unsigned sel, uint32_t *error)
{
        struct {
                uint32_t off;
                uint16_t sel;
        } __attribute__((packed)) far = { 0, (uint16_t)sel };
        fault_arm();
        __asm__ volatile(TRY_BEGIN "ljmp *%0" TRY_END : : "m"(far) : "memory");
        *error = g_fault_error;
        return g_fault_vector;
}

static void test_faults(void)
{
        uint32_t err;
        expect_vec("jmp-busy-tss-gp", try_ljmp(SEL_MAIN, &err), VEC_GP);
        expect_eq32("jmp-busy-tss-error", err, SEL_MAIN);
        expect_vec("jmp-short-tss-ts", try_ljmp(SEL_LIM, &err), VEC_TS);
        expect_eq32("jmp-short-tss-error", err, SEL_LIM);
        expect_vec("jmp-not-present-tss-np", try_ljmp(SEL_NP, &err), VEC_NP);
        expect_eq32("jmp-not-present-tss-error", err, SEL_NP);
        expect_eq32("faults-left-tr", read_tr(), SEL_MAIN);

        /* IRET with NT to a TSS that is not busy. */
        tss_main.link = SEL_B;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "pushfl; orl $0x4000, (%%esp); popfl\n\t"
                                   "iret" TRY_END "pushfl; andl $~0x4000, (%%esp); popfl" ::
                                       : "memory");
        expect_vec("iret-to-available-tss-ts", g_fault_vector, VEC_TS);
        expect_eq32("iret-to-available-tss-error", g_fault_error, SEL_B);
        expect_eq32("iret-fault-left-tr", read_tr(), SEL_MAIN);
}

static void test_fault_in_new_task(void)
{
        uint64_t old = set_task_gate(VEC_TS, SEL_G);
        __asm__ volatile("lcall $0x40, $0" ::: "memory");
        restore_gate(VEC_TS, old);
        expect_eq32("bad-cs-ts-handled-by-task", seen_g.count, 1);
        expect_eq32("bad-cs-ts-error-code", seen_g.error, SEL_DATA);
        expect_eq32("bad-cs-ts-raised-in-new-task", seen_g.link, SEL_F);
        expect_eq32("bad-cs-selector-was-loaded", f_saved_cs, SEL_DATA);
        expect_eq32("bad-cs-main-still-busy", seen_g.main_busy, 0xb);
        expect_eq32("bad-cs-back-in-main", read_tr(), SEL_MAIN);
        expect_eq32("bad-cs-f-not-busy", type_of(SEL_F), 0x9);
        clts();
}

void guest_main(void)
{
        setup();
        expect_eq32("tr-loaded", read_tr(), SEL_MAIN);
        test_jmp();
        test_call_iret();
        test_gate_exception();
        test_gate_int();
        test_faults();
        test_fault_in_new_task();

        /* `outside=ADDR` (the hostile-task-switch-outside-ram case): last,
         * a JMP to a TSS whose base lies at guest-physical ADDR (a 4 MiB
         * page maps it 1:1), beyond the VM's RAM.  vtvisor cannot perform that
         * switch and stops the VM saying so; it must not come back. */
        char buf[24];
        uint64_t addr;
        if (cmdline_value("outside", buf, sizeof(buf)) && parse_number(buf, &addr)) {
                pd1[addr >> 22] = ((uint32_t)addr & 0xffc00000u) | 0x83;
                set_desc(SEL_OUT, (uint32_t)addr, 0x67, 0x89, 0);
                gprintf("taskswitch: JMP to a TSS at 0x%x, outside RAM\n", (uint32_t)addr);
                __asm__ volatile("ljmp $0x60, $0" ::: "memory");
                report("outside-ram-tss-stopped", false);
        }
}
