/* virtio over PCI, the modern (1.x) transport (virtio 1.2, 4.1).  Pure: a
 * PCI function's configuration space (devices/pci.h) with the virtio vendor
 * capabilities and an MSI-X capability, the registers of its two memory
 * BARs, and the decisions the transport makes (which interrupt to send,
 * which queue was notified, when the device was reset).  The caller (the
 * VM's device glue, core/vdev.c) maps the BARs, runs the device model and
 * delivers the interrupts this module asks for.
 *
 * BAR 0 (VIRTIO_BAR0_SIZE, 32-bit memory, not prefetchable) holds the
 * four virtio structures, each in its own 4 KiB page:
 *   0x0000 common configuration (virtio 4.1.4.3)
 *   0x1000 ISR status (4.1.4.5), one byte
 *   0x2000 device-specific configuration (4.1.4.6), devcfg_len bytes
 *   0x3000 notifications (4.1.4.4): queue n at 0x3000 + 4 n
 *          (queue_notify_off n, notify_off_multiplier 4)
 * BAR 1 (VIRTIO_BAR1_SIZE, 32-bit memory) holds the MSI-X table at 0 and
 * its pending-bit array at 0x800 (PCI 3.0 6.8.2).
 *
 * Accesses the specification does not define (a width other than the
 * field's, an offset between fields, beyond a structure) read 0 and are
 * ignored, as is a write to a read-only field.  A driver that breaks the
 * initialisation protocol (enables a queue whose rings are outside its RAM
 * or misaligned, writes queue fields of an enabled queue) gets the
 * DEVICE_NEEDS_RESET status (4.1.4.3, 2.1.1) and a configuration-change
 * interrupt; nothing else in the VM is affected. */
#ifndef VTV_DEVICES_VIRTIO_VIRTIO_PCI_H
#define VTV_DEVICES_VIRTIO_VIRTIO_PCI_H

#include "devices/pci.h"
#include "devices/virtio/virtqueue.h"
#include "lib/types.h"
#include "lib/guest_mem.h"

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device type (4.1.2.1) */
#define VIRTIO_PCI_REVISION    1      /* modern-only device */

/* Device types (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2
#define VIRTIO_ID_RNG 4

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

#define VIRTIO_MSI_NO_VECTOR 0xffff

#define VIRTIO_MAX_QUEUES   4
#define VIRTIO_MSIX_VECTORS (VIRTIO_MAX_QUEUES + 1)
#define VIRTIO_DEVCFG_MAX   64

#define VIRTIO_BAR0_SIZE   0x4000u
#define VIRTIO_BAR1_SIZE   0x1000u
#define VIRTIO_BAR0_COMMON 0x0000u
#define VIRTIO_BAR0_ISR    0x1000u
#define VIRTIO_BAR0_DEVICE 0x2000u
#define VIRTIO_BAR0_NOTIFY 0x3000u
#define VIRTIO_NOTIFY_MULT 4u
#define VIRTIO_BAR1_PBA    0x800u

struct virtio_msix_entry {
        uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct virtio_pci {
        struct pci_function fn; /* attached to the VM's bus by the caller */
        uint8_t type;           /* VIRTIO_ID_* */
        unsigned nqueues;
        uint16_t queue_max; /* each queue's maximum (and reset) size */
        uint64_t device_features, driver_features;
        uint32_t device_feature_select, driver_feature_select;
        uint16_t msix_config;
        uint8_t status;
        uint8_t config_generation;
        uint16_t queue_select;
        struct virtqueue vq[VIRTIO_MAX_QUEUES];
        uint16_t queue_msix[VIRTIO_MAX_QUEUES];
        bool queue_enable[VIRTIO_MAX_QUEUES]; /* as the driver wrote queue_enable */
        uint8_t isr;
        bool intx; /* the level of INTA# */
        struct virtio_msix_entry msix[VIRTIO_MSIX_VECTORS];
        uint32_t pba; /* bit n: vector n pending while masked */
        /* The device-specific configuration, filled by the device model;
         * read-only to the driver. */
        uint8_t devcfg[VIRTIO_DEVCFG_MAX];
        unsigned devcfg_len;
};

/* An MSI message to deliver (PCI 3.0 6.8.3.3; the caller decodes the
 * destination and vector from it, SDM 10.11). */
struct virtio_msi {
        uint64_t addr;
        uint32_t data;
};

/* What an access or an event set off, for the caller to carry out. */
struct virtio_pci_effects {
        uint32_t notify;   /* bit n: the driver notified queue n */
        uint32_t enabled;  /* bit n: queue n was enabled (and passed its checks) */
        bool reset;        /* the driver reset the device (wrote status 0) */
        bool driver_ok;    /* the driver set DRIVER_OK */
        bool intx_changed; /* p->intx changed: set the line to it */
        unsigned nmsi;
        struct virtio_msi msi[VIRTIO_MSIX_VECTORS];
        const char *error; /* the transport set NEEDS_RESET, and why */
};

/* A virtio device of the given type with device_features (the transport
 * adds VIRTIO_F_VERSION_1 and VIRTIO_F_EVENT_IDX), nqueues queues of up to
 * queue_max entries, interrupt pin INTA# routed to interrupt line irq, and
 * its BARs at bar0 and bar1 (memory decoding off until the driver turns it
 * on).  The caller then fills devcfg/devcfg_len. */
void virtio_pci_init(struct virtio_pci *p, uint8_t type, uint64_t device_features, unsigned nqueues,
                     uint16_t queue_max, uint8_t irq, uint32_t bar0, uint32_t bar1);

/* An access of size bytes (1, 2, 4 or 8) at offset off of BAR bar (0 or 1).
 * m is the VM's RAM, for the checks made when a queue is enabled. */
uint64_t virtio_pci_bar_read(struct virtio_pci *p, unsigned bar, uint64_t off, unsigned size,
                             struct virtio_pci_effects *fx);
void virtio_pci_bar_write(struct virtio_pci *p, const struct guest_mem *m, unsigned bar,
                          uint64_t off, unsigned size, uint64_t value,
                          struct virtio_pci_effects *fx);

/* After any write to the function's configuration space: delivers MSI-X
 * messages that were pending while the function was masked. */
void virtio_pci_cfg_written(struct virtio_pci *p, struct virtio_pci_effects *fx);

/* The device used buffers of queue q (q < nqueues) or, with q < 0, changed
 * its configuration: sends the interrupt the driver configured (MSI-X
 * vector when MSI-X is enabled, else the ISR bit and INTA#). */
void virtio_pci_interrupt(struct virtio_pci *p, int q, struct virtio_pci_effects *fx);

/* The device found the driver's rings malformed: NEEDS_RESET and a
 * configuration-change interrupt (2.1.2). */
void virtio_pci_fail(struct virtio_pci *p, const char *why, struct virtio_pci_effects *fx);

/* Whether feature bit was negotiated (FEATURES_OK accepted). */
bool virtio_pci_has(const struct virtio_pci *p, unsigned bit);
/* Whether the driver has set DRIVER_OK and the device has not failed. */
bool virtio_pci_live(const struct virtio_pci *p);

/* Where BAR bar decodes now: its address, or 0 when memory decoding is off
 * in the command register or the BAR is unassigned. */
uint32_t virtio_pci_bar_base(const struct virtio_pci *p, unsigned bar);

#endif
