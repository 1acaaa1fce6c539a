#include "arch/x86/hapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"

#define APIC_BASE_EXTD    BIT(10)
#define APIC_BASE_ENABLE  BIT(11)
#define CPUID1_ECX_X2APIC BIT(21)

/* Register offsets (SDM Table 11-1); the x2APIC MSR is 0x800 + off / 16. */
#define REG_ID        0x020
#define REG_TPR       0x080
#define REG_EOI       0x0b0
#define REG_SVR       0x0f0
#define REG_ESR       0x280
#define REG_ICR_LO    0x300
#define REG_ICR_HI    0x310
#define REG_LVT_TMR   0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERR   0x370

#define ICR_FIXED   (0u << 8)
#define ICR_NMI     (4u << 8)
#define ICR_INIT    (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING BIT(12)
#define ICR_ASSERT  BIT(14)
#define LVT_MASKED  BIT(16)

static bool x2apic;
static volatile uint32_t *mmio;

static uint32_t rd(uint32_t off)
{
        if (x2apic)
                return (uint32_t)rdmsr(0x800 + off / 16);
        return mmio[off / 4];
}

static void wr(uint32_t off, uint32_t v)
{
        if (x2apic)
                wrmsr(0x800 + off / 16, v);
        else
                mmio[off / 4] = v;
}

void hapic_init_cpu(void)
{
        uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
        x2apic = (cpuid(1, 0).ecx & CPUID1_ECX_X2APIC) != 0;
        /* Enabling is one step and x2APIC a second: xAPIC -> x2APIC is an
         * allowed transition (SDM 11.12.5); the APIC is never globally
         * disabled on the way (Bochs ignores writes after that). */
        if (!(base & APIC_BASE_ENABLE))
                wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_ENABLE);
        if (x2apic && !(base & APIC_BASE_EXTD))
                wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
        mmio = hpa_to_hva(base & ~0xfffULL & ((1ULL << 52) - 1));

        wr(REG_TPR, 0);
        wr(REG_LVT_TMR, LVT_MASKED);
        wr(REG_LVT_LINT0, LVT_MASKED);
        wr(REG_LVT_LINT1, LVT_MASKED);
        wr(REG_LVT_ERR, LVT_MASKED);
        wr(REG_SVR, BIT(8) | HOST_VEC_SPURIOUS); /* software-enabled */
        /* Clear any error a BIOS left (write then read, SDM 11.5.3). */
        wr(REG_ESR, 0);
}

bool hapic_x2apic(void)
{
        return x2apic;
}

uint32_t hapic_id(void)
{
        return x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

void hapic_eoi(void)
{
        wr(REG_EOI, 0);
}

bool hapic_wait_idle(void)
{
        /* x2APIC has no delivery-status bit: a WRMSR to the ICR completes
         * once the IPI is sent (SDM 11.12.9). */
        if (x2apic)
                return true;
        uint64_t end = rdtsc() + tsc_hz() / 1000;
        while (rd(REG_ICR_LO) & ICR_PENDING) {
                if (rdtsc() > end)
                        return false;
                cpu_pause();
        }
        return true;
}

static void send(uint32_t dest, uint32_t lo)
{
        if (x2apic) {
                wrmsr(0x830, ((uint64_t)dest << 32) | lo);
                return;
        }
        hapic_wait_idle();
        wr(REG_ICR_HI, dest << 24);
        wr(REG_ICR_LO, lo);
}

void hapic_send_fixed(uint32_t dest, uint8_t vector)
{
        send(dest, ICR_FIXED | ICR_ASSERT | vector);
}

void hapic_send_nmi(uint32_t dest)
{
        send(dest, ICR_NMI | ICR_ASSERT);
}

void hapic_send_init(uint32_t dest)
{
        send(dest, ICR_INIT | ICR_ASSERT);
}

void hapic_send_sipi(uint32_t dest, uint8_t page)
{
        send(dest, ICR_STARTUP | ICR_ASSERT | page);
}
