/* libFuzzer target for devices/virtio/virtqueue.c and the device models
 * on top of it (virtio_blk.c, virtio_rng.c): the fuzz input is a guest's
 * RAM and queue configuration, the device runs over it.
 *
 * Input:
 *   u8   mode: bit 0 EVENT_IDX; bits 2:1 the device (0 the queue alone,
 *        1 virtio-blk, 2 virtio-blk read-only, 3 virtio-rng); bit 3 lay
 *        out chains like a driver (below); bit 4 keep the rings aligned
 *   u8   queue size: 1 << (v % 10) (512 is too big), or v itself when
 *        bit 7 is set (mostly not a power of two)
 *   u16  x3 descriptor table, available ring, used ring addresses
 *   u16  the starting ring index (last_avail, used_idx, avail idx)
 *   u8   rounds of device work (1-4)
 *   u8   guest RAM size: 4 KiB * (1 + v % 16)
 *   u8   disk size in sectors (blk), or after how many words the entropy
 *        source fails (rng; 0: never)
 *   with bit 3: u8 chains, each u8 descriptors, each u16 address,
 *        u16 length, u8 flags (bit 0 WRITE, bit 1 INDIRECT, bit 2 no
 *        NEXT link); written into consecutive descriptors, published in
 *        the available ring
 *   u8   pokes, each u16 address, u8 value, u8 round: guest writes between
 *        rounds of device work
 *   the rest: the start of guest RAM (under the chains above)
 *
 * Checked: nothing outside guest RAM or the disk is touched (ASan: both
 * are heap blocks of exactly their size); every chain vq_pop returns has
 * 1..min(size, VQ_MAX_SEGS) segments, each non-empty and inside guest RAM,
 * readable ones first, lengths summed right; a queue vq_check_config
 * rejects is never used; VQ_ERROR gives a reason and stays; the used
 * index in guest RAM is the device's; the device models complete exactly
 * the chains they take; a read-only disk never changes. */
#include "tests/fuzz/fuzz.h"

#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_rng.h"
#include "devices/virtio/virtqueue.h"

enum { DEV_QUEUE, DEV_BLK, DEV_BLK_RO, DEV_RNG };

static struct vq_chain chain;
static uint64_t rng_word;
static unsigned rng_fail_at, rng_calls;

static bool rng_source(uint64_t *out)
{
        if (rng_fail_at && ++rng_calls % rng_fail_at == 0)
                return false;
        *out = rng_word++ * 0x9e3779b97f4a7c15ull;
        return true;
}

static void poke(struct guest_mem *m, uint64_t gpa, const void *v, size_t n)
{
        uint8_t *p = guest_mem_ptr(m, gpa, n);
        if (p)
                memcpy(p, v, n);
}

static void poke16(struct guest_mem *m, uint64_t gpa, uint16_t v)
{
        poke(m, gpa, &v, 2);
}

static uint16_t peek16(const struct guest_mem *m, uint64_t gpa)
{
        uint16_t v = 0;
        const uint8_t *p = guest_mem_ptr(m, gpa, 2);
        if (p)
                memcpy(&v, p, 2);
        return v;
}

/* The invariants of a chain vq_pop returned. */
static void check_chain(const struct virtqueue *q, const struct guest_mem *m,
                        const struct vq_chain *c)
{
        CHECK(c->head < q->size);
        CHECK(c->nseg >= 1 && c->nseg <= VQ_MAX_SEGS && c->nseg <= q->size);
        CHECK(c->nread <= c->nseg);
        uint64_t rl = 0, wl = 0;
        for (unsigned i = 0; i < c->nseg; i++) {
                const struct vq_seg *s = &c->seg[i];
                CHECK(s->len > 0);
                CHECK(s->ptr >= m->base && s->ptr <= m->base + m->size);
                CHECK((uint64_t)s->len <= (uint64_t)(m->base + m->size - s->ptr));
                CHECK(s->write == (i >= c->nread));
                if (s->write)
                        wl += s->len;
                else
                        rl += s->len;
        }
        CHECK(rl == c->read_len && wl == c->write_len);
}

/* Lays out chains the way a driver does, from the input. */
static void driver_chains(struct fuzz_in *in, const struct virtqueue *q, struct guest_mem *m,
                          uint16_t *avail_idx)
{
        unsigned nchains = in_u8(in) % 16;
        uint16_t next = 0;
        for (unsigned k = 0; k < nchains && !in_empty(in); k++) {
                unsigned ndesc = 1 + in_u8(in) % 8;
                uint16_t head = next;
                for (unsigned j = 0; j < ndesc; j++) {
                        uint64_t addr = in_u16(in);
                        uint32_t len = in_u16(in);
                        uint8_t f = in_u8(in);
                        uint16_t i = next;
                        next = (uint16_t)((next + 1) % q->size);
                        uint16_t flags =
                            (uint16_t)((f & 1 ? VIRTQ_DESC_F_WRITE : 0) |
                                       (f & 2 ? VIRTQ_DESC_F_INDIRECT : 0) |
                                       (j + 1 < ndesc && !(f & 4) ? VIRTQ_DESC_F_NEXT : 0));
                        uint8_t d[16];
                        memcpy(d, &addr, 8);
                        memcpy(d + 8, &len, 4);
                        memcpy(d + 12, &flags, 2);
                        memcpy(d + 14, &next, 2);
                        poke(m, q->desc_gpa + 16ull * i, d, 16);
                }
                poke16(m, q->avail_gpa + 4 + 2ull * (*avail_idx % q->size), head);
                (*avail_idx)++;
        }
        poke16(m, q->avail_gpa + 2, *avail_idx);
}

struct pokes {
        unsigned n;
        struct {
                uint16_t gpa;
                uint8_t val, round;
        } p[32];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t mode = in_u8(&in);
        uint8_t sz = in_u8(&in);
        struct virtqueue q;
        vq_reset(&q);
        q.size = (uint16_t)((sz & 0x80) ? sz : 1u << (sz % 10));
        q.desc_gpa = in_u16(&in);
        q.avail_gpa = in_u16(&in);
        q.used_gpa = in_u16(&in);
        if (mode & 16) {
                q.desc_gpa &= ~15ull;
                q.avail_gpa &= ~1ull;
                q.used_gpa &= ~3ull;
        }
        q.event_idx = mode & 1;
        uint16_t start = in_u16(&in);
        unsigned rounds = 1 + in_u8(&in) % 4;
        uint64_t ram_size = 4096ull * (1 + in_u8(&in) % 16);
        uint8_t param = in_u8(&in);
        int dev = (mode >> 1) & 3;

        struct guest_mem m = { calloc(1, ram_size), ram_size };
        CHECK(m.base);
        const char *bad = vq_check_config(&q, VQ_MAX_SIZE, &m);
        q.ready = bad == NULL;
        q.last_avail = q.used_idx = q.signalled = start;
        uint16_t avail_idx = start;
        if (q.ready) {
                poke16(&m, q.avail_gpa + 2, start);
                poke16(&m, q.used_gpa + 2, start);
                if (mode & 8)
                        driver_chains(&in, &q, &m, &avail_idx);
        }
        struct pokes pk;
        pk.n = in_u8(&in) % 33;
        for (unsigned i = 0; i < pk.n; i++) {
                pk.p[i].gpa = in_u16(&in);
                pk.p[i].val = in_u8(&in);
                pk.p[i].round = in_u8(&in);
        }
        /* The rest of the input: RAM under the rings the driver wrote.
         * Copied only where RAM is still zero, so the chains survive. */
        size_t got;
        const uint8_t *img = in_bytes(&in, ram_size, &got);
        for (size_t i = 0; i < got; i++)
                if (!m.base[i])
                        m.base[i] = img[i];

        struct virtio_blk blk;
        uint8_t *disk = NULL, *disk0 = NULL;
        uint64_t disk_size = (uint64_t)(1 + param) * VIRTIO_BLK_SECTOR;
        if (dev == DEV_BLK || dev == DEV_BLK_RO) {
                disk = malloc(disk_size);
                disk0 = malloc(disk_size);
                CHECK(disk && disk0);
                for (uint64_t i = 0; i < disk_size; i++)
                        disk[i] = (uint8_t)(i * 31 + (i >> 9));
                memcpy(disk0, disk, disk_size);
                uint64_t features;
                uint8_t devcfg[64];
                unsigned devcfg_len = 0;
                virtio_blk_init(&blk, disk, disk_size, dev == DEV_BLK_RO, "fuzz", &features, devcfg,
                                &devcfg_len);
                CHECK(devcfg_len <= sizeof(devcfg));
        }
        rng_word = 0;
        rng_calls = 0;
        rng_fail_at = param;

        bool was_broken = false;
        uint16_t pushes = 0; /* chains completed (modulo 2^16) */
        for (unsigned r = 0; r < rounds; r++) {
                for (unsigned i = 0; i < pk.n; i++)
                        if (pk.p[i].round % rounds == r)
                                poke(&m, pk.p[i].gpa, &pk.p[i].val, 1);
                const char *err = NULL;
                enum vq_result res = VQ_EMPTY;
                bool pushed = false;
                uint16_t used0 = q.used_idx;
                switch (dev) {
                case DEV_QUEUE:
                        for (unsigned n = 0; n < 2u * VQ_MAX_SIZE + 2; n++) {
                                bool had = vq_has_avail(&q, &m);
                                res = vq_pop(&q, &m, &chain, &err);
                                if (res != VQ_OK)
                                        break;
                                CHECK(had);
                                check_chain(&q, &m, &chain);
                                /* Copy out of and into the chain at an
                                 * offset the round picks. */
                                uint8_t buf[64];
                                uint64_t off = (uint64_t)(r * 37 + n * 11) % 96;
                                CHECK(vq_chain_read(&chain, off, buf, sizeof(buf)) <=
                                      MIN((uint64_t)sizeof(buf),
                                          chain.read_len > off ? chain.read_len - off : 0));
                                uint64_t w = vq_chain_write(&chain, off, buf, sizeof(buf));
                                CHECK(w <= sizeof(buf));
                                vq_push(&q, &m, chain.head, (uint32_t)w);
                                pushes++;
                                CHECK(peek16(&m, q.used_gpa + 2) == q.used_idx);
                        }
                        break;
                case DEV_BLK:
                case DEV_BLK_RO: {
                        uint64_t req0 = blk.requests;
                        res = virtio_blk_process(&blk, &q, &m, &chain, &pushed, &err);
                        CHECK(blk.errors <= blk.requests);
                        CHECK((uint16_t)(blk.requests - req0) == (uint16_t)(q.used_idx - used0));
                        pushes = (uint16_t)(pushes + (q.used_idx - used0));
                        if (dev == DEV_BLK_RO)
                                CHECK(memcmp(disk, disk0, disk_size) == 0);
                        break;
                }
                default:
                        res = virtio_rng_process(&q, &m, &chain, rng_source, &pushed, &err);
                        pushes = (uint16_t)(pushes + (q.used_idx - used0));
                        break;
                }
                /* The last chain the models took (an error leaves a
                 * half-walked one). */
                if (q.used_idx != used0 && res == VQ_EMPTY) {
                        CHECK(pushed || dev == DEV_QUEUE);
                        check_chain(&q, &m, &chain);
                        CHECK(peek16(&m, q.used_gpa + 2) == q.used_idx);
                }
                if (res == VQ_ERROR) {
                        CHECK(err != NULL);
                        CHECK(q.broken);
                        was_broken = true;
                } else {
                        CHECK(res == VQ_EMPTY);
                        CHECK(!was_broken && !bad);
                        CHECK(!vq_has_avail(&q, &m));
                }
                /* A rejected configuration is never used. */
                if (bad)
                        CHECK(res == VQ_ERROR && q.used_idx == start);
                vq_should_interrupt(&q, &m);
        }
        CHECK(q.used_idx == (uint16_t)(start + pushes));
        free(disk);
        free(disk0);
        free(m.base);
        return 0;
}
