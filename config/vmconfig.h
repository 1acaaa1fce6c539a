/* vtvisor's configuration file: the schema over the TOML tree of
 * config/toml.h (docs/configuration.md).  Pure: no globals, no I/O; every
 * message goes to the caller's callback, one whole line each, as
 *   FILE:LINE:COL: what is wrong; how to fix it
 * so the very same code runs at boot and in tools/vtvisor-check.
 *
 *   console = "NAME"      the VM that has the keyboard at start
 *   maxcpus = N           use at most N CPUs (1..64)
 *   [[vm]]                one per VM:
 *   name, kernel, initrd, type, cmdline, memory, vcpus, cpus, on_reboot,
 *   on_poweroff, autostart, unmapped, disk, readonly, network, mac, modules
 *
 * A [[vm]] entry with any error is refused and the others are kept; only a
 * file that cannot be parsed at all refuses every VM.
 *
 * Boot code:
 *     static struct toml_node nodes[VMCONFIG_NODES];
 *     static char pool[VMCONFIG_POOL];
 *     static struct vmconfig conf;
 *     struct toml_doc doc;
 *     const char *mods[N];          // each module's command line ("/vmlinuz ...")
 *     struct vmconfig_machine m = { mods, N, ncpus_online, free_ram_bytes };
 *     toml_init(&doc, nodes, VMCONFIG_NODES, pool, VMCONFIG_POOL);
 *     vmconfig_load(&conf, &doc, "vtvisor.toml", text, len, &m, log_cb, NULL);
 *     for (unsigned i = 0; i < conf.nvms; i++)
 *             ... conf.vms[i] with kernel_module, initrd_module, disk_module,
 *                 module_index[0 .. nmodules-1] ...
 */
#ifndef VTV_CONFIG_VMCONFIG_H
#define VTV_CONFIG_VMCONFIG_H

#include "config/config.h"
#include "config/toml.h"

#define VMCONFIG_MAX_VMS 16   /* core/vm.h MAX_VMS */
#define VMCONFIG_NODES   1024 /* TOML nodes: plenty for 16 VMs */
#define VMCONFIG_POOL    16384
#define VMCONFIG_MSG_MAX 512 /* one message with FILE:LINE:COL */
#define VMCONFIG_MAXCPUS 64

struct vmconfig_machine {
        /* The boot modules as the boot loader gave them: each one's command
         * line, or its path.  A module's name is the base name of the first
         * word ("/boot/vmlinuz quiet" is "vmlinuz"); kernel and initrd name
         * modules by it.  The configuration file may be one of them. */
        const char *const *modules;
        size_t nmodules;
        unsigned ncpus; /* CPUs that can run VMs */
        uint64_t ram;   /* bytes of RAM that VMs can have */
};

struct vmconfig {
        char console[VM_NAME_MAX];              /* "" unless given: the first VM still running */
        unsigned maxcpus;                       /* 0 unless given */
        struct vm_config vms[VMCONFIG_MAX_VMS]; /* the accepted VMs, in file order */
        unsigned nvms;
        unsigned entries; /* [[vm]] entries in the file */
        unsigned refused; /* entries refused */
        unsigned errors;  /* messages reported */
        bool unparsable;  /* a syntax error: no VM at all */
};

/* Called once per message: a whole line without '\n'. */
typedef void (*vmconfig_report_fn)(void *ctx, const char *msg);

/* Parses text[0..len) into doc (its memory from toml_init) and applies it:
 * vmconfig_apply, or, on a syntax error, one message and unparsable set.
 * file names the file in messages.  Returns the number of errors. */
unsigned vmconfig_load(struct vmconfig *out, struct toml_doc *doc, const char *file,
                       const char *text, size_t len, const struct vmconfig_machine *m,
                       vmconfig_report_fn report, void *ctx);

/* Fills *out from a parsed document, checking every key against the schema
 * and the machine m: modules, CPUs and RAM.  Reports each error, then, if
 * there was any, a last line "FILE: N error(s); ..." with what was refused.
 * Returns the number of errors (0: every VM accepted). */
unsigned vmconfig_apply(struct vmconfig *out, const struct toml_doc *doc, const char *file,
                        const struct vmconfig_machine *m, vmconfig_report_fn report, void *ctx);

/* The name of a module: the base name of the first word of its command
 * line; *len its length. */
const char *vmconfig_module_name(const char *module, size_t *len);

/* One line describing an accepted VM, e.g.
 * "vm linux: kernel vmlinuz, initrd initramfs.cpio.gz, type linux, memory 256M,
 *  2 vCPUs, cpus 0-1, on_reboot restart, on_poweroff stop, autostart,
 *  cmdline 'console=ttyS0'".  Returns the length it needed. */
size_t vmconfig_describe(const struct vm_config *vm, const struct vmconfig_machine *m, char *buf,
                         size_t size);

/* A size as written in a configuration: "512M", "2G", "64K" or bytes. */
void vmconfig_format_size(uint64_t bytes, char *buf, size_t size);

#endif
