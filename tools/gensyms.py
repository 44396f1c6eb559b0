#!/usr/bin/env python3
"""gensyms.py - the kernel's built-in symbol table, and the check that it fits.

    gensyms.py table  PASS1.ELF OUT.c          write the table as C
    gensyms.py verify PASS1.ELF FINAL.ELF STAMP check the final link

QEMU -kernel hands the kernel no section headers, so it cannot find its own
.symtab; the build links a copy of the function names into the image
instead (src/meson.build):

  1. kernel-pass1.elf is linked from all the objects; its .ksyms output
     section (boot/linker.ld, after .bss) is empty.
  2. `table` reads pass 1's function symbols and writes OUT.c: a header
     (struct ksym_table, in input section .ksyms.head so the linker puts it
     first, at __ksyms_start), entries {addr, size, name offset} sorted by
     address, and the names, all in .ksyms.
  3. kernel.elf is linked from the same objects plus OUT.c.  Since .ksyms
     comes after every other section, adding it can move no function.
  4. `verify` proves that: every function symbol, and every other loaded
     section, has the same address and size in both links; the table inside
     the final image is exactly what `table` makes from the final image; and
     every loaded section ends at or below __kernel_end (the frame allocator
     reserves up to there).  Any difference fails the build, loudly.

The ELF file is read with the struct module (no binutils needed): ELF32,
little-endian, as the kernel is.  A function symbol is one of type FUNC,
or NOTYPE (an assembly label), defined in an executable section, with a
name.  Labels have no size; they get one here: up to the next function
symbol, or the end of their section.  Entries that start at the same
address are merged (one with a size beats a label, a global a local), and
each is clipped to end where the next begins, which is what lets the
kernel's binary search look at one entry only (src/lib/symtab.c).
"""

import os
import struct
import sys

SHT_SYMTAB = 2
SHT_NOBITS = 8
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
STT_NOTYPE, STT_FUNC = 0, 2
STB_LOCAL = 0
SHN_LORESERVE = 0xff00
KSYM_MAGIC = 0x4d59534b          # "KSYM", as include/kernel/symbols.h
KSYM_ENTRY = struct.Struct('<III')   # struct ksym
KSYM_HEADER = struct.Struct('<IIIII')  # struct ksym_table (32-bit pointers)
TABLE_SECTION = '.ksyms'


class BuildError(Exception):
    pass


class Elf:
    """The sections and symbols of an ELF32 little-endian file."""

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b'\x7fELF' or d[4] != 1 or d[5] != 1:
            raise BuildError('%s: not a 32-bit little-endian ELF file' % path)
        shoff, = struct.unpack_from('<I', d, 32)
        shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 46)
        if shoff == 0 or shentsize < 40:
            raise BuildError('%s: no section headers' % path)
        raw = [struct.unpack_from('<10I', d, shoff + i * shentsize) for i in range(shnum)]
        names = raw[shstrndx]
        self.sections = []
        for sh in raw:
            self.sections.append({
                'name': self.string(names[4], sh[0]), 'type': sh[1], 'flags': sh[2],
                'addr': sh[3], 'offset': sh[4], 'size': sh[5], 'link': sh[6],
                'entsize': sh[9]})
        self.symbols = []
        for sh in self.sections:
            if sh['type'] != SHT_SYMTAB:
                continue
            strtab = self.sections[sh['link']]['offset']
            for at in range(sh['offset'], sh['offset'] + sh['size'], 16):
                name, value, size, info, _, shndx = struct.unpack_from('<IIIBBH', d, at)
                self.symbols.append({'name': self.string(strtab, name), 'value': value,
                                     'size': size, 'type': info & 0xf, 'bind': info >> 4,
                                     'shndx': shndx})

    def string(self, table_offset, offset):
        start = table_offset + offset
        end = self.data.index(b'\0', start)
        return self.data[start:end].decode('ascii', 'replace')

    def section(self, name):
        for sh in self.sections:
            if sh['name'] == name:
                return sh
        return None

    def symbol(self, name):
        for s in self.symbols:
            if s['name'] == name:
                return s
        raise BuildError('%s: no symbol %s' % (self.path, name))

    def loaded_sections(self):
        return [sh for sh in self.sections if sh['flags'] & SHF_ALLOC and sh['size']]

    def function_symbols(self):
        """(addr, size, name, global, is_func, section end) of each function
        symbol, sorted: the raw material of the table."""
        out = []
        for s in self.symbols:
            if s['type'] not in (STT_FUNC, STT_NOTYPE) or not s['name']:
                continue
            if s['shndx'] == 0 or s['shndx'] >= SHN_LORESERVE:
                continue
            sh = self.sections[s['shndx']]
            if sh['flags'] & (SHF_ALLOC | SHF_EXECINSTR) != SHF_ALLOC | SHF_EXECINSTR:
                continue
            out.append((s['value'], s['size'], s['name'], s['bind'] != STB_LOCAL,
                        s['type'] == STT_FUNC, sh['addr'] + sh['size']))
        return sorted(out)


def table_entries(elf):
    """The table: a sorted list of (addr, size, name), one per address."""
    by_addr = {}
    for sym in elf.function_symbols():
        addr, size, name, is_global, is_func, _ = sym
        rank = (size != 0, is_global, is_func, [-ord(c) for c in name])
        if addr not in by_addr or rank > by_addr[addr][0]:
            by_addr[addr] = (rank, sym)
    chosen = [by_addr[a][1] for a in sorted(by_addr)]
    entries = []
    for i, (addr, size, name, _, _, section_end) in enumerate(chosen):
        limit = chosen[i + 1][0] if i + 1 < len(chosen) else section_end
        limit = min(limit, section_end)
        size = limit - addr if size == 0 else min(size, limit - addr)
        if size > 0:
            entries.append((addr, size, name))
    return entries


def c_string(name):
    out = []
    for ch in name:
        if ch in '\\"' or not ' ' <= ch <= '~':
            out.append('\\%03o' % (ord(ch) & 0xff))
        else:
            out.append(ch)
    return ''.join(out)


def write_table(pass1, out_path):
    entries = table_entries(Elf(pass1))
    if not entries:
        raise BuildError('%s: no function symbols (is the kernel stripped?)' % pass1)
    offsets, at = [], 0
    for _, _, name in entries:
        offsets.append(at)
        at += len(name) + 1
    lines = [
        '/* Generated by tools/gensyms.py from %s: do not edit.' % os.path.basename(pass1),
        ' * %d functions, sorted by address (see include/kernel/symbols.h). */' % len(entries),
        '#include "kernel/symbols.h"',
        '',
        '#define KSYMS __attribute__((section(".ksyms"), used))',
        '',
        'static const struct ksym entries[%d] KSYMS = {' % len(entries),
    ]
    for (addr, size, name), off in zip(entries, offsets):
        lines.append('    {0x%08xu, %uu, %uu}, /* %s */' % (addr, size, off, c_string(name)))
    lines.append('};')
    lines.append('')
    lines.append('/* Each name ends in a NUL; the last one in the literal\'s own. */')
    lines.append('static const char names[] KSYMS =')
    for i, (_, _, name) in enumerate(entries):
        last = i + 1 == len(entries)
        ending = '";' if last else '\\000"'
        lines.append('    "%s%s' % (c_string(name), ending))
    lines += [
        '',
        'const struct ksym_table ksym_builtin __attribute__((section(".ksyms.head"), used)) = {',
        '    KSYM_MAGIC, %d, sizeof(names), entries, names,' % len(entries),
        '};',
        '_Static_assert(sizeof(names) == %du, "names blob size");' % at,
        '',
    ]
    with open(out_path, 'w') as f:
        f.write('\n'.join(lines))


def read_table(elf):
    """The table linked into elf, decoded from its .ksyms section."""
    sh = elf.section(TABLE_SECTION)
    if sh is None or sh['size'] < KSYM_HEADER.size:
        raise BuildError('%s: no %s section with a table in it' % (elf.path, TABLE_SECTION))
    def at(addr, length):
        if not sh['addr'] <= addr <= addr + length <= sh['addr'] + sh['size']:
            raise BuildError('%s: table data at 0x%x+%d lies outside %s'
                             % (elf.path, addr, length, TABLE_SECTION))
        return elf.data[sh['offset'] + addr - sh['addr']:][:length]
    magic, count, names_bytes, syms, names = KSYM_HEADER.unpack(at(sh['addr'], KSYM_HEADER.size))
    if magic != KSYM_MAGIC:
        raise BuildError('%s: the table header is not first in %s (magic 0x%08x)'
                         % (elf.path, TABLE_SECTION, magic))
    blob = at(names, names_bytes)
    out = []
    for i in range(count):
        addr, size, off = KSYM_ENTRY.unpack(at(syms + i * KSYM_ENTRY.size, KSYM_ENTRY.size))
        out.append((addr, size, blob[off:blob.index(b'\0', off)].decode('ascii', 'replace')))
    return out


def show(item):
    return '(' + ', '.join('0x%x' % x if isinstance(x, int) and not isinstance(x, bool)
                           else repr(x) for x in item) + ')'


def differences(what, a, b, a_name='pass 1', b_name='final', show_max=8):
    """Lines describing how lists a and b differ (none if they are equal)."""
    if a == b:
        return []
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    lines = ['%s differ: %d only in %s, %d only in %s'
             % (what, len(only_a), a_name, len(only_b), b_name)]
    width = max(len(a_name), len(b_name)) + 1
    lines += ['  %-*s %s' % (width, a_name + ':', show(x)) for x in only_a[:show_max]]
    lines += ['  %-*s %s' % (width, b_name + ':', show(x)) for x in only_b[:show_max]]
    if not only_a and not only_b:
        lines.append('  (the same items, in another order or repeated)')
    return lines


def verify(pass1_path, final_path, stamp):
    pass1, final = Elf(pass1_path), Elf(final_path)
    problems = []
    problems += differences('function symbols', pass1.function_symbols(),
                            final.function_symbols())
    def layout(elf):
        return [(sh['name'], sh['addr'], sh['size']) for sh in elf.loaded_sections()
                if sh['name'] != TABLE_SECTION]
    problems += differences('loaded sections', layout(pass1), layout(final))
    want = table_entries(final)
    have = read_table(final)
    problems += differences('the built-in table and the final kernel\'s functions', have,
                            want, 'table', 'kernel')
    if final.symbol('ksym_builtin')['value'] != final.symbol('__ksyms_start')['value']:
        problems.append('ksym_builtin is not at __ksyms_start')
    kernel_end = final.symbol('__kernel_end')['value']
    for sh in final.loaded_sections():
        if sh['addr'] + sh['size'] > kernel_end:
            problems.append('section %s ends at 0x%x, past __kernel_end 0x%x'
                            % (sh['name'], sh['addr'] + sh['size'], kernel_end))
    if problems:
        raise BuildError('%s does not match %s:\n%s'
                         % (final_path, pass1_path, '\n'.join(problems)))
    table = final.section(TABLE_SECTION)
    with open(stamp, 'w') as f:
        f.write('%d functions; %s is %d bytes at 0x%08x\n'
                % (len(have), TABLE_SECTION, table['size'], table['addr']))


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == 'table':
            write_table(argv[2], argv[3])
        elif len(argv) == 5 and argv[1] == 'verify':
            verify(argv[2], argv[3], argv[4])
        else:
            sys.stderr.write(__doc__.split('\n\n')[1] + '\n')
            return 2
    except BuildError as e:
        sys.stderr.write('gensyms.py: ERROR: %s\n' % e)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
