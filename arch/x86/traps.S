/* Host exception entry: one stub per vector pushes a uniform frame
 * (struct trap_frame in desc.h) and calls trap_handler. */

/* Vectors for which the CPU pushes an error code (SDM 6.15). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

        .text
        .altmacro
.macro stub v
trap_stub_\v:
        .if HAS_ERR(\v) == 0
        pushq $0
        .endif
        pushq $\v
        jmp trap_common
.endm

.set i, 0
.rept 32
        stub %i
        .set i, i + 1
.endr

trap_common:
        pushq %rax
        pushq %rbx
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %rbp
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, %rdi
        movq %rsp, %rbx
        andq $-16, %rsp
        call trap_handler
        movq %rbx, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rbp
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rbx
        popq %rax
        addq $16, %rsp
        iretq

.macro addr v
        .quad trap_stub_\v
.endm
        .section .rodata
        .global trap_stubs
        .align 8
trap_stubs:
.set i, 0
.rept 32
        addr %i
        .set i, i + 1
.endr
