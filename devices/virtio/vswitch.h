/* The virtual switch's forwarding table: a learning Ethernet bridge's
 * (IEEE 802.1D 7.8) address table for one switch, with ports numbered
 * 0..VSWITCH_MAX_PORTS-1.  Pure. */
#ifndef VTV_DEVICES_VIRTIO_VSWITCH_H
#define VTV_DEVICES_VIRTIO_VSWITCH_H

#include "lib/types.h"

#define VSWITCH_MAX_PORTS 16
#define VSWITCH_ENTRIES   64
#define VSWITCH_FLOOD     (-1)

struct vswitch_entry {
        uint8_t mac[6];
        int8_t port;   /* -1: free */
        uint64_t seen; /* the caller's clock when last learnt (for replacement) */
};

struct vswitch_table {
        struct vswitch_entry e[VSWITCH_ENTRIES];
};

void vswitch_init(struct vswitch_table *t);
/* A frame from src arrived on port: remember where src is.  Group
 * addresses (bit 0 of the first byte) are never learnt, nor the all-zero
 * address, nor anything from a port outside 0..VSWITCH_MAX_PORTS-1.  A
 * full table replaces the entry seen longest ago. */
void vswitch_learn(struct vswitch_table *t, const uint8_t src[6], int port, uint64_t now);
/* Where to send a frame for dst: its port, or VSWITCH_FLOOD for group
 * addresses and unknown ones (every other port on the switch). */
int vswitch_lookup(const struct vswitch_table *t, const uint8_t dst[6]);
/* A port went away (its VM stopped or was rebuilt): forget what it taught. */
void vswitch_forget_port(struct vswitch_table *t, int port);

#endif
