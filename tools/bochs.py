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

Interactive: run(..., console=StdinConsole(...)) makes COM1 a loopback TCP
connection (Bochs connects to a port this process listens on) and types this
process's stdin into it; tools/demo.py uses that, and so does --interactive.

Each run gets a private temporary directory holding the ISO (built with
grub-mkrescue), the bochsrc, the debugger command file, the serial log and
Bochs's own log, so runs can go in parallel.  Bochs runs on a pseudo-terminal
(display_library: term needs one; its output, and the screen's on the
terminal Bochs opens for it, is drained and discarded: _BochsTerminal) in
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

    # Type into a guest's serial console (Ctrl-] leaves): a shell in Linux.
    python3 tools/bochs.py --interactive --megs 512 \
        --module '/var/cache/vtvisor/vmlinuz name=linux ram=256M -- console=ttyS0,115200' \
        --module '/var/cache/vtvisor/initramfs-shell.cpio.gz initrd-for=linux'
"""

import argparse
import codecs
import contextlib
import fcntl
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_BUILD = Path(os.environ.get("BUILD", REPO / "build"))
DEFAULT_KERNEL = (_BUILD if _BUILD.is_absolute() else REPO / _BUILD) / "vtvisor.elf"
DEFAULT_CPU = "corei7_haswell_4770"
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEGS = 256
# One emulated second = this many instructions (with clock: sync=none);
# roughly what Bochs executes per real second on these machines.
DEFAULT_IPS = 100_000_000
HALTED_MARKER = "vtvisor: halted"
# Seconds Bochs may take from its start to connecting COM1 (interactive runs).
CONNECT_TIMEOUT = 30.0
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
    console_ended: bool = False  # the interactive console ended the run (message: why)
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
            # The file name first, as QEMU and GRUB legacy pass it (GRUB 2
            # passes only what follows the path): a configuration file
            # names its modules by it.
            lines.append(f"    {mcmd} {place(m.path, 'guests')} {_grub_args(Path(m.path).name)} "
                         f"{_grub_args(m.args)}".rstrip())
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
                  extra=(), com1=None):
    """com1: the bochsrc line for COM1; default: output to workdir/serial.log."""
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
        com1 or f"com1: enabled=1, mode=file, dev={workdir / 'serial.log'}",
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


class _MarkerWatch:
    """Tells, chunk by chunk, whether a line starting with `marker` has
    appeared, without searching the whole log again each time."""

    def __init__(self, marker):
        self.marker = marker
        self.tail = "\n"  # the text seen last; a log's first line starts after a newline
        self.seen = False

    def feed(self, text):
        if self.marker is None or self.seen:
            return self.seen
        scan = self.tail + text
        self.seen = ("\n" + self.marker) in scan
        self.tail = scan[-len(self.marker):] if self.marker else ""
        return self.seen


def _socket_serial():
    """A loopback listening socket for COM1 in socket-client mode.  The kernel
    picks a free port, so parallel runs never collide, and the port is held
    from before Bochs starts until Bochs has connected (no window in which
    another program could take it)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    return listener, f"com1: enabled=1, mode=socket-client, dev=127.0.0.1:{port}"


def run(kernel=None, modules=(), cpu=DEFAULT_CPU, boot="mb2", kernel_args="",
        timeout=DEFAULT_TIMEOUT, end_marker=HALTED_MARKER, megs=DEFAULT_MEGS, ips=DEFAULT_IPS,
        cpus=1, chainload=None, on_serial=None, keep_dir=None, extra_bochsrc=(), cancel=None,
        console=None, iso=None):
    """Boots in Bochs and returns a RunResult.

    iso: boot this image as it is (tools/mkimage.py) instead of building one
    from kernel and modules.

    end_marker: stop when a serial line starts with it; None: run until Bochs
    exits (bare guests power off through port 0x8900).  timeout: seconds, or
    None for no limit.  on_serial(text) is called with serial output as it
    arrives.  keep_dir: copy the run's files (serial.log, bochs.log, bochsrc,
    grub.cfg) there.  cancel: a threading.Event; when set, the run stops
    (result.message says so).

    console: None (the default, what the tests use): COM1 writes to a file
    and the guest gets no input.  Otherwise COM1 is interactive: Bochs
    connects it, as a TCP client (mode=socket-client), to a loopback port
    this function listens on; its output arrives through the connection (and
    is still copied to serial.log) and input goes back the same way.
    `console` is an object (see StdinConsole) with:
      fileno()     a file descriptor to wake up on when readable, or None;
      poll(now)    called each time round the loop: bytes to send to COM1
                   now (b"" for none), or None to end the run (the run
                   then stops with result.console_ended set and
                   result.message = console.reason);
      output(text) called with the serial output as it arrives;
      wait(now)    seconds until poll wants to be called again, or None."""
    _need("bochs", "bochs bochs-term")
    result = RunResult()
    tmp = Path(tempfile.mkdtemp(prefix="vtvisor-bochs-"))
    proc = None
    master = None
    term = None
    listener = None
    conn = None
    start = time.monotonic()
    try:
        if iso is None:
            iso = build_iso(tmp, kernel, modules, boot, kernel_args, chainload)
        result.iso_seconds = time.monotonic() - start
        com1 = None
        if console is not None:
            listener, com1 = _socket_serial()
        rc, cmds = write_bochsrc(tmp, iso, cpu, megs, ips, cpus, extra_bochsrc, com1=com1)
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
        term = _BochsTerminal(master)
        bochs_started = time.monotonic()

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        chunks = []
        watch = _MarkerWatch(end_marker)
        pending = bytearray()  # console input not yet accepted by the socket
        closed = False  # Bochs closed the serial connection

        def read_serial():
            """Serial bytes that arrived since the last call."""
            nonlocal closed
            if console is None:
                return serial.read()
            if conn is None or closed:
                return b""
            got = []
            while True:
                try:
                    data = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    closed = True
                    break
                if not data:
                    closed = True
                    break
                got.append(data)
            data = b"".join(got)
            if data:
                serial.write(data)
                serial.flush()
            return data

        def take(data, final=False):
            text = decoder.decode(data, final=final).replace("\r", "")
            if text:
                chunks.append(text)
                if on_serial:
                    on_serial(text)
                if console is not None:
                    console.output(text)
            return text

        deadline = None if timeout is None else start + timeout
        with open(serial_path, "rb" if console is None else "wb") as serial:
            while True:
                term.drain()
                if console is not None and conn is None:
                    try:
                        conn, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        pass
                    else:
                        conn.setblocking(False)
                        listener.close()
                        listener = None
                if watch.feed(take(read_serial())):
                    # Let the rest of the marker's line arrive.
                    time.sleep(0.05)
                    take(read_serial(), final=True)
                    result.ended = True
                    break
                if proc.poll() is not None:
                    take(read_serial(), final=True)
                    result.bochs_exited = True
                    result.ended = end_marker is None or watch.feed("")
                    break
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    result.timed_out = True
                    break
                if cancel is not None and cancel.is_set():
                    result.message = "cancelled"
                    break
                if console is not None:
                    if conn is None and now - bochs_started > CONNECT_TIMEOUT:
                        raise BochsError(f"Bochs did not connect COM1 to the loopback port "
                                         f"within {CONNECT_TIMEOUT:g} s ({com1})")
                    data = console.poll(now)
                    if data is None:
                        result.console_ended = True
                        result.message = getattr(console, "reason", "") or "console ended"
                        break
                    pending += data
                    if pending and conn is not None and not closed:
                        try:
                            pending = pending[conn.send(pending):]
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            closed = True
                # Sleep until Bochs draws something (drained at once, so its
                # terminal output never blocks it), serial output or console
                # input arrives, or for 30 ms.
                rlist, wlist, wait = term.fds(), [], 0.03
                if console is not None:
                    rlist.append(listener if conn is None else conn)
                    if conn is not None and closed:
                        rlist.pop()
                    fd = console.fileno()
                    if fd is not None:
                        rlist.append(fd)
                    if pending and conn is not None and not closed:
                        wlist.append(conn)
                    want = console.wait(now)
                    if want is not None:
                        wait = max(0.0, min(wait, want))
                try:
                    select.select(rlist, wlist, [], wait)
                except (OSError, ValueError):
                    time.sleep(wait)
        result.serial = "".join(chunks)
    except BochsError as e:
        result.message = str(e)
        result.serial = "".join(chunks) if "chunks" in locals() else ""
        return result
    finally:
        if proc is not None:
            _kill(proc)
        if term is not None:
            term.close()
        if master is not None:
            os.close(master)
        for s in (conn, listener):
            if s is not None:
                s.close()
        result.elapsed = time.monotonic() - start
        result.bochs_log_tail = _log_tail(tmp / "bochs.log")
        if keep_dir:
            result.workdir = str(keep_dir)
            result.files = _keep(tmp, Path(keep_dir))
        shutil.rmtree(tmp, ignore_errors=True)

    if not result.ended and result.message != "cancelled" and not result.console_ended:
        what = f"a line starting {end_marker!r}" if end_marker else "Bochs to exit"
        if result.timed_out:
            head = f"timed out after {timeout:g} s waiting for {what}"
        else:
            head = f"Bochs exited after {result.elapsed:.1f} s before {what}"
        result.message = (f"{head}\n--- last {TAIL_LINES} lines of the serial log ---\n"
                          f"{result.tail()}\n--- end of Bochs's log ---\n{result.bochs_log_tail}")
    return result


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


ESCAPE_KEY = b"\x1d"  # Ctrl-], as telnet uses
ESCAPE_NAME = "Ctrl-]"


class StdinConsole:
    """An interactive serial console on this process's stdin for run(console=).

    A terminal is put in raw mode for the session (every key goes to the
    guest as typed, Ctrl-C and Ctrl-Z included, with no local echo: the guest
    echoes) and restored on leaving the `with` block, whatever the way out.
    Output processing stays on, so printed newlines still return the cursor.
    Anything else (a pipe, a file, /dev/null) is forwarded byte for byte as
    it comes.

    escape: the byte that ends the session when typed (None: none).
    hold_until: a regular expression; input is held back until a serial line
      matches it (then `settle` seconds more), e.g. until the guest's shell
      runs.  None: forward at once.
    pace: at least this many seconds between two bytes sent (0: none; not
      needed with Bochs, whose UART takes socket input at its baud rate: 2.5
      KB sent at once to a busy Linux guest arrived intact).
    eof_timeout: after the end of the input, once everything has been sent,
      the session ends this many seconds later (None: it does not end).
    Afterwards, reason says why poll() ended the run (the escape key, or
    the end of the input)."""

    def __init__(self, fd=None, escape=ESCAPE_KEY, hold_until=None, settle=1.0, pace=0.0,
                 eof_timeout=30.0):
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.tty = os.isatty(self.fd)
        self.escape = escape
        self.hold = re.compile(hold_until) if hold_until else None
        self.settle = settle
        self.pace = pace
        self.eof_timeout = eof_timeout
        self.ready_at = None if self.hold else 0.0  # when input may flow
        self.queue = bytearray()
        self.eof = False
        self.idle_since = None  # end of input, all of it sent
        self.next_send = 0.0
        self.reason = ""
        self._line = ""
        self._saved = None
        self._handlers = {}

    # The terminal.
    def __enter__(self):
        # Termination signals unwind through the `finally` blocks (which
        # stop Bochs and restore the terminal) instead of killing at once.
        self._handlers = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._handlers[sig] = signal.signal(sig, _exit_on_signal)
        if self.tty:
            self._saved = termios.tcgetattr(self.fd)
            mode = termios.tcgetattr(self.fd)
            mode[0] &= ~(termios.BRKINT | termios.ICRNL | termios.INLCR | termios.IGNCR |
                         termios.INPCK | termios.ISTRIP | termios.IXON)
            mode[2] = (mode[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
            mode[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN |
                         termios.ISIG)
            mode[6][termios.VMIN] = 1
            mode[6][termios.VTIME] = 0
            termios.tcsetattr(self.fd, termios.TCSAFLUSH, mode)
        return self

    def __exit__(self, *exc):
        self.restore()
        for sig, handler in self._handlers.items():
            signal.signal(sig, handler)
        return False

    def restore(self):
        if self._saved is not None:
            try:
                # TCSAFLUSH: keys typed for the guest but not read stay out
                # of the host's shell.
                termios.tcsetattr(self.fd, termios.TCSAFLUSH, self._saved)
            except termios.error:
                pass
            self._saved = None

    # The protocol run() uses.
    def fileno(self):
        return None if self.eof else self.fd

    def output(self, text):
        if self.ready_at is not None:
            return
        lines = (self._line + text).split("\n")
        self._line = lines.pop()[-4096:]
        if any(self.hold.search(l) for l in lines):
            self.ready_at = time.monotonic() + self.settle

    def wait(self, now):
        if self.queue and self.ready_at is not None:
            return max(0.0, max(self.ready_at, self.next_send) - now)
        if self.idle_since is not None and self.eof_timeout is not None:
            return max(0.0, self.idle_since + self.eof_timeout - now)
        return None

    def poll(self, now):
        if not self.eof and select.select([self.fd], [], [], 0)[0]:
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # e.g. EIO: the terminal went away
                data = b""
            if not data:
                self.eof = True
            elif self.escape and self.escape in data:
                self.reason = f"left with the escape key ({ESCAPE_NAME})" \
                    if self.escape == ESCAPE_KEY else "left with the escape key"
                return None
            else:
                self.queue += data
                self.idle_since = None
        if self.ready_at is None or now < self.ready_at or not self.queue:
            if self.eof and not self.queue and self.ready_at is not None:
                if self.idle_since is None:
                    self.idle_since = now
                elif self.eof_timeout is not None and now - self.idle_since >= self.eof_timeout:
                    self.reason = f"end of input (and {self.eof_timeout:g} s more)"
                    return None
            return b""
        if not self.pace:
            out, self.queue = bytes(self.queue), bytearray()
            return out
        if now < self.next_send:
            return b""
        self.next_send = now + self.pace
        out = bytes(self.queue[:1])
        del self.queue[:1]
        return out


def _drain(fd):
    """Reads what fd has (non-blocking) and returns it."""
    got = []
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            got.append(data)
    except (BlockingIOError, OSError):
        pass
    return b"".join(got)


class _BochsTerminal:
    """Reads and discards Bochs's terminal output, so that it never blocks.

    Built with its debugger, as Debian's is, Bochs's term display does not
    draw on the terminal Bochs was started on.  It opens a pseudo-terminal
    of its own and names it on stderr: 'Bochs connected to screen
    "/dev/pts/N"'.  Nothing reads that terminal unless we do.  Once its
    buffer is full (about 16 KiB; the status bar is redrawn every second of
    wall time), Bochs blocks in the write and every guest stops with it: a
    long run, or one slowed by other work, timed out with nothing wrong in
    vtvisor.  So its other end is opened here, put in raw mode (no echo
    back into Bochs's keyboard, no line buffering) and drained too."""

    SCREEN = re.compile(rb'Bochs connected to screen "(/dev/pts/[0-9]+)"')

    def __init__(self, master):
        self.master = master
        self.screen = None
        self.seen = b""

    def fds(self):
        return [self.master] if self.screen is None else [self.master, self.screen]

    def drain(self):
        data = _drain(self.master)
        if self.screen is None and data:
            self.seen = (self.seen + data)[-4096:]
            m = self.SCREEN.search(self.seen)
            if m:
                path = m.group(1).decode()
                try:
                    self.screen = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                    tty.setraw(self.screen)
                except OSError as e:
                    raise BochsError(f"cannot open Bochs's screen terminal {path} to drain "
                                     f"it ({e.strerror}); Bochs would block once it is full")
        if self.screen is not None:
            _drain(self.screen)

    def close(self):
        if self.screen is not None:
            os.close(self.screen)
            self.screen = None


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
    ap.add_argument("--timeout", type=float,
                    help=f"seconds; 0: none (default: {DEFAULT_TIMEOUT:g}, none with "
                         "--interactive on a terminal)")
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
    ap.add_argument("--interactive", "-i", action="store_true",
                    help=f"COM1 is a console (implies --live): keys typed (raw mode) or stdin's "
                         f"bytes go to the guest; {ESCAPE_NAME} leaves")
    ap.add_argument("--hold-until", metavar="REGEX",
                    help="with --interactive: hold input back until a serial line matches")
    ap.add_argument("--eof-timeout", type=float, default=30.0,
                    help="with --interactive: end this many seconds after the end of stdin "
                         "(default: %(default)g)")
    args = ap.parse_args(argv)

    def live(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    marker = None if args.until_exit or args.end_marker == "" else args.end_marker
    timeout = args.timeout
    if timeout is None:
        timeout = None if args.interactive and sys.stdin.isatty() else DEFAULT_TIMEOUT
    elif timeout <= 0:
        timeout = None
    console = contextlib.nullcontext()
    if args.interactive:
        args.live = True
        console = StdinConsole(hold_until=args.hold_until, eof_timeout=args.eof_timeout)
        if console.tty:
            print(f"[bochs.py: interactive console; {ESCAPE_NAME} leaves]", file=sys.stderr)
    try:
        with console:
            res = run(kernel=args.kernel, modules=args.module, cpu=args.cpu, boot=args.boot,
                      kernel_args=args.kernel_args, timeout=timeout, end_marker=marker,
                      megs=args.megs, ips=args.ips, cpus=args.cpus, chainload=args.chainload,
                      on_serial=live if args.live else None, keep_dir=args.keep,
                      console=console if args.interactive else None)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if not args.live:
        sys.stdout.write(res.serial)
        if res.serial and not res.serial.endswith("\n"):
            sys.stdout.write("\n")
    if res.ended or res.console_ended:
        how = f" ({res.message})" if res.console_ended else ""
        print(f"[bochs.py: done in {res.elapsed:.1f} s{how}]", file=sys.stderr)
        return 0
    print(f"[bochs.py: {res.message}]", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
