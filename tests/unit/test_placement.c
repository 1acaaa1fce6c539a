/* Host unit tests for config/placement.c: which physical CPU runs each
 * vCPU. */
#include "tests/unit/check_compat.h"
#include <stdio.h>
#include "config/placement.h"

static struct placement p;

/* The CPUs of VM vm's vCPUs as a string, "0,1,0", for readable checks. */
static const char *cpus_of(unsigned vm, unsigned vcpus)
{
        static char buf[256];
        size_t len = 0;
        buf[0] = '\0';
        for (unsigned j = 0; j < vcpus; j++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u", j ? "," : "",
                                        p.cpu_of[vm][j]);
        return buf;
}

START_TEST(one_cpu_many_vcpus)
{
        struct placement_vm vms[] = { { NULL, 4, 0 }, { NULL, 3, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 2, 1), 0);
        ck_assert_str_eq(cpus_of(0, 4), "0,0,0,0");
        ck_assert_str_eq(cpus_of(1, 3), "0,0,0");
        ck_assert_uint_eq(p.load[0], 7);
        ck_assert_ptr_null(p.error[0]);
        ck_assert_ptr_null(p.error[1]);
        /* vCPUs a VM does not have, and VMs not passed in, have no CPU. */
        ck_assert_uint_eq(p.cpu_of[0][4], PLACEMENT_NO_CPU);
        ck_assert_uint_eq(p.cpu_of[2][0], PLACEMENT_NO_CPU);
}
END_TEST

START_TEST(two_cpus_two_vms)
{
        struct placement_vm vms[] = { { NULL, 1, 0 }, { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 2, 2), 0);
        ck_assert_uint_eq(p.cpu_of[0][0], 0);
        ck_assert_uint_eq(p.cpu_of[1][0], 1);
        ck_assert_uint_eq(p.load[0], 1);
        ck_assert_uint_eq(p.load[1], 1);
}
END_TEST

START_TEST(four_cpus_one_smp_vm_two_small)
{
        struct placement_vm vms[] = { { NULL, 2, 0 }, { NULL, 1, 0 }, { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 4), 0);
        ck_assert_str_eq(cpus_of(0, 2), "0,1");
        ck_assert_str_eq(cpus_of(1, 1), "2");
        ck_assert_str_eq(cpus_of(2, 1), "3");
        for (unsigned c = 0; c < 4; c++)
                ck_assert_uint_eq(p.load[c], 1);
}
END_TEST

START_TEST(pinning_in_set_order_and_wrapping)
{
        /* cpus=1,3 with three vCPUs: 1, 3, then around to 1. */
        struct placement_vm vms[] = { { NULL, 3, BIT(1) | BIT(3) } };
        ck_assert_uint_eq(placement_plan(&p, vms, 1, 4), 0);
        ck_assert_str_eq(cpus_of(0, 3), "1,3,1");
        ck_assert_uint_eq(p.load[0], 0);
        ck_assert_uint_eq(p.load[1], 2);
        ck_assert_uint_eq(p.load[3], 1);
        /* More CPUs than vCPUs: the lowest ones are used. */
        struct placement_vm wide[] = { { NULL, 2, 0xf0 } };
        ck_assert_uint_eq(placement_plan(&p, wide, 1, 8), 0);
        ck_assert_str_eq(cpus_of(0, 2), "4,5");
}
END_TEST

START_TEST(pinned_before_unpinned)
{
        /* VM 0 is unpinned but comes first: the pinned VM 1 still gets CPU 0,
         * and VM 0's vCPUs go where the load is lowest. */
        struct placement_vm vms[] = { { NULL, 2, 0 }, { NULL, 1, BIT(0) }, { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 4), 0);
        ck_assert_str_eq(cpus_of(1, 1), "0");
        ck_assert_str_eq(cpus_of(0, 2), "1,2");
        ck_assert_str_eq(cpus_of(2, 1), "3");
}
END_TEST

START_TEST(unpinned_share_pinned_cpus_by_load)
{
        /* Two CPUs, both pinned with one vCPU each; unpinned vCPUs then
         * spread over both, lowest number first on ties. */
        struct placement_vm vms[] = { { NULL, 1, BIT(0) }, { NULL, 1, BIT(1) }, { NULL, 3, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 2), 0);
        ck_assert_str_eq(cpus_of(2, 3), "0,1,0");
        ck_assert_uint_eq(p.load[0], 3);
        ck_assert_uint_eq(p.load[1], 2);
}
END_TEST

START_TEST(bad_cpu_is_refused_others_go_on)
{
        struct placement_vm vms[] = { { NULL, 1, 0 },
                                      { NULL, 2, BIT(2) | BIT(5) },
                                      { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 4), 1);
        ck_assert_ptr_nonnull(p.error[1]);
        ck_assert_str_eq(p.error[1], "VM 1 is pinned to CPU 5, but there are only 4 CPUs (0-3)");
        ck_assert_ptr_null(p.error[0]);
        ck_assert_ptr_null(p.error[2]);
        ck_assert_uint_eq(p.cpu_of[1][0], PLACEMENT_NO_CPU);
        /* The refused VM holds nothing: CPU 2 is free for the others. */
        ck_assert_str_eq(cpus_of(0, 1), "0");
        ck_assert_str_eq(cpus_of(2, 1), "1");
        ck_assert_uint_eq(p.load[2], 0);

        struct placement_vm one[] = { { NULL, 1, BIT(1) } };
        ck_assert_uint_eq(placement_plan(&p, one, 1, 1), 1);
        ck_assert_str_eq(p.error[0], "VM 0 is pinned to CPU 1, but there is only 1 CPU (CPU 0)");
        ck_assert_uint_eq(placement_plan(&p, one, 1, 0), 1);
        ck_assert_str_eq(p.error[0], "VM 0 is pinned to CPU 1, but there are no CPUs");
}
END_TEST

START_TEST(doubly_pinned_cpu_names_both_vms)
{
        struct placement_vm vms[] = { { NULL, 1, BIT(0) | BIT(1) },
                                      { NULL, 1, BIT(2) },
                                      { NULL, 1, BIT(1) } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 4), 1);
        ck_assert_ptr_null(p.error[0]);
        ck_assert_ptr_null(p.error[1]);
        ck_assert_str_eq(p.error[2], "CPU 1 is pinned by both VM 0 and VM 2");
        ck_assert_str_eq(cpus_of(0, 1), "0");
        ck_assert_str_eq(cpus_of(1, 1), "2");
        ck_assert_uint_eq(p.cpu_of[2][0], PLACEMENT_NO_CPU);
        /* A VM refused for a missing CPU does not hold the ones it named. */
        struct placement_vm v2[] = { { NULL, 1, BIT(1) | BIT(9) }, { NULL, 1, BIT(1) } };
        ck_assert_uint_eq(placement_plan(&p, v2, 2, 4), 1);
        ck_assert_ptr_nonnull(p.error[0]);
        ck_assert_ptr_null(p.error[1]);
        ck_assert_str_eq(cpus_of(1, 1), "1");
}
END_TEST

START_TEST(overcommit_shares_evenly)
{
        /* 3 VMs of 2 vCPUs on 2 CPUs: 3 each. */
        struct placement_vm vms[] = { { NULL, 2, 0 }, { NULL, 2, 0 }, { NULL, 2, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 2), 0);
        ck_assert_uint_eq(p.load[0], 3);
        ck_assert_uint_eq(p.load[1], 3);
        ck_assert_str_eq(cpus_of(0, 2), "0,1");
        ck_assert_str_eq(cpus_of(1, 2), "0,1");
        /* 64 vCPUs on 3 CPUs: loads 22, 21, 21. */
        struct placement_vm big[] = { { NULL, 64, 0 } };
        ck_assert_uint_eq(placement_plan(&p, big, 1, 3), 0);
        ck_assert_uint_eq(p.load[0], 22);
        ck_assert_uint_eq(p.load[1], 21);
        ck_assert_uint_eq(p.load[2], 21);
        ck_assert_uint_eq(p.cpu_of[0][63], 0);
}
END_TEST

START_TEST(all_sixteen_vms_on_sixty_four_cpus)
{
        struct placement_vm vms[PLACEMENT_MAX_VMS];
        for (unsigned i = 0; i < PLACEMENT_MAX_VMS; i++)
                vms[i] = (struct placement_vm){ NULL, 4, 0 };
        vms[15].cpu_mask = BIT(63) | BIT(62) | BIT(61) | BIT(60);
        ck_assert_uint_eq(placement_plan(&p, vms, PLACEMENT_MAX_VMS, 64), 0);
        for (unsigned c = 0; c < 64; c++)
                ck_assert_uint_eq(p.load[c], 1);
        ck_assert_str_eq(cpus_of(15, 4), "60,61,62,63");
        ck_assert_str_eq(cpus_of(14, 4), "56,57,58,59");
        /* More CPUs than a mask holds are cut to 64. */
        ck_assert_uint_eq(placement_plan(&p, vms, PLACEMENT_MAX_VMS, 1000), 0);
}
END_TEST

START_TEST(bad_vcpu_counts_and_no_cpus)
{
        struct placement_vm vms[] = { { NULL, 0, 0 }, { NULL, 65, 0 }, { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 2), 2);
        ck_assert_str_eq(p.error[0], "VM 0 has 0 vCPUs (it must have 1 to 64)");
        ck_assert_str_eq(p.error[1], "VM 1 has 65 vCPUs (it must have 1 to 64)");
        ck_assert_str_eq(cpus_of(2, 1), "0");
        struct placement_vm one[] = { { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, one, 1, 0), 1);
        ck_assert_str_eq(p.error[0], "VM 0: there are no CPUs");
}
END_TEST

START_TEST(plan_is_reset_between_calls)
{
        struct placement_vm bad[] = { { NULL, 1, BIT(7) } };
        ck_assert_uint_eq(placement_plan(&p, bad, 1, 2), 1);
        struct placement_vm good[] = { { NULL, 1, 0 } };
        ck_assert_uint_eq(placement_plan(&p, good, 1, 2), 0);
        ck_assert_ptr_null(p.error[0]);
        ck_assert_uint_eq(p.load[0], 1);
        ck_assert_uint_eq(p.load[1], 0);
}
END_TEST

START_TEST(messages_use_names)
{
        struct placement_vm vms[] = { { "web", 1, BIT(1) },
                                      { "db", 1, BIT(1) },
                                      { "far", 1, BIT(7) } };
        ck_assert_uint_eq(placement_plan(&p, vms, 3, 2), 2);
        ck_assert_ptr_null(p.error[0]);
        ck_assert_str_eq(p.error[1], "CPU 1 is pinned by both vm web and vm db");
        ck_assert_str_eq(p.error[2], "vm far is pinned to CPU 7, but there are only 2 CPUs (0-1)");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("placement");
        TCase *tc = tcase_create("plan");
        tcase_add_test(tc, one_cpu_many_vcpus);
        tcase_add_test(tc, two_cpus_two_vms);
        tcase_add_test(tc, four_cpus_one_smp_vm_two_small);
        tcase_add_test(tc, pinning_in_set_order_and_wrapping);
        tcase_add_test(tc, pinned_before_unpinned);
        tcase_add_test(tc, unpinned_share_pinned_cpus_by_load);
        tcase_add_test(tc, bad_cpu_is_refused_others_go_on);
        tcase_add_test(tc, doubly_pinned_cpu_names_both_vms);
        tcase_add_test(tc, overcommit_shares_evenly);
        tcase_add_test(tc, all_sixteen_vms_on_sixty_four_cpus);
        tcase_add_test(tc, bad_vcpu_counts_and_no_cpus);
        tcase_add_test(tc, plan_is_reset_between_calls);
        tcase_add_test(tc, messages_use_names);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
