#!/usr/bin/env python3
"""`make bench`: vtvisor's path length per VM exit, in instructions.

Bochs advances the TSC by exactly one per emulated instruction, so the
rdtsc difference around one instruction counts the instructions executed
for it.  tests/guest/bench.c measures CPUID, an OUT to the UART's scratch
register and an RDMSR of IA32_PAT, each the median of 201 samples, once
under vtvisor and once on bare Bochs (GRUB boots the same guest directly),
in this one run.  The hypervisor's path length is the difference.

Prints a table and, with --record, writes it to docs/benchmarks.md.
Not a test: nothing here passes or fails on a number.
"""

import argparse
import datetime
import re
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bochs  # noqa: E402

REPO = TOOLS.parent
GUEST = REPO / "build" / "guests" / "bench.elf"
DOC = REPO / "docs" / "benchmarks.md"
LINE = re.compile(r"BENCH (\w+) median=(\d+) min=(\d+) max=(\d+)")
NAMES = {
    "cpuid": "CPUID (leaf 0)",
    "out_uart": "OUT to the UART (scratch register)",
    "rdmsr_pat": "RDMSR IA32_PAT",
}


def measure(cpu, bare):
    if bare:
        res = bochs.run(kernel=GUEST, cpu=cpu, boot="mb1", end_marker="DONE:", timeout=120)
    else:
        res = bochs.run(modules=[f"{GUEST} name=bench"], cpu=cpu, timeout=120)
    if not res.ended:
        sys.exit(f"bench: the {'bare' if bare else 'vtvisor'} run did not finish: {res.message}")
    found = {m.group(1): tuple(int(x) for x in m.groups()[1:]) for m in LINE.finditer(res.serial)}
    for name in ["empty"] + list(NAMES):
        if name not in found:
            sys.exit(f"bench: no result for {name} in the {'bare' if bare else 'vtvisor'} run:\n"
                     + res.serial[-2000:])
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu", default=bochs.DEFAULT_CPU)
    ap.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = ap.parse_args()
    if not GUEST.exists():
        sys.exit(f"bench: {GUEST} is missing: run make guests")

    hv = measure(args.cpu, bare=False)
    bare = measure(args.cpu, bare=True)
    rows = []
    for name, label in NAMES.items():
        # Subtract the empty rdtsc;rdtsc pair from each side, then bare from vtvisor.
        hv_n = hv[name][0] - hv["empty"][0]
        bare_n = bare[name][0] - bare["empty"][0]
        rows.append((label, hv_n, bare_n, hv_n - bare_n, hv[name][1], hv[name][2]))

    today = datetime.date.today().isoformat()
    table = [f"Path lengths on Bochs {args.cpu}, {today} (instructions; median of 201)", "",
             "| exit | under vtvisor | bare | vtvisor path | min | max |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, hv_n, bare_n, path, mn, mx in rows:
        table.append(f"| {label} | {hv_n} | {bare_n} | {path} | {mn} | {mx} |")
    print("\n".join(table))
    if args.record:
        DOC.write_text(
            "# Benchmarks\n\n"
            "Produced by `make bench` (tools/bench.py), which rewrites this file.  Bochs\n"
            "counts one TSC tick per instruction, so these are exact instruction counts:\n"
            "'under vtvisor' and 'bare' are the guest's rdtsc difference around one\n"
            "instruction (minus an empty rdtsc pair), measured in one run of the same\n"
            "guest under vtvisor and booted directly by GRUB; 'vtvisor path' is their\n"
            "difference, the instructions vtvisor and the VM exit/entry add.  'min' and\n"
            "'max' are the raw samples under vtvisor.\n\n" + "\n".join(table) + "\n")
        print(f"written to {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
