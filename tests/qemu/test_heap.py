"""The kernel heap from the keyboard: kmalloc, kfree, heap and its views,
and every misuse the heap catches, each read off the screen as a person
would see it, with the shell still working afterwards."""

import re

from kvqemu import KernelTestCase

HEX = r'0x[0-9a-f]{8}'
RED = 0x0c  # light red on black: log errors and shell errors


class HeapTest(KernelTestCase):

    def kmalloc(self, m, args):
        out = m.run_command('kmalloc ' + args)
        found = re.match(r'^kmalloc: (\d+) bytes at (%s) \(tag (\S+)\), (\d+) taken: (.*)\n$'
                         % HEX, out)
        self.assertTrue(found, out)
        return int(found.group(2), 16), out

    def stats(self, m):
        out = m.run_command('heap')
        blocks = int(re.search(r'(?m)^  in use +(\d+) blocks', out).group(1))
        reports = int(re.search(r'(\d+) misuse reports', out).group(1))
        return blocks, reports, out

    def assert_alive(self, m):
        self.assertEqual(m.run_command('echo still here'), 'still here\n')
        self.assertTrue(m.screen().at_prompt())

    def assert_check_ok(self, m):
        self.assertRegex(m.run_command('heap check'),
                         r'^heap check: every invariant holds \(\d+ blocks, \d+ slabs, \d+ pages\)\n$')

    def test_allocate_look_free(self):
        """A block appears in `heap`, `heap blocks` and `heap leaks` with its
        tag and the function that allocated it, and is gone after kfree."""
        m = self.boot()
        blocks0, reports0, _ = self.stats(m)
        addr, out = self.kmalloc(m, '100 net')
        self.assertEqual(addr % 16, 0, out)
        self.assertIn('kmalloc: 100 bytes at 0x%08x (tag net)' % addr, out)
        blocks, reports, out = self.stats(m)
        self.assertEqual(blocks, blocks0 + 1, out)
        self.assertRegex(out, r'by tag:.* net 1 \(100 B\)')
        out = m.run_command('heap blocks')
        self.assertRegex(out, r'(?m)^  0x%08x +100 net +cmd_kmalloc\+0x[0-9a-f]+ ' % addr)
        out = m.run_command('heap leaks')
        self.assertRegex(out, r'(?m)^  net +cmd_kmalloc\+0x[0-9a-f]+ +1 blocks +100 bytes$')
        self.assert_check_ok(m)
        self.assertEqual(m.run_command('kfree 0x%x' % addr), 'kfree: 0x%08x freed\n' % addr)
        blocks, reports, out = self.stats(m)
        self.assertEqual((blocks, reports), (blocks0, reports0), out)
        self.assertNotIn(' net ', out)
        # Sizes with suffixes; a large block gets pages of its own.
        big, out = self.kmalloc(m, '40K big')
        # A run of pages of its own; with HEAP_DEBUG the 16-byte header
        # comes first.
        self.assertIn(big % 4096, (0, 16), out)
        self.assertRegex(out, r'run of \d+ pages')
        self.assert_check_ok(m)
        m.run_command('kfree 0x%x' % big)
        self.assert_alive(m)

    def misuse(self, m, line, problem):
        """Runs a command that misuses the heap; returns the report lines."""
        _, reports0, _ = self.stats(m)
        out = m.run_command(line)
        self.assertRegex(out, r'(?m)^heap: error: .*%s' % problem, out)
        _, reports, _ = self.stats(m)
        self.assertEqual(reports, reports0 + 1, out)
        s = m.screen()
        first = [l for l in out.split('\n') if l.startswith('heap: error: ')][0]
        at = s.find(first[:60])
        self.assertIsNotNone(at, '%r not on screen\n%s' % (first, s))
        self.assertEqual(s.attrs(at[0], at[1], 60), {RED}, s.describe_attrs())
        return out

    def test_bad_frees(self):
        """Double, interior and foreign frees: reported with the block and
        where it was allocated, and nothing is freed."""
        m = self.boot()
        addr, _ = self.kmalloc(m, '48 demo')
        out = self.misuse(m, 'kfree 0x%x' % (addr + 8), 'inside')
        self.assertRegex(out, r'kfree\(0x%08x\) from cmd_kfree\+0x[0-9a-f]+' % (addr + 8))
        self.assertRegex(out, r'block 0x%08x \(pointer is \+8 into it\): 48 bytes, tag "demo", '
                              r'allocated by cmd_kmalloc\+0x[0-9a-f]+' % addr)
        self.assertIn('nothing was freed', out)
        self.misuse(m, 'kfree 0x12345678', 'not')
        self.assertEqual(m.run_command('kfree 0x%x' % addr), 'kfree: 0x%08x freed\n' % addr)
        out = self.misuse(m, 'kfree 0x%x' % addr, 'free')
        self.assertIn('nothing was freed', out)
        self.assert_check_ok(m)
        out = m.run_command('heap doublefree')
        self.assertRegex(out, r'(?m)^heap: error: kfree\(%s\) from demo_doublefree\+0x[0-9a-f]+: '
                              % HEX)
        self.assertRegex(out, r': \d+-byte slot, tag "demo", already freed')
        self.assert_check_ok(m)
        self.assert_alive(m)

    def test_overflow_caught(self):
        """One byte past the end of a block: `heap check` and kfree name the
        block and the offset; the block stays allocated."""
        m = self.boot()
        addr, _ = self.kmalloc(m, '24 demo')
        out = m.run_command('heap overflow 0x%x 1' % addr)
        self.assertIn("wrote 1 bytes of 'A' right after the 24-byte block at 0x%08x." % addr, out)
        out = m.run_command('heap check')
        self.assertRegex(out, r'^heap: overflow at 0x%08x: ' % addr)
        self.assertRegex(out, r'block 0x%08x: 24 bytes, tag demo, allocated by cmd_kmalloc\+0x'
                              r'[0-9a-f]+; offset \+24' % addr)
        out = self.misuse(m, 'kfree 0x%x' % addr, 'overflow|red zone|written')
        self.assertRegex(out, r'block 0x%08x at offset \+24: 24 bytes, tag "demo"' % addr)
        self.assertIn('nothing was freed', out)
        self.assertIn('0x%08x' % addr, m.run_command('heap blocks'), 'still allocated')
        self.assert_alive(m)

    def test_use_after_free_caught(self):
        m = self.boot()
        out = m.run_command('heap uaf')
        self.assertRegex(out, r'(?m)^heap: error: kmalloc from demo_uaf\+0x[0-9a-f]+: use after '
                              r'free, in the next slot$')
        self.assertRegex(out, r'block %s at offset \+8: \d+-byte slot, tag "demo"' % HEX)
        self.assertIn('(the slot was cleaned and handed out all the same)', out)
        self.assertIn(', the same slot (checked before it was handed out)', out)
        self.assert_check_ok(m)
        self.assert_alive(m)

    def test_guarded_block_faults_at_once(self):
        """`heap guard`: one byte past a guarded block is a page fault whose
        report names the block; the shell goes on; a second run works."""
        m = self.boot()
        for round in range(2):
            out = m.run_command('heap guard')
            found = re.search(r'kmalloc_guarded\(100\) = (%s), last byte (%s)' % (HEX, HEX), out)
            self.assertTrue(found, out)
            block = int(found.group(1), 16)
            self.assertEqual((block + 100) % 4096, 0, 'ends at the page boundary')
            self.assertIn(' PAGE FAULT in `heap`: write to a page that is not mapped', out)
            self.assertIn('  CR2=%08x' % (block + 100), out)
            self.assertRegex(out, r'(?m)^  what:  guard page above a kmalloc_guarded block, ')
            self.assertRegex(out, r'(?m)^  heap:  the guard page right after the guarded 100-byte '
                                  r'block at 0x%08x\n {9}\(tag demo, allocated by demo_guard\+0x'
                                  r'[0-9a-f]+\)$' % block)
            self.assert_alive(m)
        out = m.run_command('heap')
        self.assertRegex(out, r'(?m)^  guarded +1 blocks, 100 bytes on 1 pages')
        self.assert_check_ok(m)

    def test_out_of_memory(self):
        """With 16 MiB of RAM a large block cannot be had: NULL, a log line,
        and a consistent heap that still serves small blocks."""
        m = self.boot(mem='16M')
        out = m.run_command('kmalloc 20M')
        self.assertRegex(out, r'(?m)^heap: error: kmalloc\(20971520\) from cmd_kmalloc\+0x[0-9a-f]+: '
                              r'out of memory$')
        self.assert_check_ok(m)
        addr, _ = self.kmalloc(m, '64')
        m.run_command('kfree 0x%x' % addr)
        self.assert_alive(m)

    def test_command_errors(self):
        m = self.boot()

        def refused(line, message, usage=None):
            out = m.run_command(line)
            want = message + '\n' + (usage + '\n' if usage else '')
            self.assertEqual(out, want)

        refused('kmalloc', 'kmalloc: missing argument', 'usage: kmalloc <size> [tag]')
        refused('kmalloc abc', "kmalloc: bad size: 'abc' is not a number (decimal or 0x-hex)")
        refused('kmalloc 100 averyveryverylongtag', 'kmalloc: a tag is 1 to 15 characters')
        refused('kfree zz', "kfree: bad address: 'zz' is not a number (decimal or 0x-hex)")
        usage = 'usage: heap [blocks|check|leaks|overflow <addr> <n>|redzone|uaf|doublefree|guard]'
        refused('heap nope', "heap: no view or demonstration 'nope' (blocks, check, leaks, "
                'overflow, redzone, uaf, doublefree, guard)', usage)
        refused('heap check now', "heap: 'heap check' takes no more arguments", usage)
        refused('heap overflow 0x1234 1', 'heap: 0x00001234 is not the start of a live heap block '
                '(see `heap blocks`)')
        self.assert_check_ok(m)
        self.assert_alive(m)
