/* virtio-rng, the entropy device (virtio 1.2, 5.4).  Pure: fills each
 * device-writable buffer the driver offers on its one queue from an
 * entropy source the caller gives (RDRAND/RDSEED in the hypervisor, a fixed
 * sequence in tests).  No features, no configuration. */
#ifndef VTV_DEVICES_VIRTIO_VIRTIO_RNG_H
#define VTV_DEVICES_VIRTIO_VIRTIO_RNG_H

#include "devices/virtio/virtqueue.h"
#include "lib/types.h"
#include "lib/guest_mem.h"

#define VIRTIO_RNG_NQUEUES  1
#define VIRTIO_RNG_QUEUE_SZ 64
/* Bytes given per request at most, so one request cannot take long. */
#define VIRTIO_RNG_MAX_REQ 4096

/* 64 random bits, or false when the source has none to give now. */
typedef bool (*virtio_rng_source)(uint64_t *out);

/* As virtio_blk_process: fills every available chain's writable part (up to
 * VIRTIO_RNG_MAX_REQ bytes) and pushes it with the length written.  When
 * the source fails, the chain is pushed with what was written so far. */
enum vq_result virtio_rng_process(struct virtqueue *q, const struct guest_mem *m,
                                  struct vq_chain *c, virtio_rng_source src, bool *pushed,
                                  const char **err);

#endif
