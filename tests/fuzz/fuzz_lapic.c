/* libFuzzer target for devices/lapic.c: two local APICs of one VM driven
 * through MMIO, MSRs, interrupt acceptance, injection, EOI, CR8, timer
 * expiry and INIT, with IPIs routed between them.
 *
 * Input: u64 TSC frequency, u64 bus frequency, u64 starting TSC (the
 * first byte of each chooses how many of its bits count, so ordinary
 * values are common), then records to the end, each
 *
 *   u8   operation (bits 3:0, see ops below); bit 4 picks APIC 1 instead
 *        of APIC 0; bit 5 makes an MMIO offset or MSR number raw rather
 *        than a register; bit 6 adds a virtual-APIC page round trip
 *        afterwards (vapic_round_trip)
 *   u8   argument (vector, TPR, register index)
 *   u16  offset / MSR selector
 *   u64  value
 *   a time step (fuzz.h's in_time_step): the TSC moves on after the record
 *
 * Every step checks what lapic.h and SDM chapter 11 promise: no IRR, ISR
 * or TMR bit below 16; register contents within their writable bits (so
 * delivery status reads 0 in LVTs and the ICR); a software-disabled APIC
 * keeps every LVT masked; a hardware-disabled one holds no state; the mode
 * follows IA32_APIC_BASE; PPR is as 11.8.3.1 defines it and
 * lapic_highest_pending offers only a vector in IRR above PPR's class; the
 * current count never exceeds the initial count and a one-shot count
 * never goes up; once expired up to now, the timer's deadline lies after
 * now, and an expiry sets the timer's vector exactly when its deadline was
 * reached; reserved offsets and the MMIO page outside xAPIC mode read 0;
 * the fixed registers read their fixed values; after INIT the registers
 * are the power-up ones but the ID; IPI effects and lapic_ipi_targets
 * agree on who receives, a lowest-priority IPI reaching at most one
 * APIC. */
#include "tests/fuzz/fuzz.h"

#include "devices/lapic.h"

static const uint32_t lvt_writable[LAPIC_NUM_LVT] = {
        0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff,
};

#define ESR_BITS                                                                                   \
        (LAPIC_ESR_SEND_ILLEGAL_VECTOR | LAPIC_ESR_RECV_ILLEGAL_VECTOR | LAPIC_ESR_ILLEGAL_REGISTER)

enum {
        OP_MMIO_READ,
        OP_MMIO_WRITE,
        OP_MSR_READ,
        OP_MSR_WRITE,
        OP_ACCEPT,
        OP_INJECT,
        OP_EOI,
        OP_TPR,
        OP_EXPIRE,
        OP_INIT,
        OP_X2APIC,
        OP_READ_ALL,
        OP_TIMER, /* program the timer in one go */
        OP_ICR,   /* send an IPI */
        OP_DISABLE,
        OP_TIME,
};

static struct lapic apics[2];
static const struct lapic *apic_ptrs[2] = { &apics[0], &apics[1] };
/* One-shot current count last read, for the never-goes-up check. */
static uint32_t last_cur[2];
static bool last_cur_valid[2];

static FUZZ_HARNESS int highest(const uint32_t *r)
{
        for (int i = 7; i >= 0; i--)
                if (r[i])
                        return i * 32 + 31 - __builtin_clz(r[i]);
        return -1;
}

static FUZZ_HARNESS bool test_bit(const uint32_t *r, int v)
{
        return (r[v >> 5] >> (v & 31)) & 1;
}

/* What VMX APIC virtualization does with the model (core/vapic.c): export
 * to a virtual-APIC page, let a "CPU" deliver, EOI, change the TPR and
 * take a self IPI in the page as SDM 29.1-29.2 describe, while a "device"
 * accepts a vector into the (stale) model, then import.  The model must
 * end up exactly as the page and the device left it.  Bits of arg pick
 * the CPU's actions; val gives vectors. */
static uint32_t vpage[1024];

static FUZZ_HARNESS int page_highest(const uint32_t *page, uint32_t base)
{
        for (int i = 7; i >= 0; i--) {
                uint32_t w = page[base / 4 + 4 * i];
                if (w)
                        return i * 32 + 31 - __builtin_clz(w);
        }
        return -1;
}

static void page_set(uint32_t base, int v, bool on)
{
        uint32_t *w = &vpage[base / 4 + 4 * (v >> 5)];
        *w = on ? *w | (1u << (v & 31)) : *w & ~(1u << (v & 31));
}

static void vapic_round_trip(struct lapic *a, uint8_t arg, uint64_t val)
{
        memset(vpage, 0xa5, sizeof(vpage));
        lapic_vapic_export_all(a, vpage);
        for (uint32_t i = 0; i < 8; i++) {
                CHECK(vpage[LAPIC_REG_IRR / 4 + 4 * i] == a->irr[i]);
                CHECK(vpage[LAPIC_REG_ISR / 4 + 4 * i] == a->isr[i]);
                CHECK(vpage[LAPIC_REG_TMR / 4 + 4 * i] == a->tmr[i]);
        }
        CHECK(vpage[LAPIC_REG_TPR / 4] == a->tpr);
        CHECK(vpage[LAPIC_REG_PPR / 4] == 0xa5a5a5a5u); /* never exported */
        /* The CPU, in guest mode. */
        int rvi = page_highest(vpage, LAPIC_REG_IRR);
        int svi = page_highest(vpage, LAPIC_REG_ISR);
        uint32_t tpr = vpage[LAPIC_REG_TPR / 4] & 0xff;
        uint32_t ppr =
            (svi >= 0 && (uint32_t)(svi & 0xf0) > (tpr & 0xf0)) ? (uint32_t)svi & 0xf0 : tpr;
        if ((arg & 1) && rvi >= 16 && (uint32_t)(rvi & 0xf0) > (ppr & 0xf0)) {
                page_set(LAPIC_REG_IRR, rvi, false);
                page_set(LAPIC_REG_ISR, rvi, true);
        }
        if ((arg & 2) && (svi = page_highest(vpage, LAPIC_REG_ISR)) >= 0)
                page_set(LAPIC_REG_ISR, svi, false);
        if (arg & 4)
                vpage[LAPIC_REG_TPR / 4] = arg & 0xf0;
        /* Self-IPI virtualization: an xAPIC ICR write, which reaches the
         * page only in xAPIC mode (vtvisor maps the APIC-access page only
         * then); a guest sends it with its APIC software-enabled. */
        uint8_t self = (uint8_t)val;
        if ((arg & 8) && self >= 16 && a->mode == LAPIC_MODE_XAPIC && (a->svr & LAPIC_SVR_ENABLE))
                page_set(LAPIC_REG_IRR, self, true);
        /* A device or another vCPU meanwhile. */
        uint32_t fresh[8] = { 0 };
        uint8_t dev = (uint8_t)(val >> 8);
        bool took = false;
        if ((arg & 16) && dev >= 16 && a->mode != LAPIC_MODE_DISABLED &&
            (a->svr & LAPIC_SVR_ENABLE)) {
                lapic_accept(a, dev, false);
                fresh[dev >> 5] |= 1u << (dev & 31);
                took = true;
        }
        uint32_t want_irr[8], want_isr[8];
        for (uint32_t i = 0; i < 8; i++) {
                want_irr[i] = vpage[LAPIC_REG_IRR / 4 + 4 * i] | fresh[i];
                want_isr[i] = vpage[LAPIC_REG_ISR / 4 + 4 * i];
        }
        lapic_vapic_import(a, vpage, fresh);
        CHECK(memcmp(a->irr, want_irr, sizeof(want_irr)) == 0);
        CHECK(memcmp(a->isr, want_isr, sizeof(want_isr)) == 0);
        CHECK(lapic_get_tpr(a) == (vpage[LAPIC_REG_TPR / 4] & 0xff));
        if (took)
                CHECK(test_bit(a->irr, dev));
        CHECK(lapic_highest_in_service(a) == highest(a->isr));
}

static FUZZ_HARNESS uint8_t ref_ppr(const struct lapic *a)
{
        int isrv = highest(a->isr);
        uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
        return (a->tpr & 0xf0) >= cls ? (uint8_t)a->tpr : (uint8_t)cls;
}

static FUZZ_HARNESS bool is_zero(const void *p, size_t n)
{
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

static FUZZ_HARNESS void check_apic(const struct lapic *a, uint64_t now)
{
        (void)now;
        CHECK((a->irr[0] & 0xffff) == 0 && (a->isr[0] & 0xffff) == 0 && (a->tmr[0] & 0xffff) == 0);
        CHECK(a->tpr <= 0xff && (a->svr & ~0x3ffu) == 0);
        for (int i = 0; i < LAPIC_NUM_LVT; i++) {
                CHECK((a->lvt[i] & ~lvt_writable[i]) == 0);
                if (!(a->svr & LAPIC_SVR_ENABLE))
                        CHECK(a->lvt[i] & LAPIC_LVT_MASKED);
        }
        CHECK((a->icr_lo & ~0x000ccfffu) == 0);
        CHECK((a->tmr_dcr & ~0xbu) == 0);
        CHECK((a->esr & ~ESR_BITS) == 0 && (a->esr_pending & ~ESR_BITS) == 0);
        CHECK((a->dfr & 0x0fffffffu) == 0x0fffffffu);

        bool en = a->apic_base & LAPIC_BASE_ENABLE, extd = a->apic_base & LAPIC_BASE_EXTD;
        CHECK(a->mode == (!en ? LAPIC_MODE_DISABLED : extd ? LAPIC_MODE_X2APIC : LAPIC_MODE_XAPIC));
        CHECK((a->apic_base & 0x2ffull) == 0);
        if (a->mode == LAPIC_MODE_DISABLED) {
                CHECK(is_zero(a->irr, sizeof(a->irr)) && is_zero(a->isr, sizeof(a->isr)));
                CHECK(!a->tmr_armed && a->tsc_deadline == 0 && a->tmr_init == 0);
                CHECK(lapic_highest_pending(a) == -1 && lapic_highest_requested(a) == -1);
                CHECK(lapic_timer_deadline(a) == UINT64_MAX);
        }
        if (a->mode == LAPIC_MODE_X2APIC)
                CHECK(a->ldr == (((a->apic_id >> 4) << 16) | (1u << (a->apic_id & 15))));

        CHECK(lapic_ppr(a) == ref_ppr(a));
        int v = lapic_highest_pending(a);
        if (v >= 0) {
                CHECK(v >= 16 && v <= 255 && test_bit(a->irr, v));
                CHECK((unsigned)v >> 4 > (unsigned)ref_ppr(a) >> 4);
                CHECK(v == highest(a->irr));
        } else if (a->mode != LAPIC_MODE_DISABLED && highest(a->irr) >= 0) {
                CHECK((unsigned)highest(a->irr) >> 4 <= (unsigned)ref_ppr(a) >> 4);
        }
        if (a->tmr_armed)
                CHECK(a->tmr_init != 0);
}

/* A register value read at xAPIC offset off (x2: through its MSR). */
static FUZZ_HARNESS void check_reg(struct lapic *a, int idx, uint32_t off, uint64_t v, bool x2)
{
        if (off >= LAPIC_REG_ISR && off < LAPIC_REG_ESR) {
                if (off < LAPIC_REG_ISR + 0x10 ||
                    (off >= LAPIC_REG_TMR && off < LAPIC_REG_TMR + 0x10) ||
                    (off >= LAPIC_REG_IRR && off < LAPIC_REG_IRR + 0x10))
                        CHECK((v & 0xffff) == 0);
                return;
        }
        switch (off) {
        case LAPIC_REG_ID:
                if (x2)
                        CHECK(v == a->apic_id);
                else
                        CHECK((v & 0x00ffffff) == 0);
                break;
        case LAPIC_REG_VERSION:
                CHECK(v == LAPIC_VERSION_VALUE);
                break;
        case LAPIC_REG_TPR:
        case LAPIC_REG_PPR:
                CHECK(v <= 0xff);
                break;
        case LAPIC_REG_APR:
        case 0x0c0:
                CHECK(v == 0);
                break;
        case LAPIC_REG_LDR:
                if (!x2)
                        CHECK((v & 0x00ffffff) == 0);
                break;
        case LAPIC_REG_DFR:
                CHECK((v & 0x0fffffff) == 0x0fffffff && v <= 0xffffffffu);
                break;
        case LAPIC_REG_SVR:
                CHECK(v <= 0x3ff);
                break;
        case LAPIC_REG_ESR:
                CHECK((v & ~(uint64_t)ESR_BITS) == 0);
                break;
        case LAPIC_REG_ICR_LO:
                CHECK(((uint32_t)v & LAPIC_ICR_DELIVERY_STATUS) == 0);
                CHECK(((uint32_t)v & ~0x000ccfffu) == 0);
                if (!x2)
                        CHECK(v <= 0xffffffffu);
                break;
        case LAPIC_REG_ICR_HI:
                CHECK((v & 0x00ffffff) == 0);
                break;
        case LAPIC_REG_TMR_CUR: {
                if (v > a->tmr_init)
                        fprintf(stderr,
                                "cur=%llu init=%u mode=%u armed=%d next=%llu origin=%llu dcr=%x "
                                "tsc=%llu bus=%llu\n",
                                (unsigned long long)v, a->tmr_init, (a->lvt[0] >> 17) & 3,
                                a->tmr_armed, (unsigned long long)a->tmr_next,
                                (unsigned long long)a->tmr_origin, a->tmr_dcr,
                                (unsigned long long)a->tsc_hz, (unsigned long long)a->bus_hz);
                CHECK(v <= a->tmr_init);
                unsigned mode = (a->lvt[0] >> 17) & 3;
                if (mode == 0 && last_cur_valid[idx])
                        CHECK(v <= last_cur[idx]);
                if (mode == 0) {
                        last_cur[idx] = (uint32_t)v;
                        last_cur_valid[idx] = true;
                }
                break;
        }
        case LAPIC_REG_TMR_DIV:
                CHECK((v & ~0xbull) == 0);
                break;
        default:
                if (off >= LAPIC_REG_LVT_TMR && off <= LAPIC_REG_LVT_ERR) {
                        unsigned i = (off - LAPIC_REG_LVT_TMR) >> 4;
                        CHECK((v & ~(uint64_t)lvt_writable[i]) == 0);
                        if (!(a->svr & LAPIC_SVR_ENABLE))
                                CHECK(v & LAPIC_LVT_MASKED);
                }
                break;
        }
}

static FUZZ_HARNESS bool known_reg(uint32_t off, bool x2)
{
        if (off >= LAPIC_REG_ISR && off < LAPIC_REG_ESR)
                return true;
        if (off >= LAPIC_REG_LVT_TMR && off <= LAPIC_REG_LVT_ERR)
                return true;
        switch (off) {
        case LAPIC_REG_ID:
        case LAPIC_REG_VERSION:
        case LAPIC_REG_TPR:
        case LAPIC_REG_PPR:
        case LAPIC_REG_LDR:
        case LAPIC_REG_SVR:
        case LAPIC_REG_ESR:
        case LAPIC_REG_ICR_LO:
        case LAPIC_REG_TMR_INIT:
        case LAPIC_REG_TMR_CUR:
        case LAPIC_REG_TMR_DIV:
                return true;
        case LAPIC_REG_APR:
        case 0x0c0:
        case LAPIC_REG_DFR:
        case LAPIC_REG_ICR_HI:
                return !x2;
        case LAPIC_REG_EOI:
        default:
                return false;
        }
}

static void mmio_read(struct lapic *a, int idx, uint32_t off, uint64_t now)
{
        uint32_t esr = a->esr_pending;
        uint32_t v = lapic_mmio_read(a, off, now);
        if (a->mode != LAPIC_MODE_XAPIC || off >= LAPIC_MMIO_SIZE || (off & 0xf)) {
                CHECK(v == 0 && a->esr_pending == esr);
                return;
        }
        if (!known_reg(off, false)) {
                CHECK(v == 0);
                if (off != LAPIC_REG_EOI)
                        CHECK(a->esr_pending & LAPIC_ESR_ILLEGAL_REGISTER);
                return;
        }
        check_reg(a, idx, off, v, false);
}

static uint32_t pick_msr(uint16_t sel, bool raw, uint64_t val)
{
        if (raw)
                return (uint32_t)(val >> 32) ^ sel;
        switch (sel >> 8) {
        case 0:
                return MSR_LAPIC_X2APIC_FIRST + (sel & 0xff);
        case 1:
                return MSR_LAPIC_APIC_BASE;
        case 2:
                return MSR_LAPIC_TSC_DEADLINE;
        default:
                return MSR_LAPIC_X2APIC_FIRST + (sel & 0x3f);
        }
}

static void msr_read(struct lapic *a, int idx, uint32_t msr, uint64_t now)
{
        uint64_t v = 0x5a5a5a5a5a5a5a5aull;
        bool ok = lapic_msr_read(a, msr, &v, now);
        CHECK(ok || v == 0);
        if (msr == MSR_LAPIC_APIC_BASE) {
                CHECK(ok && v == a->apic_base);
                return;
        }
        if (msr == MSR_LAPIC_TSC_DEADLINE) {
                CHECK(ok);
                if (((a->lvt[0] >> 17) & 3) != 2 || a->mode == LAPIC_MODE_DISABLED)
                        CHECK(v == 0);
                return;
        }
        bool x2range = msr >= MSR_LAPIC_X2APIC_FIRST && msr <= MSR_LAPIC_X2APIC_LAST;
        if (!x2range || a->mode != LAPIC_MODE_X2APIC) {
                CHECK(!ok);
                return;
        }
        uint32_t off = (msr - MSR_LAPIC_X2APIC_FIRST) << 4;
        CHECK(ok == known_reg(off, true));
        if (ok)
                check_reg(a, idx, off, v, true);
}

static FUZZ_HARNESS void check_effects(int sender, const struct lapic_effects *fx, bool was_eoi)
{
        CHECK(fx->eoi_vector >= -1 && fx->eoi_vector <= 255);
        if (!was_eoi)
                CHECK(fx->eoi_vector == -1 && !fx->eoi_level);
        if (!fx->has_ipi)
                return;
        const struct lapic_ipi *ipi = &fx->ipi;
        CHECK(ipi->to_self || ipi->to_others);
        CHECK(ipi->delivery != 3 && ipi->delivery != LAPIC_DM_EXTINT);
        if (ipi->delivery == LAPIC_DM_FIXED || ipi->delivery == LAPIC_DM_LOWEST)
                CHECK(ipi->vector >= 16);
        if (ipi->shorthand == LAPIC_SH_SELF)
                CHECK(!ipi->to_others);
        if (ipi->shorthand == LAPIC_SH_ALL_BUT_SELF)
                CHECK(!ipi->to_self);
        if (ipi->delivery == LAPIC_DM_FIXED)
                CHECK(!ipi->to_self); /* already in the sender's IRR */
        uint64_t t = lapic_ipi_targets(ipi, apic_ptrs, 2, (size_t)sender);
        CHECK((t & ~3ull) == 0);
        if (!ipi->to_self)
                CHECK(!(t & BIT(sender)));
        if (!ipi->to_others)
                CHECK(!(t & BIT(1 - sender)));
        if (ipi->delivery == LAPIC_DM_LOWEST)
                CHECK(t != 3);
        if (ipi->delivery == LAPIC_DM_INIT && ipi->level && !ipi->assert)
                CHECK(t == 0);
        for (int i = 0; i < 2; i++) {
                if (!(t & BIT(i)))
                        continue;
                const struct lapic *r = &apics[i];
                CHECK(r->mode != LAPIC_MODE_DISABLED);
                if (ipi->delivery == LAPIC_DM_FIXED || ipi->delivery == LAPIC_DM_LOWEST)
                        CHECK(r->svr & LAPIC_SVR_ENABLE);
        }
        /* Deliver as core/irq.c does: fixed and lowest priority into IRR. */
        for (int i = 0; i < 2; i++)
                if ((t & BIT(i)) &&
                    (ipi->delivery == LAPIC_DM_FIXED || ipi->delivery == LAPIC_DM_LOWEST))
                        lapic_accept(&apics[i], ipi->vector, ipi->level);
}

static FUZZ_HARNESS void check_power_up(struct lapic *a, uint32_t xapic_id, uint64_t now)
{
        CHECK(is_zero(a->irr, sizeof(a->irr)) && is_zero(a->isr, sizeof(a->isr)) &&
              is_zero(a->tmr, sizeof(a->tmr)));
        CHECK(a->xapic_id == xapic_id);
        CHECK(a->tpr == 0 && a->svr == 0xff && a->dfr == 0xffffffffu);
        CHECK(a->esr == 0 && a->esr_pending == 0 && a->icr_lo == 0 && a->icr_hi == 0);
        for (int i = 0; i < LAPIC_NUM_LVT; i++)
                CHECK(a->lvt[i] == LAPIC_LVT_MASKED);
        CHECK(a->tmr_init == 0 && a->tmr_dcr == 0 && !a->tmr_armed && a->tsc_deadline == 0);
        CHECK(lapic_timer_deadline(a) == UINT64_MAX);
        if (a->mode == LAPIC_MODE_XAPIC)
                CHECK(a->ldr == 0);
        uint64_t v;
        CHECK(lapic_msr_read(a, MSR_LAPIC_TSC_DEADLINE, &v, now) && v == 0);
}

static uint64_t bounded(uint64_t v)
{
        static const uint64_t masks[4] = { 0xffffffffull, 0xffffffffffull, 0xffffffffffffull,
                                           ~0ull };
        return v & masks[v & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        uint64_t tsc_hz = bounded(in_u64(&in));
        uint64_t bus_hz = bounded(in_u64(&in));
        uint64_t now = bounded(in_u64(&in));

        lapic_init(&apics[0], 0, true, tsc_hz, bus_hz);
        lapic_init(&apics[1], 1, false, tsc_hz, bus_hz);
        memset(last_cur_valid, 0, sizeof(last_cur_valid));

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in);
                uint8_t arg = in_u8(&in);
                uint16_t sel = in_u16(&in);
                uint64_t val = in_u64(&in);
                uint64_t step = in_time_step(&in);
                int idx = (op >> 4) & 1;
                bool raw = op & 0x20;
                struct lapic *a = &apics[idx];
                struct lapic_effects fx;
                uint32_t off = raw ? sel : (uint32_t)(arg & 0x3f) << 4;
                unsigned kind = op & 15;

                if (kind != OP_MMIO_READ && kind != OP_MSR_READ && kind != OP_READ_ALL &&
                    kind != OP_TIME && kind != OP_ACCEPT && kind != OP_INJECT)
                        last_cur_valid[idx] = false;

                switch (kind) {
                case OP_MMIO_READ:
                        mmio_read(a, idx, off, now);
                        break;
                case OP_MMIO_WRITE:
                        lapic_mmio_write(a, off, (uint32_t)val, now, &fx);
                        check_effects(idx, &fx, off == LAPIC_REG_EOI);
                        break;
                case OP_MSR_READ:
                        msr_read(a, idx, pick_msr(sel, raw, val), now);
                        break;
                case OP_MSR_WRITE: {
                        uint32_t msr = pick_msr(sel, raw, val);
                        if (!raw && msr == MSR_LAPIC_APIC_BASE)
                                val = (val & 0xd00) | LAPIC_DEFAULT_BASE; /* mostly valid */
                        enum lapic_mode before = a->mode;
                        bool ok = lapic_msr_write(a, msr, val, now, &fx);
                        check_effects(idx, &fx, msr == MSR_LAPIC_X2APIC_FIRST + 0xb);
                        if (!lapic_owns_msr(msr))
                                CHECK(!ok);
                        if (!ok)
                                CHECK(a->mode == before);
                        if (ok && msr == MSR_LAPIC_APIC_BASE && before != LAPIC_MODE_DISABLED &&
                            a->mode == LAPIC_MODE_DISABLED)
                                check_power_up(a, a->apic_id << 24, now);
                        break;
                }
                case OP_ACCEPT:
                        lapic_accept(a, arg, val & 1);
                        if (arg >= 16 && a->mode != LAPIC_MODE_DISABLED &&
                            (a->svr & LAPIC_SVR_ENABLE))
                                CHECK(test_bit(a->irr, arg) && test_bit(a->tmr, arg) == (val & 1));
                        break;
                case OP_INJECT: {
                        int v = lapic_highest_pending(a);
                        if (v >= 0) {
                                lapic_start_service(a, (uint8_t)v);
                                CHECK(!test_bit(a->irr, v) && test_bit(a->isr, v));
                                CHECK(lapic_ppr(a) >= (v & 0xf0));
                        }
                        break;
                }
                case OP_EOI: {
                        int hi = highest(a->isr);
                        bool level = true;
                        int v = lapic_eoi(a, (val & 1) ? NULL : &level);
                        CHECK(v == hi);
                        if (v >= 0 && !(val & 1))
                                CHECK(level == test_bit(a->tmr, v));
                        if (v < 0 && !(val & 1))
                                CHECK(!level);
                        break;
                }
                case OP_TPR:
                        lapic_set_tpr(a, arg);
                        CHECK(lapic_get_tpr(a) == arg);
                        break;
                case OP_EXPIRE: {
                        uint64_t dl = lapic_timer_deadline(a);
                        uint32_t irr[8];
                        memcpy(irr, a->irr, sizeof(irr));
                        uint8_t vec = a->lvt[0] & 0xff;
                        lapic_timer_expire(a, now);
                        uint64_t nd = lapic_timer_deadline(a);
                        CHECK(nd > now || nd == UINT64_MAX);
                        if (dl > now) {
                                CHECK(memcmp(irr, a->irr, sizeof(irr)) == 0);
                                CHECK(nd == dl);
                        } else if (dl != UINT64_MAX && vec >= 16 && (a->svr & LAPIC_SVR_ENABLE)) {
                                CHECK(test_bit(a->irr, vec));
                        }
                        break;
                }
                case OP_INIT: {
                        uint32_t id = a->xapic_id;
                        enum lapic_mode m = a->mode;
                        uint64_t base = a->apic_base;
                        lapic_init_received(a);
                        CHECK(a->mode == m && a->apic_base == base);
                        check_power_up(a, id, now);
                        CHECK(lapic_init_waits_for_sipi(a) == (idx == 1));
                        CHECK(lapic_sipi_accepted(a, true) == (m != LAPIC_MODE_DISABLED));
                        CHECK(!lapic_sipi_accepted(a, false));
                        CHECK(lapic_sipi_start(arg) == (uint64_t)arg << 12);
                        break;
                }
                case OP_X2APIC: {
                        bool ok = lapic_msr_write(
                            a, MSR_LAPIC_APIC_BASE,
                            LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE | LAPIC_BASE_EXTD, now, &fx);
                        CHECK(ok == (a->mode == LAPIC_MODE_X2APIC));
                        break;
                }
                case OP_READ_ALL:
                        for (uint32_t r = 0; r < 0x400; r += 0x10) {
                                if (a->mode == LAPIC_MODE_X2APIC)
                                        msr_read(a, idx, MSR_LAPIC_X2APIC_FIRST + (r >> 4), now);
                                else
                                        mmio_read(a, idx, r, now);
                        }
                        break;
                case OP_TIMER: {
                        /* LVT (vector, mode, unmasked), divide, count. */
                        uint32_t lvt = (uint32_t)(arg | 0x20) | ((uint32_t)(sel & 3) << 17);
                        bool x2 = a->mode == LAPIC_MODE_X2APIC;
                        if (x2) {
                                lapic_msr_write(a, 0x80f, 0x1ff, now, &fx);
                                lapic_msr_write(a, 0x832, lvt, now, &fx);
                                lapic_msr_write(a, 0x83e, (sel >> 2) & 0xb, now, &fx);
                                lapic_msr_write(a, 0x838, (uint32_t)val, now, &fx);
                                lapic_msr_write(a, MSR_LAPIC_TSC_DEADLINE, val, now, &fx);
                        } else {
                                lapic_mmio_write(a, LAPIC_REG_SVR, 0x1ff, now, &fx);
                                lapic_mmio_write(a, LAPIC_REG_LVT_TMR, lvt, now, &fx);
                                lapic_mmio_write(a, LAPIC_REG_TMR_DIV, (sel >> 2) & 0xb, now, &fx);
                                lapic_mmio_write(a, LAPIC_REG_TMR_INIT, (uint32_t)val, now, &fx);
                                lapic_msr_write(a, MSR_LAPIC_TSC_DEADLINE, val, now, &fx);
                        }
                        uint64_t dl = lapic_timer_deadline(a);
                        CHECK(dl > now || dl == UINT64_MAX);
                        break;
                }
                case OP_ICR: {
                        uint32_t lo = (uint32_t)val & 0x000ccfffu;
                        if (a->mode == LAPIC_MODE_X2APIC) {
                                bool ok = lapic_msr_write(a, 0x830, (uint64_t)(sel & 3) << 32 | lo,
                                                          now, &fx);
                                CHECK(ok);
                        } else {
                                lapic_mmio_write(a, LAPIC_REG_ICR_HI, (uint32_t)(sel & 0xff) << 24,
                                                 now, &fx);
                                lapic_mmio_write(a, LAPIC_REG_ICR_LO, lo, now, &fx);
                        }
                        check_effects(idx, &fx, false);
                        break;
                }
                case OP_DISABLE: {
                        bool ok =
                            lapic_msr_write(a, MSR_LAPIC_APIC_BASE, LAPIC_DEFAULT_BASE, now, &fx);
                        CHECK(ok && a->mode == LAPIC_MODE_DISABLED);
                        CHECK(lapic_mmio_read(a, LAPIC_REG_VERSION, now) == 0);
                        /* And back to xAPIC mode, as firmware would. */
                        if (arg & 1)
                                CHECK(lapic_msr_write(a, MSR_LAPIC_APIC_BASE,
                                                      LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE, now,
                                                      &fx));
                        break;
                }
                default:
                        break;
                }
                if (op & 0x40)
                        vapic_round_trip(a, arg, val);
                check_apic(&apics[0], now);
                check_apic(&apics[1], now);
                now = add_sat64(now, step);
        }
        return 0;
}
