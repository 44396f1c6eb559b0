"""The panic screen, reached with 'crash <kind>' from the shell: its colours,
what it says (exception, EIP, registers, a stack trace that names real kernel
code), the same text on serial, and a machine that then stays stopped."""

import bisect
import re
import struct
import unittest

from kvqemu import ROWS, KernelTestCase, kernel_path, vga_attr, LIGHT_GREY, RED, WHITE

PANIC_ATTR = vga_attr(WHITE, RED)        # 0x4F: the whole screen
TITLE_ATTR = vga_attr(RED, WHITE)        # 0xF4: row 0
DIM_ATTR = vga_attr(LIGHT_GREY, RED)     # 0x47: the closing "Uptime ..." line


class KernelImage:
    """The kernel ELF's executable ranges and function symbols (ELF32)."""

    def __init__(self, path):
        with open(path, 'rb') as f:
            data = f.read()
        assert data[:4] == b'\x7fELF' and data[4] == 1, 'a 32-bit ELF'
        phoff, shoff = struct.unpack_from('<II', data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from('<HHHH', data, 42)
        self.text = []
        for i in range(phnum):
            p_type, _, vaddr, _, _, memsz, flags, _ = struct.unpack_from(
                '<8I', data, phoff + i * phentsize)
            if p_type == 1 and flags & 1:                  # PT_LOAD, executable
                self.text.append((vaddr, vaddr + memsz))
        sections = [struct.unpack_from('<10I', data, shoff + i * shentsize)
                    for i in range(shnum)]
        symbols = []
        for sh in sections:
            if sh[1] != 2:                                   # SHT_SYMTAB
                continue
            strtab = sections[sh[6]]
            for at in range(sh[4], sh[4] + sh[5], 16):
                name, value, _, info, _, shndx = struct.unpack_from('<IIIBBH', data, at)
                if info & 0xF in (0, 2) and shndx != 0 and self.in_text(value):
                    end = data.index(b'\0', strtab[4] + name)
                    symbols.append((value, data[strtab[4] + name:end].decode()))
        symbols.sort()
        self.addrs = [a for a, _ in symbols]
        self.names = [n for _, n in symbols]

    def in_text(self, addr):
        return any(lo <= addr < hi for lo, hi in self.text)

    def function_at(self, addr):
        """The name of the nearest symbol at or below addr (as nm -n reads)."""
        i = bisect.bisect_right(self.addrs, addr) - 1
        return self.names[i] if i >= 0 else None


class PanicTest(KernelTestCase):

    @classmethod
    def setUpClass(cls):
        cls.image = KernelImage(kernel_path())

    def crash(self, kind, message):
        """Runs 'crash kind' and checks the panic screen and the serial log;
        message is a regex for the line that says what happened.  Returns
        the machine and its panic screen."""
        m = self.boot()
        mark = m.serial_mark()
        m.type('crash ' + kind)
        m.key('ret')
        def panic_or_prompt(s):
            return s.row(0).startswith(' KERNEL PANIC ') or s.at_prompt()
        s = m.wait_screen(panic_or_prompt)
        if not s.row(0).startswith(' KERNEL PANIC '):
            self.fail("'crash %s' did not stop the kernel; it printed %r"
                      % (kind, m.serial_text()[mark:]))
        s = m.wait_screen(r'^ Uptime \d+\.\d+ s\. ')           # the last line drawn
        m.assert_stays_up(1.0)
        self.assertEqual(m.screen().text, s.text, 'the panic screen stays as it is')
        self.assertEqual(m.events('SHUTDOWN') + m.events('RESET'), [])

        # Colours: red on white title, white on red everywhere else.
        self.assertEqual(s.attrs(0), {TITLE_ATTR}, 'title row\n' + s.describe_attrs())
        for row in range(1, ROWS):
            want = {DIM_ATTR} if s.row(row).startswith(' Uptime ') else {PANIC_ATTR}
            self.assertEqual(s.attrs(row), want, 'row %d\n%s' % (row, s.describe_attrs()))
        self.assertRegex(s.row(0), r'^ KERNEL PANIC .*Kernel-V has stopped$')

        # What happened, where, and how we got there.
        self.assertRegex(s.text, '(?m)^ ' + message)
        self.assertRegex(s.text, r'(?m)^ CR0=[0-9a-f]{8}  CR2=[0-9a-f]{8}  CR3=[0-9a-f]{8}  '
                                 r'CR4=[0-9a-f]{8}$')
        self.assertRegex(s.text, r'(?m)^ Stack trace \(most recent call first\):$')
        frames = [int(a, 16) for a in re.findall(r'(?m)^   #\d+  0x([0-9a-f]{8})  \S+$', s.text)]
        self.assertGreaterEqual(len(frames), 1, s)
        names = [self.image.function_at(a) for a in frames]
        for addr, name in zip(frames, names):
            self.assertTrue(self.image.in_text(addr), '0x%08x is not kernel code\n%s' % (addr, s))
        self.assertEqual(names[0], 'cmd_crash', 'innermost frame %s\n%s' % (names, s))
        self.assertIn('kmain', names, 'the chain reaches kmain: %s' % names)

        # The serial log has the same lines (the screen cuts them at 80 columns).
        serial = m.serial_text()[mark:].split('\n')
        self.assertEqual(serial[0], 'kv> crash ' + kind)
        for row in range(ROWS):
            text = s.row(row)
            if text:
                self.assertTrue(any(line.rstrip() == text or
                                    (len(s.lines[row].rstrip()) == 80 and line.startswith(text))
                                    for line in serial),
                                'screen row %d %r is not on serial:\n%s'
                                % (row, text, '\n'.join(serial)))
        # Keys go nowhere now.
        m.type('echo x', wait=False)
        m.key('ret', wait=False)
        m.assert_stays_up(0.2)
        self.assertEqual(m.screen().text, s.text)
        return m, s

    def check_exception(self, kind, vector, name, mnemonic, error_code=0):
        _, s = self.crash(kind, r'Unhandled exception %d: %s \(%s\)$' % (vector, name, mnemonic))
        at = re.search(r'(?m)^ at EIP 0x([0-9a-f]{8})   error code 0x([0-9a-f]{8})$', s.text)
        self.assertIsNotNone(at, s)
        eip = int(at.group(1), 16)
        self.assertEqual(int(at.group(2), 16), error_code)
        self.assertEqual(self.image.function_at(eip), 'cmd_crash')
        self.assertRegex(s.text, r'(?m)^ EAX=[0-9a-f]{8}  EBX=[0-9a-f]{8}  ECX=[0-9a-f]{8}  '
                                 r'EDX=[0-9a-f]{8}$')
        self.assertRegex(s.text, r'(?m)^ ESI=[0-9a-f]{8}  EDI=[0-9a-f]{8}  EBP=[0-9a-f]{8}  '
                                 r'ESP=[0-9a-f]{8}$')
        self.assertRegex(s.text, r'(?m)^ EIP=%08x  EFLAGS=[0-9a-f]{8}  CS=0008  SS=0010$' % eip)
        self.assertRegex(s.text, r'(?m)^ DS=[0-9a-f]{4}  ES=0010  FS=0010  GS=0010$')
        self.assertRegex(s.text, r'(?m)^   #0  0x%08x  cmd_crash\+0x[0-9a-f]+$' % eip, 'the trace starts at EIP')

    def test_ud2(self):
        self.check_exception('ud2', 6, 'Invalid Opcode', '#UD')

    def test_div0(self):
        self.check_exception('div0', 0, 'Divide Error', '#DE')

    def test_gpf(self):
        # The error code of a bad segment load is the selector (0x1234).
        self.check_exception('gpf', 13, 'General Protection Fault', '#GP', 0x1234)

    def test_int3(self):
        self.check_exception('int3', 3, 'Breakpoint', '#BP')

    def test_panic(self):
        self.crash('panic', r'panic requested from the shell \(crash panic\)$')

    def test_assert(self):
        m, _ = self.crash('assert', r'assertion failed: zero == 1  in cmd_crash\(\) at ')
        self.assertRegex(m.serial_text(),
                         r'(?m)^ assertion failed: zero == 1  in cmd_crash\(\) at '
                         r'\S*cmd_system\.c:\d+$')


if __name__ == '__main__':
    unittest.main()
