/* Host unit tests for devices/pci.c: configuration mechanism #1, the
 * direct (ECAM) configuration access, and the i440FX host bridge at
 * 00:00.0. */
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

/* ---- ECAM: pci_cfg_read / pci_cfg_write ---- */

static uint32_t ecam_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
        return pci_cfg_read(&p, (uint8_t)bus, PCI_DEVFN(dev, fn), (uint16_t)reg, size);
}

static void ecam_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size,
                       uint32_t v)
{
        pci_cfg_write(&p, (uint8_t)bus, PCI_DEVFN(dev, fn), (uint16_t)reg, size, v);
}

/* A function with a 4 KiB memory BAR, attached at 00:03.0. */
static struct pci_function *attach_nic(void)
{
        static struct pci_function f;
        pci_function_init(&f, 0x1af4, 0x1041, 1, 0x020000);
        f.wmask[PCI_BAR0 + 1] = 0xf0;
        f.wmask[PCI_BAR0 + 2] = 0xff;
        f.wmask[PCI_BAR0 + 3] = 0xff;
        f.cfg[PCI_INTERRUPT_PIN] = 1;
        ck_assert(pci_attach(&p, PCI_DEVFN(3, 0), &f));
        return &f;
}

static const unsigned sizes[] = { 1, 2, 4 };

/* Every aligned access to the 256-byte space of present and absent
 * functions reads the same through ECAM as through the ports. */
START_TEST(ecam_reads_match_ports)
{
        attach_nic();
        static const unsigned fns[][3] = { { 0, 0, 0 },  { 0, 3, 0 }, { 0, 3, 1 },  { 0, 4, 0 },
                                           { 0, 31, 7 }, { 1, 0, 0 }, { 255, 3, 0 } };
        for (size_t i = 0; i < ARRAY_SIZE(fns); i++)
                for (size_t k = 0; k < ARRAY_SIZE(sizes); k++)
                        for (unsigned reg = 0; reg < PCI_CFG_SIZE; reg += sizes[k]) {
                                unsigned bus = fns[i][0], dev = fns[i][1], fn = fns[i][2];
                                uint32_t port = cfg_read(bus, dev, fn, reg, sizes[k]);
                                uint32_t ecam = ecam_read(bus, dev, fn, reg, sizes[k]);
                                ck_assert_msg(port == ecam,
                                              "%02x:%02x.%u reg 0x%02x size %u: port 0x%x, "
                                              "ECAM 0x%x",
                                              bus, dev, fn, reg, sizes[k], port, ecam);
                        }
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0, 4), 0x12378086);
        ck_assert_x64_eq(ecam_read(0, 3, 0, 0, 4), 0x10411af4);
}
END_TEST

/* Writes through ECAM follow the same masks, and both mechanisms see one
 * configuration space. */
START_TEST(ecam_writes_match_ports)
{
        attach_nic();
        /* Host bridge: read-only identity, fixed command bits, W1C status. */
        ecam_write(0, 0, 0, PCI_VENDOR_ID, 4, 0xdeadbeef);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0, 4), 0x12378086);
        ecam_write(0, 0, 0, PCI_COMMAND, 2, 0xffff);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0146);
        cfg_write(0, 0, 0, PCI_COMMAND, 2, 0);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_COMMAND, 2), 0x0006);
        ecam_write(0, 0, 0, PCI_COMMAND, 4, 0xffff0040);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_COMMAND, 4), 0x02000046);
        ecam_write(0, 0, 0, PCI_LATENCY_TIMER, 1, 0x40);
        ck_assert_x64_eq(cfg_read(0, 0, 0, PCI_CACHE_LINE, 4), 0x00004000);
        ecam_write(0, 0, 0, PCI_INTERRUPT_LINE, 1, 0x0b);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_INTERRUPT_LINE, 4), 0x0000000b);
        ecam_write(0, 0, 0, 0x58, 4, 0x33333333);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0x58, 4), 0);

        /* Attached function: BAR sizing, W1C status bits. */
        struct pci_function *f = p.bus0[PCI_DEVFN(3, 0)];
        ecam_write(0, 3, 0, PCI_BAR0, 4, 0xffffffff);
        ck_assert_x64_eq(cfg_read(0, 3, 0, PCI_BAR0, 4), 0xfffff000);
        ecam_write(0, 3, 0, PCI_BAR0, 4, 0xc0001000);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_BAR0, 4), 0xc0001000);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_BAR0 + 2, 2), 0xc000);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_BAR0 + 3, 1), 0xc0);
        f->cfg[PCI_STATUS + 1] = 0x20;
        ecam_write(0, 3, 0, PCI_STATUS, 2, 0);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_STATUS, 2), 0x2000);
        ecam_write(0, 3, 0, PCI_STATUS + 1, 1, 0x20);
        ck_assert_x64_eq(cfg_read(0, 3, 0, PCI_STATUS, 2), 0);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_INTERRUPT_PIN, 1), 1);
        ecam_write(0, 3, 0, PCI_INTERRUPT_PIN, 1, 4);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_INTERRUPT_PIN, 1), 1);

        /* ECAM does not touch CONFIG_ADDRESS. */
        pci_out(&p, PCI_CONFIG_ADDRESS_PORT, 4, 0x80001808);
        ecam_write(0, 0, 0, PCI_COMMAND, 2, 0);
        (void)ecam_read(0, 3, 0, 0, 4);
        ck_assert_x64_eq(pci_in(&p, PCI_CONFIG_ADDRESS_PORT, 4), 0x80001808);
}
END_TEST

/* 0x100-0xfff of a conventional function: an extended capability header
 * of 0 at 0x100 (none), zeros after it, writes ignored. */
START_TEST(ecam_extended_space)
{
        attach_nic();
        static const unsigned devs[] = { 0, 3 };
        for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
                unsigned dev = devs[i];
                for (unsigned reg = PCI_CFG_SIZE; reg < PCI_CFG_EXT_SIZE; reg += 4)
                        ck_assert_x64_eq(ecam_read(0, dev, 0, reg, 4), 0);
                for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
                        ck_assert_x64_eq(ecam_read(0, dev, 0, 0x100, sizes[k]), 0);
                        ck_assert_x64_eq(ecam_read(0, dev, 0, 0x1000 - sizes[k], sizes[k]), 0);
                }
                ck_assert_x64_eq(ecam_read(0, dev, 0, 0x102, 2), 0);
                ck_assert_x64_eq(ecam_read(0, dev, 0, 0x103, 1), 0);
                /* Writes there change nothing, not even the conventional
                 * register at the same offset modulo 256. */
                uint32_t before[PCI_CFG_SIZE / 4];
                for (unsigned reg = 0; reg < PCI_CFG_SIZE; reg += 4)
                        before[reg / 4] = ecam_read(0, dev, 0, reg, 4);
                for (unsigned reg = PCI_CFG_SIZE; reg < PCI_CFG_EXT_SIZE; reg += 4)
                        ecam_write(0, dev, 0, reg, 4, 0xffffffff);
                ecam_write(0, dev, 0, 0x100, 1, 0xff);
                ecam_write(0, dev, 0, 0x104, 2, 0xffff);
                for (unsigned reg = PCI_CFG_SIZE; reg < PCI_CFG_EXT_SIZE; reg += 4)
                        ck_assert_x64_eq(ecam_read(0, dev, 0, reg, 4), 0);
                for (unsigned reg = 0; reg < PCI_CFG_SIZE; reg += 4)
                        ck_assert_x64_eq(ecam_read(0, dev, 0, reg, 4), before[reg / 4]);
        }
}
END_TEST

/* Absent functions: all-ones everywhere, including extended space;
 * writes go nowhere. */
START_TEST(ecam_absent_functions)
{
        attach_nic();
        for (unsigned dev = 0; dev < 32; dev++)
                for (unsigned fn = 0; fn < 8; fn++) {
                        bool present = (dev == 0 || dev == 3) && fn == 0;
                        if (present)
                                continue;
                        ck_assert_x64_eq(ecam_read(0, dev, fn, 0, 4), 0xffffffff);
                        ck_assert_x64_eq(ecam_read(0, dev, fn, PCI_HEADER_TYPE, 1), 0xff);
                        ck_assert_x64_eq(ecam_read(0, dev, fn, 0x100, 4), 0xffffffff);
                        ck_assert_x64_eq(ecam_read(0, dev, fn, 0xffe, 2), 0xffff);
                }
        for (unsigned bus = 1; bus < 256; bus++) {
                ck_assert_x64_eq(ecam_read(bus, 0, 0, 0, 4), 0xffffffff);
                ck_assert_x64_eq(ecam_read(bus, 3, 0, 0, 2), 0xffff);
                ck_assert_x64_eq(ecam_read(bus, 31, 7, 0xfff, 1), 0xff);
        }
        /* Writes to absent functions reach no present one. */
        ecam_write(1, 0, 0, PCI_COMMAND, 2, 0xffff);
        ecam_write(0, 5, 0, PCI_COMMAND, 2, 0xffff);
        ecam_write(0, 0, 1, PCI_COMMAND, 2, 0xffff);
        ecam_write(1, 3, 0, PCI_BAR0, 4, 0xffffffff);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_COMMAND, 2), 0x0006);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_COMMAND, 2), 0);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_BAR0, 4), 0);
}
END_TEST

/* Sizes 1, 2 and 4 at offsets aligned to them; everything else reads
 * all-ones and is ignored. */
START_TEST(ecam_sizes_and_alignment)
{
        attach_nic();
        /* Aligned accesses of each size pick the right bytes. */
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0, 1), 0x86);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 1, 1), 0x80);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 2, 2), 0x1237);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 3, 1), 0x12);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0xfc, 4), 0);
        /* Misaligned reads, present or absent, inside one dword or not. */
        static const unsigned bad[][2] = { { 1, 2 },    { 3, 2 },     { 1, 4 },
                                           { 2, 4 },    { 3, 4 },     { 0xff, 2 },
                                           { 0xfe, 4 }, { 0xfff, 2 }, { 0xffd, 4 } };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                uint32_t ones = bad[i][1] == 4 ? 0xffffffff : 0xffff;
                ck_assert_x64_eq(ecam_read(0, 0, 0, bad[i][0], bad[i][1]), ones);
                ck_assert_x64_eq(ecam_read(0, 3, 0, bad[i][0], bad[i][1]), ones);
                ck_assert_x64_eq(ecam_read(0, 9, 0, bad[i][0], bad[i][1]), ones);
        }
        /* Sizes other than 1, 2 and 4. */
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0, 0), 0);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0, 3), 0xffffff);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0, 8), 0xffffffff);
        /* Registers past the 4 KiB of a function. */
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0x1000, 4), 0xffffffff);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0x1000, 1), 0xff);
        ck_assert_x64_eq(ecam_read(0, 0, 0, 0xfffc, 4), 0xffffffff);
        /* Misaligned or odd-sized writes are ignored, even to writable
         * registers. */
        ecam_write(0, 0, 0, PCI_LATENCY_TIMER, 2, 0x4040);      /* 0x0d */
        ecam_write(0, 0, 0, PCI_INTERRUPT_LINE + 1, 2, 0x0b0b); /* 0x3d */
        ecam_write(0, 0, 0, PCI_COMMAND + 1, 4, 0xffffffff);
        ecam_write(0, 0, 0, PCI_COMMAND, 3, 0xffffff);
        ecam_write(0, 0, 0, PCI_COMMAND, 8, 0xffffffff);
        ecam_write(0, 0, 0, PCI_COMMAND, 0, 0xffffffff);
        ecam_write(0, 3, 0, PCI_BAR0 + 1, 4, 0xffffffff);
        ecam_write(0, 3, 0, PCI_BAR0 + 2, 4, 0xffffffff);
        ecam_write(0, 0, 0, 0x1000 + PCI_COMMAND, 2, 0xffff);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_CACHE_LINE, 4), 0);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_INTERRUPT_LINE, 4), 0);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_COMMAND, 4), 0x02000006);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_BAR0, 4), 0);
        /* The same registers written properly do change. */
        ecam_write(0, 0, 0, PCI_LATENCY_TIMER, 1, 0x40);
        ecam_write(0, 3, 0, PCI_BAR0, 4, 0xffffffff);
        ck_assert_x64_eq(ecam_read(0, 0, 0, PCI_CACHE_LINE, 4), 0x4000);
        ck_assert_x64_eq(ecam_read(0, 3, 0, PCI_BAR0, 4), 0xfffff000);
}
END_TEST

/* The ECAM window offset of bus:dev.fn register reg (PCIe Base 5.0 7.2.2)
 * and back. */
START_TEST(ecam_offset_decoding)
{
        static const unsigned cases[][4] = { { 0, 0, 0, 0 },
                                             { 0, 3, 0, 0x10 },
                                             { 0, 31, 7, 0xfff },
                                             { 1, 2, 3, 0x100 },
                                             { 255, 31, 7, 0xffc } };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                uint32_t off =
                    cases[i][0] << 20 | cases[i][1] << 15 | cases[i][2] << 12 | cases[i][3];
                ck_assert_uint_eq(PCI_ECAM_BUS(off), cases[i][0]);
                ck_assert_uint_eq(PCI_ECAM_DEVFN(off), PCI_DEVFN(cases[i][1], cases[i][2]));
                ck_assert_uint_eq(PCI_ECAM_REG(off), cases[i][3]);
        }
        ck_assert_uint_eq(PCI_ECAM_BUS_SIZE, 1u << 20);
        /* Bus 0's 1 MiB window, as a guest would walk it. */
        attach_nic();
        unsigned found = 0;
        for (uint32_t off = 0; off < PCI_ECAM_BUS_SIZE; off += 0x1000) {
                uint32_t id =
                    pci_cfg_read(&p, PCI_ECAM_BUS(off), PCI_ECAM_DEVFN(off), PCI_ECAM_REG(off), 4);
                found += id != 0xffffffff;
        }
        ck_assert_uint_eq(found, 2);
        ck_assert_x64_eq(pci_cfg_read(&p, PCI_ECAM_BUS(0x18000), PCI_ECAM_DEVFN(0x18000),
                                      PCI_ECAM_REG(0x18000), 4),
                         0x10411af4);
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
        TCase *ecam = tcase_create("ecam");
        tcase_add_checked_fixture(ecam, setup, NULL);
        tcase_add_test(ecam, ecam_reads_match_ports);
        tcase_add_test(ecam, ecam_writes_match_ports);
        tcase_add_test(ecam, ecam_extended_space);
        tcase_add_test(ecam, ecam_absent_functions);
        tcase_add_test(ecam, ecam_sizes_and_alignment);
        tcase_add_test(ecam, ecam_offset_decoding);
        suite_add_tcase(s, ecam);
        return unit_run_suite(s);
}
