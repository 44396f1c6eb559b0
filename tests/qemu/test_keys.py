"""The 'keys' command: every key event as the kernel decodes it, until Esc."""

import unittest

from kvqemu import KernelTestCase

INTRO = 'Press keys to see the events the kernel receives; Esc ends.\n'


class KeysTest(KernelTestCase):

    def key_events(self, m, presses, expected, serial=b''):
        """Runs 'keys', presses the keys (then sends serial, if any), ends
        with Esc, and checks the lines printed and the prompt after them."""
        m.wait_prompt()
        mark = m.serial_mark()
        m.type('keys')
        m.key('ret')
        m.wait_serial(r'^Press keys .*Esc ends\.\n', since=mark)
        m.key(*presses)
        if serial:
            m.serial_bytes(serial)
        m.key('esc')
        lines = ['key: ' + e for e in expected + ['Esc']]
        m.wait_serial(r'^key: Esc\n', since=mark)
        s = m.wait_prompt()
        self.assertEqual(m.serial_text()[mark:],
                         'kv> keys\n' + INTRO + ''.join(line + '\n' for line in lines))
        # The last lines of the screen are the same, then the prompt.
        last = s.last_row()
        shown = [s.row(r) for r in range(max(0, last - len(lines)), last)]
        self.assertEqual(shown, lines[-len(shown):], s)
        self.assertEqual(m.run_command('echo back'), 'back\n', 'the shell works after Esc')

    def test_function_keys(self):
        m = self.boot()
        names = ['F%d' % n for n in range(1, 13)]
        self.key_events(m, [n.lower() for n in names], names)

    def test_navigation_keys(self):
        m = self.boot()
        self.key_events(
            m, ['up', 'down', 'left', 'right', 'home', 'end', 'pgup', 'pgdn', 'insert', 'delete',
                'ret', 'backspace', 'tab'],
            ['Up', 'Down', 'Left', 'Right', 'Home', 'End', 'PgUp', 'PgDn', 'Insert', 'Delete',
             'Enter', 'Backspace', 'Tab'])

    def test_keypad_without_num_lock(self):
        """The keypad moves the cursor (Num Lock is off); 5 does nothing."""
        m = self.boot()
        self.key_events(
            m, ['kp_8', 'kp_2', 'kp_4', 'kp_6', 'kp_7', 'kp_1', 'kp_9', 'kp_3', 'kp_0',
                'kp_decimal', 'kp_5', 'kp_add', 'kp_subtract', 'kp_multiply', 'kp_divide',
                'kp_enter'],
            ['Up', 'Down', 'Left', 'Right', 'Home', 'End', 'PgUp', 'PgDn', 'Insert', 'Delete',
             "'+'", "'-'", "'*'", "'/'", 'Enter'])

    def test_letters_shift_and_caps_lock(self):
        m = self.boot()
        self.key_events(
            m, ['a', 'shift-a', 'rshift-z', '1', 'shift-1', 'shift-minus', 'shift-apostrophe',
                'caps_lock', 'a', 'shift-a', '1', 'caps_lock', 'b'],
            ["'a'", "Shift+'A'", "Shift+'Z'", "'1'", "Shift+'!'", "Shift+'_'", "Shift+'\"'",
             "'A'  (Caps Lock on)", "Shift+'a'  (Caps Lock on)", "'1'  (Caps Lock on)", "'b'"])

    def test_ctrl_and_alt(self):
        m = self.boot()
        self.key_events(
            m, ['ctrl-c', 'ctrl_r-c', 'alt-x', 'alt_r-x', 'ctrl-alt-delete', 'shift-f5',
                'ctrl-up', 'ctrl-shift-a', 'alt-f4'],
            ["Ctrl+'c'", "Ctrl+'c'", "Alt+'x'", "Alt+'x'", 'Ctrl+Alt+Delete', 'Shift+F5',
             'Ctrl+Up', "Ctrl+Shift+'a'", 'Alt+F4'])

    def test_keys_from_a_serial_terminal(self):
        """Keys from COM1 arrive in the same stream, in order."""
        m = self.boot()
        self.key_events(
            m, ['a'],
            ["'a'", 'Up', 'Left', 'F1', 'F5', 'F12', 'Delete', 'Home', 'End', 'PgUp',
             "Ctrl+'c'", "'z'", 'Enter'],
            serial=b'\x1b[A\x1b[D\x1bOP\x1b[15~\x1b[24~\x1b[3~\x1b[H\x1b[F\x1b[5~\x03z\r')


if __name__ == '__main__':
    unittest.main()
