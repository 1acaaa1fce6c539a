/* Host unit tests for config/vmconfig.c: the configuration file's schema,
 * every key and every message. */
#include <stdio.h>

#include "tests/unit/check_compat.h"
#include "config/vmconfig.h"

#define MAX_MSGS 80

static struct toml_node nodes[VMCONFIG_NODES];
static char pool[VMCONFIG_POOL];
static struct toml_doc doc;
static struct vmconfig conf;
static char msgs[MAX_MSGS][VMCONFIG_MSG_MAX];
static unsigned nmsgs;

static const char *const modules[] = { "/boot/vmlinuz quiet", "initrd.gz", "hello.elf",
                                       "realmode.bin" };

static void collect(void *ctx, const char *msg)
{
        ck_assert_ptr_eq(ctx, &nmsgs);
        ck_assert_uint_lt(strlen(msg), VMCONFIG_MSG_MAX);
        if (nmsgs < MAX_MSGS)
                strcpy(msgs[nmsgs++], msg);
}

static unsigned load_on(const char *text, unsigned ncpus, uint64_t ram)
{
        struct vmconfig_machine m = { modules, ARRAY_SIZE(modules), ncpus, ram };
        nmsgs = 0;
        toml_init(&doc, nodes, VMCONFIG_NODES, pool, VMCONFIG_POOL);
        return vmconfig_load(&conf, &doc, "f.toml", text, strlen(text), &m, collect, &nmsgs);
}

static unsigned load(const char *text)
{
        return load_on(text, 4, GiB(2));
}

/* The messages, for failure output. */
static const char *all_msgs(void)
{
        static char buf[MAX_MSGS * 120];
        size_t n = 0;
        buf[0] = '\0';
        for (unsigned i = 0; i < nmsgs && n < sizeof(buf); i++)
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n  %s", msgs[i]);
        return buf;
}

/* Some message is exactly want. */
static void said(const char *want)
{
        for (unsigned i = 0; i < nmsgs; i++) {
                if (!strcmp(msgs[i], want))
                        return;
        }
        ck_abort_msg("no message '%s'; got:%s", want, all_msgs());
}

/* text gives exactly one error, want, and refuses its one VM. */
static void one_error(const char *text, const char *want)
{
        unsigned errors = load(text);
        ck_assert_msg(errors == 1, "%u errors for %s:%s", errors, text, all_msgs());
        ck_assert_str_eq(msgs[0], want);
        ck_assert_uint_eq(nmsgs, 2); /* and the summary */
}

#define VM "[[vm]]\nname = \"a\"\nkernel = \"vmlinuz\"\n"

START_TEST(defaults)
{
        ck_assert_uint_eq(load(VM), 0);
        ck_assert_uint_eq(nmsgs, 0);
        ck_assert_uint_eq(conf.nvms, 1);
        ck_assert_uint_eq(conf.entries, 1);
        ck_assert_uint_eq(conf.refused, 0);
        ck_assert(!conf.unparsable);
        ck_assert_str_eq(conf.console, "");
        ck_assert_uint_eq(conf.maxcpus, 0);
        const struct vm_config *v = &conf.vms[0];
        ck_assert_str_eq(v->name, "a");
        ck_assert_int_eq(v->kernel_module, 0);
        ck_assert_int_eq(v->initrd_module, -1);
        ck_assert_int_eq(v->type, GUEST_AUTO);
        ck_assert_x64_eq(v->ram_size, VM_RAM_DEFAULT);
        ck_assert(!v->ram_given);
        ck_assert_str_eq(v->cmdline, "");
        ck_assert_uint_eq(v->vcpus, 1);
        ck_assert_x64_eq(v->cpu_mask, 0);
        ck_assert(!v->cpus_given);
        ck_assert_int_eq(v->on_reset, RESET_RESTART);
        ck_assert_int_eq(v->on_poweroff, POWEROFF_STOP);
        ck_assert(v->autostart);
        ck_assert_int_eq(v->selftest, SELFTEST_NONE);
        ck_assert_str_eq(v->initrd_for, "");
}
END_TEST

START_TEST(every_key)
{
        ck_assert_uint_eq(load("console = \"web\"\nmaxcpus = 3\n"
                               "[[vm]]\nname = \"web\"\nkernel = \"vmlinuz\"\n"
                               "initrd = \"initrd.gz\"\ntype = \"linux\"\n"
                               "cmdline = \"console=ttyS0,115200 quiet\"\nmemory = \"512M\"\n"
                               "vcpus = 2\ncpus = [2, 0]\non_reboot = \"stop\"\n"
                               "on_poweroff = \"restart\"\nautostart = true\n"
                               "[[vm]]\nname = \"t.e_s-t\"\nkernel = \"realmode.bin\"\n"
                               "type = \"flat\"\nmemory = 4194304\nautostart = false\n"
                               "on_reboot = \"restart\"\non_poweroff = \"stop\"\n"),
                          0);
        ck_assert_str_eq(conf.console, "web");
        ck_assert_uint_eq(conf.maxcpus, 3);
        ck_assert_uint_eq(conf.nvms, 2);
        const struct vm_config *v = &conf.vms[0];
        ck_assert_str_eq(v->name, "web");
        ck_assert_int_eq(v->kernel_module, 0);
        ck_assert_int_eq(v->initrd_module, 1);
        ck_assert_int_eq(v->type, GUEST_LINUX);
        ck_assert_str_eq(v->cmdline, "console=ttyS0,115200 quiet");
        ck_assert_x64_eq(v->ram_size, MiB(512));
        ck_assert(v->ram_given);
        ck_assert_uint_eq(v->vcpus, 2);
        ck_assert_x64_eq(v->cpu_mask, BIT(0) | BIT(2));
        ck_assert(v->cpus_given);
        ck_assert_int_eq(v->on_reset, RESET_STOP);
        ck_assert_int_eq(v->on_poweroff, POWEROFF_RESTART);
        ck_assert(v->autostart);
        v = &conf.vms[1];
        ck_assert_str_eq(v->name, "t.e_s-t");
        ck_assert_int_eq(v->kernel_module, 3);
        ck_assert_int_eq(v->type, GUEST_FLAT);
        ck_assert_x64_eq(v->ram_size, MiB(4));
        ck_assert_int_eq(v->on_reset, RESET_RESTART);
        ck_assert_int_eq(v->on_poweroff, POWEROFF_STOP);
        ck_assert(!v->autostart);
}
END_TEST

START_TEST(value_forms)
{
        static const struct {
                const char *mem;
                uint64_t bytes;
        } sizes[] = { { "\"2M\"", MiB(2) },       { "\"2048K\"", MiB(2) },
                      { "\"1G\"", GiB(1) },       { "\"4G\"", GiB(4) },
                      { "\"0x400000\"", MiB(4) }, { "\"16777216\"", MiB(16) },
                      { "\"64m\"", MiB(64) },     { "134217728", MiB(128) },
                      { "0x1000_0000", MiB(256) } };
        char text[256];
        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
                snprintf(text, sizeof(text), VM "memory = %s\n", sizes[i].mem);
                ck_assert_msg(load_on(text, 4, GiB(8)) == 0, "%s:%s", sizes[i].mem, all_msgs());
                ck_assert_x64_eq(conf.vms[0].ram_size, sizes[i].bytes);
        }
        static const char *const types[] = { "auto", "flat", "multiboot", "linux", "multiboot2" };
        for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
                snprintf(text, sizeof(text), VM "type = \"%s\"\n", types[i]);
                ck_assert_uint_eq(load(text), 0);
                ck_assert_int_eq(conf.vms[0].type, (int)i);
                /* Linux without memory gets 256M. */
                ck_assert_x64_eq(conf.vms[0].ram_size,
                                 i == 3 ? VM_RAM_DEFAULT_LINUX : VM_RAM_DEFAULT);
        }
        ck_assert_uint_eq(load(VM "initrd = \"initrd.gz\"\n"), 0);
        ck_assert_x64_eq(conf.vms[0].ram_size, VM_RAM_DEFAULT_LINUX);
        ck_assert(!conf.vms[0].ram_given);
        ck_assert_uint_eq(load(VM "vcpus = 64\ncpus = [3, 1, 2, 0]\n"), 0);
        ck_assert_uint_eq(conf.vms[0].vcpus, 64);
        ck_assert_x64_eq(conf.vms[0].cpu_mask, 0xf);
        /* Module names: base name of the first word; a path in kernel too. */
        ck_assert_uint_eq(load("[[vm]]\nname = \"a\"\nkernel = \"hello.elf\"\n"), 0);
        ck_assert_int_eq(conf.vms[0].kernel_module, 2);
        /* Inline tables do as well as [[vm]]. */
        ck_assert_uint_eq(load("vm = [ { name = \"a\", kernel = \"vmlinuz\" }, "
                               "{ name = \"b\", kernel = \"vmlinuz\" } ]\n"),
                          0);
        ck_assert_uint_eq(conf.nvms, 2);
        ck_assert_str_eq(conf.vms[1].name, "b");
        /* Two VMs may boot the same modules. */
        ck_assert_uint_eq(load(VM "initrd = \"initrd.gz\"\n[[vm]]\nname = \"b\"\n"
                                  "kernel = \"vmlinuz\"\ninitrd = \"initrd.gz\"\n"),
                          0);
        ck_assert_uint_eq(conf.nvms, 2);
        ck_assert_int_eq(conf.vms[1].initrd_module, 1);
        ck_assert_str_eq(conf.vms[1].cmdline, "");
}
END_TEST

START_TEST(unknown_keys)
{
        one_error(VM "memroy = \"64M\"\n",
                  "f.toml:4:1: vm a: unknown key 'memroy' in [[vm]]; did you mean 'memory'?");
        one_error(VM "vcpu = 2\n",
                  "f.toml:4:1: vm a: unknown key 'vcpu' in [[vm]]; did you mean 'vcpus'?");
        one_error(VM "on-reboot = \"stop\"\n", "f.toml:4:1: vm a: unknown key 'on-reboot' in "
                                               "[[vm]]; did you mean 'on_reboot'?");
        /* Names from the module line and other tools lead to the key. */
        one_error(VM "  ram = \"64M\"\n",
                  "f.toml:4:3: vm a: unknown key 'ram' in [[vm]]; did you mean 'memory'?");
        one_error(VM "on-reset = \"stop\"\n",
                  "f.toml:4:1: vm a: unknown key 'on-reset' in [[vm]]; did you mean "
                  "'on_reboot'?");
        one_error(VM "append = \"x\"\n",
                  "f.toml:4:1: vm a: unknown key 'append' in [[vm]]; did you mean 'cmdline'?");
        /* Too far from every key: the list. */
        one_error(VM "xyz = 1\n", "f.toml:4:1: vm a: unknown key 'xyz' in [[vm]]; the keys are: "
                                  "name, kernel, initrd, type, cmdline, memory, vcpus, cpus, "
                                  "on_reboot, on_poweroff, autostart, unmapped, disk, "
                                  "readonly, network, mac, modules");
        one_error(VM "colour = \"blue\"\n", "f.toml:4:1: vm a: unknown key 'colour' in [[vm]]; "
                                            "the keys are: name, kernel, initrd, type, cmdline, "
                                            "memory, vcpus, cpus, on_reboot, on_poweroff, "
                                            "autostart, unmapped, disk, readonly, network, "
                                            "mac, modules");
        /* Transposed letters count as one edit. */
        one_error(VM "kenrel.x = 1\n",
                  "f.toml:4:1: vm a: unknown key 'kenrel' in [[vm]]; did you mean 'kernel'?");
        ck_assert_uint_eq(load("consol = \"a\"\n" VM), 1);
        said("f.toml:1:1: unknown key 'consol' in the file's top level; did you mean "
             "'console'?");
        ck_assert_uint_eq(conf.nvms, 1); /* a wrong top-level key refuses no VM */
        ck_assert_uint_eq(load("[[vms]]\n" VM), 1);
        said("f.toml:1:3: unknown key 'vms' in the file's top level; did you mean 'vm'?");
        /* An alias only for keys of its own table. */
        ck_assert_uint_eq(load("ram = 1\n" VM), 1);
        said("f.toml:1:1: unknown key 'ram' in the file's top level; the keys are: console, "
             "maxcpus, vm");
        ck_assert_uint_eq(load("color = 1\n" VM), 1);
        said("f.toml:1:1: unknown key 'color' in the file's top level; the keys are: console, "
             "maxcpus, vm");
        ck_assert_uint_eq(load("a_very_long_key_name_beyond_thirty_one_bytes = 1\n" VM), 1);
        /* Quoted up to 40 bytes. */
        said("f.toml:1:1: unknown key 'a_very_long_key_name_beyond_thirty_one_b' in the "
             "file's top level; the keys are: console, maxcpus, vm");
}
END_TEST

START_TEST(wrong_types)
{
        one_error("[[vm]]\nname = 1\nkernel = \"vmlinuz\"\n",
                  "f.toml:2:8: vm #1: name must be a string, not an integer; e.g. name = "
                  "\"web\"");
        one_error("[[vm]]\nname = \"a\"\nkernel = [\"vmlinuz\"]\n",
                  "f.toml:3:10: vm a: kernel must be a string, not an array; e.g. kernel = "
                  "\"vmlinuz\"");
        one_error(VM "initrd = true\n", "f.toml:4:10: vm a: initrd must be a string, not a "
                                        "boolean; e.g. initrd = \"initramfs.cpio.gz\"");
        one_error(VM "type = 2\n",
                  "f.toml:4:8: vm a: type must be a string, not an integer; e.g. type = "
                  "\"linux\"");
        one_error(VM "cmdline = {}\n", "f.toml:4:11: vm a: cmdline must be a string, not a "
                                       "table; e.g. cmdline = \"console=ttyS0,115200\"");
        one_error(VM "memory = true\n",
                  "f.toml:4:10: vm a: memory must be a string with a unit or an integer of "
                  "bytes, not a boolean; e.g. memory = \"256M\"");
        one_error(VM "vcpus = \"2\"\n",
                  "f.toml:4:9: vm a: vcpus must be an integer, not a string; e.g. vcpus = 2");
        one_error(VM "cpus = 1\n", "f.toml:4:8: vm a: cpus must be an array of integers, not "
                                   "an integer; e.g. cpus = [0, 1]");
        one_error(VM "on_reboot = false\n", "f.toml:4:13: vm a: on_reboot must be a string, "
                                            "not a boolean; e.g. on_reboot = \"restart\"");
        one_error(VM "on_poweroff = 0\n", "f.toml:4:15: vm a: on_poweroff must be a string, "
                                          "not an integer; e.g. on_poweroff = \"stop\"");
        one_error(VM "autostart = \"yes\"\n", "f.toml:4:13: vm a: autostart must be a boolean, "
                                              "not a string; e.g. autostart = true");
        ck_assert_uint_eq(load("console = 1\n" VM), 1);
        said("f.toml:1:11: console must be a string, not an integer; e.g. console = \"linux\"");
        ck_assert_uint_eq(load("maxcpus = \"2\"\n" VM), 1);
        said("f.toml:1:11: maxcpus must be an integer, not a string; e.g. maxcpus = 2");
        ck_assert_uint_eq(load("[vm]\nname = \"a\"\n"), 1);
        said("f.toml:1:1: vm must be an array of tables, not a table; write [[vm]] above each "
             "VM's keys");
        ck_assert_uint_eq(load("vm = [1]\n"), 1);
        said("f.toml:1:6: vm must be an array of tables, not an array of other values; write "
             "[[vm]] above each VM's keys");
        ck_assert_uint_eq(load("vm = \"a\"\n"), 1);
        said("f.toml:1:6: vm must be an array of tables, not a string; write [[vm]] above each "
             "VM's keys");
}
END_TEST

START_TEST(values_out_of_range)
{
        one_error("[[vm]]\nname = \"a b\"\nkernel = \"vmlinuz\"\n",
                  "f.toml:2:8: vm #1: name \"a b\" is not a valid VM name; use 1 to 23 letters, "
                  "digits, '-', '_' or '.', e.g. name = \"web-1\"");
        /* Control characters from the file are shown as '?'. */
        one_error("[[vm]]\nname = \"a\\nb\\u001b[31m\"\nkernel = \"vmlinuz\"\n",
                  "f.toml:2:8: vm #1: name \"a?b?[31m\" is not a valid VM name; use 1 to 23 "
                  "letters, digits, '-', '_' or '.', e.g. name = \"web-1\"");
        one_error("[[vm]]\nname = \"\"\nkernel = \"vmlinuz\"\n",
                  "f.toml:2:8: vm #1: name \"\" is not a valid VM name; use 1 to 23 letters, "
                  "digits, '-', '_' or '.', e.g. name = \"web-1\"");
        one_error("[[vm]]\nname = \"abcdefghijklmnopqrstuvwx\"\nkernel = \"vmlinuz\"\n",
                  "f.toml:2:8: vm #1: name \"abcdefghijklmnopqrstuvwx\" is not a valid VM name; "
                  "use 1 to 23 letters, digits, '-', '_' or '.', e.g. name = \"web-1\"");
        one_error(VM "type = \"elf\"\n", "f.toml:4:8: vm a: type \"elf\" is not known; use "
                                         "\"auto\", \"flat\", \"multiboot\", \"linux\" or "
                                         "\"multiboot2\"");
        one_error(VM "on_reboot = \"halt\"\n",
                  "f.toml:4:13: vm a: on_reboot \"halt\" is not known; use \"restart\" or "
                  "\"stop\"");
        one_error(VM "on_poweroff = \"reboot\"\n",
                  "f.toml:4:15: vm a: on_poweroff \"reboot\" is not known; use \"stop\" or "
                  "\"restart\"");
        one_error(VM "vcpus = 0\n", "f.toml:4:9: vm a: vcpus = 0 is out of range; give 1 to 64");
        one_error(VM "vcpus = 65\n", "f.toml:4:9: vm a: vcpus = 65 is out of range; give 1 to 64");
        one_error(VM "vcpus = -1\n", "f.toml:4:9: vm a: vcpus = -1 is out of range; give 1 to 64");
        one_error(VM "memory = \"1M\"\n",
                  "f.toml:4:10: vm a: memory \"1M\" is out of range; give a whole number of MiB "
                  "from 2M to 4G, e.g. memory = \"256M\"");
        one_error(VM "memory = \"5G\"\n", "f.toml:4:10: vm a: memory \"5G\" is out of range; "
                                          "give a whole number of MiB from 2M to 4G, e.g. "
                                          "memory = \"256M\"");
        one_error(VM "memory = \"3000K\"\n",
                  "f.toml:4:10: vm a: memory \"3000K\" is out of range; give a whole number of "
                  "MiB from 2M to 4G, e.g. memory = \"256M\"");
        one_error(VM "memory = 1000000\n",
                  "f.toml:4:10: vm a: memory 1000000 is out of range; give a whole number of "
                  "MiB from 2M to 4G, e.g. memory = \"256M\"");
        one_error(VM "memory = -5\n", "f.toml:4:10: vm a: memory -5 is negative; write a size, "
                                      "e.g. memory = \"512M\"");
        one_error(VM "memory = \"12X\"\n",
                  "f.toml:4:10: vm a: memory \"12X\" is not a size; write a number with a unit "
                  "K, M or G, e.g. memory = \"512M\" or \"2G\"");
        one_error(VM "memory = \"\"\n",
                  "f.toml:4:10: vm a: memory \"\" is not a size; write a number with a unit K, "
                  "M or G, e.g. memory = \"512M\" or \"2G\"");
        one_error(VM "cmdline = \"a\\nb\"\n",
                  "f.toml:4:11: vm a: cmdline contains a control character; write the guest's "
                  "command line on one line without escapes like \\n");
        char text[600];
        snprintf(text, sizeof(text), VM "cmdline = \"%0256d\"\n", 0);
        one_error(text, "f.toml:4:11: vm a: cmdline is 256 bytes long; shorten it to at most "
                        "255");
        snprintf(text, sizeof(text), VM "cmdline = \"%0255d\"\n", 0);
        ck_assert_uint_eq(load(text), 0);
        ck_assert_uint_eq(strlen(conf.vms[0].cmdline), 255);
        ck_assert_uint_eq(load("maxcpus = 0\n" VM), 1);
        said("f.toml:1:11: maxcpus = 0 is out of range; give 1 to 64");
        ck_assert_uint_eq(load("maxcpus = 65\n" VM), 1);
        said("f.toml:1:11: maxcpus = 65 is out of range; give 1 to 64");
        ck_assert_uint_eq(load("console = \"a/b\"\n" VM), 1);
        said("f.toml:1:11: console \"a/b\" is not a VM name; give the name of a [[vm]], e.g. "
             "console = \"linux\"");
}
END_TEST

START_TEST(cpus)
{
        one_error(VM "cpus = []\n",
                  "f.toml:4:8: vm a: cpus is empty; list the CPUs to pin to, e.g. cpus = [0, 1], "
                  "or leave cpus out to let vtvisor place the vCPUs");
        one_error(VM "cpus = [0, \"1\"]\n", "f.toml:4:12: vm a: cpus must list CPU numbers "
                                            "(integers), not a string; e.g. cpus = [0, 1]");
        one_error(VM "cpus = [4]\n", "f.toml:4:9: vm a: cpus names CPU 4, but the machine has 4 "
                                     "CPUs (CPUs 0-3); pin to one of those");
        one_error(VM "cpus = [-1]\n", "f.toml:4:9: vm a: cpus names CPU -1, but the machine has "
                                      "4 CPUs (CPUs 0-3); pin to one of those");
        one_error(VM "cpus = [1, 2, 1]\n",
                  "f.toml:4:15: vm a: cpus lists CPU 1 twice; list each CPU once");
        ck_assert_uint_eq(load_on(VM "cpus = [1]\n", 1, GiB(1)), 1);
        said("f.toml:4:9: vm a: cpus names CPU 1, but the machine has 1 CPU (CPU 0); pin to it");
        ck_assert_uint_eq(load("maxcpus = 2\n" VM "cpus = [2]\n"), 1);
        said("f.toml:5:9: vm a: cpus names CPU 2, but maxcpus = 2 lets vtvisor use only CPUs "
             "0-1; pin to those or raise maxcpus");
        ck_assert_uint_eq(load("maxcpus = 1\n" VM "cpus = [1]\n"), 1);
        said("f.toml:5:9: vm a: cpus names CPU 1, but maxcpus = 1 lets vtvisor use only CPU 0; "
             "pin to it or raise maxcpus");
        /* CPU numbers are bits of a 64-bit mask: larger machines count as 64. */
        ck_assert_uint_eq(load_on(VM "cpus = [64]\n", 100, GiB(1)), 1);
        said("f.toml:4:9: vm a: cpus names CPU 64, but the machine has 64 CPUs (CPUs 0-63); pin "
             "to one of those");
        ck_assert_uint_eq(load_on(VM "cpus = [63]\n", 100, GiB(1)), 0);
        /* maxcpus above the machine's CPUs limits nothing. */
        ck_assert_uint_eq(load("maxcpus = 64\n" VM "cpus = [3]\n"), 0);
        ck_assert_uint_eq(conf.maxcpus, 64);
        /* A CPU pinned by two VMs: the second is refused, naming the first. */
        ck_assert_uint_eq(load(VM "cpus = [0, 1]\n[[vm]]\nname = \"b\"\nkernel = \"vmlinuz\"\n"
                                  "cpus = [2, 1]\n[[vm]]\nname = \"c\"\nkernel = \"vmlinuz\"\n"
                                  "cpus = [2]\n"),
                          1);
        said("f.toml:8:8: vm b: CPU 1 is already pinned by vm a (line 1); pin each CPU to one "
             "VM only");
        /* b was refused, so c may have CPU 2. */
        ck_assert_uint_eq(conf.nvms, 2);
        ck_assert_str_eq(conf.vms[1].name, "c");
        ck_assert_x64_eq(conf.vms[1].cpu_mask, BIT(2));
        /* Several errors in one list are all reported. */
        ck_assert_uint_eq(load(VM "cpus = [9, 9, true]\n"), 3);
        ck_assert_uint_eq(nmsgs, 4);
}
END_TEST

START_TEST(modules_and_names)
{
        one_error("[[vm]]\nname = \"a\"\nkernel = \"vmlinux\"\n",
                  "f.toml:3:10: vm a: kernel \"vmlinux\" is not a boot module (the boot modules: "
                  "vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module or correct "
                  "the name");
        one_error(VM "initrd = \"initramfs.cpio.gz\"\n",
                  "f.toml:4:10: vm a: initrd \"initramfs.cpio.gz\" is not a boot module (the boot "
                  "modules: vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module "
                  "or correct the name");
        one_error("[[vm]]\nname = \"a\"\nkernel = \"\"\n",
                  "f.toml:3:10: vm a: kernel \"\" is not a boot module (the boot modules: "
                  "vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module or correct "
                  "the name");
        /* The whole path is not the name; the base name is. */
        one_error("[[vm]]\nname = \"a\"\nkernel = \"/boot/vmlinuz\"\n",
                  "f.toml:3:10: vm a: kernel \"/boot/vmlinuz\" is not a boot module (the boot "
                  "modules: vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module or "
                  "correct the name");
        /* No modules at all. */
        struct vmconfig_machine m = { NULL, 0, 2, GiB(1) };
        nmsgs = 0;
        toml_init(&doc, nodes, VMCONFIG_NODES, pool, VMCONFIG_POOL);
        ck_assert_uint_eq(vmconfig_load(&conf, &doc, "f.toml", VM, strlen(VM), &m, collect, &nmsgs),
                          1);
        said("f.toml:3:10: vm a: kernel \"vmlinuz\" is not a boot module (the boot modules: "
             "none were given); load it as a module or correct the name");
        one_error("[[vm]]\nkernel = \"vmlinuz\"\n",
                  "f.toml:1:1: vm #1: has no name; add one, e.g. name = \"web\"");
        one_error("[[vm]]\nname = \"a\"\n", "f.toml:1:1: vm a: has no kernel; add the boot "
                                            "module to run, e.g. kernel = \"vmlinuz\"");
        ck_assert_uint_eq(load(VM VM "[[vm]]\nname = \"b\"\nkernel = \"vmlinuz\"\n"), 1);
        said("f.toml:5:8: vm a: the name \"a\" is already taken by the vm on line 1; give each "
             "VM a name of its own");
        ck_assert_uint_eq(conf.nvms, 2);
        ck_assert_uint_eq(conf.refused, 1);
        said("f.toml: 1 error; 1 of 3 VMs refused (a), 2 VMs accepted");

        size_t len;
        const char *n = vmconfig_module_name("/boot/vmlinuz quiet", &len);
        ck_assert_uint_eq(len, 7);
        ck_assert_mem_eq(n, "vmlinuz", 7);
        n = vmconfig_module_name("  hello.elf\tname=x", &len);
        ck_assert_uint_eq(len, 9);
        ck_assert_mem_eq(n, "hello.elf", 9);
        n = vmconfig_module_name("a/b/", &len);
        ck_assert_uint_eq(len, 0);
        n = vmconfig_module_name("", &len);
        ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(machine_memory)
{
        ck_assert_uint_eq(load_on(VM "memory = \"512M\"\n", 2, MiB(256)), 1);
        said("f.toml:4:10: vm a: memory 512M is more than the machine has for VMs (256M); lower "
             "memory");
        /* Without memory, the default counts (Linux: 256M). */
        ck_assert_uint_eq(load_on(VM "type = \"linux\"\n", 2, MiB(200)), 1);
        said("f.toml:1:1: vm a: memory 256M is more than the machine has for VMs (200M); lower "
             "memory");
        ck_assert_uint_eq(load_on(VM "memory = \"300M\"\n[[vm]]\nname = \"b\"\n"
                                     "kernel = \"vmlinuz\"\nmemory = \"300M\"\n"
                                     "[[vm]]\nname = \"c\"\nkernel = \"vmlinuz\"\n"
                                     "memory = \"300M\"\nautostart = false\n"
                                     "[[vm]]\nname = \"d\"\nkernel = \"vmlinuz\"\n"
                                     "memory = \"200M\"\n",
                                  2, MiB(512)),
                          1);
        said("f.toml:8:10: vm b: memory 300M does not fit: the machine has 512M for VMs and the "
             "VMs started before this one take 300M; lower memory, or set autostart = false on "
             "a VM");
        /* c does not start, so it takes nothing; d fits beside a. */
        ck_assert_uint_eq(conf.nvms, 3);
        ck_assert_str_eq(conf.vms[2].name, "d");
        said("f.toml: 1 error; 1 of 4 VMs refused (b), 3 VMs accepted");
        ck_assert_uint_eq(load_on(VM "memory = \"4G\"\n", 2, GiB(8)), 0);
        ck_assert_uint_eq(load_on(VM "memory = \"3M\"\n", 2, 3 * MiB(1) + 512), 0);
        char buf[32];
        vmconfig_format_size(GiB(3), buf, sizeof(buf));
        ck_assert_str_eq(buf, "3G");
        vmconfig_format_size(MiB(1536), buf, sizeof(buf));
        ck_assert_str_eq(buf, "1536M");
        vmconfig_format_size(KiB(3), buf, sizeof(buf));
        ck_assert_str_eq(buf, "3K");
        vmconfig_format_size(1000, buf, sizeof(buf));
        ck_assert_str_eq(buf, "1000 bytes");
        vmconfig_format_size(0, buf, sizeof(buf));
        ck_assert_str_eq(buf, "0 bytes");
}
END_TEST

START_TEST(console)
{
        ck_assert_uint_eq(load("console = \"b\"\n" VM), 1);
        said("f.toml:1:11: console \"b\" names no VM; use one of the VM names (a)");
        ck_assert_str_eq(conf.console, "");
        ck_assert_uint_eq(conf.nvms, 1);
        said("f.toml: 1 error; 1 VM accepted");
        ck_assert_uint_eq(load("console = \"a\"\n" VM "vcpus = 0\n"), 2);
        said("f.toml:1:11: console \"a\" names a VM that was refused (see above); fix that VM "
             "or give the console to another");
        ck_assert_uint_eq(load("console = \"a\"\n" VM "autostart = false\n"), 1);
        said("f.toml:1:11: console \"a\" names a VM with autostart = false; give the console to "
             "a VM that starts at boot");
        ck_assert_uint_eq(load("console = \"a\"\n[[vm]]\nname = \"b\"\n"), 2);
        said("f.toml:1:11: console \"a\" names no VM; use one of the VM names (there are none)");
        ck_assert_uint_eq(load("console = \"a\"\n" VM), 0);
        ck_assert_str_eq(conf.console, "a");
}
END_TEST

START_TEST(refused_vms_and_counts)
{
        /* Every error of a VM is reported; only that VM is refused. */
        unsigned errors = load(VM "vcpus = 0\nmemory = \"1M\"\ntype = \"x\"\n"
                                  "[[vm]]\nname = \"b\"\nkernel = \"vmlinuz\"\n"
                                  "[[vm]]\nmemory = true\n");
        ck_assert_uint_eq(errors, 6);
        ck_assert_uint_eq(nmsgs, 7);
        ck_assert_uint_eq(conf.errors, 6);
        ck_assert_uint_eq(conf.nvms, 1);
        ck_assert_uint_eq(conf.entries, 3);
        ck_assert_uint_eq(conf.refused, 2);
        ck_assert_str_eq(conf.vms[0].name, "b");
        said("f.toml:11:10: vm #3: memory must be a string with a unit or an integer of bytes, "
             "not a boolean; e.g. memory = \"256M\"");
        said("f.toml:10:1: vm #3: has no name; add one, e.g. name = \"web\"");
        said("f.toml:10:1: vm #3: has no kernel; add the boot module to run, e.g. kernel = "
             "\"vmlinuz\"");
        ck_assert_str_eq(msgs[6], "f.toml: 6 errors; 2 of 3 VMs refused (a, #3), 1 VM accepted");

        ck_assert_uint_eq(load(""), 1);
        said("f.toml:1:1: no VM is defined; add a [[vm]] table with name and kernel for each VM");
        ck_assert_uint_eq(load("vm = []\n"), 1);
        said("f.toml:1:1: no VM is defined; add a [[vm]] table with name and kernel for each VM");

        /* 17 VMs: the last is one too many. */
        char text[4096];
        size_t n = 0;
        for (int i = 0; i < 17; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n,
                                      "[[vm]]\nname = \"v%d\"\nkernel = \"hello.elf\"\n"
                                      "memory = \"2M\"\n",
                                      i);
        ck_assert_uint_eq(load(text), 1);
        said("f.toml:65:1: vm v16: is one VM too many: vtvisor runs at most 16; remove it");
        ck_assert_uint_eq(conf.nvms, 16);
        /* Past twice that, entries are refused unread. */
        n = 0;
        for (int i = 0; i < 33; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n,
                                      "[[vm]]\nname = \"v%d\"\nkernel = \"hello.elf\"\n", i);
        ck_assert_uint_eq(load_on(text, 4, GiB(4)), 17);
        said("f.toml:97:1: vm #33: is one VM too many: vtvisor runs at most 16; remove it");
        ck_assert_uint_eq(conf.entries, 33);
        ck_assert_uint_eq(conf.refused, 17);
}
END_TEST

START_TEST(syntax_error_refuses_all)
{
        ck_assert_uint_eq(load(VM "memory = 1.5\n"), 1);
        ck_assert(conf.unparsable);
        ck_assert_uint_eq(conf.nvms, 0);
        ck_assert_uint_eq(nmsgs, 2);
        ck_assert_str_eq(msgs[0], "f.toml:4:10: '1.5' is a float, and floats are not supported "
                                  "by vtvisor's TOML subset; write an integer (sizes as a string "
                                  "with a unit, e.g. \"1536M\")");
        ck_assert_str_eq(msgs[1],
                         "f.toml: the file cannot be read as TOML, so no VM is started from it");
        /* Without a callback, only the counts. */
        struct vmconfig_machine m = { modules, ARRAY_SIZE(modules), 2, GiB(1) };
        toml_init(&doc, nodes, VMCONFIG_NODES, pool, VMCONFIG_POOL);
        ck_assert_uint_eq(vmconfig_load(&conf, &doc, "f", "x = [", 5, &m, NULL, NULL), 1);
        ck_assert(conf.unparsable);
        ck_assert_uint_eq(vmconfig_load(&conf, &doc, "f", "[[vm]]", 6, &m, NULL, NULL), 2);
        ck_assert_uint_eq(conf.refused, 1);
}
END_TEST

START_TEST(describe)
{
        char line[VMCONFIG_MSG_MAX];
        struct vmconfig_machine m = { modules, ARRAY_SIZE(modules), 4, GiB(2) };
        ck_assert_uint_eq(load("[[vm]]\nname = \"web\"\nkernel = \"vmlinuz\"\n"
                               "initrd = \"initrd.gz\"\ntype = \"linux\"\ncmdline = \"quiet\"\n"
                               "vcpus = 3\ncpus = [0, 1, 3]\non_reboot = \"stop\"\n"
                               "on_poweroff = \"restart\"\nautostart = false\n" VM),
                          0);
        size_t n = vmconfig_describe(&conf.vms[0], &m, line, sizeof(line));
        ck_assert_str_eq(line, "vm web: kernel vmlinuz, initrd initrd.gz, type linux, memory "
                               "256M (default), 3 vCPUs, cpus 0-1,3, on_reboot stop, "
                               "on_poweroff restart, no autostart, cmdline 'quiet'");
        ck_assert_uint_eq(n, strlen(line));
        vmconfig_describe(&conf.vms[1], &m, line, sizeof(line));
        ck_assert_str_eq(line, "vm a: kernel vmlinuz, type auto, memory 16M (default), 1 vCPU, "
                               "on_reboot restart, on_poweroff stop, autostart, cmdline ''");
}
END_TEST

START_TEST(devices)
{
        char line[VMCONFIG_MSG_MAX];
        struct vmconfig_machine m = { modules, ARRAY_SIZE(modules), 4, GiB(2) };
        ck_assert_uint_eq(load("[[vm]]\nname = \"web\"\nkernel = \"vmlinuz\"\n"
                               "disk = \"realmode.bin\"\nreadonly = true\nnetwork = \"lan\"\n"
                               "mac = \"02:00:0A:0b:00:01\"\n" VM),
                          0);
        ck_assert_int_eq(conf.vms[0].disk_module, 3);
        ck_assert(conf.vms[0].disk_readonly);
        ck_assert_str_eq(conf.vms[0].network, "lan");
        ck_assert(conf.vms[0].mac_given);
        ck_assert_mem_eq(conf.vms[0].mac, "\x02\x00\x0a\x0b\x00\x01", 6);
        ck_assert_int_eq(conf.vms[1].disk_module, -1);
        ck_assert_str_eq(conf.vms[1].network, "");
        ck_assert(!conf.vms[1].mac_given);
        vmconfig_describe(&conf.vms[0], &m, line, sizeof(line));
        ck_assert_str_eq(line, "vm web: kernel vmlinuz, type auto, memory 16M (default), 1 vCPU, "
                               "on_reboot restart, on_poweroff stop, autostart, disk realmode.bin "
                               "(read-only), network lan mac 02:00:0a:0b:00:01, cmdline ''");

        one_error(VM "disk = \"nope.img\"\n",
                  "f.toml:4:8: vm a: disk \"nope.img\" is not a boot module (the boot modules: "
                  "vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module or correct "
                  "the name");
        one_error(VM "network = \"a b\"\n",
                  "f.toml:4:11: vm a: network \"a b\" is not a valid switch name; use 1 to 23 "
                  "letters, digits, '-', '_' or '.', e.g. network = \"lan\"");
        one_error(VM "mac = \"01:00:00:00:00:01\"\n",
                  "f.toml:4:7: vm a: mac \"01:00:00:00:00:01\" is not a unicast MAC address; "
                  "write six hex bytes with colons, e.g. mac = \"02:00:00:00:00:01\" (02 as the "
                  "first byte marks it locally administered)");
        ck_assert_uint_eq(load(VM "mac = \"02:00:00:00:00\"\n"), 1);
        ck_assert_uint_eq(load(VM "mac = \"00:00:00:00:00:00\"\n"), 1);
        ck_assert_uint_eq(load(VM "mac = \"02-00-00-00-00-01\"\n"), 1);
        ck_assert_uint_eq(load(VM "mac = \"02:00:00:00:00:0g\"\n"), 1);
        ck_assert_uint_eq(load(VM "readonly = \"yes\"\n"), 1);
        ck_assert_uint_eq(load(VM "switch = \"lan\"\n"), 1);
        said("f.toml:4:1: vm a: unknown key 'switch' in [[vm]]; did you mean 'network'?");
}
END_TEST

/* modules = [...]: a multiboot guest's boot modules, by file name. */
START_TEST(boot_modules)
{
        char line[VMCONFIG_MSG_MAX];
        struct vmconfig_machine m = { modules, ARRAY_SIZE(modules), 4, GiB(2) };
        ck_assert_uint_eq(load("[[vm]]\nname = \"mb\"\nkernel = \"hello.elf\"\n"
                               "type = \"multiboot\"\n"
                               "modules = [\"realmode.bin\", \"initrd.gz\", \"/x/hello.elf\"]\n"
                               /* shared with another VM, and that VM's kernel */
                               "[[vm]]\nname = \"mb2\"\nkernel = \"realmode.bin\"\n"
                               "modules = [\n  \"hello.elf\",\n  \"realmode.bin\",\n]\n"
                               "type = \"multiboot2\"\n"
                               "[[vm]]\nname = \"none\"\nkernel = \"vmlinuz\"\nmodules = []\n" VM),
                          1);
        /* A path is not a module's name: only the base name is written. */
        said("f.toml:5:41: vm mb: modules \"/x/hello.elf\" is not a boot module (the boot "
             "modules: vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module or "
             "correct the name");
        ck_assert_uint_eq(load("[[vm]]\nname = \"mb\"\nkernel = \"hello.elf\"\n"
                               "type = \"multiboot\"\n"
                               "modules = [\"realmode.bin\", \"initrd.gz\", \"hello.elf\"]\n"
                               "[[vm]]\nname = \"mb2\"\nkernel = \"realmode.bin\"\n"
                               "modules = [\n  \"hello.elf\",\n  \"realmode.bin\",\n]\n"
                               "type = \"multiboot2\"\n"
                               "[[vm]]\nname = \"none\"\nkernel = \"vmlinuz\"\nmodules = []\n" VM),
                          0);
        ck_assert_uint_eq(conf.nvms, 4);
        const struct vm_config *v = &conf.vms[0];
        ck_assert_uint_eq(v->nmodules, 3);
        ck_assert_int_eq(v->module_index[0], 3);
        ck_assert_int_eq(v->module_index[1], 1);
        ck_assert_int_eq(v->module_index[2], 2);
        ck_assert_int_eq(v->initrd_module, -1); /* a boot module, not an initrd */
        v = &conf.vms[1];
        ck_assert_int_eq(v->type, GUEST_MULTIBOOT2);
        ck_assert_uint_eq(v->nmodules, 2);
        ck_assert_int_eq(v->module_index[0], 2);
        ck_assert_int_eq(v->module_index[1], 3);
        ck_assert_uint_eq(conf.vms[2].nmodules, 0);
        ck_assert_uint_eq(conf.vms[3].nmodules, 0);
        vmconfig_describe(&conf.vms[0], &m, line, sizeof(line));
        ck_assert_str_eq(line, "vm mb: kernel hello.elf, modules realmode.bin, initrd.gz, "
                               "hello.elf, type multiboot, memory 16M (default), 1 vCPU, "
                               "on_reboot restart, on_poweroff stop, autostart, cmdline ''");
        vmconfig_describe(&conf.vms[2], &m, line, sizeof(line));
        ck_assert_str_eq(line, "vm none: kernel vmlinuz, type auto, memory 16M (default), "
                               "1 vCPU, on_reboot restart, on_poweroff stop, autostart, "
                               "cmdline ''");
        /* Sixteen is the most; type auto is checked when the kernel loads. */
        ck_assert_uint_eq(load(VM "modules = [\"vmlinuz\", \"initrd.gz\", \"hello.elf\", "
                                  "\"realmode.bin\"]\n"),
                          0);
        ck_assert_uint_eq(conf.vms[0].nmodules, 4);

        /* Every refusal. */
        one_error(VM "modules = \"hello.elf\"\n",
                  "f.toml:4:11: vm a: modules must be an array of strings, not a string; e.g. "
                  "modules = [\"initrd.img\", \"data.bin\"]");
        one_error(VM "modules = { a = 1 }\n",
                  "f.toml:4:11: vm a: modules must be an array of strings, not a table; e.g. "
                  "modules = [\"initrd.img\", \"data.bin\"]");
        one_error(VM "modules = [\"hello.elf\", 7]\n",
                  "f.toml:4:25: vm a: modules must list boot module names (strings), not an "
                  "integer; e.g. modules = [\"initrd.img\", \"data.bin\"]");
        one_error(VM "modules = [[\"hello.elf\"]]\n",
                  "f.toml:4:12: vm a: modules must list boot module names (strings), not an "
                  "array; e.g. modules = [\"initrd.img\", \"data.bin\"]");
        one_error(VM "modules = [\"nope.bin\"]\n",
                  "f.toml:4:12: vm a: modules \"nope.bin\" is not a boot module (the boot "
                  "modules: vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module "
                  "or correct the name");
        one_error(VM "modules = [\"\"]\n",
                  "f.toml:4:12: vm a: modules \"\" is not a boot module (the boot modules: "
                  "vmlinuz, initrd.gz, hello.elf, realmode.bin); load it as a module or correct "
                  "the name");
        one_error(VM "modules = [\"hello.elf\", \"initrd.gz\", \"hello.elf\"]\n",
                  "f.toml:4:38: vm a: modules lists \"hello.elf\" twice; list each boot module "
                  "once");
        one_error(VM "modules = [\"hello.elf\", \"hello.elf\", \"hello.elf\", \"hello.elf\", "
                     "\"hello.elf\", \"hello.elf\", \"hello.elf\", \"hello.elf\", "
                     "\"hello.elf\", \"hello.elf\", \"hello.elf\", \"hello.elf\", "
                     "\"hello.elf\", \"hello.elf\", \"hello.elf\", \"hello.elf\", "
                     "\"hello.elf\"]\n",
                  "f.toml:4:11: vm a: modules lists 17 boot modules; a VM takes at most 16, so "
                  "remove 1");
        one_error(VM "type = \"linux\"\nmodules = [\"initrd.gz\"]\n",
                  "f.toml:5:11: vm a: modules are boot modules for a multiboot kernel, but type "
                  "is \"linux\"; remove modules, or use type = \"multiboot\" or \"multiboot2\"");
        /* Whichever comes first in the file; an empty list too. */
        one_error(VM "modules = []\ntype = \"flat\"\n",
                  "f.toml:4:11: vm a: modules are boot modules for a multiboot kernel, but type "
                  "is \"flat\"; remove modules, or use type = \"multiboot\" or \"multiboot2\"");
        /* Every error in the list is reported; the VM is refused once. */
        ck_assert_uint_eq(load(VM "modules = [1, \"nope\", \"hello.elf\", \"hello.elf\"]\n"), 3);
        ck_assert_uint_eq(conf.nvms, 0);
        ck_assert_uint_eq(conf.refused, 1);
        said("f.toml: 3 errors; 1 of 1 VM refused (a), 0 VMs accepted");
        /* The module-line option and short forms lead to the key. */
        one_error(VM "module-for = \"a\"\n",
                  "f.toml:4:1: vm a: unknown key 'module-for' in [[vm]]; did you mean "
                  "'modules'?");
        one_error(VM "mods = []\n",
                  "f.toml:4:1: vm a: unknown key 'mods' in [[vm]]; did you mean 'modules'?");
        one_error(VM "module = []\n",
                  "f.toml:4:1: vm a: unknown key 'module' in [[vm]]; did you mean 'modules'?");
}
END_TEST

START_TEST(boot_module_args)
{
        /* What the guest gets as each module's command line (core/main.c):
         * the text after "--" on the module line, as with module-for=. */
        static const char *const lines[] = { "/boot/mb.elf", "module-a.txt -- a.txt first=1",
                                             "data.bin x=1", "pattern.img -- pattern -- two" };
        struct vmconfig_machine m = { lines, ARRAY_SIZE(lines), 2, GiB(1) };
        nmsgs = 0;
        toml_init(&doc, nodes, VMCONFIG_NODES, pool, VMCONFIG_POOL);
        const char *text = "[[vm]]\nname = \"mb\"\nkernel = \"mb.elf\"\n"
                           "modules = [\"pattern.img\", \"data.bin\", \"module-a.txt\"]\n";
        ck_assert_uint_eq(
            vmconfig_load(&conf, &doc, "f.toml", text, strlen(text), &m, collect, &nmsgs), 0);
        const struct vm_config *v = &conf.vms[0];
        ck_assert_uint_eq(v->nmodules, 3);
        ck_assert_str_eq(config_module_args(lines[v->module_index[0]]), "pattern -- two");
        ck_assert_str_eq(config_module_args(lines[v->module_index[1]]), "");
        ck_assert_str_eq(config_module_args(lines[v->module_index[2]]), "a.txt first=1");
}
END_TEST

START_TEST(module_line_config_unchanged)
{
        /* config.c's module-line form sets the new fields to their defaults. */
        struct vm_config c;
        char err[160];
        memset(&c, 0x5a, sizeof(c));
        ck_assert_ptr_null(config_parse(&c, "name=x ram=8M", "vm0", err, sizeof(err)));
        ck_assert(c.autostart);
        ck_assert_int_eq(c.on_poweroff, POWEROFF_STOP);
        ck_assert_int_eq(c.kernel_module, -1);
        ck_assert_int_eq(c.initrd_module, -1);
        ck_assert_int_eq(c.disk_module, -1);
        ck_assert_uint_eq(c.nmodules, 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("vmconfig");
        TCase *tc = tcase_create("schema");
        tcase_add_test(tc, defaults);
        tcase_add_test(tc, every_key);
        tcase_add_test(tc, value_forms);
        tcase_add_test(tc, unknown_keys);
        tcase_add_test(tc, wrong_types);
        tcase_add_test(tc, values_out_of_range);
        tcase_add_test(tc, cpus);
        tcase_add_test(tc, modules_and_names);
        tcase_add_test(tc, machine_memory);
        tcase_add_test(tc, console);
        tcase_add_test(tc, refused_vms_and_counts);
        tcase_add_test(tc, syntax_error_refuses_all);
        tcase_add_test(tc, describe);
        tcase_add_test(tc, module_line_config_unchanged);
        tcase_add_test(tc, devices);
        tcase_add_test(tc, boot_modules);
        tcase_add_test(tc, boot_module_args);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
