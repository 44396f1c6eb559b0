#!/usr/bin/env python3
"""screenshots.py - regenerate the PNG screenshots of every view from the
real kernel in QEMU (`./kv screenshots`).

Each shot boots the kernel (GRUB ISO, so the names come from GRUB's symbol
tables as a user sees them), types what a person would type, presses the
keys, waits until the screen shows what the shot is about, and asks QEMU
for a screendump of the VGA screen (PNG, colours as shown).  The pictures
go to docs/img/; docs/classroom.md and the README show them.

    tools/screenshots.py [--out DIR] [name ...]     (default: every shot)
"""

import argparse
import os
import sys
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, 'tests', 'qemu'))
os.environ.setdefault('KV_KERNEL', os.path.join(top, 'build', 'src', 'kernel.elf'))
os.environ.setdefault('KV_ISO', os.path.join(top, 'build', 'src', 'kernel-v.iso'))
os.environ.setdefault('KV_MKISO', os.path.join(top, 'tools', 'mkiso.sh'))

import kvqemu  # noqa: E402

# name -> (memory, machine type, steps, text the screen must show before the
# picture is taken).  A step is a shell line, or ('key', combo, ...).
SHOTS = {
    'view-map': ('5G', 'q35', [('key', 'f1')], 'Physical memory map'),
    'view-frames': ('128M', None, ['alloc 256', ('key', 'f2')], 'Physical frames'),
    'view-frames-3g': ('3G', None, ['alloc 4096', ('key', 'f2')], 'Physical frames'),
    'view-pages': ('128M', None, ['map 0x50000000', ('key', 'f3')], 'Page tables'),
    'view-pages-walk': ('128M', None, ['map 0x50000000', ('key', 'f3'), ('key', 't'),
                                       ('type', '50000123'), ('key', 'ret')], 'physical'),
    'view-heap': ('128M', None, ['kmalloc 100 net', 'kmalloc 3000 fs', 'kmalloc 40 net',
                                 ('key', 'f4')], 'Kernel heap'),
    'view-faults': ('128M', None, ['pf 0x60000000 w', ('key', 'f5')], 'fault #1'),
    'split-mode': ('128M', None, ['viz split on', 'alloc 2048', 'frames'], 'memory '),
    'demo-step3': ('128M', None, ['demo', ('key', 'ret'), ('key', 'ret')], 'Step 3'),
}


def take(name, out_dir):
    mem, machine, steps, expect = SHOTS[name]
    m = kvqemu.Machine(boot='iso', mem=mem, machine=machine, timeout=300)
    m.start()
    try:
        m.wait_prompt(timeout=60)
        m.run_command('clear')
        for step in steps:
            if isinstance(step, str):
                m.type(step)
                m.key('ret')
                time.sleep(0.5)
                m.wait_screen(lambda s: s.at_prompt() or 'Step' in s.text, timeout=60)
            elif step[0] == 'key':
                m.key(*step[1:])
                time.sleep(0.5)
            elif step[0] == 'type':
                m.type(step[1])
        m.wait_screen(lambda s: expect in s.text, timeout=30)
        time.sleep(0.6)  # one more live redraw
        path = os.path.abspath(os.path.join(out_dir, name + '.png'))
        m.qmp('screendump', filename=path, format='png')
        print('screenshots: %s' % os.path.relpath(path, top))
    finally:
        m.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=os.path.join(top, 'docs', 'img'))
    parser.add_argument('names', nargs='*', help='shots to take (default: all): %s'
                        % ', '.join(SHOTS))
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in SHOTS]
    if unknown:
        parser.error('no shot named %s' % ', '.join(unknown))
    os.makedirs(args.out, exist_ok=True)
    for name in args.names or SHOTS:
        take(name, args.out)


if __name__ == '__main__':
    main()
