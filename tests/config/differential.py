#!/usr/bin/env python3
"""Differential and refusal tests of vtvisor's configuration parser.

* Every examples/*.toml and tests/config/good/*.toml goes through
  `vtvisor-check --dump` (vtvisor's own parser, config/toml.c, printing the
  tree as JSON) and through Python's tomllib; the two trees must be equal,
  types included (true is not 1).  The examples must also pass the schema
  check (`vtvisor-check FILE`, every module they name taken as given).
* Every tests/config/bad/*.toml must be refused by `vtvisor-check FILE`
  (exit status 1) with the text of its first line, `# expect: TEXT`, in the
  output.  Optional next lines: `# args: OPTIONS` (before FILE, e.g.
  --ram 256M) and `# modules: NAME...` (the boot modules, after FILE).

    python3 tests/config/differential.py [-k SUBSTRING]

Prints PASS or FAIL per file, then "N passed, N failed"; tools/run_tests.py
runs the same checks through run().
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BUILD", REPO / "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
CHECK = BUILD / "vtvisor-check"
TIMEOUT = 30


def same(a, b):
    """Equal values of equal types, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return f"{path}: vtvisor {a!r} ({type(a).__name__}), tomllib {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'vtvisor' if k in a else 'tomllib'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} elements in vtvisor, {len(b)} in tomllib"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: vtvisor {a!r}, tomllib {b!r}"


def run_check(args):
    p = subprocess.run([str(CHECK)] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=TIMEOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def rel(path):
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def check_good(path, schema):
    """Returns a list of problems."""
    rc, out = run_check(["--dump", str(path)])
    if rc != 0:
        return [f"vtvisor-check --dump refused it (exit {rc}):", out]
    try:
        ours = json.loads(out)
    except ValueError as e:
        return [f"--dump printed no valid JSON ({e}):", out]
    try:
        with open(path, "rb") as f:
            theirs = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        return [f"tomllib refuses it: {e}"]
    problems = []
    if not same(ours, theirs):
        problems.append("trees differ: " + (first_difference(ours, theirs) or "?"))
    if schema:
        rc, out = run_check([str(path)])
        if rc != 0:
            problems += [f"vtvisor-check refused it (exit {rc}):", out]
    return problems


def check_bad(path):
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or not lines[0].startswith("# expect: "):
        return ["the first line must be '# expect: TEXT'"]
    expect = lines[0][len("# expect: "):].strip()
    opts, mods = [], []
    for l in lines[1:3]:
        if l.startswith("# args: "):
            opts = shlex.split(l[len("# args: "):])
        elif l.startswith("# modules: "):
            mods = shlex.split(l[len("# modules: "):])
    rc, out = run_check(opts + [str(path)] + mods)
    problems = []
    if rc != 1:
        problems.append(f"exit status {rc}, expected 1 (refused)")
    if expect not in out:
        problems.append(f"no message contains: {expect}")
    if problems:
        problems += ["--- vtvisor-check said ---", out]
    return problems


def run(record, substring=""):
    """Runs every check; record(ok, label, details) reports each."""
    if not CHECK.is_file():
        subprocess.run(["make", "-s", "-C", str(REPO), f"BUILD={BUILD}", str(CHECK)],
                       stdin=subprocess.DEVNULL)
    files = ([(p, "good", True) for p in sorted(REPO.glob("examples/*.toml"))]
             + [(p, "good", False) for p in sorted(REPO.glob("tests/config/good/*.toml"))]
             + [(p, "bad", False) for p in sorted(REPO.glob("tests/config/bad/*.toml"))])
    for path, kind, schema in files:
        label = f"config {rel(path)}"
        if substring and substring not in str(rel(path)):
            continue
        if not CHECK.is_file():
            record(False, label, f"{CHECK} not found: run `make vtvisor-check`")
            continue
        try:
            problems = check_good(path, schema) if kind == "good" else check_bad(path)
        except subprocess.TimeoutExpired:
            problems = [f"vtvisor-check took more than {TIMEOUT} s"]
        record(not problems, label, "\n".join(problems))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="substring", default="", help="only files whose path has this")
    args = ap.parse_args(argv)
    counts = [0, 0]

    def record(ok, label, details=""):
        counts[0 if ok else 1] += 1
        print(f"{'PASS' if ok else 'FAIL'} {label}")
        for d in details.rstrip("\n").splitlines() if details else []:
            print(f"    {d}")

    run(record, args.substring)
    print(f"{counts[0]} passed, {counts[1]} failed")
    return 1 if counts[1] or not counts[0] else 0


if __name__ == "__main__":
    sys.exit(main())
