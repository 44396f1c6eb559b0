#!/bin/sh
# mkiso.sh KERNEL.ELF OUT.ISO [KERNEL COMMAND LINE]
# Builds a GRUB (BIOS) bootable ISO that boots KERNEL.ELF at once (menu
# timeout 0) with the given command line.  Used by the Meson ISO target,
# `./kv iso` and the QEMU tests (which build ISOs with other command lines).
set -eu
kernel=$1
out=$2
args=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/kv-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
tree="$work/iso" # what goes on the disc; the log stays outside it
mkdir -p "$tree/boot/grub"
cp "$kernel" "$tree/boot/kernel.elf"
cat > "$tree/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "Kernel-V" {
    multiboot /boot/kernel.elf $args
    boot
}
menuentry "Kernel-V (in-kernel self-tests)" {
    multiboot /boot/kernel.elf $args selftest
    boot
}
CFG
# grub-mkrescue prints progress on stderr; keep it quiet unless it fails.
if ! grub-mkrescue -o "$out" "$tree" > "$work/log" 2>&1; then
    cat "$work/log" >&2
    exit 1
fi
