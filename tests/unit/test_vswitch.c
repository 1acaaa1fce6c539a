/* Host unit tests for devices/virtio/vswitch.c: the learning bridge's
 * address table (IEEE 802.1D 7.8) of the virtual switch. */
#include "tests/unit/check_compat.h"
#include "devices/virtio/vswitch.h"

static struct vswitch_table t;

static void setup(void)
{
        memset(&t, 0xa5, sizeof(t)); /* init must not rely on a zeroed table */
        vswitch_init(&t);
}

/* A locally administered unicast address 02:76:74:00:hi:lo. */
static void mac_n(uint8_t mac[6], unsigned n)
{
        const uint8_t base[6] = { 0x02, 0x76, 0x74, 0, (uint8_t)(n >> 8), (uint8_t)n };
        memcpy(mac, base, 6);
}

static unsigned used_entries(void)
{
        unsigned n = 0;
        for (unsigned i = 0; i < VSWITCH_ENTRIES; i++)
                n += t.e[i].port >= 0;
        return n;
}

START_TEST(empty_table_floods)
{
        ck_assert_uint_eq(used_entries(), 0);
        for (unsigned n = 0; n < 300; n++) {
                uint8_t m[6];
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), VSWITCH_FLOOD);
        }
        const uint8_t zero[6] = { 0 };
        ck_assert_int_eq(vswitch_lookup(&t, zero), VSWITCH_FLOOD);
}
END_TEST

START_TEST(learn_and_lookup)
{
        uint8_t a[6], b[6], c[6];
        mac_n(a, 1);
        mac_n(b, 2);
        mac_n(c, 3);
        vswitch_learn(&t, a, 0, 10);
        vswitch_learn(&t, b, 15, 11);
        ck_assert_int_eq(vswitch_lookup(&t, a), 0);
        ck_assert_int_eq(vswitch_lookup(&t, b), 15);
        /* Unknown: flooded. */
        ck_assert_int_eq(vswitch_lookup(&t, c), VSWITCH_FLOOD);
        /* An address differing only in its last or first byte is another. */
        uint8_t a2[6];
        memcpy(a2, a, 6);
        a2[5] ^= 0x80;
        ck_assert_int_eq(vswitch_lookup(&t, a2), VSWITCH_FLOOD);
        memcpy(a2, a, 6);
        a2[0] ^= 0x04;
        ck_assert_int_eq(vswitch_lookup(&t, a2), VSWITCH_FLOOD);
        /* Learning the same station again takes no second entry. */
        vswitch_learn(&t, a, 0, 12);
        vswitch_learn(&t, a, 0, 13);
        ck_assert_uint_eq(used_entries(), 2);
        ck_assert_int_eq(vswitch_lookup(&t, a), 0);
}
END_TEST

START_TEST(group_destinations_flood)
{
        /* Broadcast, IPv4 and IPv6 multicast, STP's group address: bit 0 of
         * the first byte, whatever the rest. */
        const uint8_t groups[][6] = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
                                      { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb },
                                      { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
                                      { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 },
                                      { 0x03, 0x76, 0x74, 0x00, 0x00, 0x01 } };
        for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
                ck_assert_int_eq(vswitch_lookup(&t, groups[i]), VSWITCH_FLOOD);
                /* Even when someone tried to teach it. */
                vswitch_learn(&t, groups[i], 3, 1);
                ck_assert_int_eq(vswitch_lookup(&t, groups[i]), VSWITCH_FLOOD);
        }
        ck_assert_uint_eq(used_entries(), 0);
}
END_TEST

START_TEST(station_moves)
{
        uint8_t a[6], b[6];
        mac_n(a, 7);
        mac_n(b, 8);
        vswitch_learn(&t, a, 2, 1);
        vswitch_learn(&t, b, 4, 2);
        ck_assert_int_eq(vswitch_lookup(&t, a), 2);
        /* The VM was moved (or rebuilt) onto another port: the newest wins. */
        vswitch_learn(&t, a, 9, 3);
        ck_assert_int_eq(vswitch_lookup(&t, a), 9);
        ck_assert_int_eq(vswitch_lookup(&t, b), 4);
        ck_assert_uint_eq(used_entries(), 2);
        /* And back. */
        vswitch_learn(&t, a, 2, 4);
        ck_assert_int_eq(vswitch_lookup(&t, a), 2);
        ck_assert_uint_eq(used_entries(), 2);
        /* Forgetting the old port does not lose the station. */
        vswitch_forget_port(&t, 9);
        ck_assert_int_eq(vswitch_lookup(&t, a), 2);
}
END_TEST

/* A full table replaces the entry learnt longest ago; a station learnt
 * again is fresh again. */
START_TEST(full_table_replaces_oldest)
{
        uint8_t m[6];
        for (unsigned n = 0; n < VSWITCH_ENTRIES; n++) {
                mac_n(m, n);
                vswitch_learn(&t, m, (int)(n % VSWITCH_MAX_PORTS), 100 + n);
        }
        ck_assert_uint_eq(used_entries(), VSWITCH_ENTRIES);
        for (unsigned n = 0; n < VSWITCH_ENTRIES; n++) {
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), (int)(n % VSWITCH_MAX_PORTS));
        }
        /* Station 0 is heard from again: station 1 is now the oldest. */
        mac_n(m, 0);
        vswitch_learn(&t, m, 5, 1000);
        uint8_t newer[6];
        mac_n(newer, 500);
        vswitch_learn(&t, newer, 6, 1001);
        ck_assert_int_eq(vswitch_lookup(&t, newer), 6);
        mac_n(m, 1);
        ck_assert_int_eq(vswitch_lookup(&t, m), VSWITCH_FLOOD);
        mac_n(m, 0);
        ck_assert_int_eq(vswitch_lookup(&t, m), 5);
        ck_assert_uint_eq(used_entries(), VSWITCH_ENTRIES);
        /* The next newcomer replaces station 2, then 3. */
        mac_n(m, 501);
        vswitch_learn(&t, m, 7, 1002);
        mac_n(m, 502);
        vswitch_learn(&t, m, 8, 1003);
        for (unsigned n = 2; n <= 3; n++) {
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), VSWITCH_FLOOD);
        }
        mac_n(m, 4);
        ck_assert_int_eq(vswitch_lookup(&t, m), 4);
        mac_n(m, 501);
        ck_assert_int_eq(vswitch_lookup(&t, m), 7);
        mac_n(m, 502);
        ck_assert_int_eq(vswitch_lookup(&t, m), 8);
        ck_assert_uint_eq(used_entries(), VSWITCH_ENTRIES);
}
END_TEST

/* Learnt in scrambled time order: still the oldest goes first. */
START_TEST(full_table_oldest_by_clock_not_slot)
{
        uint8_t m[6];
        for (unsigned n = 0; n < VSWITCH_ENTRIES; n++) {
                mac_n(m, n);
                /* A permutation of 0..63 (37 is odd, so coprime with 64). */
                vswitch_learn(&t, m, 1, (n * 37) % VSWITCH_ENTRIES);
        }
        /* Times 0, 1, 2 belong to stations 0, 45, 26 (37 * 45 = 1665 =
         * 26 * 64 + 1; 37 * 26 = 962 = 15 * 64 + 2). */
        const unsigned order[] = { 0, 45, 26 };
        for (unsigned k = 0; k < ARRAY_SIZE(order); k++) {
                mac_n(m, 1000 + k);
                vswitch_learn(&t, m, 2, 5000 + k);
                mac_n(m, order[k]);
                ck_assert_int_eq(vswitch_lookup(&t, m), VSWITCH_FLOOD);
                ck_assert_uint_eq(used_entries(), VSWITCH_ENTRIES);
        }
        mac_n(m, 1);
        ck_assert_int_eq(vswitch_lookup(&t, m), 1);
}
END_TEST

START_TEST(forget_port)
{
        uint8_t m[6];
        for (unsigned n = 0; n < 40; n++) {
                mac_n(m, n);
                vswitch_learn(&t, m, (int)(n % 4), n);
        }
        ck_assert_uint_eq(used_entries(), 40);
        vswitch_forget_port(&t, 2);
        ck_assert_uint_eq(used_entries(), 30);
        for (unsigned n = 0; n < 40; n++) {
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), n % 4 == 2 ? VSWITCH_FLOOD : (int)(n % 4));
        }
        /* Ports that taught nothing, and ports that do not exist. */
        vswitch_forget_port(&t, 2);
        vswitch_forget_port(&t, 11);
        vswitch_forget_port(&t, -1);
        vswitch_forget_port(&t, VSWITCH_MAX_PORTS);
        vswitch_forget_port(&t, 1000);
        ck_assert_uint_eq(used_entries(), 30);
        /* The freed entries are used again before anything is replaced. */
        for (unsigned n = 100; n < 100 + 34; n++) {
                mac_n(m, n);
                vswitch_learn(&t, m, 5, 1000 + n);
        }
        ck_assert_uint_eq(used_entries(), VSWITCH_ENTRIES);
        for (unsigned n = 0; n < 40; n++) {
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), n % 4 == 2 ? VSWITCH_FLOOD : (int)(n % 4));
        }
        /* A forgotten station comes back on another port. */
        mac_n(m, 2);
        vswitch_learn(&t, m, 3, 5000);
        ck_assert_int_eq(vswitch_lookup(&t, m), 3);
}
END_TEST

START_TEST(invalid_sources_ignored)
{
        uint8_t a[6];
        mac_n(a, 42);
        /* Ports outside 0..VSWITCH_MAX_PORTS-1. */
        const int bad_ports[] = {
                -1,   -2,   VSWITCH_MAX_PORTS, VSWITCH_MAX_PORTS + 1, 127, 128, 255, 256, 1000,
                -128, -129, 0x7fffffff,        (int)0x80000000u
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad_ports); i++) {
                vswitch_learn(&t, a, bad_ports[i], 1);
                ck_assert_int_eq(vswitch_lookup(&t, a), VSWITCH_FLOOD);
        }
        ck_assert_uint_eq(used_entries(), 0);
        /* A bad port does not move a known station either. */
        vswitch_learn(&t, a, 3, 1);
        for (size_t i = 0; i < ARRAY_SIZE(bad_ports); i++)
                vswitch_learn(&t, a, bad_ports[i], 2);
        ck_assert_int_eq(vswitch_lookup(&t, a), 3);
        /* The all-zero address and group addresses are never learnt. */
        const uint8_t zero[6] = { 0 };
        vswitch_learn(&t, zero, 1, 3);
        ck_assert_int_eq(vswitch_lookup(&t, zero), VSWITCH_FLOOD);
        const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa };
        vswitch_learn(&t, bcast, 1, 4);
        vswitch_learn(&t, mcast, 1, 4);
        ck_assert_uint_eq(used_entries(), 1);
        /* An address that is zero but for one bit is a station. */
        uint8_t almost[6] = { 0, 0, 0, 0, 0, 1 };
        vswitch_learn(&t, almost, 4, 5);
        ck_assert_int_eq(vswitch_lookup(&t, almost), 4);
        ck_assert_uint_eq(used_entries(), 2);
        /* The highest valid port. */
        uint8_t b[6];
        mac_n(b, 43);
        vswitch_learn(&t, b, VSWITCH_MAX_PORTS - 1, 6);
        ck_assert_int_eq(vswitch_lookup(&t, b), VSWITCH_MAX_PORTS - 1);
}
END_TEST

/* Invalid sources never take an entry from a full table. */
START_TEST(invalid_sources_do_not_evict)
{
        uint8_t m[6];
        for (unsigned n = 0; n < VSWITCH_ENTRIES; n++) {
                mac_n(m, n);
                vswitch_learn(&t, m, 0, 10 + n);
        }
        const uint8_t zero[6] = { 0 }, bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        vswitch_learn(&t, zero, 0, 1000);
        vswitch_learn(&t, bcast, 0, 1000);
        mac_n(m, 999);
        vswitch_learn(&t, m, -1, 1000);
        vswitch_learn(&t, m, VSWITCH_MAX_PORTS, 1000);
        for (unsigned n = 0; n < VSWITCH_ENTRIES; n++) {
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), 0);
        }
}
END_TEST

START_TEST(init_clears)
{
        uint8_t m[6];
        for (unsigned n = 0; n < VSWITCH_ENTRIES + 5; n++) {
                mac_n(m, n);
                vswitch_learn(&t, m, 1, n);
        }
        vswitch_init(&t);
        ck_assert_uint_eq(used_entries(), 0);
        for (unsigned n = 0; n < VSWITCH_ENTRIES + 5; n++) {
                mac_n(m, n);
                ck_assert_int_eq(vswitch_lookup(&t, m), VSWITCH_FLOOD);
        }
}
END_TEST

int main(void)
{
        Suite *s = suite_create("vswitch");
        TCase *tc = tcase_create("table");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, empty_table_floods);
        tcase_add_test(tc, learn_and_lookup);
        tcase_add_test(tc, group_destinations_flood);
        tcase_add_test(tc, station_moves);
        tcase_add_test(tc, full_table_replaces_oldest);
        tcase_add_test(tc, full_table_oldest_by_clock_not_slot);
        tcase_add_test(tc, forget_port);
        tcase_add_test(tc, invalid_sources_ignored);
        tcase_add_test(tc, invalid_sources_do_not_evict);
        tcase_add_test(tc, init_clears);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
