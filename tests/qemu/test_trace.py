"""Trace switches: "trace=shell" on the kernel command line, or 'trace shell
on' at the prompt, logs each command run to serial (never to the screen)."""

import re
import unittest

from kvqemu import KernelTestCase, vga_attr, YELLOW

TRACE_LINE = r"^trace shell: run '%s' with %d argument\(s\) \[caller 0x[0-9a-f]{8}\]$"
WARN_ATTR = vga_attr(YELLOW)              # 0x0E: warnings


def trace_lines(text):
    return re.findall(r'(?m)^trace \w+: .*$', text)


class TraceTest(KernelTestCase):

    def test_trace_shell_from_the_command_line(self):
        m = self.boot(cmdline='trace=shell')
        out = m.run_command('echo hi')
        self.assertRegex(out, '^' + TRACE_LINE[1:-1] % ('echo', 1) + '\nhi\n$')
        mark = m.serial_mark()
        m.run_command('help echo', via='serial')
        self.assertRegex(m.serial_text()[mark:], '(?m)' + TRACE_LINE % ('help', 1))
        mark = m.serial_mark()
        m.run_command('uptime')
        m.run_command('nosuchcommand')
        self.assertEqual([l.split(' with ')[0] for l in trace_lines(m.serial_text()[mark:])],
                         ["trace shell: run 'uptime'"], 'unknown commands do not run')
        self.assertRegex(m.run_command('trace'), r'shell=on')
        self.assertEqual(trace_lines(m.screen().text), [], 'trace lines go to serial only')

    def test_no_trace_without_the_switch(self):
        m = self.boot()
        m.run_command('echo hi')
        m.run_command('help', via='serial')
        m.run_command('uptime')
        self.assertRegex(m.run_command('trace'), r'shell=off')
        self.assertEqual(trace_lines(m.serial_text()), [])

    def test_trace_on_and_off_at_the_prompt(self):
        m = self.boot()
        m.run_command('echo a')
        self.assertEqual(trace_lines(m.serial_text()), [])
        out = m.run_command('trace shell on')
        self.assertRegex(out, r'^trace switches \(lines go to serial\):.*\n$')
        self.assertIn('shell=on', out)
        self.assertIn('pmm=off', out)
        mark = m.serial_mark()
        m.run_command('echo b c', via='serial')
        self.assertRegex(m.serial_text()[mark:], '(?m)' + TRACE_LINE % ('echo', 2))
        self.assertIn('shell=off', m.run_command('trace shell off'))
        mark = m.serial_mark()
        m.run_command('echo c')
        self.assertEqual(trace_lines(m.serial_text()[mark:]), [])

    def test_unknown_switch_on_the_command_line(self):
        """A bad trace= value is reported in yellow and changes nothing."""
        m = self.boot(cmdline='trace=bogus')
        s = m.screen()
        warning = "boot: warning: trace=bogus: no subsystem 'bogus'; trace switches unchanged"
        at = s.find(warning)
        self.assertIsNotNone(at, s)
        self.assertEqual(s.attrs(at[0], 0, len(warning)), {WARN_ATTR})
        m.wait_serial('^' + re.escape(warning) + '$')
        self.assertRegex(m.run_command('trace'), r'shell=off')

    def test_trace_shell_through_grub(self):
        """The switch also reaches the kernel on GRUB's command line."""
        m = self.boot(boot='iso', cmdline='trace=shell')
        mark = m.serial_mark()
        m.run_command('echo x', via='serial')
        self.assertRegex(m.serial_text()[mark:], '(?m)' + TRACE_LINE % ('echo', 1))


if __name__ == '__main__':
    unittest.main()
