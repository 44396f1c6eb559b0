; jump.asm - saving and resuming a point of execution, and memory probes.
;
; jump_save / jump_to are the kernel's setjmp / longjmp: the shell saves a
; point before it runs a command, and a fault inside the command resumes
; there (src/kernel/recover.c).  Only what the C calling convention says a
; callee must keep is saved: EBX ESI EDI EBP, the stack pointer, the return
; address, and EFLAGS (so interrupts come back on as they were).
;
;     struct jump_buf   +0 ebx  +4 esi  +8 edi  +12 ebp  +16 esp  +20 eip  +24 eflags
;
; The probes read or write one word that may not be mapped.  If the access
; faults, the page-fault handler sees that EIP is one of the two labelled
; instructions and moves EIP to probe_failed instead of reporting a fault,
; so the probe returns 0 (Linux calls this an exception table).

section .text

global jump_save
jump_save:                      ; int jump_save(struct jump_buf *b)
    mov eax, [esp + 4]
    mov [eax + 0], ebx
    mov [eax + 4], esi
    mov [eax + 8], edi
    mov [eax + 12], ebp
    lea ecx, [esp + 4]          ; the stack pointer after our return
    mov [eax + 16], ecx
    mov ecx, [esp]              ; our return address
    mov [eax + 20], ecx
    pushfd
    pop ecx
    mov [eax + 24], ecx
    xor eax, eax
    ret

global jump_to
jump_to:                        ; void jump_to(const struct jump_buf *b, int value)
    mov edx, [esp + 4]
    mov eax, [esp + 8]
    test eax, eax
    jnz .nonzero
    inc eax                     ; jump_save must not seem to return 0 again
.nonzero:
    mov ebx, [edx + 0]
    mov esi, [edx + 4]
    mov edi, [edx + 8]
    mov ebp, [edx + 12]
    mov esp, [edx + 16]
    push dword [edx + 24]
    popfd
    jmp [edx + 20]

global probe_read32, probe_write32, probe_read_insn, probe_write_insn, probe_failed
probe_read32:                   ; int probe_read32(uintptr_t addr, uint32_t *out)
    mov edx, [esp + 4]
probe_read_insn:
    mov eax, [edx]              ; may fault
    mov ecx, [esp + 8]
    mov [ecx], eax
    mov eax, 1
    ret

probe_write32:                  ; int probe_write32(uintptr_t addr, uint32_t value)
    mov edx, [esp + 4]
    mov eax, [esp + 8]
probe_write_insn:
    mov [edx], eax              ; may fault
    mov eax, 1
    ret

probe_failed:
    xor eax, eax
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
