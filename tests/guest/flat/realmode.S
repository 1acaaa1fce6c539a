/* realmode: a flat guest, loaded at guest-physical 0x7C00 and entered in
 * 16-bit real mode at 0000:7C00 with DL = 0x80, like a boot sector.
 * Checks CR0.PE = 0 (SMSW), CS = 0, the entry IP, DL, and that low memory
 * works, printing PASS/FAIL lines and "DONE: P passed, F failed" on the
 * UART at 0x3F8, then exits through port 0xF4 with the failure count (so
 * "debug exit, code 1" means all passed).  It is also a valid boot sector
 * (0xAA55 at offset 510) so GRUB's chainloader can run it on bare Bochs. */

#define UART     0x3f8
#define UART_LSR 0x3fd

        .code16
        .section .text
        .global _start
_start:
        /* Record the entry state before changing anything.  CS overrides:
         * DS is not known yet (the addresses assume CS = 0, checked below). */
        movw %cs, %cs:entry_cs
        movb %dl, %cs:entry_dl
        smsw %cs:entry_msw
        call 1f
entry_ret:
1:      popw %cs:entry_ip
        cli
        cld
        xorw %ax, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw $0x7c00, %sp
        /* LCR = 8N1 (needed on bare Bochs, harmless on any 16550). */
        movw $(UART + 3), %dx
        movb $3, %al
        outb %al, %dx

        movw $s_hello, %si
        call puts
        movw entry_ip, %ax
        call puthex
        movw $s_cs, %si
        call puts
        movw entry_cs, %ax
        call puthex
        movw $s_nl, %si
        call puts

        testw $1, entry_msw
        movw $s_pe, %si
        call report_zf

        cmpw $0, entry_cs
        movw $s_csz, %si
        call report_zf

        cmpw $entry_ret, entry_ip
        movw $s_ip, %si
        call report_zf

        cmpb $0x80, entry_dl
        movw $s_dl, %si
        call report_zf

        /* Low memory: 0x00500 and 0x90000 (through ES = 0x9000). */
        movl $0x5aa5c33c, %eax
        movl %eax, 0x500
        movw $0x9000, %bx
        movw %bx, %es
        movl %eax, %es:0
        xorw %bx, %bx
        movw %bx, %es
        cmpl 0x500, %eax
        jne 2f
        movw $0x9000, %bx
        movw %bx, %es
        cmpl %es:0, %eax
2:      movw $0, %bx
        movw %bx, %es
        movw $s_mem, %si
        call report_zf

        /* DONE: P passed, F failed */
        movw $s_done, %si
        call puts
        movb passes, %al
        call putdec
        movw $s_passed, %si
        call puts
        movb fails, %al
        call putdec
        movw $s_failed, %si
        call puts

        /* Exit: wait until the transmitter is empty, then port 0xF4. */
        movw $UART_LSR, %dx
        movw $0xffff, %cx
3:      inb %dx, %al
        testb $0x40, %al
        jnz 4f
        loop 3b
4:      movb fails, %al
        outb %al, $0xf4
        /* Bare Bochs: power off through port 0x8900. */
        movw $s_shutdown, %si
        movw $0x8900, %dx
5:      lodsb
        testb %al, %al
        jz 6f
        outb %al, %dx
        jmp 5b
6:      cli
        hlt
        jmp 6b

/* Prints "PASS: " or "FAIL: " (ZF set = pass), then the name at SI. */
report_zf:
        pushw %si
        jz 1f
        incb fails
        movw $s_fail, %si
        jmp 2f
1:      incb passes
        movw $s_pass, %si
2:      call puts
        popw %si
        call puts
        movw $s_nl, %si
        jmp puts

/* Prints the NUL-terminated string at SI. */
puts:
        lodsb
        testb %al, %al
        jz 1f
        call putc
        jmp puts
1:      ret

/* Writes AL to the UART once it can take a byte. */
putc:
        pushw %ax
        pushw %cx
        pushw %dx
        movb %al, %ah
        movw $UART_LSR, %dx
        movw $0xffff, %cx
1:      inb %dx, %al
        testb $0x20, %al
        jnz 2f
        loop 1b
2:      movb %ah, %al
        movw $UART, %dx
        outb %al, %dx
        popw %dx
        popw %cx
        popw %ax
        ret

/* Prints AX as 0x and four hex digits. */
puthex:
        pushw %ax
        movb $'0', %al
        call putc
        movb $'x', %al
        call putc
        popw %dx
        movw $4, %cx
1:      rolw $4, %dx
        movb %dl, %al
        andb $0x0f, %al
        addb $'0', %al
        cmpb $'9', %al
        jbe 2f
        addb $('a' - '9' - 1), %al
2:      call putc
        loop 1b
        ret

/* Prints AL (0-99) in decimal. */
putdec:
        xorb %ah, %ah
        movb $10, %bl
        divb %bl
        testb %al, %al
        jz 1f
        pushw %ax
        addb $'0', %al
        call putc
        popw %ax
1:      movb %ah, %al
        addb $'0', %al
        jmp putc

s_hello:    .asciz "realmode: hello, ip "
s_cs:       .asciz " cs "
s_nl:       .asciz "\n"
s_pass:     .asciz "PASS: "
s_fail:     .asciz "FAIL: "
s_pe:       .asciz "pe-clear"
s_csz:      .asciz "cs-zero"
s_ip:       .asciz "ip-at-0x7c00"
s_dl:       .asciz "dl-0x80"
s_mem:      .asciz "low-memory"
s_done:     .asciz "DONE: "
s_passed:   .asciz " passed, "
s_failed:   .asciz " failed\n"
s_shutdown: .asciz "Shutdown"

passes:     .byte 0
fails:      .byte 0
entry_dl:   .byte 0
            .align 2
entry_cs:   .word 0
entry_ip:   .word 0
entry_msw:  .word 0

        .org 510
        .word 0xaa55

        .section .note.GNU-stack, "", @progbits
