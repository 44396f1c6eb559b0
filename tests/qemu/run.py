#!/usr/bin/env python3
"""run.py - run Kernel-V system test modules (tests/qemu/test_*.py).

    run.py [--build BUILDDIR] [-v] MODULE [MODULE...]

MODULE is a test module name ("test_boot" or "boot"), optionally narrowed
to a class or a test ("test_shell.ShellTest.test_echo").  Exits 0 when every
test passed, 1 otherwise; a failing test prints the screen and the serial
tail of each of its machines.

The kernel comes from KV_KERNEL, KV_ISO and KV_MKISO (Meson sets them; see
tests/qemu/meson.build).  --build BUILDDIR sets them from a build directory
instead: BUILDDIR/src/kernel.elf, BUILDDIR/src/kernel-v.iso, tools/mkiso.sh.
KV_KEEP=1 keeps every machine's directory (logs, sockets).
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kvqemu  # noqa: E402  (needs the path above)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('modules', nargs='+', metavar='MODULE')
    ap.add_argument('--build', metavar='BUILDDIR',
                    help='take the kernel, ISO and mkiso from this build directory')
    ap.add_argument('-v', '--verbose', action='store_true', help='one line per test')
    args = ap.parse_args()

    if args.build:
        build = os.path.abspath(args.build)
        os.environ['KV_KERNEL'] = os.path.join(build, 'src', 'kernel.elf')
        os.environ['KV_ISO'] = os.path.join(build, 'src', 'kernel-v.iso')
        os.environ['KV_MKISO'] = os.path.join(HERE, '..', '..', 'tools', 'mkiso.sh')

    names = []
    for name in args.modules:
        if not name.startswith('test_'):
            name = 'test_' + name
        if name.endswith('.py'):
            name = name[:-3]
        names.append(name)
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2 if args.verbose else 1,
                                     resultclass=kvqemu.DumpingTestResult)
    start = time.monotonic()
    result = runner.run(suite)
    sys.stderr.write('run.py: %s in %.1f s\n' % (' '.join(names), time.monotonic() - start))
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
