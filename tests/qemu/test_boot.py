"""Booting: with -kernel and through GRUB from the ISO, across memory sizes
and machine types, and the in-kernel self-tests (command line "selftest")."""

import re
import unittest

from kvqemu import (COLS, DEFAULT_ATTR, PROMPT_ATTR, ROWS, KernelTestCase, Screen, vga_attr,
                    BLUE, WHITE)

TITLE_ATTR = vga_attr(WHITE, BLUE)
# Text SeaBIOS and GRUB put on the screen (the kernel's own "boot: loaded by
# GRUB 2.06" is fine).
LEFTOVERS = ['SeaBIOS', 'iPXE', 'Booting from', 'GNU GRUB', 'Welcome to GRUB', 'Machine UUID',
             'Press ESC', 'Loading', 'error:']


class BootScreenChecks:
    """Checks of the first screen, shared by the tests below."""

    def check_first_screen(self, s: Screen):
        self.assertRegex(s.row(0), r'^ Kernel-V \d+\.\d+\.\d+\S* +a kernel about memory$',
                         'title bar on row 0\n%s' % s)
        for col in range(COLS):
            self.assertAttr(s, 0, col, TITLE_ATTR, 'title bar (white on blue, full width)')
        self.assertRegex(s.row(1), r'^boot: ', 'log lines right under the title\n%s' % s)
        self.assertIn("Type 'help' for the list of commands.", s.text)
        for word in LEFTOVERS:
            self.assertNotIn(word, s.text, 'boot-loader or BIOS text left on screen')
        # The prompt, in its colour, is the last thing on the screen, and the
        # rest of the screen is blank in the default colour.
        p = s.last_row()
        self.assertEqual(s.row(p), 'kv>', s)
        for col in range(4):
            self.assertAttr(s, p, col, PROMPT_ATTR, 'prompt "kv> "')
        for row in range(p + 1, ROWS):
            self.assertEqual(s.attrs(row), {DEFAULT_ATTR}, 'row %d below the prompt\n%s'
                             % (row, s))

    def check_serial_mirror(self, m, s: Screen):
        """Each log line on the screen (rows 1 .. prompt-1) is on serial too."""
        serial = m.serial_text().split('\n')
        self.assertEqual(serial[0], s.row(0).strip(), 'the title, first on serial')
        for row in range(1, s.last_row()):
            line = s.row(row)
            if line and len(line) < COLS:    # wrapped lines are split on screen
                self.assertIn(line, serial, 'screen row %d not on serial' % row)


class BootTest(KernelTestCase, BootScreenChecks):

    def test_kernel_boot(self):
        """-kernel: the prompt, the title bar, nothing left from SeaBIOS."""
        m = self.boot()
        s = m.screen()
        self.check_first_screen(s)
        self.check_serial_mirror(m, s)
        m.wait_serial(r'^boot: loaded by qemu$')

    def test_iso_boot(self):
        """GRUB from the ISO: the same screen, no GRUB text left."""
        m = self.boot(boot='iso')
        s = m.screen()
        self.check_first_screen(s)
        self.check_serial_mirror(m, s)
        m.wait_serial(r'^boot: loaded by GRUB')

    def test_memory_sizes_and_machines(self):
        """The prompt comes up with 16 MiB, 128 MiB, 1 GiB (pc) and 3 GiB
        (q35), and the kernel reports the memory Multiboot gave it."""
        # (-m, -machine, MiB below 4 GiB: q35 keeps only 2 GiB there)
        for mem, machine, low_mib in [('16M', None, 16), ('128M', None, 128),
                                      ('1G', None, 1024), ('3G', 'q35', 2048)]:
            with self.subTest(mem=mem, machine=machine):
                m = self.boot(mem=mem, machine=machine)
                s = m.screen()
                self.check_first_screen(s)
                # (a detail for the serial log: the screen has no room for it)
                found = re.search(r'^boot: memory: (\d+) KiB below 1 MiB, (\d+) KiB above$',
                                  m.serial_text(), re.M)
                self.assertIsNotNone(found, m.serial_text())
                self.assertNotIn('KiB below 1 MiB', s.text)
                lower, upper = int(found.group(1)), int(found.group(2))
                self.assertEqual(lower, 639)
                top = (low_mib - 1) * 1024      # KiB from 1 MiB to the end of low RAM
                self.assertTrue(top - 512 <= upper <= top,
                                'upper memory %d KiB, expected a little under %d' % (upper, top))
                m.close()


class SelftestTest(KernelTestCase):
    """The in-kernel self-tests report on serial and exit QEMU with 33."""

    def check_selftest_run(self, m):
        status = m.wait_exit(timeout=30)
        log = m.serial_text()
        summary = re.search(r'^selftest: (\d+) passed, (\d+) failed$', log, re.M)
        self.assertIsNotNone(summary, 'no self-test summary on serial:\n' + log)
        passed, failed = int(summary.group(1)), int(summary.group(2))
        self.assertEqual(failed, 0, log)
        self.assertGreater(passed, 0, log)
        self.assertEqual(len(re.findall(r'^selftest: PASS \S+', log, re.M)), passed, log)
        self.assertNotRegex(log, r'(?m)^selftest: FAIL')
        self.assertEqual(status, 33, 'QEMU exit status (33 = self-tests passed)\n' + log)

    def test_selftest_kernel(self):
        m = self.boot(cmdline='selftest', wait_prompt=False)
        self.check_selftest_run(m)

    def test_selftest_iso(self):
        """The command line reaches the kernel through GRUB too."""
        m = self.boot(boot='iso', cmdline='selftest', wait_prompt=False)
        self.check_selftest_run(m)
        self.assertRegex(m.serial_text(), r'(?m)^boot: loaded by GRUB')


if __name__ == '__main__':
    unittest.main()
