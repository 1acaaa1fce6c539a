/* virtio-net (virtio 1.2, 5.1), the pure half: the device configuration,
 * frame headers, and moving one frame from a sender's transmit chain to a
 * receiver's receive chain with a single copy.  Which receiver gets a frame
 * (the virtual switch, vswitch.h) and the locking around two VMs' memory
 * are the caller's (core/vdev.c).
 *
 * Offered features: VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS (link up),
 * VIRTIO_NET_F_CSUM (the driver may leave a checksum to the device),
 * VIRTIO_NET_F_GUEST_CSUM (the device may hand the driver a frame whose
 * checksum is still to be completed) and VIRTIO_NET_F_MTU (mtu 1500, so
 * that a driver never makes a frame this device would drop).  No offloads
 * that make frames larger than 1514 bytes (no TSO, no UFO, no mergeable
 * receive buffers), no control queue: queue 0 receives, queue 1 transmits.
 *
 * Every frame in a transmit chain starts with a struct virtio_net_hdr
 * (12 bytes with VIRTIO_F_VERSION_1).  A frame shorter than an Ethernet
 * header (14 bytes) or longer than VIRTIO_NET_MAX_FRAME, or a header asking
 * for GSO, is dropped (counted), not an error: a malformed frame is the
 * driver's own loss. */
#ifndef VTV_DEVICES_VIRTIO_VIRTIO_NET_H
#define VTV_DEVICES_VIRTIO_VIRTIO_NET_H

#include "devices/virtio/virtqueue.h"
#include "lib/types.h"

#define VIRTIO_NET_NQUEUES   2
#define VIRTIO_NET_RXQ       0
#define VIRTIO_NET_TXQ       1
#define VIRTIO_NET_QUEUE_SZ  256
#define VIRTIO_NET_HDR_LEN   12
#define VIRTIO_NET_MAX_FRAME 1514 /* Ethernet header and 1500 bytes of payload */
#define VIRTIO_NET_MTU       1500
/* The device configuration (5.1.4): mac[6], le16 status, le16
 * max_virtqueue_pairs (1), le16 mtu. */
#define VIRTIO_NET_DEVCFG_LEN 12
#define VIRTIO_NET_S_LINK_UP  1

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU        3
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_STATUS     16

/* struct virtio_net_hdr's flags and gso_type (5.1.6). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0

/* Writes the offered features and the device configuration (mac, status
 * VIRTIO_NET_S_LINK_UP, max_virtqueue_pairs 1, mtu VIRTIO_NET_MTU);
 * devcfg needs VIRTIO_NET_DEVCFG_LEN bytes. */
void virtio_net_init(const uint8_t mac[6], uint64_t *features, uint8_t *devcfg,
                     unsigned *devcfg_len);

/* What a transmit chain holds: the frame's length (after the header) and
 * its destination and source MAC addresses.  False when the frame is to be
 * dropped (too short or long, GSO asked for); why in *why. */
struct virtio_net_frame {
        uint64_t len;
        uint8_t dst[6], src[6];
        bool needs_csum;
        uint16_t csum_start, csum_offset;
};
bool virtio_net_tx_frame(const struct vq_chain *tx, struct virtio_net_frame *f, const char **why);

/* Copies the frame of tx into rx's writable part: a fresh header (flags
 * NEEDS_CSUM passed on when rx_guest_csum, else the checksum completed in
 * rx's copy, a result of 0 stored as 0xffff as Linux does; num_buffers 1)
 * and the frame bytes, copied once from tx's segments to rx's.  Returns the bytes written to rx
 * (header and frame), or 0 when rx is too small for them (the frame is dropped). */
uint64_t virtio_net_deliver(const struct vq_chain *tx, const struct virtio_net_frame *f,
                            const struct vq_chain *rx, bool rx_guest_csum);

/* A locally administered unicast MAC address derived from a VM's name
 * (52:54:00 is QEMU's; vtvisor uses 02:76:74 then three bytes of a hash:
 * the 32-bit FNV-1a of the name's bytes, xor-folded to 24 bits, so the
 * same name always gets the same address). */
void virtio_net_mac_from_name(const char *name, uint8_t mac[6]);

#endif
