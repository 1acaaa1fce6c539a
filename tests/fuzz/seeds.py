#!/usr/bin/env python3
"""Writes the seed inputs of the libFuzzer targets in tests/fuzz/.

    python3 tests/fuzz/seeds.py NAME DIR    # the seeds of target NAME into DIR
    python3 tests/fuzz/seeds.py --all       # every target's, into tests/fuzz/corpus/NAME/

The committed seed corpora (tests/fuzz/corpus/NAME/) are this script's
output; each seed is a small, valid input in the target's own format (see
the comment at the top of tests/fuzz/fuzz_NAME.c), so that mutations start
from the paths where the interesting checks are.
"""
import os
import struct
import sys


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# ---- guest_walk -------------------------------------------------------------

PG, WP, PSE, PAE, LMA, NXE = 1, 2, 4, 8, 16, 32


def walk_seed(mode, cpl, cr3, gva, ram, fill, delta, records):
    b = u8(mode) + u8(cpl) + u64(cr3) + u64(gva) + u64(ram) + u8(fill) + u16(delta)
    for gpa, value in records:
        b += u32(gpa >> 12) + u16(gpa & 0xFFF) + u64(value)
    return b


def guest_walk():
    mib = 1 << 20
    # 4-level, as in tests/unit/test_guest_walk.c: a 4 KiB user read-only NX
    # page and a 2 MiB supervisor page; a 1 GiB page.
    long_tables = [
        (0x1000, 0x2000 | 7),
        (0x2000 + 8, 0x3000 | 7),
        (0x3000 + 8, 0x200000 | 0x83),
        (0x2000, 0x5000 | 7),
        (0x5000, 0x4000 | 7),
        (0x4000 + 8 * 5, 0x200000 | 0x5 | (1 << 63)),
        (0x2000 + 16, 0x40000000 | 0x87),
    ]
    # PAE: PDPT at 0x1020 (32-byte aligned), PD at 0x3000, PT at 0x4000.
    pae_tables = [
        (0x1020, 0x3000 | 1),
        (0x3000, 0x4000 | 7),
        (0x3000 + 8, 0x400000 | 0x83),
        (0x4000 + 8 * 3, 0x7000 | 3 | (1 << 63)),
    ]
    # 32-bit: PD at 0x1000, PT at 0x2000, a 4 MiB page with PSE-36 bits.
    tables32 = [
        (0x1000, 0x2000 | 7 | (0x00400000 | 0x87) << 32),
        (0x2000 + 8, (0x9000 | 5) << 32),  # PTE 3
    ]
    return {
        "off-real": walk_seed(0, 0, 0, 0x12345678, 16 * mib, 0, 0x10, []),
        "off-long": walk_seed(LMA, 0, 0, 0xFFFF800000001234, 16 * mib, 0, 0x10, []),
        "long-4k": walk_seed(PG | WP | PAE | LMA | NXE, 3, 0x1000, 0x5ABC, 16 * mib, 0, 0x123,
                             long_tables),
        "long-2m": walk_seed(PG | PAE | LMA | NXE, 0, 0x1000, 0x40201234, 16 * mib, 0, 0x7FF,
                             long_tables),
        "long-1g": walk_seed(PG | PAE | LMA, 0, 0x1000, 0x80001234, 16 * mib, 0, 1, long_tables),
        "long-edge": walk_seed(PG | PAE | LMA | NXE, 0, 0x1000, 0x5000, 0x5000 + 8, 0, 8,
                               long_tables),
        "pae": walk_seed(PG | WP | PAE | NXE, 0, 0x1020, 0x3123, 16 * mib, 0, 0x40, pae_tables),
        "pae-2m": walk_seed(PG | PAE, 3, 0x1020, 0x200000 + 0x1234, 16 * mib, 0, 0x40,
                            pae_tables),
        "32": walk_seed(PG | WP, 3, 0x1000, 0x3456, 16 * mib, 0, 0xFFF, tables32),
        "32-pse": walk_seed(PG | PSE, 0, 0x1000, 0x00400000 + 0x1234, 16 * mib, 0, 0x100,
                            tables32),
        "fill": walk_seed(PG | PAE | LMA | NXE | 64, 1, 0, 0xFFFFFFFFFFFFF000, 64 * mib, 0x27,
                          0xFFF, []) + u32(0) + u32(0) + u32(0),
    }


# ---- loader_linux -----------------------------------------------------------

MIB = 1 << 20


def bzimage(setup_sects=4, version=0x020F, jump=0x6A, loadflags=0x01, xloadflags=0x7F,
            relocatable=1, kernel_alignment=0x200000, pref=MIB, init_size=MIB,
            cmdline_size=2047, initrd_addr_max=0x7FFFFFFF, pm_size=0x400):
    """A bzImage with a 2.15 setup header, as tests/unit/test_loader_linux.c
    makes them."""
    off = ((setup_sects or 4) + 1) * 512
    img = bytearray((0xA5 ^ i) & 0xFF for i in range(off)) + bytearray(
        (i * 7 + 3) & 0xFF for i in range(pm_size))
    img[0x1F1:0x290] = bytes(0x290 - 0x1F1)

    def put(at, fmt, v):
        struct.pack_into(fmt, img, at, v)

    img[0x1EF] = 0xFF
    img[0x1F1] = setup_sects
    put(0x1F4, "<I", pm_size // 16)
    put(0x1FA, "<H", 0xFFFF)
    put(0x1FE, "<H", 0xAA55)
    img[0x200] = 0xEB
    img[0x201] = jump
    img[0x202:0x206] = b"HdrS"
    put(0x206, "<H", version)
    put(0x20E, "<H", 0x3A00)
    img[0x211] = loadflags
    put(0x214, "<I", 0x100000)
    put(0x22C, "<I", initrd_addr_max)
    put(0x230, "<I", kernel_alignment)
    img[0x234] = relocatable
    img[0x235] = 21
    put(0x236, "<H", xloadflags)
    put(0x238, "<I", cmdline_size)
    put(0x248, "<I", 0x100)
    put(0x24C, "<I", pm_size - 0x200)
    put(0x258, "<Q", pref)
    put(0x260, "<I", init_size)
    put(0x264, "<I", 0x1234)
    put(0x268, "<I", 0x5678)
    return bytes(img)


def linux_seed(cfg, cmdline, image, initrd=b""):
    return u8(cfg) + u8(len(cmdline)) + cmdline + u32(len(initrd)) + image + initrd


def loader_linux():
    # cfg: bits 2:0 RAM (1, 2, 2+, 3, 4, 6+, 8, 17 MiB), 4:3 e820, 5 no
    # command line, 7:6 initrd padding.
    con = b"console=ttyS0 earlyprintk=serial panic=-1"
    rd = bytes((i * 13 + 1) & 0xFF for i in range(300))
    return {
        "basic": linux_seed(0x04, con, bzimage()),
        "initrd": linux_seed(0x46, con, bzimage(), rd),
        "initrd-low-max": linux_seed(0x06, b"", bzimage(initrd_addr_max=0x3FFFFF), rd),
        "pref16": linux_seed(0x07, con, bzimage(pref=16 * MIB, init_size=MIB)),
        "reloc": linux_seed(0x16, con, bzimage(pref=2 * MIB, init_size=2 * MIB)),
        "pref-unaligned": linux_seed(0x0C, con, bzimage(pref=0x180000, init_size=0x180000)),
        "nonreloc": linux_seed(0x24, b"", bzimage(relocatable=0, pref=3 * MIB)),
        "split-e820": linux_seed(0x16, con, bzimage(pref=MIB, init_size=2 * MIB), rd),
        "big-e820": linux_seed(0x1B, con, bzimage(pref=MIB, init_size=MIB)),
        "v2.12": linux_seed(0x04, con, bzimage(version=0x020C, jump=0x62, setup_sects=0)),
        "too-small": linux_seed(0x01, con, bzimage(init_size=2 * MIB)),
    }


TARGETS = {
    "guest_walk": guest_walk,
    "loader_linux": loader_linux,
}


def write(name, out):
    os.makedirs(out, exist_ok=True)
    for seed, data in sorted(TARGETS[name]().items()):
        with open(os.path.join(out, seed), "wb") as f:
            f.write(data)


def main(argv):
    if len(argv) == 2 and argv[1] == "--all":
        here = os.path.dirname(os.path.abspath(__file__))
        for name in TARGETS:
            write(name, os.path.join(here, "corpus", name))
        return 0
    if len(argv) != 3 or argv[1] not in TARGETS:
        print(f"usage: {argv[0]} NAME DIR | --all  (NAME: {', '.join(TARGETS)})",
              file=sys.stderr)
        return 2
    write(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
