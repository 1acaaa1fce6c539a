#include "core/vdev.h"
#include "arch/x86/cpu.h"
#include "arch/x86/mm.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/spinlock.h"
#include "core/irq.h"
#include "core/vm.h"
#include "devices/acpi.h"
#include "devices/virtio/virtio_rng.h"
#include "devices/virtio/vswitch.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SLOT_NET 2
#define SLOT_BLK 3
#define SLOT_RNG 4

/* BARs inside the PCI MMIO window the DSDT declares (vm.c's
 * PCI_MMIO_BASE): 64 KiB per slot, BAR 0 first, BAR 1 32 KiB above it.
 * Firmware would assign them; vtvisor is the firmware, and the guest may
 * move them (a driver that reprograms a BAR is followed). */
#define BAR_WINDOW      0xc0000000u
#define BAR_SLOT_STRIDE 0x10000u
#define BAR1_OFFSET     0x8000u

/* ----------------------------------------------------------- switches */

/* A virtual switch: the net devices of every VM that names it, and the
 * learning bridge's table.  Its lock guards all of that and the attached
 * devices' virtio state. */
struct vnet_switch {
        char name[VM_NAME_MAX];
        struct spinlock lock;
        struct vswitch_table table;
        struct vdev *port[VSWITCH_MAX_PORTS];
        bool used; /* the switch exists (it keeps its name once made) */
        /* Scratch for one transmit chain and one receive chain. */
        struct vq_chain tx, rx;
};

static struct vnet_switch switches[MAX_VMS];
static struct spinlock switches_lock; /* finding and creating switches */

/* The switch of this name, created on first use.  NULL when every switch
 * or every port of this one is taken. */
static struct vnet_switch *switch_attach(struct vdev *d, const char *name)
{
        struct vnet_switch *sw = NULL;
        spin_lock(&switches_lock);
        for (size_t i = 0; i < ARRAY_SIZE(switches) && !sw; i++) {
                if (switches[i].used && !vtv_strcmp(switches[i].name, name))
                        sw = &switches[i];
        }
        for (size_t i = 0; i < ARRAY_SIZE(switches) && !sw; i++) {
                if (!switches[i].used) {
                        sw = &switches[i];
                        vtv_strlcpy(sw->name, name, sizeof(sw->name));
                        vswitch_init(&sw->table);
                        sw->used = true;
                }
        }
        if (sw) {
                spin_lock(&sw->lock);
                d->port = -1;
                for (int p = 0; p < VSWITCH_MAX_PORTS && d->port < 0; p++) {
                        if (!sw->port[p]) {
                                sw->port[p] = d;
                                d->port = p;
                        }
                }
                spin_unlock(&sw->lock);
                if (d->port < 0)
                        sw = NULL;
        }
        spin_unlock(&switches_lock);
        return sw;
}

static void switch_detach(struct vdev *d)
{
        struct vnet_switch *sw = d->sw;
        spin_lock(&sw->lock);
        sw->port[d->port] = NULL;
        vswitch_forget_port(&sw->table, d->port);
        spin_unlock(&sw->lock);
        d->sw = NULL;
}

/* A net device's virtio state is under its switch's lock. */
static void dev_lock(struct vdev *d)
{
        if (d->sw)
                spin_lock(&d->sw->lock);
}

static void dev_unlock(struct vdev *d)
{
        if (d->sw)
                spin_unlock(&d->sw->lock);
}

/* ---------------------------------------------------------- interrupts */

/* Carries out what the transport asked for, in the device's own VM.
 * vm->lock held, the switch's not. */
static void apply(struct vdev *d, const struct virtio_pci_effects *fx)
{
        struct vm *vm = d->vm;
        for (unsigned i = 0; i < fx->nmsi; i++) {
                irq_msi(vm, fx->msi[i].addr, fx->msi[i].data);
                d->interrupts++;
        }
        if (fx->intx_changed && d->pci.intx != d->intx) {
                d->intx = d->pci.intx;
                irq_set_line(vm, d->gsi, d->intx);
                if (d->intx)
                        d->interrupts++;
        }
        if (fx->error && !d->error_logged) {
                /* A driver's error is the guest's own business: said once
                 * per build, so a guest cannot flood the console. */
                d->error_logged = true;
                log_line("vm %s: virtio %s at 00:%02x.0: %s; the device needs a reset by its "
                         "driver (the VM runs on)",
                         vm->cfg.name,
                         d->kind == VDEV_NET   ? "net"
                         : d->kind == VDEV_BLK ? "blk"
                                               : "rng",
                         d->slot, fx->error);
        }
}

/* Tells a VM on another CPU (or later on this one) that a device of it
 * has an interrupt waiting (vdev_poll).  Its vCPU 0 looks first. */
static void wake_vm(struct vm *vm, struct vcpu *from)
{
        __atomic_store_n(&vm->vdev_pending, true, __ATOMIC_RELEASE);
        struct vcpu *t = &vm->vcpus[0];
        __atomic_store_n(&t->irq_dirty, true, __ATOMIC_RELEASE);
        if (t->cpu != this_cpu_id())
                smp_kick(t->cpu);
        else if (from) {
                from->yield = true; /* let the receiver run soon */
                from->irq_dirty = true;
        }
}

/* ------------------------------------------------------------ devices */

static bool rng_source(uint64_t *out)
{
        static bool seed = false, checked = false;
        if (!checked) {
                seed = cpu_has_rdseed();
                checked = true;
        }
        /* RDSEED gives full entropy but may run dry: a few tries, then
         * RDRAND (SDM Vol. 1 7.3.17.1). */
        for (int i = 0; seed && i < 4; i++) {
                if (rdseed64(out))
                        return true;
        }
        for (int i = 0; i < 10; i++) {
                if (rdrand64(out))
                        return true;
        }
        return false;
}

/* One frame from tx to the device d on the same switch.  Switch lock held. */
static void deliver_to(struct vnet_switch *sw, struct vdev *d, const struct virtio_net_frame *f,
                       struct vcpu *from)
{
        struct virtqueue *q = &d->pci.vq[VIRTIO_NET_RXQ];
        struct vm *vm = d->vm;
        if (!virtio_pci_live(&d->pci) || !q->ready || q->broken) {
                d->frames_dropped++;
                return;
        }
        const char *err = NULL;
        enum vq_result r = vq_pop(q, &vm->mem, &sw->rx, &err);
        if (r != VQ_OK) {
                /* No buffer posted: dropped, as a full NIC drops. */
                d->frames_dropped++;
                if (r == VQ_ERROR) {
                        __atomic_store_n(&d->fail_pending, err, __ATOMIC_RELAXED);
                        wake_vm(vm, from);
                }
                return;
        }
        uint64_t n = virtio_net_deliver(&sw->tx, f, &sw->rx,
                                        virtio_pci_has(&d->pci, VIRTIO_NET_F_GUEST_CSUM));
        vq_push(q, &vm->mem, sw->rx.head, (uint32_t)n);
        if (n)
                d->frames_in++;
        else
                d->frames_dropped++;
        if (vq_should_interrupt(q, &vm->mem)) {
                __atomic_or_fetch(&d->irq_pending, BIT(VIRTIO_NET_RXQ), __ATOMIC_RELEASE);
                wake_vm(vm, from);
        }
}

/* Sends every frame on d's transmit queue through its switch.  Switch lock
 * held; fx gathers d's own interrupts. */
static void net_transmit(struct vdev *d, struct vcpu *from, struct virtio_pci_effects *fx)
{
        struct vnet_switch *sw = d->sw;
        struct vm *vm = d->vm;
        struct virtqueue *q = &d->pci.vq[VIRTIO_NET_TXQ];
        bool pushed = false;
        for (;;) {
                const char *err = NULL;
                enum vq_result r = vq_pop(q, &vm->mem, &sw->tx, &err);
                if (r == VQ_ERROR) {
                        virtio_pci_fail(&d->pci, err, fx);
                        return;
                }
                if (r == VQ_EMPTY)
                        break;
                struct virtio_net_frame f;
                const char *why;
                if (virtio_net_tx_frame(&sw->tx, &f, &why)) {
                        d->frames_out++;
                        vswitch_learn(&sw->table, f.src, d->port, rdtsc());
                        int to = vswitch_lookup(&sw->table, f.dst);
                        if (to == VSWITCH_FLOOD) {
                                for (int p = 0; p < VSWITCH_MAX_PORTS; p++) {
                                        if (p != d->port && sw->port[p])
                                                deliver_to(sw, sw->port[p], &f, from);
                                }
                        } else if (to != d->port && sw->port[to]) {
                                deliver_to(sw, sw->port[to], &f, from);
                        }
                } else {
                        d->frames_dropped++;
                }
                vq_push(q, &vm->mem, sw->tx.head, 0);
                pushed = true;
        }
        if (pushed && vq_should_interrupt(q, &vm->mem))
                virtio_pci_interrupt(&d->pci, VIRTIO_NET_TXQ, fx);
}

/* The driver notified the queues in mask.  Device lock held. */
static void process(struct vdev *d, uint32_t mask, struct vcpu *from, struct virtio_pci_effects *fx)
{
        struct vm *vm = d->vm;
        d->notifies++;
        if (!virtio_pci_live(&d->pci))
                return;
        const char *err = NULL;
        bool pushed = false;
        enum vq_result r = VQ_EMPTY;
        struct virtqueue *q = &d->pci.vq[0];
        switch (d->kind) {
        case VDEV_NET:
                /* Receive buffers posted need nothing now: frames find
                 * them when they come. */
                if ((mask & BIT(VIRTIO_NET_TXQ)) && d->pci.vq[VIRTIO_NET_TXQ].ready)
                        net_transmit(d, from, fx);
                return;
        case VDEV_BLK:
                if (q->ready && (mask & 1))
                        r = virtio_blk_process(&d->blk, q, &vm->mem, &vm->chain, &pushed, &err);
                break;
        case VDEV_RNG:
                if (q->ready && (mask & 1))
                        r = virtio_rng_process(q, &vm->mem, &vm->chain, rng_source, &pushed, &err);
                break;
        }
        if (r == VQ_ERROR)
                virtio_pci_fail(&d->pci, err, fx);
        else if (pushed && vq_should_interrupt(q, &vm->mem))
                virtio_pci_interrupt(&d->pci, 0, fx);
}

/* ------------------------------------------------------------ the BARs */

static uint64_t bar_read(struct vdev *d, unsigned bar, uint64_t off, unsigned size)
{
        struct virtio_pci_effects fx = { 0 };
        dev_lock(d);
        uint64_t v = virtio_pci_bar_read(&d->pci, bar, off, size, &fx);
        dev_unlock(d);
        apply(d, &fx);
        return v;
}

static void bar_write(struct vcpu *v, struct vdev *d, unsigned bar, uint64_t off, unsigned size,
                      uint64_t value)
{
        struct virtio_pci_effects fx = { 0 };
        dev_lock(d);
        virtio_pci_bar_write(&d->pci, &d->vm->mem, bar, off, size, value, &fx);
        if (fx.reset) {
                /* What other VMs' frames left for the old queues goes too. */
                __atomic_store_n(&d->irq_pending, 0, __ATOMIC_RELAXED);
                __atomic_store_n(&d->fail_pending, NULL, __ATOMIC_RELAXED);
        }
        if (fx.notify)
                process(d, fx.notify, v, &fx);
        dev_unlock(d);
        apply(d, &fx);
}

static uint64_t bar0_read(struct vcpu *v, void *dev, uint64_t off, unsigned size)
{
        UNUSED(v);
        return bar_read(dev, 0, off, size);
}

static void bar0_write(struct vcpu *v, void *dev, uint64_t off, unsigned size, uint64_t value)
{
        bar_write(v, dev, 0, off, size, value);
}

static uint64_t bar1_read(struct vcpu *v, void *dev, uint64_t off, unsigned size)
{
        UNUSED(v);
        return bar_read(dev, 1, off, size);
}

static void bar1_write(struct vcpu *v, void *dev, uint64_t off, unsigned size, uint64_t value)
{
        bar_write(v, dev, 1, off, size, value);
}

static const struct mmio_ops bar_ops[2] = {
        { "virtio registers (BAR 0)", bar0_read, bar0_write },
        { "virtio MSI-X table (BAR 1)", bar1_read, bar1_write },
};

const struct mmio_region *vdev_mmio_region(struct vm *vm, gpa_t gpa)
{
        for (unsigned i = 0; i < vm->nvdev; i++) {
                struct vdev *d = &vm->vdev[i];
                for (unsigned b = 0; b < 2; b++) {
                        uint32_t base = virtio_pci_bar_base(&d->pci, b);
                        if (base && gpa - base < d->bar[b].size) {
                                d->bar[b].base = base;
                                return &d->bar[b];
                        }
                }
        }
        return NULL;
}

void vdev_cfg_written(struct vm *vm)
{
        for (unsigned i = 0; i < vm->nvdev; i++) {
                struct vdev *d = &vm->vdev[i];
                struct virtio_pci_effects fx = { 0 };
                dev_lock(d);
                virtio_pci_cfg_written(&d->pci, &fx);
                dev_unlock(d);
                apply(d, &fx);
        }
}

void vdev_poll(struct vm *vm)
{
        /* A plain load first: this runs before every slow-path entry. */
        if (!__atomic_load_n(&vm->vdev_pending, __ATOMIC_ACQUIRE) ||
            !__atomic_exchange_n(&vm->vdev_pending, false, __ATOMIC_ACQ_REL))
                return;
        for (unsigned i = 0; i < vm->nvdev; i++) {
                struct vdev *d = &vm->vdev[i];
                if (!d->sw)
                        continue;
                struct virtio_pci_effects fx = { 0 };
                dev_lock(d);
                uint32_t q = __atomic_exchange_n(&d->irq_pending, 0, __ATOMIC_ACQ_REL);
                const char *fail = __atomic_exchange_n(&d->fail_pending, NULL, __ATOMIC_ACQ_REL);
                if (fail)
                        virtio_pci_fail(&d->pci, fail, &fx);
                else if (q && virtio_pci_live(&d->pci))
                        for (unsigned n = 0; n < d->pci.nqueues; n++) {
                                if (q & BIT(n))
                                        virtio_pci_interrupt(&d->pci, (int)n, &fx);
                        }
                dev_unlock(d);
                apply(d, &fx);
        }
}

bool vdev_can_wake(const struct vm *vm)
{
        for (unsigned i = 0; i < vm->nvdev; i++) {
                if (vm->vdev[i].kind == VDEV_NET)
                        return true;
        }
        return false;
}

/* ------------------------------------------------------------- set-up */

static struct vdev *add(struct vm *vm, enum vdev_kind kind, uint8_t slot, uint8_t type,
                        uint64_t features, unsigned nqueues, uint16_t queue_max)
{
        struct vdev *d = &vm->vdev[vm->nvdev++];
        d->kind = kind;
        d->slot = slot;
        d->vm = vm;
        d->port = -1;
        d->gsi = (uint8_t)ACPI_PCI_GSI(slot, 0);
        uint32_t bar0 = BAR_WINDOW + slot * BAR_SLOT_STRIDE;
        virtio_pci_init(&d->pci, type, features, nqueues, queue_max, d->gsi, bar0,
                        bar0 + BAR1_OFFSET);
        d->bar[0] = (struct mmio_region){ 0, VIRTIO_BAR0_SIZE, &bar_ops[0], d };
        d->bar[1] = (struct mmio_region){ 0, VIRTIO_BAR1_SIZE, &bar_ops[1], d };
        return d;
}

static const char *add_blk(struct vm *vm, const struct vdev_disk *disk)
{
        uint64_t size = disk->len & ~(uint64_t)(VIRTIO_BLK_SECTOR - 1);
        if (size == 0)
                return "its disk image is smaller than one 512-byte sector (give a disk image "
                       "module of at least 512 bytes)";
        uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
        hpa_t hpa = mm_alloc_pages(pages, PAGE_SIZE);
        if (!hpa)
                return "not enough free host memory for its copy of its disk image (give the "
                       "machine more memory or use a smaller image)";
        /* The VM's own copy: its writes stay in it until it is rebuilt. */
        uint8_t *copy = hpa_to_hva(hpa);
        vtv_memcpy(copy, disk->image, size);
        struct virtio_blk blk;
        uint64_t features;
        uint8_t devcfg[VIRTIO_DEVCFG_MAX];
        unsigned len;
        virtio_blk_init(&blk, copy, size, vm->cfg.disk_readonly, vm->cfg.name, &features, devcfg,
                        &len);
        struct vdev *d = add(vm, VDEV_BLK, SLOT_BLK, VIRTIO_ID_BLK, features, VIRTIO_BLK_NQUEUES,
                             VIRTIO_BLK_QUEUE_SZ);
        d->blk = blk;
        d->disk_hpa = hpa;
        d->disk_pages = pages;
        vtv_memcpy(d->pci.devcfg, devcfg, len);
        d->pci.devcfg_len = len;
        log_line("vm %s: virtio-blk at 00:%02x.0: %llu KiB disk from module %d%s%s", vm->cfg.name,
                 d->slot, (unsigned long long)(size >> 10), disk->module,
                 vm->cfg.disk_readonly ? ", read-only" : ", writes kept until the VM is rebuilt",
                 size != disk->len ? " (a partial last sector left out)" : "");
        return NULL;
}

static const char *add_net(struct vm *vm)
{
        uint8_t mac[6];
        if (vm->cfg.mac_given)
                vtv_memcpy(mac, vm->cfg.mac, 6);
        else
                virtio_net_mac_from_name(vm->cfg.name, mac);
        uint64_t features;
        uint8_t devcfg[VIRTIO_NET_DEVCFG_LEN];
        unsigned len;
        virtio_net_init(mac, &features, devcfg, &len);
        struct vdev *d = add(vm, VDEV_NET, SLOT_NET, VIRTIO_ID_NET, features, VIRTIO_NET_NQUEUES,
                             VIRTIO_NET_QUEUE_SZ);
        vtv_memcpy(d->pci.devcfg, devcfg, len);
        d->pci.devcfg_len = len;
        d->sw = switch_attach(d, vm->cfg.network);
        if (!d->sw) {
                vm->nvdev--;
                return "its network's switch has no free port (at most 16 VMs per network)";
        }
        log_line("vm %s: virtio-net at 00:%02x.0: MAC %02x:%02x:%02x:%02x:%02x:%02x%s on "
                 "network %s (port %d)",
                 vm->cfg.name, d->slot, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
                 vm->cfg.mac_given ? "" : " (from its name)", vm->cfg.network, d->port);
        return NULL;
}

const char *vdev_init(struct vm *vm, const struct vdev_disk *disk, bool windows)
{
        vm->nvdev = 0;
        if (!windows) {
                if (vm->cfg.network[0] || (disk && disk->image))
                        return "its virtio devices' registers live in the PCI window at 3 GiB, "
                               "below which its RAM must end at 2.75 GiB (lower ram= to 2816M or "
                               "less)";
                return NULL; /* and no entropy device */
        }
        if (vm->cfg.network[0]) {
                const char *err = add_net(vm);
                if (err)
                        return err;
        }
        if (disk && disk->image) {
                const char *err = add_blk(vm, disk);
                if (err)
                        return err;
        }
        if (cpu_has_rdrand() || cpu_has_rdseed())
                add(vm, VDEV_RNG, SLOT_RNG, VIRTIO_ID_RNG, 0, VIRTIO_RNG_NQUEUES,
                    VIRTIO_RNG_QUEUE_SZ);
        for (unsigned i = 0; i < vm->nvdev; i++) {
                struct vdev *d = &vm->vdev[i];
                if (!pci_attach(&vm->pci, PCI_DEVFN(d->slot, 0), &d->pci.fn))
                        return "its PCI slot is taken"; /* cannot happen: fixed slots */
        }
        return NULL;
}

size_t vdev_stats(struct vdev *d, char *buf, size_t size)
{
        size_t n = 0;
        dev_lock(d);
        if (d->kind == VDEV_BLK)
                n = vtv_snprintf(
                    buf, size,
                    "virtio-blk: %llu requests, %llu bytes read, %llu written, %llu "
                    "errors, %llu notifications, %llu interrupts",
                    (unsigned long long)d->blk.requests, (unsigned long long)d->blk.bytes_read,
                    (unsigned long long)d->blk.bytes_written, (unsigned long long)d->blk.errors,
                    (unsigned long long)d->notifies, (unsigned long long)d->interrupts);
        else if (d->kind == VDEV_NET)
                n = vtv_snprintf(
                    buf, size,
                    "virtio-net: %llu frames sent, %llu received, %llu dropped, %llu "
                    "notifications, %llu interrupts",
                    (unsigned long long)d->frames_out, (unsigned long long)d->frames_in,
                    (unsigned long long)d->frames_dropped, (unsigned long long)d->notifies,
                    (unsigned long long)d->interrupts);
        else
                n = vtv_snprintf(buf, size, "virtio-rng: %llu notifications, %llu interrupts",
                                 (unsigned long long)d->notifies,
                                 (unsigned long long)d->interrupts);
        dev_unlock(d);
        return n;
}

/* What the disk and network devices did in this build, for the operator
 * and make bench.  Port I/O exits are counted apart: their number follows
 * how fast the physical console takes the guest's output, not the
 * device's work. */
static void log_stats(const struct vm *vm, struct vdev *d)
{
        bool busy = d->kind == VDEV_BLK ? d->blk.requests != 0
                                        : d->kind == VDEV_NET && (d->frames_out || d->frames_in);
        if (!busy)
                return;
        uint64_t exits = vm_exits(vm, EXIT_REASON_MAX);
        char line[160];
        vdev_stats(d, line, sizeof(line));
        log_line("vm %s: %s; the VM made %llu exits, %llu of them port I/O", vm->cfg.name, line,
                 (unsigned long long)exits, (unsigned long long)vm_exits(vm, EXIT_IO_INSTRUCTION));
}

void vdev_release(struct vm *vm)
{
        for (unsigned i = 0; i < vm->nvdev; i++) {
                struct vdev *d = &vm->vdev[i];
                log_stats(vm, d);
                if (d->sw)
                        switch_detach(d);
                if (d->disk_pages)
                        mm_free_pages(d->disk_hpa, d->disk_pages);
                d->disk_pages = 0;
        }
        vm->nvdev = 0;
}
