#!/usr/bin/env python3
"""Checks that every #include in the hypervisor points down the layers.

The layers (docs/architecture.md, "Who may include whom"), bottom first:

    lib                                  ground floor: string, printf, log, pt
    boot                                 boot-information parser, entry code
    arch/x86                             the host CPU
    vmx                                  VT-x
    ept                                  EPT on top of lib/pt
    emulate devices loaders config       pure models: include lib only
    core                                 VMs, vCPUs, exits, device wiring

A file may include headers of its own folder and of any folder listed in
ALLOWED for it.  Prints one line per violation (file:line: the include and
the rule it breaks) and exits 1 if there is any.
"""
import os
import re
import sys

# Which other folders a folder may include from.  Pure models sit on lib only,
# so they build natively for the host tests and fuzzers.
ALLOWED = {
    "lib": set(),
    "boot": {"lib"},
    "arch/x86": {"lib", "boot"},
    "vmx": {"lib", "arch/x86"},
    "ept": {"lib", "arch/x86", "vmx"},
    "emulate": {"lib"},
    "devices": {"lib"},
    "loaders": {"lib"},
    "config": {"lib"},
    "core": {"lib", "boot", "arch/x86", "vmx", "ept", "emulate", "devices", "loaders", "config"},
}
FOLDERS = sorted(ALLOWED, key=len, reverse=True)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    for f in FOLDERS:
        if path == f or path.startswith(f + "/"):
            return f
    return None


def check(root):
    bad = []
    for top in ALLOWED:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        names = []
        for dirpath, dirs, files in os.walk(base):
            dirs.sort()
            sub = os.path.relpath(dirpath, root).replace(os.sep, "/")
            # A nested folder that is a layer of its own is checked as one.
            if sub != top and sub in ALLOWED:
                dirs[:] = []
                continue
            names += [f"{sub}/{n}" for n in sorted(files)]
        for rel in names:
            if not rel.endswith((".c", ".h", ".S")):
                continue
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    tf = folder_of(target)
                    if tf is None:
                        bad.append(f"{rel}:{lineno}: includes \"{target}\", which is in no "
                                   "layer (headers live in one of: " + ", ".join(ALLOWED) + ")")
                    elif tf != top and tf not in ALLOWED[top]:
                        may = ", ".join(sorted(ALLOWED[top])) or "nothing outside itself"
                        bad.append(f"{rel}:{lineno}: includes \"{target}\": {top}/ may include "
                                   f"only {may}; {tf}/ is above it or beside it")
    return bad


def self_test():
    """The check must catch an upward include: try it on a small tree."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for folder, text in (("lib", '#include "lib/types.h"\n'),
                             ("devices", '#include "lib/types.h"\n#include "core/vm.h"\n'),
                             ("core", '#include "devices/uart.h"\n')):
            os.makedirs(os.path.join(tmp, folder))
            with open(os.path.join(tmp, folder, "x.c"), "w", encoding="utf-8") as fh:
                fh.write(text)
        found = check(tmp)
    if len(found) != 1 or not found[0].startswith('devices/x.c:2: includes "core/vm.h"'):
        print("check-layers: self-test failed:", found)
        return False
    return True


def main():
    if not self_test():
        return 1
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    bad = check(root)
    for b in bad:
        print(b)
    if bad:
        print(f"check-layers: {len(bad)} include(s) point up or sideways "
              "(docs/architecture.md, \"Who may include whom\")")
        return 1
    print("check-layers: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
