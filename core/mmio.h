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
 * faults on the way (the fetch; for an access that straddles two pages,
 * the data's translation) are injected; an instruction the decoder does
 * not support stops the VM with its bytes in the message.  The operand's
 * address is recomputed from the decoded instruction: an access within one
 * page must have the exit's page offset, one that straddles two pages is
 * carried out part by part on what backs each page (RAM, a device region
 * or unbacked memory) and must have the exit's page among its two; a
 * mismatch (the code or page tables changed under it) stops the VM. */
void mmio_emulate(struct vcpu *v, const struct mmio_region *r, gpa_t gpa);

/* Logs an access to unbacked memory (what: "read of all ones" or "write
 * dropped"), the first few of each VM. */
void mmio_note_unbacked(struct vcpu *v, const char *what, gpa_t gpa);

#endif
