/* Tests for emulate/insn_decode.c.
 *
 * Every encoding is what GNU as emits for the quoted source in the given
 * mode (.code16/.code32/.code64), and every length was checked against
 * objdump -D -b binary.  Entries whose text is a sentence instead of an
 * instruction are hand-made prefix orders as will not emit; objdump decodes
 * them to the same instruction except where noted (an ignored REX it prints
 * as a separate "rex" byte).
 *
 * Inputs are copied to the very end of a heap block so that ASan reports
 * any read past `avail`. */
#include "tests/unit/check_compat.h"
#include <stdio.h>

#include "emulate/insn_decode.h"

/* ck_assert_* records a checkpoint through a pipe on every call, even on
 * success; the sweeps below make millions of checks, so they use this. */
#define REQUIRE(cond, ...)                                                                         \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        ck_abort_msg(__VA_ARGS__);                                                 \
        } while (0)

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

#define BYTES(...) .bytes = { __VA_ARGS__ }, .len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define NO_BYTES   .len = 0

#define ST(s, r) .want = { .kind = INSN_MOV_STORE, .size = (s), .reg = (r) }
#define STH(r)   .want = { .kind = INSN_MOV_STORE, .size = 1, .reg = (r), .high_byte = true }
#define LD(s, r) .want = { .kind = INSN_MOV_LOAD, .size = (s), .reg = (r), .dest_size = (s) }
#define LDH(r)                                                                                     \
        .want = { .kind = INSN_MOV_LOAD, .size = 1, .reg = (r), .high_byte = true, .dest_size = 1 }
#define IMM(s, v)   .want = { .kind = INSN_MOV_STORE_IMM, .size = (s), .imm = (v) }
#define ZX(s, d, r) .want = { .kind = INSN_MOVZX, .size = (s), .reg = (r), .dest_size = (d) }
#define SX(s, d, r) .want = { .kind = INSN_MOVSX, .size = (s), .reg = (r), .dest_size = (d) }

struct ok_case {
        enum insn_mode mode;
        const char *text;
        uint8_t bytes[16];
        size_t len;
        struct insn_mmio want; /* length comes from len */
};

static const struct ok_case ok_cases[] = {
        { M64, "mov %eax,0x300(%rbx)", BYTES(0x89, 0x83, 0x00, 0x03, 0x00, 0x00), ST(4, RAX) },
        { M64, "mov 0x300(%rbx),%eax", BYTES(0x8b, 0x83, 0x00, 0x03, 0x00, 0x00), LD(4, RAX) },
        { M64, "mov %rax,(%rdi)", BYTES(0x48, 0x89, 0x07), ST(8, RAX) },
        { M64, "mov (%rdi),%rax", BYTES(0x48, 0x8b, 0x07), LD(8, RAX) },
        { M64, "mov %ax,(%rdi)", BYTES(0x66, 0x89, 0x07), ST(2, RAX) },
        { M64, "mov (%rdi),%ax", BYTES(0x66, 0x8b, 0x07), LD(2, RAX) },
        { M64, "mov %al,(%rdi)", BYTES(0x88, 0x07), ST(1, RAX) },
        { M64, "mov (%rdi),%cl", BYTES(0x8a, 0x0f), LD(1, RCX) },
        { M64, "mov %ah,(%rdi)", BYTES(0x88, 0x27), STH(RAX) },
        { M64, "mov %bh,0x10(%rsi)", BYTES(0x88, 0x7e, 0x10), STH(RBX) },
        { M64, "mov (%rdi),%dh", BYTES(0x8a, 0x37), LDH(RDX) },
        { M64, "mov (%rdi),%ch", BYTES(0x8a, 0x2f), LDH(RCX) },
        { M64, "mov %spl,(%rdi)", BYTES(0x40, 0x88, 0x27), ST(1, RSP) },
        { M64, "mov %dil,(%rax)", BYTES(0x40, 0x88, 0x38), ST(1, RDI) },
        { M64, "mov (%rax),%sil", BYTES(0x40, 0x8a, 0x30), LD(1, RSI) },
        { M64, "mov (%rax),%bpl", BYTES(0x40, 0x8a, 0x28), LD(1, RBP) },
        { M64, "mov %r8d,(%rdi)", BYTES(0x44, 0x89, 0x07), ST(4, R8) },
        { M64, "mov %r15,(%r12)", BYTES(0x4d, 0x89, 0x3c, 0x24), ST(8, R15) },
        { M64, "mov (%r13),%r9", BYTES(0x4d, 0x8b, 0x4d, 0x00), LD(8, R9) },
        { M64, "mov %r10w,0x8(%r11)", BYTES(0x66, 0x45, 0x89, 0x53, 0x08), ST(2, R10) },
        { M64, "mov %r11b,(%rax)", BYTES(0x44, 0x88, 0x18), ST(1, R11) },
        { M64, "mov (%rcx),%r14b", BYTES(0x44, 0x8a, 0x31), LD(1, R14) },
        { M64, "mov 0x20(%rax,%rcx,4),%edx", BYTES(0x8b, 0x54, 0x88, 0x20), LD(4, RDX) },
        { M64, "mov %ecx,0x12345678(,%rdx,8)", BYTES(0x89, 0x0c, 0xd5, 0x78, 0x56, 0x34, 0x12),
          ST(4, RCX) },
        { M64, "mov %eax,0x1000(%rip)", BYTES(0x89, 0x05, 0x00, 0x10, 0x00, 0x00), ST(4, RAX) },
        { M64, "mov -0x10(%rip),%rsi", BYTES(0x48, 0x8b, 0x35, 0xf0, 0xff, 0xff, 0xff),
          LD(8, RSI) },
        { M64, "mov 0x7ee000f0,%eax", BYTES(0x8b, 0x04, 0x25, 0xf0, 0x00, 0xe0, 0x7e), LD(4, RAX) },
        { M64, "mov %eax,(%rsp)", BYTES(0x89, 0x04, 0x24), ST(4, RAX) },
        { M64, "mov %eax,-0x80(%rbp)", BYTES(0x89, 0x45, 0x80), ST(4, RAX) },
        { M64, "mov %eax,0x7fffffff(%r12,%r13,2)",
          BYTES(0x43, 0x89, 0x84, 0x6c, 0xff, 0xff, 0xff, 0x7f), ST(4, RAX) },
        { M64, "mov %edx,(%r8,%r9,1)", BYTES(0x43, 0x89, 0x14, 0x08), ST(4, RDX) },
        { M64, "mov %r12d,0x40(%r13,%r14,8)", BYTES(0x47, 0x89, 0x64, 0xf5, 0x40), ST(4, R12) },
        { M64, "mov %eax,(%eax)", BYTES(0x67, 0x89, 0x00), ST(4, RAX) },
        { M64, "mov %eax,0x300(%ebx)", BYTES(0x67, 0x89, 0x83, 0x00, 0x03, 0x00, 0x00),
          ST(4, RAX) },
        { M64, "mov %eax,0x10(%eip)", BYTES(0x67, 0x89, 0x05, 0x10, 0x00, 0x00, 0x00), ST(4, RAX) },
        { M64, "mov (%r8d,%r9d,4),%r10", BYTES(0x67, 0x4f, 0x8b, 0x14, 0x88), LD(8, R10) },
        { M64, "movl $0x12345678,0x300(%rbx)",
          BYTES(0xc7, 0x83, 0x00, 0x03, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12), IMM(4, 0x12345678) },
        { M64, "movq $-1,(%rax)", BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
          IMM(8, 0xffffffffffffffff) },
        { M64, "movq $0x7fffffff,(%rax)", BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f),
          IMM(8, 0x7fffffff) },
        { M64, "movq $-0x80000000,(%rax)", BYTES(0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80),
          IMM(8, 0xffffffff80000000) },
        { M64, "movl $-1,(%rax)", BYTES(0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), IMM(4, 0xffffffff) },
        { M64, "movw $0x8001,(%rax)", BYTES(0x66, 0xc7, 0x00, 0x01, 0x80), IMM(2, 0x8001) },
        { M64, "movb $0x80,(%rax)", BYTES(0xc6, 0x00, 0x80), IMM(1, 0x80) },
        { M64, "movb $0xff,0x1(%r8)", BYTES(0x41, 0xc6, 0x40, 0x01, 0xff), IMM(1, 0xff) },
        { M64, "movl $-1,0x8(%rip)",
          BYTES(0xc7, 0x05, 0x08, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff), IMM(4, 0xffffffff) },
        { M64, "movq $-2,0x12345678(%r15,%r15,8)",
          BYTES(0x4b, 0xc7, 0x84, 0xff, 0x78, 0x56, 0x34, 0x12, 0xfe, 0xff, 0xff, 0xff),
          IMM(8, 0xfffffffffffffffe) },
        { M64, "movl $0x1,%fs:0x10",
          BYTES(0x64, 0xc7, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00),
          IMM(4, 1) },
        { M64, "movabs 0xfee00020,%eax",
          BYTES(0xa1, 0x20, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00), LD(4, RAX) },
        { M64, "movabs %al,0x1122334455667788",
          BYTES(0xa2, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), ST(1, RAX) },
        { M64, "movabs %rax,0x1122334455667788",
          BYTES(0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), ST(8, RAX) },
        { M64, "movabs 0x1122334455667788,%ax",
          BYTES(0x66, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), LD(2, RAX) },
        { M64, "movabs 0x1122334455667788,%al",
          BYTES(0xa0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), LD(1, RAX) },
        { M64, "addr32 mov 0xfee00020,%eax", BYTES(0x67, 0xa1, 0x20, 0x00, 0xe0, 0xfe),
          LD(4, RAX) },
        { M64, "addr32 mov %rax,0xfee00020", BYTES(0x67, 0x48, 0xa3, 0x20, 0x00, 0xe0, 0xfe),
          ST(8, RAX) },
        { M64, "movzbl (%rdi),%eax", BYTES(0x0f, 0xb6, 0x07), ZX(1, 4, RAX) },
        { M64, "movzwl 0x10(%rdi),%r9d", BYTES(0x44, 0x0f, 0xb7, 0x4f, 0x10), ZX(2, 4, R9) },
        { M64, "movzbq (%rdi),%rax", BYTES(0x48, 0x0f, 0xb6, 0x07), ZX(1, 8, RAX) },
        { M64, "movzwq (%r8),%r15", BYTES(0x4d, 0x0f, 0xb7, 0x38), ZX(2, 8, R15) },
        { M64, "movzbw (%rdi),%ax", BYTES(0x66, 0x0f, 0xb6, 0x07), ZX(1, 2, RAX) },
        { M64, "movsbl (%rdi),%eax", BYTES(0x0f, 0xbe, 0x07), SX(1, 4, RAX) },
        { M64, "movswq (%rsi),%r15", BYTES(0x4c, 0x0f, 0xbf, 0x3e), SX(2, 8, R15) },
        { M64, "movsbw (%rdi),%ax", BYTES(0x66, 0x0f, 0xbe, 0x07), SX(1, 2, RAX) },
        { M64, "movswl 0x1000(%rip),%ecx", BYTES(0x0f, 0xbf, 0x0d, 0x00, 0x10, 0x00, 0x00),
          SX(2, 4, RCX) },
        { M64, "movsbq 0x1(%rax,%rbx,2),%rsp", BYTES(0x48, 0x0f, 0xbe, 0x64, 0x58, 0x01),
          SX(1, 8, RSP) },
        { M64, "mov %gs:0x28,%rax", BYTES(0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00),
          LD(8, RAX) },
        { M64, "mov %es:(%rdi),%eax", BYTES(0x26, 0x8b, 0x07), LD(4, RAX) },
        { M64, "mov %eax,%fs:(%rdx)", BYTES(0x64, 0x89, 0x02), ST(4, RAX) },
        { M64, "data16 mov %rax,(%rdi)", BYTES(0x66, 0x48, 0x89, 0x07), ST(8, RAX) },
        { M32, "mov %eax,0x300(%ebx)", BYTES(0x89, 0x83, 0x00, 0x03, 0x00, 0x00), ST(4, RAX) },
        { M32, "mov 0x300(%ebx),%eax", BYTES(0x8b, 0x83, 0x00, 0x03, 0x00, 0x00), LD(4, RAX) },
        { M32, "mov 0xfee00020,%eax", BYTES(0xa1, 0x20, 0x00, 0xe0, 0xfe), LD(4, RAX) },
        { M32, "mov %al,0xfec00000", BYTES(0xa2, 0x00, 0x00, 0xc0, 0xfe), ST(1, RAX) },
        { M32, "mov %ax,0xfee00020", BYTES(0x66, 0xa3, 0x20, 0x00, 0xe0, 0xfe), ST(2, RAX) },
        { M32, "mov 0xfee000f0,%ecx", BYTES(0x8b, 0x0d, 0xf0, 0x00, 0xe0, 0xfe), LD(4, RCX) },
        { M32, "mov %edi,0x10(%esp)", BYTES(0x89, 0x7c, 0x24, 0x10), ST(4, RDI) },
        { M32, "mov 0x8(%ebp,%esi,2),%dx", BYTES(0x66, 0x8b, 0x54, 0x75, 0x08), LD(2, RDX) },
        { M32, "mov %ch,(%edx)", BYTES(0x88, 0x2a), STH(RCX) },
        { M32, "mov (%eax),%bh", BYTES(0x8a, 0x38), LDH(RBX) },
        { M32, "mov %bl,(%eax)", BYTES(0x88, 0x18), ST(1, RBX) },
        { M32, "movl $0x1,0xfee000b0",
          BYTES(0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00), IMM(4, 1) },
        { M32, "movw $0xffff,(%eax)", BYTES(0x66, 0xc7, 0x00, 0xff, 0xff), IMM(2, 0xffff) },
        { M32, "movb $0x7f,0x4(%ecx,%edx,8)", BYTES(0xc6, 0x44, 0xd1, 0x04, 0x7f), IMM(1, 0x7f) },
        { M32, "movl $0x80000000,(%ebp)", BYTES(0xc7, 0x45, 0x00, 0x00, 0x00, 0x00, 0x80),
          IMM(4, 0x80000000) },
        { M32, "movzbl 0x3(%esi),%eax", BYTES(0x0f, 0xb6, 0x46, 0x03), ZX(1, 4, RAX) },
        { M32, "movzwl (%ebx),%ecx", BYTES(0x0f, 0xb7, 0x0b), ZX(2, 4, RCX) },
        { M32, "movswl (%edi),%edx", BYTES(0x0f, 0xbf, 0x17), SX(2, 4, RDX) },
        { M32, "movsbw (%edi),%si", BYTES(0x66, 0x0f, 0xbe, 0x37), SX(1, 2, RSI) },
        { M32, "mov %eax,(%bx,%si)", BYTES(0x67, 0x89, 0x00), ST(4, RAX) },
        { M32, "mov %eax,0x1234(%bp)", BYTES(0x67, 0x89, 0x86, 0x34, 0x12), ST(4, RAX) },
        { M32, "addr16 mov %eax,0x1234", BYTES(0x67, 0xa3, 0x34, 0x12), ST(4, RAX) },
        { M32, "addr16 mov 0x1234,%ebx", BYTES(0x67, 0x8b, 0x1e, 0x34, 0x12), LD(4, RBX) },
        { M32, "mov %fs:0x0,%eax", BYTES(0x64, 0xa1, 0x00, 0x00, 0x00, 0x00), LD(4, RAX) },
        { M32, "mov %ds:(%ebp),%eax", BYTES(0x3e, 0x8b, 0x45, 0x00), LD(4, RAX) },
        { M16, "mov %ax,(%bx)", BYTES(0x89, 0x07), ST(2, RAX) },
        { M16, "mov %eax,(%bx)", BYTES(0x66, 0x89, 0x07), ST(4, RAX) },
        { M16, "mov (%bp),%ax", BYTES(0x8b, 0x46, 0x00), LD(2, RAX) },
        { M16, "mov 0x1234,%ax", BYTES(0xa1, 0x34, 0x12), LD(2, RAX) },
        { M16, "mov 0x1234,%cx", BYTES(0x8b, 0x0e, 0x34, 0x12), LD(2, RCX) },
        { M16, "mov %al,0x10(%bx,%si)", BYTES(0x88, 0x40, 0x10), ST(1, RAX) },
        { M16, "mov %dl,0x1234(%bx,%di)", BYTES(0x88, 0x91, 0x34, 0x12), ST(1, RDX) },
        { M16, "mov %dh,-0x2(%bp,%si)", BYTES(0x88, 0x72, 0xfe), STH(RDX) },
        { M16, "mov (%si),%ah", BYTES(0x8a, 0x24), LDH(RAX) },
        { M16, "mov %sp,0x7fff(%bp,%di)", BYTES(0x89, 0xa3, 0xff, 0x7f), ST(2, RSP) },
        { M16, "movw $0x1234,(%di)", BYTES(0xc7, 0x05, 0x34, 0x12), IMM(2, 0x1234) },
        { M16, "movl $0x12345678,(%di)", BYTES(0x66, 0xc7, 0x05, 0x78, 0x56, 0x34, 0x12),
          IMM(4, 0x12345678) },
        { M16, "movb $0x5,-1(%bp)", BYTES(0xc6, 0x46, 0xff, 0x05), IMM(1, 5) },
        { M16, "movw $0xbeef,0x1234", BYTES(0xc7, 0x06, 0x34, 0x12, 0xef, 0xbe), IMM(2, 0xbeef) },
        { M16, "mov %eax,(%eax)", BYTES(0x67, 0x66, 0x89, 0x00), ST(4, RAX) },
        { M16, "mov %eax,0x10(%eax,%ebx,4)", BYTES(0x67, 0x66, 0x89, 0x44, 0x98, 0x10),
          ST(4, RAX) },
        { M16, "mov %cx,0x12345678(,%esi,2)", BYTES(0x67, 0x89, 0x0c, 0x75, 0x78, 0x56, 0x34, 0x12),
          ST(2, RCX) },
        { M16, "addr32 mov 0xfee00020,%eax", BYTES(0x67, 0x66, 0xa1, 0x20, 0x00, 0xe0, 0xfe),
          LD(4, RAX) },
        { M16, "mov %al,0xb800", BYTES(0xa2, 0x00, 0xb8), ST(1, RAX) },
        { M16, "movzbw (%si),%ax", BYTES(0x0f, 0xb6, 0x04), ZX(1, 2, RAX) },
        { M16, "movsbl (%bx),%eax", BYTES(0x66, 0x0f, 0xbe, 0x07), SX(1, 4, RAX) },
        { M16, "movzwl 0x2(%bx),%edx", BYTES(0x66, 0x0f, 0xb7, 0x57, 0x02), ZX(2, 4, RDX) },
        { M16, "mov %es:(%di),%ax", BYTES(0x26, 0x8b, 0x05), LD(2, RAX) },
        { M16, "mov %ax,%gs:0x20(%bx)", BYTES(0x65, 0x89, 0x47, 0x20), ST(2, RAX) },
        { M64, "data16 movq $-1,(%rax)", BYTES(0x66, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
          IMM(8, 0xffffffffffffffff) },
        { M16, "movl $-1,(%bx)", BYTES(0x66, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff),
          IMM(4, 0xffffffff) },
        { M64, "REX before 66 is ignored: mov %ax,(%rdi)", BYTES(0x48, 0x66, 0x89, 0x07),
          ST(2, RAX) },
        { M64, "ignored REX leaves AH: mov %ah,(%rax)", BYTES(0x44, 0x66, 0x88, 0x20), STH(RAX) },
        { M64, "only the last REX counts: mov %spl,(%rax)", BYTES(0x44, 0x40, 0x88, 0x20),
          ST(1, RSP) },
        { M64, "only the last REX counts: mov %r8d,(%rdi)", BYTES(0x40, 0x44, 0x89, 0x07),
          ST(4, R8) },
        { M64, "REX.W ignored for byte ops: mov (%rdi),%r12b", BYTES(0x4c, 0x8a, 0x27),
          LD(1, R12) },
        { M64, "REX.W beats 66: movzwq (%rdi),%rax", BYTES(0x66, 0x48, 0x0f, 0xb7, 0x07),
          ZX(2, 8, RAX) },
        { M64, "movzww (%rdi),%ax", BYTES(0x66, 0x0f, 0xb7, 0x07), ZX(2, 2, RAX) },
        { M64, "movsww (%rdi),%ax", BYTES(0x66, 0x0f, 0xbf, 0x07), SX(2, 2, RAX) },
        { M64, "REX.B ignored for moffs: mov 0xfee00020,%eax",
          BYTES(0x41, 0xa1, 0x20, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00), LD(4, RAX) },
        { M64, "ES/CS/SS/DS overrides ignored: mov (%rdi),%eax",
          BYTES(0x2e, 0x3e, 0x26, 0x36, 0x8b, 0x07), LD(4, RAX) },
        { M32, "repeated DS: mov (%edi),%eax", BYTES(0x3e, 0x3e, 0x3e, 0x8b, 0x07), LD(4, RAX) },
        { M64, "repeated 66: mov %ax,(%rdi)", BYTES(0x66, 0x66, 0x66, 0x89, 0x07), ST(2, RAX) },
        { M64, "13 x 66, 15 bytes: mov %ax,(%rdi)",
          BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89,
                0x07),
          ST(2, RAX) },
        { M64, "11 x 66, 15 bytes: movw $0x1234,(%rax)",
          BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xc7, 0x00, 0x34,
                0x12),
          IMM(2, 0x1234) },
        { M64, "15 bytes: movq $-1,%gs:0x12345678(%eax,%ecx,4)",
          BYTES(0x65, 0x67, 0x2e, 0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff,
                0xff),
          IMM(8, 0xffffffffffffffff) },
        { M16, "movl $-1,0x12345678(%eax,%ecx,4)",
          BYTES(0x67, 0x66, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff),
          IMM(4, 0xffffffff) },
        { M32, "movw $-1,0x1234 with 16-bit addressing",
          BYTES(0x67, 0x66, 0xc7, 0x06, 0x34, 0x12, 0xff, 0xff), IMM(2, 0xffff) },
};

struct err_case {
        enum insn_mode mode;
        const char *text;
        uint8_t bytes[16];
        size_t len;
        int err;
};

static const struct err_case err_cases[] = {
        { M64, "mov %ebx,%eax", BYTES(0x89, 0xd8), INSN_ERR_NOT_MEMORY },
        { M64, "mov %eax,%eax", BYTES(0x8b, 0xc0), INSN_ERR_NOT_MEMORY },
        { M64, "mov %ah,%al", BYTES(0x88, 0xe0), INSN_ERR_NOT_MEMORY },
        { M64, "mov %r8,%r15", BYTES(0x4d, 0x89, 0xc7), INSN_ERR_NOT_MEMORY },
        { M64, "mov $1,%eax (C7 form)", BYTES(0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00),
          INSN_ERR_NOT_MEMORY },
        { M64, "mov $1,%al (C6 form)", BYTES(0xc6, 0xc0, 0x01), INSN_ERR_NOT_MEMORY },
        { M64, "movzbl %al,%eax", BYTES(0x0f, 0xb6, 0xc0), INSN_ERR_NOT_MEMORY },
        { M64, "movswl %cx,%eax", BYTES(0x0f, 0xbf, 0xc1), INSN_ERR_NOT_MEMORY },
        { M32, "mov %eax,%eax", BYTES(0x89, 0xc0), INSN_ERR_NOT_MEMORY },
        { M16, "mov %bx,%ax", BYTES(0x8b, 0xc3), INSN_ERR_NOT_MEMORY },
        { M64, "lock mov %eax,(%rdi)", BYTES(0xf0, 0x89, 0x07), INSN_ERR_INVALID },
        { M64, "lock mov (%rdi),%al", BYTES(0xf0, 0x8a, 0x07), INSN_ERR_INVALID },
        { M64, "lock movl $1,(%rax)", BYTES(0xf0, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00),
          INSN_ERR_INVALID },
        { M64, "lock movzbl (%rdi),%eax", BYTES(0xf0, 0x0f, 0xb6, 0x07), INSN_ERR_INVALID },
        { M64, "lock movabs 0x0,%eax",
          BYTES(0xf0, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), INSN_ERR_INVALID },
        { M32, "lock mov %eax,(%edi)", BYTES(0xf0, 0x89, 0x07), INSN_ERR_INVALID },
        { M64, "C7 /1 is undefined", BYTES(0xc7, 0x08, 0x00, 0x00, 0x00, 0x00), INSN_ERR_INVALID },
        { M64, "C6 /7 with memory is undefined", BYTES(0xc6, 0x38, 0x00), INSN_ERR_INVALID },
        { M64, "C6 /2 is undefined", BYTES(0xc6, 0x50, 0x10, 0x00), INSN_ERR_INVALID },
        { M64, "xabort $1", BYTES(0xc6, 0xf8, 0x01), INSN_ERR_UNSUPPORTED },
        { M64, "xbegin", BYTES(0xc7, 0xf8, 0x00, 0x00, 0x00, 0x00), INSN_ERR_UNSUPPORTED },
        { M64, "xrelease mov %eax,(%rdi)", BYTES(0xf3, 0x89, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "repnz mov (%rdi),%eax", BYTES(0xf2, 0x8b, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "xrelease movb $1,(%rax)", BYTES(0xf3, 0xc6, 0x00, 0x01), INSN_ERR_UNSUPPORTED },
        { M64, "rep movzbl (%rdi),%eax", BYTES(0xf3, 0x0f, 0xb6, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "rep stos %al,(%rdi)", BYTES(0xf3, 0xaa), INSN_ERR_STRING },
        { M64, "rep stos %rax,(%rdi)", BYTES(0xf3, 0x48, 0xab), INSN_ERR_STRING },
        { M64, "movsb", BYTES(0xa4), INSN_ERR_STRING },
        { M64, "movsl", BYTES(0xa5), INSN_ERR_STRING },
        { M64, "rep movsq", BYTES(0xf3, 0x48, 0xa5), INSN_ERR_STRING },
        { M64, "movsw", BYTES(0x66, 0xa5), INSN_ERR_STRING },
        { M64, "stosl", BYTES(0xab), INSN_ERR_STRING },
        { M64, "lodsb", BYTES(0xac), INSN_ERR_STRING },
        { M64, "lodsl", BYTES(0xad), INSN_ERR_STRING },
        { M64, "cmpsb", BYTES(0xa6), INSN_ERR_STRING },
        { M64, "cmpsl", BYTES(0xa7), INSN_ERR_STRING },
        { M64, "scasb", BYTES(0xae), INSN_ERR_STRING },
        { M64, "scasl", BYTES(0xaf), INSN_ERR_STRING },
        { M64, "insb", BYTES(0x6c), INSN_ERR_STRING },
        { M64, "insl", BYTES(0x6d), INSN_ERR_STRING },
        { M64, "outsb", BYTES(0x6e), INSN_ERR_STRING },
        { M64, "outsw", BYTES(0x66, 0x6f), INSN_ERR_STRING },
        { M64, "lock movsb", BYTES(0xf0, 0xa4), INSN_ERR_STRING },
        { M32, "rep movsl", BYTES(0xf3, 0xa5), INSN_ERR_STRING },
        { M16, "rep movsb", BYTES(0xf3, 0xa4), INSN_ERR_STRING },
        { M64, "xchg %eax,(%rdi)", BYTES(0x87, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "add %eax,(%rdi)", BYTES(0x01, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "test %eax,(%rdi)", BYTES(0x85, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "andl $0,(%rdi)", BYTES(0x83, 0x27, 0x00), INSN_ERR_UNSUPPORTED },
        { M64, "mov %ds,(%rdi)", BYTES(0x8c, 0x1f), INSN_ERR_UNSUPPORTED },
        { M64, "mov (%rdi),%ds", BYTES(0x8e, 0x1f), INSN_ERR_UNSUPPORTED },
        { M64, "incl (%rdi)", BYTES(0xff, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "movslq (%rdi),%rax", BYTES(0x48, 0x63, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "lea (%rdi),%eax", BYTES(0x8d, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "mov $1,%eax", BYTES(0xb8, 0x01, 0x00, 0x00, 0x00), INSN_ERR_UNSUPPORTED },
        { M64, "nop", BYTES(0x90), INSN_ERR_UNSUPPORTED },
        { M64, "ud2", BYTES(0x0f, 0x0b), INSN_ERR_UNSUPPORTED },
        { M64, "imul (%rdi),%eax", BYTES(0x0f, 0xaf, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "movnti %eax,(%rdi)", BYTES(0x0f, 0xc3, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "movbe %eax,(%rdi)", BYTES(0x0f, 0x38, 0xf1, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "prefetchnta (%rdi)", BYTES(0x0f, 0x18, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "cmpxchg %cl,(%rdi)", BYTES(0x0f, 0xb0, 0x0f), INSN_ERR_UNSUPPORTED },
        { M64, "vmovd %xmm0,(%rdi)", BYTES(0xc5, 0xf9, 0x7e, 0x07), INSN_ERR_UNSUPPORTED },
        { M64, "undefined one-byte opcode", BYTES(0xd6), INSN_ERR_UNSUPPORTED },
        { M32, "inc %eax", BYTES(0x40), INSN_ERR_UNSUPPORTED },
        { M32, "dec %eax, not REX.W, in 32-bit code", BYTES(0x48, 0x89, 0x07),
          INSN_ERR_UNSUPPORTED },
        { M16, "inc %sp", BYTES(0x44), INSN_ERR_UNSUPPORTED },
        { M64, "14 x 66: the ModRM would be byte 16",
          BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                0x89, 0x07),
          INSN_ERR_TOO_LONG },
        { M64, "15 prefixes and no opcode",
          BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                0x66),
          INSN_ERR_TOO_LONG },
        { M64, "12 x 66 then movw $0x1234,(%rax): 16 bytes",
          BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xc7, 0x00,
                0x34, 0x12),
          INSN_ERR_TOO_LONG },
        { M64, "16 bytes: imm32 crosses the limit",
          BYTES(0x2e, 0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff,
                0xff, 0xff),
          INSN_ERR_TOO_LONG },
        { M64, "16 REX bytes",
          BYTES(0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
                0x40, 0x40),
          INSN_ERR_TOO_LONG },
        { M64, "empty input", NO_BYTES, INSN_ERR_TRUNCATED },
        { M64, "a lone prefix", BYTES(0x66), INSN_ERR_TRUNCATED },
        { M64, "a lone escape", BYTES(0x0f), INSN_ERR_TRUNCATED },
};

/* The memory operand of each addressing form, and its effective address
 * with the registers of ea_regs (below) changed as .set says, at RIP .rip
 * (EA_RIP when 0). */
#define NONE INSN_REG_NONE
#define EA(b, i, sc, sg, as, rr, d)                                                                \
        .want = { .base = (b),                                                                     \
                  .index = (i),                                                                    \
                  .scale = (sc),                                                                   \
                  .seg = (sg),                                                                     \
                  .addr_size = (as),                                                               \
                  .rip_relative = (rr),                                                            \
                  .disp = (d) }
#define EA_RIP 0x401000ULL

struct ea_case {
        enum insn_mode mode;
        const char *text;
        uint8_t bytes[16];
        size_t len;
        struct insn_mmio want; /* only the address fields */
        uint64_t ea;
        struct {
                uint8_t reg;
                uint64_t value;
        } set[2]; /* {0, 0}: unused */
        uint64_t rip;
};

static const struct ea_case ea_cases[] = {
        { M16, "mov (%bx,%si),%ax", BYTES(0x8b, 0x00),
          EA(RBX, RSI, 1, INSN_SEG_DS, 2, false, 0x0ULL), .ea = 0xb00ULL },
        { M16, "mov 0x10(%bx,%di),%ax", BYTES(0x8b, 0x41, 0x10),
          EA(RBX, RDI, 1, INSN_SEG_DS, 2, false, 0x10ULL), .ea = 0xc10ULL },
        { M16, "mov -0x2(%bp,%si),%ax", BYTES(0x8b, 0x42, 0xfe),
          EA(RBP, RSI, 1, INSN_SEG_SS, 2, false, 0xfffffffffffffffeULL), .ea = 0xcfeULL },
        { M16, "mov 0x1234(%bp,%di),%ax", BYTES(0x8b, 0x83, 0x34, 0x12),
          EA(RBP, RDI, 1, INSN_SEG_SS, 2, false, 0x1234ULL), .ea = 0x2034ULL },
        { M16, "mov (%si),%al", BYTES(0x8a, 0x04), EA(RSI, NONE, 1, INSN_SEG_DS, 2, false, 0x0ULL),
          .ea = 0x700ULL },
        { M16, "mov 0x7f(%di),%al", BYTES(0x8a, 0x45, 0x7f),
          EA(RDI, NONE, 1, INSN_SEG_DS, 2, false, 0x7fULL), .ea = 0x87fULL },
        { M16, "mov 0x4(%bp),%ax", BYTES(0x8b, 0x46, 0x04),
          EA(RBP, NONE, 1, INSN_SEG_SS, 2, false, 0x4ULL), .ea = 0x604ULL },
        { M16, "mov (%bx),%ax", BYTES(0x8b, 0x07), EA(RBX, NONE, 1, INSN_SEG_DS, 2, false, 0x0ULL),
          .ea = 0x400ULL },
        { M16, "mov 0x1234,%cx", BYTES(0x8b, 0x0e, 0x34, 0x12),
          EA(NONE, NONE, 1, INSN_SEG_DS, 2, false, 0x1234ULL), .ea = 0x1234ULL },
        { M16, "mov 0x8765,%cx", BYTES(0x8b, 0x0e, 0x65, 0x87),
          EA(NONE, NONE, 1, INSN_SEG_DS, 2, false, 0xffffffffffff8765ULL), .ea = 0x8765ULL },
        { M16, "movw $0x5,%es:(%bx,%si)", BYTES(0x26, 0xc7, 0x00, 0x05, 0x00),
          EA(RBX, RSI, 1, INSN_SEG_ES, 2, false, 0x0ULL), .ea = 0xb00ULL },
        { M16, "mov %ax,%ss:(%bx)", BYTES(0x36, 0x89, 0x07),
          EA(RBX, NONE, 1, INSN_SEG_SS, 2, false, 0x0ULL), .ea = 0x400ULL },
        { M16, "mov %ds:(%bp),%ax", BYTES(0x3e, 0x8b, 0x46, 0x00),
          EA(RBP, NONE, 1, INSN_SEG_DS, 2, false, 0x0ULL), .ea = 0x600ULL },
        { M16, "mov 0x10(%bx,%si),%ax", BYTES(0x8b, 0x40, 0x10),
          EA(RBX, RSI, 1, INSN_SEG_DS, 2, false, 0x10ULL), .ea = 0x10ULL,
          .set = { { RBX, 0xfff0 }, { RSI, 0x10 } } },
        { M16, "mov -0x2(%bx),%ax", BYTES(0x8b, 0x47, 0xfe),
          EA(RBX, NONE, 1, INSN_SEG_DS, 2, false, 0xfffffffffffffffeULL), .ea = 0xfffeULL,
          .set = { { RBX, 0x12340000 } } },
        { M16, "mov 0x1234,%al", BYTES(0xa0, 0x34, 0x12),
          EA(NONE, NONE, 1, INSN_SEG_DS, 2, false, 0x1234ULL), .ea = 0x1234ULL },
        { M16, "mov %ax,0xfffe", BYTES(0xa3, 0xfe, 0xff),
          EA(NONE, NONE, 1, INSN_SEG_DS, 2, false, 0xfffeULL), .ea = 0xfffeULL },
        { M16, "mov (%eax,%ecx,2),%dx", BYTES(0x67, 0x8b, 0x14, 0x48),
          EA(RAX, RCX, 2, INSN_SEG_DS, 4, false, 0x0ULL), .ea = 0x500ULL },
        { M16, "mov (%esp),%ax", BYTES(0x67, 0x8b, 0x04, 0x24),
          EA(RSP, NONE, 1, INSN_SEG_SS, 4, false, 0x0ULL), .ea = 0x500ULL },
        { M16, "movzbw (%bp,%si),%ax", BYTES(0x0f, 0xb6, 0x02),
          EA(RBP, RSI, 1, INSN_SEG_SS, 2, false, 0x0ULL), .ea = 0xd00ULL },
        { M16, "mov %fs:0x10,%ax", BYTES(0x64, 0xa1, 0x10, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_FS, 2, false, 0x10ULL), .ea = 0x10ULL },
        { M32, "mov (%eax),%ecx", BYTES(0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_DS, 4, false, 0x0ULL), .ea = 0x100ULL },
        { M32, "mov 0x10(%ebx),%eax", BYTES(0x8b, 0x43, 0x10),
          EA(RBX, NONE, 1, INSN_SEG_DS, 4, false, 0x10ULL), .ea = 0x410ULL },
        { M32, "mov (%esp),%eax", BYTES(0x8b, 0x04, 0x24),
          EA(RSP, NONE, 1, INSN_SEG_SS, 4, false, 0x0ULL), .ea = 0x500ULL },
        { M32, "mov 0x8(%ebp),%eax", BYTES(0x8b, 0x45, 0x08),
          EA(RBP, NONE, 1, INSN_SEG_SS, 4, false, 0x8ULL), .ea = 0x608ULL },
        { M32, "mov (%ebp),%eax", BYTES(0x8b, 0x45, 0x00),
          EA(RBP, NONE, 1, INSN_SEG_SS, 4, false, 0x0ULL), .ea = 0x600ULL },
        { M32, "mov 0x12345678,%ecx", BYTES(0x8b, 0x0d, 0x78, 0x56, 0x34, 0x12),
          EA(NONE, NONE, 1, INSN_SEG_DS, 4, false, 0x12345678ULL), .ea = 0x12345678ULL },
        { M32, "mov 0x12345678,%eax", BYTES(0xa1, 0x78, 0x56, 0x34, 0x12),
          EA(NONE, NONE, 1, INSN_SEG_DS, 4, false, 0x12345678ULL), .ea = 0x12345678ULL },
        { M32, "mov 0x10(,%ecx,4),%eax", BYTES(0x8b, 0x04, 0x8d, 0x10, 0x00, 0x00, 0x00),
          EA(NONE, RCX, 4, INSN_SEG_DS, 4, false, 0x10ULL), .ea = 0x810ULL },
        { M32, "mov -0x4(%eax,%edx,8),%ecx", BYTES(0x8b, 0x4c, 0xd0, 0xfc),
          EA(RAX, RDX, 8, INSN_SEG_DS, 4, false, 0xfffffffffffffffcULL), .ea = 0x18fcULL },
        { M32, "mov (%esp,%ebp,2),%eax", BYTES(0x8b, 0x04, 0x6c),
          EA(RSP, RBP, 2, INSN_SEG_SS, 4, false, 0x0ULL), .ea = 0x1100ULL },
        { M32, "mov %eax,%fs:(%ebx)", BYTES(0x64, 0x89, 0x03),
          EA(RBX, NONE, 1, INSN_SEG_FS, 4, false, 0x0ULL), .ea = 0x400ULL },
        { M32, "mov %gs:0x10,%eax", BYTES(0x65, 0xa1, 0x10, 0x00, 0x00, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_GS, 4, false, 0x10ULL), .ea = 0x10ULL },
        { M32, "mov %cs:(%ebp),%eax", BYTES(0x2e, 0x8b, 0x45, 0x00),
          EA(RBP, NONE, 1, INSN_SEG_CS, 4, false, 0x0ULL), .ea = 0x600ULL },
        { M32, "mov 0x10(%eax),%ecx", BYTES(0x8b, 0x48, 0x10),
          EA(RAX, NONE, 1, INSN_SEG_DS, 4, false, 0x10ULL), .ea = 0x8ULL,
          .set = { { RAX, 0xfffffff8 } } },
        { M32, "mov -0x10(%eax,%ecx,8),%ecx", BYTES(0x8b, 0x4c, 0xc8, 0xf0),
          EA(RAX, RCX, 8, INSN_SEG_DS, 4, false, 0xfffffffffffffff0ULL), .ea = 0xfffffff4ULL,
          .set = { { RAX, 0x4 }, { RCX, 0x20000000 } } },
        { M32, "mov (%bx,%di),%ax", BYTES(0x67, 0x66, 0x8b, 0x01),
          EA(RBX, RDI, 1, INSN_SEG_DS, 2, false, 0x0ULL), .ea = 0xc00ULL },
        { M32, "es fs: mov (%ebx),%eax", BYTES(0x26, 0x64, 0x8b, 0x03),
          EA(RBX, NONE, 1, INSN_SEG_FS, 4, false, 0x0ULL), .ea = 0x400ULL },
        { M32, "fs es: mov (%ebx),%eax", BYTES(0x64, 0x26, 0x8b, 0x03),
          EA(RBX, NONE, 1, INSN_SEG_ES, 4, false, 0x0ULL), .ea = 0x400ULL },
        { M32, "mov %al,0xfec00000", BYTES(0xa2, 0x00, 0x00, 0xc0, 0xfe),
          EA(NONE, NONE, 1, INSN_SEG_DS, 4, false, 0xfec00000ULL), .ea = 0xfec00000ULL },
        { M32, "movzwl 0x2(%esi),%eax", BYTES(0x0f, 0xb7, 0x46, 0x02),
          EA(RSI, NONE, 1, INSN_SEG_DS, 4, false, 0x2ULL), .ea = 0x702ULL },
        { M32, "movl $0x1,(%esp,%eax,4)", BYTES(0xc7, 0x04, 0x84, 0x01, 0x00, 0x00, 0x00),
          EA(RSP, RAX, 4, INSN_SEG_SS, 4, false, 0x0ULL), .ea = 0x900ULL },
        { M64, "mov (%rax),%ecx", BYTES(0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0x100ULL },
        { M64, "mov 0x10(%r8),%eax", BYTES(0x41, 0x8b, 0x40, 0x10),
          EA(R8, NONE, 1, INSN_SEG_DS, 8, false, 0x10ULL), .ea = 0x910ULL },
        { M64, "mov (%r12),%eax", BYTES(0x41, 0x8b, 0x04, 0x24),
          EA(R12, NONE, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0xd00ULL },
        { M64, "mov (%r13),%eax", BYTES(0x41, 0x8b, 0x45, 0x00),
          EA(R13, NONE, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0xe00ULL },
        { M64, "mov (%rsp),%eax", BYTES(0x8b, 0x04, 0x24),
          EA(RSP, NONE, 1, INSN_SEG_SS, 8, false, 0x0ULL), .ea = 0x500ULL },
        { M64, "mov 0x8(%rbp),%eax", BYTES(0x8b, 0x45, 0x08),
          EA(RBP, NONE, 1, INSN_SEG_SS, 8, false, 0x8ULL), .ea = 0x608ULL },
        { M64, "mov (%rax,%r12,1),%eax", BYTES(0x42, 0x8b, 0x04, 0x20),
          EA(RAX, R12, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0xe00ULL },
        { M64, "mov (%rax,%r9,8),%eax", BYTES(0x42, 0x8b, 0x04, 0xc8),
          EA(RAX, R9, 8, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0x5100ULL },
        { M64, "mov 0x10(,%r15,2),%eax", BYTES(0x42, 0x8b, 0x04, 0x7d, 0x10, 0x00, 0x00, 0x00),
          EA(NONE, R15, 2, INSN_SEG_DS, 8, false, 0x10ULL), .ea = 0x2010ULL },
        { M64, "mov 0x1000(%rip),%eax", BYTES(0x8b, 0x05, 0x00, 0x10, 0x00, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_DS, 8, true, 0x1000ULL), .ea = 0x402006ULL },
        { M64, "mov -0x10(%rip),%rsi", BYTES(0x48, 0x8b, 0x35, 0xf0, 0xff, 0xff, 0xff),
          EA(NONE, NONE, 1, INSN_SEG_DS, 8, true, 0xfffffffffffffff0ULL), .ea = 0x400ff7ULL },
        { M64, "mov 0xfffffffffee00020,%eax", BYTES(0x8b, 0x04, 0x25, 0x20, 0x00, 0xe0, 0xfe),
          EA(NONE, NONE, 1, INSN_SEG_DS, 8, false, 0xfffffffffee00020ULL),
          .ea = 0xfffffffffee00020ULL },
        { M64, "movabs 0xfee00020,%eax",
          BYTES(0xa1, 0x20, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_DS, 8, false, 0xfee00020ULL), .ea = 0xfee00020ULL },
        { M64, "movabs %rax,0x8000000000000000",
          BYTES(0x48, 0xa3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80),
          EA(NONE, NONE, 1, INSN_SEG_DS, 8, false, 0x8000000000000000ULL),
          .ea = 0x8000000000000000ULL },
        { M64, "mov (%eax),%ecx", BYTES(0x67, 0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_DS, 4, false, 0x0ULL), .ea = 0x1000ULL,
          .set = { { RAX, 0xffffffff00001000 } } },
        { M64, "mov 0x10(%eip),%eax", BYTES(0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_DS, 4, true, 0x10ULL), .ea = 0x7ULL, .rip = 0xfffffff0ULL },
        { M64, "mov -0x10(%rax),%ecx", BYTES(0x8b, 0x48, 0xf0),
          EA(RAX, NONE, 1, INSN_SEG_DS, 8, false, 0xfffffffffffffff0ULL),
          .ea = 0xfffffffffffffff8ULL, .set = { { RAX, 0x8 } } },
        { M64, "mov 0x8(%rip),%eax", BYTES(0x8b, 0x05, 0x08, 0x00, 0x00, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_DS, 8, true, 0x8ULL), .ea = 0x6ULL,
          .rip = 0xfffffffffffffff8ULL },
        { M64, "mov %fs:(%rax),%ecx", BYTES(0x64, 0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_FS, 8, false, 0x0ULL), .ea = 0x100ULL },
        { M64, "mov %gs:0x10(%rbx),%ecx", BYTES(0x65, 0x8b, 0x4b, 0x10),
          EA(RBX, NONE, 1, INSN_SEG_GS, 8, false, 0x10ULL), .ea = 0x410ULL },
        { M64, "mov %es:(%rax),%ecx", BYTES(0x26, 0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0x100ULL },
        { M64, "mov %ss:(%rax),%ecx", BYTES(0x36, 0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0x100ULL },
        { M64, "fs es: mov (%rax),%ecx", BYTES(0x64, 0x26, 0x8b, 0x08),
          EA(RAX, NONE, 1, INSN_SEG_FS, 8, false, 0x0ULL), .ea = 0x100ULL },
        { M64, "mov 0x10(%rbp,%rax,1),%eax", BYTES(0x8b, 0x44, 0x05, 0x10),
          EA(RBP, RAX, 1, INSN_SEG_SS, 8, false, 0x10ULL), .ea = 0x710ULL },
        { M64, "movzbl 0x1(%rbx,%rcx,4),%eax", BYTES(0x0f, 0xb6, 0x44, 0x8b, 0x01),
          EA(RBX, RCX, 4, INSN_SEG_DS, 8, false, 0x1ULL), .ea = 0xc01ULL },
        { M64, "movl $0x5,(%rdi)", BYTES(0xc7, 0x07, 0x05, 0x00, 0x00, 0x00),
          EA(RDI, NONE, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0x800ULL },
        { M64, "mov (%r12,%r12,2),%eax", BYTES(0x43, 0x8b, 0x04, 0x64),
          EA(R12, R12, 2, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0x2700ULL },
        { M64, "mov (%r13,%rax,1),%eax", BYTES(0x41, 0x8b, 0x44, 0x05, 0x00),
          EA(R13, RAX, 1, INSN_SEG_DS, 8, false, 0x0ULL), .ea = 0xf00ULL },
        { M64, "mov %eax,%fs:0x28", BYTES(0x64, 0x89, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00),
          EA(NONE, NONE, 1, INSN_SEG_FS, 8, false, 0x28ULL), .ea = 0x28ULL },
        { M64, "mov 0x12(%rsp,%r13,4),%edx", BYTES(0x42, 0x8b, 0x54, 0xac, 0x12),
          EA(RSP, R13, 4, INSN_SEG_SS, 8, false, 0x12ULL), .ea = 0x3d12ULL },
};

static const char *mode_name(enum insn_mode mode)
{
        return mode == M16 ? "16" : mode == M32 ? "32" : "64";
}

#define ARENA_SIZE 32

/* Decodes the first n bytes (n <= ARENA_SIZE) after copying them to the end
 * of a heap block, so that reading bytes[n] runs into ASan's redzone. */
static int decode_exact(const uint8_t *bytes, size_t n, enum insn_mode mode, struct insn_mmio *out)
{
        static uint8_t *arena;
        uint8_t *copy;

        if (!arena)
                arena = malloc(ARENA_SIZE);
        REQUIRE(arena && n <= ARENA_SIZE, "arena: n = %zu", n);
        copy = arena + ARENA_SIZE - n;
        memmove(copy, bytes, n);
        return insn_decode_mmio(n ? copy : NULL, n, mode, out);
}

static bool is_zero(const struct insn_mmio *m)
{
        return m->kind == INSN_MOV_LOAD && m->length == 0 && m->size == 0 && m->reg == 0 &&
               !m->high_byte && m->dest_size == 0 && m->imm == 0 && m->base == 0 && m->index == 0 &&
               m->scale == 0 && m->addr_size == 0 && m->seg == 0 && !m->rip_relative &&
               m->disp == 0;
}

/* The register file insn_mmio_ea reads: RAX 0x100, RCX 0x200, ... R15
 * 0x1000, unless a case changes one.  Every read is counted and must name
 * a register 0..15. */
struct ea_regs {
        uint64_t gpr[16];
        unsigned reads, bad_reads;
        uint32_t read_mask;
};

static uint64_t ea_read_gpr(void *ctx, unsigned reg)
{
        struct ea_regs *r = ctx;

        r->reads++;
        if (reg > 15) {
                r->bad_reads++;
                return 0;
        }
        r->read_mask |= 1u << reg;
        return r->gpr[reg];
}

static void ea_regs_init(struct ea_regs *r)
{
        memset(r, 0, sizeof(*r));
        for (unsigned i = 0; i < 16; i++)
                r->gpr[i] = 0x100ULL * (i + 1);
}

static void check_same(const struct insn_mmio *got, const struct insn_mmio *want, const char *what)
{
        REQUIRE(got->kind == want->kind, "%s: kind %d, want %d", what, got->kind, want->kind);
        REQUIRE(got->length == want->length, "%s: length %u, want %u", what, got->length,
                want->length);
        REQUIRE(got->size == want->size, "%s: size %u, want %u", what, got->size, want->size);
        REQUIRE(got->reg == want->reg, "%s: reg %u, want %u", what, got->reg, want->reg);
        REQUIRE(got->high_byte == want->high_byte, "%s: high_byte %d, want %d", what,
                got->high_byte, want->high_byte);
        REQUIRE(got->dest_size == want->dest_size, "%s: dest_size %u, want %u", what,
                got->dest_size, want->dest_size);
        REQUIRE(got->imm == want->imm, "%s: imm %#llx, want %#llx", what,
                (unsigned long long)got->imm, (unsigned long long)want->imm);
}

START_TEST(test_ok_case)
{
        const struct ok_case *c = &ok_cases[_i];
        struct insn_mmio want = c->want, got;
        uint8_t padded[32];
        char what[160];
        int err;

        want.length = (uint8_t)c->len;
        snprintf(what, sizeof(what), "%s-bit \"%s\"", mode_name(c->mode), c->text);

        err = decode_exact(c->bytes, c->len, c->mode, &got);
        ck_assert_msg(err == INSN_OK, "%s: %s", what, insn_decode_error_name(err));
        check_same(&got, &want, what);

        /* Trailing bytes must not change anything: pad with a prefix byte,
         * which a decoder that overran the opcode would happily consume. */
        for (unsigned fill = 0; fill < 2; fill++) {
                memset(padded, fill ? 0x66 : 0xcc, sizeof(padded));
                memcpy(padded, c->bytes, c->len);
                err = decode_exact(padded, sizeof(padded), c->mode, &got);
                ck_assert_msg(err == INSN_OK, "%s padded: %s", what, insn_decode_error_name(err));
                check_same(&got, &want, what);
        }

        /* Every strict prefix is a truncated instruction, never an error of
         * another kind and never a shorter success. */
        for (size_t n = 0; n < c->len; n++) {
                err = decode_exact(c->bytes, n, c->mode, &got);
                ck_assert_msg(err == INSN_ERR_TRUNCATED, "%s cut to %zu bytes: %s", what, n,
                              insn_decode_error_name(err));
                ck_assert_msg(is_zero(&got), "%s cut to %zu bytes: output not cleared", what, n);
        }
}
END_TEST

START_TEST(test_ea_case)
{
        const struct ea_case *c = &ea_cases[_i];
        const struct insn_mmio *w = &c->want;
        struct insn_mmio got;
        struct ea_regs regs;
        uint32_t want_mask = 0;
        char what[160];
        uint64_t ea;
        int err;

        snprintf(what, sizeof(what), "%s-bit \"%s\"", mode_name(c->mode), c->text);
        err = decode_exact(c->bytes, c->len, c->mode, &got);
        ck_assert_msg(err == INSN_OK, "%s: %s", what, insn_decode_error_name(err));
        ck_assert_msg(got.length == c->len, "%s: length %u, want %zu", what, got.length, c->len);
        ck_assert_msg(got.base == w->base, "%s: base %u, want %u", what, got.base, w->base);
        ck_assert_msg(got.index == w->index, "%s: index %u, want %u", what, got.index, w->index);
        ck_assert_msg(got.scale == w->scale, "%s: scale %u, want %u", what, got.scale, w->scale);
        ck_assert_msg(got.seg == w->seg, "%s: segment %u, want %u", what, got.seg, w->seg);
        ck_assert_msg(got.addr_size == w->addr_size, "%s: address size %u, want %u", what,
                      got.addr_size, w->addr_size);
        ck_assert_msg(got.rip_relative == w->rip_relative, "%s: rip_relative %d, want %d", what,
                      got.rip_relative, w->rip_relative);
        ck_assert_msg(got.disp == w->disp, "%s: disp %#llx, want %#llx", what,
                      (unsigned long long)got.disp, (unsigned long long)w->disp);

        ea_regs_init(&regs);
        for (size_t k = 0; k < 2; k++)
                if (c->set[k].reg || c->set[k].value)
                        regs.gpr[c->set[k].reg] = c->set[k].value;
        ea = insn_mmio_ea(&got, ea_read_gpr, &regs, c->rip ? c->rip : EA_RIP);
        ck_assert_msg(ea == c->ea, "%s: effective address %#llx, want %#llx", what,
                      (unsigned long long)ea, (unsigned long long)c->ea);
        /* Only the base and index registers are read. */
        if (w->base != NONE)
                want_mask |= 1u << w->base;
        if (w->index != NONE)
                want_mask |= 1u << w->index;
        ck_assert_msg(regs.bad_reads == 0 && regs.read_mask == want_mask,
                      "%s: read registers %#x, want %#x", what, regs.read_mask, want_mask);
}
END_TEST

/* The effective address does not depend on bits above the address size,
 * nor on the instruction's address except RIP-relative. */
START_TEST(test_ea_truncation)
{
        /* 16-bit [bx+si+0x10] and 32-bit [eax+ecx*8-0x10] ignore the high
         * halves of the registers. */
        static const uint8_t m16[] = { 0x8b, 0x40, 0x10 };
        static const uint8_t m32[] = { 0x8b, 0x4c, 0xc8, 0xf0 };
        static const uint8_t m64_67[] = { 0x67, 0x8b, 0x4c, 0xc8, 0xf0 };
        struct insn_mmio m;
        struct ea_regs regs;

        ea_regs_init(&regs);
        regs.gpr[RBX] = 0xffffffffffff0010ULL;
        regs.gpr[RSI] = 0x123456789abcfff0ULL;
        ck_assert_int_eq(decode_exact(m16, sizeof(m16), M16, &m), INSN_OK);
        ck_assert_uint_eq(insn_mmio_ea(&m, ea_read_gpr, &regs, 0xffff), 0x0010);

        ea_regs_init(&regs);
        regs.gpr[RAX] = 0xdeadbeef00000010ULL;
        regs.gpr[RCX] = 0xffffffffffffffffULL; /* * 8 = -8 */
        ck_assert_int_eq(decode_exact(m32, sizeof(m32), M32, &m), INSN_OK);
        ck_assert_uint_eq(insn_mmio_ea(&m, ea_read_gpr, &regs, 0), 0xfffffff8ULL);
        ck_assert_int_eq(decode_exact(m64_67, sizeof(m64_67), M64, &m), INSN_OK);
        ck_assert_uint_eq(insn_mmio_ea(&m, ea_read_gpr, &regs, 0x7fff00000000ULL), 0xfffffff8ULL);
}
END_TEST

START_TEST(test_err_case)
{
        const struct err_case *c = &err_cases[_i];
        struct insn_mmio got;
        char what[160];
        int err;

        snprintf(what, sizeof(what), "%s-bit \"%s\"", mode_name(c->mode), c->text);
        err = decode_exact(c->bytes, c->len, c->mode, &got);
        ck_assert_msg(err == c->err, "%s: got %s, want %s", what, insn_decode_error_name(err),
                      insn_decode_error_name(c->err));
        ck_assert_msg(is_zero(&got), "%s: output not cleared", what);

        /* A shorter input either runs out first or fails the same way. */
        for (size_t n = 0; n < c->len; n++) {
                err = decode_exact(c->bytes, n, c->mode, &got);
                ck_assert_msg(err == INSN_ERR_TRUNCATED || err == c->err, "%s cut to %zu bytes: %s",
                              what, n, insn_decode_error_name(err));
                if (c->err == INSN_ERR_TOO_LONG)
                        ck_assert_msg(err == (n >= INSN_MAX_LEN ? c->err : INSN_ERR_TRUNCATED),
                                      "%s cut to %zu bytes: %s", what, n,
                                      insn_decode_error_name(err));
        }
}
END_TEST

struct value_case {
        enum insn_mode mode;
        const char *text;
        uint8_t bytes[16];
        size_t len;
        uint64_t reg; /* register content before the instruction */
        uint64_t mem; /* value read from MMIO (loads only; junk above `size`) */
        uint64_t want;
};

#define OLD 0x1122334455667788ULL

/* Loads: want is the register afterwards.  Stores: want is the value
 * written to MMIO. */
static const struct value_case load_cases[] = {
        { M64, "mov (%rdi),%al", BYTES(0x8a, 0x07), OLD, 0xffffffffffffffabULL,
          0x11223344556677abULL },
        { M64, "mov (%rdi),%ah", BYTES(0x8a, 0x27), OLD, 0xffffffffffffffabULL,
          0x112233445566ab88ULL },
        { M64, "mov (%r9),%r10b", BYTES(0x45, 0x8a, 0x11), OLD, 0x00, 0x1122334455667700ULL },
        { M64, "mov (%rdi),%ax", BYTES(0x66, 0x8b, 0x07), OLD, 0xffffffffffffbeefULL,
          0x112233445566beefULL },
        { M64, "mov (%rdi),%eax", BYTES(0x8b, 0x07), OLD, 0xffffffffdeadbeefULL, 0xdeadbeefULL },
        { M64, "mov (%rdi),%rax", BYTES(0x48, 0x8b, 0x07), OLD, 0xfedcba9876543210ULL,
          0xfedcba9876543210ULL },
        { M64, "movzbl (%rdi),%eax", BYTES(0x0f, 0xb6, 0x07), OLD, 0xff80, 0x80 },
        { M64, "movzbw (%rdi),%ax", BYTES(0x66, 0x0f, 0xb6, 0x07), OLD, 0xff80,
          0x1122334455660080ULL },
        { M64, "movzwq (%rdi),%rax", BYTES(0x48, 0x0f, 0xb7, 0x07), OLD, 0x12348765, 0x8765 },
        { M64, "movsbl (%rdi),%eax", BYTES(0x0f, 0xbe, 0x07), OLD, 0x80, 0xffffff80ULL },
        { M64, "movsbw (%rdi),%ax", BYTES(0x66, 0x0f, 0xbe, 0x07), OLD, 0x80,
          0x112233445566ff80ULL },
        { M64, "movswq (%rdi),%rax", BYTES(0x48, 0x0f, 0xbf, 0x07), OLD, 0x8000,
          0xffffffffffff8000ULL },
        { M64, "movsbq (%rdi),%rax", BYTES(0x48, 0x0f, 0xbe, 0x07), OLD, 0xff7f, 0x7f },
        { M16, "movswl (%bx),%eax", BYTES(0x66, 0x0f, 0xbf, 0x07), OLD, 0xffff, 0xffffffffULL },
};

static const struct value_case store_cases[] = {
        { M64, "mov %eax,(%rdi)", BYTES(0x89, 0x07), OLD, 0, 0x55667788ULL },
        { M64, "mov %ah,(%rdi)", BYTES(0x88, 0x27), OLD, 0, 0x77 },
        { M64, "mov %bh,(%rdi)", BYTES(0x88, 0x3f), OLD, 0, 0x77 },
        { M64, "mov %al,(%rdi)", BYTES(0x88, 0x07), OLD, 0, 0x88 },
        { M64, "mov %ax,(%rdi)", BYTES(0x66, 0x89, 0x07), OLD, 0, 0x7788 },
        { M64, "mov %rax,(%rdi)", BYTES(0x48, 0x89, 0x07), OLD, 0, OLD },
        { M64, "movb $0x80,(%rax)", BYTES(0xc6, 0x00, 0x80), OLD, 0, 0x80 },
        { M64, "movq $-0x80000000,(%rax)", BYTES(0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80), OLD, 0,
          0xffffffff80000000ULL },
};

START_TEST(test_load_value)
{
        const struct value_case *c = &load_cases[_i];
        struct insn_mmio m;
        uint64_t got;

        ck_assert_int_eq(decode_exact(c->bytes, c->len, c->mode, &m), INSN_OK);
        ck_assert(!insn_mmio_is_store(&m));
        ck_assert_uint_eq(insn_mmio_store_value(&m, c->reg), 0);
        got = insn_mmio_load_value(&m, c->reg, c->mem);
        ck_assert_msg(got == c->want, "%s: %#llx, want %#llx", c->text, (unsigned long long)got,
                      (unsigned long long)c->want);
}
END_TEST

START_TEST(test_store_value)
{
        const struct value_case *c = &store_cases[_i];
        struct insn_mmio m;
        uint64_t got;

        ck_assert_int_eq(decode_exact(c->bytes, c->len, c->mode, &m), INSN_OK);
        ck_assert(insn_mmio_is_store(&m));
        ck_assert_uint_eq(insn_mmio_load_value(&m, c->reg, c->mem), c->reg);
        got = insn_mmio_store_value(&m, c->reg);
        ck_assert_msg(got == c->want, "%s: %#llx, want %#llx", c->text, (unsigned long long)got,
                      (unsigned long long)c->want);
}
END_TEST

START_TEST(test_bad_args)
{
        static const uint8_t mov[] = { 0x89, 0x07 };
        struct insn_mmio m;

        ck_assert_int_eq(insn_decode_mmio(mov, sizeof(mov), M64, NULL), INSN_ERR_BAD_ARG);
        ck_assert_int_eq(insn_decode_mmio(NULL, 1, M64, &m), INSN_ERR_BAD_ARG);
        ck_assert(is_zero(&m));
        ck_assert_int_eq(insn_decode_mmio(mov, sizeof(mov), (enum insn_mode)3, &m),
                         INSN_ERR_BAD_ARG);
        ck_assert_int_eq(insn_decode_mmio(mov, sizeof(mov), (enum insn_mode) - 1, &m),
                         INSN_ERR_BAD_ARG);
        /* No bytes at all is not a bad argument, just nothing yet. */
        ck_assert_int_eq(insn_decode_mmio(NULL, 0, M64, &m), INSN_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_error_names)
{
        static const int codes[] = {
                INSN_OK,         INSN_ERR_TRUNCATED,  INSN_ERR_TOO_LONG, INSN_ERR_UNSUPPORTED,
                INSN_ERR_STRING, INSN_ERR_NOT_MEMORY, INSN_ERR_INVALID,  INSN_ERR_BAD_ARG,
        };

        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
                const char *name = insn_decode_error_name(codes[i]);

                ck_assert_ptr_nonnull(name);
                ck_assert_str_ne(name, "unknown");
                for (size_t j = 0; j < i; j++)
                        ck_assert_str_ne(name, insn_decode_error_name(codes[j]));
        }
        ck_assert_str_eq(insn_decode_error_name(1), "unknown");
        ck_assert_str_eq(insn_decode_error_name(-100), "unknown");
}
END_TEST

/* A truncated 16-byte encoding says TRUNCATED until 15 bytes are present,
 * because only then can no further byte make it fit. */
START_TEST(test_too_long_needs_15_bytes)
{
        static const uint8_t long_mov[16] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                              0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89, 0x07 };
        struct insn_mmio m;

        ck_assert_int_eq(decode_exact(long_mov, 14, M64, &m), INSN_ERR_TRUNCATED);
        ck_assert_int_eq(decode_exact(long_mov, 15, M64, &m), INSN_ERR_TOO_LONG);
        ck_assert_int_eq(decode_exact(long_mov, 16, M64, &m), INSN_ERR_TOO_LONG);
        /* One prefix fewer fits exactly. */
        ck_assert_int_eq(decode_exact(long_mov + 1, 15, M64, &m), INSN_OK);
        ck_assert_uint_eq(m.length, 15);
}
END_TEST

/* What must hold for any input: a known code, a cleared result on failure,
 * and on success sane fields and a length that is exactly what was needed. */
static void check_invariants(const uint8_t *bytes, size_t n, enum insn_mode mode)
{
        struct insn_mmio m, again;
        int err = decode_exact(bytes, n, mode, &m);

        REQUIRE(err <= INSN_OK && err > INSN_ERR_BAD_ARG, "unexpected code %d", err);
        if (err) {
                REQUIRE(is_zero(&m), "output not cleared after %s", insn_decode_error_name(err));
                return;
        }
        REQUIRE(m.length >= 1 && m.length <= n && m.length <= INSN_MAX_LEN, "length %u of %zu",
                m.length, n);
        REQUIRE(m.kind >= INSN_MOV_LOAD && m.kind <= INSN_MOVSX, "kind %d", m.kind);
        REQUIRE(m.size == 1 || m.size == 2 || m.size == 4 || m.size == 8, "size %u", m.size);
        REQUIRE(m.reg < 16, "reg %u", m.reg);
        REQUIRE(!m.high_byte || (m.size == 1 && m.reg < 4), "high byte of reg %u", m.reg);
        REQUIRE(m.size == 8 || m.imm >> (8 * m.size) == 0, "imm %#llx wider than %u bytes",
                (unsigned long long)m.imm, m.size);
        if (insn_mmio_is_store(&m))
                REQUIRE(m.dest_size == 0, "store with dest_size %u", m.dest_size);
        else
                REQUIRE(m.dest_size >= m.size && m.dest_size <= 8 &&
                            (m.dest_size & (m.dest_size - 1)) == 0,
                        "dest_size %u for size %u", m.dest_size, m.size);
        REQUIRE(m.base < 16 || m.base == INSN_REG_NONE, "base %u", m.base);
        REQUIRE(m.index < 16 || m.index == INSN_REG_NONE, "index %u", m.index);
        REQUIRE(m.scale == 1 || m.scale == 2 || m.scale == 4 || m.scale == 8, "scale %u", m.scale);
        REQUIRE(m.index != INSN_REG_NONE || m.scale == 1, "scale %u without index", m.scale);
        REQUIRE(m.seg <= INSN_SEG_GS, "segment %u", m.seg);
        REQUIRE(mode != M64 || m.seg == INSN_SEG_DS || m.seg >= INSN_SEG_SS, "64-bit segment %u",
                m.seg);
        REQUIRE(m.addr_size == 2 || m.addr_size == 4 || (m.addr_size == 8 && mode == M64),
                "address size %u", m.addr_size);
        REQUIRE(!m.rip_relative ||
                    (mode == M64 && m.base == INSN_REG_NONE && m.index == INSN_REG_NONE),
                "rip-relative");
        {
                struct ea_regs regs;
                uint64_t ea;

                ea_regs_init(&regs);
                ea = insn_mmio_ea(&m, ea_read_gpr, &regs, 0xfffffffffffffff0ULL);
                REQUIRE(regs.bad_reads == 0 && regs.reads <= 2, "ea reads %u", regs.reads);
                REQUIRE(m.addr_size == 8 || ea >> (8 * m.addr_size) == 0, "ea %#llx",
                        (unsigned long long)ea);
        }
        err = decode_exact(bytes, m.length, mode, &again);
        REQUIRE(err == INSN_OK, "exact length: %s", insn_decode_error_name(err));
        check_same(&again, &m, "re-decode at exact length");
        REQUIRE(again.base == m.base && again.index == m.index && again.scale == m.scale &&
                    again.seg == m.seg && again.addr_size == m.addr_size &&
                    again.rip_relative == m.rip_relative && again.disp == m.disp,
                "re-decode at exact length: another memory operand");
        err = decode_exact(bytes, m.length - 1u, mode, &again);
        REQUIRE(err == INSN_ERR_TRUNCATED, "one byte short: %s", insn_decode_error_name(err));
}

/* Every value of the first two bytes, with tails that exercise the ModRM,
 * SIB and displacement paths, in every mode. */
START_TEST(test_two_byte_sweep)
{
        static const uint8_t tails[][14] = {
                { 0 },
                { 0x04, 0x25, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb },
                { 0x8b, 0x84, 0x24, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 },
                { 0x0f, 0xb6, 0x45, 0x80 },
                { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 },
        };
        enum insn_mode mode = (enum insn_mode)_i;
        uint8_t buf[16];

        for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
                for (unsigned v = 0; v < 0x10000; v++) {
                        buf[0] = (uint8_t)v;
                        buf[1] = (uint8_t)(v >> 8);
                        memcpy(buf + 2, tails[t], sizeof(tails[t]));
                        check_invariants(buf, 16, mode);
                }
        }
}
END_TEST

/* Deterministic random bytes, biased towards the opcodes and prefixes the
 * decoder accepts so that most inputs get past the first byte. */
START_TEST(test_random_invariants)
{
        static const uint8_t interesting[] = { 0x66, 0x67, 0x2e, 0x64, 0x65, 0xf0, 0xf3, 0x40,
                                               0x41, 0x44, 0x48, 0x4c, 0x4f, 0x88, 0x89, 0x8a,
                                               0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0x0f,
                                               0xb6, 0xb7, 0xbe, 0xbf, 0x04, 0x05, 0x44, 0x84 };
        uint64_t x = 0x9e3779b97f4a7c15ULL;
        uint8_t buf[16];

        for (unsigned iter = 0; iter < 300000; iter++) {
                for (size_t i = 0; i < sizeof(buf); i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        buf[i] =
                            (x & 0x300) ? interesting[x % sizeof(interesting)] : (uint8_t)(x >> 24);
                }
                check_invariants(buf, (x >> 40) % 17, (enum insn_mode)((x >> 50) % 3));
        }
}
END_TEST

/* Writes each table encoding as a libFuzzer seed: one byte of mode, then
 * the instruction bytes (the format tests/fuzz/fuzz_insn_decode.c reads). */
static int write_corpus(const char *dir)
{
        char path[4096];

        for (size_t i = 0;
             i < sizeof(ok_cases) / sizeof(ok_cases[0]) + sizeof(err_cases) / sizeof(err_cases[0]);
             i++) {
                size_t nok = sizeof(ok_cases) / sizeof(ok_cases[0]);
                const uint8_t *bytes = i < nok ? ok_cases[i].bytes : err_cases[i - nok].bytes;
                size_t len = i < nok ? ok_cases[i].len : err_cases[i - nok].len;
                uint8_t mode = (uint8_t)(i < nok ? ok_cases[i].mode : err_cases[i - nok].mode);
                FILE *f;

                snprintf(path, sizeof(path), "%s/%s-%03zu", dir, i < nok ? "ok" : "err",
                         i < nok ? i : i - nok);
                f = fopen(path, "wb");
                if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(bytes, 1, len, f) != len ||
                    fclose(f) != 0) {
                        perror(path);
                        return 1;
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        Suite *s;
        TCase *tc;

        if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
                return write_corpus(argv[2]);

        s = suite_create("insn_decode");
        tc = tcase_create("tables");
        tcase_add_loop_test(tc, test_ok_case, 0, (int)(sizeof(ok_cases) / sizeof(ok_cases[0])));
        tcase_add_loop_test(tc, test_err_case, 0, (int)(sizeof(err_cases) / sizeof(err_cases[0])));
        tcase_add_loop_test(tc, test_ea_case, 0, (int)(sizeof(ea_cases) / sizeof(ea_cases[0])));
        tcase_add_test(tc, test_ea_truncation);
        tcase_add_loop_test(tc, test_load_value, 0,
                            (int)(sizeof(load_cases) / sizeof(load_cases[0])));
        tcase_add_loop_test(tc, test_store_value, 0,
                            (int)(sizeof(store_cases) / sizeof(store_cases[0])));
        tcase_add_test(tc, test_bad_args);
        tcase_add_test(tc, test_error_names);
        tcase_add_test(tc, test_too_long_needs_15_bytes);
        suite_add_tcase(s, tc);

        tc = tcase_create("sweeps");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_two_byte_sweep, M16, M64 + 1);
        tcase_add_test(tc, test_random_invariants);
        suite_add_tcase(s, tc);

        return unit_run_suite(s);
}
