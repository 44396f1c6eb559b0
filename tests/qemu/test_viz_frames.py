"""The frames view (F2): every physical frame as a cell of a grid, read off
the VGA screen as a person sees it: the cell of a frame just allocated from
the shell in the user tag's colour, the same cell free after `free`, the
whole of memory on one screen when zoomed out, the three colour modes, the
grid changing by itself under `stress on`, and bad input answered with a
message while the view keeps working.

The layout the tests rely on (src/viz/frames_view.c):
    row 1       "a cell = N frames (S)", the range shown, "mode: tag"
    rows 2-17   64 cells a row in groups of 16 from column 12, the row's
                first address ("0x00100000") at column 1
    rows 18-19  the legend; rows 20-21 the cell under the cursor;
    row 22      the go-to prompt and messages
"""

import re

from kvqemu import (KernelTestCase, BLUE, DARK_GREY, GREEN, LIGHT_BLUE, LIGHT_GREEN,
                    LIGHT_RED, WHITE, YELLOW)

HEADER, GRID_TOP, GRID_ROWS, GRID_COLS, INFO, DETAIL, PROMPT = 1, 2, 16, 64, 20, 21, 22
LEGEND = (18, 19)
CURSOR_BG = BLUE
BLOCK, DOT, SQUARE = '\u2588', '\u00b7', '\u25a0'   # CP437 0xdb, 0xfa, 0xfe
FRAME = 4096


def cell_col(i):
    """The screen column of the i-th cell of a grid row."""
    return 12 + i + i // 16


def cell_pos(n):
    """(row, col) of the n-th cell shown on the screen."""
    return GRID_TOP + n // GRID_COLS, cell_col(n % GRID_COLS)


def grid_cells(s):
    """Every cell of the grid as (row, col, char, attr)."""
    return [(r, c, s.char(r, c), s.attr(r, c))
            for r in range(GRID_TOP, GRID_TOP + GRID_ROWS)
            for c in (cell_col(i) for i in range(GRID_COLS))]


def cursor_cells(s):
    return [(r, c) for r, c, _, a in grid_cells(s) if a >> 4 == CURSOR_BG]


def size_text(nbytes):
    return '%d MiB' % (nbytes >> 20) if nbytes >= 1 << 20 else '%d KiB' % (nbytes >> 10)


class VizFramesTest(KernelTestCase):

    def alloc(self, m):
        out = m.run_command('alloc')
        found = re.match(r'^alloc: frame 0x([0-9a-f]{8}), tag user\n$', out)
        self.assertTrue(found, out)
        return int(found.group(1), 16)

    def zone_frames(self, m):
        out = m.run_command('frames')
        return int(re.search(r'frames: (\d+) frames of 4 KiB', out).group(1))

    # The view's frame is written to VGA row by row (viz_flush), so a read
    # can catch a redraw half done: each wait below is for the lowest row
    # the test then reads, and the rows above it are from the same redraw.

    def open_view(self, m):
        m.key('f2')
        return m.wait_screen(lambda s: 'Physical frames' in s.row(0)
                             and s.row(HEADER).startswith(' a cell = ')
                             and 'g go to' in s.row(24))

    def press(self, m, key, row, *contains):
        """Presses a key; waits until `row` is redrawn, showing every text in
        `contains` (the last one the test reads: the screen is written cell
        by cell, and a read can catch a row half done)."""
        before = m.screen().row(row)
        m.key(key)
        return m.wait_screen(lambda s: s.row(row) != before
                             and all(c in s.row(row) for c in contains))

    def zoom_to_one_frame(self, m):
        for _ in range(12):
            s = m.screen()
            if s.row(HEADER).startswith(' a cell = 1 frame (4 KiB)'):
                return m.wait_screen(lambda s: s.row(INFO).startswith(' frame 0x'))
            self.press(m, '+', INFO)
        self.fail('+ never zoomed in to one frame a cell\n%s' % s)

    def go_to(self, m, addr):
        m.key('g')
        m.type('%x' % addr)
        m.wait_screen(lambda s: ('go to address: %x' % addr) in s.row(PROMPT))
        m.key('ret')
        return m.wait_screen(lambda s: 'go to address' not in s.row(PROMPT))

    def assert_cursor_on(self, s, addr):
        """At one frame a cell: the cursor (the one cell on the cursor's
        background) is the cell of addr, in the row labelled with addr's
        256 KiB line; returns its (row, col)."""
        label = s.find('0x%08x ' % (addr & ~(GRID_COLS * FRAME - 1)))
        self.assertIsNotNone(label, 'no grid row for 0x%08x\n%s' % (addr, s))
        self.assertEqual(label[1], 1, s)
        pos = (label[0], cell_col((addr // FRAME) % GRID_COLS))
        self.assertEqual(cursor_cells(s), [pos], s.describe_attrs())
        return pos

    def test_alloc_then_free_shows_in_the_grid(self):
        """A frame from `alloc` is a white (user) block at one frame a cell,
        the info rows say allocated, tag user, by cmd_alloc; Esc gives the
        shell's screen back; after `free` the same cell is a dark green dot
        and the info row says free."""
        m = self.boot()
        addr = self.alloc(m)
        self.open_view(m)
        self.zoom_to_one_frame(m)
        s = self.go_to(m, addr)
        s = m.wait_screen(lambda s: s.row(INFO).startswith(' frame 0x%08x: allocated' % addr))
        self.assertIn('frame 0x%08x: allocated, tag user, 1 reference, age' % addr,
                      s.row(INFO))
        tag_at = s.find('tag user', INFO)
        self.assertAttr(s, INFO, tag_at[1] + 4, WHITE, 'the tag name in its colour')
        self.assertRegex(s.row(DETAIL), r'^ allocated by cmd_alloc\+0x[0-9a-f]+ ')
        r, c = self.assert_cursor_on(s, addr)
        self.assertEqual(s.char(r, c), SQUARE, 'a block under the cursor is a square\n%s' % s)
        self.assertAttr(s, r, c, (CURSOR_BG << 4) | WHITE, 'the allocated frame')
        # The cursor's row label is lit.
        self.assertEqual(s.fg(r, 1), YELLOW, s.describe_attrs())

        m.key('esc')
        s = m.wait_prompt()
        self.assertIn('alloc: frame 0x%08x, tag user' % addr, s.text)
        self.assertNotIn('Physical frames', s.text)
        self.assertEqual(m.run_command('free 0x%x' % addr),
                         'free: 1 frame at 0x%08x free again\n' % addr)

        self.open_view(m)
        s = m.wait_screen(lambda s: s.row(INFO).startswith(' frame 0x%08x: free' % addr))
        # Freed on its own, it waits in the allocator's queue, first out.
        self.assertIn('queued: 1 of 1 to go out', s.row(INFO + 1), s)
        r, c = self.assert_cursor_on(s, addr)
        self.assertEqual(s.char(r, c), DOT, s)
        self.assertAttr(s, r, c, (CURSOR_BG << 4) | GREEN, 'the freed frame')
        # Off the cursor, every free frame is a dark green dot on black.
        dots = {a for r2, c2, ch, a in grid_cells(s) if ch == DOT and (r2, c2) != (r, c)}
        self.assertEqual(dots, {GREEN}, s.describe_attrs())
        m.key('esc')
        m.wait_prompt()

    def check_all_of_memory(self, mem):
        """Zoomed out (the view opens so): the header says all of memory
        fits; exactly the cells that hold frames are drawn, the rest blank."""
        m = self.boot(mem=mem)
        frames = self.zone_frames(m)
        per = 1
        while -(-frames // per) > GRID_ROWS * GRID_COLS:
            per *= 2
        used = -(-frames // per)
        s = self.open_view(m)
        self.assertTrue(s.row(HEADER).startswith(' a cell = %d frame%s (%s) | all of memory '
                                                 '(%d frames)' % (per, 's' if per > 1 else '',
                                                                  size_text(per * FRAME),
                                                                  frames)), s)
        self.assertTrue(s.row(HEADER).endswith('mode: tag'), s)
        for n in range(GRID_ROWS * GRID_COLS):
            r, c = cell_pos(n)
            if n < used:
                self.assertNotEqual(s.char(r, c), ' ', 'cell %d of %d (%s)\n%s'
                                    % (n, used, mem, s))
            else:
                self.assertEqual(s.char(r, c), ' ', 'cell %d of %d (%s)\n%s'
                                 % (n, used, mem, s))
        for row in range(GRID_ROWS):
            label = s.row(GRID_TOP + row)[1:11]
            if row * GRID_COLS < used:
                self.assertEqual(label, '0x%08x' % (row * GRID_COLS * per * FRAME), s)
            else:
                self.assertEqual(s.row(GRID_TOP + row), '', s)
        # The cursor starts on the first cell; the first MiB is reserved, so
        # its cells are light red blocks (a square on blue under the cursor).
        self.assertEqual(cursor_cells(s), [cell_pos(0)], s.describe_attrs())
        first_mib_cells = (1 << 20) // (per * FRAME)
        for n in range(first_mib_cells):
            self.assertEqual((s.char(*cell_pos(n)), s.fg(*cell_pos(n))),
                             (SQUARE if n == 0 else BLOCK, LIGHT_RED),
                             '%s\n%s' % (mem, s.describe_attrs()))
        m.key('-')   # zooming out further is refused with a message
        s = m.wait_screen(lambda s: 'all of memory is on the screen already' in s.row(PROMPT))
        return m

    def test_all_of_memory_128m(self):
        self.check_all_of_memory('128M')

    def test_all_of_memory_small_and_large(self):
        for mem in ('16M', '3G'):
            with self.subTest(mem=mem):
                self.check_all_of_memory(mem)

    def test_modes(self):
        """m cycles tag -> heat -> age -> tag, changing the header and the
        legend; a frame with two references is hot; one just allocated is
        young in age mode (the mode stays when the view is left)."""
        m = self.boot()
        addr = self.alloc(m)
        self.assertIn('2 references', m.run_command('refs 0x%x +' % addr))
        self.open_view(m)
        self.zoom_to_one_frame(m)
        s = self.go_to(m, addr)
        self.assertIn('kernel', s.row(LEGEND[0]))
        pos = self.assert_cursor_on(s, addr)
        self.assertEqual(s.fg(*pos), WHITE, 'tag user\n%s' % s.describe_attrs())

        s = self.press(m, 'm', LEGEND[0], 'refcount heat', BLOCK + ' 2  ')
        self.assertTrue(s.row(HEADER).endswith('mode: heat'), s)
        self.assertEqual(s.fg(*pos), LIGHT_GREEN, 'two references\n%s' % s.describe_attrs())
        at = s.find(BLOCK + ' 2  ', LEGEND[0])
        self.assertEqual(s.fg(*at), LIGHT_GREEN, 'the legend says 2 = light green')

        s = self.press(m, 'm', LEGEND[0], 'allocation age', BLOCK + ' <10 s')
        self.assertTrue(s.row(HEADER).endswith('mode: age'), s)
        at = s.find(BLOCK + ' <2 s', LEGEND[0])
        self.assertEqual(s.fg(*at), WHITE, 'the legend says <2 s = white')
        at = s.find(BLOCK + ' <10 s', LEGEND[0])
        self.assertEqual(s.fg(*at), YELLOW, 'the legend says <10 s = yellow')

        # A frame allocated just now, looked at at once: young.
        m.key('esc')
        fresh = self.alloc(m)
        self.open_view(m)
        s = self.go_to(m, fresh)
        self.assertTrue(s.row(HEADER).endswith('mode: age'), s)
        pos = self.assert_cursor_on(s, fresh)
        age = int(re.search(r'age (\d+) s', s.row(INFO)).group(1))
        self.assertLess(age, 10, s)
        self.assertIn(s.fg(*pos), (WHITE, YELLOW), 'allocated %d s ago\n%s'
                      % (age, s.describe_attrs()))

        s = self.press(m, 'm', LEGEND[0], 'kernel')
        self.assertTrue(s.row(HEADER).endswith('mode: tag'), s)
        self.assertAttr(s, pos[0], pos[1], (CURSOR_BG << 4) | WHITE)
        s = self.press(m, 'h', LEGEND[0], 'refcount heat')
        self.assertTrue(s.row(HEADER).endswith('mode: heat'), s)
        s = self.press(m, 't', LEGEND[0], 'kernel')
        self.assertTrue(s.row(HEADER).endswith('mode: tag'), s)
        m.key('esc')
        m.wait_prompt()

    def test_live_update_under_stress(self):
        """With `stress on` the grid changes by itself, no key pressed."""
        m = self.boot()
        self.assertIn('stress', m.run_command('stress on'))
        first = grid_cells(self.open_view(m))
        s = m.wait_screen(lambda s: grid_cells(s) != first, timeout=5)
        self.assertIn('Physical frames', s.row(0))
        m.key('esc')
        m.wait_prompt()
        self.assertRegex(m.run_command('stress off'), r'^stress: stopped')

    def test_navigation(self):
        """Arrows, PgDn, Home and End move the cursor a cell, a screen, to
        the ends; the grid scrolls with it; -/+ zoom around it."""
        m = self.boot()
        frames = self.zone_frames(m)
        self.open_view(m)
        s = self.zoom_to_one_frame(m)
        self.assertIn('frame 0x00000000: reserved, tag reserved', s.row(INFO))
        s = self.press(m, 'right', INFO)
        self.assertIn('frame 0x00001000:', s.row(INFO))
        s = self.press(m, 'down', INFO)
        self.assertIn('frame 0x00041000:', s.row(INFO))
        s = self.press(m, 'pgdn', INFO)
        self.assertIn('frame 0x%08x:' % (0x41000 + 1024 * FRAME), s.row(INFO))
        self.assert_cursor_on(s, 0x41000 + 1024 * FRAME)
        s = self.press(m, 'end', INFO)
        last = (frames - 1) * FRAME
        self.assertIn('frame 0x%08x:' % last, s.row(INFO))
        self.assert_cursor_on(s, last)
        self.assertIn('of 0x%08x' % (frames * FRAME), s.row(HEADER))
        s = self.press(m, 'home', INFO)
        self.assertIn('frame 0x00000000:', s.row(INFO))
        # Zoom out around the cursor (the keypad's minus too), then back in.
        self.go_to(m, 0x00345000)
        s = self.press(m, 'kp_subtract', INFO)
        self.assertTrue(s.row(HEADER).startswith(' a cell = 2 frames (8 KiB)'), s)
        self.assertRegex(s.row(INFO), r'^ 0x00344000-0x00345fff: 2 frames, ')
        s = self.press(m, '_', INFO)
        self.assertRegex(s.row(INFO), r'^ 0x00344000-0x00347fff: 4 frames, ')
        s = self.press(m, '=', INFO)
        s = self.press(m, 'kp_add', INFO)
        self.assertTrue(s.row(HEADER).startswith(' a cell = 1 frame (4 KiB)'), s)
        self.assertIn('frame 0x00345000:', s.row(INFO))
        m.key('esc')
        m.wait_prompt()

    def test_bad_input(self):
        """`g` with letters that are not hex, an empty address, an address
        past the end, too many digits, a bare 0x: each gets a message on the
        prompt row, the cursor stays, and the view keeps working."""
        m = self.boot()
        frames = self.zone_frames(m)
        self.open_view(m)
        s = self.zoom_to_one_frame(m)
        info = s.row(INFO)
        m.key('g')
        m.type('zzz')
        s = m.wait_screen(lambda s: "'z' is not a hex digit: type 0-9 or a-f" in s.row(PROMPT))
        self.assertIn('go to address:', s.row(PROMPT))
        at = s.find("'z' is not", PROMPT)
        self.assertEqual(s.fg(*at), LIGHT_RED, s.describe_attrs())
        m.key('ret')
        s = m.wait_screen(lambda s: 'no address typed' in s.row(PROMPT))
        self.assertEqual(s.row(INFO), info)

        end = frames * FRAME
        s = self.go_to(m, end)
        self.assertIn('0x%x is past the end of memory: frames end at 0x%08x' % (end, end),
                      s.row(PROMPT))
        self.assertEqual(s.row(INFO), info)

        m.key('g')
        m.type('123456789')
        s = m.wait_screen(lambda s: 'an address has at most 8 hex digits' in s.row(PROMPT))
        self.assertIn('go to address: 12345678', s.row(PROMPT))
        m.key('backspace', 'backspace', 'backspace', 'backspace')
        s = m.wait_screen(lambda s: re.search(r'go to address: 1234(?!5)', s.row(PROMPT)))
        m.key('ret')
        s = m.wait_screen(lambda s: s.row(INFO).startswith(' frame 0x00001000:')
                          and 'go to' not in s.row(PROMPT))

        s = self.press(m, 'x', PROMPT)
        self.assertIn("'x' does nothing here", s.row(PROMPT))
        # A bare 0x is not an address: Enter says so, the typing goes on.
        m.key('g')
        m.type('0x')
        m.key('ret')
        m.wait_screen(lambda s: 'go to address: 0x' in s.row(PROMPT)
                      and 'type hex digits after 0x' in s.row(PROMPT))
        # A key that is not text ends the typing, and does nothing else.
        m.key('right')
        s = m.wait_screen(lambda s: 'address cancelled by Right' in s.row(PROMPT)
                          and 'go to address' not in s.row(PROMPT))
        self.assertTrue(s.row(INFO).startswith(' frame 0x00001000:'), s)
        # Still working: the cursor moves and the message goes.
        m.key('right')
        m.wait_screen(lambda s: 'frame 0x00002000:' in s.row(INFO)
                      and 'does nothing' not in s.row(PROMPT))
        s = self.go_to(m, 0x12)
        self.assertIn('frame 0x00000000:', s.row(INFO))
        m.key('esc')
        m.wait_prompt()
        self.assertEqual(m.run_command('echo still here'), 'still here\n')
