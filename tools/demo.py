#!/usr/bin/env python3
"""`make run`: boots vtvisor in Bochs with three demo guests and shows the
serial console live:

  realmode  a flat real-mode guest (a boot sector) checking its entry state
  hello     a multiboot guest greeting and working for a while
  rogue     a multiboot guest that writes to guest-physical 512 MiB, outside
            its 8 MiB of RAM: vtvisor stops it (EPT violation) and the other
            VMs carry on - containment

Ends when vtvisor prints "vtvisor: halted", on Ctrl-C, or on the timeout.
"""

import argparse
import os
import re
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bochs  # noqa: E402

BUILD = Path(os.environ.get("BUILD", TOOLS.parent / "build"))
if not BUILD.is_absolute():
    BUILD = TOOLS.parent / BUILD
GUESTS = BUILD / "guests"
DEMO_MODULES = [
    "realmode.bin name=realmode",
    "hello.elf name=hello ram=8M -- greetings from the vtvisor demo",
    "ept.elf name=rogue ram=8M -- access=write addr=0x20000000 delay=5",
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu", default=bochs.DEFAULT_CPU,
                    help="Bochs CPU model (default: %(default)s)")
    ap.add_argument("--boot", choices=("mb1", "mb2"), default="mb2")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds (default: 120)")
    ap.add_argument("--kernel", default=str(BUILD / "vtvisor.elf"))
    args = ap.parse_args(argv)

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

    print(f"demo: booting vtvisor in Bochs ({args.cpu}, {args.boot}) with guests:")
    for spec in DEMO_MODULES:
        print(f"demo:   {spec}")
    print("demo: serial console follows (Ctrl-C to stop)\n")
    sys.stdout.flush()

    def live(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        res = bochs.run(kernel=args.kernel, modules=modules, cpu=args.cpu, boot=args.boot,
                        timeout=args.timeout, on_serial=live)
    except KeyboardInterrupt:
        print("\ndemo: interrupted, Bochs stopped")
        return 130
    if res.serial and not res.serial.endswith("\n"):
        print()
    if not res.ended:
        print(f"\ndemo: {res.message}")
        return 1
    stops = re.findall(r"^vtvisor: vm (\S+): stopped: (.*)$", res.serial, re.M)
    print(f"\ndemo: done in {res.elapsed:.1f} s")
    for vm, cause in stops:
        print(f"demo:   {vm}: {cause}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
