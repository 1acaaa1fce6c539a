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


# ---- device models ------------------------------------------------------------
# Each is a sequence of records in the target's format (see the comment at
# the top of tests/fuzz/fuzz_NAME.c); a time step is fuzz.h's in_time_step
# encoding: a kind byte, then u8, u16, u32 (shifted) or u64.


def step(n=0):
    if n < 0x100:
        return u8(0) + u8(n)
    if n < 0x10000:
        return u8(1) + u16(n)
    if n < 1 << 32:
        return u8(2) + u32(n)
    return u8(3) + u64(n)


def uart():
    def rec(op, off, val=0):
        return u8(op) + u8(off) + u8(val)

    W, R = 3, 0
    text = b"".join(rec(W, 0, c) for c in b"hello\r\n\x1b[1mbold\x1b[0m\tx\x00\n")
    setup = rec(W, 3, 0x80) + rec(W, 0, 1) + rec(W, 1, 0) + rec(W, 3, 0x03) + rec(W, 2, 0xc7)
    irq = rec(W, 4, 0x0b) + rec(W, 1, 0x07) + rec(R, 2) + rec(6, 0, ord("k")) + rec(R, 2) + \
        rec(R, 5) + rec(R, 0) + rec(R, 2)
    overrun = b"".join(rec(6, 0, i) for i in range(18)) + rec(W, 1, 0x04) + rec(W, 4, 0x08) + \
        rec(R, 2) + rec(R, 5) + b"".join(rec(R, 0) for _ in range(17))
    loop = rec(W, 4, 0x1f) + rec(W, 0, 0x55) + rec(R, 6) + rec(R, 5) + rec(R, 0) + rec(W, 4, 0)
    long_line = b"".join(rec(W, 0, 0x41 + i % 26) for i in range(600)) + rec(7, 0, 1)
    return {
        "text": text, "setup": setup + text, "irq": setup + irq, "overrun": overrun,
        "loopback": loop, "long-line": long_line,
        "bad-offsets": rec(8, 9, 1) + rec(8 | W, 0xff, 2) + rec(7, 0, 2) + rec(R, 7),
    }


def ioapic():
    def rec(op, arg, val=0, off=None):
        b = u8(op | (8 if off is not None else 0)) + u8(arg) + u32(val)
        return b + (u16(off) if off is not None else b"")

    def rte(pin, lo, hi=0):
        return rec(3, 0x10 + 2 * pin, lo) + rec(3, 0x11 + 2 * pin, hi)

    edge = rte(4, 0x31, 0x01000000) + rec(4, 4, 1) + rec(4, 4, 0) + rec(4, 4, 1)
    level = rte(9, 0x8039) + rec(4, 9, 1) + rec(5, 0x39) + rec(4, 9, 0) + rec(5, 0x39)
    masked = rte(2, 0x10040) + rec(4, 2, 1) + rte(2, 0x40) + rec(4, 2, 0) + rec(4, 2, 1)
    to_edge = rte(11, 0x8050) + rec(4, 11, 1) + rte(11, 0x0050) + rte(11, 0x8050)
    return {
        "ids": u8(5) + rec(2, 0) + rec(2, 1) + rec(2, 2) + rec(3, 0, 0x0f000000) + rec(7, 0),
        "edge": u8(0) + edge, "level": u8(0) + level, "masked": u8(0) + masked,
        "to-edge": u8(0) + to_edge,
        "raw": u8(1) + rec(1, 0, 0x12, off=0) + rec(0, 0, off=0x10) + rec(0, 0, off=0x20) +
        rec(1, 0, 7, off=0x14) + rec(6, 3),
    }


def rtc():
    def rec(op, arg, val=0, wsel=0, t=0):
        return u8(op) + u8(arg) + u8(wsel) + u32(val) + step(t)

    now = 1700000000  # 2023-11-14
    read_all = b"".join(rec(3 | 0x80, i) for i in (0, 2, 4, 6, 7, 8, 9, 0x32, 0xa, 0xb, 0xc, 0xd))
    set_time = rec(4, 0xb, 0x82) + rec(4, 0, 0x59) + rec(4, 2, 0x59) + rec(4, 4, 0x23) + \
        rec(4, 7, 0x31) + rec(4, 8, 0x12) + rec(4, 9, 0x99) + rec(4, 0x32, 0x20) + \
        rec(4, 0xb, 0x02) + rec(0x40, 0, t=1) + read_all
    binary12 = rec(4, 0xb, 0x04) + rec(4, 4, 0x8c) + rec(4, 7, 31) + rec(4, 8, 2) + read_all
    uf = rec(4, 0xb, 0x12) + rec(3, 0xc) + rec(0x40, 0, t=1) + rec(3, 0xc) + rec(3, 0xc)
    ram = rec(4, 0x40, 0x5a) + rec(3, 0x40) + rec(6, 0x20, 7) + rec(3, 0x2e) + rec(3, 0x2f) + \
        rec(5, 2, 0x1234, wsel=1) + rec(5, 1, 0, wsel=6) + rec(7, 0, 1)
    far = rec(0x40 | 7, 0, 0, t=(1 << 62) + 5) + read_all
    return {
        "read": u8(0) + u64(now) + read_all, "set": u8(0) + u64(now) + set_time,
        "binary12": u8(0) + u64(now) + binary12, "update-flag": u8(0) + u64(now) + uf,
        "ram": u8(0) + u64(now) + ram, "far-future": u8(3) + u64(now) + far,
        "epoch": u8(0) + u64(0) + read_all,
    }


def pci():
    def rec(op, a=0, devfn=0, reg=0, size=4, val=0):
        return u8(op) + u8(a) + u8(devfn) + u16(reg) + u8(size) + u32(val)

    probe = rec(4, 0, 0, 0) + rec(4, 0, 0, 8) + rec(4, 0, 0, 0x0e, 1) + rec(4, 0, 0x18, 0) + \
        rec(4, 1, 0, 0) + rec(5, 0, 0, 4, 2, 0xffff) + rec(5, 0, 0, 6, 2, 0xffff) + \
        rec(5, 0, 0, 0x3c, 1, 0x0b) + rec(4, 0, 0, 0x3c, 1)
    ports = rec(1, 0, 0, 0, 4, 0x80000000) + rec(0, 4, 0, 0, 4) + rec(0, 6, 0, 0, 2) + \
        rec(0, 7, 0, 0, 1) + rec(0, 1, 0, 0, 1) + rec(0, 0, 0, 0, 4) + rec(1, 5, 0, 0, 2, 1) + \
        rec(0, 8 | 0x1f, 0, 0, 1)
    ecam = rec(2, 0, 0, 0, 4) + rec(2, 0, 0, 0x100, 4) + rec(2, 0, 0x18, 0x40, 1) + \
        rec(3, 0, 0x18, 0x41, 1, 0xff) + rec(3, 0, 0x18, 0x40, 1, 0xff) + rec(2, 0, 0x18, 0x40, 4) + \
        rec(2, 1, 0, 0, 4) + rec(2, 0, 0, 2, 4) + rec(2, 0, 0, 0xffe, 2) + rec(6, 0, 0x18)
    return {
        "probe": u8(0) + probe, "probe-extra": u8(0x05) + probe, "ports": u8(1) + ports,
        "ecam": u8(1) + ecam, "reinit": u8(1) + ecam + rec(7, val=0x301) + ecam,
    }


def acpi_pm():
    def rec(op, poff, size, val=0, t=0):
        return u8(op) + u8(poff) + u8(size) + u32(val) + step(t)

    hz = 3000000000
    boot = rec(0, 0, 2) + rec(0, 2, 2) + rec(1, 2, 2, 0x21) + rec(0, 2, 2) + rec(0, 4, 2) + \
        rec(0, 8, 4, t=1000) + rec(0, 8, 4, t=1 << 20) + rec(2, 8, 4, t=hz)
    sts = rec(0, 0, 2, t=hz * 3) + rec(1, 0, 2, 1) + rec(0, 0, 2) + rec(0, 0, 4, t=hz * 3) + \
        rec(1, 1, 1, 0xff)
    s5 = rec(1, 4, 2, 5 << 10) + rec(1, 4, 2, (5 << 10) | (1 << 13)) + rec(1, 5, 1, 0x34) + \
        rec(0, 4, 4)
    odd = rec(4, 0, 4) + rec(4, 3, 4) + rec(4, 0xb, 4) + rec(4, 0x1f, 4) + rec(5, 3, 4, 0xffffffff) + \
        rec(1, 6, 2) + rec(3, 0, 0, 3)
    return {
        "boot": u64(hz) + u64(123456789) + boot, "sts": u64(hz) + u64(0) + sts,
        "s5": u64(hz) + u64(1) + s5, "odd": u64(hz) + u64(5) + odd,
        "slow-tsc": u64(1) + u64(1 << 40) + boot, "fast-tsc": u64(1 << 62) + u64(1 << 63) + boot,
    }


def lapic():
    (MMIO_R, MMIO_W, MSR_R, MSR_W, ACCEPT, INJECT, EOI, TPR, EXPIRE, INIT, X2APIC, READ_ALL,
     TIMER, ICR, DISABLE, TIME) = range(16)

    def rec(op, arg=0, sel=0, val=0, t=0):
        return u8(op) + u8(arg) + u16(sel) + u64(val) + step(t)

    def head(tsc=3000000000, bus=1000000000, now=1000000):
        # The low bits 2:0... bounded() keeps 40 bits when bits 1:0 are 01.
        return u64(tsc) + u64(bus) + u64(now)

    enable = rec(MMIO_W, 0x0f, val=0x1ff)
    oneshot = enable + rec(TIMER, 0x40, 0x0 | (0xb << 2), 100000) + rec(MMIO_R, 0x39, t=5000) + \
        rec(MMIO_R, 0x39, t=500000) + rec(EXPIRE) + rec(INJECT) + rec(EOI)
    periodic = enable + rec(TIMER, 0x41, 1 | (0x3 << 2), 1000) + rec(EXPIRE, t=100000) + \
        rec(INJECT) + rec(MMIO_W, 0x0b) + rec(EXPIRE, t=1 << 40) + rec(READ_ALL)
    deadline = enable + rec(TIMER, 0x42, 2, 2000000) + rec(MSR_R, sel=0x200) + \
        rec(EXPIRE, t=2000000) + rec(INJECT)
    prio = enable + rec(ACCEPT, 0x51) + rec(ACCEPT, 0x92, val=1) + rec(TPR, 0x60) + \
        rec(INJECT) + rec(TPR, 0) + rec(INJECT) + rec(INJECT) + rec(MMIO_R, 0x0a) + rec(EOI) + \
        rec(EOI) + rec(ACCEPT, 5) + rec(MMIO_W, 0x28) + rec(MMIO_R, 0x28)
    ipi = enable + rec(MMIO_W | 0x10, 0x0f, val=0x1ff) + rec(ICR, val=0x4031, sel=1) + \
        rec(ICR, val=0x80031) + rec(ICR, val=0xc0131) + rec(ICR, val=0x4500) + \
        rec(ICR, val=0x4601) + rec(ICR, val=0x8500) + rec(ICR, val=0x400, sel=1) + \
        rec(INJECT | 0x10) + rec(EOI | 0x10)
    x2 = rec(X2APIC) + rec(MSR_W, sel=0x0f, val=0x1ff) + rec(MSR_R, sel=0x02) + \
        rec(MSR_R, sel=0x0d) + rec(ICR, val=0x4031, sel=1) + rec(MSR_W, sel=0x3f, val=0x40) + \
        rec(INJECT) + rec(MSR_W, sel=0x0b) + rec(MSR_R, sel=0x0b) + rec(MSR_W, sel=0x32, val=0x60000) + \
        rec(TIMER, 0x44, 0, 50) + rec(READ_ALL) + rec(INIT) + rec(DISABLE, 1)
    errors = rec(MMIO_W, 0x37, val=0x33) + enable + rec(MMIO_W, 0x37, val=0x33) + \
        rec(MMIO_R, 0x3f) + rec(MMIO_W, 0x28) + rec(MMIO_R, 0x28) + rec(MMIO_R | 0x20, sel=0x24) + \
        rec(MSR_W | 0x20, sel=0x1b, val=0x12345678_00000000) + rec(INIT | 0x10)
    return {
        "oneshot": head() + oneshot, "periodic": head() + periodic,
        "deadline": head() + deadline, "priorities": head() + prio, "ipi": head() + ipi,
        "x2apic": head() + x2, "errors": head() + errors,
        "fast-bus": head(1001, (1 << 40) | 1, 5) + periodic,
        "late-tsc": head(now=(1 << 48) - 3) + periodic + rec(TIME, t=(1 << 64) - 1) + rec(EXPIRE),
    }


# ---- boot information ---------------------------------------------------------

BOOT_BASE = 0x100000  # fuzz_bootinfo.c's FUZZ_BASE


def bootinfo():
    def mem(parts):
        out = bytearray()
        for at, b in parts:
            if len(out) < at + len(b):
                out += bytes(at + len(b) - len(out))
            out[at:at + len(b)] = b
        return bytes(out)

    # multiboot v1 at offset 0: cmdline, mmap, two modules.
    info = bytearray(116)
    struct.pack_into("<I", info, 0, 1 | 4 | 8 | 64)
    struct.pack_into("<II", info, 4, 639, 65536)
    struct.pack_into("<I", info, 16, BOOT_BASE + 0x200)
    struct.pack_into("<II", info, 20, 2, BOOT_BASE + 0x300)
    mmap = b"".join(u32(20) + u64(b) + u64(l) + u32(t) for b, l, t in
                    ((0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0x100000, 0x7ff0000, 1),
                     (0xfffc0000, 0x40000, 7)))
    struct.pack_into("<II", info, 44, len(mmap), BOOT_BASE + 0x100)
    mods = u32(0x200000) + u32(0x201000) + u32(BOOT_BASE + 0x280) + u32(0) + \
        u32(0x202000) + u32(0x203000) + u32(0) + u32(0)
    mb1 = mem([(0, bytes(info)), (0x100, mmap), (0x200, b"maxcpus=2\0"),
               (0x280, b"name=hello ram=16M\0"), (0x300, mods)])
    meminfo_only = bytearray(info)
    struct.pack_into("<I", meminfo_only, 0, 1)

    def tag(t, payload):
        b = u32(t) + u32(8 + len(payload)) + payload
        return b + bytes(-len(b) % 8)

    mb2_tags = tag(1, b"maxcpus=2\0") + tag(3, u32(0x200000) + u32(0x201000) + b"name=a\0") + \
        tag(4, u32(639) + u32(65536)) + \
        tag(6, u32(24) + u32(0) + b"".join(u64(b) + u64(l) + u32(t) + u32(0) for b, l, t in
                                           ((0, 0x9fc00, 1), (0x100000, 0x7ff0000, 1),
                                            (0xfee00000, 0x1000, 2)))) + \
        tag(14, b"RSD PTR " + bytes(12)) + tag(15, b"RSD PTR " + bytes(28)) + tag(0, b"")
    mb2 = u32(8 + len(mb2_tags)) + u32(0) + mb2_tags
    mb2_meminfo = tag(4, u32(639) + u32(1024)) + tag(0, b"")
    return {
        "mb1": u8(0) + u16(0) + mb1,
        "mb1-meminfo": u8(0) + u16(0) + bytes(meminfo_only),
        "mb2": u8(1) + u16(0) + mb2,
        "mb2-offset": u8(5) + u16(8) + bytes(8) + mb2,
        "mb2-meminfo": u8(1) + u16(0) + u32(8 + len(mb2_meminfo)) + u32(0) + mb2_meminfo,
        "mb2-cmdline-unterminated": u8(1) + u16(0) + u32(40) + u32(0) + u32(1) + u32(9) + b"x" +
        bytes(7) + u32(4) + u32(16) + u32(639) + u32(1024) + u32(0) + u32(8),
        "bad-magic": u8(2) + u32(0x12345678) + u16(0) + mb2,
    }


# ---- loaders ------------------------------------------------------------------

MB_MAGIC = 0x1BADB002


def mb_header(flags, extra=b""):
    return u32(MB_MAGIC) + u32(flags) + u32(-(MB_MAGIC + flags)) + extra


def elf(paddr=0x100000, vaddr=0x100000, entry=0x100020, flags=0, nseg=1):
    """A minimal ELF32 multiboot kernel, as tests/unit/test_loaders.c makes."""
    img = bytearray(0x1100 + 0x100 * (nseg - 1))
    img[0:7] = b"\x7fELF\x01\x01\x01"
    struct.pack_into("<HH", img, 16, 2, 3)
    struct.pack_into("<II", img, 24, entry, 52)
    struct.pack_into("<HH", img, 42, 32, nseg)
    for i in range(nseg):
        struct.pack_into("<IIIIII", img, 52 + 32 * i, 1, 0x1000 + 0x100 * i, vaddr + 0x4000 * i,
                         paddr + 0x4000 * i, 0x100, 0x3000)
    img[0x1000:0x100C] = mb_header(flags)
    img[0x1020] = 0xF4
    return bytes(img)


def aout(load=0x300000, hdr=0x40, end_off=0x200, bss=0x1000, entry_off=0x80, size=0x400):
    img = bytearray(size)
    flags = 1 << 16
    img[hdr:hdr + 32] = mb_header(flags, u32(load + hdr) + u32(load) +
                                  u32(load + end_off if end_off else 0) +
                                  u32(load + bss if bss else 0) + u32(load + entry_off))
    img[entry_off] = 0xF4
    return bytes(img)


def loader_multiboot():
    def seed(cfg, cmdline, image):
        return u8(cfg) + u8(len(cmdline)) + cmdline + image

    return {
        "elf": seed(2, b"console=x y", elf()),
        "elf-virtual": seed(5, b"", elf(paddr=0x200000, vaddr=0xC0200000, entry=0xC0200020)),
        "elf-two-segments": seed(6, b"a", elf(nseg=2, entry=0x104010)),
        "elf-meminfo": seed(4, b"x" * 255, elf(flags=3)),
        "elf-video": seed(2, b"", elf(flags=4)),
        "elf-at-ram-end": seed(4, b"", elf(paddr=0x1FF000, vaddr=0x1FF000, entry=0x1FF000)),
        "aout": seed(2, b"", aout()),
        "aout-no-end": seed(3, b"", aout(end_off=0, bss=0)),
        "small-ram": seed(0, b"", elf()),
    }


MB2_MAGIC = 0xE85250D6


def mb2_tag(type_, payload=b"", flags=0):
    t = u16(type_) + u16(flags) + u32(8 + len(payload)) + payload
    return t + b"\0" * (-len(t) % 8)


def mb2_header(tags):
    body = b"".join(tags) + mb2_tag(0)
    length = 16 + len(body)
    return u32(MB2_MAGIC) + u32(0) + u32(length) + u32(-(MB2_MAGIC + length)) + body


def mb2_elf(tags=(), elf64=False, paddr=0x100000):
    """An ELF kernel as tests/unit/test_loader_multiboot2.c makes: one
    PT_LOAD of 0x400 file bytes at file offset 0x1000, the header there."""
    img = bytearray(0x1400)
    if elf64:
        vaddr = 0xFFFFFFFF80000000 + paddr
        img[0:7] = b"\x7fELF\x02\x01\x01"
        struct.pack_into("<HHIQQ", img, 16, 2, 62, 1, vaddr + 0x380, 64)
        struct.pack_into("<HH", img, 54, 56, 1)
        struct.pack_into("<IIQQQQQ", img, 64, 1, 7, 0x1000, vaddr, paddr, 0x400, 0x3000)
    else:
        img[0:7] = b"\x7fELF\x01\x01\x01"
        struct.pack_into("<HH", img, 16, 2, 3)
        struct.pack_into("<II", img, 24, paddr + 0x380, 52)
        struct.pack_into("<HH", img, 42, 32, 1)
        struct.pack_into("<IIIIII", img, 52, 1, 0x1000, paddr, paddr, 0x400, 0x3000)
    h = mb2_header(list(tags))
    img[0x1000:0x1000 + len(h)] = h
    img[0x1380] = 0xF4
    return bytes(img)


def mb2_aout(load=0x180000, end_off=0x200, bss=0x1000):
    img = bytearray(0x400)
    h = mb2_header([mb2_tag(2, u32(load + 0x40) + u32(load) + u32(load + end_off if end_off else 0)
                            + u32(load + bss if bss else 0)),
                    mb2_tag(3, u32(load + 0x80))])
    img[0x40:0x40 + len(h)] = h
    img[0x80] = 0xF4
    return bytes(img)


def loader_multiboot2():
    def seed(cfg, cmdline, image):
        return u8(cfg) + u8(len(cmdline)) + cmdline + image

    request = mb2_tag(1, b"".join(u32(t) for t in (1, 2, 3, 4, 6, 14, 15, 21)))
    return {
        "elf": seed(2 | 8, b"console=x y", mb2_elf([request])),
        "elf-no-acpi": seed(3, b"", mb2_elf([request])),
        "elf-acpi-old": seed(4 | 16, b"a", mb2_elf()),
        "elf64": seed(6 | 8, b"ab", mb2_elf(elf64=True)),
        "elf-tags": seed(5, b"", mb2_elf([mb2_tag(4, u32(2)), mb2_tag(6),
                                         mb2_tag(5, u32(0) * 3, flags=1),
                                         mb2_tag(10, u32(0x100000) * 2 + u32(4096) + u32(0)),
                                         mb2_tag(3, u32(0x100100))])),
        "elf-framebuffer": seed(2, b"", mb2_elf([mb2_tag(5, u32(0) * 3)])),
        "elf-efi": seed(2, b"", mb2_elf([mb2_tag(7), mb2_tag(9, u32(0))])),
        "aout": seed(2, b"", mb2_aout()),
        "aout-no-end": seed(3, b"", mb2_aout(end_off=0, bss=0)),
        "small-ram": seed(0, b"", mb2_elf()),
    }


def loader_flat():
    code = bytes([0xFA, 0xF4, 0x90])
    max_len = 0x9F000 - 0x7C00
    return {
        "small": u8(7) + u32(len(code) | 1 << 31) + code,
        "max": u8(7) + u32(max_len | 1 << 30) + code,
        "over-max": u8(7) + u32((max_len + 1) | 1 << 30) + code,
        "ram-edge": u8(3) + u32(max_len | 1 << 30) + code,
        "tiny-ram": u8(1) + u32(0x401) + code,
        "empty": u8(7) + u32(1 << 31),
    }


TARGETS = {
    "acpi_pm": acpi_pm,
    "bootinfo": bootinfo,
    "guest_walk": guest_walk,
    "ioapic": ioapic,
    "lapic": lapic,
    "loader_flat": loader_flat,
    "loader_linux": loader_linux,
    "loader_multiboot": loader_multiboot,
    "loader_multiboot2": loader_multiboot2,
    "pci": pci,
    "rtc": rtc,
    "uart": uart,
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
