; entry.asm - the Multiboot header and the first instructions of Kernel-V.
;
; GRUB (or QEMU -kernel) finds the header in the first 8 KiB of the image,
; loads the ELF at 1 MiB and jumps to _start in 32-bit protected mode with
; paging off, interrupts off, EAX = 0x2BADB002 and EBX = the physical
; address of the Multiboot information.  The stack is undefined: we set up
; our own before calling any C.

MB_MAGIC     equ 0x1BADB002
MB_ALIGN     equ 1 << 0          ; modules page-aligned
MB_MEMINFO   equ 1 << 1          ; give us mem_lower/upper and the memory map
MB_FLAGS     equ MB_ALIGN | MB_MEMINFO
MB_CHECKSUM  equ -(MB_MAGIC + MB_FLAGS)

BOOT_STACK_SIZE equ 16384

section .multiboot progbits alloc noexec nowrite align=4
    dd MB_MAGIC
    dd MB_FLAGS
    dd MB_CHECKSUM

; The boot stack, with one page below it that paging leaves unmapped: a
; kernel stack overflow then faults on the guard page instead of silently
; overwriting whatever .bss lies below (see src/memory/guard.c).
section .bss nobits alloc noexec write align=4096
global boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
    resb 4096
boot_stack_bottom:
    resb BOOT_STACK_SIZE
boot_stack_top:

section .text
global _start
extern kmain
_start:
    cli
    mov esp, boot_stack_top
    xor ebp, ebp                 ; a zero frame pointer ends stack traces
    cld                          ; the C ABI expects DF clear
    push ebx                     ; struct multiboot_info * (physical)
    push eax                     ; boot loader magic
    call kmain                   ; never returns
.hang:
    cli
    hlt
    jmp .hang

section .note.GNU-stack noalloc noexec nowrite progbits
