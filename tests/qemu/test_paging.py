"""Paging from the keyboard: faults made on purpose (`pf`, `stackoverflow`,
`crash irqfault`), the report the kernel prints for each, and the commands
that change and show the page tables (`map`, `unmap`, `pt`, `tlbtest`,
`faults`).

Every fault report is checked twice: on serial (its lines, decoded) and on
the VGA screen, row for row, with its colours (the title white on red, the
body light grey, the closing note light green).  After each survivable fault
the shell must run a command again, and no machine may reset.  Addresses and
function names the kernel prints are checked against the kernel ELF, read
here on its own.
"""

import bisect
import re
import struct
import time
import unittest

from kvqemu import (COLS, ROWS, KernelTestCase, kernel_path, scaled, vga_attr,
                    LIGHT_GREEN, LIGHT_GREY, LIGHT_RED, RED, WHITE)

TITLE_ATTR = vga_attr(WHITE, RED)          # 0x4F: a report's title line
TEXT_ATTR = vga_attr(LIGHT_GREY)           # 0x07: the report's body
NOTE_ATTR = vga_attr(LIGHT_GREEN)          # 0x0A: "`pf` was stopped; ..."
ERROR_ATTR = vga_attr(LIGHT_RED)           # 0x0C: shell_error lines
PANIC_TITLE_ATTR = vga_attr(RED, WHITE)    # 0xF4: the panic screen's row 0
PANIC_ATTR = vga_attr(WHITE, RED)          # 0x4F: the rest of the panic screen
PANIC_DIM_ATTR = vga_attr(LIGHT_GREY, RED)  # 0x47: its "Uptime ..." line

CR0_PG, CR0_WP = 1 << 31, 1 << 16
PAGE = 4096
SCRATCH = 0x40000000                       # free virtual space: PDE[256]
STOPPED_NOTE = re.compile(r'^  `(\S+)` was stopped; the kernel goes on \(fault #(\d+), see '
                          r'`faults`\)\.$')
NOT_MAPPED_READ = " PAGE FAULT in `pf`: read from a page that is not mapped "

SHF_EXECINSTR = 0x4


# ---------------------------------------------------------------------------
# The kernel ELF

class KernelElf:
    """The kernel ELF32's code symbols and the bytes its segments load."""

    def __init__(self, path):
        with open(path, 'rb') as f:
            self.data = data = f.read()
        assert data[:4] == b'\x7fELF' and data[4] == 1, 'a 32-bit ELF'
        phoff, shoff = struct.unpack_from('<II', data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from('<HHHH', data, 42)
        self.segments = []                   # (vaddr, file offset, file size)
        for i in range(phnum):
            p_type, offset, vaddr, _, filesz, _, _, _ = struct.unpack_from(
                '<8I', data, phoff + i * phentsize)
            if p_type == 1:                  # PT_LOAD
                self.segments.append((vaddr, offset, filesz))
        sections = [struct.unpack_from('<10I', data, shoff + i * shentsize)
                    for i in range(shnum)]
        symbols = []                         # (address, name, size, is FUNC)
        for sh in sections:
            if sh[1] != 2:                   # SHT_SYMTAB
                continue
            names = sections[sh[6]][4]
            for at in range(sh[4], sh[4] + sh[5], 16):
                name, value, size, info, _, shndx = struct.unpack_from('<IIIBBH', data, at)
                if info & 0xF not in (0, 2) or shndx == 0 or shndx >= 0xFF00:
                    continue
                if not sections[shndx][2] & SHF_EXECINSTR:
                    continue
                text = data[names + name:data.index(b'\0', names + name)].decode()
                if text:
                    symbols.append((value, text, size, info & 0xF == 2))
        symbols.sort()
        self.symbols = symbols
        self.addrs = [s[0] for s in symbols]

    def start_of(self, name):
        """The address of the function called name."""
        found = {a for a, n, _, is_func in self.symbols if n == name and is_func}
        assert len(found) == 1, '%s: %r' % (name, found)
        return found.pop()

    def function_containing(self, addr):
        """The FUNC symbol whose bytes (by its size) include addr, or None."""
        for start, name, size, is_func in self.symbols:
            if is_func and start <= addr < start + size:
                return name
        return None

    def nearest(self, addr):
        """({names of the nearest code symbols at or below addr}, offset), as a
        kernel that names addresses "symbol+0xoffset" reads them."""
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return set(), None
        at = self.addrs[i]
        return {n for a, n, _, _ in self.symbols if a == at}, addr - at

    def read(self, vaddr, size):
        """size bytes the image loads at vaddr (from the file)."""
        for start, offset, filesz in self.segments:
            if start <= vaddr and vaddr + size <= start + filesz:
                return self.data[offset + vaddr - start:offset + vaddr - start + size]
        raise KeyError('0x%08x is not in a loaded segment' % vaddr)

    def follows_call(self, addr):
        """True when the instruction that ends at addr is a call (a return
        address): e8 rel32, or ff /2 through a register or [reg+disp]."""
        before = self.read(addr - 6, 6)
        if before[1] == 0xE8:
            return True
        for length, mod in ((2, 3), (3, 1), (6, 2)):
            op, modrm = before[6 - length], before[6 - length + 1]
            if op == 0xFF and (modrm >> 3) & 7 == 2 and modrm >> 6 == mod:
                return True
        return False


# ---------------------------------------------------------------------------
# A fault report, as printed

TRACE_ENTRY = re.compile(r'#(\d+) ([0-9a-f]{8}) (\S+)')


class Report:
    """The lines of one fault report, from its title to its closing note."""

    def __init__(self, lines, seq=None):
        self.lines = lines
        self.title = lines[0]
        self.text = '\n'.join(lines)
        self.seq = seq          # the number the closing note gives the fault

    def search(self, pattern):
        return re.search(pattern, self.text, re.M)

    def line_starting(self, prefix):
        found = [line for line in self.lines if line.startswith(prefix)]
        return found[0] if found else None

    def eip(self):
        """(CR2, EIP, the name printed for EIP) from the CR2 line."""
        m = self.search(r'^  CR2=([0-9a-f]{8})  EIP=([0-9a-f]{8}) (\S+)$')
        assert m, 'no CR2/EIP line in\n' + self.text
        return int(m.group(1), 16), int(m.group(2), 16), m.group(3)

    def register(self, name):
        m = self.search(r'\b%s=([0-9a-f]{8})\b' % name)
        assert m, 'no %s in\n%s' % (name, self.text)
        return int(m.group(1), 16)

    def trace(self):
        """[(address, name)] of the call chain, #0 first."""
        entries = []
        for line in self.lines:
            if line.startswith('  #'):
                entries += [(int(i), int(a, 16), n) for i, a, n in TRACE_ENTRY.findall(line)]
        assert [e[0] for e in entries] == list(range(len(entries))), \
            'trace entries out of order in\n' + self.text
        return [(a, n) for _, a, n in entries]


def screen_rows(lines):
    """The screen rows a console 80 columns wide makes of these lines (a line
    of exactly 80 characters takes one row)."""
    rows = []
    for line in lines:
        rows += [line[at:at + COLS] for at in range(0, max(len(line), 1), COLS)]
    return rows


class PagingTestCase(KernelTestCase):

    @classmethod
    def setUpClass(cls):
        cls.elf = KernelElf(kernel_path())

    # -- the screen ------------------------------------------------------------

    def find_lines(self, s, lines):
        """The screen row where these lines start (the lowest place they are
        shown, row for row, wrapped at 80 columns), or fail."""
        rows = screen_rows(lines)
        for top in range(ROWS - len(rows), -1, -1):
            if all(s.row(top + k) == rows[k].rstrip() for k in range(len(rows))):
                return top
        self.fail('these lines are not on the screen, row for row:\n%s\n%s'
                  % ('\n'.join(lines), s))

    def check_report_on_screen(self, s, report):
        """The report's lines on screen as on serial, the title white on red,
        the body light grey, the closing note light green."""
        top = self.find_lines(s, report.lines)
        row = top
        for k, line in enumerate(report.lines):
            want = TITLE_ATTR if k == 0 else NOTE_ATTR if k == len(report.lines) - 1 \
                else TEXT_ATTR
            for chunk in screen_rows([line]):
                self.assertEqual(s.attrs(row, 0, len(chunk)), {want},
                                 'row %d %r\n%s\n%s' % (row, chunk, s, s.describe_attrs()))
                row += 1
        title = report.title
        self.assertTrue(title.startswith(' ') and title.endswith(' '),
                        'the red title has a blank cell at each end: %r' % title)
        if len(title) < COLS:
            self.assertNotIn(TITLE_ATTR, s.attrs(top, len(title)),
                             'only the title text is red\n' + s.describe_attrs())
        return top

    # -- faults ------------------------------------------------------------------

    def fault(self, m, line, via='keyboard', screen=True, seq=None):
        """Runs line, which must fault and be survived; returns its Report,
        checked against the screen unless screen=False.  The closing note
        names the command and, when seq is given, that fault number."""
        out = m.run_command(line, via=via)
        lines = out.split('\n')
        starts = [i for i, l in enumerate(lines)
                  if l.startswith((' PAGE FAULT in ', ' KERNEL STACK OVERFLOW '))]
        if not starts:
            self.fail('%r made no fault report; it printed:\n%s' % (line, out))
        end = [i for i, l in enumerate(lines) if STOPPED_NOTE.match(l)]
        self.assertTrue(end and end[0] > starts[0],
                        '%r: no closing line ("`cmd` was stopped; ...") in\n%s' % (line, out))
        note = STOPPED_NOTE.match(lines[end[0]])
        self.assertEqual(note.group(1), line.split()[0], lines[end[0]])
        if seq is not None:
            self.assertEqual(int(note.group(2)), seq, lines[end[0]])
        self.assertEqual(lines[starts[0] - 1], '', 'a blank line before the report')
        self.assertEqual(lines[end[0] + 1:], [''], 'nothing after the closing note')
        report = Report(lines[starts[0]:end[0] + 1], int(note.group(2)))
        if screen:
            self.check_report_on_screen(m.screen(), report)
        return report

    def assert_alive(self, m, via='keyboard'):
        """The shell runs a command again, and the machine never reset."""
        self.assertEqual(m.run_command('echo still here', via=via), 'still here\n')
        s = m.screen()
        self.assertTrue(s.at_prompt(), s)
        last = s.last_row()
        self.assertEqual(s.row(last - 1), 'still here', s)
        self.assertEqual(s.row(last - 2), 'kv> echo still here', s)
        self.assertEqual(m.events('RESET') + m.events('SHUTDOWN'), [], 'the machine reset')

    def assert_named(self, addr, printed, function):
        """printed ("cmd_pf+0x48") names addr, which lies in function."""
        m = re.fullmatch(r'(\S+)\+0x([0-9a-f]+)', printed)
        self.assertTrue(m, '%r is not symbol+0xoffset' % printed)
        self.assertEqual(m.group(1), function, '0x%08x printed as %s' % (addr, printed))
        self.assertEqual(self.elf.function_containing(addr), function,
                         '0x%08x is not in %s in the ELF' % (addr, function))
        self.assertEqual(int(m.group(2), 16), addr - self.elf.start_of(function), printed)

    def check_trace(self, report, must_include=('shell_execute', 'kmain')):
        """Every named entry of the call chain is named as the ELF says (the
        nearest symbol at or below, and the offset from it); returns the
        function names."""
        trace = report.trace()
        self.assertGreaterEqual(len(trace), 2, report.text)
        names = []
        for i, (addr, printed) in enumerate(trace):
            if printed == '?':
                names.append(None)
                continue
            m = re.fullmatch(r'(\S+)\+0x([0-9a-f]+)', printed)
            self.assertTrue(m, printed)
            if i == 0:
                candidates, offset = self.elf.nearest(addr)
            else:
                # A return address is named by the call it follows (the
                # byte before it), with the offset of the address itself.
                candidates, offset = self.elf.nearest(addr - 1)
                offset += 1
            self.assertIn(m.group(1), candidates, '0x%08x printed as %s' % (addr, printed))
            self.assertEqual(int(m.group(2), 16), offset, printed)
            names.append(m.group(1))
        for name in must_include:
            self.assertIn(name, names, report.text)
        for addr, _ in trace[1:]:
            if self.elf.function_containing(addr) and addr != trace[0][0]:
                self.assertTrue(self.elf.follows_call(addr),
                                '0x%08x in the chain is not a return address\n%s'
                                % (addr, report.text))
        return names

    def check_registers(self, report):
        self.assertRegex(report.text, r'(?m)^  EAX=[0-9a-f]{8} EBX=[0-9a-f]{8} ECX=[0-9a-f]{8} '
                                      r'EDX=[0-9a-f]{8} ESI=[0-9a-f]{8} EDI=[0-9a-f]{8}$')
        self.assertRegex(report.text, r'(?m)^  EBP=[0-9a-f]{8} ESP=[0-9a-f]{8} '
                                      r'EFLAGS=[0-9a-f]{8} CR0=[0-9a-f]{8} CR3=[0-9a-f]{8}$')
        cr0 = report.register('CR0')
        self.assertEqual(cr0 & (CR0_PG | CR0_WP), CR0_PG | CR0_WP, 'paging and WP on')

    def check_null_read(self, report):
        """The report of `pf 0`."""
        self.assertEqual(report.title, NOT_MAPPED_READ)
        self.assertEqual(report.lines[1], '  error code 0x0: not-present page, read, kernel mode')
        cr2, eip, name = report.eip()
        self.assertEqual(cr2, 0)
        self.assert_named(eip, name, 'cmd_pf')
        self.assertRegex(report.text, r'(?m)^  walk: PDE\[0\] = 0x[0-9a-f]{8} present\b.*$')
        self.assertIn('        PTE[0] = 0x00000000 not present', report.lines)
        self.assertRegex(report.line_starting('  what:'), r'^  what:  NULL page\b')
        self.assertIsNone(report.line_starting('  frame:'), 'nothing is mapped there')
        self.assertIsNone(report.line_starting('  (physical'), 'not for page 0')
        self.check_registers(report)
        self.assertEqual(report.trace()[0][0], eip, 'the chain starts at EIP')
        names = self.check_trace(report)
        self.assertEqual(names[0], 'cmd_pf')
        return eip

    # -- small helpers -------------------------------------------------------------

    def free_frames(self, m):
        return int(re.search(r'(?m)^  free +(\d+) ', m.run_command('frames', via='serial'))
                   .group(1))

    def map_new(self, m, va=SCRATCH, via='keyboard'):
        out = m.run_command('map 0x%x' % va, via=via)
        got = re.fullmatch(r'mapped 0x%08x -> 0x([0-9a-f]{8}) \(a new frame, tagged user\), '
                           r'read-write\n' % va, out)
        self.assertTrue(got, out)
        return int(got.group(1), 16)


# ---------------------------------------------------------------------------

class FaultReportTest(PagingTestCase):
    """Faults a shell command makes on purpose, reported and survived."""

    def test_null_read(self):
        """`pf 0`: a read of the NULL page; then `faults` lists it."""
        m = self.boot()
        report = self.fault(m, 'pf 0', seq=1)
        eip = self.check_null_read(report)
        self.assert_alive(m)

        out = m.run_command('faults')
        lines = out.split('\n')
        self.assertEqual(lines[0], "1 fault since boot; the last 1 (`faults <n>` for one's "
                                   "call chain):")
        self.assertRegex(lines[1], r'^#1 +\d+\.\d{3}s pf +CR2 00000000 EIP %s  not-present '
                                   r'page, read, kernel mode$' % re.escape(report.eip()[2]))
        self.assertEqual(lines[2:], [''])
        out = m.run_command('faults 1')
        chain = re.findall(r'(?m)^    #(\d+) 0x([0-9a-f]{8}) (\S+)$', out)
        self.assertEqual([(int(a, 16), n) for _, a, n in chain], report.trace(),
                         'the log keeps the same call chain')
        self.assertEqual(int(chain[0][1], 16), eip)
        self.assert_alive(m)

    def test_write_to_kernel_text(self):
        """`pf 0x100000 w`: the kernel's text is read-only, even for the
        kernel (CR0.WP)."""
        m = self.boot()
        report = self.fault(m, 'pf 0x100000 w')
        self.assertEqual(report.title, ' PAGE FAULT in `pf`: write to a read-only page ')
        self.assertEqual(report.lines[1],
                         '  error code 0x3: protection violation, write, kernel mode')
        cr2, eip, name = report.eip()
        self.assertEqual(cr2, 0x100000)
        self.assert_named(eip, name, 'cmd_pf')
        pte = re.search(r'(?m)^        PTE\[256\] = 0x([0-9a-f]{8}) (.*)$', report.text)
        self.assertTrue(pte, report.text)
        value = int(pte.group(1), 16)
        self.assertEqual((value & ~0xFFF, value & 1, value & 2), (0x100000, 1, 0),
                         'present, read-only, identity-mapped: ' + pte.group(0))
        self.assertTrue(pte.group(2).startswith('present'), pte.group(0))
        self.assertNotIn('writable', pte.group(2))
        what = re.fullmatch(r'  what:  kernel \.text, 0x00100000-0x([0-9a-f]{8})',
                            report.line_starting('  what:'))
        self.assertTrue(what, report.text)
        self.assertGreater(int(what.group(1), 16), self.elf.start_of('cmd_pf'))
        self.assertEqual(report.line_starting('  frame:'),
                         '  frame: 0x00100000, reserved, tag kernel, refs 0; RAM type: available')
        self.check_registers(report)
        self.assertEqual(self.check_trace(report)[0], 'cmd_pf')
        self.assert_alive(m)

    def test_read_where_no_page_table_is(self):
        """`pf 0x50000000`: no page table covers the address at all."""
        m = self.boot()
        report = self.fault(m, 'pf 0x50000000')
        self.assertEqual(report.title, NOT_MAPPED_READ)
        self.assertEqual(report.lines[1], '  error code 0x0: not-present page, read, kernel mode')
        cr2, eip, name = report.eip()
        self.assertEqual(cr2, 0x50000000)
        self.assert_named(eip, name, 'cmd_pf')
        self.assertIn('  walk: PDE[320] = 0x00000000 not present: no page table covers '
                      '0x50000000-0x503fffff', report.lines)
        self.assertIsNone(report.line_starting('        PTE['), 'no table, so no PTE')
        self.assertEqual(report.line_starting('  what:'),
                         '  what:  nothing the kernel has put there (unused virtual space)')
        self.assertIsNone(report.line_starting('  (physical'), 'no RAM there with 128 MiB')
        self.check_registers(report)
        self.check_trace(report)
        self.assert_alive(m)

    def test_jump_to_unmapped(self):
        """`pf 0x50000000 x`: EIP is the bad address; the caller is found
        from the return address on the stack."""
        m = self.boot()
        report = self.fault(m, 'pf 0x50000000 x')
        self.assertEqual(report.title, ' PAGE FAULT in `pf`: jump to (instruction fetch from) '
                                       'a page that is not mapped ')
        self.assertEqual(report.lines[1],
                         '  error code 0x0: not-present page, instruction fetch, kernel mode')
        self.assertEqual(report.lines[2], '  (a fetch: CR2 = EIP. 32-bit paging without NX or '
                                          'SMEP leaves bit 4, I/D, at 0)')
        self.assertEqual(report.eip(), (0x50000000, 0x50000000, '?'))
        self.assertIn('  walk: PDE[320] = 0x00000000 not present: no page table covers '
                      '0x50000000-0x503fffff', report.lines)
        trace = report.trace()
        self.assertEqual(trace[0], (0x50000000, '?'))
        caller, name = trace[1]
        self.assertEqual(self.elf.function_containing(caller), 'cmd_pf', report.text)
        self.assertTrue(self.elf.follows_call(caller), 'right after the call in cmd_pf')
        names = self.check_trace(report)
        self.assertEqual(names[1], 'cmd_pf')
        self.check_registers(report)
        self.assert_alive(m)

    def test_stack_overflow_twice(self):
        """`stackoverflow`: the double-fault task reports it, the command is
        abandoned, and it all works a second time."""
        m = self.boot()
        guard = re.search(r'(?m)^  \[0x([0-9a-f]{8})-0x([0-9a-f]{8})\] guard +4 KiB  guard page '
                          r'below the boot stack \(never mapped\)$', m.run_command('frames boot'))
        self.assertTrue(guard)
        lo, hi = int(guard.group(1), 16), int(guard.group(2), 16)
        for attempt in (1, 2):
            with self.subTest(attempt=attempt):
                mark = m.serial_mark()
                report = self.fault(m, 'stackoverflow', seq=attempt)
                self.assertIn('kv> stackoverflow\nrecursing, 256 bytes a call, until the 16 KiB '
                              'boot stack hits its guard page\n\n', m.serial_text()[mark:])
                self.assertEqual(report.title,
                                 ' KERNEL STACK OVERFLOW (double fault) in `stackoverflow` ')
                cr2, eip, name = report.eip()
                self.assertTrue(lo <= cr2 <= hi, 'CR2 %08x in the guard page' % cr2)
                self.assertEqual(report.lines[1], '  The stack ran down into its guard page at '
                                 '0x%08x; the CPU could not' % cr2)
                self.assertEqual(report.lines[2], "  push the page fault's frame there, so it "
                                 "switched to the double-fault task.")
                self.assert_named(eip, name, 'recurse')
                self.assertIn('        PTE[%d] = 0x00000000 not present' % ((cr2 >> 12) & 1023),
                              report.lines)
                self.assertRegex(report.line_starting('  what:'),
                                 r'^  what:  guard page below the boot stack, '
                                 r'0x[0-9a-f]{8}-0x[0-9a-f]{8}$')
                self.assertIsNone(report.line_starting('  (physical'),
                                  'the guard is kept unmapped on purpose: no "physical" hint')
                self.check_registers(report)
                esp = report.register('ESP')
                self.assertTrue(lo <= esp <= hi + 1 + 256, 'ESP %08x at the guard page' % esp)
                names = self.check_trace(report, must_include=())
                self.assertGreaterEqual(len(names), 4)
                self.assertEqual(set(names), {'recurse'}, report.text)
                self.assert_alive(m)
        out = m.run_command('faults')
        self.assertRegex(out, r'(?m)^2 faults since boot')
        self.assertEqual(len(re.findall(r'(?m)^#[12] +\d+\.\d{3}s stackoverflow CR2 [0-9a-f]{8} '
                                        r'EIP recurse\+0x[0-9a-f]+  stack overflow into guard '
                                        r'page$', out)), 2, out)
        # The boot stack is whole again: an ordinary fault still recovers.
        self.check_null_read(self.fault(m, 'pf 0', seq=3))
        self.assert_alive(m)

    def test_symbol_names_from_both_tables(self):
        """EIP is named cmd_pf+0x... with -kernel (the built-in table) and
        from GRUB (its copy of .symtab)."""
        for boot in ('kernel', 'iso'):
            with self.subTest(boot=boot):
                m = self.boot(boot=boot)
                report = self.fault(m, 'pf 0')
                self.check_null_read(report)
                self.assertRegex(report.text, r'(?m)^  CR2=00000000  EIP=[0-9a-f]{8} '
                                              r'cmd_pf\+0x[0-9a-f]+$')
                self.assert_alive(m)
                m.close()

    def test_fault_in_interrupt_handler_panics(self):
        """`crash irqfault`: a page fault inside the timer interrupt cannot
        be survived: the panic screen, with the report, and the machine
        stopped but not reset."""
        m = self.boot()
        mark = m.serial_mark()
        m.type('crash irqfault')
        m.key('ret')
        s = m.wait_screen(lambda s: s.row(0).startswith(' KERNEL PANIC ') or s.at_prompt())
        if not s.row(0).startswith(' KERNEL PANIC '):
            self.fail("'crash irqfault' did not stop the kernel; it printed %r"
                      % m.serial_text()[mark:])
        s = m.wait_screen(r'^ Uptime \d+\.\d+ s\. ')
        m.assert_stays_up(1.0)
        self.assertEqual(m.events('RESET') + m.events('SHUTDOWN'), [], 'halted, not reset')
        self.assertEqual(m.screen().text, s.text, 'the panic screen stays')

        self.assertEqual(s.attrs(0), {PANIC_TITLE_ATTR}, s.describe_attrs())
        for row in range(1, ROWS):
            want = PANIC_DIM_ATTR if s.row(row).startswith(' Uptime ') else PANIC_ATTR
            self.assertEqual(s.attrs(row), {want}, 'row %d\n%s' % (row, s.describe_attrs()))

        serial = m.serial_text()[mark:].split('\n')
        self.assertEqual(serial[0], 'kv> crash irqfault')
        first = [i for i, l in enumerate(serial) if l.startswith(' This fault cannot be survived')]
        self.assertTrue(first, '\n'.join(serial))
        why = serial[first[0]]
        starts = [i for i, l in enumerate(serial) if l.startswith(' PAGE FAULT in ')]
        ends = [i for i, l in enumerate(serial) if l.startswith(' Uptime ')]
        self.assertTrue(starts and ends, '\n'.join(serial))
        report = Report([l for l in serial[starts[0]:ends[0]] if l])
        self.find_lines(s, [why])
        self.find_lines(s, report.lines)

        self.assertEqual(report.title,
                         ' PAGE FAULT in `crash`: read from a page that is not mapped ')
        self.assertEqual(report.lines[1], '  error code 0x0: not-present page, read, kernel mode')
        cr2, eip, name = report.eip()
        self.assertEqual(cr2, 0)
        self.assert_named(eip, name, 'fault_in_irq')
        self.assertIn('        PTE[0] = 0x00000000 not present', report.lines)
        self.assertEqual(report.register('EFLAGS') & 0x200, 0, 'interrupts off in the handler')
        names = self.check_trace(report, must_include=('interrupt_dispatch', 'cmd_crash'))
        self.assertEqual(names[0], 'fault_in_irq')
        self.assertLess(names.index('interrupt_dispatch'), names.index('cmd_crash'))

        # Keys go nowhere now.
        m.type('echo x', wait=False)
        m.key('ret', wait=False)
        m.assert_stays_up(0.2)
        self.assertEqual(m.screen().text, s.text)

        self.assertIn('inside an interrupt or exception handler', why,
                      'the panic gives the wrong reason: %r' % why.strip())

    def test_fault_in_the_fault_report_panics(self):
        """`crash reportfault`: the first fault is one the kernel would
        survive, but printing its report faults; that second fault is a panic
        screen naming the report code, not a reset."""
        m = self.boot()
        mark = m.serial_mark()
        m.type('crash reportfault')
        m.key('ret')
        s = m.wait_screen(r'^ Uptime \d+\.\d+ s\. ')
        m.assert_stays_up(1.0)
        self.assertEqual(m.events('RESET') + m.events('SHUTDOWN'), [], 'halted, not reset')
        self.assertEqual(s.attrs(0), {PANIC_TITLE_ATTR}, s.describe_attrs())
        serial = m.serial_text()[mark:].split('\n')
        why = [l for l in serial if l.startswith(' This fault cannot be survived')]
        self.assertEqual(why, [' This fault cannot be survived: it happened while another '
                               'fault was being reported.'], '\n'.join(serial))
        self.find_lines(s, why)
        starts = [i for i, l in enumerate(serial) if l.startswith(' PAGE FAULT in ')]
        ends = [i for i, l in enumerate(serial) if l.startswith(' Uptime ')]
        self.assertTrue(starts and ends, '\n'.join(serial))
        report = Report([l for l in serial[starts[-1]:ends[0]] if l])
        self.find_lines(s, report.lines)
        cr2, eip, name = report.eip()
        self.assertEqual(cr2, 0)
        self.assert_named(eip, name, 'report')
        names = self.check_trace(report, must_include=('on_page_fault', 'interrupt_dispatch'))
        self.assertEqual(names[0], 'report')


class MappingTest(PagingTestCase):
    """map, pt, unmap, pf and tlbtest, and how they refuse bad requests."""

    def test_map_touch_unmap(self):
        m = self.boot()
        frame = self.map_new(m)
        out = m.run_command('pt 0x40000000')
        self.assertIn('0x40000000 = directory index 256 | table index 0 | offset 0x000\n', out)
        pde = re.search(r'(?m)^  PDE\[256\] at 0xfffff400 = 0x([0-9a-f]{8}) -> table '
                        r'0x([0-9a-f]{8})$', out)
        pte = re.search(r'(?m)^  PTE\[0\] at 0xffd00000 = 0x([0-9a-f]{8}) -> frame '
                        r'0x([0-9a-f]{8})$', out)
        self.assertTrue(pde and pte, out)
        self.assertEqual(int(pde.group(1), 16) & 3, 3, 'PDE present and writable')
        self.assertEqual(int(pde.group(1), 16) & ~0xFFF, int(pde.group(2), 16))
        self.assertEqual(int(pte.group(1), 16) & 3, 3, 'PTE present and writable')
        self.assertEqual(int(pte.group(2), 16), frame, 'the frame map printed')
        bits = re.findall(r'(?m)^    P=1 present     R/W=1 writable   U/S=0 kernel only', out)
        self.assertEqual(len(bits), 2, out)
        self.assertIn('  => physical 0x%08x (frame tag user), writable, kernel only\n' % frame,
                      out)
        self.assertRegex(m.run_command('frame 0x%x' % frame),
                         r'frame 0x%08x: allocated, tag user, 1 reference' % frame)

        self.assertRegex(m.run_command('pf 0x40000000 w'),
                         r'^wrote 0x[0-9a-f]{2} back to 0x40000000: no fault, the page is '
                         r'writable\n$')
        self.assertRegex(m.run_command('pt 0x40000000'),
                         r'(?m)^    A=1 accessed    D=1 written ', 'the CPU set A and D')
        self.assertEqual(m.run_command('unmap 0x40000000'),
                         'unmapped 0x40000000 (TLB entry flushed); frame 0x%08x is now free\n'
                         % frame)
        report = self.fault(m, 'pf 0x40000000', seq=1)
        self.assertEqual(report.title, NOT_MAPPED_READ)
        self.assertIsNone(report.line_starting('  (physical'), 'no RAM there with 128 MiB')
        self.assertIn('  walk: PDE[256] = 0x00000000 not present: no page table covers '
                      '0x40000000-0x403fffff', report.lines)
        self.assert_alive(m)

        # A thousand rounds of map, touch, unmap, touch, inside the kernel.
        out = m.run_command('tlbtest 1000')
        got = re.fullmatch(r'tlbtest: 1000 rounds of map, write, unmap, touch: 0 touches after '
                           r'unmap got through, 0 failures; free frames (\d+) before, (\d+) '
                           r'after\n', out)
        self.assertTrue(got, out)
        self.assertEqual(got.group(1), got.group(2))
        free = self.free_frames(m)
        self.assertEqual(free, int(got.group(1)))

        # And thirty through the serial line, as a person at a terminal would.
        started = time.monotonic()
        rounds = 30
        for i in range(rounds):
            frame = self.map_new(m, via='serial')
            self.assertRegex(m.run_command('pf 0x40000000 w', via='serial'),
                             r'^wrote 0x[0-9a-f]{2} back to 0x40000000: no fault')
            self.assertEqual(m.run_command('unmap 0x40000000', via='serial'),
                             'unmapped 0x40000000 (TLB entry flushed); frame 0x%08x is now '
                             'free\n' % frame)
            report = self.fault(m, 'pf 0x40000000', via='serial', screen=i == rounds - 1,
                                seq=i + 2)
            self.assertEqual(report.title, NOT_MAPPED_READ, 'round %d' % i)
            self.assertEqual(report.lines[1],
                             '  error code 0x0: not-present page, read, kernel mode')
            self.assertEqual(report.eip()[0], 0x40000000)
            self.assertIn('  walk: PDE[256] = 0x00000000 not present: no page table covers '
                          '0x40000000-0x403fffff', report.lines)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, scaled(30), '%d rounds took %.1f s' % (rounds, elapsed))
        self.assertEqual(self.free_frames(m), free, 'every frame and table came back')
        out = m.run_command('faults')
        self.assertTrue(out.startswith("31 faults since boot; the last 16 (`faults <n>` for "
                                       "one's call chain):\n"), out)
        seqs = [int(n) for n in re.findall(r'(?m)^#(\d+) +\d+\.\d{3}s pf +CR2 40000000 EIP '
                                           r'cmd_pf\+0x[0-9a-f]+  not-present page, read, '
                                           r'kernel mode$', out)]
        self.assertEqual(seqs, list(range(16, 32)), out)
        self.assert_alive(m)

    def test_pt_summary(self):
        """`pt` lists the present directory entries; a table made by `map`
        appears at PDE[256] and is freed again by `unmap`."""
        m = self.boot()

        def summary():
            out = m.run_command('pt')
            head = re.match(r'page directory at 0x([0-9a-f]{8}) \(CR3\); (\d+) page tables; '
                            r'each entry covers 4 MiB\n', out)
            self.assertTrue(head, out)
            tail = re.search(r'(?m)^(\d+) pages mapped \((\d+) KiB\); (\d+) maps? and (\d+) unmaps? '
                             r'since boot\. `pt <addr>` shows one walk\.\n\Z', out)
            self.assertTrue(tail, out)
            self.assertEqual(int(tail.group(1)) * 4, int(tail.group(2)))
            pdes = {int(i): (int(lo, 16), int(hi, 16), int(t, 16), int(n)) for i, lo, hi, t, n in
                    re.findall(r'(?m)^  PDE\[ *(\d+)\] 0x([0-9a-f]{8})-0x([0-9a-f]{8})  table at '
                               r'0x([0-9a-f]{8}), (\d+) of 1024 pages present$', out)}
            self.assertIn('  PDE[1023] 0xffc00000-0xffffffff  -> the directory itself (recursive '
                          'slot: tables at 0xffc00000 + i*4096)\n', out)
            for i, (lo, hi, _, _) in pdes.items():
                self.assertEqual((lo, hi), (i << 22, (i << 22) + 0x3FFFFF))
            self.assertEqual(int(head.group(2)), len(pdes), 'one table per PDE listed\n' + out)
            self.assertEqual(sum(n for _, _, _, n in pdes.values()), int(tail.group(1)))
            return (int(head.group(1), 16), pdes, int(tail.group(1)), int(tail.group(3)),
                    int(tail.group(4)), out)

        cr3, pdes, pages, maps, unmaps, out = summary()
        self.assertIn(0, pdes)
        self.assertRegex(out, r'(?m)^  PDE\[   0\] .*\n             NULL page \(never mapped\)')
        self.assertNotIn(256, pdes)
        free = self.free_frames(m)

        frame = self.map_new(m)
        cr3_2, pdes2, pages2, maps2, unmaps2, out = summary()
        self.assertEqual(cr3_2, cr3)
        self.assertEqual(pdes2[256][3], 1, out)
        self.assertIn('\n             (pages you mapped)\n', out)
        self.assertEqual(set(pdes2), set(pdes) | {256})
        self.assertEqual((pages2, maps2, unmaps2), (pages + 1, maps + 1, unmaps))
        table = pdes2[256][2]
        self.assertRegex(m.run_command('pt 0x40000000'),
                         r'(?m)^  PDE\[256\] at 0xfffff400 = 0x[0-9a-f]{8} -> table 0x%08x$'
                         % table)
        self.assertRegex(m.run_command('frame 0x%x' % table),
                         r'frame 0x%08x: allocated, tag pagetable' % table)
        self.assertEqual(self.free_frames(m), free - 2, 'the page and its table')
        report = self.fault(m, 'pf 0')
        self.assertEqual(report.register('CR3'), cr3, 'pt and the report agree on CR3')

        m.run_command('unmap 0x40000000')
        cr3_3, pdes3, pages3, maps3, unmaps3, out = summary()
        self.assertNotIn(256, pdes3, 'the empty table was freed\n' + out)
        self.assertEqual(pdes3, pdes)
        self.assertEqual((pages3, maps3, unmaps3), (pages, maps + 1, unmaps + 1))
        self.assertEqual(self.free_frames(m), free)
        self.assertRegex(m.run_command('frame 0x%x' % table), r'frame 0x%08x: free' % table)
        self.assertRegex(m.run_command('frame 0x%x' % frame), r'frame 0x%08x: free' % frame)
        self.assert_alive(m)

    def test_command_errors(self):
        """Each refusal as printed, in red; none of them changes a mapping."""
        m = self.boot()
        free = self.free_frames(m)

        def refused(line, *lines):
            out = m.run_command(line)
            self.assertEqual(out, ''.join(l + '\n' for l in lines), line)
            s = m.screen()
            top = self.find_lines(s, [lines[0]])
            self.assertEqual(s.attrs(top, 0, min(len(lines[0]), COLS)), {ERROR_ATTR},
                             '%s\n%s' % (s, s.describe_attrs()))

        refused('map 0x40000001', 'map: 0x40000001 is not page-aligned (a multiple of 4096); '
                'did you mean 0x40000000?')
        refused('map 0x100000', 'map: 0x00100000 is in a kernel region (kernel .text); '
                'try an address such as 0x40000000')
        refused('unmap 0x100000', 'unmap: 0x00100000 is in a kernel region (kernel .text); '
                'try an address such as 0x40000000')
        refused('map 0x40000000 0x1001', 'map: physical 0x00001001 is not frame-aligned; did you '
                'mean 0x00001000?')
        # A frame known to be free: allocated, then freed.
        spare = re.search(r'alloc: frame 0x([0-9a-f]{8}), tag user', m.run_command('alloc'))
        spare = int(spare.group(1), 16)
        m.run_command('free 0x%x' % spare)
        refused('map 0x40000000 0x%x' % spare, 'map: frame 0x%08x is free: allocate it first '
                '(alloc) or leave out the address to get a new frame' % spare)
        refused('map 0x40000000 0x100000', "map: frame 0x00100000 is one of the kernel's (tag "
                'kernel): a writable alias could corrupt it; map it ro')
        refused('map 0x40000000 zz', "map: 'zz' is not a flag set (say rw, ro, rw,user or "
                'ro,user)')
        refused('unmap 0x40000000', 'unmap: 0x40000000 is not mapped')
        refused('pf 0 q', "pf: 'q' is not an access (say r to read, w to write, x to jump)",
                'usage: pf <addr> [r|w|x]')
        refused('pf 0 rw', "pf: 'rw' is not an access (say r to read, w to write, x to jump)",
                'usage: pf <addr> [r|w|x]')
        refused('pf 0x100000 x', 'pf: 0x00100000 is mapped: jumping there would run whatever '
                'bytes it holds; pf x only jumps to unmapped addresses')
        refused('pt nope', "pt: bad address: 'nope' is not a number (decimal or 0x-hex)")
        refused('faults 99', 'faults: fault #99 is not in the log (it holds the last 16)')
        refused('tlbtest 0', "tlbtest: bad rounds: '0' is out of range (1..1000000)")
        self.assertIn('  => not mapped: touching it is a page fault\n',
                      m.run_command('pt 0x40000000'), 'no refusal left a mapping')
        self.assertEqual(self.free_frames(m), free)
        self.assert_alive(m)

    def test_map_existing_frames(self):
        """Reserved device memory (VGA text at 0xb8000) maps read-write and
        shows the screen; a kernel frame maps read-only and shows the image."""
        m = self.boot()
        free = self.free_frames(m)
        self.assertEqual(m.run_command('map 0x40000000 0xb8000'),
                         'mapped 0x40000000 -> 0x000b8000 (a reserved frame, no reference), '
                         'read-write\n')
        out = m.run_command('pf 0x40000000')
        got = re.fullmatch(r'read 0x([0-9a-f]{2}) from 0x40000000: no fault, the page is '
                           r'mapped\n', out)
        self.assertTrue(got, out)
        s = m.screen()
        self.assertEqual(int(got.group(1), 16), s.raw[0],
                         'the first byte of the screen (the title bar\'s first character)')
        self.assertRegex(m.run_command('pf 0x40000000 w'),
                         r'^wrote 0x%s back to 0x40000000: no fault, the page is writable\n$'
                         % got.group(1))
        self.assertEqual(m.run_command('unmap 0x40000000'),
                         'unmapped 0x40000000 (TLB entry flushed); frame 0x000b8000 is now '
                         'reserved, as before\n')

        self.assertEqual(m.run_command('map 0x40000000 0x100000 ro'),
                         'mapped 0x40000000 -> 0x00100000 (a reserved frame, no reference), '
                         'read-only\n')
        image = self.elf.read(0x100000, 1)[0]
        self.assertEqual(m.run_command('pf 0x40000000'),
                         'read 0x%02x from 0x40000000: no fault, the page is mapped\n' % image)
        report = self.fault(m, 'pf 0x40000000 w')
        self.assertEqual(report.title, ' PAGE FAULT in `pf`: write to a read-only page ')
        self.assertEqual(report.lines[1],
                         '  error code 0x3: protection violation, write, kernel mode')
        self.assertEqual(report.line_starting('  frame:'),
                         '  frame: 0x00100000, reserved, tag kernel, refs 0; RAM type: available')
        self.assertEqual(m.run_command('unmap 0x40000000'),
                         'unmapped 0x40000000 (TLB entry flushed); frame 0x00100000 is now '
                         'reserved, as before\n')
        self.assertEqual(self.free_frames(m), free)
        self.assert_alive(m)


class OtherMachinesTest(PagingTestCase):

    def test_small_and_large_memory(self):
        """`pf 0` recovers and `tlbtest 100` passes with 16 MiB, and on q35
        with 3 GiB."""
        for mem, machine in (('16M', None), ('3G', 'q35')):
            with self.subTest(mem=mem, machine=machine):
                m = self.boot(mem=mem, machine=machine)
                self.check_null_read(self.fault(m, 'pf 0', seq=1))
                self.assert_alive(m)
                report = self.fault(m, 'pf 0x50000000', seq=2)
                physical = report.line_starting('  (physical')
                if mem == '3G':
                    self.assertEqual(physical, '  (physical 0x50000000 is available RAM, but no '
                                     'page maps it at this address)', report.text)
                else:
                    self.assertIsNone(physical, report.text)
                self.assert_alive(m)
                out = m.run_command('tlbtest 100')
                got = re.fullmatch(r'tlbtest: 100 rounds of map, write, unmap, touch: 0 touches '
                                   r'after unmap got through, 0 failures; free frames (\d+) '
                                   r'before, (\d+) after\n', out)
                self.assertTrue(got, out)
                self.assertEqual(got.group(1), got.group(2))
                self.assert_alive(m)
                m.close()


if __name__ == '__main__':
    unittest.main()
