#!/usr/bin/env python3
"""`make run`: boots vtvisor in Bochs with the demo guests and gives you a
shell in a Debian guest on the serial console.

The guests, in this order (the first three end within seconds):
  realmode  a flat real-mode guest (a boot sector) checking its entry state
  hello     a multiboot guest greeting and working for a while
  rogue     a multiboot guest that writes to guest-physical 512 MiB, outside
            its 8 MiB of RAM: vtvisor stops it (EPT violation) and the other
            VMs carry on - containment
  linux     Debian's stock kernel with a busybox initramfs whose /init runs
            a shell on the serial console (tools/get-guest-linux.sh --shell)

With --config FILE (what `make run` passes: examples/demo.toml, the same
four VMs), the VMs are those of a configuration file instead.

The console is live.  Keys go to the VM with the keyboard (the file's
`console`, else the first VM still running, which is `linux` once the
others have ended); keys typed before its shell is up are held until then.
On a terminal every key goes to the guest as typed (raw mode; the guest
echoes), Ctrl-C included; Ctrl-A c opens vtvisor's prompt.

Leaving: Ctrl-] ends the session and stops Bochs at once; `exit`,
`poweroff` or Ctrl-D in the guest's shell powers the guest off, and the
session ends when vtvisor prints "vtvisor: halted".  When stdin is not a
terminal (a pipe, a file), its bytes are typed in as they come, and the
session also ends --eof-timeout seconds after the end of the input.
"""

import argparse
import contextlib
import os
import re
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bochs  # noqa: E402
import mkimage  # noqa: E402

BUILD = Path(os.environ.get("BUILD", TOOLS.parent / "build"))
if not BUILD.is_absolute():
    BUILD = TOOLS.parent / BUILD
GUESTS = BUILD / "guests"
CACHE = Path(os.environ.get("VTVISOR_CACHE") or "/var/cache/vtvisor")
DEMO_MODULES = [
    "realmode.bin name=realmode",
    "hello.elf name=hello ram=8M -- greetings from the vtvisor demo",
    "ept.elf name=rogue ram=8M unmapped=stop -- access=write addr=0x20000000 delay=5",
]
LINUX_NAME = "linux"
LINUX_RAM = "256M"
LINUX_VCPUS = 2
LINUX_CMDLINE = "console=ttyS0,115200 panic=-1 cryptomgr.notests"
MEGS = 640  # Bochs's RAM: vtvisor, its modules, the small guests, both Debian VMs and their disk copies
# What tests/system/initramfs/init prints just before it starts the shell.
SHELL_READY = rf"^\[{LINUX_NAME}\] vtvisor-init: shell on the console"
# Input is held until that line, then this long (the shell starting).
SETTLE = 1.0


def run_config(args):
    """make run CONFIG=FILE: vtvisor with the VMs of a configuration file."""
    try:
        modules, console_vm = mkimage.config_modules(args.config, (GUESTS, Path(args.cache)))
    except mkimage.ImageError as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    if not Path(args.kernel).is_file():
        print(f"demo: {args.kernel} is missing: run `make vtvisor`", file=sys.stderr)
        return 1
    print(f"demo: booting vtvisor in Bochs ({args.cpu} x{args.cpus}, {args.boot}) with "
          f"{args.config} and its modules:")
    for m in modules:
        print(f"demo:   {m.path.name}")
    ready = rf"^\[{re.escape(console_vm)}\] vtvisor-init: shell on the console" if console_vm \
        else None
    if sys.stdin.isatty():
        print(f"demo: serial console follows.  Keys go to the VM with the keyboard"
              f"{' (' + console_vm + ') once its shell is up' if console_vm else ''}; Ctrl-A c "
              f"opens vtvisor's prompt, {bochs.ESCAPE_NAME} leaves.\n")
    sys.stdout.flush()

    def live(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    timeout = args.timeout if args.timeout and args.timeout > 0 else (
        None if sys.stdin.isatty() else 600.0)
    console = bochs.StdinConsole(hold_until=ready, settle=SETTLE, eof_timeout=args.eof_timeout)
    try:
        with console:
            res = bochs.run(kernel=args.kernel, modules=modules, cpu=args.cpu, cpus=args.cpus,
                            boot=args.boot, megs=MEGS, timeout=timeout, on_serial=live,
                            console=console)
    except KeyboardInterrupt:
        print("\ndemo: interrupted, Bochs stopped")
        return 130
    except SystemExit as e:
        print("\ndemo: terminated by a signal, Bochs stopped")
        return e.code
    print(f"\ndemo: {res.message or 'done'} after {res.elapsed:.1f} s")
    for vm, cause in re.findall(r"^vtvisor: vm (\S+): stopped: (.*)$", res.serial, re.M):
        print(f"demo:   {vm}: {cause}")
    return 0 if res.ended or res.console_ended else 1


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Boot vtvisor in Bochs with the demo guests and a shell in a Debian guest "
                    f"on the serial console ({bochs.ESCAPE_NAME} leaves).")
    ap.add_argument("--cpu", default=bochs.DEFAULT_CPU,
                    help="Bochs CPU model (default: %(default)s)")
    ap.add_argument("--boot", choices=("mb1", "mb2"), default="mb2")
    ap.add_argument("--cpus", type=int, default=2,
                    help="CPUs Bochs emulates; vtvisor spreads the VMs' vCPUs over them "
                         "(default: %(default)s)")
    ap.add_argument("--kernel", default=str(BUILD / "vtvisor.elf"))
    ap.add_argument("--cache", default=str(CACHE),
                    help="where tools/get-guest-linux.sh --shell put vmlinuz and "
                         "initramfs-shell.cpio.gz (default: $VTVISOR_CACHE, else %(default)s)")
    ap.add_argument("--config",
                    help="boot the VMs of this configuration file (docs/configuration.md): "
                         "it and every module it names (kernel, initrd, disk, modules), found in build/guests/ or "
                         "the cache; its console VM gets the keys once its shell is up")
    ap.add_argument("--no-linux", action="store_true",
                    help="only the three small guests: no shell, ends when they have")
    ap.add_argument("--timeout", type=float,
                    help="end after this many seconds in all; 0: never (default: never on a "
                         "terminal, else 600; 120 with --no-linux)")
    ap.add_argument("--eof-timeout", type=float, default=30.0,
                    help="stdin not a terminal: end this many seconds after its end "
                         "(default: %(default)g)")
    args = ap.parse_args(argv)

    if args.config and not args.no_linux:
        return run_config(args)
    modules = []
    for spec in DEMO_MODULES:
        m = bochs.Module.parse(spec)
        path = GUESTS / m.path
        if not path.is_file():
            print(f"demo: {path} is missing: run `make guests`", file=sys.stderr)
            return 1
        modules.append(bochs.Module(path, m.args))
    if not Path(args.kernel).is_file():
        print(f"demo: {args.kernel} is missing: run `make vtvisor`", file=sys.stderr)
        return 1
    if not args.no_linux:
        cache = Path(args.cache)
        vmlinuz, initrd = cache / "vmlinuz", cache / "initramfs-shell.cpio.gz"
        for f in (vmlinuz, initrd):
            if not f.is_file():
                print(f"demo: {f} is missing: run `tools/get-guest-linux.sh --shell {cache}`",
                      file=sys.stderr)
                return 1
        modules.append(bochs.Module(vmlinuz,
                                    f"name={LINUX_NAME} ram={LINUX_RAM} vcpus={LINUX_VCPUS} "
                                    f"-- {LINUX_CMDLINE}"))
        modules.append(bochs.Module(initrd, f"initrd-for={LINUX_NAME}"))

    interactive = sys.stdin.isatty()
    timeout = args.timeout
    if timeout is None:
        timeout = 120.0 if args.no_linux else None if interactive else 600.0
    elif timeout <= 0:
        timeout = None

    print(f"demo: booting vtvisor in Bochs ({args.cpu} x{args.cpus}, {args.boot}) with guests:")
    for m in modules:
        print(f"demo:   {m.path.name} {m.args}")
    if args.no_linux:
        print("demo: serial console follows (Ctrl-C stops)\n")
    elif interactive:
        print(f"demo: serial console follows.  Keys go to the `{LINUX_NAME}` guest's shell once "
              "it is up (about 30 s);")
        print(f"demo: {bochs.ESCAPE_NAME} leaves at any time, `exit` or `poweroff` in the shell "
              "powers the guest off.\n")
    else:
        print(f"demo: serial console follows; stdin is typed into the `{LINUX_NAME}` guest's "
              f"shell once it is up; ends at `vtvisor: halted` or {args.eof_timeout:g} s after "
              "the end of stdin.\n")
    sys.stdout.flush()

    ready = re.compile(SHELL_READY, re.M)
    line = ""

    def live(text):
        nonlocal line
        sys.stdout.write(text)
        if not args.no_linux and line is not None:
            lines = (line + text).split("\n")
            line = lines.pop()[-4096:]
            if any(ready.search(l) for l in lines):
                line = None
                # From here on keys reach the shell: say so, as its prompt
                # comes without a newline and is easy to miss.
                sys.stdout.write(f"demo: [the shell is up: type a command and Enter; "
                                 f"{bochs.ESCAPE_NAME} leaves]\n")
        sys.stdout.flush()

    console = None
    if not args.no_linux:
        console = bochs.StdinConsole(hold_until=SHELL_READY, settle=SETTLE,
                                     eof_timeout=args.eof_timeout)
    try:
        with console if console is not None else contextlib.nullcontext():
            res = bochs.run(kernel=args.kernel, modules=modules, cpu=args.cpu, cpus=args.cpus,
                            boot=args.boot,
                            megs=MEGS, timeout=timeout, on_serial=live, console=console)
    except KeyboardInterrupt:
        print("\ndemo: interrupted, Bochs stopped")
        return 130
    except SystemExit as e:  # SIGTERM or SIGHUP (bochs.StdinConsole)
        print("\ndemo: terminated by a signal, Bochs stopped")
        return e.code
    if res.serial and not res.serial.endswith("\n"):
        print()
    if res.console_ended:
        print(f"\ndemo: session ended after {res.elapsed:.1f} s: {res.message}; Bochs stopped")
    elif not res.ended:
        print(f"\ndemo: {res.message}")
        return 1
    else:
        print(f"\ndemo: done in {res.elapsed:.1f} s")
    for vm, cause in re.findall(r"^vtvisor: vm (\S+): stopped: (.*)$", res.serial, re.M):
        print(f"demo:   {vm}: {cause}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
