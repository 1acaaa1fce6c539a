#!/usr/bin/env python3
"""Runs vtvisor's tests (what `make test` runs).

* Unit tests: every executable build/unit/test_*.  Check's summary line
  ("Checks: N, Failures: F, Errors: E") gives the counts; Check's TAP log
  (CK_TAP_LOG_FILE_NAME) gives one line per check.  A binary that crashes,
  prints no summary, or exits non-zero with no failure counted adds a failure.
* Config tests: tests/config/differential.py (vtvisor-check against
  Python's tomllib, and the refusals of tests/config/bad/), one per file.
* Guest tests: every case of tests/guest/cases.py, each in its own Bochs
  (tools/bochs.py), -j of them at a time.  Serial logs go to
  build/test-logs/CASE.log, the run's files to build/test-logs/CASE/.

Prints one line per check, then last of all "N passed, N failed"; exits 1
when anything failed or nothing ran.  Reads no stdin.
"""

import argparse
import concurrent.futures
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import bochs  # noqa: E402

REPO = TOOLS.parent
BUILD = Path(os.environ.get("BUILD", REPO / "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
UNIT_DIR = BUILD / "unit"
GUEST_DIR = BUILD / "guests"
LOG_DIR = BUILD / "test-logs"
HV_IMAGE = BUILD / "vtvisor.elf"
CASES_FILE = REPO / "tests" / "guest" / "cases.py"
CONFIG_TESTS = REPO / "tests" / "config" / "differential.py"

UNIT_TIMEOUT = 300
SUMMARY_RE = re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)")
TAP_RE = re.compile(r"^(ok|not ok) \d+ - (.*)$")
STOPPED_RE = re.compile(r"^vtvisor: vm (\S+): stopped: (.*)$", re.M)
ALL_STOPPED_RE = re.compile(r"^vtvisor: all VMs stopped$", re.M)
PLACEHOLDER_RE = re.compile(r"<<(\w+)>>")

CASE_KEYS = {"name", "modules", "cpu", "cpus", "boot", "hv_args", "expect", "reject", "stopped",
             "capture", "order", "timeout", "megs", "doc", "machine", "script", "image"}
CASE_DEFAULTS = dict(machine="bochs", cpu="corei7_haswell_4770", cpus=1, boot="mb2", hv_args="", expect=[],
                     reject=[r"FAIL"], stopped={}, capture={}, order=[], script=[], image=None,
                     timeout=30,
                     megs=bochs.DEFAULT_MEGS)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.attacks = {}  # hostile-* guest case -> passed (contained)

    def record(self, ok, label, details=""):
        with self.lock:
            if ok:
                self.passed += 1
            else:
                self.failed += 1
            m = re.match(r"guest (hostile-\S+)", label)
            if m:
                self.attacks[m.group(1)] = ok
            print(f"{'PASS' if ok else 'FAIL'} {label}")
            if details:
                for d in details.rstrip("\n").splitlines():
                    print(f"    {d}")
            sys.stdout.flush()


# ---------------------------------------------------------------- unit tests

def unit_binaries(substring):
    if not UNIT_DIR.is_dir():
        return []
    bins = sorted(p for p in UNIT_DIR.glob("test_*")
                  if p.is_file() and os.access(p, os.X_OK) and p.suffix not in (".o", ".d"))
    return [b for b in bins if not substring or substring in b.name]


def run_unit(binary, tally):
    name = binary.name
    with tempfile.TemporaryDirectory(prefix="vtvisor-unit-") as tmp:
        tap = Path(tmp) / "tap.log"
        env = dict(os.environ, CK_TAP_LOG_FILE_NAME=str(tap))
        env.pop("CK_RUN_SUITE", None)
        env.pop("CK_RUN_CASE", None)
        start = time.monotonic()
        try:
            p = subprocess.run([str(binary)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, cwd=REPO,
                               timeout=UNIT_TIMEOUT)
            out, rc, timed_out = p.stdout.decode(errors="replace"), p.returncode, False
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace")
            rc, timed_out = None, True
        elapsed = time.monotonic() - start
        tap_lines = tap.read_text(errors="replace").splitlines() if tap.exists() else []

    summaries = SUMMARY_RE.findall(out)
    checks = sum(int(s[0]) for s in summaries)
    failures = sum(int(s[1]) + int(s[2]) for s in summaries)
    # Check's failure messages ("file:line:F:tcase:test:0: msg") by test.
    messages = {}
    for m in re.finditer(r"^(.*?):(\d+):([FE]):([^:\n]*):([^:\n]*):\d+: ?(.*)$", out, re.M):
        messages.setdefault(f"{m.group(4)}:{m.group(5)}", []).append(
            f"{m.group(1)}:{m.group(2)}: {m.group(6)}")

    counted_pass = counted_fail = 0
    for l in tap_lines:
        m = TAP_RE.match(l)
        if not m:
            continue
        ok = m.group(1) == "ok"
        desc = m.group(2)
        # "tests/unit/test_x.c:tcase:test: message" -> "tcase:test"
        parts = desc.split(":")
        short = ":".join(parts[1:3]) if len(parts) >= 3 else desc
        if counted_pass + counted_fail >= checks and summaries:
            break
        if ok:
            counted_pass += 1
            tally.record(True, f"unit {name} {short}")
        else:
            counted_fail += 1
            detail = "\n".join(messages.get(short, [])) or desc
            tally.record(False, f"unit {name} {short}", detail)

    # Whatever the TAP log did not itemise, from the summary.
    rest_fail = max(0, failures - counted_fail)
    rest_pass = max(0, checks - failures - counted_pass)
    for _ in range(rest_pass):
        tally.record(True, f"unit {name} (check without TAP entry)")
    for _ in range(rest_fail):
        tally.record(False, f"unit {name} (failed check without TAP entry)", _tail(out, 20))

    if timed_out:
        tally.record(False, f"unit {name}: timed out after {UNIT_TIMEOUT} s", _tail(out, 20))
    elif not summaries:
        why = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        tally.record(False, f"unit {name}: no Check summary ({why})", _tail(out, 30))
    elif rc != 0 and failures == 0:
        tally.record(False, f"unit {name}: exit status {rc} although all checks passed",
                     _tail(out, 30))
    return elapsed


def _tail(text, n):
    lines = text.rstrip("\n").splitlines()
    return "\n".join(lines[-n:]) if lines else "(no output)"


# -------------------------------------------------------------- config tests

def run_config(tally, substring):
    """tests/config/differential.py: one PASS/FAIL per configuration file."""
    spec = importlib.util.spec_from_file_location("vtvisor_config_tests", CONFIG_TESTS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.run(tally.record, substring)


# --------------------------------------------------------------- guest tests

def load_cases():
    spec = importlib.util.spec_from_file_location("vtvisor_guest_cases", CASES_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cases = []
    seen = set()
    for raw in mod.CASES:
        unknown = set(raw) - CASE_KEYS
        if unknown:
            raise SystemExit(f"{CASES_FILE}: case {raw.get('name')!r}: unknown keys {unknown}")
        if "name" not in raw or "modules" not in raw:
            raise SystemExit(f"{CASES_FILE}: every case needs a name and modules: {raw!r}")
        if raw["name"] in seen:
            raise SystemExit(f"{CASES_FILE}: duplicate case name {raw['name']!r}")
        seen.add(raw["name"])
        case = dict(CASE_DEFAULTS)
        case.update(raw)
        cases.append(case)
    return cases


def _hex_pattern(value):
    return f"0[xX]0*(?:{value:x}|{value:X})" if value else "0[xX]0+"


def _substitute(regex, values):
    def repl(m):
        if m.group(1) not in values:
            raise KeyError(m.group(1))
        return _hex_pattern(values[m.group(1)])
    return PLACEHOLDER_RE.sub(repl, regex)


def check_case(case, serial):
    """Returns a list of problems (empty: the case passed)."""
    problems = []
    values = {}
    for var, regex in case["capture"].items():
        m = re.search(regex, serial, re.M)
        if not m:
            problems.append(f"capture {var}: no line matches {regex}")
            continue
        try:
            values[var] = int(m.group(1), 16)
        except (IndexError, ValueError):
            problems.append(f"capture {var}: {regex} must have one group with a hex number")

    def sub(regex):
        try:
            return _substitute(regex, values)
        except KeyError:
            return None  # its capture failed: already reported

    for regex in case["expect"]:
        r = sub(regex)
        if r is not None and not re.search(r, serial, re.M):
            problems.append(f"missing: {r}")
    for regex in case["reject"]:
        r = sub(regex)
        if r is None:
            continue
        m = re.search(r, serial, re.M)
        if m:
            start = serial.rfind("\n", 0, m.start()) + 1
            end = serial.find("\n", m.end())
            problems.append(f"unwanted ({r}): {serial[start:end if end >= 0 else None]}")

    stops = {}
    last_stop = -1
    for m in STOPPED_RE.finditer(serial):
        stops.setdefault(m.group(1), []).append(m.group(2))
        last_stop = m.end()
    for vm, regex in case["stopped"].items():
        # One regex: the VM stops once.  A list: it stops once per regex, in
        # that order (a VM the operator starts again).
        wanted = [sub(x) for x in regex] if isinstance(regex, list) else [sub(regex)]
        got = stops.get(vm, [])
        if any(r is None for r in wanted):
            continue
        if len(got) != len(wanted):
            problems.append(f"vm {vm}: expected {len(wanted)} 'stopped:' line(s) matching "
                            f"{wanted}, got {len(got)}" + (f": {got}" if got else ""))
            continue
        for r, g in zip(wanted, got):
            if not re.fullmatch(r, g):
                problems.append(f"vm {vm}: stopped: {g!r} does not match {r}")
    for vm in stops:
        if vm not in case["stopped"]:
            problems.append(f"unexpected VM {vm!r} stopped: {stops[vm]}")
    if case["stopped"]:
        m = None
        for m in ALL_STOPPED_RE.finditer(serial):
            pass
        if not m:
            problems.append("missing: vtvisor: all VMs stopped")
        elif m.start() < last_stop:
            problems.append("'vtvisor: all VMs stopped' came before a VM's stopped line")

    for a, b in case["order"]:
        ra, rb = sub(a), sub(b)
        if ra is None or rb is None:
            continue
        ma, mb = re.search(ra, serial, re.M), re.search(rb, serial, re.M)
        if ma and mb and mb.start() < ma.start():
            problems.append(f"order: {rb} came before {ra}")
        elif not ma or not mb:
            problems.append(f"order: cannot check, missing {ra if not ma else rb}")
    return problems


CANCEL = threading.Event()


def run_qemu(modules, kernel_args, timeout, megs):
    """Boots vtvisor with QEMU's own multiboot v1 loader (-kernel, -initrd),
    software emulation: no VT-x, so this proves the boot path and the
    refusal, never a guest.  Returns a bochs.RunResult."""
    res = bochs.RunResult()
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        res.message = "qemu-system-x86_64 not found: run tools/install-deps.sh"
        return res
    initrd = ",".join(f"{m.path} {m.args}".strip() for m in modules)
    cmd = [qemu, "-accel", "tcg", "-cpu", "max", "-m", str(megs), "-display", "none",
           "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nodefaults",
           "-kernel", str(HV_IMAGE), "-append", kernel_args, "-initrd", initrd]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = b""
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() - start < timeout and not CANCEL.is_set():
            chunk = proc.stdout.read() or b""
            out += chunk
            if b"vtvisor: halted" in out or proc.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    res.serial = out.decode("utf-8", "replace").replace("\r", "")
    res.elapsed = time.monotonic() - start
    res.ended = "vtvisor: halted" in res.serial
    if not res.ended:
        res.timed_out = True
        res.message = (f"QEMU: no 'vtvisor: halted' within {timeout:.0f} s\n"
                       + serial_tail_text(res.serial))
    return res


def serial_tail_text(text):
    return "\n".join(text.splitlines()[-bochs.TAIL_LINES:])


class ScriptConsole:
    """Types into COM1 for a case's "script": a list of (regex, text); each
    text is sent once a serial line matching its regex has appeared (after
    the previous step's text).  Keys go one at a time, 20 ms apart, as a
    person types.  The run ends as usual (the end marker); the script never
    ends it."""

    def __init__(self, steps):
        self.steps = [(re.compile(rx, re.M), text.encode()) for rx, text in steps]
        self.text = ""
        self.since = 0  # where the current step starts looking
        self.queue = bytearray()
        self.next_send = 0.0
        self.reason = ""

    def fileno(self):
        return None

    def output(self, text):
        self.text += text

    def wait(self, now):
        return 0.02 if self.queue or self.steps else None

    def poll(self, now):
        if not self.queue and self.steps:
            rx, data = self.steps[0]
            m = rx.search(self.text, self.since)
            if m:
                self.since = m.end()
                self.steps.pop(0)
                self.queue += data
        if self.queue and now >= self.next_send:
            self.next_send = now + 0.02
            b = bytes(self.queue[:1])
            del self.queue[:1]
            return b
        return b""


def run_case(case, tally, timeout_factor, verbose):
    if CANCEL.is_set():
        return
    name = case["name"]
    label = (f"guest {name} (QEMU -kernel, software emulation)" if case["machine"] == "qemu"
             else f"guest {name} ({case['boot']}, {case['cpu']}"
             + (f" x{case['cpus']}" if case["cpus"] > 1 else "") + ")")
    log = LOG_DIR / f"{name}.log"
    keep = LOG_DIR / name
    if keep.exists():
        shutil.rmtree(keep, ignore_errors=True)
    if log.exists():
        log.unlink()
    if not HV_IMAGE.is_file():
        tally.record(False, label, f"{HV_IMAGE} not found: run `make vtvisor`")
        return
    modules = []
    for spec in case["modules"]:
        m = bochs.Module.parse(spec)
        path = m.path if m.path.is_absolute() else GUEST_DIR / m.path
        if not path.is_file():
            tally.record(False, label, f"guest {path} not found: run `make guests`")
            return
        modules.append(bochs.Module(path, m.args))

    timeout = case["timeout"] * timeout_factor
    iso = None
    if case["image"]:
        # `make image`: the configuration file and its modules in one ISO.
        sys.path.insert(0, str(REPO / "tools"))
        import mkimage
        iso = LOG_DIR / f"{name}.iso"
        try:
            mkimage.build_image(case["image"], iso, kernel=HV_IMAGE)
        except (mkimage.ImageError, bochs.BochsError) as e:
            tally.record(False, label, f"make image: {e}")
            return
    if case["machine"] == "qemu":
        res = run_qemu(modules, case["hv_args"], timeout, case["megs"])
    else:
        res = bochs.run(kernel=HV_IMAGE, modules=modules, cpu=case["cpu"], cpus=case["cpus"],
                        boot=case["boot"],
                        kernel_args=case["hv_args"], timeout=timeout, megs=case["megs"],
                        keep_dir=keep, cancel=CANCEL,
                        console=ScriptConsole(case["script"]) if case["script"] else None,
                        iso=iso)
    log.write_text(res.serial)
    if CANCEL.is_set():
        return
    problems = []
    if not res.ended:
        problems.append(res.message or "Bochs run did not finish")
    else:
        problems = check_case(case, res.serial)
    label += f" {res.elapsed:.1f} s"
    if not problems:
        tally.record(True, label)
        return
    rel = log.relative_to(REPO) if log.is_relative_to(REPO) else log
    details = "\n".join(problems)
    if res.ended:
        shown = res.serial if verbose else res.tail()
        title = "serial log" if verbose else f"last {bochs.TAIL_LINES} lines of {rel}"
        details += f"\n--- {title} ---\n{shown}"
    else:
        details += f"\n(serial log: {rel})"
    tally.record(False, label, details)


# ---------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description="Run vtvisor's unit and guest tests.")
    ap.add_argument("--only", choices=("unit", "guest", "config"), help="run only these tests")
    ap.add_argument("-k", dest="substring", default="",
                    help="only unit binaries / guest cases whose name contains this")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="guest cases run in parallel (default: 2)")
    ap.add_argument("--timeout-factor", type=float, default=1.0,
                    help="multiply every guest case's timeout (slow machines)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show whole serial logs of failed cases")
    args = ap.parse_args(argv)

    do_unit = args.only in (None, "unit")
    do_guest = args.only in (None, "guest")
    do_config = args.only in (None, "config") and not args.list
    units = unit_binaries(args.substring) if do_unit else []
    cases = [c for c in load_cases() if args.substring in c["name"]] if do_guest else []

    if args.list:
        for u in units:
            print(f"unit  {u.name}")
        for c in cases:
            print(f"guest {c['name']:<30} {c['boot']} {c['cpu']}: {'; '.join(c['modules'])}")
        return 0

    tally = Tally()
    start = time.monotonic()
    if do_unit and not units:
        which = f"matching {args.substring!r} " if args.substring else ""
        print(f"note: no unit test binaries {which}in {UNIT_DIR}")
    for u in units:
        run_unit(u, tally)
    if do_config:
        run_config(tally, args.substring)

    if cases:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
        # Longest first (by timeout, the cases' own estimate of their
        # length), so that a long case does not start last and run alone.
        futures = [pool.submit(run_case, c, tally, args.timeout_factor, args.verbose)
                   for c in sorted(cases, key=lambda c: -c["timeout"])]
        try:
            for f in futures:
                try:
                    f.result()
                except Exception as e:  # a runner bug must not hide the others
                    tally.record(False, f"guest runner error: {e!r}")
        except KeyboardInterrupt:
            CANCEL.set()  # each running case kills its Bochs
            pool.shutdown(wait=True, cancel_futures=True)
            print("interrupted")
            print(f"{tally.passed} passed, {tally.failed + 1} failed")
            return 1
        pool.shutdown(wait=True)
    # The hostile-guest suite (docs/security.md): a passing case contained its attack.
    escaped = [n for n, ok in tally.attacks.items() if not ok]
    if tally.attacks:
        for n in sorted(tally.attacks):
            print(f"attack {n}: {'escaped' if n in escaped else 'contained'}")
        print(f"attacks: {len(tally.attacks)} tried, {len(tally.attacks) - len(escaped)} "
              f"contained, {len(escaped)} escaped")

    print(f"(took {time.monotonic() - start:.0f} s)")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed or tally.passed == 0 or escaped else 0


if __name__ == "__main__":
    sys.exit(main())
