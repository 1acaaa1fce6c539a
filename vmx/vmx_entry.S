/* VM entry and exit.
 *
 * int vmx_run(struct guest_regs *regs, int launched,
 *             int (*fast)(struct guest_regs *regs))
 *   Loads the guest's GPRs and CR2 from regs and enters the guest with
 *   VMLAUNCH (launched == 0) or VMRESUME.  Returns after a VM exit with the
 *   guest's GPRs and CR2 saved back into regs: 0 for an exit the caller
 *   handles, 3 for one the fast path handled (the caller's slow path is
 *   due); 1 on VMfailInvalid, 2 on VMfailValid (the reason is in
 *   VM_INSTRUCTION_ERROR).
 *
 * The exit fast path: after each exit, with the guest's registers saved,
 * vmx_exit_entry calls fast(regs).  It returns 0 (not handled: return 0),
 * 1 (handled, nothing else to do: reload the guest's registers and
 * VMRESUME at once, without returning) or 3 (handled: return 3).
 *
 * On VM exit the CPU jumps to vmx_exit_entry with RSP = HOST_RSP, which
 * vmx_run set to point at the saved regs pointer, the fast-path function
 * above it (SDM 27.5.3).  HOST_RSP is 16-byte aligned, as a call needs. */

#define HOST_RSP 0x6c14
#define R(n) (8 * (n))
#define CR2_OFF (8 * 16)

        .text
        .global vmx_run
vmx_run:
        pushq %rbp
        pushq %rbx
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        subq $8, %rsp           /* alignment */
        pushq %rdx              /* fast path: 8(%rsp) at HOST_RSP */
        pushq %rdi              /* regs: 0(%rsp) at HOST_RSP */
        movq $HOST_RSP, %rax
        vmwrite %rsp, %rax
        jbe vmx_fail_early

        testl %esi, %esi        /* flags survive the loads below */
        jnz load_and_resume
        call load_guest
        vmlaunch
        jmp vmx_fail

/* Guest GPRs and CR2 from regs (in %rdi); flags are left alone. */
load_guest:
        movq CR2_OFF(%rdi), %rax
        movq %rax, %cr2
        movq R(0)(%rdi), %rax
        movq R(1)(%rdi), %rcx
        movq R(2)(%rdi), %rdx
        movq R(3)(%rdi), %rbx
        movq R(5)(%rdi), %rbp
        movq R(6)(%rdi), %rsi
        movq R(8)(%rdi), %r8
        movq R(9)(%rdi), %r9
        movq R(10)(%rdi), %r10
        movq R(11)(%rdi), %r11
        movq R(12)(%rdi), %r12
        movq R(13)(%rdi), %r13
        movq R(14)(%rdi), %r14
        movq R(15)(%rdi), %r15
        movq R(7)(%rdi), %rdi
        ret

load_and_resume:
        call load_guest
        vmresume

vmx_fail:
        /* Falling through means the entry failed; the GPRs hold guest
         * values, the stack is as vmx_run left it. */
vmx_fail_early:
        movl $1, %eax
        jc 2f
        movl $2, %eax
2:      popq %rdi
        popq %rdx
        addq $8, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbx
        popq %rbp
        ret

        .global vmx_exit_entry
vmx_exit_entry:
        pushq %rdi
        movq 8(%rsp), %rdi
        movq %rax, R(0)(%rdi)
        movq %rcx, R(1)(%rdi)
        movq %rdx, R(2)(%rdi)
        movq %rbx, R(3)(%rdi)
        movq %rbp, R(5)(%rdi)
        movq %rsi, R(6)(%rdi)
        movq %r8, R(8)(%rdi)
        movq %r9, R(9)(%rdi)
        movq %r10, R(10)(%rdi)
        movq %r11, R(11)(%rdi)
        movq %r12, R(12)(%rdi)
        movq %r13, R(13)(%rdi)
        movq %r14, R(14)(%rdi)
        movq %r15, R(15)(%rdi)
        popq %rax
        movq %rax, R(7)(%rdi)
        /* The fast path (RSP = HOST_RSP, aligned; %rdi = regs).  CR2 is
         * still the guest's: a #PF the fast path injects (MMIO emulation)
         * sets the CPU's CR2 as well as regs->cr2 (vcpu_set_cr2), and the
         * way to the slow path (3:) saves the CPU's into regs.  RBP
         * holds the guest's value: zero, so a backtrace stops here. */
        xorl %ebp, %ebp
        call *8(%rsp)
        movq (%rsp), %rdi
        cmpl $1, %eax
        jne 3f
        /* The GPRs as load_guest loads them (CR2 is unchanged), inline:
         * this is every fast exit's way back. */
        movq R(0)(%rdi), %rax
        movq R(1)(%rdi), %rcx
        movq R(2)(%rdi), %rdx
        movq R(3)(%rdi), %rbx
        movq R(5)(%rdi), %rbp
        movq R(6)(%rdi), %rsi
        movq R(8)(%rdi), %r8
        movq R(9)(%rdi), %r9
        movq R(10)(%rdi), %r10
        movq R(11)(%rdi), %r11
        movq R(12)(%rdi), %r12
        movq R(13)(%rdi), %r13
        movq R(14)(%rdi), %r14
        movq R(15)(%rdi), %r15
        movq R(7)(%rdi), %rdi
        vmresume
        jmp vmx_fail
3:      movq %cr2, %rdx
        movq %rdx, CR2_OFF(%rdi)
        popq %rdi
        popq %rdx
        addq $8, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbx
        popq %rbp
        ret
