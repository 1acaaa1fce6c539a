/* A guest's local APIC (Intel SDM vol. 3A chapter 11): xAPIC registers in a
 * 4 KiB MMIO page, x2APIC registers as MSRs 0x800-0x8ff, IA32_APIC_BASE and
 * IA32_TSC_DEADLINE, and the timer in one-shot, periodic and TSC-deadline
 * modes.  Pure device model: no VMX, no globals, no I/O.  The caller wires it
 * to VM exits, injects what lapic_highest_pending() offers and arms the VMX
 * preemption timer for lapic_timer_deadline().
 *
 * Time is the guest's TSC, passed into every call that can observe it.  The
 * timer counts bus-clock ticks divided by the divide configuration; TSC and
 * bus ticks are converted exactly with 128-bit intermediates, so even a full
 * 32-bit count at divide-by-128 cannot overflow.
 *
 * What is modelled (Linux 6.1 relies on all of it):
 *   - version 0x14, max LVT entry 5: timer, thermal, performance counter,
 *     LINT0, LINT1 and error LVTs (no CMCI LVT, no directed EOI).  Thermal,
 *     performance, LINT0 and LINT1 are stored registers with no source.
 *   - IRR/ISR/TMR, TPR, PPR, EOI, LDR, DFR, SVR, ESR (with the error
 *     interrupt), ICR and the x2APIC SELF IPI register.
 *   - delivery is instant, so delivery-status bits always read 0: for the
 *     ICR this is a promise the caller keeps (see LAPIC_ICR_DELIVERY_STATUS).
 *   - the reserved timer mode 11b is #GP in x2APIC mode; in xAPIC mode it
 *     is stored and the timer does not run.
 *   - a timer expiry that happened while nobody called in is processed on
 *     the next call that passes `now`, so reads of the current count and of
 *     IA32_TSC_DEADLINE are always consistent with the guest's TSC.
 *
 * Register writes can have effects outside this APIC: an EOI the I/O APIC
 * must hear about, or an IPI for other (or, for NMI/INIT/SIPI/SMI, this)
 * vCPUs.  They come back in struct lapic_effects; lapic_ipi_targets() says
 * which of a VM's APICs an IPI reaches, and lapic_init_received() and
 * lapic_sipi_accepted() are the receiving side of INIT and STARTUP.
 *
 * After every call into the model the caller should re-read
 * lapic_timer_deadline() and lapic_highest_pending(): any register access can
 * arm, move or fire the timer, and raise interrupts. */
#ifndef VTV_DEVICES_LAPIC_H
#define VTV_DEVICES_LAPIC_H

#include "lib/types.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define LAPIC_MMIO_SIZE    0x1000

#define MSR_LAPIC_APIC_BASE    0x01b
#define MSR_LAPIC_TSC_DEADLINE 0x6e0
#define MSR_LAPIC_X2APIC_FIRST 0x800
#define MSR_LAPIC_X2APIC_LAST  0x8ff

/* IA32_APIC_BASE bits (SDM 11.4.4, 11.12.1). */
#define LAPIC_BASE_BSP    BIT(8)
#define LAPIC_BASE_EXTD   BIT(10) /* x2APIC mode */
#define LAPIC_BASE_ENABLE BIT(11)

/* xAPIC register offsets in the MMIO page (SDM Table 11-1).  The x2APIC MSR
 * for a register is 0x800 + offset / 16 (SDM Table 11-6). */
#define LAPIC_REG_ID        0x020
#define LAPIC_REG_VERSION   0x030
#define LAPIC_REG_TPR       0x080
#define LAPIC_REG_APR       0x090
#define LAPIC_REG_PPR       0x0a0
#define LAPIC_REG_EOI       0x0b0
#define LAPIC_REG_LDR       0x0d0
#define LAPIC_REG_DFR       0x0e0
#define LAPIC_REG_SVR       0x0f0
#define LAPIC_REG_ISR       0x100 /* 8 registers, 0x10 apart */
#define LAPIC_REG_TMR       0x180
#define LAPIC_REG_IRR       0x200
#define LAPIC_REG_ESR       0x280
#define LAPIC_REG_ICR_LO    0x300
#define LAPIC_REG_ICR_HI    0x310
#define LAPIC_REG_LVT_TMR   0x320
#define LAPIC_REG_LVT_THM   0x330
#define LAPIC_REG_LVT_PERF  0x340
#define LAPIC_REG_LVT_LINT0 0x350
#define LAPIC_REG_LVT_LINT1 0x360
#define LAPIC_REG_LVT_ERR   0x370
#define LAPIC_REG_TMR_INIT  0x380
#define LAPIC_REG_TMR_CUR   0x390
#define LAPIC_REG_TMR_DIV   0x3e0
#define LAPIC_REG_SELF_IPI  0x3f0 /* x2APIC only */

#define LAPIC_VERSION_VALUE 0x00050014u /* max LVT entry 5, version 0x14 */

/* LVT bits (SDM Figure 11-8). */
#define LAPIC_LVT_VECTOR            0xffu
#define LAPIC_LVT_DELIVERY_MASK     (7u << 8)
#define LAPIC_LVT_PENDING           BIT(12)
#define LAPIC_LVT_MASKED            BIT(16)
#define LAPIC_LVT_TIMER_ONESHOT     (0u << 17)
#define LAPIC_LVT_TIMER_PERIODIC    (1u << 17)
#define LAPIC_LVT_TIMER_TSCDEADLINE (2u << 17)
#define LAPIC_LVT_TIMER_MODE_MASK   (3u << 17)

#define LAPIC_SVR_ENABLE BIT(8)

/* ESR bits (SDM Figure 11-9). */
#define LAPIC_ESR_SEND_ILLEGAL_VECTOR BIT(5)
#define LAPIC_ESR_RECV_ILLEGAL_VECTOR BIT(6)
#define LAPIC_ESR_ILLEGAL_REGISTER    BIT(7)

/* ICR delivery modes (bits 10:8) and destination shorthands (bits 19:18),
 * SDM Figure 11-12. */
#define LAPIC_DM_FIXED        0
#define LAPIC_DM_LOWEST       1
#define LAPIC_DM_SMI          2
#define LAPIC_DM_NMI          4
#define LAPIC_DM_INIT         5
#define LAPIC_DM_STARTUP      6
#define LAPIC_DM_EXTINT       7 /* LVT and I/O APIC only, never an IPI */
#define LAPIC_SH_NONE         0
#define LAPIC_SH_SELF         1
#define LAPIC_SH_ALL          2
#define LAPIC_SH_ALL_BUT_SELF 3

/* ICR delivery status (bit 12, xAPIC only; SDM 11.6.1, 11.12.9).  It always
 * reads 0 (idle): the model's IPIs are delivered instantly, and the caller
 * must keep that true by handing an IPI to every target lapic_ipi_targets()
 * names (IRR for fixed and lowest priority, a pending NMI/INIT/SIPI/SMI for
 * the rest) before the sending vCPU runs again.  A message counts as
 * delivered once the target's APIC holds it, as on hardware, even if that
 * vCPU has not run yet, so a guest polling the bit (Linux's
 * safe_apic_wait_icr_idle(), the SDM's INIT-SIPI-SIPI sequence) never spins.
 * Writes of the bit are ignored, also in x2APIC mode where it is reserved. */
#define LAPIC_ICR_DELIVERY_STATUS BIT(12)

#define LAPIC_NUM_LVT 6

enum lapic_mode { LAPIC_MODE_DISABLED, LAPIC_MODE_XAPIC, LAPIC_MODE_X2APIC };

/* An interprocessor interrupt the model cannot finish by itself. */
struct lapic_ipi {
        uint32_t dest;     /* destination field: 8 bits in xAPIC mode, 32 in x2APIC */
        uint8_t vector;    /* also the start page for STARTUP */
        uint8_t delivery;  /* LAPIC_DM_* */
        uint8_t shorthand; /* LAPIC_SH_*, as written */
        bool logical;      /* destination mode */
        bool level;        /* trigger mode: level */
        /* Level bit as written.  Only INIT looks at it: INIT with level
         * trigger and assert clear is the INIT level de-assert, which
         * processors since the Pentium 4 ignore (SDM 11.6.1). */
        bool assert;
        /* The sender is among the destinations and the model did not
         * deliver to it itself: NMI, INIT, STARTUP and SMI, which it cannot
         * accept, and a lowest-priority IPI that may also reach other APICs,
         * for which the sender is one candidate of the arbitration
         * (lapic_ipi_targets).  Fixed IPIs to this APIC, and lowest-priority
         * ones that can only reach this APIC, were already accepted into its
         * IRR and leave this false. */
        bool to_self;
        /* Deliver to every OTHER vCPU the shorthand names or, without a
         * shorthand, whose APIC lapic_matches_dest(dest, logical).  The
         * sender itself never counts here. */
        bool to_others;
};

/* Effects of one register write on the rest of the machine. */
struct lapic_effects {
        int eoi_vector; /* vector an EOI write retired, or -1 */
        bool eoi_level; /* it was level-triggered: call ioapic_eoi() */
        bool has_ipi;
        struct lapic_ipi ipi;
};

struct lapic {
        enum lapic_mode mode;
        uint32_t apic_id; /* initial APIC ID; the x2APIC ID */
        uint64_t apic_base;
        unsigned phys_bits; /* MAXPHYADDR for IA32_APIC_BASE checks; default 52 */
        uint64_t tsc_hz, bus_hz;

        uint32_t xapic_id; /* xAPIC ID register, ID in bits 31:24 */
        uint32_t irr[8], isr[8], tmr[8];
        uint32_t tpr, svr, ldr, dfr;
        uint32_t esr;                /* what ESR reads */
        uint32_t esr_pending;        /* errors seen since the last ESR write */
        uint32_t lvt[LAPIC_NUM_LVT]; /* timer, thermal, perf, LINT0, LINT1, error */
        uint32_t icr_lo, icr_hi;     /* icr_hi: x2APIC destination, or xAPIC's bits 31:24 */

        /* Timer.  In one-shot and periodic mode, when armed, it has counted
         * timer_ticks(now) = (now - tmr_origin) * bus_hz / (tsc_hz * divide)
         * ticks since tmr_origin and next reaches 0 at tick tmr_next; periodic
         * mode then moves tmr_next on by tmr_init, so no rounding accumulates. */
        uint32_t tmr_init, tmr_dcr;
        bool tmr_armed;
        uint64_t tmr_origin;
        uint64_t tmr_next;
        uint64_t tmr_next_tsc; /* TSC at which tmr_next is reached */
        uint64_t tsc_deadline; /* IA32_TSC_DEADLINE; 0 = disarmed */
        /* Timer interrupts raised into IRR so far: a caller compares it
         * across a call to learn whether the timer fired. */
        uint32_t timer_irqs;
};

/* State after power-up RESET (SDM 11.4.7.1): xAPIC mode at 0xfee00000, BSP
 * flag from bsp, SVR 0xff (software-disabled), every LVT masked.  tsc_hz and
 * bus_hz (the timer's input clock) must be non-zero. */
void lapic_init(struct lapic *a, uint32_t apic_id, bool bsp, uint64_t tsc_hz, uint64_t bus_hz);

/* The xAPIC register page: offset within it, aligned 32-bit accesses.  Only
 * meaningful in xAPIC mode (lapic_mmio_enabled); otherwise reads return 0
 * and writes are ignored.  Reserved offsets read 0, ignore writes and set
 * ESR "illegal register address"; read-only registers ignore writes.
 * fx may be NULL when the caller does not care about effects. */
uint32_t lapic_mmio_read(struct lapic *a, uint32_t offset, uint64_t now);
void lapic_mmio_write(struct lapic *a, uint32_t offset, uint32_t val, uint64_t now,
                      struct lapic_effects *fx);

/* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC MSRs.  Returns false
 * when the guest must get #GP(0) (SDM 11.12.1.2, 11.12.1.3, 11.12.5):
 * x2APIC MSRs outside x2APIC mode, reserved MSRs, RDMSR of EOI or SELF IPI,
 * WRMSR of read-only registers, non-zero writes to EOI or ESR, reserved bits,
 * invalid IA32_APIC_BASE transitions.  Returns true, with *val set for reads,
 * for MSRs it handles; any other MSR number also returns false, so the
 * caller should only route these three ranges here. */
bool lapic_msr_read(struct lapic *a, uint32_t msr, uint64_t *val, uint64_t now);
bool lapic_msr_write(struct lapic *a, uint32_t msr, uint64_t val, uint64_t now,
                     struct lapic_effects *fx);
/* True for the MSRs lapic_msr_read/write own. */
bool lapic_owns_msr(uint32_t msr);

bool lapic_is_x2apic(const struct lapic *a);
bool lapic_mmio_enabled(const struct lapic *a);     /* xAPIC mode: trap the page */
uint64_t lapic_base_address(const struct lapic *a); /* page-aligned GPA */

/* TPR for CR8 accesses (CR8 = TPR[7:4], SDM 11.8.6.1). */
uint8_t lapic_get_tpr(const struct lapic *a);
void lapic_set_tpr(struct lapic *a, uint8_t tpr);

/* Timer.  The TSC value at which the timer next raises an interrupt, or
 * UINT64_MAX when it is disarmed, its LVT is masked or the APIC is disabled.
 * A masked timer still counts: its expiries are computed on the next access,
 * so no exit is needed for them. */
uint64_t lapic_timer_deadline(const struct lapic *a);
/* Brings the timer up to now: if a deadline has passed, sets the timer vector
 * in IRR (unless masked), re-arms a periodic timer from its previous deadline
 * (several missed periods raise one interrupt, as the IRR holds one), and
 * disarms a one-shot or TSC-deadline timer (IA32_TSC_DEADLINE then reads 0).
 * Call it when the VMX preemption timer fires; harmless at any time. */
void lapic_timer_expire(struct lapic *a, uint64_t now);

/* Interrupts. */
/* Accepts a fixed interrupt from the I/O APIC or an IPI into IRR, with TMR
 * recording the trigger mode.  Vectors 0-15 set ESR "received illegal
 * vector" and are dropped; so is everything while the APIC is disabled
 * (hardware or software, SDM 11.4.7.2). */
void lapic_accept(struct lapic *a, uint8_t vector, bool level);
/* The vector to inject, or -1: the highest IRR vector whose priority class
 * is above PPR's (SDM 11.8.3.1).  A software-disabled APIC still offers
 * what its IRR already holds (SDM 11.4.7.2); a hardware-disabled one
 * offers nothing. */
int lapic_highest_pending(const struct lapic *a);
/* The highest vector in IRR whatever the priorities, or -1 (none, or the
 * APIC is hardware-disabled). */
int lapic_highest_requested(const struct lapic *a);
/* The vector was injected (the processor's INTA): IRR -> ISR. */
void lapic_start_service(struct lapic *a, uint8_t vector);
/* Retires the highest ISR vector, as a write to EOI does.  Returns it, or -1
 * when ISR is empty; *level (may be NULL) says whether it was level-
 * triggered, i.e. whether the I/O APIC must see the EOI. */
int lapic_eoi(struct lapic *a, bool *level);
/* The processor-priority register's value (SDM 11.8.3.1). */
uint8_t lapic_ppr(const struct lapic *a);

/* Whether an interrupt message for dest (destination mode logical or not)
 * addresses this APIC (SDM 11.6.2): physical ID or broadcast (0xff in
 * xAPIC mode, 0xffffffff in x2APIC mode); logical flat/cluster by LDR and
 * DFR, x2APIC cluster by the derived LDR.  An I/O APIC message carries an
 * 8-bit destination: in x2APIC mode the caller should widen 0xff to
 * 0xffffffff first. */
bool lapic_matches_dest(const struct lapic *a, uint32_t dest, bool logical);

/* Which of the n APICs apics[0..n-1] (index = vCPU number, n <= 64) an
 * IPI that apics[sender] sent reaches, as a bit mask (bit i = apics[i]).
 * ipi is what the sender's lapic_effects carried; call this right after
 * the write, before the sender's mode can change.
 *
 * Destinations (SDM 11.6.1, 11.6.2): the shorthands self, all including
 * self and all excluding self; otherwise lapic_matches_dest() of each
 * APIC: physical ID, logical flat or cluster (xAPIC), x2APIC cluster, and
 * the broadcasts 0xff (xAPIC) and 0xffffffff (x2APIC).  While a guest
 * moves its CPUs to x2APIC one at a time (Linux starts the APs in xAPIC
 * mode from an x2APIC BSP), a sender and a receiver in different modes
 * share only physical IDs up to 0xfe and the broadcast, which is widened
 * or narrowed to the receiver's format; logical destinations do not cross.
 *
 * Who receives (SDM 11.4.7.2, 11.4.3): a hardware-disabled APIC nothing;
 * a software-disabled one only NMI, INIT, STARTUP and SMI.
 *
 * The sender's own bit follows ipi->to_self: fixed IPIs (and lowest-
 * priority ones that could only reach the sender) are already in the
 * sender's IRR and never appear; NMI, INIT, STARTUP and SMI to self do.
 *
 * Lowest priority (SDM 11.6.2.4): exactly one target among the APICs that
 * match and can receive, the sender included when ipi->to_self: the one
 * with the lowest processor priority (lapic_ppr, the full 8 bits), ties
 * to the lowest index.  The SDM leaves this arbitration to the platform
 * (focus processor, APR); lowest PPR, then lowest index, is this model's
 * choice.  0 when no APIC qualifies.
 *
 * An INIT level de-assert (level trigger, assert clear) reaches nobody:
 * processors since the Pentium 4 ignore it (SDM 11.6.1).  Reserved
 * delivery modes, sender >= n and NULL entries give or count as nothing. */
uint64_t lapic_ipi_targets(const struct lapic_ipi *ipi, const struct lapic *const *apics, size_t n,
                           size_t sender);

/* The receiving side of INIT and STARTUP (SDM 8.4.2, 11.4.7.3).  The
 * vCPU's run state (running or waiting for SIPI) is the caller's; these
 * say what the APIC part of a CPU does. */

/* An INIT reached this APIC: its registers return to the power-up state
 * (SDM 11.4.7.3, the "wait-for-SIPI" state) except the APIC ID register,
 * which keeps what it holds.  IA32_APIC_BASE is untouched, so the APIC
 * stays in its mode, xAPIC, x2APIC (with the logical ID that follows from
 * the x2APIC ID) or disabled, at its base address (SDM 11.12.5.1).  The
 * timer stops and IA32_TSC_DEADLINE reads 0; SVR is 0xff, so the APIC is
 * software-disabled until the guest enables it again. */
void lapic_init_received(struct lapic *a);
/* After an INIT, whether the CPU waits for a STARTUP (an AP) or starts
 * over at the reset vector (the BSP): each CPU decides by its BSP flag in
 * IA32_APIC_BASE (SDM 8.4.2). */
bool lapic_init_waits_for_sipi(const struct lapic *a);
/* Whether a STARTUP IPI that reached this APIC starts its CPU: only in the
 * wait-for-SIPI state (the caller's wait_for_sipi); in any other state,
 * e.g. the second SIPI of the INIT-SIPI-SIPI sequence once the first has
 * started the CPU, it is ignored (SDM 8.4.3, 11.6.1). */
bool lapic_sipi_accepted(const struct lapic *a, bool wait_for_sipi);
/* Where a CPU started by STARTUP with this vector begins: real mode,
 * CS selector vector << 8, CS base vector << 12 (the returned address),
 * IP 0 (SDM 8.4.4.1, 11.6.1). */
uint64_t lapic_sipi_start(uint8_t vector);

/* The virtual-APIC page of VMX APIC virtualization (SDM 29.1, 29.4), as an
 * array of 1024 32-bit words, register at offset X in word X / 4.  While a
 * CPU delivers this APIC's interrupts itself (virtual-interrupt delivery),
 * the page's IRR, ISR and TPR are the live ones and the model's are not;
 * the caller moves them across with these. */
/* IRR, ISR, TMR and TPR into the page. */
void lapic_vapic_export(const struct lapic *a, uint32_t *page);
/* Also every other register the CPU reads from the page without an exit
 * (ID, version, EOI, LDR, DFR, SVR, ESR, ICR, LVTs, initial count, divide
 * configuration: SDM 29.4.2), as an xAPIC read returns it. */
void lapic_vapic_export_all(const struct lapic *a, uint32_t *page);
/* One of those registers; false (nothing written) for any other offset. */
bool lapic_vapic_export_reg(const struct lapic *a, uint32_t *page, uint32_t offset);
/* Back from the page: ISR and TPR as the CPU left them; IRR as the CPU left
 * it plus the vectors in fresh (accepted into the model's IRR after the
 * last export, which the CPU never saw).  Returns how many of the exported
 * IRR vectors the CPU delivered. */
unsigned lapic_vapic_import(struct lapic *a, const uint32_t *page, const uint32_t fresh[8]);
/* A LINT pin (0 or 1) asserted, edge-triggered, e.g. LINT1 by a PC's NMI
 * button: what its LVT entry says happens (SDM 11.5.1).  A fixed delivery
 * mode puts the vector (also in *vector) into IRR here (as lapic_accept); NMI is the
 * caller's to deliver; a masked entry, a disabled APIC (hardware or, for
 * all but NMI, software: SDM 11.4.7.2), and ExtINT, SMI and INIT (no 8259,
 * no SMM, no INIT from a pin on this platform) do nothing. */
enum lapic_lint_action { LAPIC_LINT_NONE, LAPIC_LINT_FIXED, LAPIC_LINT_NMI };
enum lapic_lint_action lapic_lint_asserted(struct lapic *a, unsigned pin, uint8_t *vector);
/* The timer's vector, or -1 when its LVT is masked. */
int lapic_timer_vector(const struct lapic *a);
/* The highest vector in ISR, or -1. */
int lapic_highest_in_service(const struct lapic *a);

/* Conversions between the timer's counting ticks (bus ticks / divide) and
 * TSC ticks, rounding down, saturating at UINT64_MAX, exact for any 64-bit
 * inputs.  divide is 1, 2, ..., 128. */
uint64_t lapic_timer_ticks_to_tsc(const struct lapic *a, uint64_t ticks, unsigned divide);
uint64_t lapic_tsc_to_timer_ticks(const struct lapic *a, uint64_t tsc, unsigned divide);
/* floor(x * y / z) without overflow, UINT64_MAX if the quotient does not fit;
 * *rem (may be NULL) gets the remainder.  z must be non-zero. */
uint64_t lapic_muldiv64(uint64_t x, uint64_t y, uint64_t z, uint64_t *rem);
/* The divisor encoded by a divide configuration register value (SDM
 * 11.5.4): bits 3 and 1:0 = 000 -> 2, ..., 110 -> 128, 111 -> 1. */
unsigned lapic_divide_value(uint32_t dcr);

#endif
