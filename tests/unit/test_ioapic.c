/* Host unit tests for devices/ioapic.c, and the I/O APIC and local APIC
 * models wired together as the hypervisor will wire them. */
#include "tests/unit/check_compat.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"

static struct ioapic io;
static struct ioapic_msg sent[16];
static unsigned nsent;

static void deliver(void *ctx, const struct ioapic_msg *m)
{
        ck_assert_ptr_eq(ctx, &io);
        ck_assert_uint_lt(nsent, ARRAY_SIZE(sent));
        sent[nsent++] = *m;
}

static void setup(void)
{
        nsent = 0;
        memset(sent, 0, sizeof(sent));
        ioapic_init(&io, 2, deliver, &io);
}

static uint32_t reg_rd(uint8_t idx)
{
        ioapic_mmio_write(&io, IOAPIC_REGSEL, idx);
        return ioapic_mmio_read(&io, IOAPIC_WIN);
}

static void reg_wr(uint8_t idx, uint32_t val)
{
        ioapic_mmio_write(&io, IOAPIC_REGSEL, idx);
        ioapic_mmio_write(&io, IOAPIC_WIN, val);
}

static void set_entry(unsigned pin, uint64_t e)
{
        reg_wr((uint8_t)(IOAPIC_REG_REDIR + 2 * pin + 1), (uint32_t)(e >> 32));
        reg_wr((uint8_t)(IOAPIC_REG_REDIR + 2 * pin), (uint32_t)e);
}

static uint64_t get_entry(unsigned pin)
{
        return (uint64_t)reg_rd((uint8_t)(IOAPIC_REG_REDIR + 2 * pin + 1)) << 32 |
               reg_rd((uint8_t)(IOAPIC_REG_REDIR + 2 * pin));
}

#define EDGE(vec)  ((uint64_t)(vec))
#define LEVEL(vec) ((uint64_t)(vec) | IOAPIC_RTE_LEVEL)

START_TEST(reset_state)
{
        ck_assert_x64_eq(reg_rd(IOAPIC_REG_ID), 0x02000000);
        ck_assert_x64_eq(reg_rd(IOAPIC_REG_VER), 0x00170011);
        ck_assert_x64_eq(reg_rd(IOAPIC_REG_ARB), 0x02000000);
        for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
                ck_assert_x64_eq(get_entry(pin), IOAPIC_RTE_MASKED);
        /* Masked after reset: nothing comes out. */
        for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
                ioapic_set_irq(&io, pin, true);
        ck_assert_uint_eq(nsent, 0);
}
END_TEST

START_TEST(register_access)
{
        static const struct {
                uint8_t idx;
                uint32_t write, read;
        } t[] = {
                { IOAPIC_REG_ID, 0xffffffff, 0x0f000000 }, /* ID in bits 27:24 */
                { IOAPIC_REG_ID, 0x05000000, 0x05000000 },
                { IOAPIC_REG_VER, 0, 0x00170011 }, /* read-only */
                { IOAPIC_REG_ARB, 0, 0x05000000 }, /* read-only, follows the ID */
                { 0x03, 0xffffffff, 0 },           /* unknown indexes */
                { 0x0f, 0xffffffff, 0 },
                { 0x40, 0xffffffff, 0 }, /* one past entry 23 */
                { 0xff, 0xffffffff, 0 },
                /* low half: bits 12 and 14 read-only, 31:17 reserved */
                { 0x10, 0xffffffff, 0x0001afff },
                { 0x10, 0x00000000, 0x00000000 },
                /* high half: destination in 31:24, the rest reserved */
                { 0x11, 0xffffffff, 0xff000000 },
                { 0x3e, 0x00018931, 0x00018931 }, /* entry 23 */
                { 0x3f, 0x12345678, 0x12000000 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                reg_wr(t[i].idx, t[i].write);
                ck_assert_msg(reg_rd(t[i].idx) == t[i].read, "index 0x%x reads 0x%x", t[i].idx,
                              reg_rd(t[i].idx));
        }
        /* IOREGSEL keeps 8 bits; other offsets read 0 and ignore writes. */
        ioapic_mmio_write(&io, IOAPIC_REGSEL, 0x1234);
        ck_assert_x64_eq(ioapic_mmio_read(&io, IOAPIC_REGSEL), 0x34);
        ioapic_mmio_write(&io, IOAPIC_REGSEL, IOAPIC_REG_ID);
        ioapic_mmio_write(&io, 0x20, 0x0a000000);
        ioapic_mmio_write(&io, 0x04, 0x0a000000);
        ck_assert_x64_eq(ioapic_mmio_read(&io, 0x20), 0);
        ck_assert_x64_eq(ioapic_mmio_read(&io, 0x40), 0);
        ck_assert_x64_eq(reg_rd(IOAPIC_REG_ID), 0x05000000);
}
END_TEST

START_TEST(edge_delivers_on_rising_edge)
{
        set_entry(4, EDGE(0x24) | 3ull << IOAPIC_RTE_DEST_SHIFT);
        ck_assert_uint_eq(nsent, 0);
        static const struct {
                bool level;
                unsigned total; /* messages sent so far */
        } t[] = { { true, 1 }, { true, 1 },  { false, 1 }, { false, 1 },
                  { true, 2 }, { false, 2 }, { true, 3 } };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                ioapic_set_irq(&io, 4, t[i].level);
                ck_assert_msg(nsent == t[i].total, "step %zu: %u sent", i, nsent);
        }
        ck_assert_uint_eq(sent[0].vector, 0x24);
        ck_assert_uint_eq(sent[0].dest, 3);
        ck_assert(!sent[0].logical);
        ck_assert(!sent[0].level);
        ck_assert_uint_eq(sent[0].delivery, 0);
        ck_assert_uint_eq(sent[0].pin, 4);
        /* Edge entries never show remote IRR; EOIs do not touch them. */
        ck_assert_x64_eq(get_entry(4) & IOAPIC_RTE_REMOTE_IRR, 0);
        ioapic_eoi(&io, 0x24);
        ck_assert_uint_eq(nsent, 3);
}
END_TEST

START_TEST(edge_while_masked_is_lost)
{
        set_entry(4, EDGE(0x24) | IOAPIC_RTE_MASKED);
        ioapic_set_irq(&io, 4, true);
        ck_assert_uint_eq(nsent, 0);
        set_entry(4, EDGE(0x24)); /* unmasked while asserted: no edge */
        ck_assert_uint_eq(nsent, 0);
        ioapic_set_irq(&io, 4, false);
        ioapic_set_irq(&io, 4, true);
        ck_assert_uint_eq(nsent, 1);
}
END_TEST

START_TEST(level_remote_irr_and_eoi)
{
        set_entry(9, LEVEL(0x39) | IOAPIC_RTE_LOGICAL | 1ull << IOAPIC_RTE_DEST_SHIFT);
        static const struct {
                enum { ASSERT, DEASSERT, EOI, EOI_OTHER } op;
                unsigned total;
                bool remote_irr;
        } t[] = {
                { ASSERT, 1, true },                       /* delivered, waits for EOI */
                { ASSERT, 1, true },                       /* still waiting: no flood */
                { DEASSERT, 1, true },                     /* remote IRR stays until the EOI */
                { EOI_OTHER, 1, true }, { EOI, 1, false }, /* deasserted: nothing more */
                { EOI, 1, false },      { ASSERT, 2, true },
                { EOI, 3, true }, /* still asserted: delivered again */
                { EOI, 4, true },       { DEASSERT, 4, true },
                { EOI, 4, false },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                switch (t[i].op) {
                case ASSERT:
                        ioapic_set_irq(&io, 9, true);
                        break;
                case DEASSERT:
                        ioapic_set_irq(&io, 9, false);
                        break;
                case EOI:
                        ioapic_eoi(&io, 0x39);
                        break;
                case EOI_OTHER:
                        ioapic_eoi(&io, 0x3a);
                        break;
                }
                ck_assert_msg(nsent == t[i].total, "step %zu: %u sent", i, nsent);
                ck_assert_msg(((get_entry(9) & IOAPIC_RTE_REMOTE_IRR) != 0) == t[i].remote_irr,
                              "step %zu: remote IRR", i);
        }
        ck_assert(sent[0].level);
        ck_assert(sent[0].logical);
        ck_assert_uint_eq(sent[0].dest, 1);
        ck_assert_uint_eq(sent[0].vector, 0x39);
}
END_TEST

START_TEST(level_unmask_while_asserted_delivers)
{
        set_entry(10, LEVEL(0x3a) | IOAPIC_RTE_MASKED);
        ioapic_set_irq(&io, 10, true);
        ck_assert_uint_eq(nsent, 0);
        ck_assert_x64_eq(get_entry(10) & IOAPIC_RTE_REMOTE_IRR, 0);
        set_entry(10, LEVEL(0x3a));
        ck_assert_uint_eq(nsent, 1);
        /* Masking and unmasking again while remote IRR is set: no repeat. */
        set_entry(10, LEVEL(0x3a) | IOAPIC_RTE_MASKED);
        set_entry(10, LEVEL(0x3a));
        ck_assert_uint_eq(nsent, 1);
        /* EOI while masked: cleared, but nothing sent until unmasked. */
        set_entry(10, LEVEL(0x3a) | IOAPIC_RTE_MASKED);
        ioapic_eoi(&io, 0x3a);
        ck_assert_uint_eq(nsent, 1);
        ck_assert_x64_eq(get_entry(10) & IOAPIC_RTE_REMOTE_IRR, 0);
        set_entry(10, LEVEL(0x3a));
        ck_assert_uint_eq(nsent, 2);
        /* Deasserted while masked: unmasking sends nothing. */
        ioapic_eoi(&io, 0x3a);
        ck_assert_uint_eq(nsent, 3);
        set_entry(10, LEVEL(0x3a) | IOAPIC_RTE_MASKED);
        ioapic_set_irq(&io, 10, false);
        ioapic_eoi(&io, 0x3a);
        set_entry(10, LEVEL(0x3a));
        ck_assert_uint_eq(nsent, 3);
}
END_TEST

START_TEST(read_only_bits_not_writable)
{
        set_entry(11, LEVEL(0x3b));
        ioapic_set_irq(&io, 11, true);
        ck_assert_uint_eq(nsent, 1);
        /* Writing remote IRR 0 (the whole low half) does not clear it. */
        reg_wr(IOAPIC_REG_REDIR + 22, (uint32_t)LEVEL(0x3b));
        ck_assert_x64_eq(get_entry(11) & IOAPIC_RTE_REMOTE_IRR, IOAPIC_RTE_REMOTE_IRR);
        ck_assert_uint_eq(nsent, 1);
        /* Nor does writing the high half. */
        reg_wr(IOAPIC_REG_REDIR + 23, 0x01000000);
        ck_assert_x64_eq(get_entry(11) & IOAPIC_RTE_REMOTE_IRR, IOAPIC_RTE_REMOTE_IRR);
        /* Writing 1s to delivery status and remote IRR of an idle entry. */
        set_entry(12, LEVEL(0x3c) | IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_PENDING);
        ck_assert_x64_eq(get_entry(12), LEVEL(0x3c) | IOAPIC_RTE_MASKED);
}
END_TEST

START_TEST(switch_to_edge_clears_remote_irr)
{
        /* Linux's EOI for I/O APICs without an EOI register: mask, make it
         * edge, then restore the level entry. */
        set_entry(13, LEVEL(0x3d));
        ioapic_set_irq(&io, 13, true);
        ck_assert_uint_eq(nsent, 1);
        set_entry(13, EDGE(0x3d) | IOAPIC_RTE_MASKED);
        ck_assert_x64_eq(get_entry(13) & IOAPIC_RTE_REMOTE_IRR, 0);
        set_entry(13, LEVEL(0x3d));
        /* Still asserted: the restored entry delivers again. */
        ck_assert_uint_eq(nsent, 2);
}
END_TEST

START_TEST(message_fields)
{
        static const struct {
                uint64_t entry;
                uint8_t vector, delivery, dest;
                bool logical, level;
        } t[] = {
                { EDGE(0x30) | 0ull << 56, 0x30, 0, 0, false, false },
                { EDGE(0x31) | 1ull << 8 | IOAPIC_RTE_LOGICAL | 0xffull << 56, 0x31, 1, 0xff, true,
                  false },
                { EDGE(0x00) | 4ull << 8 | 7ull << 56, 0x00, 4, 7, false, false }, /* NMI */
                { EDGE(0x00) | 7ull << 8, 0x00, 7, 0, false, false },              /* ExtINT */
                { LEVEL(0xfe) | IOAPIC_RTE_ACTIVE_LOW | 0x80ull << 56, 0xfe, 0, 0x80, false, true },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                setup();
                set_entry(5, t[i].entry);
                ioapic_set_irq(&io, 5, true);
                ck_assert_uint_eq(nsent, 1);
                ck_assert_uint_eq(sent[0].vector, t[i].vector);
                ck_assert_uint_eq(sent[0].delivery, t[i].delivery);
                ck_assert_uint_eq(sent[0].dest, t[i].dest);
                ck_assert_int_eq(sent[0].logical, t[i].logical);
                ck_assert_int_eq(sent[0].level, t[i].level);
                ck_assert_uint_eq(sent[0].pin, 5);
        }
}
END_TEST

START_TEST(bad_pins_and_no_callback)
{
        set_entry(0, EDGE(0x20));
        ioapic_set_irq(&io, IOAPIC_PINS, true);
        ioapic_set_irq(&io, 1000, true);
        ck_assert_uint_eq(nsent, 0);
        ioapic_init(&io, 0x1f, NULL, NULL); /* ID keeps 4 bits */
        ck_assert_x64_eq(reg_rd(IOAPIC_REG_ID), 0x0f000000);
        set_entry(0, LEVEL(0x20));
        ioapic_set_irq(&io, 0, true); /* dropped without a callback, but in flight */
        ck_assert_x64_eq(get_entry(0) & IOAPIC_RTE_REMOTE_IRR, IOAPIC_RTE_REMOTE_IRR);
}
END_TEST

/* ---- the two models wired together ---- */

struct machine {
        struct ioapic io;
        struct lapic cpu;
};

static void to_lapic(void *ctx, const struct ioapic_msg *m)
{
        struct machine *mc = ctx;
        if (lapic_matches_dest(&mc->cpu, m->dest, m->logical))
                lapic_accept(&mc->cpu, m->vector, m->level);
}

START_TEST(level_interrupt_end_to_end)
{
        static struct machine mc;
        struct lapic_effects fx;
        lapic_init(&mc.cpu, 0, true, 3000000000ull, 1000000000ull);
        ioapic_init(&mc.io, 1, to_lapic, &mc);
        lapic_mmio_write(&mc.cpu, LAPIC_REG_SVR, 0x1ff, 0, NULL);
        /* Linux's flat logical mode: LDR bit 0, dest 1. */
        lapic_mmio_write(&mc.cpu, LAPIC_REG_LDR, 0x01000000, 0, NULL);
        ioapic_mmio_write(&mc.io, IOAPIC_REGSEL, IOAPIC_REG_REDIR + 2 * 9 + 1);
        ioapic_mmio_write(&mc.io, IOAPIC_WIN, 0x01000000);
        ioapic_mmio_write(&mc.io, IOAPIC_REGSEL, IOAPIC_REG_REDIR + 2 * 9);
        ioapic_mmio_write(&mc.io, IOAPIC_WIN, (uint32_t)(LEVEL(0x41) | IOAPIC_RTE_LOGICAL));

        ioapic_set_irq(&mc.io, 9, true);
        ck_assert_int_eq(lapic_highest_pending(&mc.cpu), 0x41);
        lapic_start_service(&mc.cpu, 0x41);
        /* The handler EOIs the APIC while the device still asserts. */
        lapic_mmio_write(&mc.cpu, LAPIC_REG_EOI, 0, 0, &fx);
        ck_assert_int_eq(fx.eoi_vector, 0x41);
        ck_assert(fx.eoi_level);
        ioapic_eoi(&mc.io, (uint8_t)fx.eoi_vector);
        ck_assert_int_eq(lapic_highest_pending(&mc.cpu), 0x41); /* redelivered */
        lapic_start_service(&mc.cpu, 0x41);
        ioapic_set_irq(&mc.io, 9, false); /* the handler quietened the device */
        lapic_mmio_write(&mc.cpu, LAPIC_REG_EOI, 0, 0, &fx);
        ioapic_eoi(&mc.io, (uint8_t)fx.eoi_vector);
        ck_assert_int_eq(lapic_highest_pending(&mc.cpu), -1);

        /* An edge interrupt at the same time keeps its place by priority. */
        ioapic_mmio_write(&mc.io, IOAPIC_REGSEL, IOAPIC_REG_REDIR + 2 * 4);
        ioapic_mmio_write(&mc.io, IOAPIC_WIN, (uint32_t)(EDGE(0x51) | IOAPIC_RTE_LOGICAL));
        ioapic_mmio_write(&mc.io, IOAPIC_REGSEL, IOAPIC_REG_REDIR + 2 * 4 + 1);
        ioapic_mmio_write(&mc.io, IOAPIC_WIN, 0x01000000);
        ioapic_set_irq(&mc.io, 9, true);
        ioapic_set_irq(&mc.io, 4, true);
        ck_assert_int_eq(lapic_highest_pending(&mc.cpu), 0x51);
        lapic_start_service(&mc.cpu, 0x51);
        lapic_mmio_write(&mc.cpu, LAPIC_REG_EOI, 0, 0, &fx);
        ck_assert(!fx.eoi_level);
        ck_assert_int_eq(lapic_highest_pending(&mc.cpu), 0x41);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("ioapic");
        TCase *tc = tcase_create("82093AA");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, reset_state);
        tcase_add_test(tc, register_access);
        tcase_add_test(tc, edge_delivers_on_rising_edge);
        tcase_add_test(tc, edge_while_masked_is_lost);
        tcase_add_test(tc, level_remote_irr_and_eoi);
        tcase_add_test(tc, level_unmask_while_asserted_delivers);
        tcase_add_test(tc, read_only_bits_not_writable);
        tcase_add_test(tc, switch_to_edge_clears_remote_irr);
        tcase_add_test(tc, message_fields);
        tcase_add_test(tc, bad_pins_and_no_callback);
        suite_add_tcase(s, tc);

        tc = tcase_create("with_lapic");
        tcase_add_test(tc, level_interrupt_end_to_end);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
