/*
 * keyboard.h - the PS/2 keyboard on IRQ 1, scancode set 1.
 *
 * The controller (8042) translates the keyboard's codes to set 1 by
 * default, which is what GRUB and QEMU leave us.  Decoding is the pure
 * kbd_decode() of include/kernel/keys.h.
 */
#ifndef KERNEL_KEYBOARD_H
#define KERNEL_KEYBOARD_H

/* keyboard_init - drain stale bytes, install the IRQ 1 handler. */
void keyboard_init(void);

/* keyboard_reset_cpu - pulse the CPU reset line through the 8042 (the
 * classic way to reboot a PC).  Returns only if the controller ignored it. */
void keyboard_reset_cpu(void);

#endif
