/* Host unit tests for devices/pci.c: configuration mechanism #1 and the
 * i440FX host bridge at 00:00.0. */
#include "tests/unit/check_compat.h"
#include "devices/pci.h"

static struct pci p;

static void setup(void)
{
        pci_init(&p);
}

static uint32_t addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
        return PCI_ADDR_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* A configuration read as Linux's pci_conf1_read does it: the dword
 * address, then the data port at the register's byte lane. */
static uint32_t cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, addr(bus, dev, fn, reg));
        return pci_in(&p, (uint16_t)(PCI_CONFIG_DATA_PORT + (reg & 3)), size);
}

static void cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size,
                      uint32_t v)
{
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, addr(bus, dev, fn, reg));
        pci_out(&p, (uint16_t)(PCI_CONFIG_DATA_PORT + (reg & 3)), size, v);
}

START_TEST(host_bridge_identity)
{
        ck_assert_x64_eq(cfg_read(0, 0, 0, 0, 4), 0x12378086);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_VENDOR_ID, 2), 0x8086);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_DEVICE_ID, 2), 0x1237);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_REVISION_ID, 4), 0x06000002);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_CLASS_PROG, 1), 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_HEADER_TYPE, 1), 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0006);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_STATUS, 2), 0x0200);
        for (unsigned bar = PCI_BAR0; bar < PCI_BAR0 + 24; bar += 4)
                ck_assert_x64_eq(cfg_read(0, 0, 0, bar, 4), 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_CAP_PTR, 1), 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_INTERRUPT_PIN, 1), 0);
        /* Every byte lane of a dword reads the same bytes. */
        for (unsigned reg = 0; reg < 16; reg++)
                ck_assert_x64_eq(cfg_read(0, 0, 0, reg, 1),
                                 cfg_read(0, 0, 0, reg & ~3u, 4) >> (8 * (reg & 3)) & 0xff);
        ck_assert_x64_eq(cfg_read(0, 0, 0, 2, 2), 0x1237);
}
END_TEST

START_TEST(read_only_registers_ignore_writes)
{
        cfg_write(0, 0, 0, PCI_VENDOR_ID, 4, 0xdeadbeef);
        cfg_write(0, 0, 0, PCI_REVISION_ID, 4, 0xffffffff);
        cfg_write(0, 0, 0, PCI_HEADER_TYPE, 1, 0x80);
        cfg_write(0, 0, 0, PCI_CACHE_LINE, 1, 0x10);
        ck_assert_x64_eq(cfg_read(0, 0, 0, 0, 4), 0x12378086);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_REVISION_ID, 4), 0x06000002);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_CACHE_LINE, 4), 0);
        /* BAR sizing (all-ones then read back): no BAR. */
        for (unsigned bar = PCI_BAR0; bar < PCI_BAR0 + 24; bar += 4) {
                cfg_write(0, 0, 0, bar, 4, 0xffffffff);
                ck_assert_x64_eq(cfg_read(0, 0, 0, bar, 4), 0);
        }
        /* Device-specific space: reads 0, ignores writes. */
        cfg_write(0, 0, 0, 0x58, 4, 0x33333333);
        ck_assert_x64_eq(cfg_read(0, 0, 0, 0x58, 4), 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, 0xfc, 4), 0);
}
END_TEST

START_TEST(writable_registers)
{
        /* Command: memory and bus master stay set; I/O stays clear;
         * parity and SERR# are writable. */
        cfg_write(0, 0, 0, PCI_COMMAND, 2, 0xffff);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0146);
        cfg_write(0, 0, 0, PCI_COMMAND, 2, 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0006);
        /* Status errors are write-1-to-clear and none is set. */
        cfg_write(0, 0, 0, PCI_STATUS, 2, 0xffff);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_STATUS, 2), 0x0200);
        cfg_write(0, 0, 0, PCI_LATENCY_TIMER, 1, 0x40);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_CACHE_LINE, 4), 0x00004000);
        cfg_write(0, 0, 0, PCI_INTERRUPT_LINE, 1, 0x0b);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_INTERRUPT_LINE, 4), 0x0000000b);
        /* A dword write over command and status changes only command. */
        cfg_write(0, 0, 0, PCI_COMMAND, 4, 0xffff0040);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_COMMAND, 4), 0x02000046);
}
END_TEST

START_TEST(empty_slots_read_all_ones)
{
        for (unsigned dev = 1; dev < 32; dev++) {
                ck_assert_x64_eq(cfg_read(0, dev, 0, 0, 4), 0xffffffff);
                ck_assert_x64_eq(cfg_read(0, dev, 0, 0, 2), 0xffff);
                ck_assert_x64_eq(cfg_read(0, dev, 0, 0x0e, 1), 0xff);
        }
        for (unsigned fn = 1; fn < 8; fn++)
                ck_assert_x64_eq(cfg_read(0, 0, fn, 0, 4), 0xffffffff);
        ck_assert_x64_eq(cfg_read(1, 0, 0, 0, 4), 0xffffffff);
        ck_assert_x64_eq(cfg_read(255, 31, 7, 0xfc, 4), 0xffffffff);
        /* Writes there go nowhere, and do not reach the host bridge. */
        cfg_write(1, 0, 0, PCI_COMMAND, 2, 0xffff);
        cfg_write(0, 5, 0, PCI_COMMAND, 2, 0xffff);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0006);
}
END_TEST

START_TEST(address_register)
{
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000);
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0x8012345c);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0x8012345c);
        /* Reserved bits 30:24 and 1:0 read 0. */
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0xffffffff);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0x80fffffc);
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0);
}
END_TEST

/* Only a dword access to 0xcf8 is CONFIG_ADDRESS; 0xcf9 is the reset
 * control register, and the rest is not decoded here. */
START_TEST(narrow_accesses_to_cf8_are_not_config)
{
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000);
        pci_out(&p, 0xcf8, 1, 0x12);
        pci_out(&p, 0xcf9, 1, 0x06);
        pci_out(&p, 0xcfa, 2, 0xffff);
        pci_out(&p, 0xcfb, 1, 0x01); /* Linux's type-1 probe does this */
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000);
        ck_assert_x64_eq(pci_in(&p, 0xcf8, 1), 0xff);
        ck_assert_x64_eq(pci_in(&p, 0xcf9, 1), 0xff);
        ck_assert_x64_eq(pci_in(&p, 0xcf8, 2), 0xffff);
        ck_assert_x64_eq(pci_in(&p, 0xcfa, 2), 0xffff);
        ck_assert(pci_claims(0xcf8, 4));
        ck_assert(!pci_claims(0xcf8, 1));
        ck_assert(!pci_claims(0xcf8, 2));
        ck_assert(!pci_claims(0xcf9, 1));
        ck_assert(!pci_claims(0xcfb, 1));
        ck_assert(pci_claims(0xcfc, 4));
        ck_assert(pci_claims(0xcfe, 2));
        ck_assert(pci_claims(0xcff, 1));
        ck_assert(!pci_claims(0xcfd, 4)); /* crosses the dword */
        ck_assert(!pci_claims(0xcff, 2));
        ck_assert(!pci_claims(0xcfc, 3));
        ck_assert(!pci_claims(0xd00, 1));
        ck_assert(!pci_claims(0xcf7, 4));
}
END_TEST

START_TEST(data_port_when_disabled)
{
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0x00000000); /* enable bit clear */
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_DATA_PORT, 4), 0xffffffff);
        pci_out(&p, PCI_CONFIG_DATA_PORT, 4, 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, 0, 4), 0x12378086);
        /* Misaligned accesses that cross the dword are ignored. */
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, addr(0, 0, 0, 0));
        ck_assert_x64_eq(pci_in(&p, 0xcfd, 4), 0xffffffff);
        ck_assert_x64_eq(pci_in(&p, 0xcff, 2), 0xffff);
        ck_assert_x64_eq(pci_in(&p, 0xcfd, 2), 0x3780);
}
END_TEST

/* Linux's pci_check_type1 (arch/x86/pci/direct.c): byte write to 0xcfb,
 * save 0xcf8, write 0x80000000, expect it back, then pci_sanity_check
 * looks for a host bridge class or Intel vendor on bus 0. */
START_TEST(linux_type1_probe)
{
        pci_out(&p, 0xcfb, 1, 0x01);
        uint32_t saved = pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4);
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000);
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, saved);
        bool found = false;
        for (unsigned devfn = 0; devfn < 0x100; devfn += 8) {
                uint32_t cls = cfg_read(0, devfn >> 3, 0, PCI_CLASS_DEVICE, 2);
                uint32_t ven = cfg_read(0, devfn >> 3, 0, PCI_VENDOR_ID, 2);
                if (cls == 0x0600 || ven == 0x8086)
                        found = true;
        }
        ck_assert(found);
}
END_TEST

START_TEST(attached_function)
{
        static struct pci_function f;
        pci_function_init(&f, 0x1af4, 0x1041, 1, 0x020000);
        /* A 4 KiB memory BAR: bits 31:12 writable, so sizing works. */
        f.wmask[PCI_BAR0 + 1] = 0xf0;
        f.wmask[PCI_BAR0 + 2] = 0xff;
        f.wmask[PCI_BAR0 + 3] = 0xff;
        ck_assert(!pci_attach(&p, 0, &f));
        ck_assert(pci_attach(&p, PCI_DEVFN(3, 0), &f));
        ck_assert(!pci_attach(&p, PCI_DEVFN(3, 0), &f));
        ck_assert_x64_eq(cfg_read(0, 3, 0, 0, 4), 0x10411af4);
        ck_assert_x64_eq(cfg_read(0, 3, 0, PCI_REVISION_ID, 4), 0x02000001);
        cfg_write(0, 3, 0, PCI_BAR0, 4, 0xffffffff);
        ck_assert_x64_eq(cfg_read(0, 3, 0, PCI_BAR0, 4), 0xfffff000);
        ck_assert_x64_eq(cfg_read(0, 3, 1, 0, 4), 0xffffffff);
        /* Status error bits: write 1 to clear. */
        f.cfg[PCI_STATUS + 1] = 0x20; /* received master abort */
        cfg_write(0, 3, 0, PCI_STATUS, 2, 0x0000);
        ck_assert_x64_eq(cfg_read(0, 3, 0, PCI_STATUS, 2), 0x2000);
        cfg_write(0, 3, 0, PCI_STATUS, 2, 0x2000);
        ck_assert_x64_eq(cfg_read(0, 3, 0, PCI_STATUS, 2), 0);
}
END_TEST

START_TEST(bad_sizes)
{
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, addr(0, 0, 0, 0));
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_DATA_PORT, 3), 0xffffff);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_DATA_PORT, 0), 0);
        pci_out(&p, PCI_CONFIG_DATA_PORT, 3, 0);
        ck_assert_x64_eq(cfg_read(0, 0, 0, 0, 4), 0x12378086);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("pci");
        TCase *tc = tcase_create("conf1");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, host_bridge_identity);
        tcase_add_test(tc, read_only_registers_ignore_writes);
        tcase_add_test(tc, writable_registers);
        tcase_add_test(tc, empty_slots_read_all_ones);
        tcase_add_test(tc, address_register);
        tcase_add_test(tc, narrow_accesses_to_cf8_are_not_config);
        tcase_add_test(tc, data_port_when_disabled);
        tcase_add_test(tc, linux_type1_probe);
        tcase_add_test(tc, attached_function);
        tcase_add_test(tc, bad_sizes);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
