"""kvqemu - drive the real Kernel-V kernel in QEMU, as a person would.

A test boots a headless QEMU, types into the PS/2 keyboard (QMP send-key)
and into the serial port, and reads back what a person would see: the VGA
text screen (80x25 cells at physical 0xB8000, read with QMP pmemsave) and
the serial log.

    from kvqemu import KernelTestCase

    class EchoTest(KernelTestCase):
        def test_echo(self):
            m = self.boot()                      # -kernel, waits for "kv> "
            out = m.run_command('echo hello')    # typed on the keyboard
            self.assertEqual(out, 'hello\\n')
            m.type('echo bye')                   # or step by step
            m.key('ret')
            s = m.wait_screen(r'^bye$')
            self.assertEqual(s.attr(*s.find('bye')), 0x07)

Machine (one QEMU; usually made by KernelTestCase.boot):
    input     type(text)  key('up'), key('ctrl-c'), key('shift-f5')
              serial_line(text)  serial_bytes(b'...')
    screen    screen() -> Screen   wait_screen(regex | predicate, timeout)
    serial    serial_text()  serial_mark()  wait_serial(regex, timeout, since)
    shell     wait_prompt()  run_command(line, via='keyboard' | 'serial')
    life      wait_exit(timeout) -> status   expect_reset()   is_running()
              assert_stays_up(seconds)   events(name)   qmp(cmd, **args)
Screen: .lines (25 strings of 80), .text, .attr(r, c), .char(r, c),
    .find(text) -> (row, col) | None, .search(regex), str() for a dump.

What counts as a failure, besides the test's own assertions:
  * the machine outlives its hard timeout (it is killed);
  * QEMU exits when the test is not waiting for an exit (wait_exit);
  * a guest reset (QMP SHUTDOWN event with reason guest-reset; with
    -no-reboot QEMU then exits with status 0), unless expect_reset() was
    called.
Harness errors (MachineError and its subclasses) carry a dump: the screen
and the tail of the serial log.  For the test's own assertions, run the
tests with run.py (or any runner using DumpingTestResult), which prints the
same dump for every machine of a failing test.

Environment: KV_KERNEL (kernel ELF), KV_ISO (GRUB ISO), KV_MKISO
(tools/mkiso.sh, for ISOs with another command line); KV_KEEP=1 keeps each
machine's directory (serial.log, qmp.log, qemu.log, debug.log; the directory
of a machine whose test failed is always kept); KV_TIMEOUT_SCALE multiplies
every timeout (slow hosts); KV_QEMU names the QEMU binary.

Keyboard pacing.  QMP send-key presses the keys, waits hold-time ms, and
releases them, waiting hold-time after each event; QEMU queues the events
behind a timer on the virtual clock and silently drops them once its queue
holds 1024 entries (about 170 keys), and the emulated PS/2 controller drops
bytes once 16 are waiting for the guest.  So keys are sent with a small
hold time, never more than KBD_MAX_BACKLOG seconds ahead of what QEMU has
delivered, and type()/key() return only when the last key has reached the
guest.  Measured: HOLD_MS = 3 types a 200-character line in about 1.3 s and
lost nothing in thousands of keys with both host cores busy.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

__all__ = [
    'Machine', 'Screen', 'KernelTestCase', 'DumpingTestResult',
    'MachineError', 'WaitTimeout', 'MachineDied', 'UnexpectedReset',
    'make_iso', 'kernel_path', 'iso_path', 'vga_attr', 'scaled',
    'PROMPT', 'PROMPT_ATTR', 'DEFAULT_ATTR', 'VGA_COLOURS',
]

# ---------------------------------------------------------------------------
# Constants about the kernel being tested

PROMPT = 'kv> '
ROWS, COLS = 25, 80
VGA_TEXT = 0xB8000

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

# Keyboard pacing (see the module docstring).
HOLD_MS = 3
KBD_MAX_BACKLOG = 0.25


def scaled(seconds):
    """seconds times KV_TIMEOUT_SCALE (default 1), for slow hosts."""
    return seconds * float(os.environ.get('KV_TIMEOUT_SCALE', '1'))


# ---------------------------------------------------------------------------
# Paths from the build (set by Meson in tests/qemu/meson.build)

def _env_path(name, what):
    path = os.environ.get(name)
    if not path:
        raise unittest.SkipTest(
            '%s is not set (the %s); run the tests with meson test or '
            'tests/qemu/run.py --build BUILDDIR' % (name, what))
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
    """A GRUB ISO of KV_KERNEL booting with this kernel command line.

    Built once per command line and process with KV_MKISO (a second or
    two), into a temporary directory removed when the process ends."""
    global _iso_dir
    with _iso_lock:
        if cmdline in _iso_cache:
            return _iso_cache[cmdline]
        mkiso = _env_path('KV_MKISO', 'tools/mkiso.sh')
        if _iso_dir is None:
            _iso_dir = tempfile.mkdtemp(prefix='kvq-iso-')
            import atexit
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
    """A harness-detected failure; the message includes the machine dump.

    It is an AssertionError so that unittest reports it as a failure."""
    has_dump = True


class WaitTimeout(MachineError):
    """What a wait_* call waited for did not appear in time."""


class MachineDied(MachineError):
    """QEMU exited (or was killed at the hard timeout) unexpectedly."""


class UnexpectedReset(MachineError):
    """The guest reset (reboot or triple fault) when no reset was expected."""


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
        return self.attr(row, col) & 0x0F

    def bg(self, row, col):
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
                    if left <= 0:
                        raise TimeoutError('no QMP reply to %s in %.1f s' % (name, timeout))
                    self.cond.wait(left)
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
    """The guest's COM1 on a unix socket: a reader thread appends everything
    to a buffer (and to serial.log); writes go straight to the socket."""

    def __init__(self, sock, log):
        self.sock = sock
        self.sock.setblocking(False)
        self.log = log
        self.data = bytearray()
        self.cond = threading.Condition()
        self.rx_lock = threading.Lock()
        self.eof = False
        self.stop = False
        self.thread = threading.Thread(target=self._reader, name='kvq-serial', daemon=True)
        self.thread.start()

    def pull(self):
        """Reads whatever the socket holds now.  False at end of file."""
        with self.rx_lock:
            got = False
            while not self.eof:
                try:
                    chunk = self.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    chunk = b''
                if not chunk:
                    with self.cond:
                        self.eof = True
                        self.cond.notify_all()
                    break
                got = True
                self.log.write(chunk)
                with self.cond:
                    self.data += chunk
                    self.cond.notify_all()
            if got:
                self.log.flush()
            return not self.eof

    def _reader(self):
        while not self.stop:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.2)
            except (OSError, ValueError):
                break
            if ready and not self.pull():
                break

    def write(self, data):
        view = memoryview(data)
        deadline = time.monotonic() + 5
        while view:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError('the serial port takes no more input')
                select.select([], [self.sock], [], 0.1)

    def text(self):
        """Everything received so far, CR LF turned into LF."""
        self.pull()
        with self.cond:
            raw = bytes(self.data)
        return raw.decode('latin-1').replace('\r\n', '\n')

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


class _PipeSerial(_Serial):
    def __init__(self, rfd, wfd, log):
        self.rfd, self.wfd = rfd, wfd
        class S:
            def fileno(s): return rfd
            def setblocking(s, x): pass
            def recv(s, n): return os.read(rfd, n)
            def send(s, b): return os.write(wfd, b)
            def close(s): os.close(rfd); os.close(wfd)
        super().__init__(S(), log)


# ---------------------------------------------------------------------------
# The machine

class Machine:
    """One QEMU running Kernel-V, headless.

    boot='kernel': -kernel KV_KERNEL -append cmdline (fast).
    boot='iso':    -cdrom KV_ISO, or an ISO built for cmdline (GRUB path).
    mem:           -m (e.g. '16M', '1G');  machine: -machine (e.g. 'q35').
    timeout:       hard limit on the machine's life, seconds (scaled by
                   KV_TIMEOUT_SCALE); past it QEMU is killed and every
                   later call fails.
    expect_reset:  a guest reset is what the test wants (see expect_reset()).
    name:          used in dumps and in the directory name.
    workdir:       parent directory for this machine's files (sockets, logs).
    extra_args:    more QEMU arguments.

    Call start() (KernelTestCase.boot does) and close() when done."""

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
        self._expect_reset = expect_reset
        self._expect_exit = False
        with Machine._count_lock:
            Machine._count += 1
            n = Machine._count
        self._own_workdir = workdir is None
        parent = workdir or tempfile.mkdtemp(prefix='kvq-')
        self.dir = os.path.join(parent, 'm%d' % n)
        os.makedirs(self.dir)
        self.proc = None
        self._qmp = None
        self._serial = None
        self._watchdog = None
        self._timed_out = False
        self._started_at = None
        self._last_screen = None
        self._last_screen_at = None
        self._kbd_free_at = 0.0
        self._reset_seen = False
        self._dumped = False
        self._closed = False
        self.argv = None

    # -- life cycle ---------------------------------------------------------

    def _media_args(self):
        if self.boot_kind == 'kernel':
            return ['-kernel', kernel_path(), '-append', self.cmdline]
        iso = make_iso(self.cmdline) if self.cmdline else iso_path()
        return ['-cdrom', iso, '-boot', 'd']

    def start(self):
        """Starts QEMU paused, connects serial and QMP, then lets it run."""
        qemu = os.environ.get('KV_QEMU', 'qemu-system-i386')
        ser_path = os.path.join(self.dir, 'serial.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        self._pipe = os.environ.get('KV_SERIAL') == 'pipe'
        if self._pipe:
            pipe_base = os.path.join(self.dir, 'serial')
            os.mkfifo(pipe_base + '.in'); os.mkfifo(pipe_base + '.out')
            self._pin = os.open(pipe_base + '.in', os.O_RDWR | os.O_NONBLOCK)
            self._pout = os.open(pipe_base + '.out', os.O_RDWR | os.O_NONBLOCK)
        listeners = []
        for path in ((qmp_path,) if self._pipe else (ser_path, qmp_path)):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            s.settimeout(0.1)
            listeners.append(s)
        argv = [qemu, '-display', 'none', '-no-reboot', '-S', '-nic', 'none',
                '-monitor', 'none', '-parallel', 'none',
                '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-m', self.mem]
        if self.machine:
            argv += ['-machine', self.machine]
        argv += self._media_args()
        argv += (['-chardev', 'pipe,id=kvser,path=' + os.path.join(self.dir, 'serial')] if self._pipe else ['-chardev', 'socket,id=kvser,path=' + ser_path]) + ['-serial', 'chardev:kvser',
                 '-chardev', 'socket,id=kvqmp,path=' + qmp_path,
                 '-mon', 'chardev=kvqmp,mode=control',
                 '-d', 'guest_errors,cpu_reset', '-D', os.path.join(self.dir, 'debug.log')]
        argv += self.extra_args
        self.argv = argv
        with open(os.path.join(self.dir, 'command'), 'w') as f:
            f.write(' '.join(argv) + '\n')
        self._qemu_out = open(os.path.join(self.dir, 'qemu.log'), 'wb')
        self._serial_log = open(os.path.join(self.dir, 'serial.log'), 'wb')
        self._qmp_log = open(os.path.join(self.dir, 'qmp.log'), 'wb')
        self._started_at = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._qemu_out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._watchdog = threading.Timer(self.timeout, self._on_hard_timeout)
        self._watchdog.daemon = True
        self._watchdog.start()
        try:
            ser_sock = None if self._pipe else self._accept(listeners[0])
            qmp_sock = self._accept(listeners[-1])
        finally:
            for s in listeners:
                s.close()
        self._serial = _PipeSerial(self._pout, self._pin, self._serial_log) if self._pipe else _Serial(ser_sock, self._serial_log)
        self._qmp = _QMP(qmp_sock, self._qmp_log)
        self._qmp.on_event = self._on_event
        self._qmp.command('cont')
        return self

    def _accept(self, listener):
        deadline = time.monotonic() + scaled(10)
        while True:
            try:
                conn, _ = listener.accept()
                return conn
            except socket.timeout:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self._qemu_out.flush()
                with open(os.path.join(self.dir, 'qemu.log'), 'rb') as f:
                    out = f.read().decode(errors='replace')
                raise MachineDied('QEMU did not start (status %s):\n%s\ncommand: %s' % (
                    self.proc.returncode, out, ' '.join(self.argv)))

    def _on_event(self, msg):
        # Runs on the QMP reader thread.
        if msg['event'] == 'RESET' or (msg['event'] == 'SHUTDOWN' and
                                       msg.get('data', {}).get('reason') == 'guest-reset'):
            self._reset_seen = True

    def _on_hard_timeout(self):
        if self.proc and self.proc.poll() is None:
            self._timed_out = True
            self.proc.kill()

    def expect_reset(self):
        """Declares that the guest is about to reset (e.g. the reboot command):
        the reset, and QEMU's exit with status 0 that follows, are not failures."""
        self._expect_reset = True

    def is_running(self):
        """True while the QEMU process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def _check(self):
        """Raises if the machine is not in a state a test can go on with."""
        if self._timed_out:
            raise MachineDied(self._msg('hard timeout: the machine ran for more than %.0f s '
                                        'and was killed' % self.timeout))
        if self._reset_seen and not self._expect_reset:
            raise UnexpectedReset(self._msg('the guest reset (reboot or triple fault); '
                                            'QMP events: %s' % self._event_names()))
        if self.proc.poll() is not None and not self._expect_exit:
            raise MachineDied(self._msg(self._exit_description()))

    def _exit_description(self):
        rc = self.proc.returncode
        if rc == 0:
            return ('QEMU exited with status 0: with -no-reboot that is a guest reset '
                    '(reboot or triple fault); QMP events: %s' % self._event_names())
        if rc is not None and rc > 0 and rc & 1:
            return ('QEMU exited with status %d: the guest wrote 0x%x to isa-debug-exit'
                    % (rc, rc >> 1))
        if rc is not None and rc < 0:
            return 'QEMU was killed by signal %d' % -rc
        return 'QEMU exited with status %s' % rc

    def _event_names(self):
        names = []
        for _, e in (self._qmp.events if self._qmp else []):
            reason = e.get('data', {}).get('reason')
            names.append(e['event'] + ('(%s)' % reason if reason else ''))
        return ', '.join(names) or 'none'

    def wait_exit(self, timeout=10):
        """Waits for QEMU to exit and returns its status: (v << 1) | 1 for a
        guest write of v to isa-debug-exit (33 = self-tests passed), 0 for a
        reset under -no-reboot (a failure unless expect_reset() was called)."""
        self._expect_exit = True
        deadline = time.monotonic() + scaled(timeout)
        while self.proc.poll() is None:
            if self._timed_out:
                break
            if time.monotonic() > deadline:
                raise WaitTimeout(self._msg('QEMU did not exit within %.1f s' % scaled(timeout)))
            time.sleep(0.01)
        self._serial.pull()
        if self._qmp:  # let the QMP reader take in the last events
            self._qmp.thread.join(1)
        if self._timed_out:
            self._check()
        rc = self.proc.returncode
        if (rc == 0 or self._reset_seen) and not self._expect_reset:
            raise UnexpectedReset(self._msg(self._exit_description()))
        return rc

    def events(self, name=None):
        """The QMP events received so far (dicts), optionally only one kind."""
        with self._qmp.cond:
            evs = [e for _, e in self._qmp.events]
        return [e for e in evs if name is None or e['event'] == name]

    def qmp(self, command, **args):
        """Runs a raw QMP command and returns its result."""
        self._check()
        try:
            return self._qmp.command(command, **args)
        except EOFError:
            self._check()
            raise

    def assert_stays_up(self, seconds=1.0):
        """Fails if, within the next `seconds`, QEMU exits, the guest resets
        or the VM stops running (e.g. a triple fault)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check()
            time.sleep(0.02)
        self._check()
        status = self.qmp('query-status')
        if status.get('status') != 'running':
            raise MachineError(self._msg('the VM is %s, not running' % status.get('status')))

    def close(self):
        """Stops QEMU (if it still runs), the reader threads and the watchdog,
        and removes the machine's directory (kept with KV_KEEP=1 or when the
        machine was dumped because its test failed)."""
        if self._closed:
            return
        self._closed = True
        if self._watchdog:
            self._watchdog.cancel()
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
        for f in (getattr(self, '_qemu_out', None), getattr(self, '_serial_log', None),
                  getattr(self, '_qmp_log', None)):
            if f:
                f.close()
        keep = os.environ.get('KV_KEEP') == '1' or self._dumped
        if keep:
            sys.stderr.write('kvqemu: %s: logs kept in %s\n' % (self.name, self.dir))
        else:
            shutil.rmtree(os.path.dirname(self.dir) if self._own_workdir else self.dir,
                          ignore_errors=True)

    # -- keyboard -----------------------------------------------------------

    def _send_keys(self, keys):
        """One QMP send-key (keys pressed together), paced (module docstring)."""
        now = time.monotonic()
        backlog = self._kbd_free_at - now
        if backlog > KBD_MAX_BACKLOG:
            time.sleep(backlog - KBD_MAX_BACKLOG)
            now = time.monotonic()
        self.qmp('send-key', keys=[{'type': 'qcode', 'data': k} for k in keys],
                 **{'hold-time': HOLD_MS})
        self._kbd_free_at = max(self._kbd_free_at, now) + 2 * len(keys) * HOLD_MS / 1000.0

    def _kbd_drain(self):
        """Returns once QEMU has handed every queued key to the guest."""
        left = self._kbd_free_at - time.monotonic()
        if left > 0:
            time.sleep(left)
        time.sleep(HOLD_MS / 1000.0)
        self._check()

    def type(self, text):
        """Types text on the PS/2 keyboard (US layout; Shift for capitals and
        shifted symbols; '\\n' is Enter).  Returns once all keys are delivered."""
        for ch in text:
            self._send_keys(keys_for_char(ch))
        self._kbd_drain()

    def key(self, *combos):
        """Presses keys or combinations, one after another: key('up'),
        key('ctrl-c'), key('shift-f5'), key('home', 'delete').  Names are QEMU
        qcodes (f1..f12, up, pgdn, insert, delete, caps_lock, esc, ret,
        backspace, tab, ...) or aliases (enter, space, escape, del, pageup,
        pagedown, capslock); see keys_for_combo."""
        for combo in combos:
            self._send_keys(keys_for_combo(combo))
        self._kbd_drain()

    # -- serial port --------------------------------------------------------

    def serial_bytes(self, data):
        """Writes raw bytes to the guest's COM1."""
        self._check()
        self._serial.write(bytes(data))

    def serial_line(self, text):
        """Writes text and a carriage return (Enter) to COM1."""
        self.serial_bytes(text.encode('latin-1') + b'\r')

    def serial_text(self):
        """The serial log so far, CR LF turned into LF."""
        return self._serial.text()

    def serial_mark(self):
        """A position in serial_text(); pass it as wait_serial(since=...)."""
        return len(self.serial_text())

    def wait_serial(self, pattern, timeout=10, since=0):
        """Waits until regex pattern matches serial_text()[since:]; returns the
        re.Match (positions relative to since).  Raises WaitTimeout, with the
        dump, if it does not appear within timeout seconds."""
        rx = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + scaled(timeout)
        while True:
            m = rx.search(self.serial_text()[since:])
            if m:
                return m
            try:
                self._check()
            except MachineError:
                m = rx.search(self.serial_text()[since:])
                if m:
                    return m
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(self._msg('serial output never matched %r within %.1f s'
                                            % (rx.pattern, scaled(timeout))))
            with self._serial.cond:
                self._serial.cond.wait(min(left, 0.05))

    # -- screen -------------------------------------------------------------

    def screen(self):
        """A Screen snapshot of VGA text memory now."""
        path = os.path.join(self.dir, 'screen.bin')
        self.qmp('pmemsave', val=VGA_TEXT, size=ROWS * COLS * 2, filename=path)
        with open(path, 'rb') as f:
            s = Screen(f.read())
        self._last_screen = s
        self._last_screen_at = time.monotonic()
        return s

    def wait_screen(self, what, timeout=10, interval=0.02):
        """Polls the screen until `what` is there and returns that Screen.

        what: a regex (searched in Screen.text, multi-line mode) or a
        predicate taking a Screen.  Raises WaitTimeout with the dump."""
        if callable(what):
            test, desc = what, getattr(what, '__name__', 'predicate')
        else:
            rx = re.compile(what, re.M) if isinstance(what, str) else what
            test, desc = (lambda s: rx.search(s.text)), repr(rx.pattern)
        deadline = time.monotonic() + scaled(timeout)
        while True:
            s = self.screen()
            if test(s):
                return s
            if time.monotonic() > deadline:
                raise WaitTimeout(self._msg('the screen never showed %s within %.1f s'
                                            % (desc, scaled(timeout))))
            time.sleep(interval)

    # -- shell --------------------------------------------------------------

    def wait_prompt(self, timeout=10):
        """Waits until the shell shows an empty prompt on the last used row."""
        return self.wait_screen(Screen.at_prompt, timeout)

    def run_command(self, line, via='keyboard', timeout=10):
        """Runs one shell command as a person would and returns its output.

        Waits for an empty prompt, types line and Enter (on the keyboard, or
        with via='serial' on COM1), checks that the kernel received exactly
        that line (its serial transcript "kv> line"), waits for the next
        prompt, and returns what the command printed, from the serial log
        (a str with '\\n' line ends)."""
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
            echo = self.wait_serial(r'^' + re.escape(PROMPT + line) + r'(\^C)?\n', timeout,
                                    since=mark)
        except WaitTimeout as e:
            got = re.findall(r'^' + re.escape(PROMPT) + r'.*$', self.serial_text()[mark:], re.M)
            raise WaitTimeout('the kernel did not receive the line %r (received: %r)\n%s'
                              % (line, got, e)) from None
        self.wait_prompt(timeout)
        return self.serial_text()[mark + echo.end():]

    # -- diagnostics --------------------------------------------------------

    def _msg(self, what):
        self._dumped = True
        return '%s\n%s' % (what, self.dump())

    def dump(self, serial_lines=40):
        """A report for a person: state, screen, the serial log's tail."""
        out = ['=' * 30 + ' machine %s ' % self.name + '=' * 30]
        out.append('boot: %s  cmdline: %r  mem: %s%s  dir: %s' % (
            self.boot_kind, self.cmdline, self.mem,
            '  machine: ' + self.machine if self.machine else '', self.dir))
        if self.proc is None:
            out.append('state: not started')
        elif self.proc.poll() is None:
            out.append('state: running for %.1f s' % (time.monotonic() - self._started_at))
        else:
            out.append('state: ' + self._exit_description())
        if self._timed_out:
            out.append('hard timeout (%.0f s) reached: QEMU was killed' % self.timeout)
        if self._qmp:
            out.append('QMP events: ' + self._event_names())
        screen = None
        if self.is_running() and self._qmp and not self._qmp.closed:
            try:
                screen = Screen(self._raw_screen())
                note = 'screen now:'
            except Exception as e:
                note = 'screen unreadable (%s); ' % e
        if screen is None and self._last_screen is not None:
            screen = self._last_screen
            note = 'screen as last read, %.1f s before this dump:' % (
                time.monotonic() - self._last_screen_at)
        if screen is None:
            out.append('screen: never read')
        else:
            out.append(note)
            out.append(str(screen))
        if self._serial:
            tail = self.serial_text().split('\n')
            shown = tail[-serial_lines:]
            out.append('serial log (last %d of %d lines):' % (len(shown), len(tail)))
            out.extend('  | ' + line for line in shown)
        out.append('=' * 70)
        self._dumped = True
        return '\n'.join(out)

    def _raw_screen(self):
        path = os.path.join(self.dir, 'screen-dump.bin')
        self._qmp.command('pmemsave', timeout=2, val=VGA_TEXT, size=ROWS * COLS * 2,
                          filename=path)
        with open(path, 'rb') as f:
            return f.read()


# ---------------------------------------------------------------------------
# unittest glue

class KernelTestCase(unittest.TestCase):
    """A TestCase that owns the machines it boots and closes them afterwards."""

    def setUp(self):
        super().setUp()
        self._machines = []

    def boot(self, boot='kernel', cmdline='', wait_prompt=True, timeout=60, **kwargs):
        """Starts a Machine (see its arguments), closed automatically at the
        end of the test; by default waits for the first prompt."""
        name = '%s[%d]' % (self.id().split('.', 1)[-1], len(self._machines))
        m = Machine(boot=boot, cmdline=cmdline, timeout=timeout, name=name, **kwargs)
        self._machines.append(m)
        self.addCleanup(m.close)
        m.start()
        if wait_prompt:
            m.wait_prompt(timeout=20)
        return m

    def dump_machines(self):
        """Dumps of every machine of this test (for a failure report)."""
        return '\n'.join(m.dump() for m in getattr(self, '_machines', []))

    def assertScreenAttr(self, screen, row, col, expected, msg=None):
        """Checks the attribute byte of one cell, naming the colours."""
        got = screen.attr(row, col)
        if got != expected:
            def name(a):
                return '0x%02x (%s on %s)' % (a, VGA_COLOURS[a & 15], VGA_COLOURS[a >> 4])
            self.fail(msg or 'cell (%d, %d) %r has attribute %s, expected %s\n%s' % (
                row, col, screen.char(row, col), name(got), name(expected), screen))


class DumpingTestResult(unittest.TextTestResult):
    """A result that prints the machine dumps of a failing KernelTestCase
    (unless the failure is a MachineError, which already carries one)."""

    def _dump(self, test, err):
        if err is None or getattr(err[0], 'has_dump', False):
            return
        dump = getattr(test, 'dump_machines', None)
        if dump:
            text = dump()
            if text:
                self.stream.write('\n%s: machines at the time of the failure:\n%s\n'
                                  % (test.id(), text))
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
