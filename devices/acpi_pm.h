/* ACPI fixed hardware (ACPI 6.4 4.8): the PM1a event block, the PM1a
 * control block and the PM timer, at the ports devices/acpi.h declares in
 * the FADT.  Pure: no I/O, no VMX, no globals.
 *
 *   ACPI_PM1A_EVT_PORT     PM1_STS (write 1 to clear), 16-bit
 *   ACPI_PM1A_EVT_PORT+2   PM1_EN, 16-bit, keeps what is written
 *   ACPI_PM1A_CNT_PORT     PM1_CNT, 16-bit: SCI_EN reads 1 (the FADT's
 *                          SMI_CMD is 0: always in ACPI mode, ACPI 6.4
 *                          4.8.3.2.1 and table 5.9); SLP_TYP is stored;
 *                          a write with SLP_EN set asks for a sleep state
 *   ACPI_PM_TMR_PORT       PM_TMR, 24-bit (the FADT's TMR_VAL_EXT is 0),
 *                          3.579545 MHz, computed from the caller's TSC
 *
 * Accesses of any width go byte by byte, so a dword read of the event
 * block returns PM1_EN:PM1_STS and a byte write to the control block's
 * high byte carries SLP_TYP and SLP_EN together.  Nothing here raises the
 * SCI: no status bit is ever set except TMR_STS, and Linux never enables
 * TMR_EN; the enables are only stored (ACPICA reads them back). */
#ifndef VTV_DEVICES_ACPI_PM_H
#define VTV_DEVICES_ACPI_PM_H

#include "devices/acpi.h"
#include "lib/types.h"

#define ACPI_PM1_STS_PORT ACPI_PM1A_EVT_PORT
#define ACPI_PM1_EN_PORT  (ACPI_PM1A_EVT_PORT + ACPI_PM1_EVT_LEN / 2)

/* PM1 status and enable bits (ACPI 6.4, "PM1 Status Registers" and "PM1
 * Enable Registers"). */
#define ACPI_PM1_TMR_STS    BIT(0)
#define ACPI_PM1_BM_STS     BIT(4)
#define ACPI_PM1_GBL_STS    BIT(5)
#define ACPI_PM1_PWRBTN_STS BIT(8)
#define ACPI_PM1_SLPBTN_STS BIT(9)
#define ACPI_PM1_RTC_STS    BIT(10)
#define ACPI_PM1_PCIEXP_STS BIT(14)
#define ACPI_PM1_WAK_STS    BIT(15)
#define ACPI_PM1_TMR_EN     BIT(0)
#define ACPI_PM1_GBL_EN     BIT(5)
#define ACPI_PM1_PWRBTN_EN  BIT(8)
#define ACPI_PM1_SLPBTN_EN  BIT(9)
#define ACPI_PM1_RTC_EN     BIT(10)
#define ACPI_PM1_PCIEXP_DIS BIT(14)
#define ACPI_PM1_EN_BITS                                                                           \
        (ACPI_PM1_TMR_EN | ACPI_PM1_GBL_EN | ACPI_PM1_PWRBTN_EN | ACPI_PM1_SLPBTN_EN |             \
         ACPI_PM1_RTC_EN | ACPI_PM1_PCIEXP_DIS)
/* PM1 control bits beyond those in devices/acpi.h ("PM1 Control
 * Registers"). */
#define ACPI_PM1_CNT_BM_RLD  BIT(1)
#define ACPI_PM1_CNT_GBL_RLS BIT(2)

#define ACPI_PM_TMR_BITS 24

/* The caller's TSC frequency must stay below this so that the tick
 * arithmetic fits 64 bits; acpi_pm_init clamps to [1, this). */
#define ACPI_PM_TSC_HZ_MAX (UINT64_MAX / ACPI_PM_TMR_HZ)

struct acpi_pm {
        uint16_t sts;           /* PM1_STS bits other than TMR_STS (none are set yet) */
        uint16_t en;            /* PM1_EN */
        uint16_t cnt;           /* PM1_CNT: BM_RLD and SLP_TYP as written */
        uint64_t tsc_hz;        /* the frequency of the TSC values passed in */
        uint64_t tmr_sts_ticks; /* PM timer ticks when TMR_STS was last cleared */
};

/* What a write asked of the platform; the caller acts on it after the
 * access.  sleep: SLP_EN was written; slp_typ: the SLP_TYP that came with
 * it.  The DSDT's \_S5 names ACPI_SLP_TYP_S5 (power off); it declares no
 * other sleep state, so other values come only from a confused guest. */
struct acpi_pm_event {
        bool sleep;
        uint8_t slp_typ;
};

void acpi_pm_init(struct acpi_pm *pm, uint64_t tsc_hz);

/* True for ports in the PM1a event block, the PM1a control block and the
 * PM timer (any width). */
bool acpi_pm_claims(uint16_t port);

/* tsc: the guest's TSC now (the PM timer and TMR_STS derive from it). */
uint32_t acpi_pm_in(struct acpi_pm *pm, uint16_t port, unsigned size, uint64_t tsc);
/* ev is always written: cleared, then set when the write asks for sleep. */
void acpi_pm_out(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t value, uint64_t tsc,
                 struct acpi_pm_event *ev);

/* PM timer ticks since TSC 0, not wrapped to 24 bits: floor(tsc * 3579545
 * / tsc_hz) with no intermediate overflow.  The count itself wraps modulo
 * 2^64 only after 2^64 ticks (163,000 years), which the 24-bit register
 * cannot notice. */
uint64_t acpi_pm_ticks(const struct acpi_pm *pm, uint64_t tsc);

#endif
