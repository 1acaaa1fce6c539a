/* SMP the way an operating system does it: start every application
 * processor with INIT-SIPI-SIPI through a real-mode trampoline below 1 MiB,
 * then send IPIs between the CPUs in every destination mode (physical,
 * logical flat, logical cluster, the shorthands), NMI and lowest-priority
 * IPIs, the same in x2APIC mode through the ICR MSR, and a TLB shootdown
 * under shared page tables whose effect the APs check.
 *
 * Command line: cpus=N (default 2, at most MAX_CPUS), the number of CPUs,
 * with APIC IDs 0..N-1 and the BSP at 0; mesh=R adds R rounds of every
 * CPU sending IPIs to every other at once (mesh_tests).  Only the BSP prints: the APs
 * record what they saw in shared memory and run work the BSP posts to them
 * (a function pointer, then a "kick" IPI that wakes them from HLT, as an
 * OS's smp_call_function does).  Every wait is bounded by the TSC.  At the
 * end the APs park in a cli; hlt loop and the BSP prints DONE.
 *
 * Runs unchanged on bare Bochs with `cpu: count=N` (the reference) and
 * under vtvisor with vcpus=N. */
#include "guest.h"

#define MAX_CPUS 8    /* also in the trampoline's tables */
#define AP_STACK 8192 /* also in smp_ap_pm32 (shll $13) */

/* The trampoline page: below 1 MiB, above the multiboot information vtvisor
 * keeps in [0x1000, 0x8000), below the EBDA; the SIPI vector is its page
 * number. */
#define TRAMP_PHYS  0x9000u
#define SIPI_VECTOR (TRAMP_PHYS >> 12)

/* Local APIC registers (xAPIC MMIO offsets; x2APIC MSR = 0x800 + off / 16). */
#define APIC          0xfee00000u
#define REG_ID        0x20
#define REG_TPR       0x80
#define REG_EOI       0xb0
#define REG_LDR       0xd0
#define REG_DFR       0xe0
#define REG_SVR       0xf0
#define REG_ICR_LO    0x300
#define REG_ICR_HI    0x310
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define MSR_APIC_BASE 0x1b
#define MSR_X2_ID     0x802
#define MSR_X2_EOI    0x80b
#define MSR_X2_LDR    0x80d
#define MSR_X2_SVR    0x80f
#define MSR_X2_ICR    0x830
#define MSR_X2_SELF   0x83f
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_X2  (1u << 10)
#define APIC_BASE_EN  (1u << 11)

/* ICR low word. */
#define ICR_FIXED   (0u << 8)
#define ICR_LOWPRI  (1u << 8)
#define ICR_NMI     (4u << 8)
#define ICR_INIT    (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_BUSY    (1u << 12)
#define ICR_ASSERT  (1u << 14)
#define ICR_LEVEL   (1u << 15)
#define ICR_SELF    (1u << 18)
#define ICR_ALL     (2u << 18)
#define ICR_OTHERS  (3u << 18)

/* Vectors. */
#define VEC_PHYS     0x50 /* BSP -> AP, physical */
#define VEC_TO_BSP   0x51 /* AP -> BSP, physical */
#define VEC_FLAT     0x52
#define VEC_CLUSTER  0x53
#define VEC_SELFV    0x54
#define VEC_ALLV     0x55
#define VEC_OTHERSV  0x56
#define VEC_LOWPRI   0x57
#define VEC_X2_PHYS  0x60
#define VEC_X2_TOBSP 0x61
#define VEC_X2_CLUST 0x62
#define VEC_X2_SELF  0x63
#define VEC_X2_OTH   0x64
#define VEC_BENCH    0x70 /* `bench`: IPI latency */
#define VEC_MESH     0x80 /* `mesh=N`: 0x80 + sender, fixed, physical */
#define VEC_MESH_LP  0x90 /* `mesh=N`: 0x90 + sender, lowest priority */
#define VEC_IOAPIC   0x71 /* the UART's line through the I/O APIC */
#define VEC_SHOOT    0xe0
#define VEC_KICK     0xf0
#define VEC_SPUR     0xff

/* Waits, in microseconds of TSC time. */
#define WAIT_US   500000 /* for something that must happen */
#define SETTLE_US 2000   /* for something that must not */

/* ---- The AP trampoline ----
 * Entered in real mode at vector:0000 after the SIPI.  It counts its entry
 * and records CS and the IP it started at (per initial APIC ID, from CPUID
 * leaf 1), loads a flat GDT and far-jumps to 32-bit code in the image at
 * 1 MiB, which takes the AP's own stack and calls smp_ap_main(id).  Only the
 * part up to smp_tramp_end is copied to TRAMP_PHYS; it addresses itself
 * through CS, so it runs at any page. */
__asm__(".pushsection .text.smp_tramp, \"ax\"\n"
        ".code16\n"
        ".global smp_tramp_start, smp_tramp_end, smp_tr_entries, smp_tr_cs, smp_tr_ip\n"
        "smp_tramp_start:\n"
        "        cli\n"
        "        cld\n"
        "        movw %cs, %ax\n"
        "        movw %ax, %ds\n"
        "        movw %ax, %ss\n"
        "        movw $(smp_tr_stack_top - smp_tramp_start), %sp\n"
        "        movl $1, %eax\n"
        "        cpuid\n"
        "        shrl $24, %ebx\n"
        "        movl %ebx, %esi\n"
        "        cmpl $8, %esi\n" /* MAX_CPUS */
        "        jae 2f\n"
        "        lock incw (smp_tr_entries - smp_tramp_start)(,%esi,2)\n"
        "        movw %cs, %ax\n"
        "        movw %ax, (smp_tr_cs - smp_tramp_start)(,%esi,2)\n"
        "        call 1f\n"
        "1:      popw %ax\n"
        "        subw $(1b - smp_tramp_start), %ax\n"
        "        movw %ax, (smp_tr_ip - smp_tramp_start)(,%esi,2)\n"
        "        lgdtl (smp_tr_gdtdesc - smp_tramp_start)\n"
        "        movl %cr0, %eax\n"
        "        orl $1, %eax\n"
        "        movl %eax, %cr0\n"
        "        ljmpl $0x08, $smp_ap_pm32\n"
        "2:      cli\n"
        "        hlt\n"
        "        jmp 2b\n"
        "        .balign 8\n"
        "        .word 0\n"
        "smp_tr_gdtdesc:\n"
        "        .word smp_gdt_end - smp_gdt - 1\n"
        "        .long smp_gdt\n"
        "        .balign 4\n"
        "smp_tr_entries: .fill 8, 2, 0\n"
        "smp_tr_cs:      .fill 8, 2, 0\n"
        "smp_tr_ip:      .fill 8, 2, 0\n"
        "        .balign 16\n"
        "        .fill 128, 1, 0\n"
        "smp_tr_stack_top:\n"
        "smp_tramp_end:\n"
        ".code32\n"
        "smp_ap_pm32:\n"
        "        movw $0x10, %ax\n"
        "        movw %ax, %ds\n"
        "        movw %ax, %es\n"
        "        movw %ax, %fs\n"
        "        movw %ax, %gs\n"
        "        movw %ax, %ss\n"
        "        leal 1(%esi), %eax\n"
        "        shll $13, %eax\n" /* AP_STACK */
        "        addl $smp_ap_stacks, %eax\n"
        "        movl %eax, %esp\n"
        "        xorl %ebp, %ebp\n"
        "        pushl %esi\n"
        "        call smp_ap_main\n"
        "3:      cli\n"
        "        hlt\n"
        "        jmp 3b\n"
        /* NMI handler for every CPU (gate 2 of the shared IDT). */
        ".global smp_nmi_stub\n"
        "smp_nmi_stub:\n"
        "        pushal\n"
        "        cld\n"
        "        call smp_nmi\n"
        "        popal\n"
        "        iretl\n"
        ".popsection\n"
        ".pushsection .data\n"
        "        .balign 8\n"
        "smp_gdt:\n"
        "        .quad 0\n"
        "        .quad 0x00cf9a000000ffff\n" /* 0x08: flat 32-bit code, as entry.S */
        "        .quad 0x00cf92000000ffff\n" /* 0x10: flat data */
        "smp_gdt_end:\n"
        ".popsection\n");

extern const char smp_tramp_start[], smp_tramp_end[];
extern const char smp_tr_entries[], smp_tr_cs[], smp_tr_ip[];
extern const char smp_nmi_stub[];
void smp_ap_main(uint32_t id);
void smp_nmi(void);

/* The APs' stacks, indexed by APIC ID (entry 0, the BSP's, is unused: the
 * BSP runs on the library's stack).  this_cpu() finds the CPU from ESP. */
uint8_t smp_ap_stacks[MAX_CPUS][AP_STACK] __attribute__((aligned(16)));

static unsigned ncpus;
static uint32_t ticks_per_us;

/* Shared state.  Each per-CPU slot is written by its own CPU only, except
 * ap_work (BSP posts, AP takes). */
static volatile uint32_t irq_cnt[MAX_CPUS][256];
static volatile uint32_t nmi_cnt[MAX_CPUS];
static volatile uint32_t shoot_ack[MAX_CPUS];
static volatile bool x2mode[MAX_CPUS];
static volatile uint32_t icr_sends[MAX_CPUS], icr_stuck[MAX_CPUS];

static volatile uint32_t ap_checkin[MAX_CPUS], ap_cpuid_id[MAX_CPUS], ap_xapic_id[MAX_CPUS];
static volatile uint32_t ap_apic_base[MAX_CPUS], ap_halted[MAX_CPUS];
static void (*volatile ap_work[MAX_CPUS])(void);
static volatile uint32_t ap_done[MAX_CPUS];
static volatile bool ap_stop;
static struct {
        uint16_t pad;
        uint16_t limit;
        uint32_t base;
} __attribute__((packed, aligned(4))) idt_desc;

/* Results of work run on the APs. */
static volatile uint32_t ap_ldr[MAX_CPUS], ap_x2_base[MAX_CPUS], ap_x2_id[MAX_CPUS];
static volatile uint32_t ap_x2_ldr[MAX_CPUS], ap_self_ok[MAX_CPUS], ap_pg_read[MAX_CPUS];

/* ---- Basics ---- */

static inline void cpu_relax(void)
{
        __asm__ volatile("pause" ::: "memory");
}

static inline uint32_t apic_rd(uint32_t off)
{
        return *(volatile uint32_t *)(APIC + off);
}

static inline void apic_wr(uint32_t off, uint32_t v)
{
        *(volatile uint32_t *)(APIC + off) = v;
}

static inline uint64_t rdmsr64(uint32_t msr)
{
        uint32_t lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
        return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr64(uint32_t msr, uint64_t v)
{
        __asm__ volatile("wrmsr"
                         :
                         : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                         : "memory");
}

static inline unsigned this_cpu(void)
{
        uint32_t sp;
        __asm__ volatile("movl %%esp, %0" : "=r"(sp));
        uint32_t off = sp - (uint32_t)smp_ap_stacks;
        return off < sizeof(smp_ap_stacks) ? off / AP_STACK : 0;
}

static uint32_t cpuid_apic_id(void)
{
        return cpuid(1, 0).ebx >> 24;
}

/* TSC ticks per microsecond: CPUID leaf 0x15 (crystal and ratio), else
 * leaf 0x16 (base MHz), else an assumed 1 GHz.  Real TSCs are faster than
 * that and Bochs's (one tick per instruction) is slower, so the delays of
 * the start-up protocol, which need only be "at least", may come out
 * longer, never shorter, on real hardware. */
static const char *tsc_init(void)
{
        uint32_t max = cpuid(0, 0).eax;
        if (max >= 0x15) {
                struct cpuid_regs r = cpuid(0x15, 0);
                if (r.eax && r.ebx && r.ecx / 1000) {
                        ticks_per_us = r.ecx / 1000 * r.ebx / r.eax / 1000;
                        if (ticks_per_us)
                                return "CPUID leaf 0x15";
                }
        }
        if (max >= 0x16) {
                ticks_per_us = cpuid(0x16, 0).eax & 0xffff;
                if (ticks_per_us)
                        return "CPUID leaf 0x16";
        }
        ticks_per_us = 1000;
        return "assumed";
}

static uint64_t deadline(uint32_t us)
{
        return rdtsc() + (uint64_t)us * ticks_per_us;
}

static void udelay(uint32_t us)
{
        uint64_t end = deadline(us);
        while (rdtsc() < end)
                cpu_relax();
}

/* Waits, with interrupts on, until *p >= want; false on timeout. */
static bool wait_ge(const volatile uint32_t *p, uint32_t want, uint32_t us)
{
        uint64_t end = deadline(us);
        bool ok;
        __asm__ volatile("sti" ::: "memory");
        while (!(ok = *p >= want) && rdtsc() < end)
                cpu_relax();
        __asm__ volatile("cli" ::: "memory");
        return ok;
}

/* Interrupts on for a while: lets anything pending or in flight arrive. */
static void settle(void)
{
        __asm__ volatile("sti" ::: "memory");
        udelay(SETTLE_US);
        __asm__ volatile("cli" ::: "memory");
}

static const char *nm(const char *prefix, unsigned n, const char *suffix)
{
        static char buf[64];
        size_t len = 0;
        for (const char *s = prefix; *s && len < 40; s++)
                buf[len++] = *s;
        buf[len++] = (char)('0' + n % 10);
        for (const char *s = suffix; *s && len < sizeof(buf) - 1; s++)
                buf[len++] = *s;
        buf[len] = '\0';
        return buf;
}

/* ---- IPIs ---- */

static void eoi(unsigned cpu)
{
        if (x2mode[cpu])
                wrmsr64(MSR_X2_EOI, 0);
        else
                apic_wr(REG_EOI, 0);
}

/* Polls the delivery-status bit (xAPIC only: the x2APIC ICR has none). */
static void xapic_wait_idle(unsigned me, bool count)
{
        uint64_t end = deadline(10000);
        while (apic_rd(REG_ICR_LO) & ICR_BUSY) {
                if (rdtsc() > end) {
                        if (count)
                                icr_stuck[me]++;
                        return;
                }
                cpu_relax();
        }
}

/* Sends an IPI from this CPU in its current APIC mode.  dest: APIC ID or
 * logical destination (8 bits in xAPIC mode, 32 in x2APIC mode). */
static void send_ipi(uint32_t dest, uint32_t lo)
{
        unsigned me = this_cpu();
        uint32_t flags = read_eflags();
        __asm__ volatile("cli" ::: "memory");
        if (x2mode[me]) {
                wrmsr64(MSR_X2_ICR, ((uint64_t)dest << 32) | lo);
        } else {
                xapic_wait_idle(me, false);
                apic_wr(REG_ICR_HI, dest << 24);
                apic_wr(REG_ICR_LO, lo);
                icr_sends[me]++;
                xapic_wait_idle(me, true);
        }
        if (flags & (1u << 9))
                __asm__ volatile("sti" ::: "memory");
}

#define TEST_VA 0x00400000u

/* `bench`: when the last VEC_BENCH interrupt reached its handler. */
static volatile uint64_t bench_seen;
static volatile uint32_t bench_count;
static volatile bool bench_spin;

static void irq_hook(uint32_t vector)
{
        if (vector == VEC_BENCH) {
                bench_seen = rdtsc();
                bench_count++;
        }
        unsigned cpu = this_cpu();
        irq_cnt[cpu][vector & 255]++;
        if (vector == VEC_SHOOT) {
                __asm__ volatile("invlpg (%0)" : : "r"(TEST_VA) : "memory");
                shoot_ack[cpu]++;
        }
        if (vector != VEC_SPUR)
                eoi(cpu);
}

void smp_nmi(void)
{
        nmi_cnt[this_cpu()]++;
}

static void apic_enable_here(void)
{
        if (x2mode[this_cpu()]) {
                wrmsr64(MSR_X2_SVR, 0x100 | VEC_SPUR);
        } else {
                apic_wr(REG_SVR, 0x100 | VEC_SPUR);
                apic_wr(REG_TPR, 0);
        }
}

/* ---- Application processors ---- */

void smp_ap_main(uint32_t id)
{
        __asm__ volatile("lidt (%0)" : : "r"(&idt_desc.limit) : "memory");
        ap_cpuid_id[id] = cpuid_apic_id();
        ap_xapic_id[id] = apic_rd(REG_ID) >> 24;
        ap_apic_base[id] = (uint32_t)rdmsr64(MSR_APIC_BASE);
        apic_enable_here();
        ap_checkin[id]++;

        /* The idle loop: run posted work with interrupts on, else sleep
         * until an interrupt (STI's shadow covers HLT: no lost wake-up). */
        for (;;) {
                __asm__ volatile("cli" ::: "memory");
                void (*fn)(void) = ap_work[id];
                if (fn) {
                        ap_work[id] = 0;
                        __asm__ volatile("sti" ::: "memory");
                        fn();
                        ap_done[id]++;
                        continue;
                }
                if (ap_stop)
                        break;
                __asm__ volatile("sti; hlt" ::: "memory");
        }
        ap_halted[id] = 1;
        for (;;)
                __asm__ volatile("cli; hlt" ::: "memory");
}

static void post(unsigned cpu, void (*fn)(void))
{
        ap_work[cpu] = fn;
        send_ipi(cpu, ICR_FIXED | VEC_KICK);
}

/* Runs fn on AP cpu and waits for it to finish. */
static bool run_on(unsigned cpu, void (*fn)(void))
{
        uint32_t done = ap_done[cpu];
        post(cpu, fn);
        return wait_ge(&ap_done[cpu], done + 1, WAIT_US);
}

static bool run_on_aps(void (*fn)(void))
{
        bool ok = true;
        for (unsigned c = 1; c < ncpus; c++)
                ok &= run_on(c, fn);
        return ok;
}

static volatile uint16_t *tramp_u16(const char *sym, unsigned i)
{
        return (volatile uint16_t *)(TRAMP_PHYS + (uint32_t)(sym - smp_tramp_start)) + i;
}

/* The SDM's MP initialization protocol, one AP at a time (as Linux does). */
static bool start_ap(unsigned id)
{
        uint32_t before = ap_checkin[id];
        send_ipi(id, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
        udelay(10000);
        send_ipi(id, ICR_INIT | ICR_LEVEL); /* INIT level de-assert */
        for (int i = 0; i < 2; i++) {
                send_ipi(id, ICR_STARTUP | SIPI_VECTOR);
                udelay(200);
        }
        return wait_ge(&ap_checkin[id], before + 1, WAIT_US * 2);
}

static bool start_aps(void)
{
        size_t size = (size_t)(smp_tramp_end - smp_tramp_start);
        gprintf("smp: trampoline of %u bytes at 0x%x, SIPI vector 0x%02x\n", (uint32_t)size,
                TRAMP_PHYS, SIPI_VECTOR);
        memcpy((void *)TRAMP_PHYS, smp_tramp_start, size);

        bool all = true;
        for (unsigned id = 1; id < ncpus; id++) {
                bool up = start_ap(id);
                uint32_t cs = *tramp_u16(smp_tr_cs, id), ip = *tramp_u16(smp_tr_ip, id);
                report(nm("ap", id, "-started"), up);
                all &= up;
                if (!up)
                        continue;
                expect_eq32(nm("ap", id, "-start-cs"), cs, SIPI_VECTOR << 8);
                expect_eq32(nm("ap", id, "-start-ip"), ip, 0);
                expect_eq32(nm("ap", id, "-start-address"), cs * 16 + ip, SIPI_VECTOR * 4096);
                expect_eq32(nm("ap", id, "-cpuid-apic-id"), ap_cpuid_id[id], id);
                expect_eq32(nm("ap", id, "-xapic-id-register"), ap_xapic_id[id], id);
                report(nm("ap", id, "-apic-base-not-bsp"),
                       (ap_apic_base[id] & (APIC_BASE_BSP | APIC_BASE_EN)) == APIC_BASE_EN);
        }
        return all;
}

/* ---- Delivery checks ---- */

static void snap(uint32_t vec, uint32_t *before)
{
        for (unsigned c = 0; c < ncpus; c++)
                before[c] = irq_cnt[c][vec];
}

/* Waits until each CPU c has taken vector vec want[c] more times than in
 * before[], lets stray deliveries arrive, and compares exactly. */
static bool delivered(uint32_t vec, const uint32_t *before, const uint32_t *want)
{
        for (unsigned c = 0; c < ncpus; c++)
                wait_ge(&irq_cnt[c][vec], before[c] + want[c], WAIT_US);
        settle();
        bool ok = true;
        for (unsigned c = 0; c < ncpus; c++) {
                uint32_t got = irq_cnt[c][vec] - before[c];
                if (got != want[c]) {
                        gprintf("smp: cpu %u took vector 0x%x %u times, want %u\n", c, vec, got,
                                want[c]);
                        ok = false;
                }
        }
        return ok;
}

/* One IPI from the BSP; want[c]: 1 when CPU c must take it. */
static bool bsp_ipi(uint32_t dest, uint32_t lo, const uint32_t *want)
{
        uint32_t before[MAX_CPUS];
        snap(lo & 0xff, before);
        send_ipi(dest, lo);
        return delivered(lo & 0xff, before, want);
}

static void want_only(uint32_t *want, int cpu)
{
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = (int)c == cpu;
}

/* ---- xAPIC ---- */

static void set_flat(void)
{
        unsigned me = this_cpu();
        apic_wr(REG_DFR, 0xffffffffu);
        apic_wr(REG_LDR, (1u << me) << 24);
        ap_ldr[me] = apic_rd(REG_LDR);
}

static uint32_t cluster_id(unsigned cpu)
{
        return ((cpu >> 2) << 4) | (1u << (cpu & 3));
}

static void set_cluster(void)
{
        unsigned me = this_cpu();
        apic_wr(REG_DFR, 0x0fffffffu);
        apic_wr(REG_LDR, cluster_id(me) << 24);
        ap_ldr[me] = apic_rd(REG_LDR);
}

static void ap_send_to_bsp(void)
{
        send_ipi(0, ICR_FIXED | VEC_TO_BSP);
}

static void ap_x2_send_to_bsp(void)
{
        send_ipi(0, ICR_FIXED | VEC_X2_TOBSP);
}

static bool ldr_all(uint32_t (*expected)(unsigned))
{
        bool ok = true;
        for (unsigned c = 0; c < ncpus; c++) {
                if (ap_ldr[c] >> 24 != expected(c)) {
                        gprintf("smp: cpu %u LDR 0x%x\n", c, ap_ldr[c]);
                        ok = false;
                }
        }
        return ok;
}

static uint32_t flat_id(unsigned cpu)
{
        return 1u << cpu;
}

/* How many times the CPUs took VEC_LOWPRI since before[]; *who: one of them. */
static uint32_t lowpri_taken(const uint32_t *before, uint32_t *who)
{
        uint32_t sum = 0;
        for (unsigned c = 0; c < ncpus; c++) {
                uint32_t got = irq_cnt[c][VEC_LOWPRI] - before[c];
                sum += got;
                if (got && who)
                        *who = c;
        }
        return sum;
}

/* The I/O APIC routes a device's interrupt to an AP: COM1's line (ISA IRQ
 * 4, I/O APIC pin 4) with the transmitter-empty interrupt, which the UART
 * raises as soon as it is enabled, to APIC ID 1 only. */
#define IOAPIC_BASE 0xfec00000u
#define COM1        0x3f8

static void ioapic_write(uint32_t reg, uint32_t v)
{
        *(volatile uint32_t *)IOAPIC_BASE = reg;
        *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static void ioapic_test(void)
{
        uint32_t want[MAX_CPUS], before[MAX_CPUS];
        want_only(want, 1);
        snap(VEC_IOAPIC, before);
        uint32_t flags = read_eflags();
        __asm__ volatile("cli" ::: "memory");
        ioapic_write(0x10 + 2 * 4 + 1, 1u << 24); /* destination: APIC ID 1 */
        ioapic_write(0x10 + 2 * 4, VEC_IOAPIC);   /* fixed, physical, edge, unmasked */
        uint8_t mcr = inb(COM1 + 4);
        outb(COM1 + 4, mcr | 0x08); /* OUT2: the UART's interrupt reaches the line */
        outb(COM1 + 1, 0x02);       /* IER: transmitter holding register empty */
        bool ok = wait_ge(&irq_cnt[1][VEC_IOAPIC], before[1] + 1, WAIT_US);
        outb(COM1 + 1, 0x00);
        outb(COM1 + 4, mcr);
        ioapic_write(0x10 + 2 * 4, 1u << 16); /* masked again */
        settle();
        if (flags & (1u << 9))
                __asm__ volatile("sti" ::: "memory");
        report("ioapic-uart-irq-to-ap1", ok && delivered(VEC_IOAPIC, before, want));

        /* The same pin in NMI delivery mode (edge): an NMI on AP 1 only. */
        uint32_t n0 = nmi_cnt[0], n1 = nmi_cnt[1];
        __asm__ volatile("cli" ::: "memory");
        ioapic_write(0x10 + 2 * 4 + 1, 1u << 24);
        ioapic_write(0x10 + 2 * 4, 4u << 8); /* NMI, physical, edge, unmasked */
        outb(COM1 + 4, mcr | 0x08);
        outb(COM1 + 1, 0x02);
        ok = wait_ge(&nmi_cnt[1], n1 + 1, WAIT_US);
        outb(COM1 + 1, 0x00);
        outb(COM1 + 4, mcr);
        ioapic_write(0x10 + 2 * 4, 1u << 16);
        settle();
        if (flags & (1u << 9))
                __asm__ volatile("sti" ::: "memory");
        report("ioapic-nmi-to-ap1", ok && nmi_cnt[1] == n1 + 1 && nmi_cnt[0] == n0);
}

static void xapic_tests(void)
{
        uint32_t want[MAX_CPUS], before[MAX_CPUS];
        bool ok;

        /* Physical destination, both ways. */
        for (unsigned c = 1; c < ncpus; c++) {
                want_only(want, (int)c);
                report(nm("xapic-fixed-physical-bsp-to-ap", c, ""),
                       bsp_ipi(c, ICR_FIXED | VEC_PHYS, want));
        }
        for (unsigned c = 1; c < ncpus; c++) {
                want_only(want, 0);
                snap(VEC_TO_BSP, before);
                ok = run_on(c, ap_send_to_bsp);
                report(nm("xapic-fixed-physical-ap", c, "-to-bsp"),
                       delivered(VEC_TO_BSP, before, want) && ok);
        }

        /* Logical, flat model: one bit per CPU. */
        set_flat();
        ok = run_on_aps(set_flat);
        report("xapic-ldr-flat-readback", ldr_all(flat_id) && ok);
        want_only(want, 1);
        report("xapic-logical-flat-one", bsp_ipi(flat_id(1), ICR_LOGICAL | VEC_FLAT, want));
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = 1;
        report("xapic-logical-flat-all-bits",
               bsp_ipi((1u << ncpus) - 1, ICR_LOGICAL | VEC_FLAT, want));

        /* Lowest priority to every CPU: exactly one takes it. */
        snap(VEC_LOWPRI, before);
        send_ipi((1u << ncpus) - 1, ICR_LOGICAL | ICR_LOWPRI | VEC_LOWPRI);
        uint64_t end = deadline(WAIT_US);
        while (lowpri_taken(before, NULL) == 0 && rdtsc() < end)
                settle();
        settle();
        uint32_t who = 0, sum = lowpri_taken(before, &who);
        if (sum == 1)
                gprintf("smp: lowest-priority IPI taken by cpu %u\n", who);
        else
                gprintf("smp: lowest-priority IPI taken %u times\n", sum);
        report("xapic-lowest-priority-exactly-one", sum == 1);

        /* Logical, cluster model: cluster in bits 7:4, one of 4 bits. */
        set_cluster();
        ok = run_on_aps(set_cluster);
        report("xapic-ldr-cluster-readback", ldr_all(cluster_id) && ok);
        want_only(want, 1);
        report("xapic-logical-cluster-one",
               bsp_ipi(cluster_id(1), ICR_LOGICAL | VEC_CLUSTER, want));
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = (c >> 2) == 1;
        report("xapic-logical-cluster-other-cluster",
               bsp_ipi(0x1f, ICR_LOGICAL | VEC_CLUSTER, want));
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = c < 4;
        report("xapic-logical-cluster-all-of-cluster-0",
               bsp_ipi(0x0f, ICR_LOGICAL | VEC_CLUSTER, want));

        /* Shorthands. */
        want_only(want, 0);
        report("xapic-shorthand-self", bsp_ipi(0, ICR_SELF | VEC_SELFV, want));
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = 1;
        report("xapic-shorthand-all-including-self", bsp_ipi(0, ICR_ALL | VEC_ALLV, want));
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = c != 0;
        report("xapic-shorthand-all-excluding-self", bsp_ipi(0, ICR_OTHERS | VEC_OTHERSV, want));

        /* NMI to each AP (vector field ignored), none to the BSP. */
        for (unsigned c = 1; c < ncpus; c++) {
                uint32_t n0 = nmi_cnt[0], n = nmi_cnt[c];
                send_ipi(c, ICR_NMI);
                ok = wait_ge(&nmi_cnt[c], n + 1, WAIT_US);
                settle();
                report(nm("nmi-ipi-to-ap", c, ""), ok && nmi_cnt[c] == n + 1 && nmi_cnt[0] == n0);
        }
        /* A self-NMI (the self shorthand in NMI mode, as Linux's xAPIC
         * send_IPI_self(NMI_VECTOR) writes it) reaches the sender. */
        {
                uint32_t n0 = nmi_cnt[0];
                send_ipi(0, ICR_SELF | ICR_NMI);
                ok = wait_ge(&nmi_cnt[0], n0 + 1, WAIT_US);
                settle();
                if (!report("nmi-self", ok && nmi_cnt[0] == n0 + 1))
                        gprintf("smp: self-NMI: %u NMIs before, %u after\n", n0, nmi_cnt[0]);
        }

        /* Delivery status, over every xAPIC IPI so far (both directions). */
        uint32_t sends = 0, stuck = 0;
        for (unsigned c = 0; c < ncpus; c++) {
                sends += icr_sends[c];
                stuck += icr_stuck[c];
        }
        gprintf("smp: %u xAPIC IPIs sent, delivery status stuck after %u\n", sends, stuck);
        report("xapic-icr-delivery-status-clears", sends > 0 && stuck == 0);
}

/* ---- x2APIC ---- */

static void to_x2apic(void)
{
        unsigned me = this_cpu();
        uint64_t base = rdmsr64(MSR_APIC_BASE);
        wrmsr64(MSR_APIC_BASE, base | APIC_BASE_X2 | APIC_BASE_EN);
        x2mode[me] = true;
        apic_enable_here();
        ap_x2_base[me] = (uint32_t)rdmsr64(MSR_APIC_BASE);
        ap_x2_id[me] = (uint32_t)rdmsr64(MSR_X2_ID);
        ap_x2_ldr[me] = (uint32_t)rdmsr64(MSR_X2_LDR);
}

static uint32_t x2_ldr_of(unsigned id)
{
        return ((id >> 4) << 16) | (1u << (id & 15));
}

static void ap_x2_self(void)
{
        unsigned me = this_cpu();
        uint32_t n = irq_cnt[me][VEC_X2_SELF];
        wrmsr64(MSR_X2_SELF, VEC_X2_SELF);
        uint64_t end = deadline(WAIT_US);
        while (irq_cnt[me][VEC_X2_SELF] == n && rdtsc() < end)
                cpu_relax();
        ap_self_ok[me] = irq_cnt[me][VEC_X2_SELF] == n + 1;
}

static void x2apic_tests(void)
{
        if (!(cpuid(1, 0).ecx & (1u << 21))) {
                gprintf("smp: no x2APIC (CPUID.1:ECX[21] clear): x2APIC checks skipped\n");
                return;
        }
        uint32_t want[MAX_CPUS], before[MAX_CPUS];
        /* The APs first (while the BSP can still kick them in xAPIC mode),
         * then the BSP: no IPI goes between CPUs in different modes. */
        bool ok = run_on_aps(to_x2apic);
        to_x2apic();
        bool ids = true, ldrs = true;
        for (unsigned c = 0; c < ncpus; c++) {
                ok &= (ap_x2_base[c] & (APIC_BASE_X2 | APIC_BASE_EN)) ==
                      (APIC_BASE_X2 | APIC_BASE_EN);
                ids &= ap_x2_id[c] == c;
                ldrs &= ap_x2_ldr[c] == x2_ldr_of(c);
                if (ap_x2_id[c] != c || ap_x2_ldr[c] != x2_ldr_of(c))
                        gprintf("smp: cpu %u x2APIC ID 0x%x LDR 0x%x\n", c, ap_x2_id[c],
                                ap_x2_ldr[c]);
        }
        report("x2apic-enabled-on-all-cpus", ok);
        report("x2apic-id-msr", ids);
        report("x2apic-ldr-derived", ldrs);

        for (unsigned c = 1; c < ncpus; c++) {
                want_only(want, (int)c);
                report(nm("x2apic-fixed-physical-bsp-to-ap", c, ""),
                       bsp_ipi(c, ICR_FIXED | VEC_X2_PHYS, want));
        }
        for (unsigned c = 1; c < ncpus; c++) {
                want_only(want, 0);
                snap(VEC_X2_TOBSP, before);
                ok = run_on(c, ap_x2_send_to_bsp);
                report(nm("x2apic-fixed-physical-ap", c, "-to-bsp"),
                       delivered(VEC_X2_TOBSP, before, want) && ok);
        }
        /* A destination beyond 8 bits reaches nobody. */
        want_only(want, -1);
        report("x2apic-physical-32bit-destination",
               bsp_ipi(0x100 | 1, ICR_FIXED | VEC_X2_PHYS, want));

        want_only(want, 1);
        report("x2apic-logical-cluster-one",
               bsp_ipi(ap_x2_ldr[1], ICR_LOGICAL | VEC_X2_CLUST, want));
        uint32_t bits = 0;
        for (unsigned c = 0; c < ncpus; c++) {
                want[c] = 1;
                bits |= x2_ldr_of(c) & 0xffff;
        }
        report("x2apic-logical-cluster-all", bsp_ipi(bits, ICR_LOGICAL | VEC_X2_CLUST, want));
        for (unsigned c = 0; c < ncpus; c++)
                want[c] = c != 0;
        report("x2apic-shorthand-all-excluding-self", bsp_ipi(0, ICR_OTHERS | VEC_X2_OTH, want));

        /* SELF IPI MSR, on the BSP and on each AP. */
        uint32_t n = irq_cnt[0][VEC_X2_SELF];
        wrmsr64(MSR_X2_SELF, VEC_X2_SELF);
        report("x2apic-self-ipi-bsp", wait_ge(&irq_cnt[0][VEC_X2_SELF], n + 1, WAIT_US));
        ok = run_on_aps(ap_x2_self);
        for (unsigned c = 1; c < ncpus; c++)
                ok &= ap_self_ok[c] != 0;
        report("x2apic-self-ipi-aps", ok);
}

/* ---- TLB shootdown ----
 * 32-bit paging with shared tables: the first 4 MiB and the APIC page
 * identity-mapped, and TEST_VA mapping page_a, then page_b. */
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));
static uint32_t pt_test[1024] __attribute__((aligned(4096)));
static uint32_t pt_apic[1024] __attribute__((aligned(4096)));
static uint32_t page_a[1024] __attribute__((aligned(4096)));
static uint32_t page_b[1024] __attribute__((aligned(4096)));
#define MAGIC_A 0xa11ce000u
#define MAGIC_B 0xb0b0b000u
#define PTE_P   0x1u
#define PTE_W   0x2u
#define PTE_PCD 0x10u

static volatile uint32_t reads[MAX_CPUS], seen_before[MAX_CPUS], seen_after[MAX_CPUS];
static volatile uint32_t after_set[MAX_CPUS];
static volatile bool reader_stop;

static void paging_on(void)
{
        __asm__ volatile("movl %0, %%cr3\n\t"
                         "movl %%cr0, %%eax\n\t"
                         "orl $0x80000000, %%eax\n\t"
                         "movl %%eax, %%cr0\n\t"
                         "jmp 1f\n"
                         "1:"
                         :
                         : "r"((uint32_t)pd)
                         : "eax", "memory");
        ap_pg_read[this_cpu()] = *(volatile uint32_t *)TEST_VA;
}

/* Reads TEST_VA until told to stop; the first read that starts after a
 * shootdown acknowledgment (the handler's INVLPG) goes to seen_after. */
static void reader(void)
{
        unsigned me = this_cpu();
        uint32_t ack0 = shoot_ack[me];
        while (!reader_stop) {
                uint32_t ack = shoot_ack[me];
                uint32_t v = *(volatile uint32_t *)TEST_VA;
                if (ack == ack0) {
                        seen_before[me] = v;
                } else if (!after_set[me]) {
                        seen_after[me] = v;
                        after_set[me] = 1;
                }
                reads[me]++;
                cpu_relax();
        }
}

static void tlb_tests(void)
{
        for (unsigned i = 0; i < 1024; i++) {
                pt_low[i] = (i << 12) | PTE_P | PTE_W;
                page_a[i] = MAGIC_A + i;
                page_b[i] = MAGIC_B + i;
        }
        pd[0] = (uint32_t)pt_low | PTE_P | PTE_W;
        pd[TEST_VA >> 22] = (uint32_t)pt_test | PTE_P | PTE_W;
        pt_test[0] = (uint32_t)page_a | PTE_P | PTE_W;
        pd[APIC >> 22] = (uint32_t)pt_apic | PTE_P | PTE_W;
        pt_apic[(APIC >> 12) & 1023] = APIC | PTE_P | PTE_W | PTE_PCD;

        paging_on();
        bool ok = ap_pg_read[0] == MAGIC_A;
        ok &= run_on_aps(paging_on);
        for (unsigned c = 1; c < ncpus; c++)
                ok &= ap_pg_read[c] == MAGIC_A;
        report("paging-on-all-cpus", ok);

        reader_stop = false;
        uint32_t done[MAX_CPUS];
        for (unsigned c = 1; c < ncpus; c++) {
                reads[c] = 0;
                after_set[c] = 0;
                done[c] = ap_done[c];
                post(c, reader);
        }
        ok = true;
        for (unsigned c = 1; c < ncpus; c++)
                ok &= wait_ge(&reads[c], 100, WAIT_US) && seen_before[c] == MAGIC_A;
        report("tlb-aps-read-old-page", ok);

        /* Remap, flush locally, then shoot down the others and wait for
         * every acknowledgment, as an OS's flush_tlb_others does. */
        pt_test[0] = (uint32_t)page_b | PTE_P | PTE_W;
        __asm__ volatile("invlpg (%0)" : : "r"(TEST_VA) : "memory");
        report("tlb-bsp-reads-new-page", *(volatile uint32_t *)TEST_VA == MAGIC_B);
        uint32_t ack[MAX_CPUS];
        for (unsigned c = 1; c < ncpus; c++)
                ack[c] = shoot_ack[c];
        send_ipi(0, ICR_OTHERS | ICR_FIXED | VEC_SHOOT);
        ok = true;
        for (unsigned c = 1; c < ncpus; c++)
                ok &= wait_ge(&shoot_ack[c], ack[c] + 1, WAIT_US);
        report("tlb-shootdown-acknowledged", ok);

        ok = true;
        for (unsigned c = 1; c < ncpus; c++) {
                wait_ge(&after_set[c], 1, WAIT_US);
                if (!after_set[c] || seen_after[c] != MAGIC_B) {
                        gprintf("smp: cpu %u read 0x%x after the shootdown\n", c, seen_after[c]);
                        ok = false;
                }
        }
        report("tlb-aps-read-new-page-after-shootdown", ok);

        reader_stop = true;
        ok = true;
        for (unsigned c = 1; c < ncpus; c++)
                ok &= wait_ge(&ap_done[c], done[c] + 1, WAIT_US);
        report("tlb-readers-finished", ok);
}

/* ---- `nmi-button`: the operator's `nmi` asserts LINT1 on every vCPU ---- */

/* Each CPU wires its own LINT1 for NMI, as a PC's firmware does. */
static void lint1_nmi_here(void)
{
        if (x2mode[this_cpu()])
                wrmsr64(0x835, 4u << 8);
        else
                apic_wr(REG_LVT_LINT1, 4u << 8);
}

static void nmi_button(void)
{
        lint1_nmi_here();
        bool wired = run_on_aps(lint1_nmi_here);
        report("lint1-wired-for-nmi", wired);
        uint32_t before[MAX_CPUS];
        for (unsigned c = 0; c < ncpus; c++)
                before[c] = nmi_cnt[c];
        /* The case types `nmi smp` at the vtvisor> prompt on this line. */
        gprintf("smp: press the NMI button\n");
        bool all = true;
        for (unsigned c = 0; c < ncpus; c++) {
                bool got = wait_ge(&nmi_cnt[c], before[c] + 1, 20 * WAIT_US);
                report(nm("lint1-nmi-cpu", c, ""), got);
                all &= got;
        }
        /* One press, one NMI each. */
        for (unsigned c = 0; all && c < ncpus; c++)
                expect_eq32(nm("lint1-nmi-once-cpu", c, ""), nmi_cnt[c], before[c] + 1);
}

/* ---- Main ---- */

static void patch_nmi_gate(void)
{
        __asm__ volatile("sidt (%0)" : : "r"(&idt_desc.limit) : "memory");
        uint8_t *gate = (uint8_t *)idt_desc.base + 2 * 8;
        uint32_t stub = (uint32_t)smp_nmi_stub;
        gate[0] = (uint8_t)stub;
        gate[1] = (uint8_t)(stub >> 8);
        gate[6] = (uint8_t)(stub >> 16);
        gate[7] = (uint8_t)(stub >> 24);
}

/* ---- `mesh=N`: every CPU storms every other at once ----
 *
 * All CPUs at the same time, in xAPIC mode with the flat logical model:
 * each sends N rounds of a fixed IPI to every other CPU's APIC ID and a
 * lowest-priority IPI to all of them (logical, every bit), with vectors
 * that name the sender.  Interrupts coalesce in the IRR, so each pair
 * takes between 1 and N of the fixed ones, and each sender's
 * lowest-priority IPIs are taken between 1 and N times in all; none
 * reaches its sender through a physical destination.  Afterwards one IPI
 * each way still arrives exactly once. */
static uint32_t mesh_rounds;
static volatile uint32_t mesh_done[MAX_CPUS];

static void mesh_send(void)
{
        unsigned me = this_cpu();
        for (uint32_t i = 0; i < mesh_rounds; i++) {
                for (unsigned t = 0; t < ncpus; t++)
                        if (t != me)
                                send_ipi(t, ICR_FIXED | (VEC_MESH + me));
                send_ipi((1u << ncpus) - 1, ICR_LOGICAL | ICR_LOWPRI | (VEC_MESH_LP + me));
        }
        mesh_done[me]++;
}

static void mesh_tests(void)
{
        uint32_t fixed0[MAX_CPUS][MAX_CPUS], lp0[MAX_CPUS][MAX_CPUS], want[MAX_CPUS];
        set_flat();
        bool ok = run_on_aps(set_flat);
        for (unsigned s = 0; s < ncpus; s++) {
                snap(VEC_MESH + s, fixed0[s]);
                snap(VEC_MESH_LP + s, lp0[s]);
        }
        uint32_t stuck0 = 0;
        for (unsigned c = 0; c < ncpus; c++)
                stuck0 += icr_stuck[c];
        gprintf("smp: mesh: start: %u rounds, each CPU to every other (fixed) and to all "
                "(lowest priority)\n",
                mesh_rounds);
        uint64_t t0 = rdtsc();
        for (unsigned c = 1; c < ncpus; c++)
                post(c, mesh_send);
        __asm__ volatile("sti" ::: "memory");
        mesh_send();
        __asm__ volatile("cli" ::: "memory");
        /* Bounded: 1 ms per round for each CPU is far more than it takes. */
        uint32_t us = WAIT_US + mesh_rounds * ncpus * 1000;
        for (unsigned c = 1; c < ncpus; c++)
                ok &= wait_ge(&mesh_done[c], 1, us);
        settle();
        uint64_t ticks = rdtsc() - t0;
        bool pairs = ok, lowest = ok;
        for (unsigned s = 0; s < ncpus; s++) {
                uint32_t lp = 0;
                for (unsigned r = 0; r < ncpus; r++) {
                        uint32_t got = irq_cnt[r][VEC_MESH + s] - fixed0[s][r];
                        lp += irq_cnt[r][VEC_MESH_LP + s] - lp0[s][r];
                        bool good = r == s ? got == 0 : got >= 1 && got <= mesh_rounds;
                        if (!good) {
                                gprintf("smp: mesh: cpu %u took %u of cpu %u's %u fixed IPIs\n", r,
                                        got, s, mesh_rounds);
                                pairs = false;
                        }
                }
                gprintf("smp: mesh: cpu %u's lowest-priority IPIs taken %u times of %u\n", s, lp,
                        mesh_rounds);
                if (lp < 1 || lp > mesh_rounds)
                        lowest = false;
        }
        uint32_t stuck = 0;
        for (unsigned c = 0; c < ncpus; c++)
                stuck += icr_stuck[c];
        gprintf("smp: mesh: %u IPIs sent in %u M TSC ticks\n", mesh_rounds * ncpus * ncpus,
                (uint32_t)(ticks >> 3) / 125000u);
        report("mesh-all-senders-finished", ok);
        report("mesh-fixed-each-pair-between-1-and-n", pairs);
        report("mesh-lowest-priority-between-1-and-n", lowest);
        report("mesh-delivery-status-clears", stuck == stuck0);
        /* The APICs still work: one IPI each way, exactly once. */
        bool after = true;
        for (unsigned c = 1; c < ncpus; c++) {
                want_only(want, (int)c);
                after &= bsp_ipi(c, ICR_FIXED | VEC_PHYS, want);
                uint32_t before[MAX_CPUS];
                want_only(want, 0);
                snap(VEC_TO_BSP, before);
                after &= run_on(c, ap_send_to_bsp) && delivered(VEC_TO_BSP, before, want);
        }
        report("mesh-then-one-ipi-each-way", after);
}

static void finish(void)
{
        ap_stop = true;
        for (unsigned c = 1; c < ncpus; c++) {
                send_ipi(c, ICR_FIXED | VEC_KICK);
                bool halted = wait_ge(&ap_halted[c], 1, WAIT_US);
                report(nm("ap", c, "-halted"), halted);
        }
        /* A second SIPI, or anything else, that restarted an AP would show
         * as a second entry into the trampoline or a second check-in. */
        for (unsigned c = 1; c < ncpus; c++) {
                uint32_t entries = *tramp_u16(smp_tr_entries, c);
                if (entries != 1 || ap_checkin[c] != 1)
                        gprintf("smp: ap %u entered the trampoline %u times, started %u times\n", c,
                                entries, ap_checkin[c]);
                report(nm("ap", c, "-started-exactly-once"), entries == 1 && ap_checkin[c] == 1);
        }
}

/* ---- `bench` (make bench): IPI latency in TSC ticks ---- */

/* AP 1 spins with interrupts on until told to stop. */
static void bench_spinner(void)
{
        while (bench_spin)
                cpu_relax();
}

static void sort32(uint32_t *a, unsigned n)
{
        for (unsigned i = 1; i < n; i++) {
                uint32_t v = a[i];
                unsigned j = i;
                for (; j > 0 && a[j - 1] > v; j--)
                        a[j] = a[j - 1];
                a[j] = v;
        }
}

/* From the BSP's write of the xAPIC ICR to AP 1's interrupt handler: the
 * ticks between the TSC read just before the write and the handler's. */
static void bench_ipi(const char *name)
{
        enum { N = 101 };
        static uint32_t t[N];
        unsigned got = 0;
        for (unsigned i = 0; i < N; i++) {
                uint32_t before = bench_count;
                __asm__ volatile("cli" ::: "memory");
                apic_wr(REG_ICR_HI, 1u << 24);
                uint64_t t0 = rdtsc();
                apic_wr(REG_ICR_LO, ICR_FIXED | ICR_ASSERT | VEC_BENCH);
                __asm__ volatile("sti" ::: "memory");
                if (!wait_ge(&bench_count, before + 1, WAIT_US))
                        continue;
                t[got++] = (uint32_t)(bench_seen - t0);
                udelay(50);
        }
        if (!got) {
                report(name, false);
                return;
        }
        sort32(t, got);
        gprintf("BENCH %s median=%u min=%u max=%u samples=%u\n", name, t[got / 2], t[0], t[got - 1],
                got);
}

static void bench(void)
{
        bench_ipi("ipi_to_halted");
        bench_spin = true;
        post(1, bench_spinner);
        udelay(1000);
        bench_ipi("ipi_to_running");
        bench_spin = false;
}

void guest_main(void)
{
        char buf[16];
        uint64_t n = 2;
        if (cmdline_value("cpus", buf, sizeof(buf)) && !parse_number(buf, &n))
                n = 0;
        if (!report("cpus-in-range", n >= 2 && n <= MAX_CPUS)) {
                gprintf("smp: cpus=%s: need 2..%u\n", buf, MAX_CPUS);
                return;
        }
        ncpus = (unsigned)n;
        const char *src = tsc_init();
        gprintf("smp: %u CPUs, TSC %u ticks/us (%s)\n", ncpus, ticks_per_us, src);

        uint32_t base = (uint32_t)rdmsr64(MSR_APIC_BASE);
        report("bsp-apic-base-bsp-flag",
               (base & (APIC_BASE_BSP | APIC_BASE_EN)) == (APIC_BASE_BSP | APIC_BASE_EN));
        expect_eq32("bsp-apic-id-0", cpuid_apic_id(), 0);
        /* No legacy interrupts: on bare Bochs the 8259 would deliver the
         * PIT's IRQ 0 as vector 8 through LINT0 (virtual wire) once
         * interrupts are on.  vtvisor has no 8259 (writes are ignored). */
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
        apic_enable_here();
        apic_wr(REG_LVT_LINT0, 1u << 16);
        g_irq_hook = irq_hook;
        patch_nmi_gate();

        if (!start_aps()) {
                gprintf("smp: not every AP started: the remaining checks are skipped\n");
                return;
        }
        if (cmdline_has_word("bench")) {
                bench();
                finish();
                return;
        }
        if (cmdline_has_word("nmi-button")) {
                nmi_button();
                finish();
                return;
        }
        xapic_tests();
        if (cmdline_value("mesh", buf, sizeof(buf)) && parse_number(buf, &n) && n > 0 &&
            n <= 100000) {
                mesh_rounds = (uint32_t)n;
                mesh_tests();
        }
        ioapic_test();
        x2apic_tests();
        tlb_tests();
        finish();
}
