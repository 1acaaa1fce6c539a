/* A VM's configuration, parsed from its boot module's command line:
 *   name=NAME type=flat|multiboot|multiboot2|linux ram=SIZE on-reset=restart|stop
 *   vcpus=N cpus=LIST [selftest=bad-guest-state|bad-control|cr3-exits]
 *   [-- guest command line]
 *   [network=SWITCH] [mac=02:xx:xx:xx:xx:xx]
 * or, for a module that is another VM's initial ramdisk or disk image:
 *   initrd-for=NAME
 *   disk-for=NAME [readonly=yes|no]
 * The configuration file (config/vmconfig.h) fills the same struct.  Pure. */
#ifndef VTV_CONFIG_CONFIG_H
#define VTV_CONFIG_CONFIG_H

#include "lib/types.h"

#define VM_NAME_MAX    24
#define VM_CMDLINE_MAX 256
/* Without ram=: Linux guests get 256 MiB, small test kernels 16 MiB. */
#define VM_RAM_DEFAULT       MiB(16)
#define VM_RAM_DEFAULT_LINUX MiB(256)
#define VM_RAM_MIN           MiB(2)
#define VM_RAM_MAX           GiB(4)
/* vcpus=: vCPU i has APIC ID i, and a 64-bit mask holds a VM's vCPUs. */
#define VM_VCPUS_DEFAULT 1
#define VM_VCPUS_MAX     64
/* cpus=: physical CPU numbers, as bits of a 64-bit mask. */
#define VM_CPU_MAX 63
/* Boot modules one multiboot or multiboot2 VM takes (equal to core/vm.h
 * VM_MODULES_MAX, which asserts it). */
#define VM_CONFIG_MODULES_MAX 16

/* The order is that of the configuration file's type words (config/vmconfig.c). */
enum guest_type { GUEST_AUTO = 0, GUEST_FLAT, GUEST_MULTIBOOT, GUEST_LINUX, GUEST_MULTIBOOT2 };

/* What a guest's reset request (reset register, keyboard controller,
 * triple fault) does to its VM. */
enum reset_action { RESET_RESTART = 0, RESET_STOP };

/* What a guest's power-off (ACPI S5) does to its VM. */
enum poweroff_action { POWEROFF_STOP = 0, POWEROFF_RESTART };

/* Deliberate faults that let the tests reach the VM-entry failure paths,
 * which no guest can trigger on its own. */
enum selftest {
        SELFTEST_NONE = 0,
        SELFTEST_BAD_GUEST_STATE,
        SELFTEST_BAD_CONTROL,
        SELFTEST_CR3_EXITS,
};

struct vm_config {
        char name[VM_NAME_MAX];
        enum guest_type type;
        uint64_t ram_size;
        char cmdline[VM_CMDLINE_MAX];
        enum selftest selftest;
        enum reset_action on_reset;
        bool ram_given; /* ram= was on the line */
        unsigned vcpus; /* 1..VM_VCPUS_MAX */
        /* cpus=LIST: the physical CPUs this VM's vCPUs are pinned to, a set
         * (order and ranges as written do not matter): vCPU j runs on the
         * j-th lowest CPU in it, wrapping around (config/placement.h). */
        uint64_t cpu_mask;
        bool cpus_given; /* cpus= was on the line; cpu_mask is then non-zero */
        /* Set on a module that is not a VM but the initrd of VM initrd_for. */
        char initrd_for[VM_NAME_MAX];
        /* Set on a module that is not a VM but the virtio-blk disk image of
         * VM disk_for; disk_readonly: the VM may not write it.  (On a VM's
         * configuration, disk_readonly is its disk's.) */
        char disk_for[VM_NAME_MAX];
        bool disk_readonly;
        /* Set on a module that is not a VM but a boot module of multiboot
         * or multiboot2 VM module_for (its command line is what follows
         * "--"). */
        char module_for[VM_NAME_MAX];
        /* network=: a virtio-net device on the virtual switch of this name
         * (empty: none); mac=, or derived from the VM's name. */
        char network[VM_NAME_MAX];
        uint8_t mac[6];
        bool mac_given;
        enum poweroff_action on_poweroff; /* POWEROFF_STOP unless a config file says */
        /* unmapped=stop: an access to guest-physical memory that is neither
         * RAM nor a device stops the VM, instead of reading all ones and
         * dropping writes as a PC does. */
        bool unmapped_stop;
        bool autostart; /* started at boot (always, from a module line) */
        /* From a configuration file (config/vmconfig.h): the boot modules
         * holding the kernel and the initrd, as indices into the module list
         * given to the checker; -1 when none (always, from a module line). */
        int kernel_module, initrd_module, disk_module;
        /* From a configuration file's modules = [...]: the boot modules of a
         * multiboot or multiboot2 guest, in that order, as indices into the
         * module list; nmodules is 0 from a module line (module-for=
         * modules are attached in core/main.c instead). */
        int module_index[VM_CONFIG_MODULES_MAX];
        unsigned nmodules;
};

/* Fills cfg from a module command line.  default_name is used when no
 * name= is given.  Returns NULL, or a message naming the bad option
 * (written into err, which must hold at least 128 bytes). */
const char *config_parse(struct vm_config *cfg, const char *modline, const char *default_name,
                         char *err, size_t errlen);

const char *guest_type_name(enum guest_type t);

/* What a boot module gives its multiboot guest as the module's command
 * line: the text after the first word "--" of its module line (spaces
 * after it skipped), as config_parse takes a VM's; "" when there is none.
 * A pointer into modline. */
const char *config_module_args(const char *modline);

/* Parses a MAC address written as six two-digit hex bytes separated by
 * colons (len bytes at s); false for anything else, a group (multicast)
 * address or all zeroes. */
bool config_parse_mac(const char *s, size_t len, uint8_t mac[6]);

#endif
