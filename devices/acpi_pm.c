#include "devices/acpi_pm.h"
#include "lib/string.h"

/* PM1_CNT bits that hold what is written.  GBL_RLS (bit 2) is write-only
 * and would raise an SMI to firmware, of which there is none; SLP_EN is
 * write-only and reads 0 (ACPI 6.4, "PM1 Control Registers"). */
#define CNT_STORED (ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP_MASK)
#define TMR_MASK   ((1u << ACPI_PM_TMR_BITS) - 1)

void acpi_pm_init(struct acpi_pm *pm, uint64_t tsc_hz)
{
        vtv_memset(pm, 0, sizeof(*pm));
        if (tsc_hz < 1)
                tsc_hz = 1;
        if (tsc_hz >= ACPI_PM_TSC_HZ_MAX)
                tsc_hz = ACPI_PM_TSC_HZ_MAX - 1;
        pm->tsc_hz = tsc_hz;
}

bool acpi_pm_claims(uint16_t port)
{
        return (port >= ACPI_PM1A_EVT_PORT && port < ACPI_PM1A_EVT_PORT + ACPI_PM1_EVT_LEN) ||
               (port >= ACPI_PM1A_CNT_PORT && port < ACPI_PM1A_CNT_PORT + ACPI_PM1_CNT_LEN) ||
               (port >= ACPI_PM_TMR_PORT && port < ACPI_PM_TMR_PORT + ACPI_PM_TMR_LEN);
}

uint64_t acpi_pm_ticks(const struct acpi_pm *pm, uint64_t tsc)
{
        /* tsc = q * hz + r with r < hz, so tsc * F / hz = q * F + r * F /
         * hz exactly; r * F < hz * F fits because hz < 2^64 / F. */
        uint64_t q = tsc / pm->tsc_hz, r = tsc % pm->tsc_hz;
        return q * ACPI_PM_TMR_HZ + r * ACPI_PM_TMR_HZ / pm->tsc_hz;
}

/* TMR_STS is set whenever bit 23 of the 24-bit counter changes (ACPI 6.4,
 * "PM1 Status Registers", TMR_STS), i.e. whenever the tick count crosses a multiple of 2^23
 * since the flag was last cleared. */
static bool tmr_sts(const struct acpi_pm *pm, uint64_t tsc)
{
        return acpi_pm_ticks(pm, tsc) >> (ACPI_PM_TMR_BITS - 1) !=
               pm->tmr_sts_ticks >> (ACPI_PM_TMR_BITS - 1);
}

static uint16_t pm1_sts(const struct acpi_pm *pm, uint64_t tsc)
{
        return (uint16_t)(pm->sts | (tmr_sts(pm, tsc) ? ACPI_PM1_TMR_STS : 0));
}

static uint8_t read_byte(const struct acpi_pm *pm, uint16_t port, uint64_t tsc)
{
        unsigned shift;
        uint32_t v;
        if (port >= ACPI_PM1_STS_PORT && port < ACPI_PM1_EN_PORT) {
                v = pm1_sts(pm, tsc);
                shift = port - ACPI_PM1_STS_PORT;
        } else if (port >= ACPI_PM1_EN_PORT && port < ACPI_PM1A_EVT_PORT + ACPI_PM1_EVT_LEN) {
                v = pm->en;
                shift = port - ACPI_PM1_EN_PORT;
        } else if (port >= ACPI_PM1A_CNT_PORT && port < ACPI_PM1A_CNT_PORT + ACPI_PM1_CNT_LEN) {
                v = pm->cnt | ACPI_PM1_CNT_SCI_EN;
                shift = port - ACPI_PM1A_CNT_PORT;
        } else if (port >= ACPI_PM_TMR_PORT && port < ACPI_PM_TMR_PORT + ACPI_PM_TMR_LEN) {
                /* 24 bits; bits 31:24 read 0 (TMR_VAL_EXT = 0). */
                v = (uint32_t)acpi_pm_ticks(pm, tsc) & TMR_MASK;
                shift = port - ACPI_PM_TMR_PORT;
        } else {
                return 0xff;
        }
        return (uint8_t)(v >> (8 * shift));
}

static void write_byte(struct acpi_pm *pm, uint16_t port, uint8_t b, uint64_t tsc,
                       struct acpi_pm_event *ev)
{
        if (port >= ACPI_PM1_STS_PORT && port < ACPI_PM1_EN_PORT) {
                unsigned shift = 8 * (port - ACPI_PM1_STS_PORT);
                uint16_t clear = (uint16_t)(b << shift);
                pm->sts &= (uint16_t)~clear;
                if (clear & ACPI_PM1_TMR_STS)
                        pm->tmr_sts_ticks = acpi_pm_ticks(pm, tsc);
        } else if (port >= ACPI_PM1_EN_PORT && port < ACPI_PM1A_EVT_PORT + ACPI_PM1_EVT_LEN) {
                unsigned shift = 8 * (port - ACPI_PM1_EN_PORT);
                uint16_t mask = (uint16_t)((0xffu << shift) & ACPI_PM1_EN_BITS);
                pm->en = (uint16_t)((pm->en & ~mask) | ((b << shift) & mask));
        } else if (port >= ACPI_PM1A_CNT_PORT && port < ACPI_PM1A_CNT_PORT + ACPI_PM1_CNT_LEN) {
                unsigned shift = 8 * (port - ACPI_PM1A_CNT_PORT);
                uint16_t v = (uint16_t)(b << shift);
                uint16_t mask = (uint16_t)((0xffu << shift) & CNT_STORED);
                pm->cnt = (uint16_t)((pm->cnt & ~mask) | (v & mask));
                /* SLP_EN starts the transition to the state SLP_TYP names
                 * (ACPI 6.4 4.8.3.2.1, 16.1.7); ACPICA writes SLP_TYP
                 * first, then SLP_TYP with SLP_EN. */
                if (v & ACPI_PM1_CNT_SLP_EN) {
                        ev->sleep = true;
                        ev->slp_typ = (uint8_t)((pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >>
                                                ACPI_PM1_CNT_SLP_TYP_SHIFT);
                }
        }
        /* The PM timer is read-only. */
}

uint32_t acpi_pm_in(struct acpi_pm *pm, uint16_t port, unsigned size, uint64_t tsc)
{
        uint32_t v = 0;
        for (unsigned i = 0; i < size && i < 4; i++)
                v |= (uint32_t)read_byte(pm, (uint16_t)(port + i), tsc) << (8 * i);
        return v;
}

void acpi_pm_out(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t value, uint64_t tsc,
                 struct acpi_pm_event *ev)
{
        ev->sleep = false;
        ev->slp_typ = 0;
        for (unsigned i = 0; i < size && i < 4; i++)
                write_byte(pm, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)), tsc, ev);
}
