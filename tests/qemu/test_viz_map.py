"""F1, the memory-map view: what a person sees on the screen, checked
against what the shell's `memmap` prints for the same machine.

The view's layout (src/viz/map_view.c): row 1 the header, then bars of
three rows each (title, cells, a marker row with a triangle under the
selected region's cells), a legend row, the table (a heading, then one
region or hole a row, the selected one lit), and the info rows 20-22.
"""

import re

from kvqemu import KernelTestCase, vga_attr, BLACK, LIGHT_GREY, LIGHT_GREEN, LIGHT_RED, \
    YELLOW, BROWN, LIGHT_MAGENTA, DARK_GREY, LIGHT_CYAN

ROW_RX = re.compile(r'0x([0-9a-f]{16}) 0x([0-9a-f]{16}) +[\d.]+ [KMGT]?i?B  (\S.*?)\s*$')
MEMMAP_RX = re.compile(r'^\[(mem|gap) 0x([0-9a-f]{16})-0x([0-9a-f]{16})\] (.*?)\s{2,}', re.M)
LIT = vga_attr(BLACK, LIGHT_GREY)
MARKER = '\x1e'  # CP437 0x1e, a triangle (Python's cp437 keeps 0x00-0x1f as controls)
TYPE_COLOURS = {'available': LIGHT_GREEN, 'reserved': LIGHT_RED, 'ACPI reclaimable': YELLOW,
                'ACPI NVS': BROWN, 'unusable': LIGHT_MAGENTA, 'hole': DARK_GREY}


def memmap_rows(out):
    """(start, last, type) of every line of `memmap`, holes as 'hole'."""
    return [(int(a, 16), int(b, 16), 'hole' if kind == 'gap' else t.strip())
            for kind, a, b, t in MEMMAP_RX.findall(out)]


def table(screen):
    """{row: (start, last, type)} of the table rows on the screen."""
    rows = {}
    for r in range(2, 20):
        found = ROW_RX.search(screen.lines[r])
        if found:
            t = found.group(3)
            rows[r] = (int(found.group(1), 16), int(found.group(2), 16),
                       'hole' if t.startswith('(not in the map)') else
                       t.replace('above 4G', '').replace('across 4G', '').strip())
    return rows


def lit_rows(s):
    """[(row, entry)] of the table rows drawn lit (the selection)."""
    return [(r, e) for r, e in table(s).items() if s.attr(r, 10) == LIT]


def lit_entry(s):
    """The selected entry, or None while the screen shows no single one."""
    lit = lit_rows(s)
    return lit[0][1] if len(lit) == 1 else None


class MapViewTest(KernelTestCase):

    def open_map(self, m):
        m.key('f1')
        # (The keys row is flushed last: once it is there, the whole
        # first frame is.)
        return m.wait_screen(lambda s: 'Physical memory map' in s.lines[0] and
                             s.lines[1].startswith(' RAM ') and table(s) and
                             'Esc shell' in s.lines[24])

    def selected(self, s):
        """(row, entry) of the lit table row."""
        lit = lit_rows(s)
        self.assertEqual(len(lit), 1, s.describe_attrs())
        return lit[0]

    def test_header_legend_table_selection(self):
        m = self.boot()
        out = m.run_command('memmap')
        want = memmap_rows(out)
        self.assertGreaterEqual(len(want), 6, out)
        entries, regions = map(int, re.search(r'(\d+) entries, (\d+) regions after cleaning',
                                              out).groups())
        s = self.open_map(m)

        # The header: RAM, usable below 4G, the firmware's count and the clean one.
        self.assertRegex(s.row(1), r'^ RAM 127\.5 MiB, usable below 4G 127\.5 MiB \| '
                                   r'firmware: %d entries -> %d regions$' % (entries, regions))

        # The legend: each type's name after a swatch in its colour.
        legend = [r for r in range(2, 13) if 'ACPI reclaimable' in s.lines[r]]
        self.assertEqual(len(legend), 1, str(s))
        r = legend[0]
        for name, colour in TYPE_COLOURS.items():
            c = s.lines[r].find(' ' + name + ' ') + 1
            self.assertGreater(c, 1, name)
            self.assertIn(s.char(r, c - 2), '\u2588\u2591', name)
            self.assertEqual(s.fg(r, c - 2), colour, name)

        # The table: the rows `memmap` printed, in order, each with its
        # swatch; walking to the end with Down scrolls the rest into view.
        shown = {}
        for _ in range(len(want)):
            for row, e in table(s).items():
                shown[e[0]] = e
                self.assertEqual(s.fg(row, 1), TYPE_COLOURS[e[2]], e)
            row, first = self.selected(s)
            m.key('down')
            s = m.wait_screen(lambda t, prev=first: lit_entry(t) not in (None, prev) or
                              'last row' in t.lines[1])
        self.assertEqual([shown[k] for k in sorted(shown)], want, str(s))
        self.assertIn('This is the last row of the map.', s.row(1))

        # Back to the top: the first row is lit, Down lights the second and
        # the info rows and the marker under the first MiB's bar follow it.
        m.key('home')
        s = m.wait_screen(lambda t: lit_entry(t) == want[0] and '0x0-' in t.row(20))
        info0 = s.lines[20:23]
        self.assertIn('0x0-0x9fbff', s.row(20))
        self.assertIn('available', s.row(21))
        self.assertRegex(s.row(22), r'Kernel: frames \d+ free, \d+ allocated, \d+ reserved')
        m.key('down')
        s = m.wait_screen(lambda t: lit_entry(t) == want[1] and '0x9fc00-' in t.row(20))
        self.assertNotEqual(s.lines[20:23], info0)
        self.assertIn('0x9fc00-0x9ffff', s.row(20))
        self.assertIn('reserved', s.row(21))
        # The first MiB: 80 cells of 12.8 KiB; 0x9fc00-0x9ffff is in cell 49.
        self.assertIn('The first MiB', s.row(2))
        self.assertEqual([c for c in range(80) if s.char(4, c) == MARKER], [49], str(s))
        self.assertEqual(s.fg(3, 49), LIGHT_GREEN)  # mostly available, mixed with reserved
        self.assertEqual(s.bg(3, 49), LIGHT_RED)

        m.key('esc')
        s = m.wait_prompt()
        self.assertNotIn('Physical memory map', s.text)
        self.assertEqual(m.run_command('echo back'), 'back\n')

    def test_above_4g(self):
        """With 5 GiB, the RAM above 4 GiB is listed, barred and explained as
        out of reach of a 32-bit kernel without PAE."""
        m = self.boot(mem='5G')
        want = memmap_rows(m.run_command('memmap'))
        far = [e for e in want if e[0] >= 1 << 32]
        self.assertEqual(far, [(1 << 32, 0x17fffffff, 'available')])
        s = self.open_map(m)
        self.assertRegex(s.row(1), r'^ RAM 5\.0 GiB, usable below 4G 3\.0 GiB ')
        at = s.find('Above 4 GiB')
        self.assertIsNotNone(at, str(s))
        bar = at[0] + 1
        self.assertEqual({s.fg(bar, c) for c in range(80)}, {LIGHT_GREEN})
        m.key('end')
        s = m.wait_screen(lambda t: lit_entry(t) == far[0] and '0x100000000-' in t.row(20))
        row, _ = self.selected(s)
        self.assertIn('above 4G', s.lines[row])
        self.assertIn('0x100000000-0x17fffffff', s.row(20))
        self.assertIn('above 4G, past the PCI hole', s.row(20))
        self.assertIn('Above 4G is out of reach of this 32-bit kernel without PAE', s.row(22))
        self.assertEqual(s.fg(22, 10), LIGHT_CYAN)
        # Its whole bar is marked.
        self.assertEqual([c for c in range(80) if s.char(bar + 1, c) == MARKER],
                         list(range(80)))
        m.key('esc')
        m.wait_prompt()


if __name__ == '__main__':
    import unittest
    unittest.main()
