/* Entry from a multiboot (v1) or multiboot2 boot loader: 32-bit protected
 * mode, paging off, EAX = magic, EBX = boot information.  Builds an identity
 * map of the first 4 GiB with 2 MiB pages, enters long mode and calls
 * kmain(magic, info).  kmain replaces these tables with W^X ones. */

#define MB1_MAGIC       0x1badb002
#define MB1_FLAGS       ((1 << 0) | (1 << 1) | (1 << 16)) /* align modules, mem info, addresses below */
#define MB2_MAGIC       0xe85250d6
#define BOOT_STACK_SIZE 16384

        .section .multiboot, "a"
        .align 4
mb1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)
        /* The a.out-kludge addresses make the header self-describing, so
         * QEMU's -kernel loader accepts this ELF64 file (it refuses 64-bit
         * ELF images otherwise). */
        .long mb1_header        /* header_addr */
        .long __image_start     /* load_addr */
        .long __data_end        /* load_end_addr */
        .long __bss_end         /* bss_end_addr */
        .long boot_entry32      /* entry_addr */

        .align 8
mb2_header:
        .long MB2_MAGIC
        .long 0                 /* architecture: i386 protected mode */
        .long mb2_header_end - mb2_header
        .long -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
        /* module alignment tag: page-align modules */
        .align 8
        .short 6, 0
        .long 8
        /* end tag */
        .align 8
        .short 0, 0
        .long 8
mb2_header_end:

        .section .boot32, "ax"
        .code32
        .global boot_entry32
boot_entry32:
        cli
        cld
        movl $(boot_stack + BOOT_STACK_SIZE), %esp
        movl %eax, boot_magic
        movl %ebx, boot_info

        /* Long mode present?  CPUID 0x80000001 EDX bit 29. */
        movl $0x80000000, %eax
        cpuid
        cmpl $0x80000001, %eax
        jb no_long_mode
        movl $0x80000001, %eax
        cpuid
        btl $29, %edx
        jnc no_long_mode

        /* PML4[0] -> PDPT, PDPT[0..3] -> PD0..PD3, PDn[i] -> 2 MiB pages. */
        movl $boot_pdpt, %eax
        orl $0x3, %eax
        movl %eax, boot_pml4
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $12, %eax
        addl $boot_pd, %eax
        orl $0x3, %eax
        movl %eax, boot_pdpt(, %ecx, 8)
        incl %ecx
        cmpl $4, %ecx
        jb 1b
        xorl %ecx, %ecx
2:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax         /* present, writable, 2 MiB */
        movl %eax, boot_pd(, %ecx, 8)
        movl %ecx, %eax
        shrl $11, %eax          /* bits 63:32 of the address: ecx / 2048 */
        movl %eax, boot_pd + 4(, %ecx, 8)
        incl %ecx
        cmpl $2048, %ecx
        jb 2b

        movl %cr4, %eax
        orl $(1 << 5), %eax     /* PAE */
        movl %eax, %cr4
        movl $boot_pml4, %eax
        movl %eax, %cr3
        movl $0xc0000080, %ecx  /* IA32_EFER: LME and NXE */
        rdmsr
        orl $((1 << 8) | (1 << 11)), %eax
        wrmsr
        movl %cr0, %eax
        orl $((1 << 31) | (1 << 16) | 1), %eax  /* PG, WP, PE */
        movl %eax, %cr0

        lgdt boot_gdt_ptr
        ljmp $0x08, $boot_entry64

no_long_mode:
        /* Say why on COM1 before stopping: a silent hang is worse. */
        movl $no_lm_msg, %esi
3:      movb (%esi), %al
        testb %al, %al
        jz 5f
        movw $0x3fd, %dx
4:      inb %dx, %al
        testb $0x20, %al
        jz 4b
        movb (%esi), %al
        movw $0x3f8, %dx
        outb %al, %dx
        incl %esi
        jmp 3b
5:      cli
        hlt
        jmp 5b

        .code64
boot_entry64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs
        movq $(boot_stack + BOOT_STACK_SIZE), %rsp
        xorq %rbp, %rbp
        movl boot_magic, %edi
        movl boot_info, %esi
        call kmain
6:      cli
        hlt
        jmp 6b

        .section .rodata
no_lm_msg:
        .asciz "vtvisor: refused: this CPU has no 64-bit long mode; vtvisor needs an x86-64 CPU with VT-x\r\n"
        .align 16
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
        .short boot_gdt_end - boot_gdt - 1
        .long boot_gdt

        .section .data
        .align 4
boot_magic:     .long 0
boot_info:      .long 0

        .section .bss
        .align 4096
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4 * 4096
        .global boot_stack, boot_stack_top, boot_pml4
boot_stack:     .skip BOOT_STACK_SIZE
boot_stack_top:
