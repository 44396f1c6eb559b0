; gdt_load.asm - install a GDT and reload every segment register.
;
; void gdt_load(const struct dtr *d, uint16_t code_sel, uint16_t data_sel);
; CS can only be changed by a far transfer, so we push the new CS and the
; return point and "return far" into it.

section .text
global gdt_load
gdt_load:
    mov eax, [esp + 4]
    lgdt [eax]
    mov eax, [esp + 12]       ; data selector
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    movzx eax, word [esp + 8] ; code selector
    push eax
    push .reloaded
    retf
.reloaded:
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
