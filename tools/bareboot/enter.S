/* void bareboot_enter(cr3, gdtr, rip, rsi): the Linux 64-bit boot protocol's
 * entry state (boot.rst), from long mode: the loader's identity page tables
 * and GDT, __BOOT_CS = 0x10, __BOOT_DS = 0x18, interrupts off, RSI =
 * boot_params. */
        .text
        .global bareboot_enter
bareboot_enter:
        cli
        movq %rdi, %cr3
        lgdt (%rsi)
        movq %rcx, %rsi
        movq %rdx, %rdi
        pushq $0x10
        leaq 1f(%rip), %rax
        pushq %rax
        lretq
1:      movl $0x18, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        movl %eax, %fs
        movl %eax, %gs
        xorl %ebp, %ebp
        jmp *%rdi
