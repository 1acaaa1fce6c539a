/* Entry of every multiboot (v1) test guest, and with GUEST_MB2 defined
 * (entry_mb2.S) of the multiboot2 one: only the header differs.
 *
 * The boot loader (vtvisor, or GRUB when a guest is tried on bare Bochs)
 * enters _start in 32-bit protected mode with paging off, EAX = 0x2BADB002
 * (multiboot2: 0x36D76289) and EBX = the multiboot information.  The stack pointer and GDTR are
 * undefined, so the stub records the entry state, sets up its own stack and
 * flat GDT (interrupt gates and IRET load CS from the GDT), then calls
 * guest_start() in guest.c, which never returns. */

#define MB_MAGIC       0x1badb002
#define MB_FLAGS       0x00000003 /* page-align modules, want memory information */
#define STACK_SIZE     16384

        .section .multiboot, "a"
#ifndef GUEST_MB2
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
#else
/* Multiboot2 Specification 1.0, 3.1: 8-byte aligned header and tags. */
#define MB2_MAGIC 0xe85250d6
        .align 8
mb2_header:
        .long MB2_MAGIC
        .long 0                                 /* architecture: i386 */
        .long mb2_header_end - mb2_header
        .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
        .align 8                                /* information request, required */
        .short 1, 0
        .long 8 + 4 * 8
        .long 1, 2, 3, 4, 6, 14, 15, 21
        .align 8                                /* console flags: EGA text, not required */
        .short 4, 0
        .long 12
        .long 2
        .align 8                                /* module alignment */
        .short 6, 0
        .long 8
        .align 8                                /* entry address */
        .short 3, 0
        .long 12
        .long _start
        .align 8                                /* framebuffer, optional: ignored */
        .short 5, 1
        .long 20
        .long 0, 0, 0
        .align 8                                /* end */
        .short 0, 0
        .long 8
mb2_header_end:
#endif

        .section .text.entry, "ax"
        .code32
        .global _start
_start:
        /* Only flat DS is guaranteed here: save registers before touching
         * anything else.  Loading ESP does not change EFLAGS. */
        movl %eax, g_entry_eax
        movl %ebx, g_entry_ebx
        movl $(guest_stack + STACK_SIZE), %esp
        pushfl
        popl g_entry_eflags
        movl %cr0, %eax
        movl %eax, g_entry_cr0
        movw %cs, %ax
        movw %ax, g_entry_cs
        cli
        cld

        lgdt gdt_desc
        ljmp $0x08, $1f
1:      movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        xorl %ebp, %ebp
        call guest_start
2:      cli
        hlt
        jmp 2b

/* Exception stubs: each pushes a dummy error code where the CPU does not push
 * one, then the vector, and joins exc_common, which hands a struct
 * exc_frame (guest.h) to guest_exception(). */
.macro EXC_NOERR n
        .align 8
exc_stub_\n:
        pushl $0
        pushl $\n
        jmp exc_common
.endm
.macro EXC_ERR n
        .align 8
exc_stub_\n:
        pushl $\n
        jmp exc_common
.endm

        EXC_NOERR 0
        EXC_NOERR 1
        EXC_NOERR 2
        EXC_NOERR 3
        EXC_NOERR 4
        EXC_NOERR 5
        EXC_NOERR 6
        EXC_NOERR 7
        EXC_ERR   8
        EXC_NOERR 9
        EXC_ERR   10
        EXC_ERR   11
        EXC_ERR   12
        EXC_ERR   13
        EXC_ERR   14
        EXC_NOERR 15
        EXC_NOERR 16
        EXC_ERR   17
        EXC_NOERR 18
        EXC_NOERR 19
        EXC_NOERR 20
        EXC_ERR   21
        EXC_NOERR 22
        EXC_NOERR 23
        EXC_NOERR 24
        EXC_NOERR 25
        EXC_NOERR 26
        EXC_NOERR 27
        EXC_NOERR 28
        EXC_ERR   29
        EXC_ERR   30
        EXC_NOERR 31

exc_common:
        pushal
        pushl %esp
        call guest_exception
        addl $4, %esp
        popal
        addl $8, %esp
        iretl

/* Interrupt stubs for vectors 32-255: each pushes its vector and joins
 * irq_common, which calls guest_irq(vector) in guest.c. */
        .altmacro
.macro IRQ_STUB n
        .align 8
irq_stub_\n:
        pushl $\n
        jmp irq_common
.endm
.set irqv, 32
.rept 224
        IRQ_STUB %irqv
        .set irqv, irqv + 1
.endr
irq_common:
        pushal
        pushl 32(%esp)
        call guest_irq
        addl $4, %esp
        popal
        addl $4, %esp
        iretl

.macro IRQ_ADDR n
        .long irq_stub_\n
.endm
        .section .rodata
        .align 4
        .global g_irq_stubs
g_irq_stubs:
.set irqv, 32
.rept 224
        IRQ_ADDR %irqv
        .set irqv, irqv + 1
.endr
        .noaltmacro

        .align 4
        .global g_exc_stubs
g_exc_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long exc_stub_\n
        .endr

        .section .data
        .align 8
gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: flat data */
gdt_end:
        .align 4
        .short 0
gdt_desc:
        .short gdt_end - gdt - 1
        .long gdt

        .section .bss
        .align 16
guest_stack:
        .skip STACK_SIZE

        .section .note.GNU-stack, "", @progbits
