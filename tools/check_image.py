#!/usr/bin/env python3
"""Checks a built vtvisor.elf: both multiboot headers are where boot loaders
look for them, and the multiboot v1 a.out-kludge addresses agree with the
file layout (QEMU's -kernel loader trusts them to find the image)."""
import struct
import sys


def fail(msg):
    print(f"check_image: {sys.argv[1]}: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    data = open(sys.argv[1], "rb").read()
    mb1 = mb2 = None
    for off in range(0, min(len(data), 32768), 4):
        magic = struct.unpack_from("<I", data, off)[0]
        if magic == 0x1BADB002 and mb1 is None and off < 8192:
            flags, csum = struct.unpack_from("<II", data, off + 4)
            if (magic + flags + csum) & 0xFFFFFFFF == 0:
                mb1 = off
        if magic == 0xE85250D6 and mb2 is None and off % 8 == 0:
            arch, length, csum = struct.unpack_from("<III", data, off + 4)
            if (magic + arch + length + csum) & 0xFFFFFFFF == 0:
                mb2 = off
    if mb1 is None:
        fail("no multiboot v1 header in the first 8 KiB")
    if mb2 is None:
        fail("no multiboot2 header in the first 32 KiB")
    header_addr, load_addr, load_end, bss_end, entry = struct.unpack_from("<5I", data, mb1 + 12)
    file_start = mb1 - (header_addr - load_addr)
    if file_start < 0:
        fail("a.out kludge: load_addr lies before the start of the file")
    if file_start + (load_end - load_addr) > len(data):
        fail("a.out kludge: load_end_addr lies beyond the end of the file")
    # The entry point's bytes must be where the kludge says they are: the
    # first instruction of boot_entry32 is cli (0xfa).
    if data[file_start + (entry - load_addr)] != 0xFA:
        fail("a.out kludge: entry_addr does not point at boot_entry32 in the file")
    if not load_addr <= entry < load_end <= bss_end:
        fail("a.out kludge: addresses out of order")


if __name__ == "__main__":
    main()
