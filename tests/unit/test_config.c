/* Host unit tests for config/config.c: the VM options on a module line. */
#include "tests/unit/check_compat.h"
#include "config/config.h"

static struct vm_config cfg;
static char err[160];

static const char *parse(const char *line)
{
        return config_parse(&cfg, line, "vm7", err, sizeof(err));
}

START_TEST(defaults_when_empty)
{
        ck_assert_ptr_null(parse(""));
        ck_assert_str_eq(cfg.name, "vm7");
        ck_assert_int_eq(cfg.type, GUEST_AUTO);
        ck_assert_x64_eq(cfg.ram_size, VM_RAM_DEFAULT);
        ck_assert_str_eq(cfg.cmdline, "");
        ck_assert_int_eq(cfg.selftest, SELFTEST_NONE);
        ck_assert_uint_eq(cfg.vcpus, 1);
        ck_assert_x64_eq(cfg.cpu_mask, 0);
        ck_assert(!cfg.cpus_given);
}
END_TEST

START_TEST(all_options)
{
        ck_assert_ptr_null(parse("name=web-1 type=multiboot ram=64M selftest=bad-control"));
        ck_assert_str_eq(cfg.name, "web-1");
        ck_assert_int_eq(cfg.type, GUEST_MULTIBOOT);
        ck_assert_x64_eq(cfg.ram_size, 64ULL << 20);
        ck_assert_int_eq(cfg.selftest, SELFTEST_BAD_CONTROL);
        ck_assert_ptr_null(parse("type=flat ram=0x200000 selftest=bad-guest-state"));
        ck_assert_int_eq(cfg.type, GUEST_FLAT);
        ck_assert_x64_eq(cfg.ram_size, 2ULL << 20);
        ck_assert_int_eq(cfg.selftest, SELFTEST_BAD_GUEST_STATE);
        ck_assert_ptr_null(parse("type=flat ram=0x200000 selftest=cr3-exits"));
        ck_assert_int_eq(cfg.selftest, SELFTEST_CR3_EXITS);
        ck_assert_ptr_null(parse("type=multiboot2"));
        ck_assert_int_eq(cfg.type, GUEST_MULTIBOOT2);
        ck_assert_ptr_nonnull(
            strstr(parse("type=multiboot3"), "unknown (use flat, multiboot, multiboot2 or linux)"));
        ck_assert_ptr_null(parse("ram=4G"));
        ck_assert_x64_eq(cfg.ram_size, 4ULL << 30);
        ck_assert(!cfg.unmapped_stop); /* PC behaviour unless asked */
        ck_assert_ptr_null(parse("unmapped=stop"));
        ck_assert(cfg.unmapped_stop);
        ck_assert_ptr_null(parse("unmapped=ones"));
        ck_assert(!cfg.unmapped_stop);
        ck_assert_ptr_nonnull(
            strstr(parse("unmapped=yes"), "unmapped 'yes' is unknown (use ones or stop)"));
}
END_TEST

START_TEST(guest_cmdline_after_double_dash)
{
        ck_assert_ptr_null(parse("name=a -- console=ttyS0  root=/dev/x -- y"));
        ck_assert_str_eq(cfg.cmdline, "console=ttyS0  root=/dev/x -- y");
        ck_assert_ptr_null(parse("--"));
        ck_assert_str_eq(cfg.cmdline, "");
}
END_TEST

START_TEST(leading_file_name_is_skipped)
{
        ck_assert_ptr_null(parse("/boot/guest.elf name=g ram=8M"));
        ck_assert_str_eq(cfg.name, "g");
        ck_assert_x64_eq(cfg.ram_size, 8ULL << 20);
        /* Only the first word may be a bare file name. */
        ck_assert_ptr_nonnull(parse("/boot/guest.elf name=g stray"));
        ck_assert_ptr_nonnull(strstr(err, "'stray'"));
}
END_TEST

START_TEST(bad_options_are_named)
{
        ck_assert_ptr_nonnull(parse("name=x color=blue"));
        ck_assert_ptr_nonnull(strstr(err, "unknown option 'color'"));
        ck_assert_ptr_nonnull(parse("type=elf"));
        ck_assert_ptr_nonnull(strstr(err, "type 'elf'"));
        ck_assert_ptr_nonnull(parse("selftest=crash"));
        ck_assert_ptr_nonnull(strstr(err, "selftest 'crash'"));
}
END_TEST

START_TEST(bad_ram_sizes)
{
        const char *bad[] = { "ram=1M",
                              "ram=5G",
                              "ram=3000K",
                              "ram=",
                              "ram=12X",
                              "ram=0x",
                              "ram=99999999999999999999",
                              "ram=1048577" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_msg(parse(bad[i]) != NULL, "%s accepted", bad[i]);
                ck_assert_ptr_nonnull(strstr(err, "ram '"));
        }
}
END_TEST

START_TEST(bad_names)
{
        const char *bad[] = { "name=", "name=a/b", "name=has\033esc",
                              "name=abcdefghijklmnopqrstuvwxyz" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(parse(bad[i]) != NULL, "%s accepted", bad[i]);
        ck_assert_ptr_null(parse("name=A.b_c-9"));
        ck_assert_str_eq(cfg.name, "A.b_c-9");
}
END_TEST

START_TEST(cmdline_too_long)
{
        char line[VM_CMDLINE_MAX + 16];
        strcpy(line, "-- ");
        memset(line + 3, 'x', VM_CMDLINE_MAX);
        line[3 + VM_CMDLINE_MAX] = '\0';
        ck_assert_ptr_nonnull(parse(line));
        ck_assert_ptr_nonnull(strstr(err, "longer than"));
        line[3 + VM_CMDLINE_MAX - 1] = '\0'; /* exactly the maximum fits */
        ck_assert_ptr_null(parse(line));
        ck_assert_uint_eq(strlen(cfg.cmdline), VM_CMDLINE_MAX - 1);
}
END_TEST

START_TEST(vcpus_option)
{
        ck_assert_ptr_null(parse("name=smp vcpus=4 ram=64M"));
        ck_assert_uint_eq(cfg.vcpus, 4);
        ck_assert_ptr_null(parse("vcpus=1"));
        ck_assert_uint_eq(cfg.vcpus, 1);
        ck_assert_ptr_null(parse("vcpus=64"));
        ck_assert_uint_eq(cfg.vcpus, 64);
        /* The last one given wins, as for every option. */
        ck_assert_ptr_null(parse("vcpus=2 vcpus=3"));
        ck_assert_uint_eq(cfg.vcpus, 3);
}
END_TEST

START_TEST(bad_vcpus_name_the_range)
{
        const char *bad[] = {
                "vcpus=0", "vcpus=65", "vcpus=", "vcpus=two", "vcpus=-1", "vcpus=1K"
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                ck_assert_msg(parse(bad[i]) != NULL, "%s accepted", bad[i]);
                ck_assert_ptr_nonnull(strstr(err, "from 1 to 64"));
        }
        ck_assert_ptr_nonnull(parse("vcpus=65"));
        ck_assert_str_eq(err, "vcpus '65' must be a number from 1 to 64 (e.g. vcpus=2)");
}
END_TEST

START_TEST(cpus_option)
{
        static const struct {
                const char *line;
                uint64_t mask;
        } t[] = {
                { "cpus=0", 0x1 },           { "cpus=3", 0x8 },         { "cpus=0-1,3", 0xb },
                { "cpus=3,0-1", 0xb }, /* a set: order does not matter */
                { "cpus=2-2", 0x4 },         { "cpus=63", 1ULL << 63 }, { "cpus=0-63", ~0ULL },
                { "cpus=1,5-7,12", 0x10e2 }, { "cpus=007", 0x80 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                ck_assert_msg(parse(t[i].line) == NULL, "%s: %s", t[i].line, err);
                ck_assert_x64_eq(cfg.cpu_mask, t[i].mask);
                ck_assert(cfg.cpus_given);
        }
        ck_assert_ptr_null(parse("name=pinned vcpus=2 cpus=0-1 -- quiet"));
        ck_assert_uint_eq(cfg.vcpus, 2);
        ck_assert_x64_eq(cfg.cpu_mask, 0x3);
        ck_assert_str_eq(cfg.cmdline, "quiet");
}
END_TEST

START_TEST(bad_cpus_are_refused)
{
        const char *malformed[] = { "cpus=",     "cpus=,",         "cpus=0,",  "cpus=,1",
                                    "cpus=0,,1", "cpus=a",         "cpus=1-",  "cpus=-1",
                                    "cpus=3-1",  "cpus=1-2-3",     "cpus=0x1", "cpus=1K",
                                    "cpus=0-1;", "cpus=1234567890" };
        for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
                ck_assert_msg(parse(malformed[i]) != NULL, "%s accepted", malformed[i]);
                ck_assert_msg(strstr(err, "cpus '") != NULL, "%s: %s", malformed[i], err);
        }
        ck_assert_ptr_nonnull(parse("cpus=3-1"));
        ck_assert_str_eq(err, "cpus '3-1' must list CPU numbers and ranges separated by commas "
                              "(e.g. cpus=0-1,3)");
        ck_assert_ptr_nonnull(parse("cpus=0,64"));
        ck_assert_str_eq(err, "cpus '0,64': CPU 64 is out of range (CPUs are numbered 0 to 63)");
        ck_assert_ptr_nonnull(parse("cpus=60-70"));
        ck_assert_str_eq(err, "cpus '60-70': CPU 70 is out of range (CPUs are numbered 0 to 63)");
        ck_assert_ptr_nonnull(parse("cpus=1000"));
        ck_assert_ptr_nonnull(strstr(err, "CPU 1000 is out of range"));
}
END_TEST

START_TEST(duplicate_cpus_name_the_cpu)
{
        ck_assert_ptr_nonnull(parse("cpus=0,1,0"));
        ck_assert_str_eq(err, "cpus '0,1,0' lists CPU 0 twice");
        ck_assert_ptr_nonnull(parse("cpus=0-3,2"));
        ck_assert_str_eq(err, "cpus '0-3,2' lists CPU 2 twice");
        ck_assert_ptr_nonnull(parse("cpus=4,2-5"));
        ck_assert_str_eq(err, "cpus '4,2-5' lists CPU 4 twice");
        ck_assert_ptr_nonnull(parse("cpus=5-6,6-7"));
        ck_assert_str_eq(err, "cpus '5-6,6-7' lists CPU 6 twice");
}
END_TEST

START_TEST(unknown_option_lists_the_new_ones)
{
        ck_assert_ptr_nonnull(parse("cpu=1"));
        ck_assert_ptr_nonnull(strstr(err, "unknown option 'cpu'"));
        ck_assert_ptr_nonnull(strstr(err, "vcpus, cpus"));
}
END_TEST

START_TEST(device_options)
{
        ck_assert_ptr_null(parse("name=a network=lan mac=02:0a:0B:0c:0d:0e"));
        ck_assert_str_eq(cfg.network, "lan");
        ck_assert(cfg.mac_given);
        ck_assert_mem_eq(cfg.mac, "\x02\x0a\x0b\x0c\x0d\x0e", 6);
        ck_assert_int_eq(cfg.disk_module, -1);
        ck_assert_ptr_null(parse("disk-for=web readonly=yes"));
        ck_assert_str_eq(cfg.disk_for, "web");
        ck_assert(cfg.disk_readonly);
        ck_assert_ptr_null(parse("disk-for=web readonly=no"));
        ck_assert(!cfg.disk_readonly);
        ck_assert_ptr_null(parse("name=b"));
        ck_assert_str_eq(cfg.network, "");
        ck_assert(!cfg.mac_given);

        ck_assert_ptr_nonnull(parse("readonly=true"));
        ck_assert_str_eq(err, "readonly 'true' is unknown (use yes or no)");
        ck_assert_ptr_nonnull(parse("disk-for=a/b"));
        ck_assert_str_eq(err, "disk-for 'a/b' is not a VM name");
        ck_assert_ptr_null(parse("module-for=kern -- file.txt arg"));
        ck_assert_str_eq(cfg.module_for, "kern");
        ck_assert_str_eq(cfg.cmdline, "file.txt arg");
        ck_assert_ptr_nonnull(parse("module-for=a/b"));
        ck_assert_str_eq(err, "module-for 'a/b' is not a VM name");
        ck_assert_ptr_nonnull(parse("network="));
        ck_assert_ptr_nonnull(parse("mac=03:00:00:00:00:01"));
        ck_assert_str_eq(err, "mac '03:00:00:00:00:01' must be six hex bytes with colons, "
                              "unicast (e.g. mac=02:00:00:00:00:01)");
        ck_assert_ptr_nonnull(parse("mac=02:00:00:00:00:001"));
        ck_assert_ptr_nonnull(parse("mac=00:00:00:00:00:00"));
        ck_assert_ptr_nonnull(parse("mac=02:00:00:00:00"));

        uint8_t mac[6];
        ck_assert(config_parse_mac("fe:ff:ff:ff:ff:ff", 17, mac));
        ck_assert_uint_eq(mac[5], 0xff);
        ck_assert(!config_parse_mac("fe:ff:ff:ff:ff:ff", 16, mac));
        ck_assert(!config_parse_mac("fe:ff:ff:ff:ff;ff", 17, mac));
}
END_TEST

/* A boot module's command line for the guest: what config_parse takes
 * as the cmdline after "--", for a module named by a configuration file's
 * modules = [...] (whose options are not read). */
START_TEST(module_args_as_after_double_dash)
{
        static const char *const lines[] = {
                "module-a.txt module-for=mb -- a.txt first=1",
                "module-a.txt -- again",
                "module-b.txt",
                "x.bin --  two  spaces -- inside\t",
                "--",
                "-- first",
                "x.bin --x y",
                "x.bin\t--\tz",
                "",
        };
        unsigned same = 0;
        for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
                if (parse(lines[i])) /* "x.bin --x y": not a module line config_parse takes */
                        continue;
                ck_assert_str_eq(config_module_args(lines[i]), cfg.cmdline);
                same++;
        }
        ck_assert_uint_eq(same, ARRAY_SIZE(lines) - 1);
        ck_assert_str_eq(config_module_args("module-a.txt -- a.txt first=1"), "a.txt first=1");
        ck_assert_str_eq(config_module_args("module-b.txt"), "");
        ck_assert_str_eq(config_module_args("x.bin --x y"), "");
        ck_assert_str_eq(config_module_args("x.bin -- a -- b"), "a -- b");
}
END_TEST

START_TEST(type_names)
{
        ck_assert_str_eq(guest_type_name(GUEST_FLAT), "flat");
        ck_assert_str_eq(guest_type_name(GUEST_MULTIBOOT), "multiboot");
        ck_assert_str_eq(guest_type_name(GUEST_AUTO), "auto");
        ck_assert_str_eq(guest_type_name(GUEST_MULTIBOOT2), "multiboot2");
        ck_assert_str_eq(guest_type_name(GUEST_LINUX), "linux");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, defaults_when_empty);
        tcase_add_test(tc, all_options);
        tcase_add_test(tc, guest_cmdline_after_double_dash);
        tcase_add_test(tc, leading_file_name_is_skipped);
        tcase_add_test(tc, bad_options_are_named);
        tcase_add_test(tc, bad_ram_sizes);
        tcase_add_test(tc, bad_names);
        tcase_add_test(tc, cmdline_too_long);
        tcase_add_test(tc, vcpus_option);
        tcase_add_test(tc, bad_vcpus_name_the_range);
        tcase_add_test(tc, cpus_option);
        tcase_add_test(tc, bad_cpus_are_refused);
        tcase_add_test(tc, duplicate_cpus_name_the_cpu);
        tcase_add_test(tc, unknown_option_lists_the_new_ones);
        tcase_add_test(tc, type_names);
        tcase_add_test(tc, device_options);
        tcase_add_test(tc, module_args_as_after_double_dash);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
