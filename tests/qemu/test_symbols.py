"""Function names in the kernel's own reports: which symbol table the kernel
chose (GRUB's ELF .symtab when booted from the ISO, the built-in table with
QEMU -kernel), the panic screen's stack trace ("#1  0x00101234  cmd_crash+0x5c")
and the owner of an allocated frame ('frame <addr>').  Every name and offset
the kernel prints is checked against the kernel ELF, read here on its own."""

import re
import struct
import unittest

from kvqemu import KernelTestCase, kernel_path

SHF_EXECINSTR = 0x4
TRACE_LINE = re.compile(r'(?m)^   #(\d+)  0x([0-9a-f]{8})  (\S+)$')
NAME = re.compile(r'^(\S+)\+0x([0-9a-f]+)$')


class KernelSymbols:
    """What the kernel ELF says about its functions, and what each symbol
    source should hold."""

    def __init__(self, path):
        with open(path, 'rb') as f:
            data = f.read()
        assert data[:4] == b'\x7fELF' and data[4] == 1, 'a 32-bit ELF'
        shoff, = struct.unpack_from('<I', data, 32)
        shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 46)
        sections = [struct.unpack_from('<10I', data, shoff + i * shentsize)
                    for i in range(shnum)]

        def string(table, offset):
            start = sections[table][4] + offset
            return data[start:data.index(b'\0', start)].decode()

        self.grub_count = 0     # what the kernel should count in GRUB's table
        self.code = []          # (start, size, name, is FUNC) in executable sections
        for sh in sections:
            if sh[1] != 2:                                   # SHT_SYMTAB
                continue
            for at in range(sh[4], sh[4] + sh[5], 16):
                name, value, size, info, _, shndx = struct.unpack_from('<IIIBBH', data, at)
                name = string(sh[6], name)
                if info & 0xf not in (0, 2) or not name or shndx == 0 or shndx >= 0xff00:
                    continue
                self.grub_count += 1
                if sections[shndx][2] & SHF_EXECINSTR:
                    self.code.append((value, size, name, info & 0xf == 2))
        ksyms = [sh for sh in sections if string(shstrndx, sh[0]) == '.ksyms']
        assert ksyms, 'the kernel has a .ksyms section'
        magic, self.builtin_count = struct.unpack_from('<II', data, ksyms[0][4])
        assert magic == 0x4d59534b, 'the .ksyms header comes first'

    def starts(self, name):
        return {start for start, _, n, _ in self.code if n == name}

    def function_at(self, addr):
        """The function whose bytes include addr: a FUNC symbol by its size,
        or else the nearest assembly label at or below it."""
        for start, size, name, is_func in self.code:
            if is_func and start <= addr < start + size:
                return name
        labels = [(start, name) for start, size, name, is_func in self.code
                  if not is_func and start <= addr]
        return max(labels)[1] if labels else None


class SymbolsTest(KernelTestCase):

    @classmethod
    def setUpClass(cls):
        cls.image = KernelSymbols(kernel_path())

    def check_name(self, addr, text, is_return, context):
        """text is what the kernel printed for addr: 'name+0xOFF', naming
        the function that holds addr (addr - 1 for a return address)."""
        m = NAME.match(text)
        self.assertIsNotNone(m, 'no name for 0x%08x (%r)\n%s' % (addr, text, context))
        name, offset = m.group(1), int(m.group(2), 16)
        self.assertIn(addr - offset, self.image.starts(name),
                      '%s does not start at 0x%08x - 0x%x\n%s' % (name, addr, offset, context))
        self.assertEqual(name, self.image.function_at(addr - 1 if is_return else addr),
                         'the function at 0x%08x\n%s' % (addr, context))
        return name

    def panic_trace(self, boot, kind):
        """Boots, runs 'crash kind', and returns the names in the panic
        screen's stack trace, after checking each against the ELF."""
        m = self.boot(boot=boot)
        m.type('crash ' + kind)
        m.key('ret')
        s = m.wait_screen(r'^ Uptime \d+\.\d+ s\. ')
        frames = [(int(k), int(a, 16), n) for k, a, n in TRACE_LINE.findall(s.text)]
        self.assertGreaterEqual(len(frames), 3, s)
        self.assertEqual([k for k, _, _ in frames], list(range(len(frames))), s)
        # A trap's trace starts at the faulting EIP itself; the rest (and
        # all of a panic() call's) are return addresses.
        eip = re.search(r'(?m)^ at EIP 0x([0-9a-f]{8}) ', s.text)
        names = []
        for k, addr, text in frames:
            exact = k == 0 and eip is not None
            if exact:
                self.assertEqual(addr, int(eip.group(1), 16), s)
            names.append(self.check_name(addr, text, not exact, s))
        serial = m.serial_text()
        for k, addr, text in frames:
            self.assertIn('   #%d  0x%08x  %s\n' % (k, addr, text), serial, 'mirrored on serial')
        self.assertEqual(names[0], 'cmd_crash', s)
        self.assertIn('shell_execute', names, s)
        self.assertIn('kmain', names, s)
        return names

    def test_source_with_qemu_kernel(self):
        """-kernel: no section headers, so the built-in table."""
        m = self.boot()
        found = m.wait_serial(r'^symbols: (.*)$')
        self.assertEqual(found.group(1), 'built-in table (%d symbols)' % self.image.builtin_count)
        # A detail for the serial log: the boot screen has no room for it.
        self.assertNotIn('symbols: ', m.screen().text)

    def test_source_with_grub(self):
        """GRUB: flag bit 5, and the .symtab it loaded."""
        m = self.boot(boot='iso')
        found = m.wait_serial(r'^symbols: (.*)$')
        self.assertEqual(found.group(1), 'GRUB ELF symtab (%d symbols)' % self.image.grub_count)
        # A detail for the serial log: the boot screen has no room for it.
        self.assertNotIn('symbols: ', m.screen().text)

    def test_panic_trace_names(self):
        """Both sources name the same functions for the same crash: a
        panic() call (return addresses only) and an exception (EIP first)."""
        for kind in ('panic', 'ud2'):
            traces = {}
            for boot in ('kernel', 'iso'):
                with self.subTest(kind=kind, boot=boot):
                    traces[boot] = self.panic_trace(boot, kind)
            if len(traces) == 2:
                self.assertEqual(traces['kernel'], traces['iso'], kind)

    def test_frame_owner_named(self):
        """'frame <addr>' names the function that allocated the frame."""
        for boot in ('kernel', 'iso'):
            with self.subTest(boot=boot):
                m = self.boot(boot=boot)
                out = m.run_command('alloc')
                addr = re.search(r'^alloc: frame (0x[0-9a-f]{8}),', out, re.M).group(1)
                out = m.run_command('frame ' + addr)
                owner = re.search(r'allocated by 0x([0-9a-f]{8}) \((\S+)\)', out)
                self.assertIsNotNone(owner, out)
                name = self.check_name(int(owner.group(1), 16), owner.group(2), True, out)
                self.assertEqual(name, 'cmd_alloc', out)


if __name__ == '__main__':
    unittest.main()
