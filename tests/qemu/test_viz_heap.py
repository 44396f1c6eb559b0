"""F4, the heap view: a block allocated at the prompt shows up in the
totals, colours its page in the strip, and is named when the cursor is on
that page; after kfree it is gone; a guarded block is drawn between its two
guard pages.

The view's layout (src/viz/heap_view.h): rows 1-2 totals, row 3 the strip's
heading ("Heap pages 0x...-0x... (N used so far), K page(s) a cell"), rows
4-8 the strip (an address, then 64 cells from column 9), row 9 a triangle
under the cursor's column, rows 10-12 the zoom of the cursor's page (64
bytes a cell), rows 13-14 the block on it, rows 15-17 guarded blocks,
rows 18-19 blocks by tag.  The cursor's strip row has its address lit.
"""

import re

from kvqemu import KernelTestCase, BLACK, DARK_GREY, LIGHT_GREY, LIGHT_RED, vga_attr

STRIP_TOP, STRIP_LEFT, COLS = 4, 9, 64
ZOOM = 11
LIT = vga_attr(BLACK, LIGHT_GREY)
MARKER = '\x1e'  # CP437 triangle (Python's cp437 keeps 0x00-0x1f as controls)
USED_CHARS = '\u2588\u2593\u2592\u2591'


class HeapViewTest(KernelTestCase):

    def open_heap(self, m):
        m.key('f4')
        # (The keys row is flushed last: once it is there, the whole
        # first frame is.)
        return m.wait_screen(lambda s: 'Kernel heap' in s.lines[0] and
                             s.lines[1].startswith(' Live ') and
                             s.lines[3].startswith(' Heap pages') and
                             'Esc shell' in s.lines[24])

    def live_blocks(self, s):
        return int(re.match(r' Live (\d+) blocks', s.lines[1]).group(1))

    def cell_of(self, s, addr):
        """(row, col) of the strip cell holding the page of addr."""
        found = re.match(r' Heap pages 0x([0-9a-f]{8})-0x([0-9a-f]{8}) \((\d+) used so far\), '
                         r'(\d+) pages? a cell', s.lines[3])
        self.assertTrue(found, s.lines[3])
        base, per = int(found.group(1), 16), int(found.group(4))
        i = ((addr - base) >> 12) // per
        return STRIP_TOP + i // COLS, STRIP_LEFT + i % COLS

    def cursor(self, s):
        """(row, col) of the cursor: its row's address is lit, its column
        has the triangle under the strip."""
        rows = [r for r in range(STRIP_TOP, STRIP_TOP + 5) if s.attr(r, 0) == LIT]
        cols = [c for c in range(80) if s.char(STRIP_TOP + 5, c) == MARKER]
        self.assertEqual((len(rows), len(cols)), (1, 1), str(s))
        return rows[0], cols[0]

    def move_to(self, m, s, where):
        """Arrows from the cursor to where; the screen once it is there."""
        row, col = self.cursor(s)
        # Along the row first when going down (the last row may be short),
        # up first otherwise: every step then lands on a page.
        across = ['right'] * (where[1] - col) + ['left'] * (col - where[1])
        keys = (across + ['down'] * (where[0] - row) if where[0] > row
                else ['up'] * (row - where[0]) + across)
        if keys:
            m.key(*keys)
        page_row = lambda t: [r for r in range(STRIP_TOP, STRIP_TOP + 5) if t.attr(r, 0) == LIT]
        return m.wait_screen(lambda t: page_row(t) == [where[0]] and
                             t.char(STRIP_TOP + 5, where[1]) == MARKER)

    def tag_colour(self, s, tag):
        at = s.find(' %s ' % tag, 18)
        self.assertIsNotNone(at, str(s))
        self.assertIn(at[0], (18, 19))
        self.assertEqual(s.char(at[0], at[1] - 1), '\u2588')
        return s.fg(at[0], at[1] - 1)

    def test_block_page_zoom_free_guard(self):
        m = self.boot()
        s = self.open_heap(m)
        blocks0 = self.live_blocks(s)
        m.key('esc')
        m.wait_prompt()

        out = m.run_command('kmalloc 3000 mytag')
        addr = int(re.match(r'kmalloc: 3000 bytes at 0x([0-9a-f]{8}) \(tag mytag\)', out)
                   .group(1), 16)
        page = addr & ~0xfff
        s = self.open_heap(m)
        self.assertEqual(self.live_blocks(s), blocks0 + 1, s.lines[1])

        # The page is drawn in mytag's colour (the legend says which), not
        # as a free page.
        colour = self.tag_colour(s, 'mytag')
        self.assertNotEqual(colour, DARK_GREY)
        cell = self.cell_of(s, addr)
        self.assertIn(s.char(*cell), USED_CHARS, str(s))
        self.assertEqual(s.fg(*cell), colour, s.describe_attrs())

        # The cursor on it: the zoom shows that page and the info rows name
        # the block, its tag and who allocated it.
        s = self.move_to(m, s, cell)
        s = m.wait_screen(r'tag mytag, allocated by\s+(\n\s+)?cmd_kmalloc')
        self.assertIn('Page 0x%08x' % page, s.row(10))
        self.assertIn('0x%08x' % addr, s.row(13))
        info = ' '.join(s.row(r).strip() for r in (13, 14))
        self.assertRegex(info, r'3000-byte heap block at 0x%08x \(\+0; tag mytag' % addr)
        # In the zoom, the object's bytes are in the tag's colour, and the
        # 16-byte debug header just before it shows red.
        first = STRIP_LEFT + (addr & 0xfff) // 64
        last = STRIP_LEFT + ((addr + 2999) & 0xfff) // 64
        inner = range(first + 1, min(last, STRIP_LEFT + 63))
        self.assertEqual({s.fg(ZOOM, c) for c in inner}, {colour}, s.describe_attrs())
        head = STRIP_LEFT + ((addr - 16) & 0xfff) // 64
        self.assertIn(LIGHT_RED, (s.fg(ZOOM, head), s.bg(ZOOM, head)), s.describe_attrs())
        m.key('esc')
        m.wait_prompt()

        # Freed: the totals go back, the page holds no live block any more.
        self.assertEqual(m.run_command('kfree 0x%x' % addr), 'kfree: 0x%08x freed\n' % addr)
        s = self.open_heap(m)
        self.assertEqual(self.live_blocks(s), blocks0, s.lines[1])
        self.assertIsNone(s.find(' mytag ', 18), str(s))
        cell = self.cell_of(s, addr)
        # A free page (dim grey) or, if the heap kept the slab, an empty one
        # (a light shade: no live slot).
        self.assertTrue(s.fg(*cell) == DARK_GREY or s.char(*cell) == '\u2591', str(s))
        s = self.move_to(m, s, cell)
        s = m.wait_screen(lambda t: 'Page 0x%08x' % page in t.row(10))
        self.assertNotIn('mytag', s.row(13) + s.row(14))
        m.key('esc')
        m.wait_prompt()

        # A guarded block (its overflow faults and is survived): drawn
        # between two guard pages, with the pages' addresses.
        out = m.run_command('heap guard')
        g = int(re.search(r'kmalloc_guarded\(100\) = 0x([0-9a-f]{8})', out).group(1), 16)
        body = g + 100 - 4096
        s = self.open_heap(m)
        self.assertRegex(s.row(15), r'Guarded blocks: 1\b')
        at = s.find('0x%08x 100 B tag demo' % g)
        self.assertIsNotNone(at, str(s))
        self.assertIn('guard pages 0x%08x, 0x%08x' % (body - 4096, body + 4096), s.row(at[0]))
        r = at[0]
        self.assertEqual([s.char(r, c) for c in (1, 2, 3)], ['\u2592', '\u2588', '\u2592'])
        self.assertEqual((s.fg(r, 1), s.fg(r, 3)), (LIGHT_RED, LIGHT_RED))
        self.assertEqual(s.fg(r, 2), self.tag_colour(s, 'demo'))
        m.key('esc')
        s = m.wait_prompt()
        self.assertNotIn('Kernel heap', s.text)

    def test_keys_at_the_edges(self):
        """A key that goes nowhere says so on the message row; the view
        stays and Esc still leaves."""
        m = self.boot()
        s = self.open_heap(m)
        m.key('home')
        s = m.wait_screen(lambda t: t.attr(STRIP_TOP, 0) == LIT and
                          t.char(STRIP_TOP + 5, STRIP_LEFT) == MARKER)
        m.key('left')
        s = m.wait_screen(r"The cursor is on the heap's first page\.")
        m.key('x')
        s = m.wait_screen(r'Here: arrows move')
        self.assertEqual(s.attr(22, 1), vga_attr(BLACK, 14))
        m.key('esc')
        m.wait_prompt()


if __name__ == '__main__':
    import unittest
    unittest.main()
