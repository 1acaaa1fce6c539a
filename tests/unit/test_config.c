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
        ck_assert_ptr_null(parse("ram=4G"));
        ck_assert_x64_eq(cfg.ram_size, 4ULL << 30);
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

START_TEST(type_names)
{
        ck_assert_str_eq(guest_type_name(GUEST_FLAT), "flat");
        ck_assert_str_eq(guest_type_name(GUEST_MULTIBOOT), "multiboot");
        ck_assert_str_eq(guest_type_name(GUEST_AUTO), "auto");
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
        tcase_add_test(tc, type_names);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
