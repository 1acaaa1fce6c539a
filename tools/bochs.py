#!/usr/bin/env python3
"""Boot vtvisor (or any multiboot kernel) from a GRUB ISO in Bochs, headless.

Library use (tools/run_tests.py, tools/demo.py)::

    import bochs
    result = bochs.run(kernel="build/vtvisor.elf",
                       modules=["build/guests/cpuid.elf name=cpuid ram=8M -- hi"],
                       cpu="corei7_haswell_4770", boot="mb2", timeout=60)
    print(result.serial)            # everything written to COM1
    if not result.ended:
        print(result.message)       # why not (timeout: includes the log tail)

Each run gets a private temporary directory holding the ISO (built with
grub-mkrescue), the bochsrc, the debugger command file, the serial log and
Bochs's own log, so runs can go in parallel.  Bochs runs on a pseudo-terminal
(display_library: term needs one; its output is drained and discarded) in
its own process group, which is killed once the serial log shows the end
marker (default: a line starting "vtvisor: halted"), once Bochs exits, or on
the timeout.  Bochs's exit status means nothing: only the serial log counts.

Command line (prints the serial log; exit status 0 when the end marker
appeared, 1 otherwise)::

    python3 tools/bochs.py --cpu corei7_haswell_4770 --boot mb2 \\
        --module 'build/guests/cpuid.elf name=cpuid' --module 'build/guests/realmode.bin'

    # A guest on bare Bochs (no vtvisor): it powers Bochs off at the end.
    python3 tools/bochs.py --kernel build/guests/multiboot.elf --kernel-args '-- a b' --until-exit
    python3 tools/bochs.py --chainload build/guests/realmode.bin --until-exit
"""

import argparse
import codecs
import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_KERNEL = REPO / "build" / "vtvisor.elf"
DEFAULT_CPU = "corei7_haswell_4770"
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEGS = 256
# One emulated second = this many instructions (with clock: sync=none);
# roughly what Bochs executes per real second on these machines.
DEFAULT_IPS = 100_000_000
HALTED_MARKER = "vtvisor: halted"
TAIL_LINES = 30

BIOS_CANDIDATES = ["/usr/share/bochs/BIOS-bochs-latest"]
VGABIOS_CANDIDATES = ["/usr/share/vgabios/vgabios.bin", "/usr/share/bochs/VGABIOS-lgpl-latest"]
# GRUB modules the ISO needs (grub-mkrescue adds their dependencies);
# keeping the list short makes the ISO small and quick to build.
GRUB_MODULES = "normal configfile boot multiboot multiboot2 chain echo test"


class BochsError(Exception):
    """Setup problem: a missing tool or file, or an ISO that would not build."""


@dataclass
class Module:
    path: Path  # on the host
    args: str = ""  # the module's command line after its file name

    @classmethod
    def parse(cls, spec):
        """'PATH ARGS...' -> Module; relative paths are taken from the cwd."""
        if isinstance(spec, Module):
            return spec
        parts = spec.strip().split(None, 1)
        if not parts:
            raise BochsError("empty module specification")
        return cls(Path(parts[0]), parts[1] if len(parts) > 1 else "")


@dataclass
class RunResult:
    serial: str = ""  # the whole serial log (CR removed)
    ended: bool = False  # the end marker appeared (or Bochs exited, with no marker)
    timed_out: bool = False
    bochs_exited: bool = False  # Bochs ended by itself (panic, power-off, crash)
    elapsed: float = 0.0
    message: str = ""  # what went wrong, for humans; "" when ended
    bochs_log_tail: str = ""
    iso_seconds: float = 0.0
    workdir: str = ""  # only set when the directory was kept
    files: dict = field(default_factory=dict)  # name -> path of kept files

    def tail(self, n=TAIL_LINES):
        return serial_tail(self.serial, n)


def serial_tail(text, n=TAIL_LINES):
    lines = text.splitlines()
    if not lines:
        return "(serial log is empty)"
    return "\n".join(lines[-n:])


def _find(candidates, what, package):
    for c in candidates:
        if os.path.exists(c):
            return c
    raise BochsError(f"{what} not found (tried {', '.join(candidates)}); install {package} "
                     "(tools/install-deps.sh)")


def _need(tool, package):
    path = shutil.which(tool)
    if not path:
        raise BochsError(f"{tool} not found; install {package} (tools/install-deps.sh)")
    return path


def _grub_quote(word):
    """Quotes one word for grub.cfg so GRUB passes it through unchanged."""
    if re.fullmatch(r"[A-Za-z0-9_./=,:+@%-]+", word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def _grub_args(args):
    return " ".join(_grub_quote(w) for w in args.split())


def build_iso(workdir, kernel=None, modules=(), boot="mb2", kernel_args="", chainload=None):
    """Builds workdir/boot.iso: GRUB boots `kernel` with `modules` (multiboot
    `boot` = mb1 or mb2), or chainloads a boot sector.  Returns its path."""
    if boot not in ("mb1", "mb2"):
        raise BochsError(f"boot protocol must be mb1 or mb2, not {boot!r}")
    _need("grub-mkrescue", "grub-pc-bin grub-common")
    _need("xorriso", "xorriso")
    workdir = Path(workdir)
    isodir = workdir / "iso"
    (isodir / "boot" / "grub").mkdir(parents=True, exist_ok=True)
    (isodir / "guests").mkdir(exist_ok=True)

    copied = {}  # host path -> ISO path

    def place(src, subdir):
        src = Path(src)
        if not src.is_file():
            raise BochsError(f"file not found: {src}")
        key = str(src.resolve())
        if key in copied:
            return copied[key]
        name = src.name
        n = 1
        while (isodir / subdir / name).exists():
            n += 1
            name = f"{src.stem}-{n}{src.suffix}"
        shutil.copyfile(src, isodir / subdir / name)
        copied[key] = f"/{subdir}/{name}" if subdir else f"/{name}"
        return copied[key]

    lines = ["set timeout=0", "set default=0", 'menuentry "vtvisor" {']
    if chainload:
        lines.append(f"    chainloader --force {place(chainload, 'guests')}")
    else:
        kcmd, mcmd = ("multiboot2", "module2") if boot == "mb2" else ("multiboot", "module")
        kpath = place(kernel or DEFAULT_KERNEL, "")
        lines.append(f"    {kcmd} {kpath} {_grub_args(kernel_args)}".rstrip())
        for m in modules:
            m = Module.parse(m)
            lines.append(f"    {mcmd} {place(m.path, 'guests')} {_grub_args(m.args)}".rstrip())
    lines += ["    boot", "}", ""]
    (isodir / "boot" / "grub" / "grub.cfg").write_text("\n".join(lines))

    iso = workdir / "boot.iso"
    cmd = ["grub-mkrescue", f"--install-modules={GRUB_MODULES}", "--fonts=", "--locales=",
           "--themes=", "-o", str(iso), str(isodir)]
    env = dict(os.environ, TMPDIR=str(workdir))
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, cwd=workdir)
    if p.returncode != 0 or not iso.exists():
        out = p.stdout.decode(errors="replace")
        raise BochsError(f"grub-mkrescue failed (status {p.returncode}):\n{out}")
    return iso


def write_bochsrc(workdir, iso, cpu=DEFAULT_CPU, megs=DEFAULT_MEGS, ips=DEFAULT_IPS, cpus=1,
                  extra=()):
    workdir = Path(workdir)
    bios = _find(BIOS_CANDIDATES, "Bochs BIOS", "bochsbios")
    vgabios = _find(VGABIOS_CANDIDATES, "VGA BIOS", "vgabios")
    rc = [
        f"romimage: file={bios}",
        f"vgaromimage: file={vgabios}",
        f"cpu: model={cpu}, count={cpus}, ips={ips}, reset_on_triple_fault=1",
        f"megs: {megs}",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        f"com1: enabled=1, mode=file, dev={workdir / 'serial.log'}",
        "clock: sync=none, time0=946684800",
        "mouse: enabled=0",
        # Debian's ALSA default crashes Bochs on machines without a sound card.
        "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
        "speaker: enabled=0",
        "panic: action=fatal",
        "error: action=report",
        f"log: {workdir / 'bochs.log'}",
        "display_library: term",
    ]
    rc += list(extra)
    path = workdir / "bochsrc"
    path.write_text("\n".join(rc) + "\n")
    cmds = workdir / "debugger.cmds"
    cmds.write_text("c\nquit\n")
    return path, cmds


def _open_pty():
    master, slave = os.openpty()
    # curses in the term display wants a sane window size.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))
    os.set_blocking(master, False)
    return master, slave


def _marker_seen(text, marker):
    return text.startswith(marker) or ("\n" + marker) in text


def run(kernel=None, modules=(), cpu=DEFAULT_CPU, boot="mb2", kernel_args="",
        timeout=DEFAULT_TIMEOUT, end_marker=HALTED_MARKER, megs=DEFAULT_MEGS, ips=DEFAULT_IPS,
        cpus=1, chainload=None, on_serial=None, keep_dir=None, extra_bochsrc=(), cancel=None):
    """Boots in Bochs and returns a RunResult.

    end_marker: stop when a serial line starts with it; None: run until Bochs
    exits (bare guests power off through port 0x8900).  on_serial(text) is
    called with serial output as it arrives.  keep_dir: copy the run's files
    (serial.log, bochs.log, bochsrc, grub.cfg) there.  cancel: a
    threading.Event; when set, the run stops (result.message says so)."""
    _need("bochs", "bochs bochs-term")
    result = RunResult()
    tmp = Path(tempfile.mkdtemp(prefix="vtvisor-bochs-"))
    proc = None
    master = None
    start = time.monotonic()
    try:
        iso = build_iso(tmp, kernel, modules, boot, kernel_args, chainload)
        result.iso_seconds = time.monotonic() - start
        rc, cmds = write_bochsrc(tmp, iso, cpu, megs, ips, cpus, extra_bochsrc)
        serial_path = tmp / "serial.log"
        serial_path.touch()

        env = dict(os.environ)
        if env.get("TERM", "dumb") in ("", "dumb", "unknown"):
            env["TERM"] = "xterm"
        env.setdefault("LANG", "C")
        master, slave = _open_pty()
        try:
            proc = subprocess.Popen(["bochs", "-q", "-f", str(rc), "-rc", str(cmds)],
                                    stdin=slave, stdout=slave, stderr=slave, cwd=tmp, env=env,
                                    start_new_session=True, close_fds=True)
        finally:
            os.close(slave)

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        chunks = []
        deadline = start + timeout
        with open(serial_path, "rb") as serial:
            while True:
                _drain(master)
                data = serial.read()
                if data:
                    text = decoder.decode(data).replace("\r", "")
                    chunks.append(text)
                    if on_serial:
                        on_serial(text)
                joined = "".join(chunks)
                if end_marker is not None and _marker_seen(joined, end_marker):
                    # Let the rest of the marker's line arrive.
                    time.sleep(0.05)
                    rest = decoder.decode(serial.read(), final=True).replace("\r", "")
                    if rest:
                        chunks.append(rest)
                        if on_serial:
                            on_serial(rest)
                    result.ended = True
                    break
                if proc.poll() is not None:
                    rest = decoder.decode(serial.read(), final=True).replace("\r", "")
                    if rest:
                        chunks.append(rest)
                        if on_serial:
                            on_serial(rest)
                    result.bochs_exited = True
                    joined = "".join(chunks)
                    result.ended = end_marker is None or _marker_seen(joined, end_marker)
                    break
                if time.monotonic() > deadline:
                    result.timed_out = True
                    break
                if cancel is not None and cancel.is_set():
                    result.message = "cancelled"
                    break
                # Sleep until Bochs draws something (drained at once, so its
                # terminal output never blocks it) or for 30 ms.
                try:
                    select.select([master], [], [], 0.03)
                except (OSError, ValueError):
                    time.sleep(0.03)
        result.serial = "".join(chunks)
    except BochsError as e:
        result.message = str(e)
        return result
    finally:
        if proc is not None:
            _kill(proc)
        if master is not None:
            os.close(master)
        result.elapsed = time.monotonic() - start
        result.bochs_log_tail = _log_tail(tmp / "bochs.log")
        if keep_dir:
            result.workdir = str(keep_dir)
            result.files = _keep(tmp, Path(keep_dir))
        shutil.rmtree(tmp, ignore_errors=True)

    if not result.ended and result.message != "cancelled":
        what = f"a line starting {end_marker!r}" if end_marker else "Bochs to exit"
        if result.timed_out:
            head = f"timed out after {timeout:g} s waiting for {what}"
        else:
            head = f"Bochs exited after {result.elapsed:.1f} s before {what}"
        result.message = (f"{head}\n--- last {TAIL_LINES} lines of the serial log ---\n"
                          f"{result.tail()}\n--- end of Bochs's log ---\n{result.bochs_log_tail}")
    return result


def _drain(master):
    try:
        while os.read(master, 65536):
            pass
    except (BlockingIOError, OSError):
        pass


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _log_tail(path, n=15):
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no Bochs log)"
    # Panics and errors first: they usually explain an early exit.
    important = [l for l in lines if re.search(r"\bPANIC\b|\bERROR\b|>>PANIC<<", l)]
    tail = lines[-n:]
    out = important[-5:] + (["..."] if important else []) + tail
    return "\n".join(out) if out else "(Bochs log is empty)"


def _keep(tmp, dest):
    dest.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in ("serial.log", "bochs.log", "bochsrc", "iso/boot/grub/grub.cfg"):
        src = tmp / name
        if src.exists():
            target = dest / Path(name).name
            shutil.copyfile(src, target)
            files[Path(name).name] = str(target)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Boot vtvisor (or a multiboot kernel / boot sector) in Bochs, headless, "
                    "and print the serial log.")
    ap.add_argument("--kernel", default=str(DEFAULT_KERNEL),
                    help="multiboot kernel GRUB boots (default: %(default)s)")
    ap.add_argument("--kernel-args", default="", help="the kernel's command line (hv args)")
    ap.add_argument("--module", "-m", action="append", default=[], metavar="'PATH ARGS...'",
                    help="boot module with its arguments, e.g. "
                         "'build/guests/cpuid.elf name=cpuid ram=8M -- hello'")
    ap.add_argument("--chainload", metavar="BOOTSECTOR",
                    help="boot this boot sector with GRUB's chainloader instead of a kernel")
    ap.add_argument("--cpu", default=DEFAULT_CPU, help="Bochs CPU model (default: %(default)s)")
    ap.add_argument("--cpus", type=int, default=1, help="number of CPUs (default: 1)")
    ap.add_argument("--boot", choices=("mb1", "mb2"), default="mb2",
                    help="multiboot protocol GRUB uses (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds (default: %(default)s)")
    ap.add_argument("--end-marker", default=HALTED_MARKER,
                    help="stop when a serial line starts with this (default: %(default)r)")
    ap.add_argument("--until-exit", action="store_true",
                    help="no end marker: run until Bochs exits (bare guests power it off)")
    ap.add_argument("--megs", type=int, default=DEFAULT_MEGS, help="RAM in MiB (default: 256)")
    ap.add_argument("--ips", type=int, default=DEFAULT_IPS,
                    help="instructions per emulated second (default: %(default)s)")
    ap.add_argument("--live", action="store_true", help="print serial output as it arrives")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep serial.log, bochs.log, bochsrc and grub.cfg in DIR")
    args = ap.parse_args(argv)

    def live(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    marker = None if args.until_exit or args.end_marker == "" else args.end_marker
    try:
        res = run(kernel=args.kernel, modules=args.module, cpu=args.cpu, boot=args.boot,
                  kernel_args=args.kernel_args, timeout=args.timeout, end_marker=marker,
                  megs=args.megs, ips=args.ips, cpus=args.cpus, chainload=args.chainload,
                  on_serial=live if args.live else None, keep_dir=args.keep)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if not args.live:
        sys.stdout.write(res.serial)
        if res.serial and not res.serial.endswith("\n"):
            sys.stdout.write("\n")
    if res.ended:
        print(f"[bochs.py: done in {res.elapsed:.1f} s]", file=sys.stderr)
        return 0
    print(f"[bochs.py: {res.message}]", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
