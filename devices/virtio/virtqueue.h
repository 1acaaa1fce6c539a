/* Split virtqueues (virtio 1.2, 2.7), the device side.  Pure: guest memory
 * is a struct guest_mem, no VMX, no globals.
 *
 * Every value the driver controls is checked before use: the ring
 * addresses and the queue size when the queue is enabled
 * (vq_check_config), then each available index, descriptor index, address,
 * length, flag and chain length as vq_pop meets it.  A descriptor is copied
 * out of guest memory before it is checked, so a driver that rewrites its
 * ring under the device's feet cannot make a checked value change.  A
 * malformed ring makes vq_pop return VQ_ERROR with a message; the caller
 * then sets the device's DEVICE_NEEDS_RESET status and touches the queue no
 * more until the driver resets the device.
 *
 * Indirect descriptors (VIRTIO_F_INDIRECT_DESC) are not offered, so a
 * descriptor with VIRTQ_DESC_F_INDIRECT is an error.  VIRTIO_F_EVENT_IDX
 * is supported (q->event_idx, set by the transport when negotiated).
 *
 * Memory order: x86 stores are seen in program order (TSO), so most
 * barriers needed are the compiler's (the ring index loads and stores are
 * volatile).  The EVENT_IDX handshakes are the exception: the device stores
 * an index, then loads the driver's, and x86 may reorder a store with a
 * later load, so those two places take a full fence. */
#ifndef VTV_DEVICES_VIRTIO_VIRTQUEUE_H
#define VTV_DEVICES_VIRTIO_VIRTQUEUE_H

#include "lib/types.h"
#include "lib/guest_mem.h"

#define VQ_MAX_SIZE 256 /* the largest queue size a device offers */
#define VQ_MAX_SEGS 128 /* descriptors per chain (blk's seg_max + 2 fits) */

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
/* Ring flags (2.7.6, 2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

struct virtqueue {
        /* Written by the driver through the transport's common
         * configuration while the queue is disabled. */
        uint16_t size; /* power of two, 1..VQ_MAX_SIZE */
        uint64_t desc_gpa, avail_gpa, used_gpa;
        bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
        /* The device's own position. */
        bool ready;          /* enabled by the driver and vq_check_config passed */
        uint16_t last_avail; /* the next available-ring entry to take */
        uint16_t used_idx;   /* the used ring's idx as last published */
        uint16_t signalled;  /* used_idx when an interrupt was last sent */
        bool broken;         /* a malformed ring was seen: touch no more */
};

/* One descriptor's buffer, resolved to host memory inside guest RAM. */
struct vq_seg {
        uint8_t *ptr;
        uint32_t len;
        bool write; /* device-writable (VIRTQ_DESC_F_WRITE) */
};

/* A descriptor chain: the device-readable segments first, then the
 * device-writable ones (a readable descriptor after a writable one is an
 * error, 2.7.4.2). */
struct vq_chain {
        uint16_t head;
        unsigned nseg, nread; /* segments in all; the first nread are readable */
        uint64_t read_len, write_len;
        struct vq_seg seg[VQ_MAX_SEGS];
};

enum vq_result { VQ_OK, VQ_EMPTY, VQ_ERROR };

/* Resets the device side of q (driver-written fields too), as a device
 * reset does. */
void vq_reset(struct virtqueue *q);

/* Checks a queue the driver is enabling: size a power of two no larger than
 * max_size, each ring aligned (descriptors 16, available 2, used 4 bytes)
 * and wholly inside guest RAM.  NULL when fine, else why not. */
const char *vq_check_config(const struct virtqueue *q, uint16_t max_size,
                            const struct guest_mem *m);

/* Takes the next available chain into *c.  VQ_EMPTY: nothing available.
 * VQ_ERROR: the ring is malformed (why in *err): an available index more
 * than q->size ahead, a descriptor index out of range, a buffer outside
 * guest RAM or of length 0, a chain longer than the queue or VQ_MAX_SEGS
 * (which catches loops), a readable descriptor after a writable one, an
 * indirect descriptor; q->broken is set and every later call returns
 * VQ_ERROR. */
enum vq_result vq_pop(struct virtqueue *q, const struct guest_mem *m, struct vq_chain *c,
                      const char **err);

/* Returns a chain to the driver: used ring entry {head, written}, then the
 * used index. */
void vq_push(struct virtqueue *q, const struct guest_mem *m, uint16_t head, uint32_t written);

/* Whether the driver asked to be interrupted for what was pushed since the
 * last call that returned true (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event
 * with EVENT_IDX, 2.7.7.2 and 2.7.10).  Updates q->signalled when true. */
bool vq_should_interrupt(struct virtqueue *q, const struct guest_mem *m);

/* Whether the queue holds chains not yet taken. */
bool vq_has_avail(const struct virtqueue *q, const struct guest_mem *m);

/* Copies bytes [off, off+len) of the chain's readable part to dst; returns
 * how many there were (fewer when the readable part is shorter). */
uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len);
/* Copies src to bytes [off, off+len) of the chain's writable part; returns
 * how many fitted. */
uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len);

#endif
