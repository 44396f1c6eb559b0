"""The visualizer's frame, as a person meets it: the fault hotkeys from the
prompt and from the faults view (F5), split mode with its live mini-map,
views that update while nobody types (`stress on`), the out-of-memory
storm, `help keys`, `viz` and its errors."""

import re
import time

from kvqemu import KernelTestCase

TITLE_TAB = 0x1f      # white on blue: the open view's name in the title row
NEWEST_ADDR = 0x4f    # white on red: the newest fault's address
MAP_HEAD = 0x70       # black on light grey: the mini-map's first row

# Alt+digit -> what the report must say (serial, where the whole report goes).
HOTKEYS = {
    '1': r'PAGE FAULT in `pf`: read from a page that is not mapped',
    '2': r'PAGE FAULT in `pf`: write to a read-only page',
    '3': r'PAGE FAULT in `pf`: read from a page that is not mapped',
    '4': r'PAGE FAULT in `pf`: jump to \(instruction fetch from\) a page that is not mapped',
    '5': r'(?i)stack overflow',
    '6': r'heap: error: kfree\(0x[0-9a-f]{8}\) from demo_redzone\+0x[0-9a-f]+: '
         r'.*(red zone|overflow)',
    '7': r'PAGE FAULT in `heap`.*\n(.*\n)*.*guard page right after the guarded 100-byte block',
    '8': r'use after free',
    '9': r'double free',
    '0': r'stress oom: NULL: out of memory, nothing broke',
}


class VizTest(KernelTestCase):

    def press_hotkey(self, m, digit):
        mark = m.serial_mark()
        m.key('alt-' + digit)
        m.wait_serial(HOTKEYS[digit], timeout=60, since=mark)
        m.wait_serial(r'(?m)^kv> $', timeout=30, since=mark)
        return m.serial_text()[mark:]

    def test_help_keys(self):
        """`help keys` names the F-keys of the views and every fault hotkey."""
        m = self.boot()
        out = m.run_command('help keys')
        self.assertRegex(out, r'(?m)^  F5 +the faults view')
        self.assertIn('Esc      leave a view', out)
        for digit in '1234567890':
            self.assertRegex(out, r'(?m)^  Alt\+%s ' % digit)
        self.assertIn('`pf 0 r`', out)

    def test_every_hotkey_at_the_prompt(self):
        """Alt+1..Alt+0 each cause their fault or misuse, the report says
        what happened, and the shell goes on; the faults are logged."""
        m = self.boot()
        for digit in '1234567890':
            out = self.press_hotkey(m, digit)
            self.assertRegex(out, r'Alt\+%s: ' % digit)
        out = m.run_command('stress oom')  # again, by name: nothing was lost
        found = re.search(r'free frames (\d+) \(before: (\d+)\)', out)
        self.assertTrue(found, out)
        self.assertEqual(found.group(1), found.group(2), out)
        out = m.run_command('faults')
        # 1, 2, 3, 4 (page faults), 5 (double fault), 7 (guard page).
        self.assertRegex(out, r'^6 faults since boot')
        self.assertEqual(m.run_command('echo alive'), 'alive\n')

    def test_faults_view(self):
        """F5 lists the faults, the newest first with its address lit; a
        digit there injects one more; Esc gives the shell its screen back."""
        m = self.boot()
        m.run_command('echo before the view')
        self.press_hotkey(m, '1')
        m.key('f5')
        s = m.wait_screen(lambda s: s.find('F5 faults') and 'fault #1' in s.text)
        row, col = s.find('F5 faults')
        self.assertEqual((row, s.attr(row, col + 1)), (0, TITLE_TAB))
        self.assertRegex(s.row(1), r'1 fault since boot')
        self.assertRegex(s.row(3), r'1 +\d+\.\d{3}s pf +00000000 +cmd_pf\+0x')
        col = s.row(3).index('00000000')
        self.assertEqual(s.attr(3, col), NEWEST_ADDR)
        self.assertRegex(s.text, r'fault #1: not-present page, read, kernel mode, recovered')
        self.assertRegex(s.text, r'1 NULL dereference')
        self.assertRegex(s.row(24), r'Up/Down select')
        self.assertRegex(s.row(23), r'frames \d+ free \d+ used \| heap .* faults 1')
        # '3' in the view: the report on the shell's screen, a key, the view.
        m.key('3')
        m.wait_screen(r'press any key to return to the view')
        self.assertRegex(m.screen().text, r'PAGE FAULT in `pf`')
        m.key('spc')
        s = m.wait_screen(lambda s: 'F5 faults' in s.row(0) and 'fault #2:' in s.text)
        self.assertRegex(s.row(3), r'2 +\d+\.\d{3}s pf +40000000')
        self.assertRegex(s.row(4), r'1 +\d+\.\d{3}s pf +00000000')
        m.key('down')
        s = m.wait_screen(lambda s: 'F5 faults' in s.row(0) and 'fault #1:' in s.text)
        m.key('esc')
        s = m.wait_screen(lambda s: s.at_prompt())
        self.assertIn('press any key to return to the view', s.text)
        self.assertEqual(m.run_command('echo back'), 'back\n')
        # Without an injection, Esc gives back the very screen F5 covered.
        m.run_command('echo before the view')
        before = m.screen().text
        m.key('f5')
        m.wait_screen(lambda s: 'F5 faults' in s.row(0))
        m.key('esc')
        s = m.wait_screen(lambda s: s.at_prompt())
        self.assertEqual(s.text, before)

    def test_split_mode(self):
        """`viz split on`: a live map in the top rows, the shell below it;
        allocating 8 MiB changes the map as the command runs; off again."""
        m = self.boot()
        m.run_command('viz split on')
        s = m.wait_screen(lambda s: s.row(0).startswith(' memory 127.9 MiB, a cell '))
        self.assertEqual(s.attr(0, 1), MAP_HEAD)
        self.assertRegex(s.row(3), r'frames \d+ free')
        before = s.row(1) + s.row(2)
        out = m.run_command('alloc 2048')
        addr = re.search(r'0x[0-9a-f]{8}', out).group(0)
        s = m.wait_screen(lambda s: s.row(1) + s.row(2) != before)
        self.assertTrue(s.at_prompt())
        self.assertTrue(s.row(0).startswith(' memory '))  # never scrolled away
        for _ in range(30):  # fill the screen: the map stays on top
            m.run_command('echo line')
        s = m.screen()
        self.assertTrue(s.row(0).startswith(' memory '))
        m.run_command('free %s 2048' % addr)
        s = m.wait_screen(lambda s: s.row(1) + s.row(2) == before)
        # A full-screen view covers the map: the map's timer keeps off it.
        m.key('f5')
        m.wait_screen(lambda s: 'F5 faults' in s.row(0))
        time.sleep(1.0)  # four of the map's redraws
        s = m.screen()
        self.assertIn('F5 faults', s.row(0))
        self.assertRegex(s.row(1), r'^ \d+ faults? since boot|^ 0 faults since boot')
        m.key('esc')
        s = m.wait_screen(lambda s: s.at_prompt() and s.row(0).startswith(' memory '))
        m.run_command('viz split off')
        s = m.screen()
        self.assertFalse(s.row(0).startswith(' memory '))

    def test_views_are_live(self):
        """With `stress on`, an open view changes without a key press."""
        m = self.boot()
        m.run_command('stress on')
        m.key('f5')
        first = m.wait_screen(lambda s: 'F5 faults' in s.row(0)).row(23)
        m.wait_screen(lambda s: s.row(23) != first and 'F5 faults' in s.row(0), timeout=10)
        m.key('esc')
        m.wait_screen(lambda s: s.at_prompt())
        self.assertRegex(m.run_command('stress off'), r'^stress: stopped; gave back \d+ frames?\n$')
        self.assertRegex(m.run_command('stress'), r'^stress: off, holding 0 frames')

    def test_viz_command(self):
        """`viz` lists the views; `viz faults` opens one; `viz bench` times
        the redraws; bad arguments are refused."""
        m = self.boot()
        out = m.run_command('viz')
        for key, view in enumerate(('map', 'frames', 'pages', 'heap', 'faults'), 1):
            self.assertRegex(out, r'(?m)^  F%d %s ' % (key, view))
        m.type('viz faults')
        m.key('ret')
        m.wait_screen(lambda s: 'F5 faults' in s.row(0))
        m.key('esc')
        m.wait_screen(lambda s: s.at_prompt())
        out = m.run_command('viz bench')
        for view in ('map', 'frames', 'pages', 'heap', 'faults'):
            # Nothing changes between two live redraws here: 0 cells written.
            self.assertRegex(out, r'(?m)^  %s +\d+ us +\d+ us +0$' % view)
        for line, error in [('viz nosuch', "no view 'nosuch'"),
                            ('viz split maybe', "split takes on or off, not 'maybe'"),
                            ('viz faults extra', "'viz faults' takes no more arguments"),
                            ('stress hard', "unknown 'hard': on, off or oom")]:
            self.assertIn(error, m.run_command(line))
