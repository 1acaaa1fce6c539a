/* Host unit tests for devices/lapic.c: the guest-visible local APIC. */
#include "tests/unit/check_compat.h"
#include "devices/lapic.h"

#define T0      1000000ull /* TSC when a test starts its timer */
#define TSC_HZ  3000000000ull
#define BUS_HZ  1000000000ull
#define APIC_ID 0x23u /* x2APIC cluster 2, logical bit 3 */

static struct lapic a;

static void setup(void)
{
        lapic_init(&a, 0, true, TSC_HZ, BUS_HZ);
}

static uint32_t rd(uint32_t off)
{
        return lapic_mmio_read(&a, off, T0);
}

static void wr(uint32_t off, uint32_t val)
{
        lapic_mmio_write(&a, off, val, T0, NULL);
}

static void sw_enable(void)
{
        wr(LAPIC_REG_SVR, 0x1ff);
}

static uint64_t msr_rd(uint32_t msr)
{
        uint64_t v = 0xdeadbeef;
        ck_assert_msg(lapic_msr_read(&a, msr, &v, T0), "rdmsr 0x%x faulted", msr);
        return v;
}

static void msr_wr(uint32_t msr, uint64_t val)
{
        ck_assert_msg(lapic_msr_write(&a, msr, val, T0, NULL), "wrmsr 0x%x faulted", msr);
}

static void to_x2apic(void)
{
        msr_wr(MSR_LAPIC_APIC_BASE, LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE | LAPIC_BASE_EXTD);
        ck_assert(lapic_is_x2apic(&a));
}

/* ESR is latched by a write (SDM 11.5.3): write, then read. */
static uint32_t esr(void)
{
        wr(LAPIC_REG_ESR, 0);
        return rd(LAPIC_REG_ESR);
}

static bool irr_test(uint8_t v)
{
        return (rd(LAPIC_REG_IRR + (v >> 5) * 0x10) >> (v & 31)) & 1;
}

/* Injects and retires whatever is pending, returning how many there were. */
static int drain(void)
{
        int n = 0, v;
        while ((v = lapic_highest_pending(&a)) >= 0) {
                lapic_start_service(&a, (uint8_t)v);
                ck_assert_int_eq(lapic_eoi(&a, NULL), v);
                n++;
        }
        return n;
}

/* ---- the virtual-APIC page ---- */

static uint32_t vpage[1024];

#define VW(off) vpage[(off) / 4]

START_TEST(vapic_export_all_matches_mmio_reads)
{
        sw_enable();
        wr(LAPIC_REG_TPR, 0x20);
        wr(LAPIC_REG_LDR, 0x01000000);
        wr(LAPIC_REG_LVT_LINT0, 0x700);
        wr(LAPIC_REG_TMR_DIV, 0xb);
        wr(LAPIC_REG_ICR_HI, 0x02000000);
        lapic_accept(&a, 0x41, true);
        lapic_accept(&a, 0x90, false);
        lapic_start_service(&a, 0x90);
        memset(vpage, 0xa5, sizeof(vpage));
        lapic_vapic_export_all(&a, vpage);
        static const uint32_t offs[] = {
                LAPIC_REG_ID,        LAPIC_REG_VERSION,   LAPIC_REG_TPR,     LAPIC_REG_LDR,
                LAPIC_REG_DFR,       LAPIC_REG_SVR,       LAPIC_REG_ESR,     LAPIC_REG_ICR_LO,
                LAPIC_REG_ICR_HI,    LAPIC_REG_LVT_TMR,   LAPIC_REG_LVT_THM, LAPIC_REG_LVT_PERF,
                LAPIC_REG_LVT_LINT0, LAPIC_REG_LVT_LINT1, LAPIC_REG_LVT_ERR, LAPIC_REG_TMR_INIT,
                LAPIC_REG_TMR_DIV,
        };
        for (size_t i = 0; i < ARRAY_SIZE(offs); i++)
                ck_assert_msg(VW(offs[i]) == rd(offs[i]), "offset 0x%x: page 0x%x, read 0x%x",
                              offs[i], VW(offs[i]), rd(offs[i]));
        for (unsigned i = 0; i < 8; i++) {
                ck_assert_uint_eq(VW(LAPIC_REG_IRR + 16 * i), rd(LAPIC_REG_IRR + 16 * i));
                ck_assert_uint_eq(VW(LAPIC_REG_ISR + 16 * i), rd(LAPIC_REG_ISR + 16 * i));
                ck_assert_uint_eq(VW(LAPIC_REG_TMR + 16 * i), rd(LAPIC_REG_TMR + 16 * i));
        }
        ck_assert_uint_eq(VW(LAPIC_REG_EOI), 0);
        ck_assert_uint_eq(VW(LAPIC_REG_IRR + 0x20), 1u << 1);  /* 0x41 */
        ck_assert_uint_eq(VW(LAPIC_REG_TMR + 0x20), 1u << 1);  /* level */
        ck_assert_uint_eq(VW(LAPIC_REG_ISR + 0x40), 1u << 16); /* 0x90 */
        /* Offsets the CPU never reads from the page are left alone. */
        ck_assert_uint_eq(VW(LAPIC_REG_PPR), 0xa5a5a5a5u);
        ck_assert_uint_eq(VW(LAPIC_REG_TMR_CUR), 0xa5a5a5a5u);
        ck_assert(!lapic_vapic_export_reg(&a, vpage, LAPIC_REG_PPR));
        ck_assert(!lapic_vapic_export_reg(&a, vpage, LAPIC_REG_TMR_CUR));
        ck_assert(lapic_vapic_export_reg(&a, vpage, LAPIC_REG_SVR));
}
END_TEST

START_TEST(vapic_import_takes_the_cpus_delivery_and_eoi)
{
        sw_enable();
        lapic_accept(&a, 0x31, false);
        lapic_accept(&a, 0x52, false);
        lapic_accept(&a, 0x80, false);
        lapic_start_service(&a, 0x80);
        lapic_vapic_export(&a, vpage);
        /* The CPU delivers 0x52 (IRR -> ISR), the guest's EOI retires 0x80,
         * its MOV to CR8 raises the TPR. */
        VW(LAPIC_REG_IRR + 0x20) &= ~(1u << (0x52 & 31));
        VW(LAPIC_REG_ISR + 0x20) |= 1u << (0x52 & 31);
        VW(LAPIC_REG_ISR + 0x40) &= ~1u;
        VW(LAPIC_REG_TPR) = 0x40;
        /* Meanwhile another vCPU's IPI reached the model. */
        uint32_t fresh[8] = { 0 };
        lapic_accept(&a, 0x61, false);
        fresh[0x61 >> 5] |= 1u << (0x61 & 31);
        ck_assert_uint_eq(lapic_vapic_import(&a, vpage, fresh), 1);
        ck_assert(irr_test(0x31));
        ck_assert(!irr_test(0x52));
        ck_assert(irr_test(0x61));
        ck_assert_int_eq(lapic_highest_in_service(&a), 0x52);
        ck_assert_uint_eq(lapic_get_tpr(&a), 0x40);
        /* PPR follows the imported TPR and ISR: class 5 in service. */
        ck_assert_uint_eq(lapic_ppr(&a), 0x50);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x61);
}
END_TEST

START_TEST(vapic_import_keeps_a_fresh_vector_the_cpu_already_delivered)
{
        /* 0x33 was exported, delivered by the CPU, and arrived again from
         * another vCPU before the import: it is pending once more, as the
         * hardware's IRR would have it after the first one went to ISR. */
        sw_enable();
        lapic_accept(&a, 0x33, false);
        lapic_vapic_export(&a, vpage);
        VW(LAPIC_REG_IRR + 0x10) &= ~(1u << (0x33 & 31));
        VW(LAPIC_REG_ISR + 0x10) |= 1u << (0x33 & 31);
        uint32_t fresh[8] = { 0 };
        lapic_accept(&a, 0x33, false);
        fresh[1] |= 1u << (0x33 & 31);
        ck_assert_uint_eq(lapic_vapic_import(&a, vpage, fresh), 0);
        ck_assert(irr_test(0x33));
        ck_assert_int_eq(lapic_highest_in_service(&a), 0x33);
        ck_assert_int_eq(lapic_highest_in_service(&(struct lapic){ 0 }), -1);
}
END_TEST

/* ---- reset state ---- */

START_TEST(reset_state)
{
        lapic_init(&a, 5, true, TSC_HZ, BUS_HZ);
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_APIC_BASE), 0xfee00900);
        ck_assert(lapic_mmio_enabled(&a));
        ck_assert(!lapic_is_x2apic(&a));
        ck_assert_x64_eq(lapic_base_address(&a), 0xfee00000);
        ck_assert_x64_eq(rd(LAPIC_REG_ID), 0x05000000);
        ck_assert_x64_eq(rd(LAPIC_REG_VERSION), 0x00050014);
        ck_assert_x64_eq(rd(LAPIC_REG_SVR), 0xff);
        ck_assert_x64_eq(rd(LAPIC_REG_DFR), 0xffffffff);
        ck_assert_x64_eq(rd(LAPIC_REG_LDR), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_TPR), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_PPR), 0);
        for (uint32_t off = LAPIC_REG_LVT_TMR; off <= LAPIC_REG_LVT_ERR; off += 0x10)
                ck_assert_x64_eq(rd(off), LAPIC_LVT_MASKED);
        for (uint32_t off = LAPIC_REG_ISR; off < LAPIC_REG_ESR; off += 0x10)
                ck_assert_x64_eq(rd(off), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_INIT), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_CUR), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_DIV), 0);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);

        lapic_init(&a, 1, false, TSC_HZ, BUS_HZ); /* an AP: no BSP flag */
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_APIC_BASE), 0xfee00800);
}
END_TEST

/* ---- arithmetic ---- */

START_TEST(divide_encoding)
{
        static const struct {
                uint32_t dcr;
                unsigned div;
        } t[] = {
                { 0x0, 2 },  { 0x1, 4 },   { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 },
                { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 }, { 0x4, 2 }, /* bit 2 is not part of it */
                { 0xf4, 2 }, { 0xff, 1 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++)
                ck_assert_msg(lapic_divide_value(t[i].dcr) == t[i].div, "dcr 0x%x", t[i].dcr);
}
END_TEST

static const struct {
        uint64_t x, y, z;
} muldiv_cases[] = {
        { 0, 12345, 7 },
        { 1, 1, 1 },
        { 0xffffffffull * 128, 5000000000ull, 1000000000ull },
        { 0xffffffffull * 128, 5000000000ull, 133333333ull },
        { UINT64_MAX, UINT64_MAX, UINT64_MAX },
        { UINT64_MAX, 3, 4 },
        { UINT64_MAX - 1, UINT64_MAX, UINT64_MAX - 2 },
        { 0x123456789abcdefull, 0xfedcba987654321ull, 0xfffffffffffffffull },
        { 1000000007ull, 998244353ull, 1ull << 63 },
        { 3, 5, 2 },
};

START_TEST(muldiv_matches_128bit_reference)
{
        uint64_t x = muldiv_cases[_i].x, y = muldiv_cases[_i].y, z = muldiv_cases[_i].z;
        unsigned __int128 p = (unsigned __int128)x * y;
        uint64_t rem = 0xbad;
        uint64_t q = lapic_muldiv64(x, y, z, &rem);
        ck_assert_x64_eq(q, p / z > UINT64_MAX ? UINT64_MAX : (uint64_t)(p / z));
        ck_assert_x64_eq(rem, (uint64_t)(p % z));
}
END_TEST

START_TEST(muldiv_saturates)
{
        ck_assert_x64_eq(lapic_muldiv64(UINT64_MAX, UINT64_MAX, 1, NULL), UINT64_MAX);
        ck_assert_x64_eq(lapic_muldiv64(1ull << 40, 1ull << 40, 1ull << 15, NULL), UINT64_MAX);
        ck_assert_x64_eq(lapic_muldiv64(1ull << 40, 1ull << 40, 1ull << 16, NULL), UINT64_MAX);
        ck_assert_x64_eq(lapic_muldiv64(1ull << 40, 1ull << 40, 1ull << 17, NULL), 1ull << 63);
}
END_TEST

START_TEST(tick_conversions_do_not_overflow)
{
        /* 0xffffffff * 128 * 5 GHz is about 2^71. */
        lapic_init(&a, 0, true, 5000000000ull, 1000000000ull);
        ck_assert_x64_eq(lapic_timer_ticks_to_tsc(&a, 0xffffffff, 128), 2748779068800ull);
        ck_assert_x64_eq(lapic_tsc_to_timer_ticks(&a, 2748779068800ull, 128), 0xffffffff);
        ck_assert_x64_eq(lapic_tsc_to_timer_ticks(&a, 2748779068799ull, 128), 0xfffffffe);
        ck_assert_x64_eq(lapic_timer_ticks_to_tsc(&a, UINT64_MAX, 128), UINT64_MAX);
        ck_assert_x64_eq(lapic_tsc_to_timer_ticks(&a, UINT64_MAX, 1), UINT64_MAX / 5);
        lapic_init(&a, 0, true, 1000000000ull, 3000000000ull); /* bus faster than TSC */
        ck_assert_x64_eq(lapic_tsc_to_timer_ticks(&a, UINT64_MAX, 1), UINT64_MAX);
        ck_assert_x64_eq(lapic_timer_ticks_to_tsc(&a, 3000000000ull, 1), 1000000000ull);
}
END_TEST

/* ---- timer: countdown ---- */

struct count_case {
        uint64_t tsc_hz, bus_hz;
        uint32_t dcr, init;
        uint64_t dt;  /* TSC ticks after the initial-count write */
        uint32_t cur; /* current-count register then (one-shot) */
};

static const struct count_case count_cases[] = {
        /* 3 TSC ticks per bus tick, divide by 1 */
        { 3000000000ull, 1000000000ull, 0xb, 1000, 0, 1000 },
        { 3000000000ull, 1000000000ull, 0xb, 1000, 2, 1000 },
        { 3000000000ull, 1000000000ull, 0xb, 1000, 3, 999 },
        { 3000000000ull, 1000000000ull, 0xb, 1000, 2999, 1 },
        { 3000000000ull, 1000000000ull, 0xb, 1000, 3000, 0 },
        { 3000000000ull, 1000000000ull, 0xb, 1000, 1000000000, 0 },
        /* divide by 2 */
        { 3000000000ull, 1000000000ull, 0x0, 1000, 5, 1000 },
        { 3000000000ull, 1000000000ull, 0x0, 1000, 6, 999 },
        { 3000000000ull, 1000000000ull, 0x0, 1000, 600, 900 },
        { 3000000000ull, 1000000000ull, 0x0, 1000, 5999, 1 },
        { 3000000000ull, 1000000000ull, 0x0, 1000, 6000, 0 },
        /* divide by 4, TSC = bus */
        { 1000000000ull, 1000000000ull, 0x1, 50, 3, 50 },
        { 1000000000ull, 1000000000ull, 0x1, 50, 4, 49 },
        { 1000000000ull, 1000000000ull, 0x1, 50, 199, 1 },
        { 1000000000ull, 1000000000ull, 0x1, 50, 200, 0 },
        /* divide by 8, 16, 64 */
        { 1000000000ull, 1000000000ull, 0x2, 2, 7, 2 },
        { 1000000000ull, 1000000000ull, 0x2, 2, 8, 1 },
        { 1000000000ull, 1000000000ull, 0x2, 2, 16, 0 },
        { 1000000000ull, 1000000000ull, 0x3, 2, 15, 2 },
        { 1000000000ull, 1000000000ull, 0x3, 2, 16, 1 },
        { 1000000000ull, 1000000000ull, 0x9, 2, 64, 1 },
        { 1000000000ull, 1000000000ull, 0x9, 2, 127, 1 },
        { 1000000000ull, 1000000000ull, 0x9, 2, 128, 0 },
        /* divide by 32, 4 TSC ticks per bus tick */
        { 4000000000ull, 1000000000ull, 0x8, 3, 127, 3 },
        { 4000000000ull, 1000000000ull, 0x8, 3, 128, 2 },
        { 4000000000ull, 1000000000ull, 0x8, 3, 383, 1 },
        { 4000000000ull, 1000000000ull, 0x8, 3, 384, 0 },
        /* full count at divide by 128 and 25 TSC ticks per bus tick */
        { 2500000000ull, 100000000ull, 0xa, 0xffffffff, 3199, 0xffffffff },
        { 2500000000ull, 100000000ull, 0xa, 0xffffffff, 3200, 0xfffffffe },
        { 2500000000ull, 100000000ull, 0xa, 0xffffffff, 3200000, 0xfffffc17 },
        { 2500000000ull, 100000000ull, 0xa, 0xffffffff, 13743895343999ull, 1 },
        { 2500000000ull, 100000000ull, 0xa, 0xffffffff, 13743895344000ull, 0 },
        /* 5 GHz TSC, divide by 128, full count: the product needs 71 bits */
        { 5000000000ull, 1000000000ull, 0xa, 0xffffffff, 2748779068799ull, 1 },
        { 5000000000ull, 1000000000ull, 0xa, 0xffffffff, 2748779068800ull, 0 },
        /* 10/3 TSC ticks per bus tick: not a whole number */
        { 1000000000ull, 300000000ull, 0xb, 100, 3, 100 },
        { 1000000000ull, 300000000ull, 0xb, 100, 4, 99 },
        { 1000000000ull, 300000000ull, 0xb, 100, 7, 98 },
        { 1000000000ull, 300000000ull, 0xb, 100, 10, 97 },
        { 1000000000ull, 300000000ull, 0xb, 100, 333, 1 },
        { 1000000000ull, 300000000ull, 0xb, 100, 334, 0 },
        { 2000000000ull, 133333333ull, 0xb, 1000000, 7500000, 500001 },
        /* bus faster than the TSC */
        { 1000000000ull, 2000000000ull, 0xb, 10, 1, 8 },
        { 1000000000ull, 2000000000ull, 0xb, 10, 4, 2 },
        { 1000000000ull, 2000000000ull, 0xb, 10, 5, 0 },
};

static void start_oneshot(const struct count_case *c, uint32_t lvt)
{
        lapic_init(&a, 0, true, c->tsc_hz, c->bus_hz);
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, lvt);
        wr(LAPIC_REG_TMR_DIV, c->dcr);
        wr(LAPIC_REG_TMR_INIT, c->init);
}

START_TEST(timer_current_count)
{
        const struct count_case *c = &count_cases[_i];
        start_oneshot(c, 0x40);
        uint32_t cur = lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + c->dt);
        ck_assert_msg(cur == c->cur, "case %d: current 0x%x, want 0x%x", _i, cur, c->cur);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_INIT, T0 + c->dt), c->init);
        /* Reading the count past the deadline raised the interrupt. */
        ck_assert_int_eq(lapic_highest_pending(&a), c->cur ? -1 : 0x40);
}
END_TEST

struct deadline_case {
        uint64_t tsc_hz, bus_hz;
        uint32_t dcr, init;
        uint64_t dt; /* deadline - start */
};

static const struct deadline_case deadline_cases[] = {
        { 3000000000ull, 1000000000ull, 0xb, 1000, 3000 },
        { 3000000000ull, 1000000000ull, 0x0, 1000, 6000 },
        { 1000000000ull, 1000000000ull, 0x1, 50, 200 },
        { 1000000000ull, 1000000000ull, 0x2, 2, 16 },
        { 1000000000ull, 1000000000ull, 0x3, 2, 32 },
        { 1000000000ull, 1000000000ull, 0x9, 2, 128 },
        { 4000000000ull, 1000000000ull, 0x8, 3, 384 },
        { 2500000000ull, 100000000ull, 0xa, 0xffffffff, 13743895344000ull },
        { 5000000000ull, 1000000000ull, 0xa, 0xffffffff, 2748779068800ull },
        { 1000000000ull, 300000000ull, 0xb, 100, 334 },
        { 2000000000ull, 133333333ull, 0xb, 1000000, 15000001 },
        { 2000000000ull, 133333333ull, 0x0, 0xffffffff, 128849019173ull },
        { 1000000000ull, 2000000000ull, 0xb, 10, 5 },
        { 1000000000ull, 2000000000ull, 0xb, 1, 1 },
};

START_TEST(timer_oneshot_deadline_and_fire)
{
        const struct deadline_case *c = &deadline_cases[_i];
        struct count_case cc = { c->tsc_hz, c->bus_hz, c->dcr, c->init, 0, 0 };
        start_oneshot(&cc, 0x41);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + c->dt);
        lapic_timer_expire(&a, T0 + c->dt - 1);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        /* Not yet 0 one TSC tick earlier (2 when the bus is twice as fast). */
        uint32_t before = lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + c->dt - 1);
        ck_assert_uint_eq(before, c->bus_hz > c->tsc_hz ? MIN(2u, c->init) : 1u);
        lapic_timer_expire(&a, T0 + c->dt);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x41);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        ck_assert_int_eq(drain(), 1);
        /* One-shot: stays at 0 and fires no more. */
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 10 * c->dt), 0);
        lapic_timer_expire(&a, T0 + 10 * c->dt);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_INIT), c->init);
}
END_TEST

START_TEST(timer_periodic_does_not_drift)
{
        /* 100 ticks at 0.3 bus ticks per TSC tick: a period of 333 1/3 TSC
         * ticks, so the k-th expiry is at ceil(1000 k / 3). */
        lapic_init(&a, 0, true, 1000000000ull, 300000000ull);
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x42);
        wr(LAPIC_REG_TMR_DIV, 0xb);
        wr(LAPIC_REG_TMR_INIT, 100);
        for (uint64_t k = 1; k <= 3000; k++) {
                uint64_t want = T0 + (1000 * k + 2) / 3;
                ck_assert_x64_eq(lapic_timer_deadline(&a), want);
                lapic_timer_expire(&a, want - 1);
                ck_assert_int_eq(lapic_highest_pending(&a), -1);
                lapic_timer_expire(&a, want);
                ck_assert_int_eq(drain(), 1);
                /* Reloaded: the count restarts at the initial count. */
                ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, want), 100);
        }
}
END_TEST

START_TEST(timer_periodic_late_expiry_catches_up_once)
{
        lapic_init(&a, 0, true, 1000000000ull, 300000000ull);
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x42);
        wr(LAPIC_REG_TMR_DIV, 0xb);
        wr(LAPIC_REG_TMR_INIT, 100);
        /* 10.5 periods late: one interrupt (IRR holds one), and the next
         * expiry is still on the original grid. */
        lapic_timer_expire(&a, T0 + 3500);
        ck_assert_int_eq(drain(), 1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 3667);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 3500), 50);
        lapic_timer_expire(&a, T0 + 3667);
        ck_assert_int_eq(drain(), 1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 4000);
}
END_TEST

START_TEST(timer_deadline_past_tsc_range_never_fires)
{
        /* Found by tests/fuzz/fuzz_lapic.c: a count started 10 TSC ticks
         * before the TSC's last value ends past 2^64, so its deadline
         * saturates to UINT64_MAX.  At TSC UINT64_MAX it has not been
         * reached: it must neither fire nor run the count above the
         * initial count (it used to fire on every access, each time
         * moving a periodic count one period on). */
        uint64_t t = UINT64_MAX - 10;
        lapic_init(&a, 0, true, 1000000000ull, 1000000000ull);
        lapic_mmio_write(&a, LAPIC_REG_SVR, 0x1ff, t, NULL);
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x42, t, NULL);
        lapic_mmio_write(&a, LAPIC_REG_TMR_DIV, 0xb, t, NULL);
        lapic_mmio_write(&a, LAPIC_REG_TMR_INIT, 1000, t, NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        for (int i = 0; i < 3; i++) {
                lapic_timer_expire(&a, UINT64_MAX);
                ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, UINT64_MAX), 990);
        }
        ck_assert_int_eq(lapic_highest_requested(&a), -1);
        /* One-shot alike. */
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_ONESHOT | 0x42, t, NULL);
        lapic_mmio_write(&a, LAPIC_REG_TMR_INIT, 1000, t, NULL);
        lapic_timer_expire(&a, UINT64_MAX);
        ck_assert_int_eq(lapic_highest_requested(&a), -1);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, UINT64_MAX), 990);
}
END_TEST

START_TEST(timer_periodic_past_2_64_ticks_restarts)
{
        /* Found by tests/fuzz/fuzz_lapic.c: with the bus clock 10^15 times
         * the TSC's, 20000 TSC ticks are more than 2^64 timer ticks.  The
         * next expiry used to saturate to a deadline in the past, so the
         * timer fired again on every call; it now starts a new period at
         * the expiry. */
        lapic_init(&a, 0, true, 1000ull, 1000000000000000000ull);
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x42);
        wr(LAPIC_REG_TMR_DIV, 0xb);
        wr(LAPIC_REG_TMR_INIT, 1000);
        uint64_t now = T0 + 20000;
        lapic_timer_expire(&a, now);
        ck_assert_int_eq(drain(), 1);
        ck_assert_uint_gt(lapic_timer_deadline(&a), now);
        lapic_timer_expire(&a, now);
        ck_assert_int_eq(drain(), 0);
        ck_assert_uint_le(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, now), 1000);
        /* And it keeps its period from there. */
        lapic_timer_expire(&a, lapic_timer_deadline(&a));
        ck_assert_int_eq(drain(), 1);
}
END_TEST

START_TEST(timer_periodic_current_count_wraps)
{
        /* TSC = bus, divide by 1, period 10: never reads 0 between expiries. */
        lapic_init(&a, 0, true, 1000000000ull, 1000000000ull);
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | LAPIC_LVT_MASKED | 0x42);
        wr(LAPIC_REG_TMR_DIV, 0xb);
        wr(LAPIC_REG_TMR_INIT, 10);
        static const struct {
                uint64_t dt;
                uint32_t cur;
        } t[] = { { 0, 10 }, { 1, 9 },  { 9, 1 },   { 10, 10 },
                  { 11, 9 }, { 19, 1 }, { 20, 10 }, { 1234567, 3 } };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++)
                ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + t[i].dt), t[i].cur);
        /* Masked: it counted and expired, but raised nothing. */
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        /* Unmasking shows the next expiry on the original grid. */
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x42, T0 + 1234567,
                         NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 1234570);
}
END_TEST

START_TEST(timer_initial_count_zero_stops)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x43);
        wr(LAPIC_REG_TMR_INIT, 1000);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 6000);
        lapic_mmio_write(&a, LAPIC_REG_TMR_INIT, 0, T0 + 600, NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 700), 0);
        lapic_timer_expire(&a, T0 + 100000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
}
END_TEST

START_TEST(timer_rewrite_restarts)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, 0x43);
        wr(LAPIC_REG_TMR_INIT, 1000);
        lapic_mmio_write(&a, LAPIC_REG_TMR_INIT, 500, T0 + 3000, NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 3000 + 3000);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 3000), 500);
}
END_TEST

START_TEST(timer_mode_switch_keeps_count)
{
        sw_enable();
        /* divide by 2: 6 TSC ticks per timer tick, 1000 ticks = 6000 */
        wr(LAPIC_REG_LVT_TMR, 0x44);
        wr(LAPIC_REG_TMR_INIT, 1000);
        /* One-shot -> periodic mid-count: same expiry, then reloads. */
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x44, T0 + 3000, NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 6000);
        lapic_timer_expire(&a, T0 + 6000);
        ck_assert_int_eq(drain(), 1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 12000);
        /* Periodic -> one-shot: this period ends, then it stops. */
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, 0x44, T0 + 7000, NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 12000);
        lapic_timer_expire(&a, T0 + 12000);
        ck_assert_int_eq(drain(), 1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        /* Changing the mode of a stopped timer does not start it. */
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x44, T0 + 13000, NULL);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 13000), 0);
}
END_TEST

START_TEST(timer_divide_change_while_counting)
{
        lapic_init(&a, 0, true, 1000000000ull, 1000000000ull);
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, 0x45);
        wr(LAPIC_REG_TMR_DIV, 0xb);
        wr(LAPIC_REG_TMR_INIT, 1000);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 100), 900);
        lapic_mmio_write(&a, LAPIC_REG_TMR_DIV, 0x0, T0 + 100, NULL); /* now divide by 2 */
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_DIV, T0 + 100), 0);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 300), 800);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 100 + 1800);
        lapic_mmio_write(&a, LAPIC_REG_TMR_DIV, 0xff, T0 + 300, NULL); /* bits 0,1,3 only */
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_DIV, T0 + 300), 0xb);
}
END_TEST

START_TEST(timer_masked_oneshot_still_counts)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_MASKED | 0x46);
        wr(LAPIC_REG_TMR_INIT, 1000);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX); /* no exit needed */
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 600), 900);
        ck_assert_x64_eq(lapic_mmio_read(&a, LAPIC_REG_TMR_CUR, T0 + 6000), 0);
        /* Unmasking after the expiry raises nothing: it already happened. */
        lapic_mmio_write(&a, LAPIC_REG_LVT_TMR, 0x46, T0 + 7000, NULL);
        lapic_timer_expire(&a, T0 + 8000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
}
END_TEST

START_TEST(timer_illegal_vector_sets_esr)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, 10);
        wr(LAPIC_REG_TMR_INIT, 1);
        lapic_timer_expire(&a, T0 + 6);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(esr(), LAPIC_ESR_RECV_ILLEGAL_VECTOR);
}
END_TEST

/* ---- timer: TSC-deadline mode ---- */

START_TEST(tsc_deadline_arm_fire_disarm)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | 0x47);
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_TSC_DEADLINE), 0);
        /* Initial-count writes are ignored; the current count reads 0. */
        wr(LAPIC_REG_TMR_INIT, 1000);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_INIT), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_CUR), 0);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);

        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 5000);
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_TSC_DEADLINE), T0 + 5000);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 5000);
        lapic_timer_expire(&a, T0 + 4999);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        lapic_timer_expire(&a, T0 + 5000);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x47);
        ck_assert_int_eq(drain(), 1);
        /* Fired: disarmed and the MSR reads 0. */
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_TSC_DEADLINE), 0);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        lapic_timer_expire(&a, T0 + 100000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);

        /* Writing 0 disarms. */
        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 9000);
        msr_wr(MSR_LAPIC_TSC_DEADLINE, 0);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        lapic_timer_expire(&a, T0 + 100000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);

        /* A deadline in the past fires at once. */
        ck_assert(lapic_msr_write(&a, MSR_LAPIC_TSC_DEADLINE, 5, T0, NULL));
        ck_assert_int_eq(lapic_highest_pending(&a), 0x47);
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_TSC_DEADLINE), 0);
}
END_TEST

START_TEST(tsc_deadline_ignored_in_other_modes)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, 0x47); /* one-shot */
        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 5000);
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_TSC_DEADLINE), 0);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        lapic_timer_expire(&a, T0 + 5000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
}
END_TEST

START_TEST(tsc_deadline_mode_transitions_disarm)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | 0x47);
        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 5000);
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x47);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | 0x47);
        ck_assert_x64_eq(msr_rd(MSR_LAPIC_TSC_DEADLINE), 0);
        lapic_timer_expire(&a, T0 + 5000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);

        /* A running one-shot count stops when entering TSC-deadline mode. */
        wr(LAPIC_REG_LVT_TMR, 0x47);
        wr(LAPIC_REG_TMR_INIT, 1000);
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | 0x47);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        wr(LAPIC_REG_LVT_TMR, 0x47);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_INIT), 0);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        /* Just changing vector or mask in TSC-deadline mode keeps it armed. */
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | 0x47);
        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 5000);
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | 0x48);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 5000);
}
END_TEST

START_TEST(tsc_deadline_masked_fires_silently)
{
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_TSCDEADLINE | LAPIC_LVT_MASKED | 0x47);
        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 5000);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        ck_assert(lapic_msr_read(&a, MSR_LAPIC_TSC_DEADLINE, &(uint64_t){ 0 }, T0 + 4000));
        uint64_t v = 1;
        ck_assert(lapic_msr_read(&a, MSR_LAPIC_TSC_DEADLINE, &v, T0 + 5000));
        ck_assert_x64_eq(v, 0);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
}
END_TEST

START_TEST(timer_in_x2apic_mode)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        to_x2apic();
        msr_wr(0x80f, 0x1ff);
        msr_wr(0x83e, 0xb);
        msr_wr(0x832, LAPIC_LVT_TIMER_PERIODIC | 0xec);
        msr_wr(0x838, 1000);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 3000);
        uint64_t v;
        ck_assert(lapic_msr_read(&a, 0x839, &v, T0 + 300));
        ck_assert_x64_eq(v, 900);
        ck_assert(!lapic_msr_write(&a, 0x839, 5, T0, NULL)); /* current count is read-only */
        msr_wr(0x832, LAPIC_LVT_TIMER_TSCDEADLINE | 0xec);
        msr_wr(MSR_LAPIC_TSC_DEADLINE, T0 + 77);
        lapic_timer_expire(&a, T0 + 77);
        ck_assert_int_eq(lapic_highest_pending(&a), 0xec);
}
END_TEST

/* ---- software enable ---- */

START_TEST(software_disabled_keeps_lvts_masked)
{
        /* SVR bit 8 clear after reset: LVT writes cannot unmask. */
        for (uint32_t off = LAPIC_REG_LVT_TMR; off <= LAPIC_REG_LVT_ERR; off += 0x10) {
                wr(off, 0x50);
                ck_assert_x64_eq(rd(off), LAPIC_LVT_MASKED | 0x50);
        }
        sw_enable();
        wr(LAPIC_REG_LVT_TMR, 0x51);
        wr(LAPIC_REG_LVT_LINT0, 0x700);
        ck_assert_x64_eq(rd(LAPIC_REG_LVT_TMR), 0x51);
        /* Disabling again masks every LVT. */
        wr(LAPIC_REG_SVR, 0xff);
        ck_assert_x64_eq(rd(LAPIC_REG_LVT_TMR), LAPIC_LVT_MASKED | 0x51);
        ck_assert_x64_eq(rd(LAPIC_REG_LVT_LINT0), LAPIC_LVT_MASKED | 0x700);
        /* Re-enabling leaves them masked. */
        sw_enable();
        ck_assert_x64_eq(rd(LAPIC_REG_LVT_TMR), LAPIC_LVT_MASKED | 0x51);
}
END_TEST

START_TEST(software_disabled_holds_irr_but_accepts_nothing)
{
        lapic_accept(&a, 0x60, false);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        sw_enable();
        lapic_accept(&a, 0x60, false);
        wr(LAPIC_REG_SVR, 0xff);
        lapic_accept(&a, 0x70, false); /* dropped */
        /* SDM 11.4.7.2: pending IRR bits still need handling. */
        ck_assert_int_eq(lapic_highest_pending(&a), 0x60);
        ck_assert_int_eq(drain(), 1);
}
END_TEST

START_TEST(register_masks_xapic)
{
        sw_enable();
        static const struct {
                uint32_t off, write, read;
        } t[] = {
                { LAPIC_REG_TPR, 0x1ff, 0xff },
                { LAPIC_REG_LDR, 0x12345678, 0x12000000 },
                { LAPIC_REG_DFR, 0x0, 0x0fffffff },
                { LAPIC_REG_DFR, 0xffffffff, 0xffffffff },
                { LAPIC_REG_SVR, 0xfffff, 0x3ff },
                { LAPIC_REG_ID, 0x07654321, 0x07000000 },
                { LAPIC_REG_VERSION, 0, 0x00050014 },
                { LAPIC_REG_PPR, 0x55, 0xff }, /* read-only: the TPR written above */
                { LAPIC_REG_LVT_TMR, 0xffffffff, 0x000700ff },
                { LAPIC_REG_LVT_THM, 0xffffffff, 0x000107ff },
                { LAPIC_REG_LVT_PERF, 0xffffffff, 0x000107ff },
                { LAPIC_REG_LVT_LINT0, 0xffffffff, 0x0001a7ff },
                { LAPIC_REG_LVT_LINT1, 0xffffffff, 0x0001a7ff },
                { LAPIC_REG_LVT_ERR, 0xffffffff, 0x000100ff },
                { LAPIC_REG_ICR_HI, 0xffffffff, 0xff000000 },
                { LAPIC_REG_ISR, 0xffffffff, 0 },
                { LAPIC_REG_TMR, 0xffffffff, 0 },
                { LAPIC_REG_IRR + 0x70, 0xffffffff, 0 },
                { LAPIC_REG_EOI, 0, 0 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                wr(t[i].off, t[i].write);
                ck_assert_msg(rd(t[i].off) == t[i].read, "offset 0x%x reads 0x%x", t[i].off,
                              rd(t[i].off));
        }
}
END_TEST

START_TEST(reserved_offsets_set_illegal_register)
{
        sw_enable();
        static const uint32_t reserved[] = { 0x000, 0x010, 0x040, 0x070, 0x2f0,
                                             0x3a0, 0x3f0, 0x400, 0xff0 };
        for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
                ck_assert_x64_eq(esr(), 0);
                ck_assert_x64_eq(rd(reserved[i]), 0);
                ck_assert_msg(esr() == LAPIC_ESR_ILLEGAL_REGISTER, "offset 0x%x", reserved[i]);
                wr(reserved[i], 0xffffffff);
                ck_assert_x64_eq(esr(), LAPIC_ESR_ILLEGAL_REGISTER);
        }
        /* Misaligned and out-of-page offsets are ignored quietly. */
        ck_assert_x64_eq(rd(0x024), 0);
        ck_assert_x64_eq(rd(0x1000), 0);
        ck_assert_x64_eq(esr(), 0);
}
END_TEST

/* ---- priorities ---- */

START_TEST(ppr_table)
{
        static const struct {
                uint8_t tpr;
                int isr; /* highest in-service vector or -1 */
                uint8_t ppr;
        } t[] = {
                { 0x00, -1, 0x00 },   { 0x45, -1, 0x45 },   { 0x45, 0x52, 0x50 },
                { 0x55, 0x52, 0x55 }, { 0x50, 0x5f, 0x50 }, { 0x65, 0x52, 0x65 },
                { 0x00, 0xff, 0xf0 }, { 0xff, 0x20, 0xff },
        };
        sw_enable();
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                setup();
                sw_enable();
                wr(LAPIC_REG_TPR, t[i].tpr);
                if (t[i].isr >= 0) {
                        lapic_accept(&a, (uint8_t)t[i].isr, false);
                        lapic_start_service(&a, (uint8_t)t[i].isr);
                }
                ck_assert_msg(rd(LAPIC_REG_PPR) == t[i].ppr, "row %zu: ppr 0x%x", i,
                              rd(LAPIC_REG_PPR));
                ck_assert_uint_eq(lapic_ppr(&a), t[i].ppr);
        }
}
END_TEST

START_TEST(pending_respects_tpr)
{
        sw_enable();
        wr(LAPIC_REG_TPR, 0x45);
        lapic_accept(&a, 0x4f, false); /* class 4 = TPR class: waits */
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        lapic_accept(&a, 0x50, false);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x50);
        lapic_set_tpr(&a, 0x50); /* CR8 = 5 */
        ck_assert_uint_eq(lapic_get_tpr(&a), 0x50);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        lapic_set_tpr(&a, 0);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x50);
}
END_TEST

START_TEST(nested_vectors_and_eoi_order)
{
        struct lapic_effects fx;
        sw_enable();
        lapic_accept(&a, 0x31, false);
        lapic_accept(&a, 0x52, false);
        lapic_accept(&a, 0x50, true);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x52);
        lapic_start_service(&a, 0x52);
        ck_assert(!irr_test(0x52));
        ck_assert_x64_eq(rd(LAPIC_REG_ISR + 0x20), 1u << (0x52 - 0x40));
        /* 0x50 has the same class as the one in service: it waits. */
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        lapic_accept(&a, 0x61, false);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x61);
        lapic_start_service(&a, 0x61);
        ck_assert_x64_eq(rd(LAPIC_REG_PPR), 0x60);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);

        lapic_mmio_write(&a, LAPIC_REG_EOI, 0, T0, &fx); /* retires 0x61 */
        ck_assert_int_eq(fx.eoi_vector, 0x61);
        ck_assert(!fx.eoi_level);
        ck_assert(!fx.has_ipi);
        ck_assert_x64_eq(rd(LAPIC_REG_PPR), 0x50);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        lapic_mmio_write(&a, LAPIC_REG_EOI, 0, T0, &fx); /* retires 0x52 */
        ck_assert_int_eq(fx.eoi_vector, 0x52);
        ck_assert_x64_eq(rd(LAPIC_REG_PPR), 0);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x50);
        lapic_start_service(&a, 0x50);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR + 0x20), 1u << (0x50 - 0x40));
        lapic_mmio_write(&a, LAPIC_REG_EOI, 0, T0, &fx); /* level: tell the I/O APIC */
        ck_assert_int_eq(fx.eoi_vector, 0x50);
        ck_assert(fx.eoi_level);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x31);
        ck_assert_int_eq(drain(), 1);
        lapic_mmio_write(&a, LAPIC_REG_EOI, 0, T0, &fx); /* nothing in service */
        ck_assert_int_eq(fx.eoi_vector, -1);
        ck_assert(!fx.eoi_level);
}
END_TEST

START_TEST(tmr_follows_last_acceptance)
{
        sw_enable();
        lapic_accept(&a, 0x80, true);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR + 0x40), 1);
        lapic_accept(&a, 0x80, false);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR + 0x40), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_IRR + 0x40), 1);
}
END_TEST

START_TEST(illegal_vectors_are_dropped)
{
        sw_enable();
        for (unsigned v = 0; v < 16; v++)
                lapic_accept(&a, (uint8_t)v, false);
        ck_assert_x64_eq(rd(LAPIC_REG_IRR), 0);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        /* Latched only by the next ESR write. */
        ck_assert_x64_eq(rd(LAPIC_REG_ESR), 0);
        ck_assert_x64_eq(esr(), LAPIC_ESR_RECV_ILLEGAL_VECTOR);
        ck_assert_x64_eq(esr(), 0);
        lapic_accept(&a, 16, false); /* the first legal one */
        ck_assert_int_eq(lapic_highest_pending(&a), 16);
}
END_TEST

START_TEST(error_lvt_raises_interrupt)
{
        sw_enable();
        wr(LAPIC_REG_LVT_ERR, 0xfe);
        lapic_accept(&a, 3, false);
        ck_assert_int_eq(lapic_highest_pending(&a), 0xfe);
        ck_assert_x64_eq(esr(), LAPIC_ESR_RECV_ILLEGAL_VECTOR);
        /* An illegal error vector is not reported again (no recursion). */
        ck_assert_int_eq(drain(), 1);
        wr(LAPIC_REG_LVT_ERR, 0x05);
        lapic_accept(&a, 3, false);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(esr(), LAPIC_ESR_RECV_ILLEGAL_VECTOR);
}
END_TEST

/* ---- IPIs ---- */

struct ipi_case {
        bool x2;
        uint32_t lo, dest;
        int local_vector; /* expected in IRR, or -1 */
        bool has_ipi, to_self, to_others;
};

/* Our APIC ID is APIC_ID (0x23); xAPIC tests use flat logical ID 0x02. */
static const struct ipi_case ipi_cases[] = {
        /* xAPIC, physical */
        { false, 0x00055, APIC_ID, 0x55, false, false, false }, /* fixed, to us */
        { false, 0x40055, 0, 0x55, false, false, false },       /* shorthand self */
        { false, 0x00055, 3, -1, true, false, true },           /* another CPU */
        { false, 0x00055, 0xff, 0x55, true, false, true },      /* broadcast */
        { false, 0x80055, 0, 0x55, true, false, true },         /* all including self */
        { false, 0xc0055, 0, -1, true, false, true },           /* all excluding self */
        { false, 0x04500, 3, -1, true, false, true },           /* INIT, level assert */
        { false, 0x08500, 3, -1, true, false, true },           /* INIT de-assert */
        { false, 0x0069a, 3, -1, true, false, true },           /* STARTUP at 0x9a000 */
        { false, 0x40400, 0, -1, true, true, false },           /* NMI to self */
        { false, 0x00400, APIC_ID, -1, true, true, false },     /* NMI to us by ID */
        { false, 0x00300, 3, -1, false, false, false },         /* reserved mode 011 */
        /* xAPIC, logical flat: LDR 0x02 */
        { false, 0x00856, 0x02, 0x56, true, false, true },
        { false, 0x00856, 0x06, 0x56, true, false, true },
        { false, 0x00856, 0x01, -1, true, false, true },
        /* x2APIC */
        { true, 0x00057, APIC_ID, 0x57, false, false, false },
        { true, 0x00057, 0x123, -1, true, false, true },
        { true, 0x00057, 0xffffffff, 0x57, true, false, true },
        { true, 0x00857, 0x00020008, 0x57, true, false, true }, /* cluster 2, bit 3 */
        { true, 0x00857, 0x00030008, -1, true, false, true },
        { true, 0x40057, 0, 0x57, false, false, false },
};

START_TEST(ipi_routing)
{
        const struct ipi_case *c = &ipi_cases[_i];
        struct lapic_effects fx;

        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        sw_enable();
        if (c->x2) {
                to_x2apic();
                ck_assert(lapic_msr_write(&a, 0x830, (uint64_t)c->dest << 32 | c->lo, T0, &fx));
        } else {
                wr(LAPIC_REG_LDR, 0x02000000);
                wr(LAPIC_REG_ICR_HI, c->dest << 24);
                lapic_mmio_write(&a, LAPIC_REG_ICR_LO, c->lo, T0, &fx);
                ck_assert_x64_eq(rd(LAPIC_REG_ICR_LO), c->lo); /* delivery status 0 */
        }
        ck_assert_int_eq(lapic_highest_pending(&a), c->local_vector);
        ck_assert_int_eq(fx.eoi_vector, -1);
        ck_assert_int_eq(fx.has_ipi, c->has_ipi);
        if (!c->has_ipi)
                return;
        ck_assert_int_eq(fx.ipi.to_self, c->to_self);
        ck_assert_int_eq(fx.ipi.to_others, c->to_others);
        ck_assert_x64_eq(fx.ipi.dest, c->x2 ? c->dest : c->dest & 0xff);
        ck_assert_uint_eq(fx.ipi.vector, c->lo & 0xff);
        ck_assert_uint_eq(fx.ipi.delivery, (c->lo >> 8) & 7);
        ck_assert_uint_eq(fx.ipi.shorthand, (c->lo >> 18) & 3);
        ck_assert_int_eq(fx.ipi.logical, (c->lo >> 11) & 1);
        ck_assert_int_eq(fx.ipi.assert, (c->lo >> 14) & 1);
        ck_assert_int_eq(fx.ipi.level, (c->lo >> 15) & 1);
}
END_TEST

START_TEST(ipi_illegal_vector)
{
        struct lapic_effects fx;
        sw_enable();
        wr(LAPIC_REG_ICR_HI, 3 << 24);
        lapic_mmio_write(&a, LAPIC_REG_ICR_LO, 0x0000f, T0, &fx);
        ck_assert(!fx.has_ipi);
        ck_assert_x64_eq(esr(), LAPIC_ESR_SEND_ILLEGAL_VECTOR);
        /* NMI ignores the vector field. */
        lapic_mmio_write(&a, LAPIC_REG_ICR_LO, 0x00400, T0, &fx);
        ck_assert(fx.has_ipi);
        ck_assert_x64_eq(esr(), 0);
}
END_TEST

START_TEST(ipi_icr_readback_and_effects_null)
{
        sw_enable();
        wr(LAPIC_REG_ICR_HI, 0x12ffffff);
        ck_assert_x64_eq(rd(LAPIC_REG_ICR_HI), 0x12000000);
        /* Delivery status (bit 12) and reserved bits read 0. */
        lapic_mmio_write(&a, LAPIC_REG_ICR_LO, 0xfffff0ff, T0, NULL);
        ck_assert_x64_eq(rd(LAPIC_REG_ICR_LO), 0x000cc0ff);
        ck_assert_int_eq(lapic_highest_pending(&a), -1); /* all but self */
}
END_TEST

START_TEST(self_ipi_msr)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        sw_enable();
        to_x2apic();
        struct lapic_effects fx;
        ck_assert(lapic_msr_write(&a, 0x83f, 0x44, T0, &fx));
        ck_assert(!fx.has_ipi);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x44);
        ck_assert_x64_eq(msr_rd(0x822), 1u << 4);
        ck_assert(!lapic_msr_write(&a, 0x83f, 0x144, T0, NULL));
        ck_assert(lapic_msr_write(&a, 0x83f, 0x05, T0, NULL));
        ck_assert_int_eq(lapic_highest_pending(&a), 0x44);
        ck_assert(lapic_msr_write(&a, 0x828, 0, T0, NULL));
        ck_assert_x64_eq(msr_rd(0x828), LAPIC_ESR_SEND_ILLEGAL_VECTOR);
}
END_TEST

START_TEST(destination_matching)
{
        static const struct {
                bool x2;
                uint32_t ldr, dfr; /* xAPIC only */
                uint32_t dest;
                bool logical, match;
        } t[] = {
                { false, 0, 0xffffffff, APIC_ID, false, true },
                { false, 0, 0xffffffff, APIC_ID + 1, false, false },
                { false, 0, 0xffffffff, 0xff, false, true },
                { false, 0x0a000000, 0xffffffff, 0x02, true, true }, /* flat */
                { false, 0x0a000000, 0xffffffff, 0x05, true, false },
                { false, 0x0a000000, 0xffffffff, 0xff, true, true },
                { false, 0x31000000, 0x0fffffff, 0x31, true, true }, /* cluster 3, bit 0 */
                { false, 0x31000000, 0x0fffffff, 0x33, true, true },
                { false, 0x31000000, 0x0fffffff, 0x21, true, false },
                { false, 0x31000000, 0x0fffffff, 0x32, true, false },
                { false, 0x31000000, 0x5fffffff, 0x31, true, false }, /* bad model */
                { true, 0, 0, APIC_ID, false, true },
                { true, 0, 0, 0xff, false, false }, /* 0xff is not x2APIC broadcast */
                { true, 0, 0, 0xffffffff, false, true },
                { true, 0, 0, 0x00020008, true, true },
                { true, 0, 0, 0x0002fff7, true, false },
                { true, 0, 0, 0x00010008, true, false },
                { true, 0, 0, 0xffffffff, true, true },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
                if (t[i].x2) {
                        to_x2apic();
                } else {
                        wr(LAPIC_REG_LDR, t[i].ldr);
                        wr(LAPIC_REG_DFR, t[i].dfr);
                }
                ck_assert_msg(lapic_matches_dest(&a, t[i].dest, t[i].logical) == t[i].match,
                              "row %zu", i);
        }
        msr_wr(MSR_LAPIC_APIC_BASE, LAPIC_DEFAULT_BASE); /* disabled: matches nothing */
        ck_assert(!lapic_matches_dest(&a, 0xffffffff, false));
}
END_TEST

/* ---- IPI destinations across a VM's APICs (lapic_ipi_targets) ---- */

/* vCPU i has APIC ID i; vCPU 0 is the BSP.  Every APIC starts software-
 * enabled unless a test says otherwise. */
static struct lapic cpu[64];
static const struct lapic *apics[64];
static size_t ncpu;

static void vm_setup(size_t n)
{
        ncpu = n;
        for (size_t i = 0; i < 64; i++) {
                lapic_init(&cpu[i], (uint32_t)i, i == 0, TSC_HZ, BUS_HZ);
                lapic_mmio_write(&cpu[i], LAPIC_REG_SVR, 0x1ff, T0, NULL);
                apics[i] = &cpu[i];
        }
}

static void vm4(void)
{
        vm_setup(4);
}

static void cpu_x2apic(size_t i)
{
        ck_assert(lapic_msr_write(&cpu[i], MSR_LAPIC_APIC_BASE,
                                  LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE | LAPIC_BASE_EXTD |
                                      (i == 0 ? LAPIC_BASE_BSP : 0),
                                  T0, NULL));
}

static void cpu_hw_disable(size_t i)
{
        ck_assert(lapic_msr_write(&cpu[i], MSR_LAPIC_APIC_BASE, LAPIC_DEFAULT_BASE, T0, NULL));
}

static void cpu_sw_disable(size_t i)
{
        uint64_t base;
        ck_assert(lapic_msr_read(&cpu[i], MSR_LAPIC_APIC_BASE, &base, T0));
        if (base & LAPIC_BASE_EXTD)
                ck_assert(lapic_msr_write(&cpu[i], 0x80f, 0xff, T0, NULL));
        else
                lapic_mmio_write(&cpu[i], LAPIC_REG_SVR, 0xff, T0, NULL);
}

/* The sender writes its ICR (xAPIC: ICR high then low; x2APIC: the one
 * 64-bit MSR) and the IPI's targets come back; *ipi gets what the model
 * reported (has_ipi false: zeroed). */
static uint64_t send_from(size_t sender, uint32_t lo, uint32_t dest, struct lapic_ipi *ipi)
{
        struct lapic_effects fx;
        struct lapic *s = &cpu[sender];
        if (lapic_is_x2apic(s)) {
                ck_assert(lapic_msr_write(s, 0x830, (uint64_t)dest << 32 | lo, T0, &fx));
        } else {
                lapic_mmio_write(s, LAPIC_REG_ICR_HI, dest << 24, T0, NULL);
                lapic_mmio_write(s, LAPIC_REG_ICR_LO, lo, T0, &fx);
        }
        struct lapic_ipi none = { 0 };
        if (ipi)
                *ipi = fx.has_ipi ? fx.ipi : none;
        if (!fx.has_ipi)
                return 0;
        return lapic_ipi_targets(&fx.ipi, apics, ncpu, sender);
}

static uint64_t send(size_t sender, uint32_t lo, uint32_t dest)
{
        return send_from(sender, lo, dest, NULL);
}

static int pending(size_t i)
{
        return lapic_highest_pending(&cpu[i]);
}

/* ICR low words: delivery mode, shorthand, logical, level/assert. */
#define FIXED(v)        (0x00000u | (v))
#define LOWEST(v)       (0x00100u | (v))
#define SMI             0x00200u
#define NMI             0x00400u
#define INIT_ASSERT     0x0c500u /* level trigger, assert: Linux's INIT */
#define INIT_DEASSERT   0x08500u
#define STARTUP(v)      (0x00600u | (v))
#define LOGICAL         0x00800u
#define SH_SELF         (1u << 18)
#define SH_ALL          (2u << 18)
#define SH_ALL_BUT_SELF (3u << 18)

START_TEST(shorthand_self_fixed_stays_local)
{
        ck_assert_x64_eq(send(2, SH_SELF | FIXED(0x40), 0), 0);
        ck_assert_int_eq(pending(2), 0x40);
        ck_assert_int_eq(pending(0), -1);
}
END_TEST

START_TEST(shorthand_self_nmi_is_a_target)
{
        struct lapic_ipi ipi;
        ck_assert_x64_eq(send_from(1, SH_SELF | NMI, 0, &ipi), BIT(1));
        ck_assert(ipi.to_self);
        ck_assert(!ipi.to_others);
        /* Also by the sender's own physical ID, without a shorthand. */
        ck_assert_x64_eq(send(3, NMI, 3), BIT(3));
}
END_TEST

START_TEST(shorthand_all_including_self)
{
        ck_assert_x64_eq(send(2, SH_ALL | FIXED(0x41), 0), BIT(0) | BIT(1) | BIT(3));
        ck_assert_int_eq(pending(2), 0x41); /* the model's own acceptance */
        ck_assert_x64_eq(send(2, SH_ALL | NMI, 0), 0xf);
}
END_TEST

START_TEST(shorthand_all_excluding_self)
{
        ck_assert_x64_eq(send(2, SH_ALL_BUT_SELF | FIXED(0x42), 0), BIT(0) | BIT(1) | BIT(3));
        ck_assert_int_eq(pending(2), -1);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | NMI, 0), 0xe);
}
END_TEST

START_TEST(init_all_but_self_reaches_software_disabled_aps)
{
        /* APs straight after reset: SVR 0xff, as firmware finds them. */
        for (size_t i = 1; i < 4; i++)
                cpu_sw_disable(i);
        struct lapic_ipi ipi;
        ck_assert_x64_eq(send_from(0, SH_ALL_BUT_SELF | INIT_ASSERT, 0, &ipi), 0xe);
        ck_assert_uint_eq(ipi.delivery, LAPIC_DM_INIT);
        /* The SIPIs that follow reach them too, with their vector. */
        ck_assert_x64_eq(send_from(0, SH_ALL_BUT_SELF | STARTUP(0x9a), 0, &ipi), 0xe);
        ck_assert_uint_eq(ipi.vector, 0x9a);
        /* A fixed interrupt does not. */
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | FIXED(0x43), 0), 0);
}
END_TEST

START_TEST(init_deassert_reaches_nobody)
{
        ck_assert_x64_eq(send(0, INIT_DEASSERT, 1), 0);
        ck_assert_x64_eq(send(0, SH_ALL | INIT_DEASSERT, 0), 0);
        /* An edge-triggered INIT is an INIT (SDM 11.6.1: P4+ send it as one). */
        ck_assert_x64_eq(send(0, 0x00500, 1), BIT(1));
}
END_TEST

START_TEST(sipi_to_one_ap_by_id)
{
        struct lapic_ipi ipi;
        ck_assert_x64_eq(send_from(0, INIT_ASSERT, 2, &ipi), BIT(2));
        ck_assert_x64_eq(send_from(0, STARTUP(0x9a), 2, &ipi), BIT(2));
        ck_assert_uint_eq(ipi.delivery, LAPIC_DM_STARTUP);
        ck_assert_uint_eq(ipi.vector, 0x9a);
        ck_assert_x64_eq(lapic_sipi_start(ipi.vector), 0x9a000);
        ck_assert_x64_eq(lapic_sipi_start(0xff), 0xff000);
}
END_TEST

START_TEST(xapic_physical_and_broadcast)
{
        ck_assert_x64_eq(send(0, FIXED(0x44), 2), BIT(2));
        ck_assert_int_eq(pending(2), -1);             /* the caller delivers, not the model */
        ck_assert_x64_eq(send(0, FIXED(0x45), 9), 0); /* nobody has ID 9 */
        ck_assert_x64_eq(send(1, FIXED(0x46), 0xff), BIT(0) | BIT(2) | BIT(3));
        ck_assert_int_eq(pending(1), 0x46);
        ck_assert_x64_eq(send(1, NMI, 0xff), 0xf);
        /* A changed xAPIC ID register is what physical mode matches. */
        lapic_mmio_write(&cpu[3], LAPIC_REG_ID, 0x20000000, T0, NULL);
        ck_assert_x64_eq(send(0, NMI, 0x20), BIT(3));
        ck_assert_x64_eq(send(0, NMI, 3), 0);
}
END_TEST

START_TEST(xapic_logical_flat)
{
        /* LDR: vCPU i has bit i; DFR stays flat (all ones). */
        for (size_t i = 0; i < 4; i++)
                lapic_mmio_write(&cpu[i], LAPIC_REG_LDR, 1u << (24 + i), T0, NULL);
        ck_assert_x64_eq(send(1, LOGICAL | FIXED(0x47), 0x05), BIT(0) | BIT(2));
        ck_assert_x64_eq(send(1, LOGICAL | NMI, 0x0a), BIT(1) | BIT(3));
        ck_assert_int_eq(pending(1), -1);
        ck_assert_x64_eq(send(1, LOGICAL | FIXED(0x48), 0x02), 0); /* only the sender */
        ck_assert_int_eq(pending(1), 0x48);
        ck_assert_x64_eq(send(1, LOGICAL | FIXED(0x49), 0xff), BIT(0) | BIT(2) | BIT(3));
        ck_assert_x64_eq(send(1, LOGICAL | FIXED(0x4a), 0x30), 0);
}
END_TEST

START_TEST(xapic_logical_cluster)
{
        /* Cluster model: vCPUs 0, 1 in cluster 1 (bits 0, 1), 2, 3 in
         * cluster 2 (bits 0, 1). */
        static const uint32_t ldr[4] = { 0x11, 0x12, 0x21, 0x22 };
        for (size_t i = 0; i < 4; i++) {
                lapic_mmio_write(&cpu[i], LAPIC_REG_DFR, 0x0fffffff, T0, NULL);
                lapic_mmio_write(&cpu[i], LAPIC_REG_LDR, ldr[i] << 24, T0, NULL);
        }
        ck_assert_x64_eq(send(0, LOGICAL | FIXED(0x50), 0x23), BIT(2) | BIT(3));
        ck_assert_x64_eq(send(0, LOGICAL | FIXED(0x51), 0x12), BIT(1));
        ck_assert_x64_eq(send(3, LOGICAL | NMI, 0x11), BIT(0));
        ck_assert_x64_eq(send(3, LOGICAL | NMI, 0x31), 0);
}
END_TEST

START_TEST(x2apic_physical_and_broadcast)
{
        for (size_t i = 0; i < 4; i++)
                cpu_x2apic(i);
        ck_assert_x64_eq(send(0, FIXED(0x52), 3), BIT(3));
        ck_assert_x64_eq(send(0, FIXED(0x53), 0x103), 0); /* 32-bit IDs: not 3 */
        ck_assert_x64_eq(send(0, FIXED(0x54), 0xff), 0);  /* not a broadcast here */
        ck_assert_x64_eq(send(2, FIXED(0x55), 0xffffffff), BIT(0) | BIT(1) | BIT(3));
        ck_assert_int_eq(pending(2), 0x55);
        ck_assert_x64_eq(send(2, NMI, 0xffffffff), 0xf);
}
END_TEST

START_TEST(x2apic_cluster)
{
        vm_setup(40);
        for (size_t i = 0; i < 40; i++)
                cpu_x2apic(i);
        /* Cluster 1 is IDs 16-31, one bit each: 0x0001_0005 = IDs 16, 18. */
        ck_assert_x64_eq(send(0, LOGICAL | FIXED(0x56), 0x00010005), BIT(16) | BIT(18));
        ck_assert_x64_eq(send(0, LOGICAL | NMI, 0x00028000), 0); /* ID 47: absent */
        ck_assert_x64_eq(send(0, LOGICAL | NMI, 0x000200ff), 0xffull << 32);
        ck_assert_x64_eq(send(5, LOGICAL | NMI, 0xffffffff), (1ull << 40) - 1);
}
END_TEST

START_TEST(lowest_priority_picks_lowest_ppr)
{
        for (size_t i = 0; i < 4; i++)
                lapic_set_tpr(&cpu[i], (uint8_t)(0x40 - 0x10 * i)); /* 0x40 .. 0x10 */
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | LOWEST(0x60), 0), BIT(3));
        /* PPR, not TPR: an in-service vector raises vCPU 3's. */
        lapic_accept(&cpu[3], 0x50, false);
        lapic_start_service(&cpu[3], 0x50);
        ck_assert_uint_eq(lapic_ppr(&cpu[3]), 0x50);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | LOWEST(0x61), 0), BIT(2));
        ck_assert_x64_eq(send(0, LOWEST(0x62), 0xff), BIT(2));
        /* The full 8 bits count: 0x21 loses to 0x20. */
        lapic_set_tpr(&cpu[1], 0x21);
        lapic_set_tpr(&cpu[2], 0x22);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | LOWEST(0x63), 0), BIT(1));
}
END_TEST

START_TEST(lowest_priority_ties_go_to_lowest_index)
{
        ck_assert_x64_eq(send(3, LOWEST(0x64), 0xff), BIT(0));
        lapic_set_tpr(&cpu[0], 0x10);
        ck_assert_x64_eq(send(3, LOWEST(0x65), 0xff), BIT(1));
        for (size_t i = 0; i < 4; i++)
                lapic_mmio_write(&cpu[i], LAPIC_REG_LDR, 1u << (24 + i), T0, NULL);
        ck_assert_x64_eq(send(0, LOGICAL | LOWEST(0x66), 0x0c), BIT(2));
}
END_TEST

START_TEST(lowest_priority_sender_is_a_candidate)
{
        struct lapic_ipi ipi;
        for (size_t i = 1; i < 4; i++)
                lapic_set_tpr(&cpu[i], 0x30);
        /* The sender matches the broadcast and has the lowest PPR: it wins,
         * and the model has not put the vector in its IRR itself. */
        ck_assert_x64_eq(send_from(0, LOWEST(0x67), 0xff, &ipi), BIT(0));
        ck_assert(ipi.to_self);
        ck_assert_int_eq(pending(0), -1);
        /* With a higher PPR it is passed over. */
        lapic_set_tpr(&cpu[0], 0x40);
        ck_assert_x64_eq(send(0, SH_ALL | LOWEST(0x68), 0), BIT(1));
        /* Addressed to the sender alone, it is accepted at once. */
        ck_assert_x64_eq(send_from(2, LOWEST(0x69), 2, &ipi), 0);
        ck_assert(!ipi.to_self);
        lapic_set_tpr(&cpu[2], 0);
        ck_assert_int_eq(pending(2), 0x69);
}
END_TEST

START_TEST(lowest_priority_skips_software_disabled)
{
        cpu_sw_disable(1); /* PPR 0 like the rest, lowest index: not eligible */
        lapic_set_tpr(&cpu[2], 0x20);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | LOWEST(0x6a), 0), BIT(3));
        cpu_sw_disable(3);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | LOWEST(0x6b), 0), BIT(2));
        cpu_sw_disable(2);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | LOWEST(0x6c), 0), 0);
}
END_TEST

START_TEST(hardware_disabled_receives_nothing)
{
        cpu_hw_disable(2);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | FIXED(0x70), 0), BIT(1) | BIT(3));
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | NMI, 0), BIT(1) | BIT(3));
        ck_assert_x64_eq(send(0, INIT_ASSERT, 2), 0);
        ck_assert_x64_eq(send(0, STARTUP(0x10), 2), 0);
        ck_assert_x64_eq(send(0, NMI, 0xff), BIT(0) | BIT(1) | BIT(3));
        ck_assert_x64_eq(send(0, LOWEST(0x71), 0xff), BIT(0)); /* not vCPU 2 */
}
END_TEST

START_TEST(software_disabled_gets_init_sipi_nmi_smi_only)
{
        cpu_sw_disable(1);
        ck_assert_x64_eq(send(0, FIXED(0x72), 1), 0);
        ck_assert_x64_eq(send(0, LOWEST(0x73), 1), 0);
        ck_assert_x64_eq(send(0, NMI, 1), BIT(1));
        ck_assert_x64_eq(send(0, INIT_ASSERT, 1), BIT(1));
        ck_assert_x64_eq(send(0, STARTUP(0x20), 1), BIT(1));
        ck_assert_x64_eq(send(0, SMI, 1), BIT(1));
        ck_assert_int_eq(pending(1), -1);
        /* A software-disabled sender still sends, and still gets its own NMI. */
        cpu_sw_disable(0);
        ck_assert_x64_eq(send(0, SH_ALL | NMI, 0), 0xf);
        ck_assert_x64_eq(send(0, SH_ALL | FIXED(0x74), 0), BIT(2) | BIT(3));
}
END_TEST

START_TEST(single_vcpu_vm)
{
        vm_setup(1);
        ck_assert_x64_eq(send(0, FIXED(0x75), 0xff), 0);
        ck_assert_int_eq(pending(0), 0x75);
        ck_assert_x64_eq(send(0, SH_ALL_BUT_SELF | NMI, 0), 0);
        ck_assert_x64_eq(send(0, SH_ALL | NMI, 0), BIT(0));
        ck_assert_x64_eq(send(0, INIT_ASSERT, 1), 0);
        ck_assert_x64_eq(send(0, LOWEST(0x76), 0xff), BIT(0));
}
END_TEST

START_TEST(sixty_four_vcpus)
{
        vm_setup(64);
        ck_assert_x64_eq(send(63, SH_ALL | NMI, 0), ~0ull);
        ck_assert_x64_eq(send(63, SH_ALL_BUT_SELF | FIXED(0x77), 0), ~0ull >> 1);
        ck_assert_x64_eq(send(0, NMI, 63), BIT(63));
        ck_assert_x64_eq(send(0, INIT_ASSERT, 0xff), ~0ull);
        for (size_t i = 0; i < 64; i++)
                lapic_set_tpr(&cpu[i], 0x80);
        lapic_set_tpr(&cpu[63], 0x10);
        ck_assert_x64_eq(send(5, LOWEST(0x78), 0xff), BIT(63));
        for (size_t i = 0; i < 64; i++)
                cpu_x2apic(i);
        /* x2APIC cluster 3 is IDs 48-63. */
        ck_assert_x64_eq(send(0, LOGICAL | NMI, 0x0003ffff), 0xffffull << 48);
        ck_assert_x64_eq(send(0, NMI, 0xffffffff), ~0ull);
}
END_TEST

START_TEST(mixed_xapic_and_x2apic)
{
        /* Linux's order: the BSP goes x2APIC, then starts APs still in xAPIC
         * mode by their physical IDs. */
        cpu_x2apic(0);
        ck_assert_x64_eq(send(0, INIT_ASSERT, 1), BIT(1));
        ck_assert_x64_eq(send(0, STARTUP(0x9a), 1), BIT(1));
        ck_assert_x64_eq(send(0, NMI, 0x101), 0); /* not ID 1 in 8 bits */
        ck_assert_x64_eq(send(0, NMI, 0xff), 0);  /* x2APIC ID 255, not a broadcast */
        ck_assert_x64_eq(send(0, NMI, 0xffffffff), 0xf);
        /* And back: xAPIC broadcasts reach x2APIC APICs, physical IDs too. */
        ck_assert_x64_eq(send(1, NMI, 0xff), 0xf);
        ck_assert_x64_eq(send(1, NMI, 0), BIT(0));
        /* Logical destinations have different layouts and do not cross. */
        lapic_mmio_write(&cpu[2], LAPIC_REG_LDR, 0x01000000, T0, NULL);
        /* x2APIC logical 0x00000001 is cluster 0, bit 0: the sender's own
         * logical ID, not vCPU 2's xAPIC LDR bit 0. */
        ck_assert_x64_eq(send(0, LOGICAL | NMI, 0x00000001), BIT(0));
        ck_assert_x64_eq(send(1, LOGICAL | NMI, 0x01), BIT(2));
}
END_TEST

START_TEST(targets_argument_edges)
{
        struct lapic_ipi ipi;
        send_from(0, SH_ALL | NMI, 0, &ipi);
        ck_assert_x64_eq(lapic_ipi_targets(&ipi, apics, 4, 4), 0); /* no such sender */
        ck_assert_x64_eq(lapic_ipi_targets(&ipi, apics, 2, 0), 0x3);
        apics[2] = NULL; /* an absent vCPU */
        ck_assert_x64_eq(lapic_ipi_targets(&ipi, apics, 4, 0), BIT(0) | BIT(1) | BIT(3));
        ipi.delivery = LAPIC_DM_EXTINT;
        ck_assert_x64_eq(lapic_ipi_targets(&ipi, apics, 4, 0), 0);
        ipi.delivery = 3;
        ck_assert_x64_eq(lapic_ipi_targets(&ipi, apics, 4, 0), 0);
}
END_TEST

START_TEST(icr_delivery_status_always_idle)
{
        /* xAPIC: after an IPI to others, and with bit 12 written as 1, the
         * ICR reads idle so a polling guest moves on at once. */
        lapic_mmio_write(&cpu[0], LAPIC_REG_ICR_HI, 1u << 24, T0, NULL);
        lapic_mmio_write(&cpu[0], LAPIC_REG_ICR_LO, 0x1000 | INIT_ASSERT, T0, NULL);
        uint32_t icr = lapic_mmio_read(&cpu[0], LAPIC_REG_ICR_LO, T0);
        ck_assert_x64_eq(icr & LAPIC_ICR_DELIVERY_STATUS, 0);
        ck_assert_x64_eq(icr, INIT_ASSERT);
        /* x2APIC: bit 12 is reserved there, yet written back it is ignored,
         * not a #GP, and reads 0. */
        cpu_x2apic(1);
        uint64_t v;
        ck_assert(lapic_msr_write(&cpu[1], 0x830, 2ull << 32 | 0x1000 | NMI, T0, NULL));
        ck_assert(lapic_msr_read(&cpu[1], 0x830, &v, T0));
        ck_assert_x64_eq(v, 2ull << 32 | NMI);
}
END_TEST

START_TEST(init_received_xapic)
{
        struct lapic *c = &cpu[2];
        lapic_mmio_write(c, LAPIC_REG_ID, 0x07000000, T0, NULL);
        lapic_mmio_write(c, LAPIC_REG_LDR, 0x04000000, T0, NULL);
        lapic_mmio_write(c, LAPIC_REG_DFR, 0x0fffffff, T0, NULL);
        lapic_set_tpr(c, 0x20);
        lapic_mmio_write(c, LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x40, T0, NULL);
        lapic_mmio_write(c, LAPIC_REG_TMR_INIT, 1000, T0, NULL);
        lapic_accept(c, 0x80, true);
        lapic_accept(c, 0x90, false);
        lapic_start_service(c, 0x90);
        ck_assert(lapic_msr_write(c, MSR_LAPIC_APIC_BASE, 0xfed00800, T0, NULL));

        lapic_init_received(c);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_ID, T0), 0x07000000); /* kept */
        ck_assert_x64_eq(lapic_base_address(c), 0xfed00000);                /* kept */
        ck_assert(lapic_mmio_enabled(c));
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_SVR, T0), 0xff);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_TPR, T0), 0);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_LDR, T0), 0);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_DFR, T0), 0xffffffff);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_LVT_TMR, T0), LAPIC_LVT_MASKED);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_TMR_INIT, T0), 0);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_IRR + 0x40, T0), 0);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_ISR + 0x40, T0), 0);
        ck_assert_x64_eq(lapic_mmio_read(c, LAPIC_REG_TMR + 0x40, T0), 0);
        ck_assert_x64_eq(lapic_timer_deadline(c), UINT64_MAX);
        ck_assert_int_eq(lapic_highest_pending(c), -1);
        /* The BSP flag is IA32_APIC_BASE's, untouched by INIT. */
        lapic_init_received(&cpu[0]);
        uint64_t base;
        ck_assert(lapic_msr_read(&cpu[0], MSR_LAPIC_APIC_BASE, &base, T0));
        ck_assert_x64_eq(base, 0xfee00900);
}
END_TEST

START_TEST(init_received_x2apic_and_disabled)
{
        vm_setup(20);
        struct lapic *c = &cpu[19];
        cpu_x2apic(19);
        ck_assert(lapic_msr_write(c, 0x808, 0x30, T0, NULL));
        ck_assert(lapic_msr_write(c, 0x832, LAPIC_LVT_TIMER_TSCDEADLINE | 0x40, T0, NULL));
        ck_assert(lapic_msr_write(c, MSR_LAPIC_TSC_DEADLINE, T0 + 100, T0, NULL));
        lapic_init_received(c);
        ck_assert(lapic_is_x2apic(c)); /* SDM 11.12.5.1: x2APIC stays */
        uint64_t v;
        ck_assert(lapic_msr_read(c, 0x802, &v, T0));
        ck_assert_x64_eq(v, 19);
        ck_assert(lapic_msr_read(c, 0x80d, &v, T0));
        ck_assert_x64_eq(v, 0x00010008); /* cluster 1, bit 3 */
        ck_assert(lapic_msr_read(c, 0x808, &v, T0));
        ck_assert_x64_eq(v, 0);
        ck_assert(lapic_msr_read(c, MSR_LAPIC_TSC_DEADLINE, &v, T0));
        ck_assert_x64_eq(v, 0);
        ck_assert_x64_eq(lapic_timer_deadline(c), UINT64_MAX);
        /* Disabled stays disabled. */
        cpu_hw_disable(3);
        lapic_init_received(&cpu[3]);
        ck_assert(!lapic_mmio_enabled(&cpu[3]));
        ck_assert(!lapic_is_x2apic(&cpu[3]));
}
END_TEST

START_TEST(init_then_sipi_state)
{
        ck_assert(!lapic_init_waits_for_sipi(&cpu[0])); /* the BSP restarts */
        ck_assert(lapic_init_waits_for_sipi(&cpu[1]));
        cpu_x2apic(0);
        ck_assert(!lapic_init_waits_for_sipi(&cpu[0]));
        /* STARTUP only in wait-for-SIPI: the second SIPI of INIT-SIPI-SIPI
         * finds the AP running and is dropped. */
        ck_assert(lapic_sipi_accepted(&cpu[1], true));
        ck_assert(!lapic_sipi_accepted(&cpu[1], false));
        cpu_sw_disable(1);
        ck_assert(lapic_sipi_accepted(&cpu[1], true));
        cpu_hw_disable(1);
        ck_assert(!lapic_sipi_accepted(&cpu[1], true));
}
END_TEST

/* ---- x2APIC MSR rules ---- */

struct msr_case {
        uint32_t msr;
        bool write;
        uint64_t val;
        bool ok;
};

static const struct msr_case x2_msr_cases[] = {
        { 0x800, false, 0, false }, /* reserved */
        { 0x801, false, 0, false },
        { 0x802, false, 0, true }, /* ID */
        { 0x802, true, APIC_ID, false },
        { 0x803, false, 0, true }, /* version */
        { 0x803, true, 0, false },
        { 0x804, false, 0, false },
        { 0x807, false, 0, false },
        { 0x808, false, 0, true }, /* TPR */
        { 0x808, true, 0xff, true },
        { 0x808, true, 0x100, false },
        { 0x808, true, 1ull << 32, false },
        { 0x809, false, 0, false }, /* no APR */
        { 0x80a, false, 0, true },  /* PPR */
        { 0x80a, true, 0, false },
        { 0x80b, false, 0, false }, /* EOI is write-only */
        { 0x80b, true, 0, true },
        { 0x80b, true, 1, false },
        { 0x80c, false, 0, false }, /* no RRD */
        { 0x80d, false, 0, true },  /* LDR */
        { 0x80d, true, 0, false },
        { 0x80e, false, 0, false }, /* no DFR */
        { 0x80e, true, 0xffffffff, false },
        { 0x80f, false, 0, true }, /* SVR */
        { 0x80f, true, 0x1ff, true },
        { 0x80f, true, 0x3ff, true },
        { 0x80f, true, 0x11ff, false }, /* no EOI-broadcast suppression */
        { 0x810, false, 0, true },      /* ISR */
        { 0x817, false, 0, true },
        { 0x810, true, 0, false },
        { 0x818, false, 0, true }, /* TMR */
        { 0x81f, true, 0, false },
        { 0x820, false, 0, true }, /* IRR */
        { 0x827, false, 0, true },
        { 0x827, true, 0, false },
        { 0x828, false, 0, true }, /* ESR */
        { 0x828, true, 0, true },
        { 0x828, true, 1, false },
        { 0x829, false, 0, false },
        { 0x82f, false, 0, false }, /* no CMCI LVT */
        { 0x82f, true, 0x10000, false },
        { 0x830, false, 0, true }, /* ICR */
        { 0x830, true, 0x40050, true },
        { 0x830, true, 0x100000, false }, /* bit 20 */
        { 0x830, true, 0x10000, false },  /* bit 16 */
        { 0x830, true, 0x2000, false },   /* bit 13 */
        { 0x831, false, 0, false },       /* no ICR high */
        { 0x831, true, 0, false },
        { 0x832, true, 0x500ff, true }, /* LVT timer */
        { 0x832, true, 0x50000 | 0x40, true },
        { 0x832, true, 0x80000, false },    /* bit 19 */
        { 0x832, true, 0x00100, false },    /* no delivery mode */
        { 0x832, true, 0x60040, false },    /* timer mode 11b */
        { 0x832, true, 1ull << 32, false }, /* upper half */
        { 0x832, true, 0x11040, true },     /* delivery status is ignored */
        { 0x833, true, 0x107ff, true },     /* thermal */
        { 0x833, true, 0x00800, false },    /* bit 11 */
        { 0x834, true, 0x10400, true },     /* perf: NMI */
        { 0x834, true, 0x20000, false },    /* bit 17 */
        { 0x835, true, 0x1a7ff, true },     /* LINT0 */
        { 0x835, true, 0x04700, true },     /* remote IRR is ignored */
        { 0x836, true, 0x0a400, true },     /* LINT1 */
        { 0x837, true, 0x100fe, true },     /* error */
        { 0x837, true, 0x00400, false },    /* no delivery mode */
        { 0x838, true, 0xffffffff, true },  /* initial count */
        { 0x838, true, 0x100000000ull, false },
        { 0x839, false, 0, true }, /* current count */
        { 0x839, true, 0, false },
        { 0x83a, false, 0, false },
        { 0x83d, false, 0, false },
        { 0x83e, true, 0xb, true }, /* DCR */
        { 0x83e, true, 0x4, false },
        { 0x83e, false, 0, true },
        { 0x83f, false, 0, false }, /* SELF IPI is write-only */
        { 0x83f, true, 0x40, true },
        { 0x83f, true, 0x100, false },
        { 0x840, false, 0, false },
        { 0x8ff, true, 0, false },
        { 0x7ff, false, 0, false }, /* not ours at all */
        { 0x1b, false, 0, true },
        { 0x6e0, false, 0, true },
};

START_TEST(x2apic_msr_rules)
{
        const struct msr_case *c = &x2_msr_cases[_i];
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        sw_enable();
        to_x2apic();
        uint64_t v = 0;
        bool ok = c->write ? lapic_msr_write(&a, c->msr, c->val, T0, NULL)
                           : lapic_msr_read(&a, c->msr, &v, T0);
        ck_assert_msg(ok == c->ok, "%s 0x%x (0x%llx): %s", c->write ? "wrmsr" : "rdmsr", c->msr,
                      (unsigned long long)c->val, ok ? "ok" : "#GP");
}
END_TEST

START_TEST(x2apic_msrs_fault_outside_x2apic_mode)
{
        uint64_t v;
        for (uint32_t msr = 0x800; msr <= 0x8ff; msr++) {
                ck_assert(!lapic_msr_read(&a, msr, &v, T0));
                ck_assert(!lapic_msr_write(&a, msr, 0, T0, NULL));
        }
        ck_assert(lapic_owns_msr(0x1b));
        ck_assert(lapic_owns_msr(0x6e0));
        ck_assert(lapic_owns_msr(0x800));
        ck_assert(lapic_owns_msr(0x8ff));
        ck_assert(!lapic_owns_msr(0x900));
        ck_assert(!lapic_owns_msr(0x1a));
}
END_TEST

START_TEST(lint_pins)
{
        uint8_t vec;
        /* Masked at reset: nothing. */
        ck_assert_int_eq(lapic_lint_asserted(&a, 1, &vec), LAPIC_LINT_NONE);
        sw_enable();
        wr(LAPIC_REG_LVT_LINT1, LAPIC_DM_NMI << 8); /* the PC's NMI wiring */
        ck_assert_int_eq(lapic_lint_asserted(&a, 1, &vec), LAPIC_LINT_NMI);
        ck_assert_int_eq(lapic_highest_requested(&a), -1);
        wr(LAPIC_REG_LVT_LINT0, 0x45); /* fixed, vector 0x45 */
        ck_assert_int_eq(lapic_lint_asserted(&a, 0, &vec), LAPIC_LINT_FIXED);
        ck_assert_uint_eq(vec, 0x45);
        ck_assert(irr_test(0x45));
        wr(LAPIC_REG_LVT_LINT0, 0x0005); /* fixed, illegal vector */
        ck_assert_int_eq(lapic_lint_asserted(&a, 0, &vec), LAPIC_LINT_NONE);
        ck_assert_uint_eq(esr() & LAPIC_ESR_RECV_ILLEGAL_VECTOR, LAPIC_ESR_RECV_ILLEGAL_VECTOR);
        wr(LAPIC_REG_LVT_LINT0, LAPIC_DM_EXTINT << 8); /* no 8259 */
        ck_assert_int_eq(lapic_lint_asserted(&a, 0, &vec), LAPIC_LINT_NONE);
        wr(LAPIC_REG_LVT_LINT1, (LAPIC_DM_NMI << 8) | LAPIC_LVT_MASKED);
        ck_assert_int_eq(lapic_lint_asserted(&a, 1, &vec), LAPIC_LINT_NONE);
        ck_assert_int_eq(lapic_lint_asserted(&a, 2, &vec), LAPIC_LINT_NONE);
        /* Hardware-disabled: nothing. */
        msr_wr(MSR_LAPIC_APIC_BASE, LAPIC_DEFAULT_BASE);
        ck_assert_int_eq(lapic_lint_asserted(&a, 1, &vec), LAPIC_LINT_NONE);
}
END_TEST

START_TEST(x2apic_registers)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        wr(LAPIC_REG_ID, 0x07000000); /* an xAPIC ID change does not carry over */
        wr(LAPIC_REG_LDR, 0x01000000);
        to_x2apic();
        ck_assert_x64_eq(msr_rd(0x802), APIC_ID);
        ck_assert_x64_eq(msr_rd(0x803), 0x00050014);
        ck_assert_x64_eq(msr_rd(0x80d), 0x00020008);
        ck_assert_x64_eq(msr_rd(0x80f), 0xff);
        msr_wr(0x80f, 0x1ff);
        msr_wr(0x808, 0x20);
        ck_assert_x64_eq(msr_rd(0x808), 0x20);
        ck_assert_x64_eq(msr_rd(0x80a), 0x20);
        msr_wr(0x830, 0x0000000300004400ull); /* NMI to APIC 3: the ICR keeps it */
        ck_assert_x64_eq(msr_rd(0x830), 0x0000000300004400ull);
        /* LDR for IDs on a cluster boundary. */
        lapic_init(&a, 0x10, false, TSC_HZ, BUS_HZ);
        to_x2apic();
        ck_assert_x64_eq(msr_rd(0x80d), 0x00010001);
        lapic_init(&a, 0x4f, false, TSC_HZ, BUS_HZ);
        to_x2apic();
        ck_assert_x64_eq(msr_rd(0x80d), 0x00048000);
}
END_TEST

START_TEST(x2apic_eoi_and_isr_msrs)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        sw_enable();
        to_x2apic();
        lapic_accept(&a, 0x9f, true);
        lapic_start_service(&a, 0x9f);
        ck_assert_x64_eq(msr_rd(0x814), 0x80000000u);
        ck_assert_x64_eq(msr_rd(0x81c), 0x80000000u);
        struct lapic_effects fx;
        ck_assert(lapic_msr_write(&a, 0x80b, 0, T0, &fx));
        ck_assert_int_eq(fx.eoi_vector, 0x9f);
        ck_assert(fx.eoi_level);
        ck_assert_x64_eq(msr_rd(0x814), 0);
}
END_TEST

START_TEST(mmio_ignored_in_x2apic_mode)
{
        sw_enable();
        to_x2apic();
        ck_assert(!lapic_mmio_enabled(&a));
        ck_assert_x64_eq(rd(LAPIC_REG_VERSION), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_SVR), 0);
        wr(LAPIC_REG_TPR, 0x80);
        ck_assert_x64_eq(msr_rd(0x808), 0);
        struct lapic_effects fx;
        lapic_accept(&a, 0x40, false);
        lapic_start_service(&a, 0x40);
        lapic_mmio_write(&a, LAPIC_REG_EOI, 0, T0, &fx);
        ck_assert_int_eq(fx.eoi_vector, -1);
        ck_assert_x64_eq(msr_rd(0x812), 1);
}
END_TEST

/* ---- IA32_APIC_BASE ---- */

enum { M_DIS, M_X, M_X2 };

static const struct {
        int from;
        uint64_t val;
        bool ok;
        int to;
} base_cases[] = {
        { M_X, 0xfee00c00, true, M_X2 },
        { M_X, 0xfee00000, true, M_DIS },
        { M_X, 0xfee00800, true, M_X },
        { M_X, 0xfee00400, false, M_X },   /* EXTD without EN */
        { M_X2, 0xfee00800, false, M_X2 }, /* x2APIC -> xAPIC */
        { M_X2, 0xfee00000, true, M_DIS },
        { M_X2, 0xfee00c00, true, M_X2 },
        { M_X2, 0xfee00400, false, M_X2 },
        { M_DIS, 0xfee00c00, false, M_DIS }, /* disabled -> x2APIC */
        { M_DIS, 0xfee00800, true, M_X },
        { M_DIS, 0xfee00000, true, M_DIS },
        { M_X, 0xfee00801, false, M_X }, /* bits 7:0 reserved */
        { M_X, 0xfee00880, false, M_X },
        { M_X, 0xfee00a00, false, M_X },            /* bit 9 reserved */
        { M_X, 0x10000000fee00800ull, false, M_X }, /* beyond MAXPHYADDR (52) */
        { M_X, 0x8000000000000800ull, false, M_X },
        { M_X, 0xffffffffff800ull, true, M_X }, /* the highest base below 2^52 */
        { M_X, 0xfed00900, true, M_X },         /* relocation, BSP bit as written */
        { M_X, 0xfed00800, true, M_X },         /* BSP bit is not software's */
};

START_TEST(apic_base_transitions)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        if (base_cases[_i].from == M_X2)
                to_x2apic();
        if (base_cases[_i].from == M_DIS)
                msr_wr(MSR_LAPIC_APIC_BASE, 0xfee00000);
        uint64_t before = msr_rd(MSR_LAPIC_APIC_BASE);
        bool ok = lapic_msr_write(&a, MSR_LAPIC_APIC_BASE, base_cases[_i].val, T0, NULL);
        ck_assert_int_eq(ok, base_cases[_i].ok);
        int to = base_cases[_i].to;
        ck_assert_int_eq(a.mode, to == M_DIS ? LAPIC_MODE_DISABLED
                                 : to == M_X ? LAPIC_MODE_XAPIC
                                             : LAPIC_MODE_X2APIC);
        ck_assert_int_eq(lapic_mmio_enabled(&a), to == M_X);
        ck_assert_int_eq(lapic_is_x2apic(&a), to == M_X2);
        uint64_t after = msr_rd(MSR_LAPIC_APIC_BASE);
        if (ok) {
                ck_assert_x64_eq(after, base_cases[_i].val | LAPIC_BASE_BSP);
                ck_assert_x64_eq(lapic_base_address(&a), base_cases[_i].val & ~0xfffull);
        } else {
                ck_assert_x64_eq(after, before);
        }
}
END_TEST

START_TEST(apic_base_relocation_and_phys_bits)
{
        msr_wr(MSR_LAPIC_APIC_BASE, 0xfed00800);
        ck_assert_x64_eq(lapic_base_address(&a), 0xfed00000);
        ck_assert(lapic_mmio_enabled(&a));
        a.phys_bits = 36;
        ck_assert(!lapic_msr_write(&a, MSR_LAPIC_APIC_BASE, 0x1000000800ull, T0, NULL));
        ck_assert(lapic_msr_write(&a, MSR_LAPIC_APIC_BASE, 0xffffff800ull, T0, NULL));
        ck_assert_x64_eq(lapic_base_address(&a), 0xffffff000ull);
}
END_TEST

START_TEST(disable_resets_state)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        sw_enable();
        wr(LAPIC_REG_TPR, 0x30);
        wr(LAPIC_REG_ID, 0x09000000);
        wr(LAPIC_REG_LVT_TMR, LAPIC_LVT_TIMER_PERIODIC | 0x40);
        wr(LAPIC_REG_TMR_INIT, 1000);
        lapic_accept(&a, 0x80, true);
        lapic_accept(&a, 0x90, false);
        lapic_start_service(&a, 0x90);
        to_x2apic();
        msr_wr(MSR_LAPIC_APIC_BASE, 0xfee00000);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
        ck_assert_x64_eq(lapic_timer_deadline(&a), UINT64_MAX);
        lapic_accept(&a, 0x80, false); /* a disabled APIC accepts nothing */
        uint64_t v;
        ck_assert(lapic_msr_read(&a, MSR_LAPIC_TSC_DEADLINE, &v, T0));
        ck_assert_x64_eq(v, 0);
        ck_assert_x64_eq(rd(LAPIC_REG_VERSION), 0); /* no MMIO either */
        msr_wr(MSR_LAPIC_APIC_BASE, 0xfee00800);
        ck_assert_x64_eq(rd(LAPIC_REG_SVR), 0xff);
        ck_assert_x64_eq(rd(LAPIC_REG_TPR), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_ID), APIC_ID << 24);
        ck_assert_x64_eq(rd(LAPIC_REG_LVT_TMR), LAPIC_LVT_MASKED);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR_INIT), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_IRR + 0x40), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_ISR + 0x40), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_TMR + 0x40), 0);
        ck_assert_x64_eq(rd(LAPIC_REG_DFR), 0xffffffff);
        ck_assert_int_eq(lapic_highest_pending(&a), -1);
}
END_TEST

START_TEST(xapic_to_x2apic_keeps_state)
{
        lapic_init(&a, APIC_ID, true, TSC_HZ, BUS_HZ);
        sw_enable();
        wr(LAPIC_REG_TPR, 0x30);
        wr(LAPIC_REG_LVT_TMR, 0x40);
        wr(LAPIC_REG_TMR_INIT, 1000);
        lapic_accept(&a, 0x80, false);
        to_x2apic();
        ck_assert_x64_eq(msr_rd(0x808), 0x30);
        ck_assert_x64_eq(msr_rd(0x80f), 0x1ff);
        ck_assert_int_eq(lapic_highest_pending(&a), 0x80);
        ck_assert_x64_eq(lapic_timer_deadline(&a), T0 + 6000);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("lapic");

        TCase *tc = tcase_create("registers");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, reset_state);
        tcase_add_test(tc, register_masks_xapic);
        tcase_add_test(tc, reserved_offsets_set_illegal_register);
        tcase_add_test(tc, software_disabled_keeps_lvts_masked);
        tcase_add_test(tc, software_disabled_holds_irr_but_accepts_nothing);
        suite_add_tcase(s, tc);

        tc = tcase_create("arithmetic");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, divide_encoding);
        tcase_add_loop_test(tc, muldiv_matches_128bit_reference, 0, ARRAY_SIZE(muldiv_cases));
        tcase_add_test(tc, muldiv_saturates);
        tcase_add_test(tc, tick_conversions_do_not_overflow);
        suite_add_tcase(s, tc);

        tc = tcase_create("timer");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_loop_test(tc, timer_current_count, 0, ARRAY_SIZE(count_cases));
        tcase_add_loop_test(tc, timer_oneshot_deadline_and_fire, 0, ARRAY_SIZE(deadline_cases));
        tcase_add_test(tc, timer_periodic_does_not_drift);
        tcase_add_test(tc, timer_periodic_late_expiry_catches_up_once);
        tcase_add_test(tc, timer_periodic_current_count_wraps);
        tcase_add_test(tc, timer_deadline_past_tsc_range_never_fires);
        tcase_add_test(tc, timer_periodic_past_2_64_ticks_restarts);
        tcase_add_test(tc, timer_initial_count_zero_stops);
        tcase_add_test(tc, timer_rewrite_restarts);
        tcase_add_test(tc, timer_mode_switch_keeps_count);
        tcase_add_test(tc, timer_divide_change_while_counting);
        tcase_add_test(tc, timer_masked_oneshot_still_counts);
        tcase_add_test(tc, timer_illegal_vector_sets_esr);
        tcase_add_test(tc, tsc_deadline_arm_fire_disarm);
        tcase_add_test(tc, tsc_deadline_ignored_in_other_modes);
        tcase_add_test(tc, tsc_deadline_mode_transitions_disarm);
        tcase_add_test(tc, tsc_deadline_masked_fires_silently);
        tcase_add_test(tc, timer_in_x2apic_mode);
        suite_add_tcase(s, tc);

        tc = tcase_create("interrupts");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, ppr_table);
        tcase_add_test(tc, pending_respects_tpr);
        tcase_add_test(tc, nested_vectors_and_eoi_order);
        tcase_add_test(tc, tmr_follows_last_acceptance);
        tcase_add_test(tc, illegal_vectors_are_dropped);
        tcase_add_test(tc, error_lvt_raises_interrupt);
        tcase_add_loop_test(tc, ipi_routing, 0, ARRAY_SIZE(ipi_cases));
        tcase_add_test(tc, ipi_illegal_vector);
        tcase_add_test(tc, ipi_icr_readback_and_effects_null);
        tcase_add_test(tc, self_ipi_msr);
        tcase_add_test(tc, destination_matching);
        suite_add_tcase(s, tc);

        tc = tcase_create("ipi targets");
        tcase_add_checked_fixture(tc, vm4, NULL);
        tcase_add_test(tc, shorthand_self_fixed_stays_local);
        tcase_add_test(tc, shorthand_self_nmi_is_a_target);
        tcase_add_test(tc, shorthand_all_including_self);
        tcase_add_test(tc, shorthand_all_excluding_self);
        tcase_add_test(tc, init_all_but_self_reaches_software_disabled_aps);
        tcase_add_test(tc, init_deassert_reaches_nobody);
        tcase_add_test(tc, sipi_to_one_ap_by_id);
        tcase_add_test(tc, xapic_physical_and_broadcast);
        tcase_add_test(tc, xapic_logical_flat);
        tcase_add_test(tc, xapic_logical_cluster);
        tcase_add_test(tc, x2apic_physical_and_broadcast);
        tcase_add_test(tc, x2apic_cluster);
        tcase_add_test(tc, lowest_priority_picks_lowest_ppr);
        tcase_add_test(tc, lowest_priority_ties_go_to_lowest_index);
        tcase_add_test(tc, lowest_priority_sender_is_a_candidate);
        tcase_add_test(tc, lowest_priority_skips_software_disabled);
        tcase_add_test(tc, hardware_disabled_receives_nothing);
        tcase_add_test(tc, software_disabled_gets_init_sipi_nmi_smi_only);
        tcase_add_test(tc, single_vcpu_vm);
        tcase_add_test(tc, sixty_four_vcpus);
        tcase_add_test(tc, mixed_xapic_and_x2apic);
        tcase_add_test(tc, targets_argument_edges);
        tcase_add_test(tc, icr_delivery_status_always_idle);
        suite_add_tcase(s, tc);

        tc = tcase_create("init and startup");
        tcase_add_checked_fixture(tc, vm4, NULL);
        tcase_add_test(tc, init_received_xapic);
        tcase_add_test(tc, init_received_x2apic_and_disabled);
        tcase_add_test(tc, init_then_sipi_state);
        suite_add_tcase(s, tc);

        tc = tcase_create("modes");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_loop_test(tc, x2apic_msr_rules, 0, ARRAY_SIZE(x2_msr_cases));
        tcase_add_test(tc, x2apic_msrs_fault_outside_x2apic_mode);
        tcase_add_test(tc, x2apic_registers);
        tcase_add_test(tc, lint_pins);
        tcase_add_test(tc, x2apic_eoi_and_isr_msrs);
        tcase_add_test(tc, mmio_ignored_in_x2apic_mode);
        tcase_add_loop_test(tc, apic_base_transitions, 0, ARRAY_SIZE(base_cases));
        tcase_add_test(tc, apic_base_relocation_and_phys_bits);
        tcase_add_test(tc, disable_resets_state);
        tcase_add_test(tc, xapic_to_x2apic_keeps_state);
        suite_add_tcase(s, tc);

        tc = tcase_create("virtual-APIC page");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, vapic_export_all_matches_mmio_reads);
        tcase_add_test(tc, vapic_import_takes_the_cpus_delivery_and_eoi);
        tcase_add_test(tc, vapic_import_keeps_a_fresh_vector_the_cpu_already_delivered);
        suite_add_tcase(s, tc);

        return unit_run_suite(s);
}
