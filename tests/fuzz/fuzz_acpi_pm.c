/* libFuzzer target for devices/acpi_pm.c: PM1 event and control blocks and
 * the PM timer.
 *
 * Input: the TSC frequency (u64; 0 and huge values test the clamp) and the
 * starting TSC (u64), then records to the end, each
 *
 *   u8   operation: bits 1:0 pick it (0 read, 1 write, 2 the timer twice,
 *        3 re-init); bit 2 set lets the port be anything near the blocks
 *   u8   port offset from 0x600 (bits 3:0)
 *   u8   size (bits 2:0)
 *   u32  value
 *   a time step (fuzz.h's in_time_step) for the TSC
 *
 * Checked against acpi_pm.h and ACPI 6.4 4.8: acpi_pm_ticks is exactly
 * floor(tsc * 3579545 / hz) modulo 2^64 (a 128-bit reference); a read
 * returns no more than its size and each byte is what its register holds:
 * PM1_STS only TMR_STS, set exactly when bit 23 of the count has changed
 * since it was cleared; PM1_EN what was written within its bits; PM1_CNT
 * SCI_EN plus BM_RLD and SLP_TYP as written; PM_TMR the count's low 24
 * bits; other ports 0xff.  A write asks for sleep exactly when a byte of
 * PM1_CNT's high half carries SLP_EN, with the SLP_TYP then stored.  The
 * timer never runs backwards.  A re-init equals a fresh one. */
#include "tests/fuzz/fuzz.h"

#include "devices/acpi_pm.h"

typedef unsigned __int128 u128;

static uint64_t ref_ticks(uint64_t hz, uint64_t tsc)
{
        return (uint64_t)((u128)tsc * ACPI_PM_TMR_HZ / hz);
}

struct shadow {
        uint16_t en, cnt;
        uint64_t cleared; /* ticks when TMR_STS was last cleared */
};

static uint8_t expect_byte(const struct acpi_pm *pm, const struct shadow *s, uint16_t port,
                           uint64_t tsc)
{
        uint64_t t = ref_ticks(pm->tsc_hz, tsc);
        if (port >= 0x600 && port < 0x602) {
                uint16_t sts = ((t >> 23) != (s->cleared >> 23)) ? ACPI_PM1_TMR_STS : 0;
                return (uint8_t)(sts >> (8 * (port - 0x600)));
        }
        if (port >= 0x602 && port < 0x604)
                return (uint8_t)(s->en >> (8 * (port - 0x602)));
        if (port >= 0x604 && port < 0x606)
                return (uint8_t)((s->cnt | ACPI_PM1_CNT_SCI_EN) >> (8 * (port - 0x604)));
        if (port >= 0x608 && port < 0x60c)
                return (uint8_t)((t & 0xffffff) >> (8 * (port - 0x608)));
        return 0xff;
}

static bool claimed(uint16_t port)
{
        return (port >= 0x600 && port < 0x606) || (port >= 0x608 && port < 0x60c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct acpi_pm pm, fresh;
        struct fuzz_in in = fuzz_in(data, size);
        uint64_t hz = in_u64(&in);
        uint64_t tsc = in_u64(&in);
        struct shadow s = { 0, 0, 0 };

        acpi_pm_init(&pm, hz);
        CHECK(pm.tsc_hz >= 1 && pm.tsc_hz < ACPI_PM_TSC_HZ_MAX);
        CHECK(pm.tsc_hz == hz || hz == 0 || hz >= ACPI_PM_TSC_HZ_MAX);
        u128 last_ticks = 0;
        bool have_last = false;

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in);
                uint8_t poff = in_u8(&in);
                unsigned sz = in_u8(&in) & 7;
                uint32_t val = in_u32(&in);
                uint64_t step = in_time_step(&in);
                uint16_t port = (uint16_t)((op & 4) ? 0x5fc + (poff & 0x1f) : 0x600 + (poff & 15));

                CHECK(acpi_pm_claims(port) == claimed(port));
                uint64_t t = acpi_pm_ticks(&pm, tsc);
                CHECK(t == ref_ticks(pm.tsc_hz, tsc));
                /* Monotonic in full precision (the 64-bit count wraps
                 * only after 2^64 ticks). */
                u128 full = (u128)tsc * ACPI_PM_TMR_HZ / pm.tsc_hz;
                if (have_last)
                        CHECK(full >= last_ticks);
                last_ticks = full;
                have_last = true;

                switch (op & 3) {
                case 0: {
                        uint32_t v = acpi_pm_in(&pm, port, sz, tsc);
                        unsigned n = MIN(sz, 4u);
                        if (n < 4)
                                CHECK(v >> (8 * n) == 0);
                        for (unsigned k = 0; k < n; k++)
                                CHECK(((v >> (8 * k)) & 0xff) ==
                                      expect_byte(&pm, &s, (uint16_t)(port + k), tsc));
                        break;
                }
                case 1: {
                        struct acpi_pm_event ev = { true, 0xaa };
                        bool sleep = false;
                        acpi_pm_out(&pm, port, sz, val, tsc, &ev);
                        for (unsigned k = 0; k < sz && k < 4; k++) {
                                uint16_t pk = (uint16_t)(port + k);
                                uint8_t b = (uint8_t)(val >> (8 * k));
                                if (pk == 0x600 && (b & ACPI_PM1_TMR_STS))
                                        s.cleared = t;
                                if (pk == 0x602)
                                        s.en = (uint16_t)((s.en & 0xff00) |
                                                          (b & (ACPI_PM1_EN_BITS & 0xff)));
                                if (pk == 0x603)
                                        s.en = (uint16_t)((s.en & 0x00ff) |
                                                          ((b << 8) & ACPI_PM1_EN_BITS));
                                if (pk == 0x604)
                                        s.cnt = (uint16_t)((s.cnt & 0xff00) |
                                                           (b & ACPI_PM1_CNT_BM_RLD));
                                if (pk == 0x605) {
                                        s.cnt = (uint16_t)((s.cnt & 0x00ff) |
                                                           ((b << 8) & ACPI_PM1_CNT_SLP_TYP_MASK));
                                        if ((b << 8) & ACPI_PM1_CNT_SLP_EN) {
                                                sleep = true;
                                                CHECK(ev.slp_typ ==
                                                      ((s.cnt >> ACPI_PM1_CNT_SLP_TYP_SHIFT) & 7));
                                        }
                                }
                        }
                        CHECK(ev.sleep == sleep);
                        if (!sleep)
                                CHECK(ev.slp_typ == 0);
                        CHECK(pm.en == s.en && pm.cnt == s.cnt && pm.sts == 0);
                        break;
                }
                case 2: {
                        uint32_t a = acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, tsc);
                        uint64_t later = add_sat64(tsc, step);
                        uint32_t b = acpi_pm_in(&pm, ACPI_PM_TMR_PORT, 4, later);
                        CHECK(a <= 0xffffff && b <= 0xffffff);
                        /* Within one wrap, the difference is the ticks. */
                        uint64_t d = ref_ticks(pm.tsc_hz, later) - ref_ticks(pm.tsc_hz, tsc);
                        CHECK(((b - a) & 0xffffff) == (d & 0xffffff));
                        break;
                }
                default:
                        if (val & 1) {
                                acpi_pm_init(&pm, val >> 1);
                                acpi_pm_init(&fresh, val >> 1);
                                CHECK(memcmp(&pm, &fresh, sizeof(pm)) == 0);
                                memset(&s, 0, sizeof(s));
                                have_last = false;
                        }
                        break;
                }
                tsc = add_sat64(tsc, step);
        }
        return 0;
}
