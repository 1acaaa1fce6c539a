#include "devices/virtio/virtio_rng.h"

/* Fills the chain's writable part (at most VIRTIO_RNG_MAX_REQ bytes) eight
 * bytes at a time; returns how many were written (virtio 1.2, 5.4.6: the
 * used length is what the device filled). */
static uint32_t fill(const struct vq_chain *c, virtio_rng_source src)
{
        uint64_t want = MIN(c->write_len, (uint64_t)VIRTIO_RNG_MAX_REQ), done = 0;
        while (done < want) {
                uint64_t r;
                if (!src(&r))
                        break;
                uint64_t n = vq_chain_write(c, done, &r, MIN(want - done, (uint64_t)sizeof(r)));
                if (n == 0)
                        break;
                done += n;
        }
        return (uint32_t)done;
}

enum vq_result virtio_rng_process(struct virtqueue *q, const struct guest_mem *m,
                                  struct vq_chain *c, virtio_rng_source src, bool *pushed,
                                  const char **err)
{
        for (;;) {
                enum vq_result r = vq_pop(q, m, c, err);
                if (r != VQ_OK)
                        return r;
                /* Readable descriptors (5.4.6.1 says there are none) are
                 * ignored. */
                vq_push(q, m, c->head, fill(c, src));
                *pushed = true;
        }
}
