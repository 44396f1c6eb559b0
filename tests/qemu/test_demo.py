"""`demo`, the guided tour, as a class sees it: each page's title, the
real output of its commands and the live mini-map above them, all on one
screen; Esc leaves at once at any page and gives back what the tour took;
the tour runs again just as well, and puts split mode back as it found it."""

import re

from kvqemu import (KernelTestCase, BLACK, BLUE, WHITE, YELLOW, LIGHT_CYAN, LIGHT_GREEN,
                    vga_attr)

HEX = r'0x[0-9a-f]{8}'
STEPS = 8
TITLE = vga_attr(YELLOW)
FOOTER = vga_attr(LIGHT_CYAN)
HINT = vga_attr(YELLOW)
MINIMAP_ROWS = 4
CELLS = 160  # the mini-map's cells over all frames (two rows of 80)

# The pages in order: the step, whether the mini-map is on top, and what
# the page's commands print (regexes searched in the screen's text).
PAGES = [
    (1, True, [r'^kv> memmap$', r'^memmap: usable RAM below 4 GiB ends at']),
    (2, True, [r'^kv> frames$', r'^frames: \d+ frames of 4 KiB']),
    (3, True, [r'^alloc: \d+ frames (%s)-%s, tag user$' % (HEX, HEX),
               r'^frame %s: allocated, tag user' % HEX]),
    (3, True, [r'^free: \d+ frames at %s free again$' % HEX, r'^frame %s: free, tag free' % HEX]),
    (4, True, [r'^mapped 0x50000000 -> %s \(a new frame, tagged user\)' % HEX,
               r'^0x50000000 = directory index 320 \| table index 0 \| offset 0x000',
               r'=> physical %s \(frame tag user\), writable' % HEX]),
    (5, True, [r'PAGE FAULT in `pf`: write to a page that is not mapped',
               r'error code 0x2: not-present page, write, kernel mode',
               r'CR2=60000000', r'`pf` was stopped; the kernel goes on']),
    (6, True, [r'^kmalloc: 100 bytes at %s \(tag demo\), 144 taken' % HEX,
               r'^kmalloc: 5000 bytes at %s \(tag demo\)' % HEX,
               r'^  in use +\d+ blocks', r'by tag:.* demo \d+']),
    (6, True, [r'^kfree: %s freed$' % HEX, r'^  in use +\d+ blocks']),
    (7, False, [r'PAGE FAULT in `heap`: write to a page that is not mapped',
                r'the guard page right after the guarded 100-byte block at ',
                r'`heap` was stopped; the kernel goes on']),
    (8, True, [r'^unmapped 0x50000000 \(TLB entry flushed\)', r'help keys',
               r'Enter, Space or Esc ends the tour']),
]


class DemoTest(KernelTestCase):

    def user_frames(self, m):
        out = m.run_command('frames')
        found = re.search(r'\buser (\d+)', out)
        return int(found.group(1)) if found else 0

    def heap_blocks(self, m):
        return int(re.search(r'(?m)^  in use +(\d+) blocks', m.run_command('heap')).group(1))

    def split_mode(self, m):
        return re.search(r'split mode: (on|off)', m.run_command('viz')).group(1)

    def wait_page(self, m, step, split, patterns):
        """Waits until page `step` shows its title and all its output, and
        checks that the page fits: its title is still the first console row
        and its footer, cyan, is the last row written."""
        def shown(s):
            return (s.search(r'^Step %d of %d: ' % (step, STEPS))
                    and s.search(r'^-- step %d/%d: ' % (step, STEPS))
                    and all(s.search(p) for p in patterns))
        shown.__name__ = 'step %d with %r' % (step, patterns)
        s = m.wait_screen(shown, timeout=15)
        top = MINIMAP_ROWS if split else 0
        self.assertTrue(s.row(top).startswith('Step %d of %d: ' % (step, STEPS)), s)
        self.assertEqual(s.attr(top, 0), TITLE, s.describe_attrs())
        foot = s.last_row()
        self.assertTrue(s.row(foot).startswith('-- step %d/%d: ' % (step, STEPS)), s)
        self.assertEqual(s.attr(foot, 0), FOOTER, s.describe_attrs())
        if split:  # the mini-map: its heading, its cells, its status bar
            self.assertTrue((', a cell ' in s.row(0) and s.row(0).startswith(' memory ')), s)
            self.assertEqual(s.attr(3, 0), vga_attr(WHITE, BLUE), s.describe_attrs())
            self.assertRegex(s.row(3), r'^ frames \d+ free \d+ used')
        else:
            self.assertNotIn(', a cell ', s.row(0))
        return s

    def minimap_cells(self, s, frames, first, last):
        """The mini-map cells (char, attr) covering physical [first, last],
        computed as minimap.c divides memory."""
        per = -(-frames * 4096 // CELLS)
        per = -(-per // 4096) * 4096
        return [(s.char(1 + i // 80, i % 80), s.attr(1 + i // 80, i % 80))
                for i in range(first // per, last // per + 1)]

    def tour(self, m, split_after):
        """The whole tour, Enter (or Space) on every page."""
        m.type('demo')
        m.key('ret')
        shots = []
        for n, (step, split, patterns) in enumerate(PAGES):
            shots.append(self.wait_page(m, step, split, patterns))
            m.key('spc' if n == 1 else 'ret')
        s = m.wait_prompt(timeout=15)
        self.assertIn("demo: that was the tour; `demo` runs it again.", s.text)
        self.assertEqual(', a cell ' in s.row(0), split_after, s)
        return shots

    def test_full_tour(self):
        """Every page in turn: title, real output, mini-map; the mini-map
        shows the frames `alloc` took and their return; afterwards split
        mode is off again and no user frame is left."""
        m = self.boot(timeout=240)
        user0 = self.user_frames(m)
        shots = self.tour(m, split_after=False)
        self.assertEqual(self.split_mode(m), 'off')
        self.assertEqual(self.user_frames(m), user0)
        self.assertIn('not mapped', m.run_command('pt 0x50000000'))
        # Step 3: the cells holding the run changed, then changed back.
        frames = int(re.search(r'frames: (\d+) frames of 4 KiB', shots[1].text).group(1))
        run = shots[2].search(r'^alloc: \d+ frames (%s)-(%s)' % (HEX, HEX))
        first, last = int(run.group(1), 16), int(run.group(2), 16)
        before, during, after = (self.minimap_cells(s, frames, first, last)
                                 for s in shots[1:4])
        self.assertNotEqual(before, during, 'the mini-map did not show the allocation')
        self.assertIn(WHITE, [a & 0x0f for _, a in during], 'no cell in the user colour')
        self.assertEqual(before, after, 'the mini-map did not show the free')
        self.assertEqual(len(re.findall(r'(?m)^kfree: %s freed$' % HEX, shots[7].text)), 3)
        # The command lines are shown as typed, in the prompt's colour.
        at = shots[4].find('kv> pt 0x50000000')
        self.assertIsNotNone(at, shots[4])
        self.assertEqual(shots[4].attr(at[0], 0), vga_attr(LIGHT_GREEN, BLACK))

    def test_twice_and_split_kept(self):
        """A second full tour works as the first (nothing left over), and a
        tour started in split mode leaves split mode on."""
        m = self.boot(timeout=240)
        user0 = self.user_frames(m)
        self.tour(m, split_after=False)
        m.run_command('viz split on')
        self.tour(m, split_after=True)
        self.assertEqual(self.split_mode(m), 'on')
        # Left on the guard page, which turns split mode off for itself.
        s = self.leave_at(m, 8)
        self.assertRegex(s.text, r'demo: left at step 7 of 8; giving back what the tour took:'
                         r'\nkv> unmap 0x50000000\nunmapped 0x50000000')
        self.assertTrue((', a cell ' in s.row(0) and s.row(0).startswith(' memory ')), s)
        self.assertEqual(self.split_mode(m), 'on')
        self.assertEqual(self.user_frames(m), user0)
        self.assertIn('not mapped', m.run_command('pt 0x50000000'))

    def leave_at(self, m, page):
        """Esc on PAGES[page] (Enter on those before it); the screen after."""
        m.type('demo')
        m.key('ret')
        for n in range(page):
            self.wait_page(m, *PAGES[n])
            m.key('ret')
        self.wait_page(m, *PAGES[page])
        m.key('esc')
        return m.wait_prompt(timeout=10)

    def test_esc_gives_everything_back(self):
        """Esc at step 3 (frames held), at step 5 (a page mapped) and at
        step 6 (three heap blocks held): the prompt returns at once, what
        was taken is given back with the real commands, split mode is off."""
        m = self.boot(timeout=240)
        user0, blocks0 = self.user_frames(m), self.heap_blocks(m)
        # A key the tour does not use only gets a hint.
        m.type('demo')
        m.key('ret')
        self.wait_page(m, *PAGES[0])
        m.key('x')
        s = m.wait_screen(r'that key does nothing here')
        self.assertEqual(s.attr(s.last_row(), 0), HINT)
        self.assertIn('Step 1 of 8', s.text)
        m.key('esc')
        s = m.wait_prompt()
        self.assertIn('demo: left at step 1 of 8.', s.text)

        s = self.leave_at(m, 2)
        self.assertRegex(s.text, r'demo: left at step 3 of 8; giving back what the tour took:')
        self.assertRegex(s.text, r'(?m)^kv> free %s \d+\n^free: \d+ frames at %s free again'
                         % (HEX, HEX))
        self.assertEqual(self.split_mode(m), 'off')
        self.assertEqual(self.user_frames(m), user0)

        s = self.leave_at(m, 5)
        self.assertRegex(s.text, r'(?m)^kv> unmap 0x50000000\n^unmapped 0x50000000')
        self.assertIn('not mapped', m.run_command('pt 0x50000000'))
        self.assertEqual(self.user_frames(m), user0)

        s = self.leave_at(m, 6)
        self.assertEqual(len(re.findall(r'(?m)^kfree: %s freed$' % HEX, s.text)), 3, s)
        self.assertEqual(self.heap_blocks(m), blocks0)
        self.assertEqual(self.user_frames(m), user0)
        self.assertIn('not mapped', m.run_command('pt 0x50000000'))
        self.assertEqual(self.split_mode(m), 'off')
