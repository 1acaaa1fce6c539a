#!/usr/bin/env python3
"""`make image CONFIG=FILE`: one bootable image holding vtvisor, a
configuration file and every kernel, initrd, disk and boot module it names.

    python3 tools/mkimage.py --config FILE [--out build/vtvisor.iso]

The image is GRUB's hybrid ISO (grub-mkrescue, BIOS): it boots from a CD,
from a USB stick it is written to (`dd if=build/vtvisor.iso of=/dev/sdX
bs=4M`), and through PXE by chain-loading it (iPXE: `sanboot
http://server/vtvisor.iso`).  GRUB passes each module's file name as the
first word of its command line, which is how the configuration file names
them (docs/configuration.md).  The modules are looked up in build/guests/
and in the guest cache ($VTVISOR_CACHE, else /var/cache/vtvisor)."""

import argparse
import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bochs  # noqa: E402

REPO = TOOLS.parent
BUILD = Path(os.environ.get("BUILD", REPO / "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
GUESTS = BUILD / "guests"
CACHE = Path(os.environ.get("VTVISOR_CACHE") or "/var/cache/vtvisor")


class ImageError(Exception):
    pass


def config_modules(config, search=(GUESTS, CACHE)):
    """The configuration file and every module it names, as bochs.Modules,
    and the name of its console VM (or None)."""
    config = Path(config)
    try:
        conf = tomllib.loads(config.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ImageError(f"{config}: {e} (tools/vtvisor-check {config} says more)")
    names = []
    for vm in conf.get("vm", []):
        mods = vm.get("modules")
        for name in [vm.get(k) for k in ("kernel", "initrd", "disk")] + (
                mods if isinstance(mods, list) else []):
            if isinstance(name, str) and name not in names:
                names.append(name)
    modules = [bochs.Module(config.resolve(), "")]
    for name in names:
        found = [Path(d) / name for d in search if (Path(d) / name).is_file()]
        if not found:
            raise ImageError(f"{config} names module {name!r}, found in none of "
                             f"{', '.join(str(d) for d in search)} (make guests; "
                             f"tools/get-guest-linux.sh)")
        modules.append(bochs.Module(found[0], ""))
    console = conf.get("console")
    return modules, console if isinstance(console, str) else None


def build_image(config, out, kernel=BUILD / "vtvisor.elf"):
    """Writes the image for configuration file `config` to `out`."""
    if not Path(kernel).is_file():
        raise ImageError(f"{kernel} is missing: run `make vtvisor`")
    modules, _ = config_modules(config)
    with tempfile.TemporaryDirectory(prefix="vtvisor-image-") as tmp:
        iso = bochs.build_iso(tmp, kernel, modules, "mb2")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(iso, out)
    return modules


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build a bootable vtvisor image from a "
                                             "configuration file.")
    ap.add_argument("--config", required=True, help="the configuration file")
    ap.add_argument("--out", default=str(BUILD / "vtvisor.iso"),
                    help="the image to write (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        modules = build_image(args.config, args.out)
    except (ImageError, bochs.BochsError) as e:
        print(f"mkimage: {e}", file=sys.stderr)
        return 1
    size = Path(args.out).stat().st_size
    print(f"mkimage: {args.out}: {size // 1024} KiB, vtvisor and "
          + ", ".join(m.path.name for m in modules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
