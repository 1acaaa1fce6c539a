/* Which physical CPU runs each vCPU: decided once, at boot, from every
 * VM's vcpus= and cpus= (config/config.h).  Pure: no globals, no I/O.
 *
 * Rules, in this order:
 *   1. Pinned VMs (cpu_mask != 0), by VM index: vCPU j runs on the j-th
 *      lowest CPU of the VM's set, wrapping around when the VM has more
 *      vCPUs than CPUs listed.  A VM is refused when its set names a CPU
 *      that does not exist (>= ncpus), or one that an earlier, accepted VM
 *      pinned: pinning asks for CPUs of the VM's own, and the whole set
 *      counts, also CPUs beyond the VM's vCPU count.
 *   2. Unpinned VMs, by VM index, vCPU by vCPU: each goes to the CPU that
 *      has the fewest vCPUs so far (pinned ones included), ties to the
 *      lowest number.  So every vCPU has a CPU of its own while there are
 *      enough, and they share evenly once they outnumber the CPUs.
 * A refused VM places no vCPU and holds no CPU; the others go on. */
#ifndef VTV_CONFIG_PLACEMENT_H
#define VTV_CONFIG_PLACEMENT_H

#include "lib/types.h"

#define PLACEMENT_MAX_VMS   16 /* core/vm.h MAX_VMS */
#define PLACEMENT_MAX_VCPUS 64 /* per VM, core/vm.h MAX_VCPUS */
#define PLACEMENT_MAX_CPUS  64 /* CPU numbers are bits of a 64-bit mask */
#define PLACEMENT_ERR_MAX   96
#define PLACEMENT_NO_CPU    0xff /* cpu_of[][] of a refused VM or a vCPU it lacks */

struct placement_vm {
        const char *name;  /* for messages ("vm NAME"); NULL: "VM i" */
        unsigned vcpus;    /* 1..PLACEMENT_MAX_VCPUS */
        uint64_t cpu_mask; /* cpus=; 0 = not pinned */
};

struct placement {
        /* Per VM: NULL when placed, else why it was refused, e.g.
         * "CPU 1 is pinned by both VM 0 and VM 2" (points into msg). */
        const char *error[PLACEMENT_MAX_VMS];
        /* The physical CPU of vCPU j of VM i, or PLACEMENT_NO_CPU. */
        uint8_t cpu_of[PLACEMENT_MAX_VMS][PLACEMENT_MAX_VCPUS];
        /* How many vCPUs each physical CPU got. */
        unsigned load[PLACEMENT_MAX_CPUS];
        char msg[PLACEMENT_MAX_VMS][PLACEMENT_ERR_MAX];
};

/* Places the vCPUs of vms[0..nvms-1] (nvms <= PLACEMENT_MAX_VMS; VM i is
 * "VM i" in messages) on CPUs 0..ncpus-1 (ncpus <= PLACEMENT_MAX_CPUS;
 * larger counts are cut to it).  Fills every field of *p.  Returns how
 * many VMs were refused; each has its message in p->error[i].  A VM with 0
 * or more than PLACEMENT_MAX_VCPUS vCPUs is refused too.  *p is about
 * 3 KiB: keep it off small stacks. */
unsigned placement_plan(struct placement *p, const struct placement_vm *vms, unsigned nvms,
                        unsigned ncpus);

#endif
