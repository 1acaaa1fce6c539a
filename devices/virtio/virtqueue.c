#include "devices/virtio/virtqueue.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* The split virtqueue layout (virtio 1.2, 2.7), queue size n:
 *
 *   descriptor table (2.7.5)  n x { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring (2.7.6)    le16 flags; le16 idx; le16 ring[n]; le16 used_event;
 *   used ring (2.7.8)         le16 flags; le16 idx; { le32 id; le32 len; } ring[n];
 *                             le16 avail_event;
 *
 * The event fields exist only with VIRTIO_F_EVENT_IDX but are counted in
 * the ring sizes always, as 2.7.2's table does.  x86 is little-endian, so
 * the le16/le32 ring fields are loaded and stored natively. */
#define DESC_SIZE      16
#define DESC_ADDR      0
#define DESC_LEN       8
#define DESC_FLAGS     12
#define DESC_NEXT      14
#define AVAIL_FLAGS    0
#define AVAIL_IDX      2
#define AVAIL_RING     4
#define USED_FLAGS     0
#define USED_IDX       2
#define USED_RING      4
#define USED_ELEM_SIZE 8

static uint64_t desc_bytes(uint16_t n)
{
        return (uint64_t)DESC_SIZE * n;
}

static uint64_t avail_bytes(uint16_t n)
{
        return 6 + 2 * (uint64_t)n;
}

static uint64_t used_bytes(uint16_t n)
{
        return 6 + (uint64_t)USED_ELEM_SIZE * n;
}

/* The driver reads and writes the rings while the device does, so every
 * ring index (and the ring entries next to them) is loaded and stored
 * exactly once, at its natural alignment: volatile keeps the compiler from
 * splitting, repeating or reordering these accesses. */
static uint16_t load16(const uint8_t *p)
{
        return *(const volatile uint16_t *)(const void *)p;
}

static void store16(uint8_t *p, uint16_t v)
{
        *(volatile uint16_t *)(void *)p = v;
}

static void store32(uint8_t *p, uint32_t v)
{
        *(volatile uint32_t *)(void *)p = v;
}

/* A full fence.  TSO keeps stores in order and loads in order, but lets a
 * load pass an earlier store; the two places that store an index and then
 * load the driver's view of it (the event-index handshakes, 2.7.7.2 and
 * 2.7.10) need the store seen first, else a notification or an interrupt
 * can be lost. */
static void full_fence(void)
{
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

struct rings {
        uint8_t *desc, *avail, *used;
};

/* The three rings in host memory, or false when the queue's configuration
 * is not one vq_check_config accepts (a caller that skipped the check
 * cannot make the device step outside guest RAM or misalign an index). */
static bool get_rings(const struct virtqueue *q, const struct guest_mem *m, struct rings *r)
{
        if (vq_check_config(q, VQ_MAX_SIZE, m))
                return false;
        r->desc = guest_mem_ptr(m, q->desc_gpa, desc_bytes(q->size));
        r->avail = guest_mem_ptr(m, q->avail_gpa, avail_bytes(q->size));
        r->used = guest_mem_ptr(m, q->used_gpa, used_bytes(q->size));
        return true;
}

/* 2.7.7.2 / 2.7.10's vring_need_event: whether moving an index from old to
 * new passed event (event in [old, new) modulo 2^16). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
        return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void vq_reset(struct virtqueue *q)
{
        vtv_memset(q, 0, sizeof(*q));
}

const char *vq_check_config(const struct virtqueue *q, uint16_t max_size, const struct guest_mem *m)
{
        uint16_t n = q->size;
        /* 2.7: Queue Size is a power of 2, at most what the device offers. */
        if (n == 0 || (n & (n - 1)) != 0)
                return "queue size is not a power of two";
        if (n > max_size || n > VQ_MAX_SIZE)
                return "queue size is larger than the device's maximum";
        /* 2.7.2: the alignment each part of the queue needs. */
        if (!IS_ALIGNED(q->desc_gpa, 16))
                return "descriptor table is not 16-byte aligned";
        if (!IS_ALIGNED(q->avail_gpa, 2))
                return "available ring is not 2-byte aligned";
        if (!IS_ALIGNED(q->used_gpa, 4))
                return "used ring is not 4-byte aligned";
        if (!guest_mem_ptr(m, q->desc_gpa, desc_bytes(n)))
                return "descriptor table is outside guest RAM";
        if (!guest_mem_ptr(m, q->avail_gpa, avail_bytes(n)))
                return "available ring is outside guest RAM";
        if (!guest_mem_ptr(m, q->used_gpa, used_bytes(n)))
                return "used ring is outside guest RAM";
        return NULL;
}

static enum vq_result fail(struct virtqueue *q, const char **err, const char *why)
{
        q->broken = true;
        if (err)
                *err = why;
        return VQ_ERROR;
}

/* With EVENT_IDX the device tells the driver, in avail_event, the
 * available index whose addition it wants to be notified of (2.7.10):
 * the next one it will take, so the driver notifies for any chain it adds
 * from now on. */
static void publish_avail_event(const struct virtqueue *q, const struct rings *r)
{
        store16(r->used + USED_RING + USED_ELEM_SIZE * (uint64_t)q->size, q->last_avail);
}

/* Walks the chain starting at descriptor head into *c.  NULL when fine. */
static const char *walk_chain(const struct virtqueue *q, const struct guest_mem *m,
                              const struct rings *r, uint16_t head, struct vq_chain *c)
{
        c->head = head;
        c->nseg = c->nread = 0;
        c->read_len = c->write_len = 0;
        uint16_t i = head;
        for (;;) {
                /* 2.7.5.3.1: a chain is at most the queue size long, and
                 * ours at most VQ_MAX_SEGS: a loop runs into this bound. */
                if (c->nseg >= q->size || c->nseg >= VQ_MAX_SEGS)
                        return "descriptor chain is longer than the queue (or loops)";
                /* One copy of the descriptor, so the checks below and the
                 * use after them see the same values. */
                uint8_t d[DESC_SIZE];
                vtv_memcpy(d, r->desc + DESC_SIZE * (uint64_t)i, DESC_SIZE);
                uint64_t addr = get64(d + DESC_ADDR);
                uint32_t len = get32(d + DESC_LEN);
                uint16_t flags = get16(d + DESC_FLAGS);
                uint16_t next = get16(d + DESC_NEXT);

                if (flags & VIRTQ_DESC_F_INDIRECT)
                        return "indirect descriptor (VIRTIO_F_INDIRECT_DESC was not offered)";
                if (len == 0)
                        return "descriptor of length 0";
                uint8_t *p = guest_mem_ptr(m, addr, len);
                if (!p)
                        return "descriptor buffer is outside guest RAM";
                bool write = (flags & VIRTQ_DESC_F_WRITE) != 0;
                /* 2.7.4.2: device-readable descriptors come first. */
                if (!write && c->nread != c->nseg)
                        return "device-readable descriptor after a device-writable one";

                struct vq_seg *s = &c->seg[c->nseg++];
                s->ptr = p;
                s->len = len;
                s->write = write;
                if (write) {
                        c->write_len += len;
                } else {
                        c->nread++;
                        c->read_len += len;
                }
                if (!(flags & VIRTQ_DESC_F_NEXT))
                        return NULL;
                if (next >= q->size)
                        return "descriptor's next index is beyond the queue size";
                i = next;
        }
}

enum vq_result vq_pop(struct virtqueue *q, const struct guest_mem *m, struct vq_chain *c,
                      const char **err)
{
        if (q->broken)
                return fail(q, err, "queue was found malformed before; the device needs a reset");
        struct rings r;
        if (!get_rings(q, m, &r))
                return fail(q, err, "queue used without a valid configuration");

        uint16_t avail_idx = load16(r.avail + AVAIL_IDX);
        if (avail_idx == q->last_avail && q->event_idx) {
                /* Ask to be notified of the next chain, then look again:
                 * one added before the driver could see the request would
                 * otherwise go unnoticed until the next notification. */
                publish_avail_event(q, &r);
                full_fence();
                avail_idx = load16(r.avail + AVAIL_IDX);
        }
        uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
        /* 2.7.6: the driver is never more than a whole queue ahead. */
        if (pending > q->size)
                return fail(q, err, "available index is more than the queue size ahead");
        if (pending == 0)
                return VQ_EMPTY;

        /* The entry is read after idx; x86 keeps loads in order and
         * volatile keeps the compiler from hoisting it. */
        uint16_t head =
            load16(r.avail + AVAIL_RING + 2 * (uint64_t)(q->last_avail & (q->size - 1)));
        if (head >= q->size)
                return fail(q, err, "available ring names a descriptor beyond the queue size");
        const char *why = walk_chain(q, m, &r, head, c);
        if (why)
                return fail(q, err, why);
        q->last_avail++;
        if (q->event_idx)
                publish_avail_event(q, &r);
        return VQ_OK;
}

void vq_push(struct virtqueue *q, const struct guest_mem *m, uint16_t head, uint32_t written)
{
        struct rings r;
        if (q->broken || !get_rings(q, m, &r))
                return;
        /* 2.7.8: the element first, then the index that makes it visible
         * (the volatile stores keep that order; x86 keeps it too). */
        uint8_t *e = r.used + USED_RING + USED_ELEM_SIZE * (uint64_t)(q->used_idx & (q->size - 1));
        store32(e, head);
        store32(e + 4, written);
        q->used_idx++;
        store16(r.used + USED_IDX, q->used_idx);
}

bool vq_should_interrupt(struct virtqueue *q, const struct guest_mem *m)
{
        struct rings r;
        if (q->broken || !get_rings(q, m, &r))
                return false;
        if (q->used_idx == q->signalled)
                return false;
        /* The used index stored by vq_push must be visible before the
         * driver's suppression fields are read (see full_fence). */
        full_fence();
        bool want;
        if (q->event_idx) {
                /* 2.7.10: interrupt when the used index passed used_event
                 * since the last interrupt. */
                uint16_t used_event = load16(r.avail + AVAIL_RING + 2 * (uint64_t)q->size);
                want = need_event(used_event, q->used_idx, q->signalled);
        } else {
                /* 2.7.7.2: without EVENT_IDX, a flag the device honours. */
                want = !(load16(r.avail + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
        }
        if (want)
                q->signalled = q->used_idx;
        return want;
}

bool vq_has_avail(const struct virtqueue *q, const struct guest_mem *m)
{
        struct rings r;
        if (q->broken || !get_rings(q, m, &r))
                return false;
        return load16(r.avail + AVAIL_IDX) != q->last_avail;
}

/* Copies between a flat buffer and bytes [off, off+len) of segments
 * [first, first+n) of c; to_chain picks the direction.  The walk stays
 * inside the segments whatever read_len and write_len say. */
static uint64_t chain_copy(const struct vq_chain *c, unsigned first, unsigned n, uint64_t off,
                           uint8_t *buf, uint64_t len, bool to_chain)
{
        uint64_t done = 0;
        for (unsigned i = first; i < first + n && done < len; i++) {
                const struct vq_seg *s = &c->seg[i];
                if (off >= s->len) {
                        off -= s->len;
                        continue;
                }
                uint64_t k = MIN(len - done, s->len - off);
                if (to_chain)
                        vtv_memcpy(s->ptr + off, buf + done, (size_t)k);
                else
                        vtv_memcpy(buf + done, s->ptr + off, (size_t)k);
                done += k;
                off = 0;
        }
        return done;
}

uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len)
{
        unsigned nseg = MIN(c->nseg, (unsigned)VQ_MAX_SEGS);
        unsigned nread = MIN(c->nread, nseg);
        return chain_copy(c, 0, nread, off, dst, len, false);
}

uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len)
{
        unsigned nseg = MIN(c->nseg, (unsigned)VQ_MAX_SEGS);
        unsigned nread = MIN(c->nread, nseg);
        /* chain_copy only reads through buf when copying into the chain. */
        return chain_copy(c, nread, nseg - nread, off, (uint8_t *)(uintptr_t)src, len, true);
}
