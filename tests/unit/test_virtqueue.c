/* Host unit tests for devices/virtio/virtqueue.c: the configuration
 * checks, taking and returning chains, every way a driver can break its
 * ring, the 16-bit index wraparound and interrupt suppression (the avail
 * flag and EVENT_IDX).
 *
 * Guest RAM is one heap block of exactly RAM_SIZE bytes (ASan reports any
 * access past it); the driver in vq_driver.h lays out the descriptor table and
 * the rings the way a virtio driver does. */
#include "tests/unit/check_compat.h"
#include "tests/unit/vq_driver.h"
#include "devices/virtio/virtqueue.h"

#define RAM_SIZE 0x40000u
#define DATA_GPA 0x8000u

static struct vq_chain c;

/* A queue of size at the fixed ring addresses in zeroed RAM. */
static void setup_queue(uint16_t size, bool event_idx)
{
        memset(ram, 0, RAM_SIZE);
        drv_queue_setup(size, VQ_MAX_SIZE, event_idx);
}

static void setup(void)
{
        drv_ram_alloc(RAM_SIZE);
        memset(&c, 0, sizeof(c));
        setup_queue(8, false);
}

static void teardown(void)
{
        free(ram);
}

/* Pops expecting VQ_ERROR, and checks it stays broken. */
static void expect_error(void)
{
        const char *err = NULL;
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_ERROR);
        ck_assert_ptr_nonnull(err);
        ck_assert(q.broken);
        err = NULL;
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_ERROR);
        ck_assert_ptr_nonnull(err);
}

static void expect_ok(void)
{
        const char *err = NULL;
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_OK);
        ck_assert_ptr_null(err);
}

/* --- configuration --------------------------------------------------- */

START_TEST(config_valid)
{
        for (unsigned n = 1; n <= VQ_MAX_SIZE; n *= 2) {
                q.size = (uint16_t)n;
                ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        }
}
END_TEST

START_TEST(config_sizes)
{
        static const uint16_t bad[] = { 0, 3, 6, 100, 255, 257, 0x8000, 0xffff };
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
                q.size = bad[i];
                ck_assert_ptr_nonnull(vq_check_config(&q, 0xffff, &mem));
        }
        q.size = 128;
        ck_assert_ptr_nonnull(vq_check_config(&q, 64, &mem));
        ck_assert_ptr_null(vq_check_config(&q, 128, &mem));
        q.size = 512; /* a power of two, but above VQ_MAX_SIZE */
        ck_assert_ptr_nonnull(vq_check_config(&q, 1024, &mem));
}
END_TEST

START_TEST(config_alignment)
{
        q.desc_gpa = DESC_GPA + 8;
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.desc_gpa = DESC_GPA;
        q.avail_gpa = AVAIL_GPA + 1;
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.avail_gpa = AVAIL_GPA + 2;
        ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.used_gpa = USED_GPA + 2;
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.used_gpa = USED_GPA + 4;
        ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
}
END_TEST

/* Each ring may end exactly at the end of RAM, not a byte later; the
 * event fields count. */
START_TEST(config_placement)
{
        q.size = 8;
        q.desc_gpa = RAM_SIZE - 16 * 8;
        ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.desc_gpa = RAM_SIZE - 16 * 8 + 16;
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.desc_gpa = DESC_GPA;

        q.avail_gpa = RAM_SIZE - (6 + 2 * 8);
        ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.avail_gpa = RAM_SIZE - (4 + 2 * 8); /* used_event would be outside */
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.avail_gpa = AVAIL_GPA;

        q.used_gpa = RAM_SIZE - 56; /* 6 + 8 * 8 = 70 bytes needed */
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.used_gpa = RAM_SIZE - 72;
        ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.used_gpa = RAM_SIZE - 68; /* avail_event would be outside */
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));

        /* Addresses that overflow when the ring's size is added. */
        q.used_gpa = UINT64_MAX - 3;
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        q.used_gpa = USED_GPA;
        q.desc_gpa = 0xfffffffffffffff0ull;
        ck_assert_ptr_nonnull(vq_check_config(&q, VQ_MAX_SIZE, &mem));
}
END_TEST

/* A queue that never passed the checks is an error, not a wild access. */
START_TEST(unconfigured_queue)
{
        vq_reset(&q);
        ck_assert(!vq_has_avail(&q, &mem));
        expect_error();
        vq_reset(&q);
        q.size = 8;
        q.desc_gpa = RAM_SIZE;
        q.avail_gpa = AVAIL_GPA;
        q.used_gpa = USED_GPA;
        expect_error();
}
END_TEST

START_TEST(reset_clears_everything)
{
        q.last_avail = 5;
        q.used_idx = 7;
        q.signalled = 3;
        q.broken = true;
        vq_reset(&q);
        ck_assert_uint_eq(q.size, 0);
        ck_assert_x64_eq(q.desc_gpa | q.avail_gpa | q.used_gpa, 0);
        ck_assert(!q.ready && !q.broken && !q.event_idx);
        ck_assert_uint_eq(q.last_avail | q.used_idx | q.signalled, 0);
}
END_TEST

/* --- taking and returning chains -------------------------------------- */

START_TEST(empty_queue)
{
        const char *err = NULL;
        ck_assert(!vq_has_avail(&q, &mem));
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_EMPTY);
        ck_assert(!q.broken);
}
END_TEST

START_TEST(pop_and_push)
{
        const struct buf b[] = { { DATA_GPA, 16, false },
                                 { DATA_GPA + 0x100, 100, false },
                                 { DATA_GPA + 0x1000, 512, true },
                                 { DATA_GPA + 0x2001, 1, true } };
        uint16_t head = add_chain(b, 4);
        ck_assert(vq_has_avail(&q, &mem));
        expect_ok();
        ck_assert(!vq_has_avail(&q, &mem));
        ck_assert_uint_eq(c.head, head);
        ck_assert_uint_eq(c.nseg, 4);
        ck_assert_uint_eq(c.nread, 2);
        ck_assert_x64_eq(c.read_len, 116);
        ck_assert_x64_eq(c.write_len, 513);
        for (unsigned i = 0; i < 4; i++) {
                ck_assert_ptr_eq(c.seg[i].ptr, ram + b[i].gpa);
                ck_assert_uint_eq(c.seg[i].len, b[i].len);
                ck_assert(c.seg[i].write == b[i].write);
        }
        ck_assert_uint_eq(q.last_avail, 1);

        vq_push(&q, &mem, c.head, 513);
        ck_assert_uint_eq(used_idx(), 1);
        ck_assert_uint_eq(q.used_idx, 1);
        ck_assert_uint_eq(used_id(0), head);
        ck_assert_uint_eq(used_len(0), 513);

        const char *err = NULL;
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_EMPTY);
}
END_TEST

/* Descriptors need not be consecutive, and a chain may be one writable
 * descriptor or one readable one. */
START_TEST(scattered_descriptors)
{
        desc(5, DATA_GPA, 10, VIRTQ_DESC_F_NEXT, 2);
        desc(2, DATA_GPA + 10, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
        desc(7, DATA_GPA + 30, 30, VIRTQ_DESC_F_WRITE, 0);
        desc(0, DATA_GPA + 60, 4, VIRTQ_DESC_F_WRITE, 0);
        desc(1, DATA_GPA + 64, 4, 0, 3);
        publish(5);
        publish(0);
        publish(1);
        expect_ok();
        ck_assert_uint_eq(c.head, 5);
        ck_assert_uint_eq(c.nseg, 3);
        ck_assert_uint_eq(c.nread, 1);
        ck_assert_x64_eq(c.write_len, 50);
        expect_ok();
        ck_assert_uint_eq(c.head, 0);
        ck_assert_uint_eq(c.nseg, 1);
        ck_assert_uint_eq(c.nread, 0);
        expect_ok();
        ck_assert_uint_eq(c.head, 1);
        ck_assert_uint_eq(c.nseg, 1);
        ck_assert_uint_eq(c.nread, 1);
        ck_assert_x64_eq(c.read_len, 4);
}
END_TEST

/* A buffer may end at the last byte of RAM. */
START_TEST(buffer_at_end_of_ram)
{
        const struct buf b[] = { { RAM_SIZE - 4096, 4096, true } };
        add_chain(b, 1);
        expect_ok();
        ck_assert_ptr_eq(c.seg[0].ptr, ram + RAM_SIZE - 4096);
}
END_TEST

/* A chain of exactly VQ_MAX_SEGS descriptors is fine. */
START_TEST(longest_chain)
{
        setup_queue(256, false);
        struct buf b[VQ_MAX_SEGS];
        for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
                b[i] = (struct buf){ DATA_GPA + i, 1, i >= 10 };
        add_chain(b, VQ_MAX_SEGS);
        expect_ok();
        ck_assert_uint_eq(c.nseg, VQ_MAX_SEGS);
        ck_assert_uint_eq(c.nread, 10);
}
END_TEST

/* A chain as long as the queue is fine too. */
START_TEST(chain_as_long_as_queue)
{
        setup_queue(4, false);
        const struct buf b[] = { { DATA_GPA, 1, false },
                                 { DATA_GPA + 1, 1, false },
                                 { DATA_GPA + 2, 1, true },
                                 { DATA_GPA + 3, 1, true } };
        add_chain(b, 4);
        expect_ok();
        ck_assert_uint_eq(c.nseg, 4);
}
END_TEST

/* --- malformed rings -------------------------------------------------- */

/* Every descriptor a one-descriptor chain, every ring entry naming one. */
static void valid_ring(void)
{
        for (uint16_t i = 0; i < q.size; i++) {
                desc(i, DATA_GPA, 1, 0, 0);
                w16(AVAIL_GPA + 4 + 2ull * i, i);
        }
}

START_TEST(avail_idx_too_far_ahead)
{
        /* Exactly a queue ahead is legal; one more is not. */
        for (uint16_t i = 0; i < 8; i++)
                desc(i, DATA_GPA, 1, 0, 0);
        for (uint16_t i = 0; i < 8; i++)
                publish(i);
        ck_assert_uint_eq(drv_avail, 8);
        expect_ok();
        /* The ring otherwise valid: every descriptor and entry fine. */
        setup_queue(8, false);
        valid_ring();
        w16(AVAIL_GPA + 2, 9);
        expect_error();
        /* Behind last_avail reads as far ahead too (0 - 1 = 0xffff). */
        setup_queue(8, false);
        valid_ring();
        q.last_avail = 1;
        w16(AVAIL_GPA + 2, 0);
        expect_error();
}
END_TEST

/* Descriptor 8 of a queue of 8 is past the table, where memory holds
 * what looks like a good descriptor. */
START_TEST(head_out_of_range)
{
        desc(8, DATA_GPA, 16, 0, 0);
        publish(8);
        expect_error();
}
END_TEST

START_TEST(next_out_of_range)
{
        desc(0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 8);
        desc(8, DATA_GPA, 16, 0, 0);
        publish(0);
        expect_error();
}
END_TEST

/* The same with the table at the very end of RAM: no read past it. */
START_TEST(index_out_of_range_at_end_of_ram)
{
        q.desc_gpa = RAM_SIZE - 16 * 8;
        ck_assert_ptr_null(vq_check_config(&q, VQ_MAX_SIZE, &mem));
        w16(AVAIL_GPA + 4, 0xffff);
        w16(AVAIL_GPA + 2, 1);
        expect_error();
}
END_TEST

START_TEST(buffer_outside_ram)
{
        desc(0, RAM_SIZE, 1, 0, 0);
        publish(0);
        expect_error();
}
END_TEST

START_TEST(buffer_crossing_end_of_ram)
{
        desc(0, RAM_SIZE - 4, 8, 0, 0);
        publish(0);
        expect_error();
}
END_TEST

START_TEST(buffer_address_wraps)
{
        desc(0, UINT64_MAX - 1, 4, 0, 0);
        publish(0);
        expect_error();
}
END_TEST

/* A good readable descriptor 0 chained to descriptor 1 as given: the fault
 * is found only in the chain's second descriptor. */
static void expect_error_in_second(uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
        desc(0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
        desc(1, addr, len, flags, next);
        publish(0);
        expect_error();
}

START_TEST(buffer_outside_ram_later_in_chain)
{
        expect_error_in_second(DATA_GPA, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
}
END_TEST

START_TEST(zero_length)
{
        expect_error_in_second(DATA_GPA, 0, VIRTQ_DESC_F_WRITE, 0);
}
END_TEST

START_TEST(loop)
{
        expect_error_in_second(DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 0); /* back to 0 */
}
END_TEST

START_TEST(self_loop)
{
        desc(3, DATA_GPA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
        publish(3);
        expect_error();
}
END_TEST

/* Longer than VQ_MAX_SEGS without a loop (a queue of 256). */
START_TEST(chain_longer_than_max_segs)
{
        setup_queue(256, false);
        struct buf b[VQ_MAX_SEGS + 1];
        for (unsigned i = 0; i < VQ_MAX_SEGS + 1; i++)
                b[i] = (struct buf){ DATA_GPA + i, 1, true };
        add_chain(b, VQ_MAX_SEGS + 1);
        expect_error();
}
END_TEST

START_TEST(readable_after_writable)
{
        const struct buf b[] = { { DATA_GPA, 16, false },
                                 { DATA_GPA + 16, 16, true },
                                 { DATA_GPA + 32, 16, false } };
        add_chain(b, 3);
        expect_error();
}
END_TEST

START_TEST(indirect)
{
        desc(0, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
        publish(0);
        expect_error();
}
END_TEST

/* Once broken, the queue stays broken whatever the driver fixes, pushes
 * nothing and asks for no interrupt; a reset and a new setup revive it. */
START_TEST(broken_is_sticky)
{
        publish(9);
        expect_error();
        w16(AVAIL_GPA + 4, 0);
        desc(0, DATA_GPA, 16, 0, 0);
        expect_error();
        ck_assert(!vq_has_avail(&q, &mem));
        vq_push(&q, &mem, 0, 1);
        ck_assert_uint_eq(used_idx(), 0);
        ck_assert(!vq_should_interrupt(&q, &mem));

        setup_queue(8, false);
        desc(0, DATA_GPA, 16, 0, 0);
        publish(0);
        expect_ok();
}
END_TEST

/* The chain holds what the descriptors said when it was taken. */
START_TEST(rewrite_after_pop)
{
        desc(0, DATA_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
        publish(0);
        expect_ok();
        desc(0, RAM_SIZE * 2, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
        ck_assert_ptr_eq(c.seg[0].ptr, ram + DATA_GPA);
        ck_assert_uint_eq(c.seg[0].len, 16);
}
END_TEST

/* --- index wraparound ------------------------------------------------- */

static void run_across_wrap(uint16_t size, uint16_t start, unsigned rounds)
{
        setup_queue(size, false);
        q.last_avail = q.used_idx = q.signalled = start;
        drv_avail = start;
        w16(AVAIL_GPA + 2, start);
        w16(USED_GPA + 2, start);
        for (unsigned r = 0; r < rounds; r++) {
                /* A batch of up to a whole queue at a time. */
                unsigned batch = 1 + r % size;
                uint16_t heads[VQ_MAX_SIZE];
                for (unsigned k = 0; k < batch; k++) {
                        const struct buf b = { DATA_GPA + 64 * k, 64, true };
                        heads[k] = add_chain(&b, 1);
                }
                for (unsigned k = 0; k < batch; k++) {
                        expect_ok();
                        ck_assert_uint_eq(c.head, heads[k]);
                        ck_assert_ptr_eq(c.seg[0].ptr, ram + DATA_GPA + 64 * k);
                        uint16_t slot = q.used_idx;
                        vq_push(&q, &mem, c.head, k);
                        ck_assert_uint_eq(used_id(slot), heads[k]);
                        ck_assert_uint_eq(used_len(slot), k);
                        ck_assert_uint_eq(used_idx(), (uint16_t)(slot + 1));
                }
                const char *err = NULL;
                ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_EMPTY);
                ck_assert_uint_eq(q.last_avail, drv_avail);
        }
        ck_assert(!q.broken);
}

START_TEST(wraparound)
{
        run_across_wrap(8, 65530, 20);
        run_across_wrap(1, 65534, 5);
        run_across_wrap(256, 65400, 3);
        run_across_wrap(4, 0xffff, 9);
}
END_TEST

/* A full queue ahead across the wrap is still exactly a queue. */
START_TEST(full_queue_across_wrap)
{
        setup_queue(8, false);
        q.last_avail = 65532;
        drv_avail = 65532;
        for (uint16_t i = 0; i < 8; i++)
                desc(i, DATA_GPA, 1, 0, 0);
        for (uint16_t i = 0; i < 8; i++)
                publish(i);
        ck_assert_uint_eq(r16(AVAIL_GPA + 2), 4);
        for (unsigned i = 0; i < 8; i++) {
                expect_ok();
                ck_assert_uint_eq(c.head, i);
        }
        ck_assert_uint_eq(q.last_avail, 4);
        setup_queue(8, false);
        valid_ring();
        q.last_avail = 65532;
        w16(AVAIL_GPA + 2, 5); /* 9 ahead */
        expect_error();
}
END_TEST

/* --- interrupts and notifications -------------------------------------- */

static void push_one(void)
{
        const struct buf b = { DATA_GPA, 8, true };
        add_chain(&b, 1);
        expect_ok();
        vq_push(&q, &mem, c.head, 8);
}

START_TEST(no_interrupt_flag)
{
        ck_assert(!vq_should_interrupt(&q, &mem)); /* nothing pushed */
        push_one();
        ck_assert(vq_should_interrupt(&q, &mem));
        ck_assert_uint_eq(q.signalled, 1);
        ck_assert(!vq_should_interrupt(&q, &mem)); /* nothing new */
        w16(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
        push_one();
        ck_assert(!vq_should_interrupt(&q, &mem));
        ck_assert_uint_eq(q.signalled, 1);
        w16(AVAIL_GPA, 0);
        ck_assert(vq_should_interrupt(&q, &mem)); /* the push still unsignalled */
        ck_assert_uint_eq(q.signalled, 2);
}
END_TEST

/* Without EVENT_IDX the device does not look at used_event. */
START_TEST(used_event_ignored_without_event_idx)
{
        w16(AVAIL_GPA + 4 + 2 * 8, 100);
        push_one();
        ck_assert(vq_should_interrupt(&q, &mem));
}
END_TEST

#define USED_EVENT  (AVAIL_GPA + 4 + 2 * 8)
#define AVAIL_EVENT (USED_GPA + 4 + 8 * 8)

START_TEST(event_idx_interrupts)
{
        setup_queue(8, true);
        /* used_event 0: interrupt once used idx passes 0. */
        w16(USED_EVENT, 0);
        push_one();
        ck_assert(vq_should_interrupt(&q, &mem));
        /* The driver has not moved used_event: no more interrupts. */
        push_one();
        ck_assert(!vq_should_interrupt(&q, &mem));
        push_one();
        ck_assert(!vq_should_interrupt(&q, &mem));
        /* used_event 4: the next push makes used idx 4, not past 4. */
        w16(USED_EVENT, 4);
        push_one();
        ck_assert_uint_eq(q.used_idx, 4);
        ck_assert(!vq_should_interrupt(&q, &mem));
        push_one(); /* used idx 5: passed 4 */
        ck_assert(vq_should_interrupt(&q, &mem));
        ck_assert_uint_eq(q.signalled, 5);
        /* The flag means nothing with EVENT_IDX. */
        w16(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
        w16(USED_EVENT, 5);
        push_one();
        ck_assert(vq_should_interrupt(&q, &mem));
}
END_TEST

/* A used_event passed by one of several pushes since the last interrupt
 * still interrupts; one already passed before it does not. */
START_TEST(event_idx_batches)
{
        setup_queue(8, true);
        w16(USED_EVENT, 2);
        push_one();
        push_one();
        push_one();
        push_one(); /* used idx 1..4 */
        ck_assert(vq_should_interrupt(&q, &mem));
        ck_assert_uint_eq(q.signalled, 4);
        push_one(); /* used idx 5: event 2 was passed before the last interrupt */
        ck_assert(!vq_should_interrupt(&q, &mem));
}
END_TEST

START_TEST(event_idx_wraparound)
{
        setup_queue(8, true);
        q.last_avail = q.used_idx = q.signalled = 65534;
        drv_avail = 65534;
        w16(AVAIL_GPA + 2, 65534);
        w16(USED_EVENT, 65535);
        push_one(); /* 65535 */
        ck_assert(!vq_should_interrupt(&q, &mem));
        push_one(); /* 0: passed 65535 */
        ck_assert(vq_should_interrupt(&q, &mem));
        ck_assert_uint_eq(q.signalled, 0);
        w16(USED_EVENT, 0);
        push_one(); /* 1: passed 0 */
        ck_assert(vq_should_interrupt(&q, &mem));
}
END_TEST

/* avail_event follows last_avail: published after each chain taken and
 * when the queue is found empty. */
START_TEST(event_idx_avail_event)
{
        setup_queue(8, true);
        w16(AVAIL_EVENT, 0x1234);
        const char *err = NULL;
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_EMPTY);
        ck_assert_uint_eq(r16(AVAIL_EVENT), 0);
        const struct buf b = { DATA_GPA, 8, true };
        add_chain(&b, 1);
        add_chain(&b, 1);
        expect_ok();
        ck_assert_uint_eq(r16(AVAIL_EVENT), 1);
        expect_ok();
        ck_assert_uint_eq(r16(AVAIL_EVENT), 2);
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_EMPTY);
        ck_assert_uint_eq(r16(AVAIL_EVENT), 2);
}
END_TEST

/* Without EVENT_IDX, avail_event is left alone (it may not exist). */
START_TEST(no_avail_event_without_event_idx)
{
        w16(AVAIL_EVENT, 0x1234);
        push_one();
        const char *err = NULL;
        ck_assert_int_eq(vq_pop(&q, &mem, &c, &err), VQ_EMPTY);
        ck_assert_uint_eq(r16(AVAIL_EVENT), 0x1234);
}
END_TEST

/* --- copying in and out of chains ---------------------------------------- */

START_TEST(chain_read_write_split)
{
        /* Readable: 3 + 1 + 7 bytes; writable: 2 + 5 + 1 bytes. */
        const struct buf b[] = { { DATA_GPA, 3, false },       { DATA_GPA + 100, 1, false },
                                 { DATA_GPA + 201, 7, false }, { DATA_GPA + 300, 2, true },
                                 { DATA_GPA + 403, 5, true },  { DATA_GPA + 511, 1, true } };
        const uint8_t in[11] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
        memcpy(ram + DATA_GPA, in, 3);
        memcpy(ram + DATA_GPA + 100, in + 3, 1);
        memcpy(ram + DATA_GPA + 201, in + 4, 7);
        add_chain(b, 6);
        expect_ok();

        uint8_t out[16];
        memset(out, 0, sizeof(out));
        ck_assert_uint_eq(vq_chain_read(&c, 0, out, 11), 11);
        ck_assert_mem_eq(out, in, 11);
        memset(out, 0, sizeof(out));
        ck_assert_uint_eq(vq_chain_read(&c, 2, out, 5), 5); /* across two boundaries */
        ck_assert_mem_eq(out, in + 2, 5);
        ck_assert_uint_eq(vq_chain_read(&c, 9, out, 16), 2); /* short */
        ck_assert_mem_eq(out, in + 9, 2);
        ck_assert_uint_eq(vq_chain_read(&c, 11, out, 1), 0);
        ck_assert_uint_eq(vq_chain_read(&c, UINT64_MAX, out, 1), 0);

        const uint8_t w[8] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8 };
        ck_assert_uint_eq(vq_chain_write(&c, 1, w, 6), 6);
        ck_assert_uint_eq(ram[DATA_GPA + 300], 0);
        ck_assert_uint_eq(ram[DATA_GPA + 301], 0xa1);
        ck_assert_mem_eq(ram + DATA_GPA + 403, w + 1, 5);
        ck_assert_uint_eq(ram[DATA_GPA + 511], 0);
        ck_assert_uint_eq(vq_chain_write(&c, 7, w, 8), 1); /* only the last byte fits */
        ck_assert_uint_eq(ram[DATA_GPA + 511], 0xa1);
        ck_assert_uint_eq(ram[DATA_GPA + 512], 0);
        ck_assert_uint_eq(vq_chain_write(&c, 8, w, 8), 0);
        /* Writes never land in the readable part. */
        ck_assert_mem_eq(ram + DATA_GPA + 201, in + 4, 7);
}
END_TEST

START_TEST(chain_read_write_one_side_only)
{
        const struct buf b[] = { { DATA_GPA, 4, true } };
        add_chain(b, 1);
        expect_ok();
        uint8_t x[4] = { 9, 9, 9, 9 };
        ck_assert_uint_eq(vq_chain_read(&c, 0, x, 4), 0);
        ck_assert_uint_eq(vq_chain_write(&c, 0, x, 4), 4);
        const struct buf r[] = { { DATA_GPA, 4, false } };
        add_chain(r, 1);
        expect_ok();
        ck_assert_uint_eq(vq_chain_write(&c, 0, x, 4), 0);
        ck_assert_uint_eq(vq_chain_read(&c, 0, x, 4), 4);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("virtqueue");
        TCase *cfg = tcase_create("config");
        tcase_add_checked_fixture(cfg, setup, teardown);
        tcase_add_test(cfg, config_valid);
        tcase_add_test(cfg, config_sizes);
        tcase_add_test(cfg, config_alignment);
        tcase_add_test(cfg, config_placement);
        tcase_add_test(cfg, unconfigured_queue);
        tcase_add_test(cfg, reset_clears_everything);
        suite_add_tcase(s, cfg);

        TCase *pop = tcase_create("pop");
        tcase_add_checked_fixture(pop, setup, teardown);
        tcase_add_test(pop, empty_queue);
        tcase_add_test(pop, pop_and_push);
        tcase_add_test(pop, scattered_descriptors);
        tcase_add_test(pop, buffer_at_end_of_ram);
        tcase_add_test(pop, longest_chain);
        tcase_add_test(pop, chain_as_long_as_queue);
        tcase_add_test(pop, rewrite_after_pop);
        tcase_add_test(pop, wraparound);
        tcase_add_test(pop, full_queue_across_wrap);
        suite_add_tcase(s, pop);

        TCase *bad = tcase_create("malformed");
        tcase_add_checked_fixture(bad, setup, teardown);
        tcase_add_test(bad, avail_idx_too_far_ahead);
        tcase_add_test(bad, head_out_of_range);
        tcase_add_test(bad, next_out_of_range);
        tcase_add_test(bad, index_out_of_range_at_end_of_ram);
        tcase_add_test(bad, buffer_outside_ram);
        tcase_add_test(bad, buffer_crossing_end_of_ram);
        tcase_add_test(bad, buffer_address_wraps);
        tcase_add_test(bad, buffer_outside_ram_later_in_chain);
        tcase_add_test(bad, zero_length);
        tcase_add_test(bad, loop);
        tcase_add_test(bad, self_loop);
        tcase_add_test(bad, chain_longer_than_max_segs);
        tcase_add_test(bad, readable_after_writable);
        tcase_add_test(bad, indirect);
        tcase_add_test(bad, broken_is_sticky);
        suite_add_tcase(s, bad);

        TCase *irq = tcase_create("interrupts");
        tcase_add_checked_fixture(irq, setup, teardown);
        tcase_add_test(irq, no_interrupt_flag);
        tcase_add_test(irq, used_event_ignored_without_event_idx);
        tcase_add_test(irq, event_idx_interrupts);
        tcase_add_test(irq, event_idx_batches);
        tcase_add_test(irq, event_idx_wraparound);
        tcase_add_test(irq, event_idx_avail_event);
        tcase_add_test(irq, no_avail_event_without_event_idx);
        suite_add_tcase(s, irq);

        TCase *copy = tcase_create("copy");
        tcase_add_checked_fixture(copy, setup, teardown);
        tcase_add_test(copy, chain_read_write_split);
        tcase_add_test(copy, chain_read_write_one_side_only);
        suite_add_tcase(s, copy);
        return unit_run_suite(s);
}
