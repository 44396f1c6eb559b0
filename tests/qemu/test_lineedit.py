"""The shell's line editor, from the keyboard and from a serial terminal:
editing keys, history, Ctrl-C / Ctrl-U, lines that wrap, and the bottom row."""

import re
import unittest

from kvqemu import COLS, PROMPT, PROMPT_ATTR, ROWS, KernelTestCase

# Serial terminal sequences (xterm / VT220).
UP, DOWN, RIGHT, LEFT = b'\x1b[A', b'\x1b[B', b'\x1b[C', b'\x1b[D'
HOME, END, DELETE = b'\x1b[H', b'\x1b[F', b'\x1b[3~'
BACKSPACE, CTRL_A, CTRL_C, CTRL_E, CTRL_U = b'\x7f', b'\x01', b'\x03', b'\x05', b'\x15'


def input_line(s):
    """The line being edited on screen: the text after the last prompt
    (drawn in the prompt colour), over as many rows as it wraps to."""
    last = s.last_row()
    for row in range(last, -1, -1):
        if s.lines[row].startswith(PROMPT) and s.attr(row, 0) == PROMPT_ATTR:
            return ''.join(s.lines[r] for r in range(row, last + 1))[len(PROMPT):].rstrip()
    return None


class LineEditTest(KernelTestCase):

    def wait_input(self, m, text):
        """Waits until the line being edited reads text."""
        def shows_input(s):
            return input_line(s) == text
        shows_input.__name__ = 'the input line %r' % text
        return m.wait_screen(shows_input)

    def submit(self, m, via='keyboard'):
        """Presses Enter; returns (the line the kernel got, what it printed)."""
        mark = m.serial_mark()
        if via == 'keyboard':
            m.key('ret')
        else:
            m.serial_bytes(b'\r')
        got = m.wait_serial(r'^kv> (.*)\n', since=mark)
        m.wait_prompt()
        return got.group(1), m.serial_text()[mark + got.end():]

    def test_fix_typos_with_editing_keys(self):
        """Left/Right, Delete, Backspace, Home and End fix a mistyped line."""
        m = self.boot()
        m.type('ecoh hello')
        m.key('home', 'right', 'right', 'delete', 'delete')
        self.wait_input(m, 'ec hello')
        m.type('ho')
        m.key('end')
        m.type(' worlx')
        m.key('backspace')
        m.type('d')
        self.wait_input(m, 'echo hello world')
        self.assertEqual(self.submit(m), ('echo hello world', 'hello world\n'))

    def test_insert_in_the_middle_and_ctrl_a_ctrl_e(self):
        m = self.boot()
        m.type('cho ac')
        m.key('left')
        m.type('b')
        m.key('ctrl-a')
        m.type('e')
        m.key('ctrl-e')
        m.type('d')
        self.wait_input(m, 'echo abcd')
        self.assertEqual(self.submit(m), ('echo abcd', 'abcd\n'))
        # Keys that do nothing on the line: Tab, Esc, Insert, PgUp, F9 (F1-F5
        # open views), Alt+x (Alt+digit injects faults).
        m.type('echo x')
        m.key('tab', 'esc', 'insert', 'pgup', 'pgdn', 'f9', 'alt-x', 'ctrl-x', 'kp_5')
        m.type('y')
        self.assertEqual(self.submit(m), ('echo xy', 'xy\n'))

    def test_history_up_up_down(self):
        m = self.boot()
        m.run_command('echo one')
        m.run_command('echo three')
        m.key('up')
        self.wait_input(m, 'echo three')
        m.key('up')
        self.wait_input(m, 'echo one')            # shorter: the rest is wiped
        m.key('up')
        self.wait_input(m, 'echo one')            # the oldest stays
        m.key('down')
        self.wait_input(m, 'echo three')
        self.assertEqual(self.submit(m), ('echo three', 'three\n'))
        # A recalled line can be edited; the history entry stays as it was.
        m.key('up', 'up', 'backspace', 'backspace')
        m.type('nly')
        self.wait_input(m, 'echo only')
        self.assertEqual(self.submit(m), ('echo only', 'only\n'))
        m.key('up', 'up')
        self.wait_input(m, 'echo three')
        m.key('up')
        self.wait_input(m, 'echo one')

    def test_down_past_newest_restores_the_draft(self):
        m = self.boot()
        m.run_command('echo one')
        m.type('echo dra')
        m.key('up')
        self.wait_input(m, 'echo one')
        m.key('down')
        self.wait_input(m, 'echo dra')
        m.key('down')                              # past the draft: nothing moves
        m.type('ft')
        self.wait_input(m, 'echo draft')
        self.assertEqual(self.submit(m), ('echo draft', 'draft\n'))

    def test_ctrl_c_drops_the_line(self):
        m = self.boot()
        m.run_command('echo first')
        mark = m.serial_mark()
        m.type('echo nope')
        m.key('ctrl-c')
        m.wait_serial(r'^kv> echo nope\^C\n', since=mark)
        s = m.wait_prompt()
        row = s.last_row()
        self.assertEqual(s.row(row - 1), 'kv> echo nope^C', s)
        self.assertEqual(m.serial_text()[mark:], 'kv> echo nope^C\n', 'nothing ran')
        m.key('up')                                 # not in the history
        self.wait_input(m, 'echo first')
        m.key('ctrl-c')
        m.wait_prompt()
        self.assertEqual(m.run_command('echo ok'), 'ok\n')

    def test_ctrl_u_deletes_to_the_start(self):
        m = self.boot()
        m.type('junkecho mid')
        m.key(*['left'] * 8)
        m.key('ctrl-u')
        self.wait_input(m, 'echo mid')
        m.key('end')
        m.type('dle')
        self.assertEqual(self.submit(m), ('echo middle', 'middle\n'))
        m.type('garbage')
        m.key('ctrl-u')
        self.wait_input(m, '')
        m.type('echo ok')
        self.assertEqual(self.submit(m), ('echo ok', 'ok\n'))

    def test_editing_from_a_serial_terminal(self):
        """The same editing with a terminal's escape sequences on COM1."""
        m = self.boot()
        m.serial_bytes(b'ecoh hello' + HOME + RIGHT + RIGHT + DELETE + DELETE + b'ho' + END +
                       b' worlx' + BACKSPACE + b'd')
        self.wait_input(m, 'echo hello world')
        self.assertEqual(self.submit(m, 'serial'), ('echo hello world', 'hello world\n'))
        m.serial_bytes(b'cho ac' + LEFT + b'b' + CTRL_A + b'e' + CTRL_E + b'd')
        self.assertEqual(self.submit(m, 'serial'), ('echo abcd', 'abcd\n'))
        m.serial_bytes(UP + UP)
        self.wait_input(m, 'echo hello world')
        m.serial_bytes(DOWN)
        self.wait_input(m, 'echo abcd')
        m.serial_bytes(DOWN + b'echo dra' + UP + DOWN + b'ft')
        self.wait_input(m, 'echo draft')
        m.serial_bytes(CTRL_U + b'echo nope' + CTRL_C)
        m.wait_serial(r'^kv> echo nope\^C$')
        m.wait_prompt()
        # VT100 application-mode arrows (ESC O x) and a VT220 Home (ESC [ 1 ~).
        m.serial_bytes(b'echo 12' + b'\x1bOD' + b'x' + b'\x1b[1~' + b'\x1bOC' + b'\x1b[4~' + b'3')
        self.wait_input(m, 'echo 1x23')
        self.assertEqual(self.submit(m, 'serial'), ('echo 1x23', '1x23\n'))

    def test_serial_line_ends(self):
        """CR, LF and CR LF each end one line; CR LF is not two."""
        m = self.boot()
        mark = m.serial_mark()
        m.serial_bytes(b'echo a\r\necho b\necho c\r')
        m.wait_serial(r'^c\n', since=mark)
        m.wait_prompt()
        self.assertEqual(m.serial_text()[mark:],
                         'kv> echo a\na\nkv> echo b\nb\nkv> echo c\nc\n')

    def test_long_line_wraps(self):
        """A line past column 80 wraps onto the next rows, and edits in its
        first row move the rest across the row boundary."""
        m = self.boot()
        m.run_command('clear')
        digits = ''.join(str(i % 10) for i in range(200))
        line = 'echo ' + digits
        m.type(line)
        s = self.wait_input(m, line)
        full = PROMPT + line                        # 209 characters: 3 rows
        # (row 0 is the title bar, which 'clear' keeps)
        self.assertEqual([s.row(r) for r in range(1, 4)],
                         [full[:COLS], full[COLS:2 * COLS], full[2 * COLS:]])
        m.key(*['left'] * 150)                      # back into the first row
        m.type('AB')
        edited = line[:-150] + 'AB' + line[-150:]
        s = self.wait_input(m, edited)
        full = PROMPT + edited
        self.assertEqual([s.row(r) for r in range(1, 4)],
                         [full[:COLS], full[COLS:2 * COLS], full[2 * COLS:]])
        m.key('backspace', 'backspace')
        self.wait_input(m, line)
        self.assertEqual(self.submit(m), (line, digits + '\n'))
        s = m.screen()
        self.assertEqual([s.row(r) for r in range(4, 8)],
                         [digits[:COLS], digits[COLS:2 * COLS], digits[2 * COLS:], 'kv>'])

    def fill_screen(self, m):
        """Runs commands until the prompt is on the bottom row; returns the
        screen then."""
        m.run_command('clear')
        n = 0
        while True:
            s = m.wait_prompt()
            if s.last_row() == ROWS - 1:
                return s
            n += 1
            m.run_command('echo line %d' % n, via='serial')

    def test_typing_on_the_bottom_row_scrolls(self):
        m = self.boot()
        before = self.fill_screen(m)
        # 76 characters fill the prompt's row; the cursor cell after them
        # needs a new row: the screen scrolls by one.
        line = 'echo ' + 'x' * 71
        m.type(line)
        s = self.wait_input(m, line)
        # Row 0, the title bar, never scrolls; the rows below it move up.
        self.assertEqual(s.lines[0], before.lines[0], 'the title bar stays')
        self.assertEqual(s.lines[1:ROWS - 2], before.lines[2:ROWS - 1], 'scrolled by one row')
        self.assertEqual(s.row(ROWS - 2), PROMPT + line)
        self.assertEqual(s.row(ROWS - 1), '')
        # Going on to three rows scrolls once more; the earlier rows move with it.
        more = 'y' * 90
        m.type(more)
        s = self.wait_input(m, line + more)
        self.assertEqual(s.lines[1:ROWS - 3], before.lines[3:ROWS - 1], 'scrolled by two rows')
        self.assertEqual(s.row(ROWS - 3), PROMPT + line)
        self.assertEqual(s.row(ROWS - 2), more[:COLS])
        self.assertEqual(s.row(ROWS - 1), more[COLS:])
        # Deleting does not scroll back; the rows it empties are blank.
        m.key(*['backspace'] * 91)
        s = self.wait_input(m, line[:-1])
        self.assertEqual(s.row(ROWS - 3), PROMPT + line[:-1])
        self.assertEqual(s.row(ROWS - 2), '')
        self.assertEqual(s.row(ROWS - 1), '')
        m.type('z')
        self.assertEqual(self.submit(m), (line[:-1] + 'z', 'x' * 70 + 'z\n'))
        s = m.screen()
        self.assertEqual(s.row(ROWS - 2), 'x' * 70 + 'z')
        self.assertEqual(s.row(ROWS - 1), 'kv>')
        self.assertEqual(s.attrs(ROWS - 1, 0, 4), {PROMPT_ATTR})
        # Output at the bottom scrolls too; nothing is lost or doubled.
        self.assertEqual(m.run_command('echo last'), 'last\n')
        s = m.screen()
        self.assertEqual([s.row(r) for r in range(ROWS - 3, ROWS)],
                         ['kv> echo last', 'last', 'kv>'])
        self.assertEqual(s.row(ROWS - 4), 'x' * 70 + 'z')
        self.assertEqual(len(re.findall(r'(?m)^kv> echo x+z$', s.text)), 1)


if __name__ == '__main__':
    unittest.main()
