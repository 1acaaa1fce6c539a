/* long-mode: the 64-bit half of attack=long-mode (tests/hostile/attack.c).
 *
 * lm_run(group) takes the 32-bit attacker (flat protected mode, paging off)
 * into IA-32e mode by itself: CR4.PAE, CR3 at identity-mapped 4-level page
 * tables (the first 4 GiB, user-accessible 2 MiB pages), EFER.LME by WRMSR,
 * CR0.PG, a far jump to a 64-bit code segment of its own GDT.  There it
 * runs one group of tests, each recording in lm_res[] the vector it raised
 * (-1: none) or a value it read, then leaves through compatibility mode
 * (paging off, LME off, PAE off) back to the caller in 32-bit mode, which
 * checks the results.  attack.c builds the GDT, IDT, TSS and page tables
 * and fills lm_gdtr, lm_idtr, lm_cr3 and lm_maxphy before.
 *
 * Every exception gate uses IST 1 (a stack of its own, so a test may load a
 * non-canonical RSP) and resumes at lm_recover in ring 0 on the stack the
 * group started with (a fault at CPL 3 comes back to ring 0 that way); with
 * lm_recover 0 it records the vector in lm_fatal and leaves long mode.
 *
 * GDT: 0x08 code32, 0x10 data, 0x18 code64, 0x20 data (SYSCALL's SS),
 * 0x28 user code32, 0x30 user data, 0x38 user code64 (SYSRET's CS and SS
 * from STAR[63:48] = 0x28), 0x40 the 64-bit TSS. */

#define NONCANON 0x0000800000000000
#define USER_CS  0x3b
#define USER_SS  0x33

        .section .note.GNU-stack, "", @progbits

/* Result slots (8 bytes each; keep in step with enum lm_slot in attack.c). */
        .set S_LMA, 0
        .set S_CS, 1
        .set S_CR8_RES0, 2
        .set S_CR8_RES1, 3
        .set S_CR8_RES2, 4
        .set S_CR8_AFTER, 5
        .set S_CR8_FROM_TPR, 6
        .set S_U_WCR8, 7
        .set S_U_RCR8, 8
        .set S_U_SWAPGS, 9
        .set S_SWAPGS, 10
        .set S_GS_AFTER, 11
        .set S_KGS_AFTER, 12
        .set S_WRMSR_NOT_GP, 13
        .set S_WRMSR_CHANGED, 14
        .set S_NC_READ, 15
        .set S_NC_WRITE, 16
        .set S_NC_STRADDLE, 17
        .set S_NC_RBP, 18
        .set S_NC_PUSH, 19
        .set S_NC_JMP, 20
        .set S_NC_JMP_RIP, 21
        .set S_CR4_NOT_GP, 22
        .set S_CR4_PAE, 23
        .set S_CR4_PCIDE, 24
        .set S_CR4_AFTER, 25
        .set S_CR4_BEFORE, 26
        .set S_CR0_HIGH, 27
        .set S_CR0_PG, 28
        .set S_CR0_AFTER, 29
        .set S_CR0_BEFORE, 30
        .set S_IRET_NC, 31
        .set S_IRET_NC_RIP, 32
        .set S_IRET_NC_U, 33
        .set S_EFER_NOT_GP, 34
        .set S_EFER_AFTER, 35
        .set S_EFER_BEFORE, 36
        .set S_SC_UD, 37
        .set S_SC_VEC, 38
        .set S_SC_CS, 39
        .set S_SC_SS, 40
        .set S_SC_RCX, 41
        .set S_SC_RCX_WANT, 42
        .set S_SC_R11, 43
        .set S_SCH_VEC, 44
        .set S_SCH_CS, 45
        .set S_SCH_SS, 46
        .set S_SR_NC, 47
        .set S_SR_NC_CS, 48
        .set S_SR_VEC, 49
        .set S_SR_FRAME_CS, 50
        .set S_SR_CS, 51
        .set S_SR_SS, 52
        .set S_SRH_VEC, 53
        .set S_SRH_FRAME_CS, 54
        .set S_SRH_CS, 55
        .set S_SRH_SS, 56
        .set S_CR3_NOT_GP, 57
        .set S_CR3_AFTER, 58
        .set S_CR3_TRIED, 59
        .set S_CR8_IRQ, 60
        .set S_ST8_LOAD, 61
        .set S_ST8_FS, 62
        .set S_ST8_STORE, 63
        .set S_SLOTS, 64

#define R(s) (lm_res + 8 * (s))(%rip)

        .data
        .align 8
        .global lm_res, lm_gdtr, lm_idtr, lm_cr3, lm_maxphy, lm_fatal, lm_fatal_rip
        .global lm_cr8_back, lm_tpr, lm_tss, lm_ramend, lm_m_tab, lm_m_n
lm_res:         .fill S_SLOTS, 8, 0
lm_cr8_back:    .fill 16, 8, 0
lm_tpr:         .fill 16, 8, 0
lm_recover:     .quad 0
lm_vec:         .long 0
lm_group:       .long 0
lm_err:         .quad 0
lm_rip:         .quad 0
lm_cs:          .quad 0
lm_saved_rsp:   .quad 0
lm_esp32:       .long 0
lm_fatal:       .long 0
lm_fatal_rip:   .quad 0
lm_cr3:         .long 0
lm_maxphy:      .long 0
lm_ramend:      .long 0
lm_m_tab:       .long 0
lm_m_n:         .long 0
lm_m_i:         .long 0
lm_m_cur:       .quad 0
lm_m_code:      .quad 0
lm_sc_return:   .quad 0
lm_sc_cs:       .quad 0
lm_sc_ss:       .quad 0
lm_sc_rcx:      .quad 0
lm_sc_r11:      .quad 0
lm_u_cs:        .quad 0
lm_u_ss:        .quad 0
        .align 4
        .word 0
lm_gdtr:        .word 0
                .long 0
        .word 0
lm_idtr:        .word 0
                .long 0
        .word 0
lm_gdt32:       .word 0
                .long 0
        .word 0
lm_idt32:       .word 0
                .long 0
        .align 16
lm_tss:         .fill 104, 1, 0

        .bss
        .align 16
lm_ist:         .skip 4096
lm_ist_top:
lm_ustack:      .skip 4096
lm_ustack_top:

        .text
/* ---- 32-bit: void lm_run(uint32_t group) ---- */
        .code32
        .global lm_run
lm_run:
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        movl 20(%esp), %eax
        movl %eax, lm_group
        movl %esp, lm_esp32
        movl $lm_ist_top, lm_tss + 36           /* IST1 */
        movl $lm_ist_top, lm_tss + 4            /* RSP0 */
        movw $104, lm_tss + 102                 /* no I/O bitmap */
        cli
        sgdt lm_gdt32
        sidt lm_idt32
        lgdt lm_gdtr
        lidt lm_idtr
        movl %cr4, %eax
        orl $0x20, %eax                         /* PAE */
        movl %eax, %cr4
        movl lm_cr3, %eax
        movl %eax, %cr3
        movl $0xc0000080, %ecx                  /* EFER.LME */
        rdmsr
        orl $0x100, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80000000, %eax                   /* PG: IA-32e mode (compatibility) */
        movl %eax, %cr0
        ljmp $0x18, $lm_entry64

/* ---- 64-bit ---- */
        .code64
lm_entry64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %fs
        movw %ax, %gs
        movl %esp, %esp
        movw $0x40, %ax
        ltr %ax
        movq %rsp, lm_saved_rsp(%rip)
        movl lm_group(%rip), %eax
        cmpl $0, %eax
        je lm_group0
        cmpl $1, %eax
        je lm_group1
        cmpl $2, %eax
        je lm_group2
        cmpl $3, %eax
        je lm_group3
        jmp lm_leave64

/* One instruction that may fault: lm_vec gets its vector (-1: none). */
.macro TRY0 insn:vararg
        movl $1f, %r14d
        movq %r14, lm_recover(%rip)
        movl $-1, lm_vec(%rip)
        \insn
1:      movq $0, lm_recover(%rip)
.endm
.macro TRY slot, insn:vararg
        TRY0 \insn
        movslq lm_vec(%rip), %r15
        movq %r15, R(\slot)
.endm
/* Counts in slot every one that did not raise #GP. */
.macro TRYGP slot, insn:vararg
        TRY0 \insn
        cmpl $13, lm_vec(%rip)
        je 2f
        incq R(\slot)
2:
.endm
/* Runs code at CPL 3 (RAX as it is): slot gets the vector it ended with. */
.macro USER slot, code
        movl $1f, %r14d
        movq %r14, lm_recover(%rip)
        movl $-1, lm_vec(%rip)
        pushq $USER_SS
        movl $lm_ustack_top, %r14d
        pushq %r14
        pushq $2
        pushq $USER_CS
        movl $\code, %r14d
        pushq %r14
        iretq
1:      movq $0, lm_recover(%rip)
        movslq lm_vec(%rip), %r15
        movq %r15, R(\slot)
.endm
.macro RDMSR_TO msr, slot
        movl $\msr, %ecx
        rdmsr
        movl %eax, %eax
        shlq $32, %rdx
        orq %rdx, %rax
        movq %rax, R(\slot)
.endm
.macro WRMSR_VAL msr, hi, lo
        movl $\msr, %ecx
        movl $\lo, %eax
        movl $\hi, %edx
        wrmsr
.endm
/* Three non-canonical values into MSR msr: each #GP, the MSR unchanged. */
.macro NC_MSR msr
        WRMSR_VAL \msr, 0, 0x12345000
        movl $\msr, %ecx
        xorl %eax, %eax
        movl $0x00008000, %edx
        TRYGP S_WRMSR_NOT_GP, wrmsr
        movl $\msr, %ecx
        xorl %eax, %eax
        movl $0x80000000, %edx
        TRYGP S_WRMSR_NOT_GP, wrmsr
        movl $\msr, %ecx
        movl $0xfffff000, %eax
        movl $0xffff7fff, %edx
        TRYGP S_WRMSR_NOT_GP, wrmsr
        movl $\msr, %ecx
        rdmsr
        cmpl $0x12345000, %eax
        jne 3f
        testl %edx, %edx
        je 4f
3:      incq R(S_WRMSR_CHANGED)
4:      WRMSR_VAL \msr, 0, 0
.endm

lm_group0:
        RDMSR_TO 0xc0000080, S_LMA
        xorl %eax, %eax
        movw %cs, %ax
        movq %rax, R(S_CS)

        /* CR8: bits 63:4 reserved (#GP, CR8 unchanged); 0-15 read back
         * and are TPR[7:4] in the local APIC, TPR[3:0] cleared (SDM
         * 10.8.6.1); a TPR written through the APIC page shows in CR8. */
        movq $7, %rax
        movq %rax, %cr8
        movq $0x10, %rax
        TRY S_CR8_RES0, movq %rax, %cr8
        movabsq $0x8000000000000000, %rax
        TRY S_CR8_RES1, movq %rax, %cr8
        movq $-11, %rax
        TRY S_CR8_RES2, movq %rax, %cr8
        movq %cr8, %rax
        movq %rax, R(S_CR8_AFTER)
        movl $0xfee00080, %esi
        xorl %ebx, %ebx
5:      movq %rbx, %cr8
        movq %cr8, %rax
        leaq lm_cr8_back(%rip), %rdi
        movq %rax, (%rdi,%rbx,8)
        movl (%rsi), %eax
        leaq lm_tpr(%rip), %rdi
        movq %rax, (%rdi,%rbx,8)
        incl %ebx
        cmpl $16, %ebx
        jb 5b
        movl $0x5a, (%rsi)
        movq %cr8, %rax
        movq %rax, R(S_CR8_FROM_TPR)
        xorl %eax, %eax
        movq %rax, %cr8

        /* At CPL 3: MOV to and from CR8, SWAPGS: #GP. */
        movq $3, %rax
        USER S_U_WCR8, lm_u_wcr8
        USER S_U_RCR8, lm_u_rcr8
        USER S_U_SWAPGS, lm_u_swapgs

        /* SWAPGS at CPL 0 exchanges GS.base and IA32_KERNEL_GS_BASE. */
        WRMSR_VAL 0xc0000101, 0, 0x1111000
        WRMSR_VAL 0xc0000102, 0, 0x2222000
        TRY S_SWAPGS, swapgs
        RDMSR_TO 0xc0000101, S_GS_AFTER
        RDMSR_TO 0xc0000102, S_KGS_AFTER
        swapgs
        WRMSR_VAL 0xc0000101, 0, 0
        WRMSR_VAL 0xc0000102, 0, 0

        /* WRMSR of non-canonical addresses: #GP, the MSR unchanged. */
        NC_MSR 0xc0000100                       /* FS_BASE */
        NC_MSR 0xc0000101                       /* GS_BASE */
        NC_MSR 0xc0000102                       /* KERNEL_GS_BASE */
        NC_MSR 0xc0000082                       /* LSTAR */
        NC_MSR 0xc0000083                       /* CSTAR */
        NC_MSR 0x175                            /* SYSENTER_ESP */
        NC_MSR 0x176                            /* SYSENTER_EIP */

        /* Non-canonical memory accesses: #GP, or #SS through RSP or RBP. */
        movabsq $NONCANON, %rbx
        TRY S_NC_READ, movq (%rbx), %rax
        movabsq $0xffff7ffffffff000, %rbx
        TRY S_NC_WRITE, movq %rax, (%rbx)
        movabsq $0x00007ffffffffffc, %rbx
        TRY S_NC_STRADDLE, movq (%rbx), %rax
        movabsq $NONCANON, %rbp
        TRY S_NC_RBP, movq (%rbp), %rax
        xorl %ebp, %ebp
        movabsq $NONCANON + 8, %rax
        movq %rax, %rsp
        TRY S_NC_PUSH, pushq %rax
        movabsq $NONCANON, %rax
        TRY S_NC_JMP, jmp *%rax
        movq lm_rip(%rip), %rax
        movq %rax, R(S_NC_JMP_RIP)

        /* 8-byte accesses straddling the end of RAM (lm_ramend) into
         * unbacked memory: a load 3 bytes below it, the same through FS
         * (base lm_ramend - 0x1000) with a REX-extended SIB, and a store
         * 5 bytes below it (its vector in the slot); attack.c checks the
         * values and the RAM bytes. */
        movl lm_ramend(%rip), %ebx
        subq $3, %rbx
        xorl %eax, %eax
        TRY0 movq (%rbx), %rax
        movq %rax, R(S_ST8_LOAD)
        movl $0xc0000100, %ecx                  /* FS_BASE */
        movl lm_ramend(%rip), %eax
        subl $0x1000, %eax
        xorl %edx, %edx
        wrmsr
        movl $0x800, %r12d
        movl $0x200, %r13d
        xorl %eax, %eax
        TRY0 movq %fs:-3(%r12,%r13,4), %rax
        movq %rax, R(S_ST8_FS)
        WRMSR_VAL 0xc0000100, 0, 0
        movl lm_ramend(%rip), %ebx
        subq $5, %rbx
        movabsq $0x8877665544332211, %rax
        TRY S_ST8_STORE, movq %rax, (%rbx)

        /* CR4 and CR0: reserved bits (63:32, LA57 in IA-32e mode, bit 15,
         * bits 26 and 31), PAE cleared, PCIDE with CR3[11:0] not 0, CR0
         * bit 32, PG cleared in 64-bit mode: #GP, nothing changed. */
        movq %cr4, %rbx
        movq %rbx, R(S_CR4_BEFORE)
        movabsq $0x100000000, %rax
        orq %rbx, %rax
        TRYGP S_CR4_NOT_GP, movq %rax, %cr4
        movabsq $0x8000000000000000, %rax
        orq %rbx, %rax
        TRYGP S_CR4_NOT_GP, movq %rax, %cr4
        movq %rbx, %rax
        orq $0x1000, %rax
        TRYGP S_CR4_NOT_GP, movq %rax, %cr4
        movq %rbx, %rax
        orq $0x8000, %rax
        TRYGP S_CR4_NOT_GP, movq %rax, %cr4
        movq %rbx, %rax
        orq $0x4000000, %rax
        TRYGP S_CR4_NOT_GP, movq %rax, %cr4
        movl $0x80000000, %eax
        orq %rbx, %rax
        TRYGP S_CR4_NOT_GP, movq %rax, %cr4
        movq %rbx, %rax
        andq $~0x20, %rax
        TRY S_CR4_PAE, movq %rax, %cr4
        movl lm_cr3(%rip), %eax
        orl $8, %eax                            /* PWT: CR3[11:0] not 0 */
        movq %rax, %cr3
        movq %rbx, %rax
        orq $0x20000, %rax
        TRY S_CR4_PCIDE, movq %rax, %cr4
        movl lm_cr3(%rip), %eax
        movq %rax, %cr3
        movq %cr4, %rax
        movq %rax, R(S_CR4_AFTER)
        movq %cr0, %rbx
        movq %rbx, R(S_CR0_BEFORE)
        movabsq $0x100000000, %rax
        orq %rbx, %rax
        TRY S_CR0_HIGH, movq %rax, %cr0
        movq %rbx, %rax
        btrq $31, %rax
        TRY S_CR0_PG, movq %rax, %cr0
        movq %cr0, %rax
        movq %rax, R(S_CR0_AFTER)

        /* IRETQ to a non-canonical RIP, at CPL 0 and to CPL 3: #GP, at
         * the IRETQ. */
        movq %rsp, %rax
        pushq $0x10
        pushq %rax
        pushq $2
        pushq $0x18
        movabsq $NONCANON, %rcx
        pushq %rcx
        TRY S_IRET_NC, 6: iretq
        movq lm_rip(%rip), %rax
        movl $6b, %r14d
        subq %r14, %rax
        movq %rax, R(S_IRET_NC_RIP)
        pushq $USER_SS
        movl $lm_ustack_top, %r14d
        pushq %r14
        pushq $2
        pushq $USER_CS
        movabsq $0xffff7ffffffff000, %rcx
        pushq %rcx
        TRY S_IRET_NC_U, iretq

        /* EFER: LME cleared while paging is on, reserved bits 1 and 63:
         * #GP, EFER unchanged. */
        RDMSR_TO 0xc0000080, S_EFER_BEFORE
        movl $0xc0000080, %ecx
        rdmsr
        andl $~0x100, %eax
        TRYGP S_EFER_NOT_GP, wrmsr
        movl $0xc0000080, %ecx
        rdmsr
        orl $2, %eax
        TRYGP S_EFER_NOT_GP, wrmsr
        movl $0xc0000080, %ecx
        rdmsr
        orl $0x80000000, %edx
        TRYGP S_EFER_NOT_GP, wrmsr
        RDMSR_TO 0xc0000080, S_EFER_AFTER
        jmp lm_leave64

/* SYSCALL and SYSRET: without EFER.SCE (#UD); with STAR, LSTAR and FMASK
 * set as an OS would, and with a hostile STAR whose selectors are no
 * descriptors (SYSCALL and SYSRET load fixed descriptor values whatever
 * the selectors: CS 0xfff8 and SS 0, CS 0x0003 and SS 0xfffb), each
 * followed by an exit (CPUID) in that state; SYSRET to a non-canonical
 * RCX (#GP, at CPL 0 on Intel). */
lm_group1:
        TRY S_SC_UD, syscall
        movl $0xc0000080, %ecx
        rdmsr
        orl $1, %eax                            /* SCE */
        wrmsr
        WRMSR_VAL 0xc0000082, 0, lm_sc_target   /* LSTAR */
        WRMSR_VAL 0xc0000084, 0, 0x700          /* FMASK: TF, IF, DF */
        WRMSR_VAL 0xc0000081, 0x00280018, 0     /* STAR */
        movl $7f, %r14d
        movq %r14, lm_sc_return(%rip)
        movl $8f, %r14d
        movq %r14, R(S_SC_RCX_WANT)
        movl $7f, %r14d
        movq %r14, lm_recover(%rip)
        movl $-1, lm_vec(%rip)
        syscall
8:      ud2
7:      movq $0, lm_recover(%rip)
        movslq lm_vec(%rip), %r15
        movq %r15, R(S_SC_VEC)
        movq lm_sc_cs(%rip), %rax
        movq %rax, R(S_SC_CS)
        movq lm_sc_ss(%rip), %rax
        movq %rax, R(S_SC_SS)
        movq lm_sc_rcx(%rip), %rax
        movq %rax, R(S_SC_RCX)
        movq lm_sc_r11(%rip), %rax
        movq %rax, R(S_SC_R11)

        WRMSR_VAL 0xc0000081, 0x0028fff8, 0
        movl $7f, %r14d
        movq %r14, lm_sc_return(%rip)
        movl $7f, %r14d
        movq %r14, lm_recover(%rip)
        movl $-1, lm_vec(%rip)
        syscall
        ud2
7:      movq $0, lm_recover(%rip)
        movslq lm_vec(%rip), %r15
        movq %r15, R(S_SCH_VEC)
        movq lm_sc_cs(%rip), %rax
        movq %rax, R(S_SCH_CS)
        movq lm_sc_ss(%rip), %rax
        movq %rax, R(S_SCH_SS)

        WRMSR_VAL 0xc0000081, 0x00280018, 0
        movabsq $NONCANON, %rcx
        movq $2, %r11
        TRY S_SR_NC, sysretq
        movq lm_cs(%rip), %rax
        movq %rax, R(S_SR_NC_CS)

        movl $lm_u_sysret, %ecx
        movq $2, %r11
        TRY S_SR_VEC, sysretq
        movq lm_cs(%rip), %rax
        movq %rax, R(S_SR_FRAME_CS)
        movq lm_u_cs(%rip), %rax
        movq %rax, R(S_SR_CS)
        movq lm_u_ss(%rip), %rax
        movq %rax, R(S_SR_SS)

        WRMSR_VAL 0xc0000081, 0xfff00018, 0
        movq $0, lm_u_cs(%rip)
        movq $0, lm_u_ss(%rip)
        movl $lm_u_sysret, %ecx
        movq $2, %r11
        TRY S_SRH_VEC, sysretq
        movq lm_cs(%rip), %rax
        movq %rax, R(S_SRH_FRAME_CS)
        movq lm_u_cs(%rip), %rax
        movq %rax, R(S_SRH_CS)
        movq lm_u_ss(%rip), %rax
        movq %rax, R(S_SRH_SS)

        WRMSR_VAL 0xc0000081, 0, 0
        WRMSR_VAL 0xc0000082, 0, 0
        WRMSR_VAL 0xc0000084, 0, 0
        jmp lm_leave64

/* MOV to CR3 with each bit from MAXPHYADDR to 62 set: #GP, CR3 unchanged. */
lm_group2:
        movl lm_maxphy(%rip), %ebx
9:      movl lm_cr3(%rip), %eax
        btsq %rbx, %rax
        incq R(S_CR3_TRIED)
        TRYGP S_CR3_NOT_GP, movq %rax, %cr3
        incl %ebx
        cmpl $63, %ebx
        jb 9b
        movq %cr3, %rax
        movq %rax, R(S_CR3_AFTER)
        jmp lm_leave64

/* Group 3 (attack=mmio-64): lm_m_n entries of lm_m_tab (struct m64 in
 * attack.c: regs[16] at 0, out[16] at 128, code at 256, vec at 288; 296
 * bytes each).  Each loads RAX-R15 but RSP from regs, calls its code (one
 * instruction, then RET), stores RAX-R15 into out and the vector it raised
 * (-1: none) into vec. */
        .set M64_SIZE, 296
lm_group3:
        movl $0, lm_m_i(%rip)
1:      movl lm_m_i(%rip), %eax
        cmpl lm_m_n(%rip), %eax
        jae 4f
        imull $M64_SIZE, %eax
        addl lm_m_tab(%rip), %eax
        movq %rax, lm_m_cur(%rip)
        addq $256, %rax
        movq %rax, lm_m_code(%rip)
        movl $3f, %r14d
        movq %r14, lm_recover(%rip)
        movl $-1, lm_vec(%rip)
        movq lm_m_cur(%rip), %r15
        movq 0(%r15), %rax
        movq 8(%r15), %rcx
        movq 16(%r15), %rdx
        movq 24(%r15), %rbx
        movq 40(%r15), %rbp
        movq 48(%r15), %rsi
        movq 56(%r15), %rdi
        movq 64(%r15), %r8
        movq 72(%r15), %r9
        movq 80(%r15), %r10
        movq 88(%r15), %r11
        movq 96(%r15), %r12
        movq 104(%r15), %r13
        movq 112(%r15), %r14
        movq 120(%r15), %r15
        call *lm_m_code(%rip)
3:      movq $0, lm_recover(%rip)
        pushq %r15
        movq lm_m_cur(%rip), %r15
        movq %rax, 128(%r15)
        movq %rcx, 136(%r15)
        movq %rdx, 144(%r15)
        movq %rbx, 152(%r15)
        movq %rbp, 168(%r15)
        movq %rsi, 176(%r15)
        movq %rdi, 184(%r15)
        movq %r8, 192(%r15)
        movq %r9, 200(%r15)
        movq %r10, 208(%r15)
        movq %r11, 216(%r15)
        movq %r12, 224(%r15)
        movq %r13, 232(%r15)
        movq %r14, 240(%r15)
        popq %rax
        movq %rax, 248(%r15)
        movl lm_vec(%rip), %eax
        movl %eax, 288(%r15)
        incl lm_m_i(%rip)
        jmp 1b
4:      jmp lm_leave64

/* SYSCALL's target: what it was entered with, an exit in that state,
 * then IRETQ (which loads CS and SS from the GDT) to lm_sc_return. */
lm_sc_target:
        movw %cs, lm_sc_cs(%rip)
        movw %ss, lm_sc_ss(%rip)
        movq %rcx, lm_sc_rcx(%rip)
        movq %r11, lm_sc_r11(%rip)
        xorl %eax, %eax
        cpuid
        movq %rsp, %rax
        pushq $0x10
        pushq %rax
        pushq $2
        pushq $0x18
        pushq lm_sc_return(%rip)
        iretq

/* CPL 3 code. */
lm_u_wcr8:
        movq %rax, %cr8
        ud2
lm_u_rcr8:
        movq %cr8, %rax
        ud2
lm_u_swapgs:
        swapgs
        ud2
lm_u_sysret:
        movw %cs, lm_u_cs(%rip)
        movw %ss, lm_u_ss(%rip)
        xorl %eax, %eax
        cpuid
        hlt                                     /* #GP at CPL 3 */
        ud2

/* Back to 32-bit protected mode: compatibility mode, paging off (IA-32e
 * mode off), EFER.LME and SCE off, PAE off, the library's GDT and IDT. */
lm_leave64:
        movq lm_saved_rsp(%rip), %rsp
        pushq $0x08
        movl $lm_compat32, %r14d
        pushq %r14
        lretq
        .code32
lm_compat32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl %cr0, %eax
        andl $0x7fffffff, %eax
        movl %eax, %cr0
        movl $0xc0000080, %ecx
        rdmsr
        andl $~0x101, %eax
        wrmsr
        movl %cr4, %eax
        andl $~0x20, %eax
        movl %eax, %cr4
        lgdt lm_gdt32
        lidt lm_idt32
        ljmp $0x08, $1f
1:      movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %fs
        movw %ax, %gs
        movl lm_esp32, %esp
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret

/* ---- exception gates (64-bit, IST 1) ---- */
        .code64
.macro LM_STUB n
        .align 16
lm_stub_\n:
        .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
        .else
        pushq $0
        .endif
        pushq $\n
        jmp lm_common
.endm
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        LM_STUB \n
        .endr

/* Frame: vector, error, RIP, CS, RFLAGS, RSP, SS.  Resumes at lm_recover
 * in ring 0 on the group's stack; with none set, leaves long mode. */
lm_common:
        pushq %rax
        movq 8(%rsp), %rax
        movl %eax, lm_vec(%rip)
        movq 16(%rsp), %rax
        movq %rax, lm_err(%rip)
        movq 24(%rsp), %rax
        movq %rax, lm_rip(%rip)
        movq 32(%rsp), %rax
        movq %rax, lm_cs(%rip)
        movq lm_recover(%rip), %rax
        testq %rax, %rax
        jnz 1f
        movq 8(%rsp), %rax
        incl %eax
        movl %eax, lm_fatal(%rip)
        movq 24(%rsp), %rax
        movq %rax, lm_fatal_rip(%rip)
        movl $lm_leave64, %eax
1:      movq %rax, 24(%rsp)
        movq $0x18, 32(%rsp)
        andq $~0x100, 40(%rsp)
        movq lm_saved_rsp(%rip), %rax
        movq %rax, 48(%rsp)
        movq $0x10, 56(%rsp)
        movq $0, lm_recover(%rip)
        popq %rax
        addq $16, %rsp
        iretq

        .section .rodata
        .align 4
        .global lm_stubs
lm_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long lm_stub_\n
        .endr
