/* Start-up code of the other CPUs (application processors).
 *
 * A STARTUP IPI starts an AP in real mode at CS:IP = (page << 8):0 (SDM
 * 8.4.4.1), so this trampoline is copied to AP_TRAMPOLINE_PA, below 1 MiB,
 * and written for that address.  It goes to protected mode, then to long
 * mode on boot.S's page tables (an identity map of the first 4 GiB without
 * NX, so the trampoline page may execute), and jumps to ap_entry64 in the
 * image, which switches to the host's W^X tables, takes the stack smp.c
 * left for this CPU and calls ap_main(pcpu).  The BSP starts one AP at a
 * time, so one set of hand-over variables is enough. */

#define AP_TRAMPOLINE_PA 0x8000
#define T(sym) (AP_TRAMPOLINE_PA + (sym - ap_tramp_start))

        .section .rodata
        .code16
        .global ap_tramp_start, ap_tramp_end, ap_tramp_cr3
        .align 16
ap_tramp_start:
        cli
        cld
        xorw %ax, %ax
        movw %ax, %ds
        lgdtl T(tramp_gdt_ptr)
        movl %cr0, %eax
        orl $1, %eax                    /* PE */
        movl %eax, %cr0
        ljmpl $0x08, $T(tramp_pm32)

        .code32
tramp_pm32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl %cr4, %eax
        orl $(1 << 5), %eax             /* PAE */
        movl %eax, %cr4
        movl T(ap_tramp_cr3), %eax
        movl %eax, %cr3
        movl $0xc0000080, %ecx          /* IA32_EFER: LME and NXE */
        rdmsr
        orl $((1 << 8) | (1 << 11)), %eax
        wrmsr
        movl %cr0, %eax
        orl $((1 << 31) | (1 << 16)), %eax      /* PG, WP */
        movl %eax, %cr0
        ljmpl $0x18, $T(tramp_lm64)

        .code64
tramp_lm64:
        movabsq $ap_entry64, %rax
        jmp *%rax

        .align 16
tramp_gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
        .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
tramp_gdt_ptr:
        .short tramp_gdt_ptr - tramp_gdt - 1
        .long T(tramp_gdt)
        .align 4
ap_tramp_cr3:
        .long 0                         /* boot.S's PML4, filled in by smp.c */
ap_tramp_end:

        .text
        .code64
        .global ap_entry64
ap_entry64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs
        movq ap_boot_cr3(%rip), %rax
        movq %rax, %cr3
        movq ap_boot_stack(%rip), %rsp
        xorq %rbp, %rbp
        movq ap_boot_pcpu(%rip), %rdi
        call ap_main
1:      cli
        hlt
        jmp 1b
