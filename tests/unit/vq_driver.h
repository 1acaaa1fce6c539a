/* The driver side of a split virtqueue, for host unit tests that drive
 * devices/virtio/virtqueue.c (directly or through a device) the way a guest
 * driver would.
 *
 * Each test is one translation unit, so this header owns that test's state:
 * guest RAM (one heap block, `ram`, described by `mem`), the device's queue
 * `q`, and the driver's own avail idx and next free descriptor.  The rings
 * sit at fixed addresses in the first 16 KiB of RAM, room for 256
 * descriptors; tests keep their buffers above them.  Everything is static
 * inline so a test that skips a helper builds without warnings. */
#ifndef VTV_TESTS_UNIT_VQ_DRIVER_H
#define VTV_TESTS_UNIT_VQ_DRIVER_H

#include "tests/unit/check_compat.h"
#include "devices/virtio/virtqueue.h"

#define DESC_GPA  0x1000u /* descriptor table, 16 bytes a descriptor */
#define AVAIL_GPA 0x2000u /* flags, idx, ring[size], used_event */
#define USED_GPA  0x3000u /* flags, idx, ring[size] of {id, len}, avail_event */

static uint8_t *ram;
static struct guest_mem mem;
static struct virtqueue q;
static uint16_t drv_avail, drv_next; /* the driver's avail idx, next free descriptor */

/* Stores and loads at a guest-physical address, in host byte order (the
 * tests assume a little-endian host, like the guest). */
static inline void w16(uint64_t gpa, uint16_t v)
{
        memcpy(ram + gpa, &v, 2);
}

static inline void w32(uint64_t gpa, uint32_t v)
{
        memcpy(ram + gpa, &v, 4);
}

static inline void w64(uint64_t gpa, uint64_t v)
{
        memcpy(ram + gpa, &v, 8);
}

static inline uint16_t r16(uint64_t gpa)
{
        uint16_t v;
        memcpy(&v, ram + gpa, 2);
        return v;
}

static inline uint32_t r32(uint64_t gpa)
{
        uint32_t v;
        memcpy(&v, ram + gpa, 4);
        return v;
}

/* Allocates guest RAM of exactly size bytes (ASan then reports any access
 * past it), contents undefined; the test frees `ram` in its teardown. */
static inline void drv_ram_alloc(size_t size)
{
        ram = malloc(size);
        ck_assert_ptr_nonnull(ram);
        mem.base = ram;
        mem.size = size;
}

/* Resets q, configures it at the fixed ring addresses, checks that
 * configuration against a device maximum of max, and readies it; the driver
 * starts again at avail idx 0 and descriptor 0.  RAM is left alone. */
static inline void drv_queue_setup(uint16_t size, uint16_t max, bool event_idx)
{
        vq_reset(&q);
        q.size = size;
        q.desc_gpa = DESC_GPA;
        q.avail_gpa = AVAIL_GPA;
        q.used_gpa = USED_GPA;
        q.event_idx = event_idx;
        ck_assert_ptr_null(vq_check_config(&q, max, &mem));
        q.ready = true;
        drv_avail = drv_next = 0;
}

/* Writes descriptor i. */
static inline void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
        uint64_t d = DESC_GPA + 16ull * i;
        w64(d, addr);
        w32(d + 8, len);
        w16(d + 12, flags);
        w16(d + 14, next);
}

/* Makes head available: ring entry, then idx. */
static inline void publish(uint16_t head)
{
        w16(AVAIL_GPA + 4 + 2ull * (drv_avail % q.size), head);
        drv_avail++;
        w16(AVAIL_GPA + 2, drv_avail);
}

/* One buffer of a chain: device-writable or device-readable. */
struct buf {
        uint64_t gpa;
        uint32_t len;
        bool write;
};

/* Writes a chain of n buffers into consecutive free descriptors (wrapping
 * at the end of the table) and makes it available; returns its head. */
static inline uint16_t add_chain(const struct buf *b, unsigned n)
{
        uint16_t head = drv_next;
        for (unsigned k = 0; k < n; k++) {
                uint16_t i = drv_next, nx = (uint16_t)((drv_next + 1) % q.size);
                desc(i, b[k].gpa, b[k].len,
                     (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
                                (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
                     nx);
                drv_next = nx;
        }
        publish(head);
        return head;
}

/* The used ring as the device left it: its idx, and the head and length
 * of the element in slot (taken modulo the queue size). */
static inline uint16_t used_idx(void)
{
        return r16(USED_GPA + 2);
}

static inline uint32_t used_id(uint16_t slot)
{
        return r32(USED_GPA + 4 + 8ull * (slot % q.size));
}

static inline uint32_t used_len(uint16_t slot)
{
        return r32(USED_GPA + 4 + 8ull * (slot % q.size) + 4);
}

#endif
