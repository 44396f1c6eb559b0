"""The memory map: what the firmware gave, what the kernel made of it, and
what it shows, across memory sizes and machines, from GRUB and -kernel.

The firmware's map is read back from `memmap raw` (the entries exactly as
they came), then checked against what QEMU is known to build for each
configuration, and the cleaned map the kernel prints (`memmap`) is checked
against a brute-force re-implementation of the cleaning rules below.
"""

import re
import unittest

from kvqemu import KernelTestCase, vga_attr, BLACK, LIGHT_GREEN, LIGHT_RED, LIGHT_CYAN, \
    DARK_GREY

AVAILABLE, RESERVED, ACPI_RECLAIMABLE, ACPI_NVS, UNUSABLE = 1, 2, 3, 4, 5
PRIORITY = {AVAILABLE: 0, ACPI_RECLAIMABLE: 1, ACPI_NVS: 2, RESERVED: 3, UNUSABLE: 4}
NAMES = {AVAILABLE: 'available', RESERVED: 'reserved', ACPI_RECLAIMABLE: 'ACPI reclaimable',
         ACPI_NVS: 'ACPI NVS', UNUSABLE: 'unusable'}
LETTERS = {0: '.', AVAILABLE: 'A', RESERVED: 'R', ACPI_RECLAIMABLE: 'C', ACPI_NVS: 'N',
           UNUSABLE: 'U'}
FOUR_G = 1 << 32
MIB = 1 << 20

# (-m, -machine, bytes of RAM QEMU puts below 4 GiB).  QEMU 7.2: pc keeps
# RAM below 3.5 GiB whole, else puts 3 GiB below 4 GiB; q35 keeps only
# 2 GiB below once RAM reaches 2.75 GiB.  The rest goes above 4 GiB.
CONFIGS = [
    ('16M', None, 16 * MIB),
    ('128M', None, 128 * MIB),
    ('1G', None, 1024 * MIB),
    ('3G', None, 3072 * MIB),
    ('5G', None, 3072 * MIB),
    ('3G', 'q35', 2048 * MIB),
]


def ram_bytes(mem):
    return int(mem[:-1]) << {'M': 20, 'G': 30}[mem[-1]]


def normal(t):
    return t if t in PRIORITY else RESERVED


def clean_map(raw):
    """The cleaning rules, by brute force over boundary points: each byte
    takes the type of the highest-priority entry covering it; runs of one
    type are merged; holes stay holes."""
    entries = [(b, b + n, normal(t)) for b, n, t in raw if n and b + n <= 1 << 64]
    points = sorted({p for b, e, _ in entries for p in (b, e)})
    runs = []
    for lo, hi in zip(points, points[1:]):
        types = [t for b, e, t in entries if b <= lo and hi <= e]
        if not types:
            continue
        t = max(types, key=PRIORITY.get)
        if runs and runs[-1][1] == lo and runs[-1][2] == t:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi, t])
    return [(lo, hi - lo, t) for lo, hi, t in runs]


def bar_letters(regions, start, end, cells=80):
    """What `memmap bar` sends to serial for one bar (see src/viz/bar.c)."""
    span = end - start
    width = span // cells + (span % cells != 0)
    out = ''
    for i in range(cells):
        off = i * width
        if off >= span:
            out += '.'
            continue
        lo, hi = start + off, min(start + off + width, end)
        count = {t: 0 for t in LETTERS}
        for b, n, t in regions:
            a, z = max(b, lo), min(b + n, hi)
            if a < z:
                count[t] += z - a
        count[0] = (hi - lo) - sum(count.values())
        kinds = [t for t in LETTERS if count[t]]
        major = 0
        for t in LETTERS:
            if count[t] > count[major]:
                major = t
        letter = LETTERS[major]
        out += letter.lower() if len(kinds) > 1 else letter
    return out


RAW_LINE = re.compile(r'^ *(\d+) 0x([0-9a-f]{16}) 0x([0-9a-f]{16}) (\d+) (\S+) +(.*)$', re.M)
MEM_LINE = re.compile(r'^\[(mem|gap) 0x([0-9a-f]{16})-0x([0-9a-f]{16})\] (.+?) +'
                      r'(\d+(?:\.\d)? (?:B|KiB|MiB|GiB|TiB))( +(?:above|across) 4G)?$', re.M)


def parse_raw(text):
    return [(int(m.group(2), 16), int(m.group(3), 16), int(m.group(4)))
            for m in RAW_LINE.finditer(text)]


def parse_table(text):
    """[(kind, base, last, name, size, note)] from `memmap` output."""
    return [(m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4).strip(),
             m.group(5), (m.group(6) or '').strip()) for m in MEM_LINE.finditer(text)]


def covered(raw, lo, hi):
    """True when every byte of [lo, hi) lies in some entry of raw."""
    spans = sorted((b, b + n) for b, n, _ in raw if n)
    at = lo
    for b, e in spans:
        if b > at:
            break
        at = max(at, e)
        if at >= hi:
            return True
    return at >= hi


class MemmapTest(KernelTestCase):

    def read_maps(self, m):
        raw_text = m.run_command('memmap raw', via='serial')
        table_text = m.run_command('memmap', via='serial')
        raw = parse_raw(raw_text)
        self.assertTrue(raw, 'no entries in:\n' + raw_text)
        return raw, raw_text, table_text

    def check_firmware_map(self, raw, ram, low):
        """The raw map is what QEMU builds: RAM below 4 GiB except the
        legacy VGA/ROM window, the rest of the RAM from 4 GiB up."""
        self.assertTrue(covered(raw, 0, 0xa0000), 'conventional memory covered')
        self.assertTrue(covered(raw, 0xf0000, low), 'memory up to %#x covered' % low)
        avail_low = sum(min(b + n, low) - max(b, MIB) for b, n, t in raw
                        if t == AVAILABLE and b + n > MIB and b < low)
        self.assertGreater(avail_low, (low - MIB) * 0.95, 'most RAM above 1 MiB available')
        high = ram - low
        above = [(b, n, t) for b, n, t in raw if b >= FOUR_G]
        if high:
            self.assertEqual(above, [(FOUR_G, high, AVAILABLE)])
        else:
            self.assertEqual(above, [])

    def check_table(self, raw, table_text):
        """`memmap` prints exactly the cleaned map, the gaps between its
        regions, and the totals."""
        clean = clean_map(raw)
        rows = parse_table(table_text)
        expect = []
        nxt = 0
        for b, n, t in clean:
            if b > nxt:
                expect.append(('gap', nxt, b - 1, '(not in the map)'))
            expect.append(('mem', b, b + n - 1, NAMES[t]))
            nxt = b + n
        self.assertEqual([r[:4] for r in rows], expect, table_text)
        for kind, base, last, _, _, note in rows:
            want = '' if kind == 'gap' or last < FOUR_G else \
                'above 4G' if base >= FOUR_G else 'across 4G'
            self.assertEqual(note, want, 'the 4 GiB mark of [%#x-%#x]' % (base, last))
        avail = sum(n for _, n, t in clean if t == AVAILABLE)
        usable_end = max((min(b + n, FOUR_G) for b, n, t in clean
                          if t == AVAILABLE and b < FOUR_G), default=0)
        self.assertRegex(table_text, r'memmap: totals: available %s' % re.escape(
            self.size_text(avail)))
        self.assertIn('memmap: usable RAM below 4 GiB ends at 0x%08x' % usable_end, table_text)
        above = sum(n for b, n, _ in clean if b >= FOUR_G)
        if above:
            self.assertIn('%s in 1 region above 4 GiB: not addressable without PAE'
                          % self.size_text(above), table_text)
        else:
            self.assertNotIn('above 4 GiB:', table_text)
        return clean

    @staticmethod
    def size_text(n):
        """format_size() of the kernel: exact units plainly, else one decimal."""
        units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
        u = 0
        while u + 1 < len(units) and n >> (10 * (u + 1)):
            u += 1
        if u == 0:
            return '%d B' % n
        whole, rem = divmod(n, 1 << (10 * u))
        if rem == 0:
            return '%d %s' % (whole, units[u])
        tenth = (rem * 10 + (1 << (10 * u - 1))) >> (10 * u)
        if tenth == 10:
            whole, tenth = whole + 1, 0
        return '%d.%d %s' % (whole, tenth, units[u])

    def check_screen_colours(self, m, clean):
        """On screen, each type name is in its colour and gaps are grey."""
        m.run_command('clear')
        m.run_command('memmap')
        s = m.screen()
        colour = {AVAILABLE: LIGHT_GREEN, RESERVED: LIGHT_RED}
        for b, n, t in clean:
            pos = s.find('[mem 0x%016x-0x%016x] ' % (b, b + n - 1))
            if pos is None:
                continue    # scrolled off on the biggest maps
            row, col = pos
            self.assertAttr(s, row, col + 44, vga_attr(colour[t], BLACK), NAMES[t])
            if b >= FOUR_G:
                self.assertAttr(s, row, 72, vga_attr(LIGHT_CYAN, BLACK), 'above 4G')
        gap = s.find('[gap ')
        if gap:
            self.assertAttr(s, gap[0], 0, vga_attr(DARK_GREY, BLACK), 'gap line')

    def test_sizes_and_machines(self):
        """Every configuration, booted with -kernel and from the GRUB ISO:
        the same firmware map, cleaned right, shown right."""
        for mem, machine, low in CONFIGS:
            raws = {}
            for boot in ('kernel', 'iso'):
                with self.subTest(mem=mem, machine=machine, boot=boot):
                    m = self.boot(boot=boot, mem=mem, machine=machine)
                    raw, raw_text, table_text = self.read_maps(m)
                    raws[boot] = raw
                    self.check_firmware_map(raw, ram_bytes(mem), low)
                    clean = self.check_table(raw, table_text)
                    boot_log = m.serial_text()
                    # The boot screen showed the same table.
                    self.assertIn(table_text.split('\n')[1], boot_log.split('kv> ')[0])
                    found = re.search(r'boot: memory: (\d+) KiB below 1 MiB, (\d+) KiB above',
                                      boot_log)
                    first_mib = [n for b, n, t in raw if b == 0 and t == AVAILABLE]
                    above_1m = [b + n for b, n, t in raw if b == MIB and t == AVAILABLE]
                    self.assertEqual(int(found.group(1)) * 1024, first_mib[0])
                    self.assertEqual(MIB + int(found.group(2)) * 1024, above_1m[0])
                    if boot == 'kernel' and mem in ('5G', '128M'):
                        self.check_screen_colours(m, clean)
                    m.close()
            self.assertEqual(raws['kernel'], raws['iso'], 'GRUB and -kernel give one map')

    def test_raw_view_explains(self):
        """`memmap raw` lists each entry with its type name and its fate."""
        m = self.boot(mem='128M')
        raw_text = m.run_command('memmap raw')
        self.assertIn('6 entries exactly as the BIOS e820 map (via Multiboot) gave them',
                      raw_text)
        for line in RAW_LINE.finditer(raw_text):
            self.assertEqual(line.group(5), NAMES[int(line.group(4))])
            self.assertRegex(line.group(6), r'^kept as region %s$' % line.group(1))
        self.assertIn('the higher priority wins', raw_text)

    def test_bars(self):
        """`memmap bar` draws three bars whose cells follow the map; on
        serial as letters, on screen as coloured blocks."""
        m = self.boot(mem='128M')
        raw, _, _ = self.read_maps(m)
        clean = clean_map(raw)
        m.run_command('clear')
        out = m.run_command('memmap bar')
        bars = re.findall(r'^([ARCNU.arcnu]{80})$', out, re.M)
        self.assertEqual(bars, [bar_letters(clean, 0, FOUR_G),
                                bar_letters(clean, 0, 128 * MIB),
                                bar_letters(clean, 0, MIB)], out)
        self.assertTrue(bars[2].startswith('A' * 49) and bars[2].endswith('RRRRR'), bars[2])
        self.assertRegex(out, r'(?m)^0 +1G +2G +3G +4G$')
        s = m.screen()
        row = s.find('The first MiB')[0] + 1
        self.assertEqual(s.char(row, 0), '\u2588')    # full block, available
        self.assertEqual(s.fg(row, 0), LIGHT_GREEN)
        self.assertEqual(s.fg(row, 79), LIGHT_RED)
        self.assertEqual(s.char(row, 60), '\u2591')   # light shade: a hole

    def test_bad_argument(self):
        m = self.boot()
        out = m.run_command('memmap pie')
        self.assertIn("memmap: no view 'pie' (say raw or bar, or nothing for the table)", out)
        self.assertIn('usage: memmap [raw|bar]', out)
        out = m.run_command('memmap raw bar')
        self.assertIn('memmap: too many arguments', out)


if __name__ == '__main__':
    unittest.main()
