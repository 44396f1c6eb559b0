"""The page-tables view (F3), read off the VGA screen as a person sees it.

The directory grid (16 rows of 64 cells, one per directory entry) must
agree with what `pt` prints at the shell: the same CR3, the same entries
present; the walk of an address (`t`) must name the indexes and the frame
`map` reported, light the directory entry it went through, and say where
it stops for an address that is not mapped; Enter opens a table, Backspace
goes back, bad keys and bad addresses get a message, Esc gives the shell
its screen back.
"""

import re
import unittest

from kvqemu import (KernelTestCase, BLACK, DARK_GREY, LIGHT_BLUE, LIGHT_CYAN, LIGHT_GREEN,
                    LIGHT_GREY, LIGHT_RED, WHITE)

GRID_TOP, GRID_LEFT, GRID_COLS = 2, 12, 64
INFO_ROW, WALK_ROW, MESSAGE_ROW = 19, 19, 22
DOT, BLOCK, SQUARE, RECURSIVE = '\u00b7', '\u2588', '\u25a0', '\u221e'  # CP437 fa db fe ec
LIT_BG = LIGHT_RED
DIRECTORY_HEADER = r'CR3 0x([0-9a-f]{8}) \| (\d+) of 1024 PDEs present'


def cell(index):
    """(row, col) of grid cell `index` (a directory or table entry)."""
    return GRID_TOP + index // GRID_COLS, GRID_LEFT + index % GRID_COLS


class PagesViewTest(KernelTestCase):

    def open_view(self, m):
        m.key('f3')
        return m.wait_screen(DIRECTORY_HEADER)

    def info(self, m, pattern, row=INFO_ROW):
        """Waits for `pattern` at the start of `row` and returns the screen."""
        rx = re.compile(pattern)
        return m.wait_screen(lambda s: rx.match(s.row(row).lstrip()))

    def assertStopsInRed(self, s, text):
        at = s.find(text)
        self.assertIsNotNone(at, '%r not on the screen\n%s' % (text, s))
        self.assertEqual(s.fg(*at), LIGHT_RED, 'where a walk stops is said in red\n%s' % s)

    def test_directory_matches_pt(self):
        m = self.boot()
        out = m.run_command('pt')
        cr3 = re.search(r'page directory at 0x([0-9a-f]{8}) \(CR3\)', out).group(1)
        listed = {int(i) for i in re.findall(r'PDE\[\s*(\d+)\]', out)}
        self.assertIn(0, listed)
        self.assertIn(1023, listed)

        s = self.open_view(m)
        self.assertIn('Page tables', s.row(0))
        header = re.search(DIRECTORY_HEADER, s.text)
        self.assertEqual(header.group(1), cr3, 'the header shows the CR3 `pt` printed')
        self.assertEqual(int(header.group(2)), len(listed))
        # The cursor starts on entry 0: the first 4 MiB, the kernel's.
        s = self.info(m, r'PDE\[0\] 0x00000000-0x003fffff = 0x[0-9a-f]{8}: present writable')
        self.assertIn('-> page table at 0x', s.row(INFO_ROW + 1))
        self.assertRegex(s.row(INFO_ROW + 2), r'regions: .*kernel')
        self.assertEqual(s.char(*cell(0)), SQUARE)
        self.assertEqual(s.bg(*cell(0)), LIGHT_GREEN, 'the cursor shows the cell colour')

        # Off the cursor, cell 0 is a kernel read-write table: a green block;
        # every entry `pt` listed is drawn present, every other one a dot.
        m.key('right')
        s = self.info(m, r'PDE\[1\] ')
        self.assertEqual(s.char(*cell(0)), BLOCK)
        self.assertAttr(s, *cell(0), LIGHT_GREEN | BLACK << 4)
        for i in range(1024):
            if i == 1:
                continue  # under the cursor
            shown_present = s.char(*cell(i)) != DOT
            self.assertEqual(shown_present, i in listed,
                             'PDE[%d] drawn %s\n%s' % (i, s.char(*cell(i)), s))
            if not shown_present:
                self.assertEqual(s.fg(*cell(i)), DARK_GREY)
        self.assertEqual(s.char(*cell(1023)), RECURSIVE, 'the recursive slot is marked')
        self.assertAttr(s, *cell(1023), BLACK | LIGHT_CYAN << 4)
        self.assertIn(RECURSIVE + ' recursive', s.row(18), 'the legend explains it')
        self.assertEqual(s.row(2)[1:11], '0x00000000')
        self.assertEqual(s.row(17)[1:11], '0xf0000000')

        m.key('end')
        s = self.info(m, r'PDE\[1023\] 0xffc00000-0xffffffff = 0x%s' % cr3[:5])
        self.assertIn('the directory itself', s.row(INFO_ROW + 1))
        self.assertIn('page-table window', s.row(INFO_ROW + 2))

    def test_walk_of_a_mapped_page(self):
        m = self.boot()
        out = m.run_command('map 0x50000000')
        frame = re.search(r'mapped 0x50000000 -> 0x([0-9a-f]{8})', out).group(1)
        self.open_view(m)
        m.key('t')
        m.wait_screen(r'translate: _')
        m.type('50000000')
        m.wait_screen(r'translate: 50000000_')
        m.key('ret')
        m.wait_screen(r'virtual 0x50000000 = directory index 320 \| table index 0 \| '
                      r'offset 0x000')
        # The walk is drawn row by row: read it once its last row is there.
        s = m.wait_screen(r'= physical 0x%s' % frame)
        self.assertRegex(s.row(WALK_ROW),
                         r'virtual 0x50000000 = directory index 320 \| table index 0 \| '
                         r'offset 0x000')
        self.assertRegex(s.row(WALK_ROW + 1),
                         r'CR3 0x[0-9a-f]{8} -> PDE\[320\] = 0x[0-9a-f]{8} \(table at 0x')
        self.assertRegex(s.row(WALK_ROW + 2), r'-> PTE\[0\] = 0x%s\w{3} -> frame 0x%s \+ 0x000 '
                         r'= physical 0x%s' % (frame[:5], frame, frame))
        # The directory entry the walk went through is lit; its neighbours not.
        self.assertEqual(s.bg(*cell(320)), LIT_BG)
        self.assertEqual(s.bg(*cell(321)), BLACK)
        self.assertEqual(s.bg(*cell(319)), BLACK)
        self.assertIn('Enter opens its table', s.row(MESSAGE_ROW))

        # Enter opens that table, the walk's entry lit and present.
        m.key('ret')
        s = m.wait_screen(r'PDE\[320\] -> table 0x[0-9a-f]{8} \| 1 of 1024 PTEs present')
        s = self.info(m, r'PTE\[0\] page 0x50000000 = 0x%s\w{3}: present writable' % frame[:5])
        self.assertRegex(s.row(INFO_ROW + 1), r'-> frame 0x%s: allocated, tag user, 1 ref'
                         % frame)
        self.assertEqual(s.bg(*cell(0)), LIT_BG)
        self.assertEqual(s.char(*cell(1)), DOT)
        self.assertEqual(s.row(2)[1:11], '0x50000000')
        self.assertEqual(s.row(3)[1:11], '0x50040000')

        # Off the cursor the page keeps its light: a square on red.
        m.key('right')
        s = self.info(m, r'PTE\[1\] page 0x50001000 = 0x00000000: not present')
        self.assertStopsInRed(s, 'not present: an access to 0x50001000-0x50001fff page-faults')
        self.assertAttr(s, *cell(0), WHITE | LIT_BG << 4)
        self.assertEqual(s.char(*cell(0)), SQUARE)
        # `u` goes back up: the directory, the walk's entry still lit.
        m.key('u')
        s = m.wait_screen(DIRECTORY_HEADER)
        s = self.info(m, r'PDE\[320\] 0x50000000-0x503fffff = 0x[0-9a-f]{8}: present')
        self.assertEqual(s.bg(*cell(320)), LIT_BG)

    def test_walk_of_the_last_fault(self):
        m = self.boot()
        m.run_command('pf 0x60000000 w')
        self.open_view(m)
        m.key('t')
        s = m.wait_screen(r'translate: _ +hex, Enter walks \(empty: last fault 0x60000000\)')
        m.key('ret')
        s = m.wait_screen(r'virtual 0x60000000 = directory index 384 \| table index 0 \| '
                          r'offset 0x000')
        self.assertRegex(s.row(WALK_ROW + 1), r'-> PDE\[384\] = 0x00000000: not present$')
        self.assertStopsInRed(s, ': not present')
        self.assertIn('no table covers 0x60000000-0x603fffff: an access here page-faults',
                      s.row(WALK_ROW + 2))
        self.assertIn("walk of the last fault's address", s.row(MESSAGE_ROW))
        self.assertEqual(s.bg(*cell(384)), LIT_BG)
        # Nothing to open there: a message, and the view goes on.
        m.key('ret')
        s = m.wait_screen(r'PDE\[384\] \(0x60000000-0x603fffff\) is not present: no table to '
                          r'open')
        self.assertEqual(s.fg(MESSAGE_ROW, 1), LIGHT_RED)
        m.key('down')
        self.info(m, r'PDE\[448\] 0x70000000-0x703fffff = 0x00000000: not present')

    def test_keys_messages_and_leaving(self):
        m = self.boot()
        m.run_command('echo before the view')
        before = m.screen()
        self.open_view(m)
        # An unmapped entry: Enter says there is nothing to open.
        m.key('down', 'down', 'down', 'down')
        self.info(m, r'PDE\[256\] 0x40000000-0x403fffff = 0x00000000: not present')
        m.key('ret')
        s = m.wait_screen(r'PDE\[256\] \(0x40000000-0x403fffff\) is not present: no table to '
                          r'open')
        self.assertIsNotNone(re.search(DIRECTORY_HEADER, s.text), 'still the directory')
        self.assertEqual(s.bg(*cell(256)), LIGHT_GREY, 'the cursor on a dot')
        # The first table: page 0 (NULL) is never mapped, VGA memory is.
        m.key('home', 'ret')
        s = m.wait_screen(r'PDE\[0\] -> table 0x[0-9a-f]{8} \| \d+ of 1024 PTEs present')
        self.info(m, r'PTE\[0\] page 0x00000000 = 0x00000000: not present')
        s = m.screen()
        self.assertIn('NULL', s.row(INFO_ROW + 2))
        vga = 0xb8000 >> 12
        self.assertIn(s.char(*cell(vga)), (BLOCK, '\u2593', '\u2591'))
        self.assertEqual(s.fg(*cell(vga)), LIGHT_GREEN, 'VGA memory: kernel read-write')
        # Four rows down: 1 MiB, the kernel's code, read-only.
        m.key('down', 'down', 'down', 'down')
        s = self.info(m, r'PTE\[256\] page 0x00100000 = 0x00100\w{3}: present .*\(read-only\)')
        self.assertIn('-> frame 0x00100000: reserved, tag kernel', s.row(INFO_ROW + 1))
        self.assertIn('region: kernel .text', s.row(INFO_ROW + 2))
        self.assertEqual(s.bg(*cell(256)), LIGHT_BLUE, 'the cursor on a kernel ro page')
        m.key('ret')
        m.wait_screen(r'a PTE is the last level')
        # Backspace goes back to the directory, the cursor where it was.
        m.key('backspace')
        s = m.wait_screen(DIRECTORY_HEADER)
        self.info(m, r'PDE\[0\] ')
        m.key('backspace')
        m.wait_screen(r'already at the directory')
        # A key that means nothing here, an address that is not one.
        m.key('z')
        m.wait_screen(r"'z' does nothing here")
        # A key that is not a hex digit is refused as it is typed, in red.
        m.key('t')
        m.type('5000xyz')
        s = m.wait_screen(r"translate: 5000_ +'z' is not a hex digit: type 0-9 or a-f")
        self.assertEqual(s.fg(*s.find("'z' is not")), LIGHT_RED)
        # A key that is not text ends the typing, and does nothing else.
        m.key('down')
        s = m.wait_screen(lambda s: s.row(MESSAGE_ROW) == ' address cancelled by Down')
        self.assertTrue(s.row(INFO_ROW).startswith(' PDE[0] '), s)
        # A bare 0x is not an address: Enter says so, the typing goes on.
        m.key('t')
        m.type('0x')
        m.key('ret')
        m.wait_screen(r'translate: 0x_ +type hex digits after 0x, or Backspace')
        # At most 8 digits after the 0x; Backspace edits.
        m.type('12345678ab')
        s = m.wait_screen(r'translate: 0x12345678_ +an address has at most 8 hex digits')
        m.key('backspace', 'backspace')
        m.type('78')
        m.wait_screen(r'translate: 0x12345678_ ')
        m.key('ret')
        s = m.wait_screen(r'virtual 0x12345678 = directory index 72 \| table index 837 \| '
                          r'offset 0x678')
        self.assertIn('walk of the address typed', s.row(MESSAGE_ROW))
        # Esc: the shell's screen comes back as it was.
        m.key('esc')
        after = m.wait_prompt()
        self.assertEqual(after.lines, before.lines)
        out = m.run_command('echo after')
        self.assertEqual(out, 'after\n')


if __name__ == '__main__':
    unittest.main()
