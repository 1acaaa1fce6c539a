/* Emulated MMIO.  A VM's MMIO regions are left out of its EPT, so every
 * access exits as an EPT violation; the exiting instruction is fetched
 * through the guest's page tables, decoded (emulate/insn_decode.c) and carried
 * out against the device model. */
#ifndef VTV_CORE_MMIO_H
#define VTV_CORE_MMIO_H

#include "lib/types.h"

struct vcpu;

struct mmio_ops {
        const char *name;
        uint64_t (*read)(struct vcpu *v, void *dev, uint64_t offset, unsigned size);
        void (*write)(struct vcpu *v, void *dev, uint64_t offset, unsigned size, uint64_t value);
};

struct mmio_region {
        gpa_t base;
        uint64_t size;
        const struct mmio_ops *ops;
        void *dev;
};

/* Emulates the instruction that faulted on gpa inside region r.  Guest
 * faults on the way (the fetch) are injected; an instruction the decoder
 * does not support stops the VM with its bytes in the message. */
void mmio_emulate(struct vcpu *v, const struct mmio_region *r, gpa_t gpa);

#endif
