/* Local APIC and I/O APIC under vtvisor: xAPIC MMIO in several instruction
 * forms, the one-shot, periodic and TSC-deadline timers, waking from HLT,
 * delivery after STI (interrupt window), x2APIC MSRs and self-IPI, I/O APIC
 * routing of the UART's interrupt (transmitter empty and received data). */
#include "guest.h"

#define APIC             0xfee00000u
#define IOAPIC           0xfec00000u
#define REG_ID           0x20
#define REG_VER          0x30
#define REG_TPR          0x80
#define REG_EOI          0xb0
#define REG_SVR          0xf0
#define REG_ISR          0x100
#define REG_IRR          0x200
#define REG_LVT_T        0x320
#define REG_TINIT        0x380
#define REG_TCUR         0x390
#define REG_TDIV         0x3e0
#define VEC_ONE          0x40
#define VEC_PER          0x41
#define VEC_DL           0x42
#define VEC_SELF         0x50
#define VEC_UART         0x60
#define VEC_TPR          0x71
#define MSR_APIC_BASE    0x1b
#define MSR_TSC_DEADLINE 0x6e0

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
        __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Waits with interrupts on (HLT) until vector vec has been seen n times,
 * giving up after max_hlts wake-ups. */
static bool wait_irq(uint32_t vec, uint32_t n, unsigned max_hlts)
{
        for (unsigned i = 0; i < max_hlts && g_irq_count[vec] < n; i++)
                __asm__ volatile("sti; hlt; cli");
        return g_irq_count[vec] >= n;
}

static void mmio_forms(void)
{
        uint32_t ver;
        /* mov eax, [moffs32] */
        __asm__ volatile("movl 0xfee00030, %0" : "=a"(ver));
        expect_eq32("lapic-version-moffs", ver & 0xff, 0x14);
        /* mov r32, [r32+disp8] */
        uint32_t base = APIC, v2;
        __asm__ volatile("movl 0x30(%1), %0" : "=r"(v2) : "r"(base));
        expect_eq32("lapic-version-disp8", v2, ver);
        /* movzbl: one byte of the register */
        uint32_t b;
        __asm__ volatile("movzbl 0x30(%1), %0" : "=r"(b) : "r"(base));
        expect_eq32("lapic-version-movzx8", b, ver & 0xff);
        /* mov dword [r32+disp32], imm32, then read it back */
        __asm__ volatile("movl $0x20, 0x80(%0)" : : "r"(base) : "memory");
        expect_eq32("tpr-store-imm", apic_rd(REG_TPR), 0x20);
        /* mov [r32+disp32], r32 */
        uint32_t tpr = 0x10;
        __asm__ volatile("movl %1, 0x80(%0)" : : "r"(base), "r"(tpr) : "memory");
        expect_eq32("tpr-store-reg", apic_rd(REG_TPR), 0x10);
        /* 8-bit store to the TPR's low byte */
        __asm__ volatile("movb $0x30, 0x80(%0)" : : "r"(base) : "memory");
        expect_eq32("tpr-store-byte", apic_rd(REG_TPR) & 0xff, 0x30);
        apic_wr(REG_TPR, 0);
        expect_eq32("apic-id-0", apic_rd(REG_ID) >> 24, 0);
}

static void oneshot(void)
{
        apic_wr(REG_TDIV, 0xb); /* divide by 1 */
        apic_wr(REG_LVT_T, VEC_ONE);
        apic_wr(REG_TINIT, 200000);
        uint32_t c1 = apic_rd(REG_TCUR);
        report("oneshot-counting-down", c1 > 0 && c1 <= 200000);
        report("oneshot-fires-wakes-hlt", wait_irq(VEC_ONE, 1, 100));
        expect_eq32("oneshot-current-zero", apic_rd(REG_TCUR), 0);
        report("oneshot-in-service", apic_rd(REG_ISR + 0x20) & (1u << (VEC_ONE & 31)));
        apic_wr(REG_EOI, 0);
        report("oneshot-eoi-clears-isr", !(apic_rd(REG_ISR + 0x20) & (1u << (VEC_ONE & 31))));
        /* It fires once only. */
        spin(200000);
        expect_eq32("oneshot-once", g_irq_count[VEC_ONE], 1);
}

static void eoi_hook(uint32_t vector)
{
        (void)vector;
        apic_wr(REG_EOI, 0);
}

static void periodic(void)
{
        g_irq_hook = eoi_hook;
        apic_wr(REG_LVT_T, VEC_PER | (1u << 17));
        apic_wr(REG_TINIT, 100000);
        report("periodic-fires-repeatedly", wait_irq(VEC_PER, 4, 100));
        apic_wr(REG_TINIT, 0); /* stops it */
        /* An expiry already in IRR is still delivered: take it first. */
        __asm__ volatile("sti; nop; cli");
        uint32_t n = g_irq_count[VEC_PER];
        __asm__ volatile("sti");
        spin(400000);
        __asm__ volatile("cli");
        expect_eq32("periodic-stops", g_irq_count[VEC_PER], n);
        g_irq_hook = 0;
}

static void tsc_deadline(void)
{
        apic_wr(REG_LVT_T, VEC_DL | (2u << 17));
        wrmsr64(MSR_TSC_DEADLINE, rdtsc() + 300000);
        report("deadline-armed", rdmsr64(MSR_TSC_DEADLINE) != 0);
        report("deadline-fires", wait_irq(VEC_DL, 1, 100));
        expect_eq64("deadline-msr-zero-after", rdmsr64(MSR_TSC_DEADLINE), 0);
        apic_wr(REG_EOI, 0);
        /* Fires while interrupts are off; delivered right after STI. */
        wrmsr64(MSR_TSC_DEADLINE, rdtsc() + 50000);
        spin(200000);
        expect_eq32("deadline-held-while-cli", g_irq_count[VEC_DL], 1);
        report("deadline-pending-in-irr", apic_rd(REG_IRR + 0x20) & (1u << (VEC_DL & 31)));
        __asm__ volatile("sti; nop; cli");
        expect_eq32("deadline-delivered-after-sti", g_irq_count[VEC_DL], 2);
        apic_wr(REG_EOI, 0);
        wrmsr64(MSR_TSC_DEADLINE, 0);
}

static volatile uint32_t *ioapic_sel = (volatile uint32_t *)IOAPIC;
static volatile uint32_t *ioapic_win = (volatile uint32_t *)(IOAPIC + 0x10);

static void ioapic_wr(uint32_t reg, uint32_t v)
{
        *ioapic_sel = reg;
        *ioapic_win = v;
}

static uint32_t ioapic_rd(uint32_t reg)
{
        *ioapic_sel = reg;
        return *ioapic_win;
}

static void uart_irqs(void)
{
        expect_eq32("ioapic-version", ioapic_rd(1), 0x00170011);
        report("ioapic-pin4-masked-at-reset", ioapic_rd(0x10 + 2 * 4) & (1u << 16));
        ioapic_wr(0x10 + 2 * 4 + 1, 0);    /* destination APIC 0 */
        ioapic_wr(0x10 + 2 * 4, VEC_UART); /* edge, active high, unmasked */
        expect_eq32("ioapic-rte-readback", ioapic_rd(0x10 + 2 * 4), VEC_UART);

        g_irq_hook = eoi_hook;
        outb(0x3fc, 0x08); /* MCR: OUT2 */
        outb(0x3f9, 0x02); /* IER: transmitter empty */
        report("uart-thre-irq-routed", wait_irq(VEC_UART, 1, 50));
        expect_eq32("uart-iir-thre", inb(0x3fa) & 0x0f, 0x02);

        /* Received data: loop a byte back, then leave loopback. */
        outb(0x3f9, 0x01); /* IER: received data only */
        outb(0x3fc, 0x18); /* loopback + OUT2 */
        outb(0x3f8, 'Z');
        uint32_t before = g_irq_count[VEC_UART];
        outb(0x3fc, 0x08); /* OUT2, loopback off: the line goes up */
        report("uart-rx-irq-routed", wait_irq(VEC_UART, before + 1, 50));
        expect_eq32("uart-iir-rda", inb(0x3fa) & 0x0f, 0x04);
        expect_eq32("uart-rx-byte", inb(0x3f8), 'Z');
        outb(0x3f9, 0x00);
        outb(0x3fc, 0x00);
        ioapic_wr(0x10 + 2 * 4, VEC_UART | (1u << 16));
        g_irq_hook = 0;
}

static void x2apic(void)
{
        uint64_t base = rdmsr64(MSR_APIC_BASE);
        expect_eq64("apic-base-default", base & ~0xfffull, APIC);
        report("apic-base-bsp-enabled", (base & 0x900) == 0x900);
        wrmsr64(MSR_APIC_BASE, base | (1u << 10));
        expect_eq64("x2apic-id", rdmsr64(0x802), 0);
        expect_eq32("x2apic-version", (uint32_t)rdmsr64(0x803) & 0xff, 0x14);
        wrmsr64(0x83f, VEC_SELF); /* SELF IPI */
        __asm__ volatile("sti; nop; cli");
        expect_eq32("x2apic-self-ipi", g_irq_count[VEC_SELF], 1);
        wrmsr64(0x80b, 0); /* EOI */
        report("x2apic-isr-clear", !(rdmsr64(0x812) & (1u << (VEC_SELF & 31))));
        try_wrmsr(0x80b, 1);
        expect_vec("x2apic-eoi-nonzero-gp", g_fault_vector, VEC_GP);
        /* Going back to xAPIC directly is invalid (SDM 11.12.5). */
        try_wrmsr(MSR_APIC_BASE, base);
        expect_vec("x2apic-to-xapic-gp", g_fault_vector, VEC_GP);
}

/* The TPR holds back an interrupt of its class or below until it is
 * lowered (SDM 11.8.3.1): a self IPI through the ICR waits in IRR. */
static void tpr_blocks(void)
{
        apic_wr(REG_TPR, 0x70);
        /* PPR is never read from the virtual-APIC page: an APIC-access
         * exit where the CPU virtualizes the others (core/vapic.h). */
        expect_eq32("ppr-follows-tpr", apic_rd(0xa0), 0x70);
        __asm__ volatile("sti");
        apic_wr(0x300, (1u << 18) | VEC_TPR); /* ICR: self, fixed */
        for (int i = 0; i < 1000; i++)
                __asm__ volatile("pause");
        expect_eq32("tpr-holds-back", g_irq_count[VEC_TPR], 0);
        report("tpr-held-in-irr", apic_rd(REG_IRR + 0x30) & (1u << (VEC_TPR & 31)));
        apic_wr(REG_TPR, 0x60);
        for (int i = 0; i < 1000; i++)
                __asm__ volatile("pause");
        expect_eq32("tpr-lowered-delivers", g_irq_count[VEC_TPR], 1);
        apic_wr(REG_EOI, 0);
        apic_wr(REG_TPR, 0);
}

/* Global disable through IA32_APIC_BASE and re-enable (SDM 11.4.3):
 * CPUID.1:EDX.APIC follows, the xAPIC page is not decoded meanwhile, and
 * re-enabled the APIC starts from its power-up state.  The reserved bits
 * of IA32_APIC_BASE start at MAXPHYADDR. */
static void disable_enable(void)
{
        uint64_t base = rdmsr64(MSR_APIC_BASE);
        wrmsr64(MSR_APIC_BASE, base & ~(1ull << 11));
        report("cpuid-apic-clear-when-disabled", !(cpuid(1, 0).edx & (1u << 9)));
        wrmsr64(MSR_APIC_BASE, base);
        report("cpuid-apic-set-when-enabled", (cpuid(1, 0).edx & (1u << 9)) != 0);
        expect_eq32("apic-svr-reset-after-reenable", apic_rd(REG_SVR), 0xff);
        apic_wr(REG_SVR, 0x1ff);
        unsigned phys = cpuid(0x80000008, 0).eax & 0xff;
        if (phys < 52) {
                expect_vec("apic-base-above-maxphyaddr-gp",
                           try_wrmsr(MSR_APIC_BASE, base | (1ull << phys)), VEC_GP);
                expect_eq64("apic-base-unchanged", rdmsr64(MSR_APIC_BASE), base);
        }
}

/* An LVT keeps only its writable bits (SDM Figure 11-8: LINT0's vector,
 * delivery mode, polarity, trigger mode and mask); delivery status and
 * remote IRR read 0.  With APIC-register virtualization the write exits
 * after the CPU stored it in the virtual-APIC page and the read does not:
 * vtvisor must have put the model's value back there. */
static void lvt_bits(void)
{
        apic_wr(0x350, 0xffffffff);
        expect_eq32("lvt-lint0-writable-bits", apic_rd(0x350), 0x0001a7ff);
        apic_wr(0x350, 0x10000);
        expect_eq32("lvt-lint0-masked-again", apic_rd(0x350), 0x10000);
}

/* A reserved xAPIC register (0x3f0, say) reads 0, ignores writes and sets
 * the ESR's illegal-register bit (SDM 11.5.3); the VM runs on. */
static void reserved_register(void)
{
        apic_wr(0x280, 0); /* ESR: latch (and clear) what has accumulated */
        expect_eq32("apic-reserved-reads-zero", apic_rd(0x3f0), 0);
        apic_wr(0x3f0, 0xdeadbeef);
        expect_eq32("apic-reserved-write-ignored", apic_rd(0x3f0), 0);
        apic_wr(0x280, 0);
        report("apic-esr-illegal-register", (apic_rd(0x280) & 0x80) != 0);
        apic_wr(0x280, 0);
}

/* n / d by shifts: this 32-bit guest has no 64-bit division helper. */
static uint64_t div64(uint64_t n, uint32_t d)
{
        uint64_t q = 0, r = 0;
        for (int i = 63; i >= 0; i--) {
                r = (r << 1) | ((n >> i) & 1);
                if (r >= d) {
                        r -= d;
                        q |= 1ull << i;
                }
        }
        return q;
}

/* The APIC timer counts at the core crystal clock, slower than the TSC,
 * and CPUID leaf 0x15 says so consistently: TSC = crystal * EBX / EAX. */
static void crystal_clock(void)
{
        struct cpuid_regs r = cpuid(0x15, 0);
        report("cpuid15-ratio-above-one", r.eax && r.ebx > r.eax && r.ecx);
        if (!r.eax || !r.ecx)
                return;
        apic_wr(REG_TDIV, 0xb);                /* divide by 1 */
        apic_wr(REG_LVT_T, 0x10000 | VEC_ONE); /* masked */
        apic_wr(REG_TINIT, 0xffffffffu);
        uint64_t t0 = rdtsc();
        uint32_t c0 = apic_rd(REG_TCUR);
        while (rdtsc() - t0 < 4000000)
                ;
        uint32_t c1 = apic_rd(REG_TCUR);
        uint64_t dt = rdtsc() - t0;
        apic_wr(REG_TINIT, 0);
        /* Counts expected in dt TSC ticks: dt * EAX / EBX. */
        uint64_t want = div64(dt * r.eax, r.ebx), got = c0 - c1;
        if (!report("apic-timer-at-crystal-rate", got * 100 > want * 95 && got * 100 < want * 105))
                gprintf("apic: %u counts in 0x%llx TSC ticks, expected about %u (EAX %u EBX %u)\n",
                        (uint32_t)got, dt, (uint32_t)want, r.eax, r.ebx);
}

void guest_main(void)
{
        apic_wr(REG_SVR, 0x1ff); /* software-enable, spurious vector 0xff */
        report("apic-enabled", apic_rd(REG_SVR) & 0x100);
        mmio_forms();
        tpr_blocks();
        disable_enable();
        reserved_register();
        lvt_bits();
        crystal_clock();
        oneshot();
        periodic();
        tsc_deadline();
        uart_irqs();
        x2apic();
}
