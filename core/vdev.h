/* A VM's virtio devices (docs/platform.md, "virtio devices"): each a
 * virtio-pci function on the VM's PCI bus (devices/virtio/virtio_pci.h)
 * with its device model behind it, its BARs handled as MMIO, its
 * interrupts delivered as MSI-X messages or through INTA# to the I/O APIC.
 *
 *   00:02.0  virtio-net  when the VM names a network (switch)
 *   00:03.0  virtio-blk  when a disk image module belongs to the VM
 *   00:04.0  virtio-rng  on every VM whose CPU has RDRAND or RDSEED
 *
 * Locks: a VM's blk and rng devices are its own, under vm->lock like its
 * other devices.  A net device is also reached by the VMs on its switch (a
 * frame they send lands in its receive queue), so its virtio state is
 * under the switch's lock, taken after vm->lock; no vm->lock is ever taken
 * under a switch's.  An interrupt that another VM's frame calls for is
 * left in the device (irq_pending) and delivered by the receiver's own CPU
 * (vdev_poll), which the sender kicks. */
#ifndef VTV_CORE_VDEV_H
#define VTV_CORE_VDEV_H

#include "core/mmio.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_pci.h"
#include "lib/types.h"

struct vm;
struct vcpu;
struct vnet_switch;

#define VDEV_MAX 3

enum vdev_kind { VDEV_NET, VDEV_BLK, VDEV_RNG };

struct vdev {
        enum vdev_kind kind;
        uint8_t slot; /* PCI device number on bus 0 */
        uint8_t gsi;  /* I/O APIC input of its INTA# (the DSDT's _PRT) */
        struct vm *vm;
        struct virtio_pci pci;
        struct mmio_region bar[2]; /* base follows the BARs (vdev_mmio_region) */
        bool intx;                 /* the level last put on the GSI */
        bool error_logged;         /* one "needs reset" message per build */
        /* blk: the VM's own copy of its disk image. */
        struct virtio_blk blk;
        hpa_t disk_hpa;
        uint64_t disk_pages;
        /* net: its switch and port there; from another VM's CPU, queues
         * whose interrupt is due (bit n: queue n) and a ring error seen. */
        struct vnet_switch *sw;
        int port;
        uint32_t irq_pending;
        const char *fail_pending;
        /* For the operator and the benchmarks, since this build. */
        uint64_t notifies, interrupts, frames_in, frames_out, frames_dropped;
};

/* What vdev_init needs from the VM's source beyond its configuration. */
struct vdev_disk {
        const uint8_t *image;
        size_t len;
        int module;
};

/* Creates the VM's devices on its PCI bus; windows: its RAM leaves the
 * PCI windows free (below 2.75 GiB), else it gets none.  NULL, or why the
 * VM cannot be built (a disk or network without the windows, a disk
 * image too small, no memory for its copy). */
const char *vdev_init(struct vm *vm, const struct vdev_disk *disk, bool windows);
/* Detaches the VM's devices from their switches and frees its disk copy.
 * The VM's vCPUs are out of guest mode for good. */
void vdev_release(struct vm *vm);

/* The BAR (as an MMIO region) containing gpa, or NULL. */
const struct mmio_region *vdev_mmio_region(struct vm *vm, gpa_t gpa);
/* After a write to the VM's PCI configuration space (either mechanism):
 * the devices act on what changed (MSI-X unmasking).  vm->lock held. */
void vdev_cfg_written(struct vm *vm);
/* Delivers the interrupts other VMs' frames left for this VM's devices
 * (vm->vdev_pending).  vm->lock held. */
void vdev_poll(struct vm *vm);
/* One line of what device d did since the VM was built (counters), for
 * the operator's "stats" and the release log; returns its length. */
size_t vdev_stats(struct vdev *d, char *buf, size_t size);
/* Whether a device can still raise an interrupt without the VM acting:
 * a net device, to which another VM may send a frame at any time. */
bool vdev_can_wake(const struct vm *vm);

#endif
