"""The shell's commands and its error messages, typed as a person would."""

import re
import time
import unittest

from kvqemu import (DEFAULT_ATTR, PROMPT_ATTR, ROWS, KernelTestCase, vga_attr, LIGHT_RED,
                    WHITE)

ERROR_ATTR = vga_attr(LIGHT_RED)          # 0x0C: error messages
NAME_ATTR = vga_attr(WHITE)               # 0x0F: command names in 'help'
# The commands every build has; help may list more.
CORE_COMMANDS = ['clear', 'crash', 'echo', 'halt', 'help', 'keys', 'reboot', 'trace', 'uptime']
CRASH_USAGE = 'usage: crash ud2|div0|gpf|int3|irqfault|reportfault|panic|assert'


def help_names(output):
    """The command names listed by 'help' (in columns), in reading order."""
    lines = output.split('\n')
    return [name for line in lines[1:] if line.startswith('  ') for name in line.split()]


def help_all_names(output):
    """The command names listed by 'help all' (one a line), in order."""
    lines = output.split('\n')
    return [re.match(r'  (\S+)', line).group(1) for line in lines[1:] if line.startswith('  ')]


class ShellTest(KernelTestCase):

    def assertRowAttrs(self, screen, text, attr):
        """text is on the screen, every character of it in attr."""
        at = screen.find(text)
        self.assertIsNotNone(at, '%r not on screen\n%s' % (text, screen))
        self.assertEqual(screen.attrs(at[0], at[1], len(text)), {attr},
                         '%r: attributes %s\n%s' % (text, screen.attrs(at[0], at[1], len(text)),
                                                    screen.describe_attrs()))

    def test_help_lists_every_command(self):
        """'help' typed on the keyboard lists each command once, sorted, in
        columns that fit one screen, each name in white; 'help all' gives
        each a line; 'help <name>' explains each one."""
        m = self.boot()
        out = m.run_command('help')
        self.assertTrue(out.startswith('Commands (help <command> explains one; help all gives '
                                       'each a line):\n'), out)
        names = help_names(out)
        for name in CORE_COMMANDS:
            self.assertIn(name, names, out)
        self.assertEqual(names, sorted(set(names)), 'sorted, each once')
        self.assertLessEqual(len(out.split('\n')), 12, 'help fits well within one screen')
        s = m.screen()
        heading = s.find('Commands (help <command>')
        self.assertIsNotNone(heading, str(s))
        for row in range(heading[0] + 1, heading[0] + 1 + (len(names) + 4) // 5):
            for found in re.finditer(r'\S+', s.row(row)):
                self.assertEqual(s.attrs(row, found.start(), len(found.group(0))), {NAME_ATTR},
                                 '%r in row %d\n%s' % (found.group(0), row, s.describe_attrs()))
        out = m.run_command('help all', via='serial')
        self.assertTrue(out.startswith('Commands (help <command> for its arguments):\n'), out)
        self.assertEqual(help_all_names(out), names)
        for name in names:
            out = m.run_command('help ' + name, via='serial')
            # `help keys` explains the keys command, then lists the hotkeys.
            tail = r'Keys that work everywhere(.*\n)+' if name == 'keys' else ''
            self.assertRegex(out, r'^%s - \S.*\nusage: %s( \S.*)?\n%s$' % (name, name, tail))

    def test_help_echo(self):
        m = self.boot()
        self.assertEqual(m.run_command('help echo'),
                         'echo - print the arguments\nusage: echo [text ...]\n')

    def test_echo_by_serial_shows_on_screen_and_serial(self):
        m = self.boot()
        line = 'echo Hello, World!  "two  spaces" a"b c"d'
        out = m.run_command(line, via='serial')
        self.assertEqual(out, 'Hello, World! two  spaces ab cd\n')
        s = m.screen()
        at = s.find('kv> ' + line)
        self.assertIsNotNone(at, 'the line typed on serial is echoed on screen\n%s' % s)
        self.assertEqual(s.row(at[0] + 1), 'Hello, World! two  spaces ab cd')
        self.assertEqual(s.attrs(at[0] + 1), {DEFAULT_ATTR})
        self.assertEqual(s.attrs(at[0], 0, 4), {PROMPT_ATTR})

    def test_empty_and_blank_lines(self):
        m = self.boot()
        self.assertEqual(m.run_command(''), '')
        self.assertEqual(m.run_command('   '), '')
        self.assertEqual(m.run_command('echo'), '\n')

    def test_unknown_command_is_red(self):
        m = self.boot()
        out = m.run_command('foo')
        self.assertEqual(out, "unknown command 'foo'; type 'help' for the list\n")
        self.assertRowAttrs(m.screen(), "unknown command 'foo'; type 'help' for the list",
                            ERROR_ATTR)

    def test_argument_count_errors(self):
        """Too many or too few arguments: a red message, then the usage."""
        m = self.boot()
        self.assertEqual(m.run_command('clear nope'),
                         'clear: too many arguments\nusage: clear\n')
        self.assertEqual(m.run_command('uptime 1 2'),
                         'uptime: too many arguments\nusage: uptime\n')
        self.assertEqual(m.run_command('help a b'),
                         'help: too many arguments\nusage: help [command|all|keys]\n')
        self.assertEqual(m.run_command('crash'),
                         'crash: missing argument\n' + CRASH_USAGE + '\n')
        s = m.screen()
        self.assertRowAttrs(s, 'clear: too many arguments', ERROR_ATTR)
        self.assertRowAttrs(s, 'crash: missing argument', ERROR_ATTR)
        self.assertRowAttrs(s, CRASH_USAGE, DEFAULT_ATTR)

    def test_bad_arguments(self):
        m = self.boot()
        self.assertEqual(m.run_command('crash nope'),
                         "crash: no crash kind 'nope'\n" + CRASH_USAGE + '\n')
        self.assertEqual(m.run_command('help nope'),
                         "help: no command 'nope'; 'help' lists them all\n")
        out = m.run_command('trace foo on')
        self.assertRegex(out, r"^trace: no subsystem 'foo'\nusage: trace \S.*\n$")
        s = m.screen()
        self.assertRowAttrs(s, "crash: no crash kind 'nope'", ERROR_ATTR)
        self.assertRowAttrs(s, "help: no command 'nope'", ERROR_ATTR)
        self.assertRowAttrs(s, "trace: no subsystem 'foo'", ERROR_ATTR)
        self.assertEqual(m.run_command('echo "open'), "shell: a '\"' is not closed\n")

    def test_uptime_increases(self):
        m = self.boot()
        pattern = (r'^up (\d+):(\d\d):(\d\d)\.(\d\d)  \((\d+) timer ticks at 100 Hz, '
                   r'(\d+) keyboard interrupts\)\n$')
        first = re.match(pattern, m.run_command('uptime'))
        self.assertIsNotNone(first)
        time.sleep(0.3)
        second = re.match(pattern, m.run_command('uptime'))
        self.assertIsNotNone(second)
        t1, t2 = int(first.group(5)), int(second.group(5))
        # 0.3 s is 30 ticks; a busy host may delay some of them.
        self.assertGreaterEqual(t2 - t1, 10, 'the timer ticks on')
        h, mi, sec, cs = (int(g) for g in second.groups()[:4])
        self.assertEqual(((h * 60 + mi) * 60 + sec) * 100 + cs, t2, 'time agrees with ticks')
        kbd1, kbd2 = int(first.group(6)), int(second.group(6))
        # Typing "uptime" and Enter: a press and a release for each key.
        self.assertGreaterEqual(kbd2 - kbd1, 14)

    def test_clear_leaves_only_the_prompt(self):
        """'clear' empties everything below the title bar, which stays."""
        m = self.boot()
        title = m.screen().row(0)
        m.run_command('help')
        self.assertEqual(m.run_command('clear'), '')
        s = m.screen()
        self.assertEqual(s.row(0), title, s)
        self.assertEqual(s.row(1), 'kv>', s)
        self.assertEqual(s.attrs(1, 0, 4), {PROMPT_ATTR})
        for row in range(2, ROWS):
            self.assertEqual(s.row(row), '', s)
        self.assertEqual(m.run_command('echo after'), 'after\n')
        self.assertEqual(m.screen().row(2), 'after')

    def test_pasted_serial_line_arrives_whole(self):
        """A 230-byte burst on the serial port (far more than the key queue
        holds) reaches the shell whole: the UART is paused, not drained."""
        m = self.boot()
        m.wait_prompt()
        mark = m.serial_mark()
        text = ''.join(chr(ord('a') + i % 26) for i in range(220))
        m.serial_bytes(('echo ' + text + '\r').encode(), wait=False)
        m.wait_serial(r'(?m)^' + text + '$', since=mark)
        m.wait_prompt()

    def test_title_bar_stays_when_the_screen_scrolls(self):
        m = self.boot()
        title = m.screen().row(0)
        for i in range(30):
            m.run_command('echo line %d' % i, via='serial')
        s = m.screen()
        self.assertEqual(s.row(0), title, s)
        self.assertEqual(s.row(ROWS - 2), 'line 29', s)

    def test_halt(self):
        """'halt' stops the CPU: the message stays, keys go unread, QEMU runs on."""
        m = self.boot()
        m.type('halt')
        m.key('ret')
        s = m.wait_screen(r'^System halted\.')
        m.assert_stays_up(1.0)
        m.type('echo x', wait=False)
        m.key('ret', wait=False)
        time.sleep(0.3)
        self.assertEqual(m.screen().text, s.text, 'a halted kernel does not react')
        self.assertEqual(m.events('SHUTDOWN') + m.events('RESET'), [])
        self.assertEqual(m.qmp('query-status')['status'], 'running')

    def test_reboot(self):
        """'reboot' resets the machine: -no-reboot turns that into QEMU's exit."""
        m = self.boot()
        m.expect_reset()
        m.type('reboot')
        m.key('ret')
        self.assertEqual(m.wait_exit(5), 0)
        reasons = [e['data']['reason'] for e in m.events('SHUTDOWN')]
        self.assertEqual(reasons, ['guest-reset'])
        self.assertRegex(m.serial_text(), r'(?m)^kv> reboot\nRebooting\.\.\.$')


if __name__ == '__main__':
    unittest.main()
