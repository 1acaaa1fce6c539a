/* virtio-blk (virtio 1.2, 5.2), the device model.  Pure: a disk that is a
 * byte buffer in hypervisor memory (the VM's own copy of its disk image
 * module), requests taken from the request queue with virtqueue.h.
 *
 * Offered features: VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE,
 * VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_DISCARD (not on a read-only disk),
 * VIRTIO_BLK_F_RO for a read-only disk.  Requests: IN, OUT, FLUSH, GET_ID,
 * DISCARD; anything else completes with VIRTIO_BLK_S_UNSUPP.  A request
 * whose sectors reach past the disk, or that is malformed as a request
 * (header shorter than 16 bytes, no writable status byte, a data length
 * not a multiple of 512), completes with VIRTIO_BLK_S_IOERR; a write or
 * discard to a read-only disk too.  Only a malformed ring (vq_pop's
 * VQ_ERROR) fails the device. */
#ifndef VTV_DEVICES_VIRTIO_VIRTIO_BLK_H
#define VTV_DEVICES_VIRTIO_VIRTIO_BLK_H

#include "devices/virtio/virtqueue.h"
#include "lib/types.h"
#include "lib/guest_mem.h"

#define VIRTIO_BLK_SECTOR   512
#define VIRTIO_BLK_SEG_MAX  (VQ_MAX_SEGS - 2)
#define VIRTIO_BLK_NQUEUES  1
#define VIRTIO_BLK_QUEUE_SZ 128

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_F_DISCARD  13

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN      0
#define VIRTIO_BLK_T_OUT     1
#define VIRTIO_BLK_T_FLUSH   4
#define VIRTIO_BLK_T_GET_ID  8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_S_OK      0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2

struct virtio_blk {
        uint8_t *disk;
        uint64_t size; /* bytes, a multiple of VIRTIO_BLK_SECTOR */
        bool readonly;
        char serial[20]; /* GET_ID's answer (zero-padded) */
        /* Counters for the operator and the benchmarks. */
        uint64_t requests, bytes_read, bytes_written, errors;
};

/* Sets up the model over disk (size bytes; a partial last sector is not
 * part of the disk) and writes what the transport needs: the offered
 * device features and the device configuration (5.2.4). */
void virtio_blk_init(struct virtio_blk *b, uint8_t *disk, uint64_t size, bool readonly,
                     const char *serial, uint64_t *features, uint8_t *devcfg, unsigned *devcfg_len);

/* Carries out every request available on q.  Returns VQ_EMPTY when all were
 * done (and sets *pushed when any completed), VQ_ERROR when the ring is
 * malformed (why in *err).  c is scratch space for one chain. */
enum vq_result virtio_blk_process(struct virtio_blk *b, struct virtqueue *q,
                                  const struct guest_mem *m, struct vq_chain *c, bool *pushed,
                                  const char **err);

#endif
