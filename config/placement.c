#include "config/placement.h"
#include "lib/printf.h"
#include "lib/string.h"

/* __builtin_ctzll is one BSF; __builtin_popcountll would call libgcc's
 * __popcountdi2, which the freestanding hypervisor does not link. */
static unsigned lowest_cpu(uint64_t mask)
{
        return (unsigned)__builtin_ctzll(mask);
}

static unsigned count_cpus(uint64_t mask)
{
        unsigned n = 0;
        for (; mask; mask &= mask - 1)
                n++;
        return n;
}

/* The j-th lowest CPU of a non-empty set, wrapping around. */
static unsigned nth_cpu(uint64_t mask, unsigned j)
{
        j %= count_cpus(mask);
        while (j--)
                mask &= mask - 1;
        return lowest_cpu(mask);
}

/* How messages name VM i: "vm NAME" when the caller gave names, else
 * "VM i". */
struct label {
        char text[40];
};

static struct label who(const struct placement_vm *vms, unsigned i)
{
        struct label l;
        if (vms[i].name)
                vtv_snprintf(l.text, sizeof(l.text), "vm %s", vms[i].name);
        else
                vtv_snprintf(l.text, sizeof(l.text), "VM %u", i);
        return l;
}

static void set_error(struct placement *p, unsigned vm)
{
        p->error[vm] = p->msg[vm];
}

/* Checks a pinned VM's set against the machine and the sets accepted so
 * far (owner[c]: the VM that pinned CPU c, or -1). */
static bool check_pinned(struct placement *p, const struct placement_vm *vms, unsigned vm,
                         uint64_t mask, unsigned ncpus, const int *owner)
{
        struct label me = who(vms, vm);
        uint64_t exists = ncpus >= 64 ? ~0ull : BIT(ncpus) - 1;

        if (mask & ~exists) {
                unsigned c = lowest_cpu(mask & ~exists);
                if (ncpus == 0)
                        vtv_snprintf(p->msg[vm], PLACEMENT_ERR_MAX,
                                     "%s is pinned to CPU %u, but there are no CPUs", me.text, c);
                else if (ncpus == 1)
                        vtv_snprintf(p->msg[vm], PLACEMENT_ERR_MAX,
                                     "%s is pinned to CPU %u, but there is only 1 CPU (CPU 0)",
                                     me.text, c);
                else
                        vtv_snprintf(p->msg[vm], PLACEMENT_ERR_MAX,
                                     "%s is pinned to CPU %u, but there are only %u CPUs (0-%u)",
                                     me.text, c, ncpus, ncpus - 1);
                set_error(p, vm);
                return false;
        }
        for (uint64_t m = mask; m; m &= m - 1) {
                unsigned c = lowest_cpu(m);
                if (owner[c] >= 0) {
                        vtv_snprintf(p->msg[vm], PLACEMENT_ERR_MAX,
                                     "CPU %u is pinned by both %s and %s", c,
                                     who(vms, (unsigned)owner[c]).text, me.text);
                        set_error(p, vm);
                        return false;
                }
        }
        return true;
}

unsigned placement_plan(struct placement *p, const struct placement_vm *vms, unsigned nvms,
                        unsigned ncpus)
{
        int owner[PLACEMENT_MAX_CPUS];
        unsigned refused = 0;

        vtv_memset(p, 0, sizeof(*p));
        vtv_memset(p->cpu_of, PLACEMENT_NO_CPU, sizeof(p->cpu_of));
        for (unsigned c = 0; c < PLACEMENT_MAX_CPUS; c++)
                owner[c] = -1;
        nvms = MIN(nvms, (unsigned)PLACEMENT_MAX_VMS);
        ncpus = MIN(ncpus, (unsigned)PLACEMENT_MAX_CPUS);

        for (unsigned i = 0; i < nvms; i++) {
                if (vms[i].vcpus == 0 || vms[i].vcpus > PLACEMENT_MAX_VCPUS) {
                        vtv_snprintf(p->msg[i], PLACEMENT_ERR_MAX,
                                     "VM %u has %u vCPUs (it must have 1 to %d)", i, vms[i].vcpus,
                                     PLACEMENT_MAX_VCPUS);
                        set_error(p, i);
                        refused++;
                }
        }

        /* Pinned VMs first, so that where they go does not depend on how
         * many unpinned vCPUs came before them. */
        for (unsigned i = 0; i < nvms; i++) {
                uint64_t mask = vms[i].cpu_mask;
                if (p->error[i] || !mask)
                        continue;
                if (!check_pinned(p, vms, i, mask, ncpus, owner)) {
                        refused++;
                        continue;
                }
                for (uint64_t m = mask; m; m &= m - 1)
                        owner[lowest_cpu(m)] = (int)i;
                for (unsigned j = 0; j < vms[i].vcpus; j++) {
                        unsigned c = nth_cpu(mask, j);
                        p->cpu_of[i][j] = (uint8_t)c;
                        p->load[c]++;
                }
        }

        /* Then the rest, one vCPU at a time, to the least loaded CPU. */
        for (unsigned i = 0; i < nvms; i++) {
                if (p->error[i] || vms[i].cpu_mask)
                        continue;
                if (ncpus == 0) {
                        vtv_snprintf(p->msg[i], PLACEMENT_ERR_MAX, "VM %u: there are no CPUs", i);
                        set_error(p, i);
                        refused++;
                        continue;
                }
                for (unsigned j = 0; j < vms[i].vcpus; j++) {
                        unsigned best = 0;
                        for (unsigned c = 1; c < ncpus; c++)
                                if (p->load[c] < p->load[best])
                                        best = c;
                        p->cpu_of[i][j] = (uint8_t)best;
                        p->load[best]++;
                }
        }
        return refused;
}
