/* Host unit tests for devices/virtio/virtio_rng.c: buffers filled from the
 * entropy source through a real split virtqueue in fake guest RAM, the
 * per-request limit, odd buffer sizes and splits, a failing source, and a
 * malformed ring. */
#include "tests/unit/check_compat.h"
#include "tests/unit/vq_driver.h"
#include "devices/virtio/virtio_rng.h"

#define RAM_SIZE 0x20000u
#define DATA_GPA 0x8000u
#define FILL     0xee /* what buffers hold before the device writes */

static struct vq_chain chain;

/* The source: a counter, one 64-bit word per call, failing after
 * src_budget calls (when not negative). */
static uint64_t src_next;
static long src_budget;
static unsigned src_calls;

static bool source(uint64_t *out)
{
        src_calls++;
        if (src_budget == 0)
                return false;
        if (src_budget > 0)
                src_budget--;
        *out = 0x0101010101010101ull * (src_next & 0xff) ^ 0x8040201008040201ull;
        src_next++;
        return true;
}

/* Byte i of what the source produces from its start. */
static uint8_t src_byte(uint64_t i)
{
        uint64_t w = 0x0101010101010101ull * ((i / 8) & 0xff) ^ 0x8040201008040201ull;
        return (uint8_t)(w >> (8 * (i % 8)));
}

static void setup(void)
{
        drv_ram_alloc(RAM_SIZE);
        memset(ram, FILL, RAM_SIZE);
        memset(ram + DESC_GPA, 0, DATA_GPA - DESC_GPA); /* the rings */
        drv_queue_setup(VIRTIO_RNG_QUEUE_SZ, VIRTIO_RNG_QUEUE_SZ, false);
        src_next = 0;
        src_budget = -1;
        src_calls = 0;
}

static void teardown(void)
{
        free(ram);
}

static enum vq_result process(bool *pushed)
{
        const char *err = NULL;
        *pushed = false;
        enum vq_result r = virtio_rng_process(&q, &mem, &chain, source, pushed, &err);
        ck_assert(r == VQ_ERROR ? err != NULL : err == NULL);
        return r;
}

static void expect_filled(uint64_t gpa, uint64_t from, uint64_t n)
{
        for (uint64_t i = 0; i < n; i++)
                ck_assert_uint_eq(ram[gpa + i], src_byte(from + i));
}

/* ------------------------------------------------------------------------------ */

START_TEST(fills_buffer)
{
        const struct buf b = { DATA_GPA, 64, true };
        add_chain(&b, 1);
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert(pushed);
        ck_assert_uint_eq(q.used_idx, 1);
        ck_assert_uint_eq(used_len(0), 64);
        expect_filled(DATA_GPA, 0, 64);
        ck_assert_uint_eq(ram[DATA_GPA + 64], FILL);
        ck_assert_uint_eq(src_calls, 8);
}
END_TEST

START_TEST(nothing_to_do)
{
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert(!pushed);
        ck_assert_uint_eq(src_calls, 0);
}
END_TEST

/* An odd length split at odd places: exactly that many bytes. */
START_TEST(odd_split)
{
        const struct buf b[] = { { DATA_GPA, 5, true },
                                 { DATA_GPA + 0x101, 3, true },
                                 { DATA_GPA + 0x203, 5, true } };
        add_chain(b, 3);
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert_uint_eq(used_len(0), 13);
        expect_filled(DATA_GPA, 0, 5);
        expect_filled(DATA_GPA + 0x101, 5, 3);
        expect_filled(DATA_GPA + 0x203, 8, 5);
        ck_assert_uint_eq(ram[DATA_GPA + 5], FILL);
        ck_assert_uint_eq(ram[DATA_GPA + 0x104], FILL);
        ck_assert_uint_eq(ram[DATA_GPA + 0x208], FILL);
}
END_TEST

/* At most VIRTIO_RNG_MAX_REQ bytes per request. */
START_TEST(request_limit)
{
        const struct buf b[] = { { DATA_GPA, 3000, true }, { DATA_GPA + 0x1000, 3000, true } };
        add_chain(b, 2);
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert_uint_eq(used_len(0), VIRTIO_RNG_MAX_REQ);
        expect_filled(DATA_GPA, 0, 3000);
        expect_filled(DATA_GPA + 0x1000, 3000, VIRTIO_RNG_MAX_REQ - 3000);
        ck_assert_uint_eq(ram[DATA_GPA + 0x1000 + VIRTIO_RNG_MAX_REQ - 3000], FILL);
        ck_assert_uint_eq(src_calls, VIRTIO_RNG_MAX_REQ / 8);
}
END_TEST

/* Readable descriptors are skipped; a chain with nothing writable gets 0. */
START_TEST(readable_parts_ignored)
{
        const struct buf b[] = { { DATA_GPA, 16, false }, { DATA_GPA + 0x100, 16, true } };
        const struct buf r[] = { { DATA_GPA + 0x200, 16, false } };
        add_chain(b, 2);
        add_chain(r, 1);
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert_uint_eq(q.used_idx, 2);
        ck_assert_uint_eq(used_len(0), 16);
        ck_assert_uint_eq(used_len(1), 0);
        ck_assert_uint_eq(ram[DATA_GPA], FILL);
        expect_filled(DATA_GPA + 0x100, 0, 16);
        ck_assert_uint_eq(ram[DATA_GPA + 0x200], FILL);
}
END_TEST

/* A failing source: the chain goes back with what was written; the next
 * chains are still completed, with what the source gives by then. */
START_TEST(source_fails)
{
        const struct buf b1 = { DATA_GPA, 64, true };
        const struct buf b2 = { DATA_GPA + 0x100, 64, true };
        add_chain(&b1, 1);
        add_chain(&b2, 1);
        src_budget = 3;
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert(pushed);
        ck_assert_uint_eq(q.used_idx, 2);
        ck_assert_uint_eq(used_len(0), 24);
        expect_filled(DATA_GPA, 0, 24);
        ck_assert_uint_eq(ram[DATA_GPA + 24], FILL);
        ck_assert_uint_eq(used_len(1), 0);
        ck_assert_uint_eq(ram[DATA_GPA + 0x100], FILL);

        /* The source recovers. */
        src_budget = -1;
        add_chain(&b2, 1);
        ck_assert_int_eq(process(&pushed), VQ_EMPTY);
        ck_assert_uint_eq(used_len(2), 64);
        expect_filled(DATA_GPA + 0x100, 24, 64);
}
END_TEST

/* Many requests around the ring, more than its size in all. */
START_TEST(many_requests)
{
        for (unsigned round = 0; round < 5; round++) {
                for (unsigned k = 0; k < VIRTIO_RNG_QUEUE_SZ / 2; k++) {
                        const struct buf b = { DATA_GPA + 16 * k, 1 + k % 16, true };
                        add_chain(&b, 1);
                }
                bool pushed;
                ck_assert_int_eq(process(&pushed), VQ_EMPTY);
                ck_assert(pushed);
        }
        ck_assert_uint_eq(q.used_idx, 5 * VIRTIO_RNG_QUEUE_SZ / 2);
        for (uint16_t i = 0; i < VIRTIO_RNG_QUEUE_SZ; i++)
                ck_assert_uint_eq(used_len(i), 1 + (i % (VIRTIO_RNG_QUEUE_SZ / 2)) % 16);
}
END_TEST

START_TEST(malformed_ring)
{
        const struct buf good = { DATA_GPA, 8, true };
        const struct buf bad[] = { { DATA_GPA, 8, true }, { DATA_GPA + 8, 8, false } };
        add_chain(&good, 1);
        add_chain(bad, 2);
        bool pushed;
        ck_assert_int_eq(process(&pushed), VQ_ERROR);
        ck_assert(pushed);
        ck_assert(q.broken);
        ck_assert_uint_eq(q.used_idx, 1);
        ck_assert_int_eq(process(&pushed), VQ_ERROR);
        ck_assert(!pushed);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("virtio_rng");
        TCase *tc = tcase_create("rng");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, fills_buffer);
        tcase_add_test(tc, nothing_to_do);
        tcase_add_test(tc, odd_split);
        tcase_add_test(tc, request_limit);
        tcase_add_test(tc, readable_parts_ignored);
        tcase_add_test(tc, source_fails);
        tcase_add_test(tc, many_requests);
        tcase_add_test(tc, malformed_ring);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
