; isr_stubs.asm - the 48 interrupt entry points (32 exceptions, 16 IRQs).
;
; Each stub makes the stack look the same whatever the vector: the CPU has
; pushed EFLAGS, CS, EIP and, for some exceptions, an error code; the stub
; pushes a dummy 0 error code where the CPU did not, then the vector number,
; and jumps to isr_common which saves everything else as a struct
; trap_frame (include/kernel/interrupts.h) and calls interrupt_dispatch.

section .text

%macro ISR_NOERR 1
isr_stub_%1:
    push dword 0
    push dword %1
    jmp isr_common
%endmacro

%macro ISR_ERR 1
isr_stub_%1:
    push dword %1
    jmp isr_common
%endmacro

; Exceptions that push an error code (Intel SDM vol. 3A, table 6-1):
; 8 #DF, 10 #TS, 11 #NP, 12 #SS, 13 #GP, 14 #PF, 17 #AC, 21 #CP, 29 #VC, 30 #SX
%assign v 0
%rep 48
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
    ISR_ERR v
  %else
    ISR_NOERR v
  %endif
  %assign v v + 1
%endrep

extern interrupt_dispatch
isr_common:
    pusha                     ; eax ecx edx ebx esp ebp esi edi
    push ds
    push es
    push fs
    push gs
    mov ax, 0x10              ; kernel data segment
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    cld
    push esp                  ; struct trap_frame *
    call interrupt_dispatch
    add esp, 4
    pop gs
    pop fs
    pop es
    pop ds
    popa
    add esp, 8                ; vector and error code
    iret

section .rodata
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 48
    dd isr_stub_ %+ v
  %assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
