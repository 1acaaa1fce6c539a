#include "devices/lapic.h"
#include "lib/string.h"

/* Multiplications go through 128 bits so that count * divide * tsc_hz never
 * wraps.  Only shifts, products and comparisons are used on this type: a
 * 128-bit '/' would need libgcc's __udivti3, which the freestanding
 * hypervisor does not link. */
typedef unsigned __int128 u128;

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* Writable bits of each LVT (SDM Figure 11-8): the vector, the delivery mode
 * where the entry has one, the LINT pins' polarity and trigger mode, the
 * mask and the timer mode.  Delivery status and remote IRR are read-only. */
static const uint32_t lvt_writable[LAPIC_NUM_LVT] = {
        [LVT_TIMER] = 0x000700ff, [LVT_THERMAL] = 0x000107ff, [LVT_PERF] = 0x000107ff,
        [LVT_LINT0] = 0x0001a7ff, [LVT_LINT1] = 0x0001a7ff,   [LVT_ERROR] = 0x000100ff,
};
#define LVT_DELIVERY_STATUS BIT(12)
#define LVT_REMOTE_IRR      BIT(14)

#define TIMER_MODE_ONESHOT     0
#define TIMER_MODE_PERIODIC    1
#define TIMER_MODE_TSCDEADLINE 2
#define TIMER_MODE_RESERVED    3

/* SVR: vector, APIC software enable and focus-processor checking.  Bit 12
 * (EOI-broadcast suppression) is reserved because the version register does
 * not advertise it (SDM 11.8.5, Figure 11-23). */
#define SVR_WRITABLE 0x3ffu
#define DCR_WRITABLE 0x0bu /* SDM Figure 11-10: bits 0, 1, 3 */
/* ICR bits kept in xAPIC mode: vector, delivery mode, destination mode,
 * level, trigger mode and shorthand (SDM Figure 11-12). */
#define ICR_LO_WRITABLE 0x000ccfffu
/* x2APIC ICR bits that must be zero (SDM 11.12.9, 11.12.1.3).  Delivery
 * status (bit 12) is read-only and ignored rather than faulted, so a guest
 * writing back what it read does not take #GP. */
#define ICR_X2_RESERVED 0xfff32000ull

enum reg_result { REG_OK, REG_RESERVED, REG_READ_ONLY, REG_WRITE_ONLY, REG_BAD_VALUE };

/* ---- 128-bit-safe arithmetic ---- */

/* n / d for a 128-bit n and a non-zero 64-bit d: long division in two
 * 64-bit digits, the lower one by shift-and-subtract because its partial
 * remainder is a 128-bit number. */
static u128 udiv128(u128 n, uint64_t d, uint64_t *rem)
{
        uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
        uint64_t qhi = hi / d, r = hi % d, qlo = 0;

        for (int i = 0; i < 64; i++) {
                bool carry = r >> 63;
                r = (r << 1) | (lo >> 63);
                lo <<= 1;
                qlo <<= 1;
                /* r < d held before the shift, so r (with its carry) < 2d and
                 * one subtraction restores it; with the carry set the true
                 * value exceeds 2^64 > d and the wrapped difference is exact. */
                if (carry || r >= d) {
                        r -= d;
                        qlo |= 1;
                }
        }
        if (rem)
                *rem = r;
        return ((u128)qhi << 64) | qlo;
}

static uint64_t sat64(u128 x)
{
        return (x >> 64) ? UINT64_MAX : (uint64_t)x;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t lapic_muldiv64(uint64_t x, uint64_t y, uint64_t z, uint64_t *rem)
{
        return sat64(udiv128((u128)x * y, z, rem));
}

unsigned lapic_divide_value(uint32_t dcr)
{
        /* SDM Figure 11-10: the 3-bit code is bits 3 and 1:0; code c divides by
         * 2^(c+1), wrapping so 111b divides by 1. */
        unsigned code = (dcr & 3) | ((dcr >> 1) & 4);
        return 1u << ((code + 1) & 7);
}

static unsigned log2_divide(unsigned divide)
{
        unsigned s = 0;
        while (s < 7 && (1u << s) < divide)
                s++;
        return s;
}

/* ticks * divide * tsc_hz / bus_hz, rounded down or up. */
static uint64_t ticks_to_tsc(const struct lapic *a, uint64_t ticks, unsigned shift, bool round_up)
{
        u128 n = (u128)ticks * a->tsc_hz;
        uint64_t rem;

        if (shift && (n >> (128 - shift)))
                return UINT64_MAX;
        n <<= shift;
        u128 q = udiv128(n, a->bus_hz, &rem);
        if (round_up && rem)
                q++;
        return sat64(q);
}

uint64_t lapic_timer_ticks_to_tsc(const struct lapic *a, uint64_t ticks, unsigned divide)
{
        return ticks_to_tsc(a, ticks, log2_divide(divide), false);
}

/* floor(tsc * bus_hz / (tsc_hz * divide)) = floor(floor(tsc * bus_hz /
 * tsc_hz) / divide), so tsc_hz * divide never has to be formed. */
static uint64_t tsc_to_ticks(const struct lapic *a, uint64_t tsc, unsigned shift)
{
        return sat64(udiv128((u128)tsc * a->bus_hz, a->tsc_hz, NULL) >> shift);
}

uint64_t lapic_tsc_to_timer_ticks(const struct lapic *a, uint64_t tsc, unsigned divide)
{
        return tsc_to_ticks(a, tsc, log2_divide(divide));
}

/* ---- 256-bit vector registers ---- */

static void vec_set(uint32_t *r, uint8_t v)
{
        r[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *r, uint8_t v)
{
        r[v >> 5] &= ~(1u << (v & 31));
}

static bool vec_test(const uint32_t *r, uint8_t v)
{
        return (r[v >> 5] >> (v & 31)) & 1;
}

static int vec_highest(const uint32_t *r)
{
        for (int i = 3; i >= 0; i--) {
                uint64_t w = ((uint64_t)r[2 * i + 1] << 32) | r[2 * i];
                if (w)
                        return i * 64 + 63 - __builtin_clzll(w);
        }
        return -1;
}

/* ---- state ---- */

static bool sw_enabled(const struct lapic *a)
{
        return a->svr & LAPIC_SVR_ENABLE;
}

static unsigned timer_mode(const struct lapic *a)
{
        return (a->lvt[LVT_TIMER] >> 17) & 3;
}

static unsigned timer_shift(const struct lapic *a)
{
        return log2_divide(lapic_divide_value(a->tmr_dcr));
}

/* x2APIC logical ID (SDM 11.12.10.2): cluster in 31:16, one bit of 16 in
 * 15:0, both fixed by the x2APIC ID. */
static uint32_t x2apic_ldr(uint32_t id)
{
        return ((id >> 4) << 16) | (1u << (id & 15));
}

/* Power-up register values (SDM 11.4.7.1), also what a transition to the
 * disabled state leaves behind (SDM 11.12.5.1).  Base, BSP flag and mode
 * belong to IA32_APIC_BASE and are the caller's business. */
static void reset_registers(struct lapic *a)
{
        vtv_memset(a->irr, 0, sizeof(a->irr));
        vtv_memset(a->isr, 0, sizeof(a->isr));
        vtv_memset(a->tmr, 0, sizeof(a->tmr));
        a->xapic_id = a->apic_id << 24;
        a->tpr = 0;
        a->svr = 0xff;
        a->ldr = 0;
        a->dfr = 0xffffffff;
        a->esr = a->esr_pending = 0;
        for (int i = 0; i < LAPIC_NUM_LVT; i++)
                a->lvt[i] = LAPIC_LVT_MASKED;
        a->icr_lo = a->icr_hi = 0;
        a->tmr_init = a->tmr_dcr = 0;
        a->tmr_armed = false;
        a->tmr_origin = a->tmr_next = 0;
        a->tmr_next_tsc = UINT64_MAX;
        a->tsc_deadline = 0;
}

void lapic_init(struct lapic *a, uint32_t apic_id, bool bsp, uint64_t tsc_hz, uint64_t bus_hz)
{
        vtv_memset(a, 0, sizeof(*a));
        a->apic_id = apic_id;
        a->tsc_hz = tsc_hz ? tsc_hz : 1;
        a->bus_hz = bus_hz ? bus_hz : 1;
        a->phys_bits = 52;
        a->mode = LAPIC_MODE_XAPIC;
        a->apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE | (bsp ? LAPIC_BASE_BSP : 0);
        reset_registers(a);
}

bool lapic_is_x2apic(const struct lapic *a)
{
        return a->mode == LAPIC_MODE_X2APIC;
}

bool lapic_mmio_enabled(const struct lapic *a)
{
        return a->mode == LAPIC_MODE_XAPIC;
}

uint64_t lapic_base_address(const struct lapic *a)
{
        return a->apic_base & ~0xfffull;
}

bool lapic_owns_msr(uint32_t msr)
{
        return msr == MSR_LAPIC_APIC_BASE || msr == MSR_LAPIC_TSC_DEADLINE ||
               (msr >= MSR_LAPIC_X2APIC_FIRST && msr <= MSR_LAPIC_X2APIC_LAST);
}

/* ---- interrupts ---- */

/* ESR bits accumulate until the next ESR write (SDM 11.5.3); each error
 * also raises the error LVT's interrupt.  An illegal error vector is not
 * reported again, which would recurse. */
static void signal_error(struct lapic *a, uint32_t bits)
{
        uint32_t lvt = a->lvt[LVT_ERROR];
        uint8_t vector = lvt & LAPIC_LVT_VECTOR;

        a->esr_pending |= bits;
        if (!(lvt & LAPIC_LVT_MASKED) && vector >= 16 && a->mode != LAPIC_MODE_DISABLED) {
                vec_set(a->irr, vector);
                vec_clear(a->tmr, vector);
        }
}

void lapic_accept(struct lapic *a, uint8_t vector, bool level)
{
        /* A disabled APIC takes no fixed interrupts (SDM 11.4.7.2). */
        if (a->mode == LAPIC_MODE_DISABLED || !sw_enabled(a))
                return;
        /* SDM 11.5.3: the APIC never sets IRR bits 0-15. */
        if (vector < 16) {
                signal_error(a, LAPIC_ESR_RECV_ILLEGAL_VECTOR);
                return;
        }
        vec_set(a->irr, vector);
        /* SDM 11.8.4: TMR records the trigger mode on acceptance, so the EOI
         * knows whether the I/O APIC must hear about it. */
        if (level)
                vec_set(a->tmr, vector);
        else
                vec_clear(a->tmr, vector);
}

uint8_t lapic_ppr(const struct lapic *a)
{
        int isrv = vec_highest(a->isr);
        uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

        /* SDM 11.8.3.1: the TPR wins (all 8 bits) when its class is at least
         * the highest in-service class; otherwise that class, sub-class 0. */
        if ((a->tpr & 0xf0) >= isr_class)
                return (uint8_t)a->tpr;
        return (uint8_t)isr_class;
}

int lapic_highest_pending(const struct lapic *a)
{
        if (a->mode == LAPIC_MODE_DISABLED)
                return -1;
        int v = vec_highest(a->irr);
        /* Only a higher priority class than PPR's interrupts the processor
         * (SDM 11.8.3.1); a lower or equal one waits in IRR. */
        if (v < 0 || ((uint32_t)v >> 4) <= (uint32_t)(lapic_ppr(a) >> 4))
                return -1;
        return v;
}

int lapic_highest_requested(const struct lapic *a)
{
        if (a->mode == LAPIC_MODE_DISABLED)
                return -1;
        return vec_highest(a->irr);
}

void lapic_start_service(struct lapic *a, uint8_t vector)
{
        vec_clear(a->irr, vector);
        vec_set(a->isr, vector);
}

int lapic_eoi(struct lapic *a, bool *level)
{
        int v = vec_highest(a->isr);

        if (level)
                *level = false;
        if (v < 0)
                return -1;
        /* SDM 11.8.5: EOI retires the highest-priority in-service vector. */
        vec_clear(a->isr, (uint8_t)v);
        if (level)
                *level = vec_test(a->tmr, (uint8_t)v);
        return v;
}

uint8_t lapic_get_tpr(const struct lapic *a)
{
        return (uint8_t)a->tpr;
}

void lapic_set_tpr(struct lapic *a, uint8_t tpr)
{
        a->tpr = tpr;
}

bool lapic_matches_dest(const struct lapic *a, uint32_t dest, bool logical)
{
        if (a->mode == LAPIC_MODE_DISABLED)
                return false;
        if (a->mode == LAPIC_MODE_X2APIC) {
                if (dest == 0xffffffff)
                        return true;
                if (!logical)
                        return dest == a->apic_id;
                /* SDM 11.12.10.2: same cluster, and a common bit. */
                return (dest >> 16) == (a->ldr >> 16) && (dest & a->ldr & 0xffff);
        }
        dest &= 0xff;
        if (dest == 0xff)
                return true;
        if (!logical)
                return dest == a->xapic_id >> 24;
        uint32_t ld = a->ldr >> 24;
        /* SDM 11.6.2.2: DFR bits 31:28 pick the flat (1111b) or cluster
         * (0000b) model. */
        switch (a->dfr >> 28) {
        case 0xf:
                return (ld & dest) != 0;
        case 0x0:
                return (dest >> 4) == (ld >> 4) && (dest & ld & 0xf);
        default:
                return false;
        }
}

/* ---- timer ---- */

static void timer_update_tsc(struct lapic *a)
{
        a->tmr_next_tsc =
            add_sat(a->tmr_origin, ticks_to_tsc(a, a->tmr_next, timer_shift(a), true));
}

static uint64_t timer_ticks(const struct lapic *a, uint64_t now)
{
        return now <= a->tmr_origin ? 0 : tsc_to_ticks(a, now - a->tmr_origin, timer_shift(a));
}

/* Starts counting down from count at now. */
static void timer_start(struct lapic *a, uint32_t count, uint64_t now)
{
        a->tmr_armed = true;
        a->tmr_origin = now;
        a->tmr_next = count;
        timer_update_tsc(a);
}

static void timer_disarm(struct lapic *a)
{
        a->tmr_armed = false;
        a->tmr_next_tsc = UINT64_MAX;
}

/* A masked LVT still lets the timer count and expire, but raises nothing
 * (SDM 11.5.1: the mask inhibits reception of the interrupt). */
static void timer_fire(struct lapic *a)
{
        uint32_t lvt = a->lvt[LVT_TIMER];
        if (!(lvt & LAPIC_LVT_MASKED)) {
                uint8_t vec = lvt & LAPIC_LVT_VECTOR;
                bool takes = a->mode != LAPIC_MODE_DISABLED && sw_enabled(a) && vec >= 16;
                lapic_accept(a, vec, false);
                if (takes)
                        a->timer_irqs++;
        }
}

static void timer_sync(struct lapic *a, uint64_t now)
{
        if (a->mode == LAPIC_MODE_DISABLED)
                return;
        switch (timer_mode(a)) {
        case TIMER_MODE_TSCDEADLINE:
                /* SDM 11.5.4.1: it fires once and clears the MSR. */
                if (a->tsc_deadline && now >= a->tsc_deadline) {
                        a->tsc_deadline = 0;
                        timer_fire(a);
                }
                break;
        case TIMER_MODE_ONESHOT:
        case TIMER_MODE_PERIODIC:
                /* A deadline that saturated to UINT64_MAX lies beyond the
                 * TSC's range: it is never reached, not reached at the
                 * TSC's last value (which would fire it on every call). */
                if (!a->tmr_armed || now < a->tmr_next_tsc || a->tmr_next_tsc == UINT64_MAX)
                        break;
                timer_fire(a);
                if (timer_mode(a) == TIMER_MODE_ONESHOT) {
                        timer_disarm(a);
                        break;
                }
                /* Periodic: the next expiry is the first multiple of the
                 * period past now, counted from the original start, so late
                 * handling neither drifts nor queues up interrupts. */
                uint64_t e = MAX(timer_ticks(a, now), a->tmr_next); /* MAX: saturation */
                uint64_t behind = (e - a->tmr_next) % a->tmr_init;
                if (e == UINT64_MAX || e - behind > UINT64_MAX - a->tmr_init) {
                        /* 2^64 timer ticks since the start no longer fit
                         * the count (a saturated next expiry would lie in
                         * the past and fire on every call): a new grid
                         * starts at now. */
                        timer_start(a, a->tmr_init, now);
                        break;
                }
                a->tmr_next = e - behind + a->tmr_init;
                timer_update_tsc(a);
                break;
        default:
                break;
        }
}

static uint32_t timer_current(const struct lapic *a, uint64_t now)
{
        if (!a->tmr_armed || timer_mode(a) >= TIMER_MODE_TSCDEADLINE)
                return 0;
        uint64_t e = timer_ticks(a, now);
        return e >= a->tmr_next ? 0 : (uint32_t)(a->tmr_next - e);
}

uint64_t lapic_timer_deadline(const struct lapic *a)
{
        if (a->mode == LAPIC_MODE_DISABLED || (a->lvt[LVT_TIMER] & LAPIC_LVT_MASKED))
                return UINT64_MAX;
        switch (timer_mode(a)) {
        case TIMER_MODE_TSCDEADLINE:
                return a->tsc_deadline ? a->tsc_deadline : UINT64_MAX;
        case TIMER_MODE_ONESHOT:
        case TIMER_MODE_PERIODIC:
                return a->tmr_armed ? a->tmr_next_tsc : UINT64_MAX;
        default:
                return UINT64_MAX;
        }
}

void lapic_timer_expire(struct lapic *a, uint64_t now)
{
        timer_sync(a, now);
}

static void write_initial_count(struct lapic *a, uint32_t val, uint64_t now)
{
        /* SDM 11.5.4.1: ignored in TSC-deadline mode; the reserved mode
         * does not count either. */
        if (timer_mode(a) >= TIMER_MODE_TSCDEADLINE)
                return;
        a->tmr_init = val;
        /* SDM 11.5.4: a write restarts the count; 0 stops the timer. */
        if (val)
                timer_start(a, val, now);
        else
                timer_disarm(a);
}

static void write_divide(struct lapic *a, uint32_t val, uint64_t now)
{
        /* A running count carries on from its current value at the new
         * rate; a periodic timer reloads the initial count as usual. */
        uint32_t cur = timer_current(a, now);
        a->tmr_dcr = val & DCR_WRITABLE;
        if (a->tmr_armed && timer_mode(a) < TIMER_MODE_TSCDEADLINE)
                timer_start(a, cur, now);
}

static void write_lvt_timer(struct lapic *a, uint32_t val)
{
        unsigned old = timer_mode(a);
        a->lvt[LVT_TIMER] = val;
        unsigned mode = timer_mode(a);
        /* SDM 11.5.4.1: moving into or out of TSC-deadline mode disarms the
         * timer.  Switching between one-shot and periodic neither starts nor
         * stops a count in progress: only the next expiry behaves per the new
         * mode. */
        if (old != mode && (old >= TIMER_MODE_TSCDEADLINE || mode >= TIMER_MODE_TSCDEADLINE)) {
                a->tmr_init = 0;
                a->tsc_deadline = 0;
                timer_disarm(a);
        }
}

/* ---- IPIs ---- */

static void send_ipi(struct lapic *a, uint32_t lo, uint32_t dest, struct lapic_effects *fx)
{
        struct lapic_ipi ipi = {
                .dest = dest,
                .vector = lo & 0xff,
                .delivery = (lo >> 8) & 7,
                .shorthand = (lo >> 18) & 3,
                .logical = lo & BIT(11),
                .assert = lo & BIT(14),
                .level = lo & BIT(15),
        };
        bool fixed = ipi.delivery == LAPIC_DM_FIXED || ipi.delivery == LAPIC_DM_LOWEST;
        bool self, others;

        /* 011b and 111b are reserved delivery modes for IPIs. */
        if (ipi.delivery == 3 || ipi.delivery == LAPIC_DM_EXTINT)
                return;
        /* SDM 11.5.3: the sender flags an illegal vector and nothing is sent. */
        if (fixed && ipi.vector < 16) {
                signal_error(a, LAPIC_ESR_SEND_ILLEGAL_VECTOR);
                return;
        }
        switch (ipi.shorthand) {
        case LAPIC_SH_SELF:
                self = true;
                others = false;
                break;
        case LAPIC_SH_ALL:
                self = others = true;
                break;
        case LAPIC_SH_ALL_BUT_SELF:
                self = false;
                others = true;
                break;
        default: {
                uint32_t own = lapic_is_x2apic(a) ? a->apic_id : a->xapic_id >> 24;
                self = lapic_matches_dest(a, dest, ipi.logical);
                /* Only a physical destination naming this APIC alone is
                 * sure to reach nobody else. */
                others = ipi.logical || dest != own;
                break;
        }
        }
        /* A lowest-priority IPI goes to one APIC of those it names (SDM
         * 11.6.2.4).  When others may be among them, the sender cannot pick
         * alone: lapic_ipi_targets() arbitrates with the sender as one
         * candidate.  When it names only this APIC, it is ours. */
        bool local = fixed && self && !(ipi.delivery == LAPIC_DM_LOWEST && others);
        if (local)
                lapic_accept(a, ipi.vector, ipi.level);
        ipi.to_self = self && !local;
        ipi.to_others = others;
        if (fx && (ipi.to_self || ipi.to_others)) {
                fx->has_ipi = true;
                fx->ipi = ipi;
        }
}

/* Whether receiver r, an APIC other than the sender, is named by a
 * destination field that sender s wrote (no shorthand). */
static bool ipi_dest_matches(const struct lapic *s, const struct lapic *r,
                             const struct lapic_ipi *ipi)
{
        bool s_x2 = lapic_is_x2apic(s);
        uint32_t dest = ipi->dest;

        if (s_x2 == lapic_is_x2apic(r))
                return lapic_matches_dest(r, dest, ipi->logical);
        /* Mixed modes are transitional (Linux starts xAPIC-mode APs from an
         * x2APIC BSP, and each AP switches itself).  The broadcast means
         * everyone in both formats, and physical IDs below 0xff are the same
         * number in both (the xAPIC ID is the x2APIC ID's low byte, SDM
         * 11.12.5.1); logical IDs have different layouts (SDM 11.6.2.2,
         * 11.12.10.2). */
        if (dest == (s_x2 ? 0xffffffffu : 0xffu))
                return lapic_matches_dest(r, lapic_is_x2apic(r) ? 0xffffffffu : 0xffu, false);
        if (ipi->logical || dest >= 0xff)
                return false;
        return lapic_matches_dest(r, dest, false);
}

/* Whether r takes a message of this delivery mode at all. */
static bool ipi_receivable(const struct lapic *r, uint8_t delivery)
{
        /* SDM 11.4.3: with IA32_APIC_BASE[11] clear the CPU has no APIC. */
        if (!r || r->mode == LAPIC_MODE_DISABLED)
                return false;
        /* SDM 11.4.7.2: software-disabled, it still responds to INIT, NMI,
         * SMI and SIPI, but accepts no fixed interrupts. */
        if (delivery == LAPIC_DM_FIXED || delivery == LAPIC_DM_LOWEST)
                return sw_enabled(r);
        return true;
}

uint64_t lapic_ipi_targets(const struct lapic_ipi *ipi, const struct lapic *const *apics, size_t n,
                           size_t sender)
{
        uint64_t set = 0;

        n = MIN(n, (size_t)64);
        if (sender >= n || !apics[sender])
                return 0;
        switch (ipi->delivery) {
        case LAPIC_DM_FIXED:
        case LAPIC_DM_LOWEST:
        case LAPIC_DM_SMI:
        case LAPIC_DM_NMI:
        case LAPIC_DM_STARTUP:
                break;
        case LAPIC_DM_INIT:
                /* SDM 11.6.1: the INIT level de-assert is not supported since
                 * the Pentium 4; Linux still sends it between INIT and SIPI. */
                if (ipi->level && !ipi->assert)
                        return 0;
                break;
        default:
                return 0; /* 011b, ExtINT: never an IPI (the model sends none) */
        }

        for (size_t i = 0; i < n; i++) {
                const struct lapic *r = apics[i];
                if (!ipi_receivable(r, ipi->delivery))
                        continue;
                bool hit;
                if (i == sender)
                        hit = ipi->to_self;
                else if (!ipi->to_others)
                        hit = false;
                else if (ipi->shorthand == LAPIC_SH_NONE)
                        hit = ipi_dest_matches(apics[sender], r, ipi);
                else
                        hit = ipi->shorthand != LAPIC_SH_SELF; /* all, all but self */
                if (hit)
                        set |= BIT(i);
        }
        if (ipi->delivery != LAPIC_DM_LOWEST || !set)
                return set;

        /* SDM 11.6.2.4 leaves the arbitration to the platform (focus
         * processor, arbitration priority).  This model's choice: the
         * lowest processor priority, ties to the lowest index. */
        size_t best = 64;
        for (size_t i = 0; i < n; i++) {
                if ((set & BIT(i)) && (best == 64 || lapic_ppr(apics[i]) < lapic_ppr(apics[best])))
                        best = i;
        }
        return BIT(best);
}

/* ---- INIT and STARTUP received ---- */

void lapic_init_received(struct lapic *a)
{
        /* SDM 11.4.7.3: as after power-up, except the APIC ID register.
         * INIT leaves IA32_APIC_BASE alone, so the mode (SDM 11.12.5.1: x2APIC
         * stays x2APIC, disabled stays disabled), base and BSP flag stay. */
        uint32_t xapic_id = a->xapic_id;
        reset_registers(a);
        a->xapic_id = xapic_id;
        /* The x2APIC logical ID is a function of the x2APIC ID (SDM
         * 11.12.10.2), not a register that INIT clears. */
        if (a->mode == LAPIC_MODE_X2APIC)
                a->ldr = x2apic_ldr(a->apic_id);
}

bool lapic_init_waits_for_sipi(const struct lapic *a)
{
        /* SDM 8.4.2: after the MP protocol, an INIT makes each CPU examine
         * its BSP flag: the BSP runs the boot code again, an AP waits. */
        return !(a->apic_base & LAPIC_BASE_BSP);
}

bool lapic_sipi_accepted(const struct lapic *a, bool wait_for_sipi)
{
        /* SDM 8.4.3, 11.6.1: only a CPU in wait-for-SIPI acts on STARTUP;
         * the INIT-SIPI-SIPI sequence relies on the second SIPI being
         * dropped by a CPU the first one started.  An APIC that is
         * hardware-disabled receives nothing (SDM 11.4.3). */
        return wait_for_sipi && a->mode != LAPIC_MODE_DISABLED;
}

uint64_t lapic_sipi_start(uint8_t vector)
{
        /* SDM 8.4.4.1: vector VV starts the CPU at 000VV000H, in real mode
         * with CS = VV00H and IP = 0. */
        return (uint64_t)vector << 12;
}

/* ---- registers shared by xAPIC and x2APIC ---- */

static bool is_lvt(uint32_t off)
{
        return off >= LAPIC_REG_LVT_TMR && off <= LAPIC_REG_LVT_ERR;
}

/* Reads the register at xAPIC offset off (16-byte aligned).  64-bit only
 * for the x2APIC ICR. */
static enum reg_result read_reg(const struct lapic *a, uint32_t off, bool x2, uint64_t now,
                                uint64_t *val)
{
        *val = 0;
        if (off >= LAPIC_REG_ISR && off < LAPIC_REG_ESR) {
                uint32_t idx = (off - LAPIC_REG_ISR) >> 4;
                const uint32_t *r = idx < 8 ? a->isr : idx < 16 ? a->tmr : a->irr;
                *val = r[idx & 7];
                return REG_OK;
        }
        if (is_lvt(off)) {
                *val = a->lvt[(off - LAPIC_REG_LVT_TMR) >> 4];
                return REG_OK;
        }
        switch (off) {
        case LAPIC_REG_ID:
                *val = x2 ? a->apic_id : a->xapic_id;
                return REG_OK;
        case LAPIC_REG_VERSION:
                *val = LAPIC_VERSION_VALUE;
                return REG_OK;
        case LAPIC_REG_TPR:
                *val = a->tpr;
                return REG_OK;
        case LAPIC_REG_PPR:
                *val = lapic_ppr(a);
                return REG_OK;
        case LAPIC_REG_APR:
        case 0x0c0: /* remote read: xAPIC only, never valid on modern parts */
                return x2 ? REG_RESERVED : REG_OK;
        case LAPIC_REG_EOI:
                return REG_WRITE_ONLY;
        case LAPIC_REG_LDR:
                *val = a->ldr;
                return REG_OK;
        case LAPIC_REG_DFR:
                if (x2)
                        return REG_RESERVED; /* SDM 11.12.1.2: no DFR */
                *val = a->dfr;
                return REG_OK;
        case LAPIC_REG_SVR:
                *val = a->svr;
                return REG_OK;
        case LAPIC_REG_ESR:
                *val = a->esr;
                return REG_OK;
        case LAPIC_REG_ICR_LO:
                *val = a->icr_lo;
                if (x2)
                        *val |= (uint64_t)a->icr_hi << 32;
                return REG_OK;
        case LAPIC_REG_ICR_HI:
                if (x2)
                        return REG_RESERVED; /* SDM 11.12.9: one 64-bit ICR */
                *val = a->icr_hi;
                return REG_OK;
        case LAPIC_REG_TMR_INIT:
                *val = a->tmr_init;
                return REG_OK;
        case LAPIC_REG_TMR_CUR:
                *val = timer_current(a, now);
                return REG_OK;
        case LAPIC_REG_TMR_DIV:
                *val = a->tmr_dcr;
                return REG_OK;
        case LAPIC_REG_SELF_IPI:
                return x2 ? REG_WRITE_ONLY : REG_RESERVED;
        default:
                return REG_RESERVED;
        }
}

/* In x2APIC mode every bit outside `ok` must be zero (SDM 11.12.1.3); the
 * xAPIC just drops them. */
static bool bits_ok(bool x2, uint64_t val, uint64_t ok)
{
        return !x2 || !(val & ~ok);
}

static enum reg_result write_reg(struct lapic *a, uint32_t off, uint64_t val, bool x2, uint64_t now,
                                 struct lapic_effects *fx)
{
        uint32_t v32 = (uint32_t)val;

        if (is_lvt(off)) {
                unsigned i = (off - LAPIC_REG_LVT_TMR) >> 4;
                uint64_t ok = lvt_writable[i] | LVT_DELIVERY_STATUS;
                if (i == LVT_LINT0 || i == LVT_LINT1)
                        ok |= LVT_REMOTE_IRR;
                if (!bits_ok(x2, val, ok))
                        return REG_BAD_VALUE;
                /* Timer mode 11b is reserved (SDM Figure 11-8). */
                if (i == LVT_TIMER && x2 && ((v32 >> 17) & 3) == TIMER_MODE_RESERVED)
                        return REG_BAD_VALUE;
                v32 &= lvt_writable[i];
                /* SDM 11.4.7.2: a software-disabled APIC keeps its LVTs masked. */
                if (!sw_enabled(a))
                        v32 |= LAPIC_LVT_MASKED;
                if (i == LVT_TIMER)
                        write_lvt_timer(a, v32);
                else
                        a->lvt[i] = v32;
                return REG_OK;
        }
        if (off >= LAPIC_REG_ISR && off < LAPIC_REG_ESR)
                return REG_READ_ONLY;
        switch (off) {
        case LAPIC_REG_ID:
                if (x2)
                        return REG_READ_ONLY;
                a->xapic_id = v32 & 0xff000000;
                return REG_OK;
        case LAPIC_REG_VERSION:
        case LAPIC_REG_PPR:
        case LAPIC_REG_TMR_CUR:
                return REG_READ_ONLY;
        case LAPIC_REG_APR:
        case 0x0c0:
                return x2 ? REG_RESERVED : REG_READ_ONLY;
        case LAPIC_REG_TPR:
                if (!bits_ok(x2, val, 0xff))
                        return REG_BAD_VALUE;
                a->tpr = v32 & 0xff;
                return REG_OK;
        case LAPIC_REG_EOI: {
                /* SDM 11.12.1.2: in x2APIC mode only 0 may be written. */
                if (x2 && val)
                        return REG_BAD_VALUE;
                bool level;
                int v = lapic_eoi(a, &level);
                if (fx) {
                        fx->eoi_vector = v;
                        fx->eoi_level = level;
                }
                return REG_OK;
        }
        case LAPIC_REG_LDR:
                if (x2)
                        return REG_READ_ONLY;
                a->ldr = v32 & 0xff000000;
                return REG_OK;
        case LAPIC_REG_DFR:
                if (x2)
                        return REG_RESERVED;
                a->dfr = v32 | 0x0fffffff; /* bits 27:0 read as 1s */
                return REG_OK;
        case LAPIC_REG_SVR:
                if (!bits_ok(x2, val, SVR_WRITABLE))
                        return REG_BAD_VALUE;
                a->svr = v32 & SVR_WRITABLE;
                if (!sw_enabled(a))
                        for (int i = 0; i < LAPIC_NUM_LVT; i++)
                                a->lvt[i] |= LAPIC_LVT_MASKED;
                return REG_OK;
        case LAPIC_REG_ESR:
                if (x2 && val)
                        return REG_BAD_VALUE;
                /* SDM 11.5.3: a write latches the errors seen since the last
                 * one into the readable register and starts over. */
                a->esr = a->esr_pending;
                a->esr_pending = 0;
                return REG_OK;
        case LAPIC_REG_ICR_LO:
                if (x2) {
                        if (val & ICR_X2_RESERVED)
                                return REG_BAD_VALUE;
                        a->icr_hi = (uint32_t)(val >> 32);
                }
                a->icr_lo = v32 & ICR_LO_WRITABLE;
                send_ipi(a, a->icr_lo, x2 ? a->icr_hi : a->icr_hi >> 24, fx);
                return REG_OK;
        case LAPIC_REG_ICR_HI:
                if (x2)
                        return REG_RESERVED;
                a->icr_hi = v32 & 0xff000000;
                return REG_OK;
        case LAPIC_REG_TMR_INIT:
                if (!bits_ok(x2, val, 0xffffffff))
                        return REG_BAD_VALUE;
                write_initial_count(a, v32, now);
                return REG_OK;
        case LAPIC_REG_TMR_DIV:
                if (!bits_ok(x2, val, DCR_WRITABLE))
                        return REG_BAD_VALUE;
                write_divide(a, v32, now);
                return REG_OK;
        case LAPIC_REG_SELF_IPI:
                if (!x2)
                        return REG_RESERVED;
                if (val & ~0xffull)
                        return REG_BAD_VALUE;
                /* SDM 11.12.11: a fixed, edge-triggered IPI to this APIC. */
                send_ipi(a, (uint32_t)(val & 0xff) | (LAPIC_SH_SELF << 18), 0, fx);
                return REG_OK;
        default:
                return REG_RESERVED;
        }
}

static void effects_clear(struct lapic_effects *fx)
{
        if (fx) {
                vtv_memset(fx, 0, sizeof(*fx));
                fx->eoi_vector = -1;
        }
}

/* ---- xAPIC MMIO ---- */

uint32_t lapic_mmio_read(struct lapic *a, uint32_t offset, uint64_t now)
{
        uint64_t val;

        if (a->mode != LAPIC_MODE_XAPIC || offset >= LAPIC_MMIO_SIZE || (offset & 0xf))
                return 0;
        timer_sync(a, now);
        /* SDM 11.5.3: reserved registers set "illegal register address". */
        if (read_reg(a, offset, false, now, &val) == REG_RESERVED)
                signal_error(a, LAPIC_ESR_ILLEGAL_REGISTER);
        return (uint32_t)val;
}

void lapic_mmio_write(struct lapic *a, uint32_t offset, uint32_t val, uint64_t now,
                      struct lapic_effects *fx)
{
        effects_clear(fx);
        if (a->mode != LAPIC_MODE_XAPIC || offset >= LAPIC_MMIO_SIZE || (offset & 0xf))
                return;
        timer_sync(a, now);
        if (write_reg(a, offset, val, false, now, fx) == REG_RESERVED)
                signal_error(a, LAPIC_ESR_ILLEGAL_REGISTER);
}

/* ---- MSRs ---- */

static bool write_apic_base(struct lapic *a, uint64_t val)
{
        uint64_t reserved = 0x2ffull; /* bits 7:0 and 9 (SDM 11.12.1) */
        if (a->phys_bits < 64)
                reserved |= ~0ull << a->phys_bits;
        if (val & reserved)
                return false;

        bool en = val & LAPIC_BASE_ENABLE, extd = val & LAPIC_BASE_EXTD;
        enum lapic_mode mode = !en    ? LAPIC_MODE_DISABLED
                               : extd ? LAPIC_MODE_X2APIC
                                      : LAPIC_MODE_XAPIC;
        /* SDM 11.12.5: EXTD without EN is invalid, and x2APIC
         * mode is only entered from xAPIC mode and only left by disabling. */
        if (extd && !en)
                return false;
        if (a->mode == LAPIC_MODE_X2APIC && mode == LAPIC_MODE_XAPIC)
                return false;
        if (a->mode == LAPIC_MODE_DISABLED && mode == LAPIC_MODE_X2APIC)
                return false;

        if (mode == LAPIC_MODE_DISABLED && a->mode != LAPIC_MODE_DISABLED)
                reset_registers(a);
        /* SDM 11.12.10.2: the logical ID becomes a function of the x2APIC ID. */
        if (mode == LAPIC_MODE_X2APIC && a->mode == LAPIC_MODE_XAPIC)
                a->ldr = x2apic_ldr(a->apic_id);
        a->mode = mode;
        /* The BSP flag is the processor's, not software's. */
        a->apic_base = (val & ~(uint64_t)LAPIC_BASE_BSP) | (a->apic_base & LAPIC_BASE_BSP);
        return true;
}

bool lapic_msr_read(struct lapic *a, uint32_t msr, uint64_t *val, uint64_t now)
{
        *val = 0;
        if (msr == MSR_LAPIC_APIC_BASE) {
                *val = a->apic_base;
                return true;
        }
        timer_sync(a, now);
        if (msr == MSR_LAPIC_TSC_DEADLINE) {
                /* SDM 11.5.4.1: reads 0 outside TSC-deadline mode. */
                if (a->mode != LAPIC_MODE_DISABLED && timer_mode(a) == TIMER_MODE_TSCDEADLINE)
                        *val = a->tsc_deadline;
                return true;
        }
        if (msr < MSR_LAPIC_X2APIC_FIRST || msr > MSR_LAPIC_X2APIC_LAST ||
            a->mode != LAPIC_MODE_X2APIC)
                return false;
        return read_reg(a, (msr - MSR_LAPIC_X2APIC_FIRST) << 4, true, now, val) == REG_OK;
}

bool lapic_msr_write(struct lapic *a, uint32_t msr, uint64_t val, uint64_t now,
                     struct lapic_effects *fx)
{
        effects_clear(fx);
        timer_sync(a, now);
        if (msr == MSR_LAPIC_APIC_BASE)
                return write_apic_base(a, val);
        if (msr == MSR_LAPIC_TSC_DEADLINE) {
                /* SDM 11.5.4.1: ignored outside TSC-deadline mode; 0 disarms;
                 * a deadline already past fires at once. */
                if (a->mode != LAPIC_MODE_DISABLED && timer_mode(a) == TIMER_MODE_TSCDEADLINE) {
                        a->tsc_deadline = val;
                        timer_sync(a, now);
                }
                return true;
        }
        if (msr < MSR_LAPIC_X2APIC_FIRST || msr > MSR_LAPIC_X2APIC_LAST ||
            a->mode != LAPIC_MODE_X2APIC)
                return false;
        return write_reg(a, (msr - MSR_LAPIC_X2APIC_FIRST) << 4, val, true, now, fx) == REG_OK;
}

/* ---- the virtual-APIC page (VMX APIC virtualization, SDM 29.1, 29.4) ---- */

#define VWORD(off) ((off) / 4)

/* The registers a CPU with APIC-register virtualization reads from the
 * virtual-APIC page without an exit (SDM 29.4.2), apart from ISR, TMR and
 * IRR, which lapic_vapic_export writes: bit (offset >> 4). */
#define VAPIC_REGS                                                                                 \
        (BIT(LAPIC_REG_ID >> 4) | BIT(LAPIC_REG_VERSION >> 4) | BIT(LAPIC_REG_TPR >> 4) |          \
         BIT(LAPIC_REG_EOI >> 4) | BIT(LAPIC_REG_LDR >> 4) | BIT(LAPIC_REG_DFR >> 4) |             \
         BIT(LAPIC_REG_SVR >> 4) | BIT(LAPIC_REG_ESR >> 4) | BIT(LAPIC_REG_ICR_LO >> 4) |          \
         BIT(LAPIC_REG_ICR_HI >> 4) | BIT(LAPIC_REG_LVT_TMR >> 4) | BIT(LAPIC_REG_LVT_THM >> 4) |  \
         BIT(LAPIC_REG_LVT_PERF >> 4) | BIT(LAPIC_REG_LVT_LINT0 >> 4) |                            \
         BIT(LAPIC_REG_LVT_LINT1 >> 4) | BIT(LAPIC_REG_LVT_ERR >> 4) |                             \
         BIT(LAPIC_REG_TMR_INIT >> 4) | BIT(LAPIC_REG_TMR_DIV >> 4))

void lapic_vapic_export(const struct lapic *a, uint32_t *page)
{
#pragma GCC unroll 8
        for (unsigned i = 0; i < 8; i++) {
                page[VWORD(LAPIC_REG_IRR) + 4 * i] = a->irr[i];
                page[VWORD(LAPIC_REG_ISR) + 4 * i] = a->isr[i];
                page[VWORD(LAPIC_REG_TMR) + 4 * i] = a->tmr[i];
        }
        page[VWORD(LAPIC_REG_TPR)] = a->tpr;
}

bool lapic_vapic_export_reg(const struct lapic *a, uint32_t *page, uint32_t offset)
{
        if (offset >= 0x400 || (offset & 0xf) || !(VAPIC_REGS & BIT(offset >> 4)))
                return false;
        uint64_t val = 0;
        /* What an xAPIC-mode read returns (EOI reads 0); outside xAPIC mode
         * the page is only used for interrupt delivery. */
        if (a->mode == LAPIC_MODE_XAPIC)
                read_reg(a, offset, false, 0, &val);
        page[VWORD(offset)] = (uint32_t)val;
        return true;
}

void lapic_vapic_export_all(const struct lapic *a, uint32_t *page)
{
        for (uint32_t off = 0; off < 0x400; off += 0x10)
                lapic_vapic_export_reg(a, page, off);
        lapic_vapic_export(a, page);
}

unsigned lapic_vapic_import(struct lapic *a, const uint32_t *page, const uint32_t fresh[8])
{
        unsigned delivered = 0;
#pragma GCC unroll 8
        for (unsigned i = 0; i < 8; i++) {
                uint32_t pirr = page[VWORD(LAPIC_REG_IRR) + 4 * i], old = a->irr[i];
                uint32_t gone = old & ~fresh[i] & ~pirr;
                if (__builtin_expect(gone != 0, 0))
                        for (; gone; gone &= gone - 1)
                                delivered++;
                a->irr[i] = pirr | (old & fresh[i]);
                a->isr[i] = page[VWORD(LAPIC_REG_ISR) + 4 * i];
        }
        a->tpr = page[VWORD(LAPIC_REG_TPR)] & 0xff;
        return delivered;
}

int lapic_highest_in_service(const struct lapic *a)
{
        return vec_highest(a->isr);
}

int lapic_timer_vector(const struct lapic *a)
{
        uint32_t lvt = a->lvt[LVT_TIMER];
        return (lvt & LAPIC_LVT_MASKED) ? -1 : (int)(lvt & LAPIC_LVT_VECTOR);
}

enum lapic_lint_action lapic_lint_asserted(struct lapic *a, unsigned pin, uint8_t *vector)
{
        *vector = 0;
        if (pin > 1 || a->mode == LAPIC_MODE_DISABLED)
                return LAPIC_LINT_NONE;
        uint32_t lvt = a->lvt[pin ? LVT_LINT1 : LVT_LINT0];
        if (lvt & LAPIC_LVT_MASKED)
                return LAPIC_LINT_NONE;
        switch ((lvt & LAPIC_LVT_DELIVERY_MASK) >> 8) {
        case LAPIC_DM_FIXED:
                /* Vectors 0-15: ESR "received illegal vector" (lapic_accept). */
                *vector = lvt & LAPIC_LVT_VECTOR;
                lapic_accept(a, *vector, false);
                return *vector >= 16 ? LAPIC_LINT_FIXED : LAPIC_LINT_NONE;
        case LAPIC_DM_NMI:
                return LAPIC_LINT_NMI;
        default:
                return LAPIC_LINT_NONE;
        }
}
