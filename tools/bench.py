#!/usr/bin/env python3
"""`make bench`: vtvisor's path lengths, IPI latency and Linux boot, in instructions.

Bochs advances the TSC by exactly one per emulated instruction, so the
rdtsc difference around one instruction counts the instructions executed
for it.  tests/guest/bench.c measures CPUID, an OUT to the UART's scratch
register and an RDMSR of IA32_PAT, each the median of 201 samples, once
under vtvisor and once on bare Bochs (GRUB boots the same guest directly),
in this one run.  The hypervisor's path length is the difference.

tests/guest/smp.c's `bench` mode measures IPI latency bare (2-CPU Bochs),
between vCPUs on two CPUs and between vCPUs sharing one; the scheduler's
own count gives the cost of switching vCPUs.  Debian boots from kernel
entry to /init bare and under vtvisor, with one CPU and with two.

Prints a table and, with --record, writes it to docs/benchmarks.md.
Not a test: nothing here passes or fails on a number.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bochs  # noqa: E402

REPO = TOOLS.parent
BUILD = Path(os.environ.get("BUILD", REPO / "build"))
BUILD = BUILD if BUILD.is_absolute() else REPO / BUILD
GUEST = BUILD / "guests" / "bench.elf"
DOC = REPO / "docs" / "benchmarks.md"
LINE = re.compile(r"BENCH (\w+) median=(\d+) min=(\d+) max=(\d+)")
NAMES = {
    "cpuid": "CPUID (leaf 0)",
    "out_uart": "OUT to the UART (scratch register)",
    "rdmsr_pat": "RDMSR IA32_PAT",
    "vmcall": "VMCALL (version hypercall)",
    "tpr_read": "xAPIC TPR read (MOV from 0xfee00080)",
    "eoi": "xAPIC EOI write, nothing in service",
    "tsc_deadline": "TSC-deadline timer armed to fire at once, to its handler's EOI",
}
# Measured under vtvisor only (bare Bochs has no VMX: VMCALL is #UD there).
HV_ONLY = {"vmcall"}


def measure(cpu, bare):
    if bare:
        res = bochs.run(kernel=GUEST, cpu=cpu, boot="mb1", end_marker="DONE:", timeout=120)
    else:
        res = bochs.run(modules=[f"{GUEST} name=bench"], cpu=cpu, timeout=120)
    if not res.ended:
        sys.exit(f"bench: the {'bare' if bare else 'vtvisor'} run did not finish: {res.message}")
    found = {m.group(1): tuple(int(x) for x in m.groups()[1:]) for m in LINE.finditer(res.serial)}
    for name in ["empty"] + list(NAMES):
        if bare and name in HV_ONLY:
            continue
        if name not in found:
            sys.exit(f"bench: no result for {name} in the {'bare' if bare else 'vtvisor'} run:\n"
                     + res.serial[-2000:])
    return found


# ---- SMP: IPI latency and vCPU switches (tests/guest/smp.c `bench`) ----

SMP_GUEST = BUILD / "guests" / "smp.elf"
SMP_LINE = re.compile(r"BENCH (\w+) median=(\d+) min=(\d+) max=(\d+)")
SWITCH_LINE = re.compile(r"^vtvisor: cpu \d+: (\d+) vCPU switches, (\d+) TSC ticks each", re.M)
SMP_NAMES = {
    "ipi_to_halted": "fixed IPI to a halted vCPU",
    "ipi_to_running": "fixed IPI to a running vCPU",
}


def measure_smp(cpu, where):
    """where: 'bare' (2-CPU Bochs, no vtvisor), 'remote' (two vCPUs on two CPUs)
    or 'same' (two vCPUs on one CPU).  Returns ({name: median}, switch ticks)."""
    if where == "bare":
        res = bochs.run(kernel=SMP_GUEST, kernel_args="cpus=2 bench", cpu=cpu, cpus=2, boot="mb1",
                        end_marker="DONE:", timeout=180)
    else:
        res = bochs.run(modules=[f"{SMP_GUEST} name=smp vcpus=2 -- cpus=2 bench"], cpu=cpu,
                        cpus=2 if where == "remote" else 1, timeout=180)
    if not res.ended:
        sys.exit(f"bench: the SMP run ({where}) did not finish: {res.message}")
    found = {m.group(1): int(m.group(2)) for m in SMP_LINE.finditer(res.serial)}
    for name in SMP_NAMES:
        if name not in found:
            sys.exit(f"bench: no {name} in the SMP run ({where}):\n" + res.serial[-2000:])
    sw = SWITCH_LINE.search(res.serial)
    return found, (int(sw.group(2)) if sw else None)


# ---- Linux boot: kernel entry to /init, bare and under vtvisor ----

CACHE = Path(os.environ.get("VTVISOR_CACHE", "/var/cache/vtvisor"))
BAREBOOT = BUILD / "bareboot.elf"
LINUX_CMDLINE = "console=ttyS0,115200 panic=-1 cryptomgr.notests mem=256M"
ENTRY_HV = re.compile(r"^vtvisor: vm linux: first entry at TSC (\d+)", re.M)
STARTED = re.compile(r"^vtvisor: starting \(.*\) at TSC (\d+)", re.M)
ENTRY_BARE = re.compile(r"^bareboot: entering Linux at \S+, TSC (\d+)", re.M)
INIT = re.compile(r"vtvisor-init: .* tsc=(\d+)")


def boot_linux(cpu, bare, cpus=1):
    """Returns (instructions, wall seconds) from kernel entry to /init, on a
    Bochs with `cpus` CPUs (the VM gets as many vCPUs), and under vtvisor
    the instructions from vtvisor's first to the VM's first (else None)."""
    kernel, initrd = CACHE / "vmlinuz", CACHE / "initramfs.cpio.gz"
    for f in (kernel, initrd):
        if not f.exists():
            sys.exit(f"bench: {f} is missing: run tools/get-guest-linux.sh")
    seen = {}
    text = [""]

    def on_serial(chunk):
        text[0] += chunk
        now = time.monotonic()
        if "entry" not in seen and (ENTRY_BARE if bare else ENTRY_HV).search(text[0]):
            seen["entry"] = now
        if "init" not in seen and INIT.search(text[0]):
            seen["init"] = now

    if bare:
        res = bochs.run(kernel=BAREBOOT, modules=[f"{kernel} {LINUX_CMDLINE}", f"{initrd}"],
                        cpu=cpu, cpus=cpus, megs=512, end_marker="vtvisor-init: kernel-warnings", timeout=600,
                        on_serial=on_serial)
    else:
        # The guest's console lines carry its name.
        res = bochs.run(modules=[f"{kernel} name=linux ram=256M vcpus={cpus} -- {LINUX_CMDLINE}",
                                 f"{initrd} initrd-for=linux"],
                        cpu=cpu, cpus=cpus, megs=512, end_marker="[linux] vtvisor-init: kernel-warnings",
                        timeout=600,
                        on_serial=on_serial)
    what = "bare" if bare else "vtvisor"
    entry = (ENTRY_BARE if bare else ENTRY_HV).search(res.serial)
    init = INIT.search(res.serial)
    if not entry or not init:
        sys.exit(f"bench: the {what} Linux boot did not reach /init: {res.message}\n"
                 + res.serial[-3000:])
    started = None if bare else STARTED.search(res.serial)
    vm_start = int(entry.group(1)) - int(started.group(1)) if started else None
    return int(init.group(1)) - int(entry.group(1)), seen["init"] - seen["entry"], vm_start


DISK_IMG = BUILD / "guests" / "disk.img"
BLK_STATS = re.compile(r"^vtvisor: vm (\S+): virtio-blk: (\d+) requests, (\d+) bytes read, "
                       r"(\d+) written, \d+ errors, (\d+) notifications, (\d+) interrupts; "
                       r"the VM made (\d+) exits, (\d+) of them port I/O$", re.M)
NET_STATS = re.compile(r"^vtvisor: vm (\S+): virtio-net: (\d+) frames sent, (\d+) received, "
                       r"(\d+) dropped, (\d+) notifications, (\d+) interrupts; the VM made "
                       r"(\d+) exits, (\d+) of them port I/O$", re.M)
TSC_HZ = 100_000_000  # Bochs's emulated TSC (tools/bochs.py: ips), one tick per instruction


def virtio_disk(cpu, nbytes):
    """Debian reads nbytes of its virtio disk with O_DIRECT in 64 KiB
    requests: the read's TSC ticks, then the whole VM run's requests, exits
    other than port I/O (the console's: their number follows the host), notifications and
    interrupts."""
    kernel, initrd = CACHE / "vmlinuz", CACHE / "initramfs.cpio.gz"
    res = bochs.run(modules=[f"{kernel} name=linux ram=200M -- {LINUX_CMDLINE} "
                             f"vtvisor.test=bench-disk vtvisor.benchbytes={nbytes}",
                             f"{initrd} initrd-for=linux", f"{DISK_IMG} disk-for=linux"],
                    cpu=cpu, megs=512, timeout=600)
    m = re.search(r"bench-disk ok bytes=(\d+) tsc=(\d+)", res.serial)
    st = BLK_STATS.search(res.serial)
    if not m or not st:
        sys.exit(f"bench: the disk read did not finish: {res.message}\n" + res.serial[-3000:])
    return (int(m.group(2)), int(st.group(2)), int(st.group(7)) - int(st.group(8)),
            int(st.group(5)), int(st.group(6)))


def virtio_net(cpu, nbytes):
    """Two Debian VMs on one switch, one CPU each: the client sends nbytes
    with nc.  Returns the receiver's ticks from first to last byte and, for
    both VMs together, frames sent and exits."""
    kernel, initrd = CACHE / "vmlinuz", CACHE / "initramfs.cpio.gz"
    mods = []
    for name, role, cpu_no in (("srv", "net-server", 0), ("cli", "net-client", 1)):
        mods += [f"{kernel} name={name} ram=128M cpus={cpu_no} network=lan -- {LINUX_CMDLINE} "
                 f"vtvisor.test={role} vtvisor.netbytes={nbytes}",
                 f"{initrd} initrd-for={name}"]
    res = bochs.run(modules=mods, cpu=cpu, cpus=2, megs=640, timeout=1200)
    m = re.search(r"net recv ok sha256=\w+ bytes=(\d+) tsc=(\d+)", res.serial)
    stats = NET_STATS.findall(res.serial)
    if not m or len(stats) != 2:
        sys.exit(f"bench: the network transfer did not finish: {res.message}\n"
                 + res.serial[-3000:])
    frames = sum(int(s[1]) for s in stats)
    exits = sum(int(s[6]) - int(s[7]) for s in stats)
    notes = sum(int(s[4]) for s in stats)
    irqs = sum(int(s[5]) for s in stats)
    return int(m.group(2)), frames, exits, notes, irqs


def virtio_rows(cpu):
    """The virtio table: throughput in instructions per byte and MB/s of
    emulated time, and the exits each request or frame costs (the
    difference between a small and a large transfer, so boot is left out)."""
    if not DISK_IMG.exists():
        sys.exit(f"bench: {DISK_IMG} is missing: run make guests")
    print("bench: virtio-blk, 4 MiB and 16 MiB reads ...", file=sys.stderr)
    small = virtio_disk(cpu, 4 << 20)
    big = virtio_disk(cpu, 16 << 20)
    print("bench: virtio-net, 1 MiB and 4 MiB between two VMs ...", file=sys.stderr)
    nsmall = virtio_net(cpu, 1 << 20)
    nbig = virtio_net(cpu, 4 << 20)
    rows = []
    for label, lo, hi, nbytes, unit in (
            ("virtio-blk: read 16 MiB (`dd iflag=direct bs=64k`)", small, big, 16 << 20,
             "request"),
            ("virtio-net: 4 MiB over TCP (`nc`) between two VMs", nsmall, nbig, 4 << 20,
             "frame")):
        n = hi[1] - lo[1]
        per = [(hi[k] - lo[k]) / n for k in (2, 3, 4)]
        rows.append(f"| {label} | {hi[0] / nbytes:.1f} | {nbytes / (hi[0] / TSC_HZ) / 1e6:.1f} | "
                    f"{per[0]:.2f} per {unit} | {per[1]:.2f} | {per[2]:.2f} |")
    return ["", "virtio I/O under vtvisor (Debian's drivers; ticks of the guest's TSC: "
            "instructions of the reading or receiving CPU; MB/s of emulated time at Bochs's "
            "100 MHz; exits: the VMs' exits other than port I/O (the console's, whose number "
            "follows how fast the host takes the output) in the large transfer's run minus "
            "the small one's, per extra request or frame; notifications and interrupts: "
            "the device's own counts, likewise):", "",
            "| transfer | instructions per byte | MB/s (emulated) | VM exits | "
            "notifications | interrupts |",
            "|---|---:|---:|---:|---:|---:|"] + rows + [
            "", f"Requests: {small[1]} and {big[1]} (disk, with the boot's), frames sent by "
            f"both VMs: {nsmall[1]} and {nbig[1]}.  There is no bare run to compare with: "
            "Bochs has no virtio devices."]


BUDGETS = REPO / "tests" / "bench" / "budgets.txt"


def read_budgets():
    budgets = {}
    for n, line in enumerate(BUDGETS.read_text().splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 3 or not words[1].isdigit():
            sys.exit(f"bench: {BUDGETS.relative_to(REPO)}:{n}: expected 'name budget target'")
        budgets[words[0]] = int(words[1])
    return budgets


def check(cpu):
    """Measures the exits and IPIs and holds them to their budgets."""
    budgets = read_budgets()
    hv = measure(cpu, bare=False)
    bare = measure(cpu, bare=True)
    got = {}
    for name in NAMES:
        bare_n = bare[name][0] - bare["empty"][0] if name in bare else 1
        got[name] = hv[name][0] - hv["empty"][0] - bare_n
    if SMP_GUEST.exists():
        remote, _ = measure_smp(cpu, "remote")
        same, _ = measure_smp(cpu, "same")
        for kind in ("halted", "running"):
            got[f"ipi_remote_{kind}"] = remote[f"ipi_to_{kind}"]
            got[f"ipi_shared_{kind}"] = same[f"ipi_to_{kind}"]
    failed = 0
    for name, budget in budgets.items():
        if name not in got:
            print(f"bench-check: {name}: not measured")
            failed += 1
            continue
        verdict = "ok" if got[name] <= budget else "OVER BUDGET"
        failed += got[name] > budget
        print(f"bench-check: {name}: {got[name]} instructions, budget {budget}: {verdict}")
    for name in sorted(set(got) - set(budgets)):
        print(f"bench-check: {name}: {got[name]} instructions, no budget "
              f"(add one to {BUDGETS.relative_to(REPO)})")
    print(f"bench-check: {len(budgets) - failed} within budget, {failed} over")
    return 1 if failed else 0


# ---- History: one line per --record, so a change's effect stays visible ----

HISTORY_HEAD = "## History"
HISTORY_KEEP = 12
HISTORY_COLS = ["cpuid", "out_uart", "rdmsr_pat", "vmcall", "tsc_deadline"]


def history(paths, linux_ratio):
    """The history table: the lines already in docs/benchmarks.md plus this run's."""
    old = []
    if DOC.exists():
        text = DOC.read_text()
        at = text.find(HISTORY_HEAD)
        if at >= 0:
            old = [line for line in text[at:].splitlines()[1:]
                   if line.startswith("| 20")]
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    ratio = f"{linux_ratio:.3f}" if linux_ratio is not None else "-"
    new = (f"| {datetime.date.today().isoformat()} | {commit} | "
           + " | ".join(str(paths.get(name, "-")) for name in HISTORY_COLS)
           + f" | {ratio} |")
    lines = (old + [new])[-HISTORY_KEEP:]
    return ["", HISTORY_HEAD, "",
            "vtvisor path lengths (instructions) and the Debian 1-CPU ratio from each "
            f"recorded run, oldest first (the last {HISTORY_KEEP} are kept; the commit is "
            "the tree measured):", "",
            "| date | commit | CPUID | OUT (UART) | RDMSR PAT | VMCALL | TSC deadline "
            "| Debian vtvisor/bare |",
            "|---|---|---:|---:|---:|---:|---:|---:|"] + lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="measure exits and IPIs only and hold them to tests/bench/budgets.txt")
    ap.add_argument("--cpu", default=bochs.DEFAULT_CPU)
    ap.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    ap.add_argument("--no-linux", action="store_true", help="skip the Linux boot comparison")
    ap.add_argument("--no-virtio", action="store_true", help="skip the virtio disk and network")
    ap.add_argument("--only-virtio", action="store_true",
                    help="only the virtio disk and network (prints, never records)")
    args = ap.parse_args()
    if not GUEST.exists():
        sys.exit(f"bench: {GUEST} is missing: run make guests")
    if args.check:
        return check(args.cpu)
    if args.only_virtio:
        print("\n".join(virtio_rows(args.cpu)))
        return 0

    hv = measure(args.cpu, bare=False)
    bare = measure(args.cpu, bare=True)
    rows = []
    paths = {}
    linux_ratio = None
    for name, label in NAMES.items():
        # Subtract the empty rdtsc;rdtsc pair from each side, then bare from vtvisor.
        hv_n = hv[name][0] - hv["empty"][0]
        # The instruction's own count on bare Bochs: 1 for VMCALL (never run bare).
        bare_n = bare[name][0] - bare["empty"][0] if name in bare else 1
        rows.append((label, hv_n, bare_n, hv_n - bare_n, hv[name][1], hv[name][2]))
        paths[name] = hv_n - bare_n

    today = datetime.date.today().isoformat()
    table = [f"Path lengths on Bochs {args.cpu}, {today} (instructions; median of 201)", "",
             "| exit | under vtvisor | bare | vtvisor path | min | max |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, hv_n, bare_n, path, mn, mx in rows:
        table.append(f"| {label} | {hv_n} | {bare_n} | {path} | {mn} | {mx} |")
    if SMP_GUEST.exists():
        print("bench: IPI latency, bare and under vtvisor ...", file=sys.stderr)
        smp_bare, _ = measure_smp(args.cpu, "bare")
        smp_remote, _ = measure_smp(args.cpu, "remote")
        smp_same, switch = measure_smp(args.cpu, "same")
        table += ["", "IPI latency (tests/guest/smp.c `bench`: TSC ticks from the sender's "
                  "xAPIC ICR write to the receiver's interrupt handler, median of 101; Bochs "
                  "keeps the CPUs' TSCs in step):", "",
                  "| IPI | bare, 2 CPUs | vCPUs on two CPUs | vCPUs sharing one CPU |",
                  "|---|---:|---:|---:|"]
        for name, label in SMP_NAMES.items():
            table.append(f"| {label} | {smp_bare[name]} | {smp_remote[name]} | "
                         f"{smp_same[name]} |")
        if switch is not None:
            table += ["", f"Switching vCPUs on a shared CPU (vcpu_put + vcpu_load, the "
                      f"scheduler's own count in the same run): {switch} instructions."]
    if not args.no_linux:
        for cpus in (1, 2):
            print(f"bench: Debian with {cpus} CPU(s), under vtvisor and bare ...",
                  file=sys.stderr)
            hv_i, hv_s, vm_start = boot_linux(args.cpu, bare=False, cpus=cpus)
            bare_i, bare_s, _ = boot_linux(args.cpu, bare=True, cpus=cpus)
            what = "one CPU" if cpus == 1 else f"{cpus} CPUs ({cpus} vCPUs under vtvisor)"
            if cpus == 1:
                linux_ratio = hv_i / bare_i
            table += ["", f"Debian {LINUX_CMDLINE!r} kernel entry to /init, same kernel, "
                      f"initrd and command line, 256 MiB, {what}:", "",
                      "| run | instructions (Bochs TSC) | wall seconds |", "|---|---:|---:|",
                      f"| bare (tools/bareboot) | {bare_i:,} | {bare_s:.1f} |",
                      f"| under vtvisor | {hv_i:,} | {hv_s:.1f} |",
                      f"| ratio vtvisor / bare | {hv_i / bare_i:.3f} | {hv_s / bare_s:.2f} |"]
            if vm_start is not None:
                table += ["", f"vtvisor's first instruction to the 256 MiB VM's first "
                          f"(boot, {cpus} CPU(s) up, RAM cleared, kernel loaded): "
                          f"{vm_start:,} instructions."]
    if not args.no_virtio:
        table += virtio_rows(args.cpu)
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
            "'max' are the raw samples under vtvisor.\n\n"
            "The Linux rows count from the first instruction of the kernel (vtvisor's\n"
            "first VM entry; bareboot's jump, tools/bareboot, which loads the kernel with\n"
            "vtvisor's own loader and runs it natively) to the first instruction of\n"
            "/init (tests/system/initramfs/rdtsc.c).  Bare Linux runs on Bochs's own\n"
            "devices (its BIOS's ACPI tables, PIT, HPET), the guest on vtvisor's, so\n"
            "the kernels do not take identical paths; wall seconds are Bochs's and\n"
            "vary with the machine's load.  Bare Linux waits for Bochs's UART at\n"
            "115,200 baud on every console byte; under vtvisor the guest's UART takes\n"
            "bytes at once while the VM's share of the console ring has room\n"
            "(core/console.c), so its boot log costs fewer instructions, and the\n"
            "ratio can be below 1.\n\n" + "\n".join(table + history(paths, linux_ratio))
            + "\n")
        print(f"written to {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
