; task_entry.asm - where the double-fault task starts.
;
; A task gate does not call: the CPU loads this task's registers from its
; TSS.  The first time, EIP is double_fault_task_entry and ESP the top of
; its stack, where the CPU has pushed the error code.  When the handler is
; done, iret (with NT set by the task switch) switches back to the
; interrupted task and saves this task's EIP as the instruction after the
; iret: so the next double fault continues at the jmp, which starts over.
; The error code is popped each time, so the stack never drifts.

section .text
global double_fault_task_entry
extern double_fault_task_main
double_fault_task_entry:
    pop eax                     ; the error code (always 0 for #DF)
    push eax
    call double_fault_task_main
    add esp, 4
    iretd
    jmp double_fault_task_entry

section .note.GNU-stack noalloc noexec nowrite progbits
