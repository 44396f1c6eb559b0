"""kvqemu - drive the real Kernel-V kernel in QEMU, as a person would.

A test boots a headless QEMU, types on the PS/2 keyboard and into the
serial port, and reads back what a person would see: the VGA text screen
(80x25 cells of {char, attr} at physical 0xB8000, read with QMP pmemsave)
and the serial log.

    from kvqemu import KernelTestCase

    class EchoTest(KernelTestCase):
        def test_echo(self):
            m = self.boot()                      # -kernel; waits for "kv> "
            out = m.run_command('echo hello')    # typed on the keyboard
            self.assertEqual(out, 'hello\\n')     # what it printed (serial)
            m.type('echo bye')                   # or step by step
            m.key('ret')
            s = m.wait_screen(r'^bye$')
            self.assertEqual(s.attr(*s.find('bye')), 0x07)

Machine (one QEMU; KernelTestCase.boot() makes, starts and closes them):
    keyboard  type(text)   key('up'), key('ctrl-c'), key('shift-f5', 'esc')
    serial    serial_line(text)   serial_bytes(b'...')   serial_text()
              serial_mark()   wait_serial(regex, timeout, since=mark)
    screen    screen() -> Screen   wait_screen(regex | predicate, timeout)
    shell     wait_prompt()   run_command(line, via='keyboard' | 'serial')
    life      wait_exit(timeout) -> status   expect_reset()   is_running()
              assert_stays_up(seconds)   events(name)   qmp(command, **args)
Screen: .lines (25 strings of 80), .text, .attr(r, c), .char(r, c),
    .find(text) -> (row, col) | None, .search(regex), .at_prompt(), str().

Failures the harness finds by itself (raised as MachineError, whose message
carries a dump: the machine's state, its screen and the serial log's tail):
  * a wait_* call does not see what it waits for in time (WaitTimeout);
  * the machine outlives its hard timeout: QEMU is killed (MachineDied);
  * QEMU exits while the test is not in wait_exit() (MachineDied);
  * the guest resets (QMP SHUTDOWN event with reason guest-reset; under
    -no-reboot QEMU then exits with status 0) and the test did not call
    expect_reset() first (UnexpectedReset).
For the test's own assertions, run.py uses DumpingTestResult, which prints
the same dump for every machine of a failing test.

Environment: KV_KERNEL (kernel ELF), KV_ISO (GRUB ISO), KV_MKISO
(tools/mkiso.sh, for ISOs with another command line): tests/qemu/meson.build
sets them.  KV_KEEP=1 keeps every machine's directory (command, serial.log,
qmp.log, qemu.log, debug.log); the directory of a machine that was dumped is
always kept.  KV_TIMEOUT_SCALE multiplies every timeout (slow hosts);
KV_QEMU names the QEMU binary.

How input and output are made reliable (measured on QEMU 7.2, 2 cores):

  Keyboard.  QMP send-key queues its events behind a timer on QEMU's
  virtual clock, which runs on whether or not the guest gets CPU time, and
  the emulated PS/2 device drops bytes once 16 wait for the guest; QEMU's
  own queue drops events past 1024 entries.  With both host cores busy,
  send-key lost keys at a 2 ms hold time.  So keys are sent with QMP
  input-send-event (each press, then its release) in batches of at most 16
  scancode bytes, and a batch is sent only once the guest has read the last
  one: the i8042 status port 0x64, read with the monitor's "i" command (no
  side effects), shows the output buffer empty, and QEMU refills it at once
  from the PS/2 queue while bytes are left.  That costs about 2 ms a key
  (QEMU itself takes 1 ms per input event) and loses none, however slow
  the guest is.

  Serial.  A unix-socket chardev holds only ~277 bytes in flight (each 1-byte
  write is an skb charged ~768 bytes against QEMU's 208 KiB send buffer);
  when it is full the UART looks busy, the kernel gives up on a byte after
  ~5 ms of polling, and output is lost whenever the reader thread is late.
  Under load that lost output in 16 of 40 commands.  A pipe chardev (two
  FIFOs, DIR/serial.in and DIR/serial.out) buffers 64 KiB and lost none, and
  it is just as bidirectional.  QEMU only takes input bytes the UART's
  FIFO has room for, but refills it as fast as the guest reads, so a long
  write arrives as one burst inside a single interrupt and overflows the
  kernel's 127-entry input queue.  serial_bytes() therefore sends 16 bytes
  at a time and waits until the guest has read them (FIFO empty, the UART's
  data-ready bit clear), as a terminal at line speed would.

  Shutdown.  QEMU 7.2 can deadlock in monitor_cleanup() when a QMP command
  is in flight as the guest resets it under -no-reboot (about 1 in 15 tries):
  the SHUTDOWN event comes, the process never exits.  After expect_reset()
  no QMP command is left in flight after the last input; otherwise a QEMU
  stuck 2 s after SHUTDOWN is killed and counted as the exit (status 0) it
  would have made.  QEMU runs under setpriv --pdeathsig KILL, so it dies
  with the test process however that ends.
"""

import atexit
import fcntl
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

__all__ = [
    'Machine', 'Screen', 'KernelTestCase', 'DumpingTestResult',
    'MachineError', 'WaitTimeout', 'MachineDied', 'UnexpectedReset', 'MachineGone',
    'QMPError',
    'make_iso', 'kernel_path', 'iso_path', 'vga_attr', 'scaled',
    'keys_for_char', 'keys_for_combo',
    'PROMPT', 'PROMPT_ATTR', 'DEFAULT_ATTR', 'VGA_COLOURS', 'ROWS', 'COLS',
    'BLACK', 'BLUE', 'GREEN', 'CYAN', 'RED', 'MAGENTA', 'BROWN', 'LIGHT_GREY', 'DARK_GREY',
    'LIGHT_BLUE', 'LIGHT_GREEN', 'LIGHT_CYAN', 'LIGHT_RED', 'LIGHT_MAGENTA', 'YELLOW', 'WHITE',
]

# ---------------------------------------------------------------------------
# Facts about the kernel and the PC

PROMPT = 'kv> '
ROWS, COLS = 25, 80
VGA_TEXT = 0xB8000
I8042_STATUS = 0x64       # bit 0: output buffer full (a byte for the guest)
COM1_LSR = 0x3FD          # bit 0: data ready (a received byte not yet read)
SERIAL_PIECE = 16         # bytes sent to COM1 at a time (the UART's FIFO)
PS2_QUEUE_BYTES = 16      # QEMU's PS/2 device drops bytes past this many

# VGA colour numbers (attribute = background << 4 | foreground).
BLACK, BLUE, GREEN, CYAN, RED, MAGENTA, BROWN, LIGHT_GREY = range(8)
(DARK_GREY, LIGHT_BLUE, LIGHT_GREEN, LIGHT_CYAN, LIGHT_RED, LIGHT_MAGENTA,
 YELLOW, WHITE) = range(8, 16)
VGA_COLOURS = ['black', 'blue', 'green', 'cyan', 'red', 'magenta', 'brown',
               'light grey', 'dark grey', 'light blue', 'light green',
               'light cyan', 'light red', 'light magenta', 'yellow', 'white']


def vga_attr(fg, bg=BLACK):
    """The VGA attribute byte for foreground fg on background bg."""
    return (bg << 4) | fg


DEFAULT_ATTR = vga_attr(LIGHT_GREY)      # 0x07, ordinary console text
PROMPT_ATTR = vga_attr(LIGHT_GREEN)      # 0x0A, the "kv> " prompt


def scaled(seconds):
    """seconds times KV_TIMEOUT_SCALE (default 1), for slow hosts."""
    return seconds * float(os.environ.get('KV_TIMEOUT_SCALE', '1'))


# ---------------------------------------------------------------------------
# What to boot (paths set by Meson in tests/qemu/meson.build)

def _env_path(name, what):
    path = os.environ.get(name)
    if not path:
        raise RuntimeError('%s is not set (the %s): run the tests with meson test, or '
                           'with tests/qemu/run.py --build BUILDDIR' % (name, what))
    if not os.path.exists(path):
        raise FileNotFoundError('%s=%s does not exist (build it first)' % (name, path))
    return path


def kernel_path():
    """The kernel ELF (KV_KERNEL)."""
    return _env_path('KV_KERNEL', 'kernel ELF')


def iso_path():
    """The default GRUB ISO (KV_ISO)."""
    return _env_path('KV_ISO', 'GRUB ISO')


_iso_cache = {}
_iso_lock = threading.Lock()
_iso_dir = None


def make_iso(cmdline):
    """A GRUB ISO of KV_KERNEL that boots with this kernel command line.

    Built with KV_MKISO once per command line and process (a second or
    two), in a temporary directory removed when the process ends."""
    global _iso_dir
    with _iso_lock:
        if cmdline in _iso_cache:
            return _iso_cache[cmdline]
        mkiso = _env_path('KV_MKISO', 'tools/mkiso.sh')
        if _iso_dir is None:
            _iso_dir = tempfile.mkdtemp(prefix='kvq-iso-')
            atexit.register(shutil.rmtree, _iso_dir, True)
        out = os.path.join(_iso_dir, 'kernel-%d.iso' % len(_iso_cache))
        proc = subprocess.run([mkiso, kernel_path(), out, cmdline],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=scaled(120))
        if proc.returncode != 0:
            raise RuntimeError('%s failed (status %d):\n%s%s' % (
                mkiso, proc.returncode, proc.stdout, proc.stderr))
        _iso_cache[cmdline] = out
        return out


# ---------------------------------------------------------------------------
# Errors

class MachineError(AssertionError):
    """A failure the harness found; the message includes the machine's dump.

    An AssertionError, so that unittest counts it as a failure."""
    has_dump = True


class WaitTimeout(MachineError):
    """What a wait_* call waited for did not come in time."""


class MachineDied(MachineError):
    """QEMU exited, or was killed at the hard timeout, unexpectedly."""


class UnexpectedReset(MachineError):
    """The guest reset (reboot, triple fault) and no reset was expected."""


class MachineGone(MachineError):
    """QEMU has exited as the test expected (wait_exit, expect_reset), so
    there is no machine left to talk to."""


class QMPError(RuntimeError):
    """A QMP command returned an error."""


# ---------------------------------------------------------------------------
# The screen

class Screen:
    """One snapshot of the VGA text screen: 25 rows of 80 {char, attr} cells.

    lines: the 25 rows as 80-character strings (code page 437 decoded; NUL
    cells read as spaces).  text: the rows with trailing spaces removed,
    joined with newlines (what search() and wait_screen() match against)."""

    def __init__(self, data):
        if len(data) != ROWS * COLS * 2:
            raise ValueError('a screen is %d bytes, not %d' % (ROWS * COLS * 2, len(data)))
        self.raw = bytes(data)
        chars = bytes(b if b else 0x20 for b in self.raw[0::2])
        text = chars.decode('cp437')
        self.lines = [text[r * COLS:(r + 1) * COLS] for r in range(ROWS)]
        self._attrs = self.raw[1::2]
        self.text = '\n'.join(line.rstrip() for line in self.lines)

    def char(self, row, col):
        """The character at (row, col)."""
        return self.lines[row][col]

    def attr(self, row, col):
        """The attribute byte at (row, col): background << 4 | foreground."""
        return self._attrs[row * COLS + col]

    def fg(self, row, col):
        """The foreground colour (0-15) at (row, col)."""
        return self.attr(row, col) & 0x0F

    def bg(self, row, col):
        """The background colour (0-15) at (row, col)."""
        return self.attr(row, col) >> 4

    def attrs(self, row, col=0, length=None):
        """The set of attributes used by a run of cells in one row."""
        end = COLS if length is None else col + length
        return {self.attr(row, c) for c in range(col, end)}

    def find(self, text, start_row=0):
        """(row, col) of the first occurrence of text within one row, or None."""
        for r in range(start_row, ROWS):
            c = self.lines[r].find(text)
            if c >= 0:
                return (r, c)
        return None

    def find_all(self, text):
        """Every (row, col) where text occurs within a row."""
        found = []
        for r, line in enumerate(self.lines):
            c = line.find(text)
            while c >= 0:
                found.append((r, c))
                c = line.find(text, c + 1)
        return found

    def __contains__(self, text):
        return text in self.text

    def search(self, pattern, flags=re.M):
        """re.search over self.text (multi-line mode by default)."""
        return re.search(pattern, self.text, flags)

    def row(self, row):
        """One row with its trailing spaces removed."""
        return self.lines[row].rstrip()

    def last_row(self):
        """Index of the last row that is not blank, or -1 on a blank screen."""
        for r in range(ROWS - 1, -1, -1):
            if self.lines[r].strip():
                return r
        return -1

    def at_prompt(self):
        """True when the last non-blank row is an empty prompt ("kv> ", drawn
        in the prompt colour): the shell is waiting for a command."""
        r = self.last_row()
        return (r >= 0 and self.row(r) == PROMPT.rstrip()
                and self.attr(r, 0) == PROMPT_ATTR)

    def __str__(self):
        bar = '    +' + '-' * COLS + '+'
        out = [bar]
        for r, line in enumerate(self.lines):
            shown = ''.join(ch if ch.isprintable() else '?' for ch in line)
            out.append('%3d |%s|' % (r, shown))
        out.append(bar)
        return '\n'.join(out)

    def describe_attrs(self):
        """The screen's attributes as hex digits, two per cell, one row a line
        (for dumps of colour problems)."""
        return '\n'.join('%3d %s' % (r, ''.join('%02x' % self.attr(r, c) for c in range(COLS)))
                         for r in range(ROWS))


# ---------------------------------------------------------------------------
# Keys

# Characters typed without Shift, and the key that gives them.
_PLAIN_KEYS = {' ': 'spc', '\n': 'ret', '\t': 'tab', '-': 'minus', '=': 'equal',
               '[': 'bracket_left', ']': 'bracket_right', ';': 'semicolon',
               "'": 'apostrophe', '`': 'grave_accent', '\\': 'backslash',
               ',': 'comma', '.': 'dot', '/': 'slash'}
# Characters typed with Shift on a US keyboard, and the key under them.
_SHIFTED_KEYS = {'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6',
                 '&': '7', '*': '8', '(': '9', ')': '0', '_': 'minus',
                 '+': 'equal', '{': 'bracket_left', '}': 'bracket_right',
                 ':': 'semicolon', '"': 'apostrophe', '~': 'grave_accent',
                 '|': 'backslash', '<': 'comma', '>': 'dot', '?': 'slash'}
# Friendly names for key(); anything else is passed to QEMU as a qcode.
_KEY_ALIASES = {'enter': 'ret', 'return': 'ret', 'space': 'spc', 'escape': 'esc',
                'del': 'delete', 'ins': 'insert', 'pageup': 'pgup', 'pagedown': 'pgdn',
                'bksp': 'backspace', 'capslock': 'caps_lock', 'caps': 'caps_lock',
                'control': 'ctrl', 'lctrl': 'ctrl', 'rctrl': 'ctrl_r',
                'lshift': 'shift', 'rshift': 'shift_r', 'lalt': 'alt', 'ralt': 'alt_r'}


def keys_for_char(ch):
    """The qcodes pressed together to type one character (US layout)."""
    if 'a' <= ch <= 'z' or '0' <= ch <= '9':
        return [ch]
    if 'A' <= ch <= 'Z':
        return ['shift', ch.lower()]
    if ch in _PLAIN_KEYS:
        return [_PLAIN_KEYS[ch]]
    if ch in _SHIFTED_KEYS:
        return ['shift', _SHIFTED_KEYS[ch]]
    raise ValueError('no key types %r on a US keyboard' % ch)


# Keys whose scancode (set 1) is one byte; the others have an E0 prefix.
_ONE_BYTE_KEYS = set('abcdefghijklmnopqrstuvwxyz0123456789') | {
    'esc', 'minus', 'equal', 'backspace', 'tab', 'bracket_left', 'bracket_right', 'ret',
    'semicolon', 'apostrophe', 'grave_accent', 'backslash', 'comma', 'dot', 'slash',
    'spc', 'caps_lock', 'shift', 'shift_r', 'ctrl', 'alt', 'asterisk', 'num_lock',
    'scroll_lock', 'kp_decimal', 'kp_add', 'kp_subtract', 'kp_multiply', 'less'} | {
    'f%d' % n for n in range(1, 13)} | {'kp_%d' % n for n in range(10)}


def _scancode_bytes(qcode):
    """Bytes the PS/2 keyboard queues for one press and release of a key (an
    upper bound): 1 per event, 2 with the E0 prefix; Pause sends 6 bytes, and
    PrtSc at most 4 each way."""
    if qcode in _ONE_BYTE_KEYS:
        return 2
    return {'pause': 6, 'print': 8, 'sysrq': 8}.get(qcode, 4)


def keys_for_combo(combo):
    """'ctrl-c' -> ['ctrl', 'c'];  'shift-f5' -> ['shift', 'f5'];  'up' -> ['up'].

    Parts are separated by '-' (a lone '-' is the minus key); each part is a
    QEMU qcode, an alias (enter, space, escape, del, pageup, capslock...),
    or a single character (typed as keys_for_char types it)."""
    if combo == '-':
        return ['minus']
    parts = combo.split('-') if len(combo) > 1 else [combo]
    keys = []
    for part in parts:
        if part == '':
            part = '-'
        if len(part) == 1:
            keys.extend(k for k in keys_for_char(part) if k not in keys)
            continue
        name = _KEY_ALIASES.get(part.lower(), part.lower())
        if name not in keys:
            keys.append(name)
    return keys


# ---------------------------------------------------------------------------
# QMP

class _QMP:
    """A QMP connection: commands with replies, and a list of events."""

    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        self.file = sock.makefile('rb')
        self.lock = threading.Lock()          # one command in flight at a time
        self.cond = threading.Condition()
        self.replies = {}
        self.events = []                      # (monotonic time, event dict)
        self.closed = False
        self.shutdown_at = None               # when the SHUTDOWN event came
        self.next_id = 1
        self.on_event = None
        greeting = self._read()
        if greeting is None or 'QMP' not in greeting:
            raise RuntimeError('no QMP greeting: %r' % (greeting,))
        self.thread = threading.Thread(target=self._reader, name='kvq-qmp', daemon=True)
        self.thread.start()
        self.command('qmp_capabilities')

    def _read(self):
        line = self.file.readline()
        if not line:
            return None
        self.log.write(b'<- ' + line.rstrip(b'\r\n') + b'\n')
        self.log.flush()
        return json.loads(line)

    def _reader(self):
        try:
            while True:
                msg = self._read()
                if msg is None:
                    break
                with self.cond:
                    if 'event' in msg:
                        self.events.append((time.monotonic(), msg))
                        if msg['event'] == 'SHUTDOWN':
                            self.shutdown_at = time.monotonic()
                        if self.on_event:
                            self.on_event(msg)
                    elif 'id' in msg:
                        self.replies[msg['id']] = msg
                    self.cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def command(self, name, timeout=10.0, **args):
        """Runs one command and returns its 'return' value; raises QMPError
        on an error reply and EOFError if QEMU has gone."""
        with self.lock:
            cid = self.next_id
            self.next_id += 1
            msg = {'execute': name, 'id': cid}
            if args:
                msg['arguments'] = args
            data = json.dumps(msg).encode()
            self.log.write(b'-> ' + data + b'\n')
            self.log.flush()
            try:
                self.sock.sendall(data + b'\n')
            except OSError as e:
                raise EOFError('QMP connection lost: %s' % e)
            deadline = time.monotonic() + timeout
            with self.cond:
                while cid not in self.replies:
                    left = deadline - time.monotonic()
                    if self.closed:
                        raise EOFError('QEMU closed QMP before answering %s' % name)
                    if self.shutdown_at is not None:
                        # A command racing with shutdown may never be answered.
                        left = min(left, self.shutdown_at + 1.0 - time.monotonic())
                        if left <= 0:
                            raise EOFError('QEMU is shutting down; no reply to %s' % name)
                    if left <= 0:
                        raise TimeoutError('no QMP reply to %s in %.1f s' % (name, timeout))
                    self.cond.wait(min(left, 0.1))
                reply = self.replies.pop(cid)
        if 'error' in reply:
            raise QMPError('%s: %s' % (name, reply['error'].get('desc', reply['error'])))
        return reply.get('return')

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)


# ---------------------------------------------------------------------------
# Serial port

class _Serial:
    """The guest's COM1 on a QEMU pipe chardev: QEMU writes the guest's
    output to DIR/serial.out and reads its input from DIR/serial.in.  A
    reader thread appends the output to a buffer (and to serial.log).

    Both FIFOs are opened read-write, so that opening never blocks and QEMU
    closing its end never looks like the end of the data."""

    def __init__(self, base, log):
        os.mkfifo(base + '.in')
        os.mkfifo(base + '.out')
        self.wfd = os.open(base + '.in', os.O_RDWR | os.O_NONBLOCK)
        self.rfd = os.open(base + '.out', os.O_RDWR | os.O_NONBLOCK)
        self.log = log
        self.data = bytearray()
        self.cond = threading.Condition()
        self.rx_lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._reader, name='kvq-serial', daemon=True)
        self.thread.start()

    def pull(self):
        """Takes in whatever the FIFO holds now."""
        with self.rx_lock:
            if self.rfd is None:
                return
            got = False
            while True:
                try:
                    chunk = os.read(self.rfd, 65536)
                except (BlockingIOError, InterruptedError):
                    break
                if not chunk:
                    break
                got = True
                self.log.write(chunk)
                with self.cond:
                    self.data += chunk
                    self.cond.notify_all()
            if got:
                self.log.flush()

    def _reader(self):
        while not self.stop:
            try:
                ready, _, _ = select.select([self.rfd], [], [], 0.05)
            except (OSError, ValueError, TypeError):
                break
            if ready:
                self.pull()

    def write(self, data):
        """Puts data into the FIFO (QEMU hands it to the UART as it has room)."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.wfd, view):]
            except BlockingIOError:
                select.select([], [self.wfd], [], 0.05)

    def unread_input(self):
        """Bytes written that QEMU has not taken from the FIFO yet."""
        buf = fcntl.ioctl(self.wfd, termios.FIONREAD, struct.pack('i', 0))
        return struct.unpack('i', buf)[0]

    def text(self):
        """Everything received so far, CR LF turned into LF."""
        self.pull()
        with self.cond:
            raw = bytes(self.data)
        return raw.decode('latin-1').replace('\r\n', '\n')

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.pull()
        with self.rx_lock:
            os.close(self.rfd)
            os.close(self.wfd)
            self.rfd = None


# ---------------------------------------------------------------------------
# The machine

_live = set()          # started machines not closed yet


def _close_live_machines():
    for m in list(_live):
        m.close()


atexit.register(_close_live_machines)


class Machine:
    """One QEMU running Kernel-V, headless.

    boot='kernel': -kernel KV_KERNEL -append cmdline (fast).
    boot='iso':    -cdrom KV_ISO, or with a cmdline an ISO built for it
                   (make_iso), so that GRUB boots the kernel.
    mem:           -m, e.g. '16M', '1G'.    machine: -machine, e.g. 'q35'.
    timeout:       hard limit on the machine's life in seconds (scaled by
                   KV_TIMEOUT_SCALE); past it QEMU is killed and every later
                   call fails.
    expect_reset:  a guest reset is what the test wants (see expect_reset).
    name:          for dumps.   extra_args: more QEMU arguments.
    workdir:       where to make the machine's directory (default: a new
                   temporary directory).

    start() boots it (paused until serial and QMP are connected); close()
    stops QEMU and removes the directory.  Also a context manager."""

    _count = 0
    _count_lock = threading.Lock()

    def __init__(self, boot='kernel', cmdline='', mem='128M', machine=None, timeout=60,
                 expect_reset=False, name='machine', workdir=None, extra_args=()):
        if boot not in ('kernel', 'iso'):
            raise ValueError("boot is 'kernel' or 'iso', not %r" % (boot,))
        self.boot_kind = boot
        self.cmdline = cmdline
        self.mem = mem
        self.machine = machine
        self.timeout = scaled(timeout)
        self.name = name
        self.extra_args = list(extra_args)
        self.argv = None
        self.proc = None
        self._expect_reset = expect_reset
        self._expect_exit = False
        self._qmp = None
        self._serial = None
        self._files = []
        self._watchdog = None
        self._timed_out = False
        self._killed_in_shutdown = False
        self._reset_seen = False
        self._started_at = None
        self._last_screen = None
        self._last_screen_at = None
        self._dumped = False
        self._closed = False
        with Machine._count_lock:
            Machine._count += 1
            n = Machine._count
        self._tmp = None if workdir else tempfile.mkdtemp(prefix='kvq-')
        self.dir = os.path.join(workdir or self._tmp, 'm%d' % n)
        os.makedirs(self.dir)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- life cycle ---------------------------------------------------------

    def _media_args(self):
        if self.boot_kind == 'kernel':
            return ['-kernel', kernel_path(), '-append', self.cmdline]
        iso = make_iso(self.cmdline) if self.cmdline else iso_path()
        return ['-cdrom', iso, '-boot', 'd']

    def _log_file(self, name):
        f = open(os.path.join(self.dir, name), 'wb')
        self._files.append(f)
        return f

    def start(self):
        """Starts QEMU paused, connects to serial and QMP, then lets it run."""
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(qmp_path)
        listener.listen(1)
        listener.settimeout(0.05)
        self._serial = _Serial(os.path.join(self.dir, 'serial'), self._log_file('serial.log'))
        argv = [os.environ.get('KV_QEMU', 'qemu-system-i386'),
                '-display', 'none', '-no-reboot', '-S', '-m', self.mem]
        if self.machine:
            argv += ['-machine', self.machine]
        argv += self._media_args()
        argv += ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
                 '-nic', 'none', '-monitor', 'none', '-parallel', 'none',
                 '-chardev', 'pipe,id=kvser,path=' + os.path.join(self.dir, 'serial'),
                 '-serial', 'chardev:kvser',
                 '-chardev', 'socket,id=kvqmp,path=' + qmp_path,
                 '-mon', 'chardev=kvqmp,mode=control',
                 '-d', 'guest_errors,cpu_reset', '-D', os.path.join(self.dir, 'debug.log')]
        argv += self.extra_args
        self.argv = argv
        with open(os.path.join(self.dir, 'command'), 'w') as f:
            f.write(' '.join(argv) + '\n')
        self._started_at = time.monotonic()
        # setpriv: QEMU is killed if this process dies first (no orphans
        # left running when a test runner is killed).
        wrapper = ['setpriv', '--pdeathsig', 'KILL'] if shutil.which('setpriv') else []
        self.proc = subprocess.Popen(wrapper + argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log_file('qemu.log'),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _live.add(self)
        self._watchdog = threading.Timer(self.timeout, self._on_hard_timeout)
        self._watchdog.daemon = True
        self._watchdog.start()
        try:
            sock = self._accept(listener)
        finally:
            listener.close()
        self._qmp = _QMP(sock, self._log_file('qmp.log'))
        self._qmp.on_event = self._on_event
        self._qmp.command('cont')
        return self

    def _accept(self, listener):
        deadline = time.monotonic() + scaled(10)
        while True:
            try:
                return listener.accept()[0]
            except socket.timeout:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                if self.proc.poll() is None:
                    self.proc.kill()
                self.proc.wait()
                raise MachineDied('QEMU did not start (%s):\n%s\ncommand: %s' % (
                    self._exit_description(), self._qemu_output(), ' '.join(self.argv)))

    def _qemu_output(self):
        try:
            with open(os.path.join(self.dir, 'qemu.log'), 'rb') as f:
                return f.read().decode(errors='replace')
        except OSError:
            return ''

    def _on_event(self, msg):
        # Runs on the QMP reader thread.
        if msg['event'] == 'RESET' or (msg['event'] == 'SHUTDOWN' and
                                       msg.get('data', {}).get('reason') == 'guest-reset'):
            self._reset_seen = True

    def _on_hard_timeout(self):
        if self.proc.poll() is None:
            self._timed_out = True
            self.proc.kill()

    def _end_stuck_shutdown(self, grace):
        """QEMU 7.2 can deadlock in monitor_cleanup() when a QMP command is in
        flight as the guest shuts it down (seen with -no-reboot resets): the
        SHUTDOWN event comes, the process never exits.  After `grace` seconds
        past that event, kill it; it counts as the exit it would have made."""
        at = self._qmp.shutdown_at if self._qmp else None
        if at is None or self.proc.poll() is not None:
            return
        if time.monotonic() - at >= grace:
            self.proc.kill()
            self.proc.wait()
            self._killed_in_shutdown = True
            sys.stderr.write('kvqemu: %s: QEMU hung after its SHUTDOWN event (a QEMU 7.2 '
                             'deadlock with a QMP command in flight); killed it\n' % self.name)

    def _status(self):
        """QEMU's exit status, None while it runs (0 if it had to be killed
        in a stuck shutdown after a guest reset: what it would have said)."""
        rc = self.proc.poll()
        if rc is not None and self._killed_in_shutdown:
            return 0
        return rc

    def expect_reset(self):
        """Declares that the guest is about to reset (the reboot command):
        the reset, and QEMU's exit with status 0 that follows under
        -no-reboot, are then not failures."""
        self._expect_reset = True

    def is_running(self):
        """True while the QEMU process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def _check(self):
        """Raises if the machine is in no state to go on with the test."""
        if self._timed_out:
            raise MachineDied(self._msg('hard timeout: the machine ran for more than %.0f s '
                                        'and was killed' % self.timeout))
        if self._reset_seen and not self._expect_reset:
            raise UnexpectedReset(self._msg('the guest reset (reboot or triple fault); '
                                            'QMP events: %s' % self._event_names()))
        rc = self._status()
        if rc is not None and not self._expect_exit and not (self._expect_reset and rc == 0):
            raise MachineDied(self._msg(self._exit_description()))

    def _exit_description(self):
        rc = self.proc.returncode
        if rc is None:
            return 'QEMU is running'
        if self._killed_in_shutdown:
            return ('QEMU hung shutting down after a SHUTDOWN event and was killed; QMP '
                    'events: %s' % self._event_names())
        if rc == 0:
            return ('QEMU exited with status 0: under -no-reboot, a guest reset '
                    '(reboot or triple fault); QMP events: %s' % self._event_names())
        if rc > 0 and rc & 1 and rc != 1:
            return ('QEMU exited with status %d: the guest wrote 0x%x to isa-debug-exit'
                    % (rc, rc >> 1))
        if rc < 0:
            return 'QEMU was killed by signal %d' % -rc
        return 'QEMU exited with status %d:\n%s' % (rc, self._qemu_output())

    def _event_names(self):
        names = []
        for e in self.events():
            reason = e.get('data', {}).get('reason')
            names.append(e['event'] + ('(%s)' % reason if reason else ''))
        return ', '.join(names) or 'none'

    def wait_exit(self, timeout=10):
        """Waits for QEMU to exit and returns its status: (v << 1) | 1 when
        the guest wrote v to isa-debug-exit (33: self-tests passed), 0 for a
        guest reset under -no-reboot (a failure unless expect_reset())."""
        self._expect_exit = True
        deadline = time.monotonic() + scaled(timeout)
        while self.proc.poll() is None:
            self._end_stuck_shutdown(scaled(2))
            if time.monotonic() > deadline:
                raise WaitTimeout(self._msg('QEMU did not exit within %.1f s'
                                            % scaled(timeout)))
            time.sleep(0.01)
        self._serial.pull()
        self._qmp.thread.join(2)          # the last events, up to QEMU's exit
        if self._timed_out:
            self._check()
        rc = self._status()
        if (rc == 0 or self._reset_seen) and not self._expect_reset:
            raise UnexpectedReset(self._msg(self._exit_description()))
        return rc

    def events(self, name=None):
        """The QMP events so far (dicts like {'event': 'SHUTDOWN', 'data':
        {...}}), all of them or only those called name."""
        if self._qmp is None:
            return []
        with self._qmp.cond:
            evs = [e for _, e in self._qmp.events]
        return [e for e in evs if name is None or e['event'] == name]

    def qmp(self, command, timeout=10, **args):
        """Runs a QMP command and returns its result.  Arguments are keywords;
        names with a '-' go through a dict: qmp('human-monitor-command',
        **{'command-line': 'info registers'})."""
        self._check()
        if self.proc.poll() is not None:
            raise MachineGone('%s: QEMU has exited; no QMP %s' % (self.name, command))
        try:
            return self._qmp.command(command, timeout=scaled(timeout), **args)
        except (EOFError, TimeoutError) as e:
            failure = e
        try:
            self.proc.wait(scaled(2))
        except subprocess.TimeoutExpired:
            self._end_stuck_shutdown(0)
        self._check()
        if self.proc.poll() is not None:
            raise MachineGone('%s: QEMU exited during QMP %s' % (self.name, command))
        raise MachineError(self._msg('QMP %s failed: %s' % (command, failure)))

    def _port_byte(self, port):
        """Reads an I/O port through the monitor (only side-effect-free ones)."""
        out = self.qmp('human-monitor-command', **{'command-line': 'i /b 0x%x' % port})
        m = re.search(r'=\s*(0x[0-9a-fA-F]+)', out)
        if not m:
            raise MachineError(self._msg('cannot read port 0x%x: %r' % (port, out)))
        return int(m.group(1), 16)

    def assert_stays_up(self, seconds=1.0):
        """Fails unless, for the next `seconds`, QEMU keeps running: no exit,
        no reset, and the VM still in the 'running' state at the end."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check()
            time.sleep(0.02)
        status = self.qmp('query-status')['status']
        if status != 'running':
            raise MachineError(self._msg('the VM is %r, not running' % status))

    def close(self):
        """Stops QEMU if it still runs, the reader threads and the watchdog,
        and removes the machine's directory (kept with KV_KEEP=1, or when the
        machine was dumped because something failed)."""
        if self._closed:
            return
        self._closed = True
        if self._watchdog:
            self._watchdog.cancel()
        _live.discard(self)
        if self.proc and self.proc.poll() is None:
            try:
                self._qmp.command('quit', timeout=2)
            except Exception:
                pass
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for part in (self._qmp, self._serial):
            if part:
                part.close()
        for f in self._files:
            f.close()
        if os.environ.get('KV_KEEP') == '1' or self._dumped:
            sys.stderr.write('kvqemu: %s: files kept in %s\n' % (self.name, self.dir))
        else:
            shutil.rmtree(self._tmp or self.dir, ignore_errors=True)

    # -- keyboard -----------------------------------------------------------

    def _keyboard_drained(self, timeout=5):
        """Waits until the guest has read every byte the keyboard sent."""
        deadline = time.monotonic() + scaled(timeout)
        while self._port_byte(I8042_STATUS) & 1:
            if time.monotonic() > deadline:
                raise MachineError(self._msg(
                    'the guest has not read the keyboard for %.1f s (interrupts off? CPU '
                    'halted?)' % scaled(timeout)))

    def _press(self, combos, wait):
        """Presses and releases each combination (a list of qcodes), in order,
        in batches that fit the PS/2 queue (see the module docstring)."""
        def event(k, down):
            return {'type': 'key', 'data': {'down': down, 'key': {'type': 'qcode', 'data': k}}}
        def send(batch, last=False):
            self.qmp('input-send-event', events=batch)
            # Before an expected reset, no QMP command may be in flight when
            # it comes (see _end_stuck_shutdown): skip the last wait.
            if wait and not (last and self._expect_reset):
                self._keyboard_drained()
        batch, size = [], 0
        try:
            for keys in combos:
                cost = sum(_scancode_bytes(k) for k in keys)
                if batch and size + cost > PS2_QUEUE_BYTES:
                    send(batch)
                    batch, size = [], 0
                batch += [event(k, True) for k in keys]
                batch += [event(k, False) for k in reversed(keys)]
                size += cost
            if batch:
                send(batch, last=True)
        except MachineGone:
            pass  # the keys made QEMU exit, as the test expected (e.g. reboot)

    def type(self, text, wait=True):
        """Types text on the PS/2 keyboard, US layout: Shift for capitals and
        shifted symbols, '\\n' is Enter.  Returns once the guest has read every
        key.  wait=False sends without waiting for the guest (keys it does not
        read are then lost, as on a real keyboard)."""
        self._press([keys_for_char(ch) for ch in text], wait)

    def key(self, *combos, wait=True):
        """Presses keys or combinations, one after another: key('up'),
        key('ctrl-c'), key('shift-f5'), key('home', 'delete').  Names are
        QEMU qcodes (f1..f12, up, down, left, right, home, end, pgup, pgdn,
        insert, delete, esc, ret, backspace, tab, caps_lock, spc, ...),
        aliases (enter, space, escape, del, pageup, pagedown, capslock) or
        single characters; see keys_for_combo()."""
        self._press([keys_for_combo(c) for c in combos], wait)

    # -- serial port --------------------------------------------------------

    def serial_bytes(self, data, wait=True):
        """Writes raw bytes to COM1.  With wait, they go out in 16-byte pieces
        (the UART's FIFO), each read by the guest before the next is sent,
        like a terminal at line speed; returns when the guest has read all.
        wait=False writes them all at once (a paste; the kernel's 127-entry
        input queue then loses what does not fit)."""
        self._check()
        data = bytes(data)
        if not wait:
            self._serial.write(data)
            return
        try:
            for at in range(0, len(data), SERIAL_PIECE):
                self._serial.write(data[at:at + SERIAL_PIECE])
                if self._expect_reset and at + SERIAL_PIECE >= len(data):
                    break               # no QMP in flight when the reset comes
                deadline = time.monotonic() + scaled(5)
                while self._serial.unread_input() or self._port_byte(COM1_LSR) & 1:
                    if time.monotonic() > deadline:
                        raise MachineError(self._msg(
                            'the guest has not read the serial port for %.1f s' % scaled(5)))
                    time.sleep(0.001)
        except MachineGone:
            pass  # the input made QEMU exit, as the test expected

    def serial_line(self, text, wait=True):
        """Writes text and a carriage return (Enter) to COM1."""
        self.serial_bytes(text.encode('latin-1') + b'\r', wait)

    def serial_text(self):
        """The serial log so far, CR LF turned into LF."""
        return self._serial.text()

    def serial_mark(self):
        """The current end of serial_text(), for wait_serial(since=...)."""
        return len(self.serial_text())

    def wait_serial(self, pattern, timeout=10, since=0):
        """Waits until regex pattern (multi-line mode) matches in
        serial_text()[since:] and returns the re.Match (its positions count
        from since).  Raises WaitTimeout, with the dump, after timeout s."""
        rx = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + scaled(timeout)
        while True:
            m = rx.search(self.serial_text()[since:])
            if m:
                return m
            if time.monotonic() > deadline:
                raise WaitTimeout(self._msg('the serial log never matched %r within %.1f s'
                                            % (rx.pattern, scaled(timeout))))
            self._check()
            with self._serial.cond:
                self._serial.cond.wait(0.05)

    # -- screen -------------------------------------------------------------

    def screen(self):
        """A Screen: the VGA text memory as it is now."""
        s = Screen(self._read_vga(self.qmp))
        self._last_screen = s
        self._last_screen_at = time.monotonic()
        return s

    def _read_vga(self, run):
        path = os.path.join(self.dir, 'vga.bin')
        run('pmemsave', val=VGA_TEXT, size=ROWS * COLS * 2, filename=path)
        with open(path, 'rb') as f:
            return f.read()

    def wait_screen(self, what, timeout=10):
        """Polls the screen until `what` is on it and returns that Screen.

        what: a regex, searched in Screen.text in multi-line mode (so ^ and $
        are row ends), or a predicate taking a Screen.  Raises WaitTimeout,
        with the dump, after timeout seconds."""
        if callable(what):
            test, desc = what, getattr(what, '__name__', 'the predicate')
        else:
            rx = re.compile(what, re.M) if isinstance(what, str) else what
            test, desc = (lambda s: rx.search(s.text)), repr(rx.pattern)
        deadline = time.monotonic() + scaled(timeout)
        settled = 0
        while True:
            s = self.screen()
            if test(s):
                # The kernel writes the screen cell by cell, and a read can
                # catch a redraw half done: return a screen that a second
                # read shows again (or, on a screen that never stops moving,
                # the third that still passes).
                again = self.screen()
                if again.raw == s.raw or settled >= 2:
                    return again if test(again) else s
                settled += 1
                continue
            if time.monotonic() > deadline:
                raise WaitTimeout(self._msg('the screen never showed %s within %.1f s'
                                            % (desc, scaled(timeout))))
            time.sleep(0.02)

    # -- shell --------------------------------------------------------------

    def wait_prompt(self, timeout=10):
        """Waits until the shell waits for a command (Screen.at_prompt) and
        returns the Screen."""
        return self.wait_screen(Screen.at_prompt, timeout)

    def run_command(self, line, via='keyboard', timeout=10):
        """Runs one shell command as a person would and returns its output.

        Waits for an empty prompt; types line and Enter on the keyboard (or,
        via='serial', sends them to COM1); checks that the kernel got exactly
        that line (its serial transcript "kv> line"); waits for the next
        prompt; returns what the command printed, from the serial log (a str
        with '\\n' line ends; '' for none)."""
        self.wait_prompt(timeout)
        mark = self.serial_mark()
        if via == 'keyboard':
            self.type(line)
            self.key('ret')
        elif via == 'serial':
            self.serial_line(line)
        else:
            raise ValueError("via is 'keyboard' or 'serial', not %r" % (via,))
        try:
            echo = self.wait_serial(r'^' + re.escape(PROMPT + line) + r'\n', timeout,
                                    since=mark)
        except WaitTimeout as e:
            got = re.findall('^' + re.escape(PROMPT) + '.*$', self.serial_text()[mark:], re.M)
            raise WaitTimeout('the kernel did not get the line %r; its transcript shows %r\n%s'
                              % (line, got, e)) from None
        self.wait_prompt(timeout)
        return self.serial_text()[mark + echo.end():]

    # -- diagnostics --------------------------------------------------------

    def _msg(self, what):
        return '%s: %s\n%s' % (self.name, what, self.dump())

    def dump(self, serial_lines=40):
        """A report for a person: the machine's state, its screen (now, or as
        last read if QEMU is gone) and the tail of the serial log."""
        self._dumped = True
        out = ['=' * 24 + ' machine %s ' % self.name + '=' * 24]
        out.append('boot: %s  cmdline: %r  -m %s%s' % (
            self.boot_kind, self.cmdline, self.mem,
            '  -machine ' + self.machine if self.machine else ''))
        out.append('files: %s' % self.dir)
        if self.proc is None:
            out.append('state: not started')
            return '\n'.join(out)
        if self.proc.poll() is None:
            out.append('state: running for %.1f s' % (time.monotonic() - self._started_at))
        else:
            out.append('state: ' + self._exit_description())
        if self._timed_out:
            out.append('hard timeout (%.0f s) reached: QEMU was killed' % self.timeout)
        out.append('QMP events: ' + self._event_names())
        screen, note = None, ''
        if self.is_running() and self._qmp and not self._qmp.closed:
            try:
                screen = Screen(self._read_vga(
                    lambda cmd, **a: self._qmp.command(cmd, timeout=2, **a)))
                note = 'screen now:'
            except Exception as e:
                note = 'screen unreadable now (%s); ' % e
        if screen is None:
            if self._last_screen is None:
                note += 'screen never read'
            else:
                screen = self._last_screen
                note += 'screen as last read, %.1f s before this dump:' % (
                    time.monotonic() - self._last_screen_at)
        out.append(note)
        if screen is not None:
            out.append(str(screen))
        if self._serial:
            lines = self.serial_text().split('\n')
            shown = lines[-serial_lines:]
            out.append('serial log, last %d of %d lines:' % (len(shown), len(lines)))
            out.extend('  | ' + line for line in shown)
        out.append('=' * 72)
        return '\n'.join(out)


# ---------------------------------------------------------------------------
# unittest glue

class KernelTestCase(unittest.TestCase):
    """A TestCase that boots machines and closes them after the test."""

    def boot(self, boot='kernel', cmdline='', wait_prompt=True, timeout=60, **kwargs):
        """Starts a Machine (arguments as Machine's) that is closed at the end
        of the test.  With wait_prompt, waits for the shell's first prompt."""
        machines = self.__dict__.setdefault('_kv_machines', [])
        name = '%s#%d' % (self.id().split('.', 1)[-1], len(machines) + 1)
        m = Machine(boot=boot, cmdline=cmdline, timeout=timeout, name=name, **kwargs)
        machines.append(m)
        self.addCleanup(m.close)
        m.start()
        if wait_prompt:
            m.wait_prompt(timeout=20)
        return m

    def dump_machines(self):
        """The dumps of every machine this test booted."""
        return '\n'.join(m.dump() for m in self.__dict__.get('_kv_machines', []))

    def assertAttr(self, screen, row, col, expected, msg=None):
        """Checks one cell's attribute byte, naming the colours if it differs."""
        got = screen.attr(row, col)
        if got != expected:
            def name(a):
                return '0x%02x (%s on %s)' % (a, VGA_COLOURS[a & 15], VGA_COLOURS[a >> 4])
            self.fail('%scell (%d, %d) %r is %s, expected %s\n%s' % (
                msg + ': ' if msg else '', row, col, screen.char(row, col), name(got),
                name(expected), screen))


class DumpingTestResult(unittest.TextTestResult):
    """A TextTestResult that prints the machines' dumps for a failing
    KernelTestCase, unless the failure is a MachineError (it has one).
    (Python 3.11 reports a failure before tearDown and cleanups run, so the
    machines are still there to be looked at.)"""

    def _dump(self, test, err):
        if err is None or getattr(err[0], 'has_dump', False):
            return
        dump = getattr(test, 'dump_machines', None)
        text = dump() if dump else ''
        if text:
            self.stream.write('\n%s failed; its machines:\n%s\n' % (test.id(), text))
            self.stream.flush()

    def addFailure(self, test, err):
        self._dump(test, err)
        super().addFailure(test, err)

    def addError(self, test, err):
        self._dump(test, err)
        super().addError(test, err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self._dump(test, err)
        super().addSubTest(test, subtest, err)
