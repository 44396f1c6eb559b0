"""The frame allocator from the keyboard, and where it keeps its hands off.

Reservations are checked against facts read from the kernel ELF itself (the
image's extent, the sizes of .symtab and .strtab that GRUB loads), and the
in-kernel self-test, booted from GRUB across memory sizes, allocates every
free frame and checks none of them lies in a reservation.
"""

import re
import struct
import unittest

from kvqemu import KernelTestCase, kernel_path

MIB = 1 << 20
FIRST_MIB = 'first MiB (IVT, BIOS data, EBDA, VGA, ROM)'


def elf_facts(path):
    """(image start, image end incl. .bss, {section name: size}) of an ELF32."""
    data = open(path, 'rb').read()
    shoff, = struct.unpack_from('<I', data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x2e)
    headers = [struct.unpack_from('<IIIIIIIIII', data, shoff + i * shentsize)
               for i in range(shnum)]
    names_off = headers[shstrndx][4]

    def name(h):
        end = data.index(b'\0', names_off + h[0])
        return data[names_off + h[0]:end].decode()

    loaded = [(h[3], h[3] + h[5]) for h in headers if h[2] & 2 and h[5]]   # SHF_ALLOC
    sizes = {name(h): h[5] for h in headers}
    return min(s for s, _ in loaded), max(e for _, e in loaded), sizes


RANGE_LINE = re.compile(r'^  \[0x([0-9a-f]{8})-0x([0-9a-f]{8})\] (\S+) +\S+ \S+  (.*)$', re.M)


def boot_ranges(text):
    return [(int(m.group(1), 16), int(m.group(2), 16) + 1, m.group(3), m.group(4))
            for m in RANGE_LINE.finditer(text)]


class FramesTest(KernelTestCase):

    def test_reservations_match_the_image(self):
        """`frames boot` reserves the first MiB, the whole image, the boot
        stack, the Multiboot data and the bitmap; from GRUB also the symbol
        and string tables it loaded, whose sizes the ELF file tells."""
        start, end, sizes = elf_facts(kernel_path())
        for boot in ('kernel', 'iso'):
            with self.subTest(boot=boot):
                m = self.boot(boot=boot)
                ranges = boot_ranges(m.run_command('frames boot'))
                by_what = {}
                for s, e, tag, what in ranges:
                    by_what.setdefault(what, []).append((s, e, tag))
                self.assertEqual(by_what[FIRST_MIB], [(0, MIB, 'reserved')])
                (ks, ke, tag), = by_what['kernel image']
                self.assertEqual(tag, 'kernel')
                self.assertLessEqual(ks, start)
                self.assertGreaterEqual(ke, end)
                self.assertIn('boot stack', by_what)
                self.assertIn('Multiboot information', by_what)
                self.assertIn('memory map', by_what)
                (bs, be, tag), = by_what['frame bitmap and records']
                self.assertEqual(tag, 'bitmap')
                self.assertGreaterEqual(bs, MIB)
                for s, e, _, what in ranges:
                    if what not in ('frame bitmap and records', FIRST_MIB):
                        self.assertFalse(s < be and bs < e, 'bitmap overlaps ' + what)
                loaded = sorted(e - s for s, e, _ in by_what.get('ELF section loaded by GRUB', []))
                if boot == 'iso':
                    # GRUB loads .symtab and .strtab (and .shstrtab) past the image.
                    for section in ('.symtab', '.strtab'):
                        self.assertIn(sizes[section], loaded, section)
                    self.assertIn('ELF section headers', by_what)
                else:
                    self.assertEqual(loaded, [], '-kernel loads no extra sections')
                m.close()

    def test_selftest_across_sizes(self):
        """The in-kernel tests (allocate every frame, none inside a
        reservation; runs contiguous and aligned; bad frees and bad
        allocations refused) pass from GRUB with 16 MiB, 128 MiB and 5 GiB,
        and on q35."""
        for mem, machine in (('16M', None), ('128M', None), ('5G', None), ('3G', 'q35')):
            with self.subTest(mem=mem, machine=machine):
                m = self.boot(boot='iso', cmdline='selftest', mem=mem, machine=machine,
                              wait_prompt=False)
                status = m.wait_exit(timeout=120)
                log = m.serial_text()
                self.assertEqual(status, 33, log[-2000:])
                self.assertRegex(log, r'selftest: PASS pmm-exhaust-and-return')
                self.assertRegex(log, r'selftest: PASS pmm-bad-allocs')
                self.assertRegex(log, r'pmm: error: alloc of 0 frames aligned to 0x1000 '
                                      r'from 0x[0-9a-f]{8}: no frames asked for')
                self.assertRegex(log, r'pmm: error: alloc of 2 frames aligned to 0x3000 '
                                      r'from 0x[0-9a-f]{8}: the alignment is not a power of '
                                      r'two of at least 4 KiB')
                self.assertRegex(log, r'selftest: \d+ passed, 0 failed')

    def test_commands_as_a_person_uses_them(self):
        m = self.boot()
        out = m.run_command('frames')
        free0 = int(re.search(r'^  free +(\d+)', out, re.M).group(1))
        boot_allocs = int(re.search(r'^  allocated +(\d+)', out, re.M).group(1))
        self.assertRegex(out, r'since boot: %d frames allocated, 0 freed' % boot_allocs)
        out = m.run_command('alloc')
        addr = re.search(r'^alloc: frame (0x[0-9a-f]{8}), tag user$', out, re.M).group(1)
        out = m.run_command('frame ' + addr)
        self.assertRegex(out, r'frame %s: allocated, tag user, 1 reference, allocated by 0x' % addr)
        self.assertIn('memory map: available', out)
        out = m.run_command('refs %s +' % addr)
        self.assertIn('2 references', out)
        out = m.run_command('free ' + addr)
        self.assertRegex(out, r'pmm: error: bad free of %s \(1 frame\) from 0x[0-9a-f]{8}: '
                              r'still shared; nothing was freed' % addr)
        m.run_command('refs %s -' % addr)
        out = m.run_command('free ' + addr)
        self.assertIn('free: 1 frame at %s free again' % addr, out)
        out = m.run_command('free ' + addr)
        self.assertRegex(out, r'bad free of %s .*: not allocated \(already free\); nothing was '
                              r'freed' % addr)
        out = m.run_command('refs %s -' % addr)
        self.assertRegex(out, r'unref of %s from 0x[0-9a-f]{8} refused: not allocated' % addr)

        out = m.run_command('alloc 16 DMA')
        first, last = re.search(r'^alloc: 16 frames (0x[0-9a-f]{8})-(0x[0-9a-f]{8}), tag DMA$',
                                out, re.M).groups()
        self.assertEqual(int(last, 16) - int(first, 16) + 1, 16 * 4096)
        out = m.run_command('frames')
        self.assertEqual(int(re.search(r'^  free +(\d+)', out, re.M).group(1)), free0 - 16)
        # Paging allocated its page tables and the double-fault stack at
        # boot: those are in the totals too (boot_allocs, read at the start).
        self.assertRegex(out, r'(?m)^  allocated +%d ' % (boot_allocs + 16))
        self.assertRegex(out, r'DMA 16')
        self.assertIn('since boot: %d frames allocated, 1 freed; 0 failed allocations, '
                      '3 bad frees' % (boot_allocs + 17), out)
        # More frames than are free: refused, said aloud, counted, and
        # nothing else changes.
        out = m.run_command('alloc %d' % free0)
        self.assertRegex(out, r'pmm: warning: out of memory: no run of %d free frames '
                              r'\(caller 0x[0-9a-f]{8}, %d free\)' % (free0, free0 - 16))
        self.assertIn('alloc: no run of %d free frames' % free0, out)
        out = m.run_command('frames')
        self.assertEqual(int(re.search(r'^  free +(\d+)', out, re.M).group(1)), free0 - 16)
        self.assertIn('since boot: %d frames allocated, 1 freed; 1 failed allocations, '
                      '3 bad frees' % (boot_allocs + 17), out)
        m.run_command('free %s 16' % first)
        out = m.run_command('frames check')
        self.assertIn('every invariant holds', out)
        s = m.screen()
        self.assertIsNotNone(s.find('every invariant holds'))

    def test_freed_frames_wait_in_a_queue(self):
        """A frame freed on its own waits in the zone's queue (`frames` says
        how many); allocations take the oldest first; a run drains it."""
        m = self.boot()
        got = []
        for _ in range(3):
            out = m.run_command('alloc')
            got.append(re.search(r'^alloc: frame (0x[0-9a-f]{8}), tag user$', out, re.M).group(1))
        a, b, c = got
        self.assertNotRegex(m.run_command('frames'), r'queued')
        m.run_command('free ' + a)
        m.run_command('free ' + b)
        out = m.run_command('frames')
        self.assertRegex(out, r'(?m)^  free .*\(2 queued: the next out\)$')
        self.assertRegex(m.run_command('frame ' + a),
                         r'frame %s: free, queued: 1 of 2 to go out, tag free' % a)
        self.assertRegex(m.run_command('frame ' + b),
                         r'frame %s: free, queued: 2 of 2 to go out, tag free' % b)
        out = m.run_command('alloc')
        self.assertIn('alloc: frame %s, tag user' % a, out)  # the oldest first
        out = m.run_command('alloc')
        self.assertIn('alloc: frame %s, tag user' % b, out)
        self.assertNotRegex(m.run_command('frames'), r'queued')
        m.run_command('free ' + c)
        self.assertRegex(m.run_command('frames'), r'\(1 queued: the next out\)')
        out = m.run_command('alloc 2')
        self.assertRegex(out, r'^alloc: 2 frames ', )
        self.assertNotRegex(m.run_command('frames'), r'queued')  # a run drains the queue
        self.assertIn('every invariant holds', m.run_command('frames check'))

    def test_trace_and_history(self):
        """With trace=pmm every allocation and free is a serial line naming
        its caller; `frames history` counts them by second."""
        m = self.boot(cmdline='trace=pmm')
        boot_allocs = int(re.search(r'since boot: (\d+) frames allocated',
                                    m.run_command('frames')).group(1))
        out = m.run_command('alloc 2 heap')
        first = re.search(r'alloc: 2 frames (0x[0-9a-f]{8})-', out).group(1)
        self.assertRegex(out, r'(?m)^trace pmm: alloc 2 frames at %s tag heap '
                              r'\[caller 0x[0-9a-f]{8}\]$' % first)
        out = m.run_command('free %s 2' % first)
        self.assertRegex(out, r'(?m)^trace pmm: free 2 frames at %s \[caller 0x[0-9a-f]{8}\]$'
                         % first)
        self.assertNotIn('trace pmm', m.screen().text, 'trace lines go to serial only')
        out = m.run_command('frames history')
        rows = re.findall(r'(?m)^ +(\d+) +(\d+) +[+ ](\d+) +[+ ](\d+)$', out)
        self.assertTrue(rows, out)
        # The first row holds the totals at that second, the others what
        # each second added: together, the 2 frames allocated and freed
        # (and what paging allocated at boot).
        self.assertEqual(sum(int(r[2]) for r in rows), boot_allocs + 2, out)
        self.assertEqual(sum(int(r[3]) for r in rows), 2, out)
        last_free = int(rows[-1][1])
        frames = m.run_command('frames')
        self.assertEqual(int(re.search(r'^  free +(\d+)', frames, re.M).group(1)), last_free)
        m2 = self.boot()
        m2.run_command('alloc')
        self.assertNotIn('trace pmm', m2.serial_text(), 'no trace lines when the switch is off')

    def test_bad_arguments(self):
        m = self.boot()
        cases = [
            ('alloc 0', "alloc: bad frame count: '0' is out of range"),
            ('alloc kernel', "alloc: 'kernel' is not a tag for allocations"),
            ('alloc 2 nope', "alloc: 'nope' is not a tag for allocations"),
            ('alloc 99999999', "alloc: bad frame count: '99999999' is out of range"),
            ('free', 'free: missing argument'),
            ('free xyz', "free: bad address: 'xyz' is not a number"),
            ('free 0x100000000', "free: bad address: '0x100000000' is out of range"),
            ('frame', 'frame: missing argument'),
            ('refs 0x200000 *', "refs: say + or -, not '*'"),
            ('frames nope', "frames: no view 'nope'"),
        ]
        for line, message in cases:
            with self.subTest(line=line):
                out = m.run_command(line)
                self.assertIn(message, out)
                self.assertIn('usage: ' + line.split()[0], out)
        out = m.run_command('free 0x200001')
        self.assertIn('bad free of 0x00200001 (1 frame) from', out)
        self.assertIn('not 4 KiB-aligned; nothing was freed', out)
        out = m.run_command('free 0x1000')
        self.assertIn('reserved; nothing was freed', out)
        out = m.run_command('frame 0x7ffff000')
        self.assertIn('not tracked (past the end of usable RAM)', out)


if __name__ == '__main__':
    unittest.main()
