/* Host unit tests for emulate/task_switch.c over a fake guest-linear memory
 * (identity, 4 MiB, with pages that can be made not present or read-only). */
#include "tests/unit/check_compat.h"
#include "emulate/task_switch.h"
#include "tests/fuzz/task_switch_check.h"

#define MEM   (4u << 20)
#define PG_NP 1u /* not present */
#define PG_RO 2u /* read-only */
#define CR3_A 0x9000u
#define CR3_B 0xa000u
#define RIP   0x100000u
#define INSN  7u

static uint8_t *mem, *snap;
static uint8_t page[MEM >> 12];
static unsigned nwrites;
static uint64_t last_cr3, loaded_cr3;
static unsigned ncr3;
static bool cr3_ok;

static enum ts_mem check(uint64_t cr3, uint32_t la, unsigned len, bool write, struct ts_fault *pf)
{
        last_cr3 = cr3;
        ck_assert_uint_ge(len, 1);
        ck_assert_uint_le(len, 0x68);
        for (unsigned i = 0; i < len; i++) {
                uint32_t a = la + i;
                if (a >= MEM)
                        return TS_MEM_STOP;
                uint8_t at = page[a >> 12];
                if ((at & PG_NP) || (write && (at & PG_RO))) {
                        pf->error = ((at & PG_NP) ? 0 : 1) | (write ? 2 : 0);
                        pf->cr2 = a;
                        return TS_MEM_FAULT;
                }
        }
        return TS_MEM_OK;
}

static enum ts_mem rd(void *ctx, uint64_t cr3, uint32_t la, void *buf, unsigned len,
                      struct ts_fault *pf)
{
        ck_assert_ptr_eq(ctx, mem);
        enum ts_mem m = check(cr3, la, len, false, pf);
        if (m == TS_MEM_OK)
                memcpy(buf, mem + la, len);
        return m;
}

static enum ts_mem wr(void *ctx, uint64_t cr3, uint32_t la, const void *buf, unsigned len,
                      struct ts_fault *pf)
{
        ck_assert_ptr_eq(ctx, mem);
        enum ts_mem m = check(cr3, la, len, true, pf);
        if (m == TS_MEM_OK) {
                memcpy(mem + la, buf, len);
                nwrites++;
        }
        return m;
}

static bool load_cr3(void *ctx, uint64_t cr3)
{
        ck_assert_ptr_eq(ctx, mem);
        loaded_cr3 = cr3;
        ncr3++;
        return cr3_ok;
}

static struct ts_ops ops;
static struct ts_state st, out;
static struct ts_request rq;
static struct ts_outcome o;

static uint16_t g16(uint32_t a)
{
        return (uint16_t)(mem[a] | mem[a + 1] << 8);
}

static uint32_t g32(uint32_t a)
{
        return g16(a) | (uint32_t)g16(a + 2) << 16;
}

static void p16(uint32_t a, uint16_t v)
{
        mem[a] = (uint8_t)v;
        mem[a + 1] = (uint8_t)(v >> 8);
}

static void p32(uint32_t a, uint32_t v)
{
        p16(a, (uint16_t)v);
        p16(a + 2, (uint16_t)(v >> 16));
}

/* access: the descriptor's byte 5 (P, DPL, S, type); flags: byte 6's high
 * nibble (G, D/B, L, AVL). */
static void desc(uint16_t sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
        uint32_t a = 0x1000 + (sel & ~7u);
        if (sel & 4)
                a = 0x5000 + (sel & ~7u);
        p16(a, (uint16_t)limit);
        p16(a + 2, (uint16_t)base);
        mem[a + 4] = (uint8_t)(base >> 16);
        mem[a + 5] = access;
        mem[a + 6] = (uint8_t)((flags << 4) | ((limit >> 16) & 0xf));
        mem[a + 7] = (uint8_t)(base >> 24);
}

static uint8_t access_byte(uint16_t sel)
{
        return mem[((sel & 4) ? 0x5000 : 0x1000) + (sel & ~7u) + 5];
}

/* Selectors of the GDT at 0x1000 (and the LDT at 0x5000). */
#define CODE0 0x08
#define DATA0 0x10
#define TSS_A 0x18 /* 0x2000, 32-bit, the current task (busy) */
#define TSS_B 0x20 /* 0x3000, 32-bit, available */
#define TSS_C 0x28 /* 0x4000, 16-bit, available */
#define LDT   0x30 /* 0x5000, 4 entries */
#define CODE3 0x3b
#define DATA3 0x43
#define BAD   0x48 /* scratch descriptor for the fault tests */
#define TSS_D 0x50 /* 0x3800, 32-bit, available: the 16-bit test's old task */
#define LCODE 0x04 /* LDT entry 0: ring-0 code */
#define LDATA 0x0c /* LDT entry 1: ring-0 data */

/* A 32-bit TSS's dynamic fields. */
static void tss32(uint32_t base, uint32_t eip, uint32_t eflags, uint16_t cs, uint16_t ds,
                  uint16_t ldt)
{
        p32(base + 0x1c, CR3_B);
        p32(base + 0x20, eip);
        p32(base + 0x24, eflags);
        for (unsigned i = 0; i < 8; i++)
                p32(base + 0x28 + 4 * i, 0xb0000000u + i);
        p32(base + 0x38, 0x8000); /* ESP */
        uint16_t seg[6] = { ds, cs, ds, ds, ds, ds };
        for (unsigned i = 0; i < 6; i++)
                p16(base + 0x48 + 4 * i, seg[i]);
        p16(base + 0x60, ldt);
        p16(base + 0x64, 0);
}

static struct ts_seg flat(uint16_t sel, uint32_t ar)
{
        return (struct ts_seg){ sel, 0, 0xffffffffu, ar };
}

/* The world every test starts from: task A (TSS_A) runs flat ring-0 code,
 * task B's TSS holds flat ring-0 state. */
static void reset(void)
{
        memset(mem, 0, MEM);
        memset(page, 0, sizeof(page));
        nwrites = 0;
        ncr3 = 0;
        loaded_cr3 = 0;
        cr3_ok = true;
        ops = (struct ts_ops){ rd, wr, load_cr3, mem };

        desc(CODE0, 0, 0xfffff, 0x9b, 0xc);
        desc(DATA0, 0, 0xfffff, 0x93, 0xc);
        desc(TSS_A, 0x2000, 0x67, 0x8b, 0);
        desc(TSS_B, 0x3000, 0x67, 0x89, 0);
        desc(TSS_C, 0x4000, 0x2b, 0x81, 0);
        desc(LDT, 0x5000, 0x1f, 0x82, 0);
        desc(CODE3, 0, 0xfffff, 0xfb, 0xc);
        desc(DATA3, 0, 0xfffff, 0xf3, 0xc);
        desc(TSS_D, 0x3800, 0x67, 0x89, 0);
        desc(LCODE, 0, 0xfffff, 0x9b, 0xc);
        desc(LDATA, 0, 0xfffff, 0x93, 0xc);
        tss32(0x3000, 0x200000, 0x2 | BIT(9), CODE0, DATA0, 0);
        p16(0x3000, 0x1234); /* a stale back link */

        memset(&st, 0, sizeof(st));
        for (unsigned i = 0; i < TS_NGPR; i++)
                st.gpr[i] = 0xa0000000u + i;
        st.gpr[TS_ESP] = 0x7000;
        st.rip = RIP;
        st.rflags = 0x2 | BIT(9);
        st.cr0 = TS_CR0_PE | BIT(4);
        st.cr3 = CR3_A;
        st.dr7 = 0x7ff;
        for (unsigned i = 0; i < TS_NSEG; i++)
                st.seg[i] = flat(DATA0, 0xc093);
        st.seg[TS_CS] = flat(CODE0, 0xc09b);
        st.ldtr = (struct ts_seg){ 0, 0, 0, TS_AR_UNUSABLE };
        st.tr = (struct ts_seg){ TSS_A, 0x2000, 0x67, 0x8b };
        st.gdtr_base = 0x1000;
        st.gdtr_limit = 0xff;

        rq = (struct ts_request){ .selector = TSS_B, .source = TS_SRC_JMP, .insn_len = INSN };
        memset(&o, 0xa5, sizeof(o));
}

static void setup(void)
{
        mem = calloc(1, MEM);
        snap = calloc(1, MEM);
        reset();
}

static void teardown(void)
{
        free(mem);
        free(snap);
}

static enum ts_result run(void)
{
        memcpy(snap, mem, MEM);
        nwrites = 0;
        memset(&out, 0x5a, sizeof(out));
        enum ts_result r = task_switch(&rq, &st, &ops, &out, &o);
        ck_assert_int_eq(r, o.result);
        if (r == TS_DONE || (r == TS_FAULT && o.committed)) {
                const char *why = ts_check_state(&out);
                ck_assert_msg(why == NULL, "state VM entry refuses: %s", why);
        }
        return r;
}

/* A fault in the old task: nothing changed, in the state or in memory. */
static void expect_old_fault(unsigned vector, uint32_t error)
{
        ck_assert_int_eq(run(), TS_FAULT);
        ck_assert(!o.committed);
        ck_assert_uint_eq(o.fault.vector, vector);
        ck_assert(o.fault.has_error);
        ck_assert_uint_eq(o.fault.error, error);
        ck_assert_mem_eq(&out, &st, sizeof(st));
        ck_assert_mem_eq(mem, snap, MEM);
        ck_assert_uint_eq(ncr3, 0);
}

/* A fault in the new task: TR and the new task's state loaded. */
static void expect_new_fault(unsigned vector, uint32_t error)
{
        ck_assert_int_eq(run(), TS_FAULT);
        ck_assert(o.committed);
        ck_assert_uint_eq(o.fault.vector, vector);
        ck_assert_uint_eq(o.fault.error, error);
        ck_assert_uint_eq(out.tr.sel, rq.selector);
        ck_assert(out.cr0 & TS_CR0_TS);
}

START_TEST(jmp_switches_and_saves)
{
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert(o.committed);
        ck_assert(!o.debug_trap);
        /* The old task's TSS: EIP after the JMP, EFLAGS, registers, selectors. */
        ck_assert_uint_eq(g32(0x2020), RIP + INSN);
        ck_assert_uint_eq(g32(0x2024), 0x202);
        for (unsigned i = 0; i < 8; i++)
                ck_assert_uint_eq(g32(0x2028 + 4 * i), i == TS_ESP ? 0x7000 : 0xa0000000u + i);
        ck_assert_uint_eq(g16(0x2048), DATA0);
        ck_assert_uint_eq(g16(0x204c), CODE0);
        ck_assert_uint_eq(g16(0x2050), DATA0);
        ck_assert_uint_eq(g16(0x205c), DATA0);
        /* Busy bits: old cleared, new set; no back link; NT as loaded. */
        ck_assert_uint_eq(access_byte(TSS_A), 0x89);
        ck_assert_uint_eq(access_byte(TSS_B), 0x8b);
        ck_assert_uint_eq(g16(0x3000), 0x1234);
        ck_assert(!(out.rflags & TS_RFLAGS_NT));
        /* TR, CR0.TS, DR7, the new task's registers. */
        ck_assert_uint_eq(out.tr.sel, TSS_B);
        ck_assert_x64_eq(out.tr.base, 0x3000);
        ck_assert_uint_eq(out.tr.limit, 0x67);
        ck_assert_uint_eq(out.tr.ar, 0x8b);
        ck_assert(out.cr0 & TS_CR0_TS);
        ck_assert_x64_eq(out.dr7, 0x7ff & ~0x155u);
        ck_assert_x64_eq(out.rip, 0x200000);
        ck_assert_x64_eq(out.rflags, 0x202);
        ck_assert_x64_eq(out.gpr[TS_EAX], 0xb0000000u);
        ck_assert_x64_eq(out.gpr[TS_ESP], 0x8000);
        ck_assert_x64_eq(out.gpr[TS_EDI], 0xb0000007u);
        ck_assert_uint_eq(out.seg[TS_CS].sel, CODE0);
        ck_assert_uint_eq(out.seg[TS_CS].ar, 0xc09b);
        ck_assert_uint_eq(out.seg[TS_SS].ar, 0xc093);
        ck_assert_uint_eq(out.seg[TS_GS].limit, 0xffffffffu);
        ck_assert(out.ldtr.ar & TS_AR_UNUSABLE);
        /* Paging off: CR3 is not loaded. */
        ck_assert_uint_eq(ncr3, 0);
        ck_assert(!o.cr3_loaded);
        ck_assert_x64_eq(out.cr3, CR3_A);
}
END_TEST

START_TEST(call_then_iret_back)
{
        st.rflags |= TS_RFLAGS_NT | TS_RFLAGS_RF;
        rq.source = TS_SRC_CALL;
        ck_assert_int_eq(run(), TS_DONE);
        /* CALL: back link, NT set, both busy, RF clear in the saved image. */
        ck_assert_uint_eq(g16(0x3000), TSS_A);
        ck_assert(out.rflags & TS_RFLAGS_NT);
        ck_assert_uint_eq(access_byte(TSS_A), 0x8b);
        ck_assert_uint_eq(access_byte(TSS_B), 0x8b);
        ck_assert_uint_eq(g32(0x2024), 0x202 | TS_RFLAGS_NT);
        ck_assert_uint_eq(g32(0x2020), RIP + INSN);

        /* IRET in task B (NT set) back to A. */
        st = out;
        st.rip = 0x200010;
        st.gpr[TS_EAX] = 0x42;
        rq = (struct ts_request){ .selector = TSS_A, .source = TS_SRC_IRET, .insn_len = 1 };
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert(o.nmi_unblocked);
        ck_assert_uint_eq(access_byte(TSS_B), 0x89);      /* cleared */
        ck_assert_uint_eq(access_byte(TSS_A), 0x8b);      /* left busy */
        ck_assert_uint_eq(g32(0x3024) & TS_RFLAGS_NT, 0); /* B's saved NT cleared */
        ck_assert_uint_eq(g32(0x3020), 0x200011);
        ck_assert_uint_eq(g32(0x3028), 0x42);
        ck_assert_uint_eq(out.tr.sel, TSS_A);
        ck_assert_x64_eq(out.rip, RIP + INSN);
        ck_assert_x64_eq(out.rflags, 0x202 | TS_RFLAGS_NT); /* A's own NT, as saved */
        ck_assert_x64_eq(out.gpr[TS_EBX], 0xa0000003u);
        ck_assert_x64_eq(out.gpr[TS_ESP], 0x7000);
        ck_assert_uint_eq(g16(0x3000), TSS_A); /* no link written by IRET */
}
END_TEST

START_TEST(gate_exception_pushes_error_code)
{
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .insn_len = 0,
                                  .event_valid = true,
                                  .vector = VEC_GP,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true,
                                  .error = 0x5a };
        ck_assert_int_eq(run(), TS_DONE);
        /* A fault: the old task resumes at the faulting instruction, with RF. */
        ck_assert_uint_eq(g32(0x2020), RIP);
        ck_assert_uint_eq(g32(0x2024), 0x202 | TS_RFLAGS_RF);
        ck_assert_uint_eq(g16(0x3000), TSS_A);
        ck_assert(out.rflags & TS_RFLAGS_NT);
        ck_assert_uint_eq(access_byte(TSS_A), 0x8b);
        ck_assert_uint_eq(access_byte(TSS_B), 0x8b);
        /* The error code on the new task's stack. */
        ck_assert_x64_eq(out.gpr[TS_ESP], 0x8000 - 4);
        ck_assert_uint_eq(g32(0x8000 - 4), 0x5a);
}
END_TEST

START_TEST(gate_int_n_resumes_after)
{
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .insn_len = 2,
                                  .event_valid = true,
                                  .vector = 0x80,
                                  .type = TS_EV_SW_INTERRUPT };
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(g32(0x2020), RIP + 2);
        ck_assert_x64_eq(out.gpr[TS_ESP], 0x8000);
        ck_assert_uint_eq(g16(0x3000), TSS_A);
        ck_assert(out.rflags & TS_RFLAGS_NT);
        /* And INT3 (a software exception) alike. */
        reset();
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .insn_len = 1,
                                  .event_valid = true,
                                  .vector = 3,
                                  .type = TS_EV_SW_EXCEPTION };
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(g32(0x2020), RIP + 1);
}
END_TEST

START_TEST(gate_external_and_nmi_resume_at_rip)
{
        enum ts_event_type types[] = { TS_EV_EXTERNAL, TS_EV_NMI };
        for (unsigned i = 0; i < 2; i++) {
                reset();
                st.rflags |= TS_RFLAGS_RF;
                rq = (struct ts_request){ .selector = TSS_B,
                                          .source = TS_SRC_GATE,
                                          .insn_len = 3,
                                          .event_valid = true,
                                          .vector = 0x30,
                                          .type = types[i] };
                ck_assert_int_eq(run(), TS_DONE);
                ck_assert_uint_eq(g32(0x2020), RIP);
                ck_assert_uint_eq(g32(0x2024), 0x202 | TS_RFLAGS_RF);
                ck_assert_x64_eq(out.gpr[TS_ESP], 0x8000);
        }
}
END_TEST

START_TEST(selector_faults_in_old_task)
{
        rq.selector = TSS_B | 4; /* TI = 1 */
        expect_old_fault(VEC_GP, TSS_B | 4);
        rq.selector = 0x100; /* past the GDT limit */
        expect_old_fault(VEC_GP, 0x100);
        rq.selector = CODE0; /* not a TSS */
        expect_old_fault(VEC_GP, CODE0);
        rq.source = TS_SRC_CALL;
        rq.selector = TSS_A; /* busy */
        expect_old_fault(VEC_GP, TSS_A);
        rq.source = TS_SRC_IRET;
        rq.selector = TSS_B; /* available: IRET wants busy */
        expect_old_fault(VEC_TS, TSS_B);
        rq.selector = TSS_B | 4;
        expect_old_fault(VEC_TS, TSS_B | 4);
        rq.selector = CODE0 | 3; /* the error code has the selector's RPL cleared */
        expect_old_fault(VEC_TS, CODE0);
}
END_TEST

START_TEST(descriptor_faults_in_old_task)
{
        desc(TSS_B, 0x3000, 0x67, 0x09, 0); /* not present */
        expect_old_fault(VEC_NP, TSS_B);
        desc(TSS_B, 0x3000, 0x66, 0x89, 0); /* limit below 0x67 */
        expect_old_fault(VEC_TS, TSS_B);
        desc(TSS_C, 0x4000, 0x2a, 0x81, 0); /* 16-bit TSS below 0x2b */
        rq.selector = TSS_C;
        expect_old_fault(VEC_TS, TSS_C);
        /* Granularity: limit 0 with G = 1 is 0xfff. */
        desc(TSS_B, 0x3000, 0, 0x89, 0x8);
        rq.selector = TSS_B;
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(out.tr.limit, 0xfff);
}
END_TEST

START_TEST(old_tss_limit_faults)
{
        st.tr.limit = 0x5e;
        expect_old_fault(VEC_TS, TSS_A);
}
END_TEST

START_TEST(ext_bit_for_external_events)
{
        desc(TSS_B, 0x3000, 0x67, 0x09, 0);
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = 0x40,
                                  .type = TS_EV_EXTERNAL };
        expect_old_fault(VEC_NP, TSS_B | 1);
        rq.type = TS_EV_SW_INTERRUPT;
        expect_old_fault(VEC_NP, TSS_B);
        /* A benign exception (#DB) and #NP: delivered one after the other. */
        rq.type = TS_EV_HW_EXCEPTION;
        rq.vector = 1;
        expect_old_fault(VEC_NP, TSS_B | 1);
}
END_TEST

START_TEST(faults_while_delivering_exceptions)
{
        desc(TSS_B, 0x3000, 0x67, 0x09, 0);
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = VEC_GP,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true };
        expect_old_fault(VEC_DF, 0); /* contributory, then contributory */
        rq.vector = VEC_PF;
        expect_old_fault(VEC_DF, 0); /* page fault, then contributory */
        rq.vector = VEC_DF;
        ck_assert_int_eq(run(), TS_STOP);
        ck_assert(o.triple_fault);
        ck_assert_ptr_nonnull(o.stop);
}
END_TEST

START_TEST(page_faults_change_nothing)
{
        /* The new TSS's second page not present. */
        desc(TSS_B, 0x3fc0, 0x67, 0x89, 0);
        page[0x4000 >> 12] = PG_NP;
        expect_old_fault(VEC_PF, 0);
        ck_assert(o.fault.has_cr2);
        ck_assert_x64_eq(o.fault.cr2, 0x4000);
        /* The GDT read-only: the busy bit cannot be written. */
        reset();
        page[0x1000 >> 12] = PG_RO;
        expect_old_fault(VEC_PF, 3);
        ck_assert_x64_eq(o.fault.cr2, 0x1000 + TSS_A + 5);
        /* The old TSS read-only. */
        reset();
        page[0x2000 >> 12] = PG_RO;
        expect_old_fault(VEC_PF, 3);
        /* The new TSS read-only: CALL writes its back link. */
        reset();
        rq.source = TS_SRC_CALL;
        page[0x3000 >> 12] = PG_RO;
        expect_old_fault(VEC_PF, 3);
        /* A GDT outside RAM stops the VM. */
        reset();
        st.gdtr_base = MEM - 0x20;
        ck_assert_int_eq(run(), TS_STOP);
        ck_assert(!o.committed);
        ck_assert_mem_eq(&out, &st, sizeof(st));
}
END_TEST

START_TEST(bad_cs_faults_in_new_task)
{
        p16(0x3000 + 0x4c, DATA0); /* a data segment as CS */
        expect_new_fault(VEC_TS, DATA0);
        ck_assert_uint_eq(access_byte(TSS_B), 0x8b); /* the switch happened */
        ck_assert_uint_eq(access_byte(TSS_A), 0x89);
        ck_assert_x64_eq(out.rip, 0x200000);
        ck_assert_uint_eq(out.seg[TS_CS].sel, DATA0);
        /* Null CS. */
        reset();
        p16(0x3000 + 0x4c, 0);
        expect_new_fault(VEC_TS, 0);
        /* Not present. */
        reset();
        desc(BAD, 0, 0xfffff, 0x1b, 0xc);
        p16(0x3000 + 0x4c, BAD);
        expect_new_fault(VEC_NP, BAD);
        /* Non-conforming, DPL != RPL. */
        reset();
        p16(0x3000 + 0x4c, CODE0 | 3);
        expect_new_fault(VEC_TS, CODE0);
        /* Conforming with DPL 3 > RPL 0. */
        reset();
        desc(BAD, 0, 0xfffff, 0xff, 0xc);
        p16(0x3000 + 0x4c, BAD);
        expect_new_fault(VEC_TS, BAD);
        /* Outside the GDT. */
        reset();
        p16(0x3000 + 0x4c, 0x1f8);
        expect_new_fault(VEC_TS, 0x1f8);
}
END_TEST

START_TEST(bad_ss_faults_in_new_task)
{
        p16(0x3000 + 0x50, CODE0); /* code as SS */
        expect_new_fault(VEC_TS, CODE0);
        reset();
        desc(BAD, 0, 0xfffff, 0x13, 0xc); /* not present */
        p16(0x3000 + 0x50, BAD);
        expect_new_fault(VEC_SS, BAD);
        reset();
        p16(0x3000 + 0x50, DATA3); /* DPL 3, CPL 0 */
        expect_new_fault(VEC_TS, DATA3 & ~3);
        reset();
        desc(BAD, 0, 0xfffff, 0x91, 0xc); /* read-only data */
        p16(0x3000 + 0x50, BAD);
        expect_new_fault(VEC_TS, BAD);
        reset();
        p16(0x3000 + 0x50, 0); /* null */
        expect_new_fault(VEC_TS, 0);
}
END_TEST

START_TEST(bad_data_faults_in_new_task)
{
        desc(BAD, 0, 0xfffff, 0x13, 0xc); /* not present */
        p16(0x3000 + 0x54, BAD);          /* DS */
        expect_new_fault(VEC_NP, BAD);
        ck_assert(out.seg[TS_DS].ar & TS_AR_UNUSABLE);
        reset();
        desc(BAD, 0, 0xfffff, 0x99, 0xc); /* execute-only code */
        p16(0x3000 + 0x58, BAD);          /* FS */
        expect_new_fault(VEC_TS, BAD);
        reset();
        p16(0x3000 + 0x5c, DATA0 | 3); /* RPL 3 > DPL 0 */
        expect_new_fault(VEC_TS, DATA0);
        /* A readable conforming code segment with DPL 3 is fine; null is
         * unusable. */
        reset();
        desc(BAD, 0, 0xfffff, 0xfe, 0xc);
        p16(0x3000 + 0x48, BAD);
        p16(0x3000 + 0x5c, 0);
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert(out.seg[TS_GS].ar & TS_AR_UNUSABLE);
        ck_assert_uint_eq(out.seg[TS_ES].ar, 0xc0ff);
        ck_assert_uint_eq(access_byte(BAD), 0xff); /* accessed bit written */
}
END_TEST

START_TEST(ldt_loaded_and_checked)
{
        /* Segments from the LDT. */
        tss32(0x3000, 0x200000, 0x202, LCODE, LDATA, LDT);
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(out.ldtr.sel, LDT);
        ck_assert_x64_eq(out.ldtr.base, 0x5000);
        ck_assert_uint_eq(out.ldtr.limit, 0x1f);
        ck_assert_uint_eq(out.ldtr.ar, 0x82);
        ck_assert_uint_eq(out.seg[TS_CS].sel, LCODE);
        ck_assert_uint_eq(out.seg[TS_DS].ar, 0xc093);
        /* TI set. */
        reset();
        tss32(0x3000, 0x200000, 0x202, CODE0, DATA0, LDT | 4);
        expect_new_fault(VEC_TS, LDT | 4);
        ck_assert(out.ldtr.ar & TS_AR_UNUSABLE);
        /* Not an LDT. */
        reset();
        tss32(0x3000, 0x200000, 0x202, CODE0, DATA0, DATA0);
        expect_new_fault(VEC_TS, DATA0);
        /* Not present: #TS, not #NP. */
        reset();
        desc(LDT, 0x5000, 0x1f, 0x02, 0);
        tss32(0x3000, 0x200000, 0x202, CODE0, DATA0, LDT);
        expect_new_fault(VEC_TS, LDT);
        /* LDT selectors with no LDT. */
        reset();
        tss32(0x3000, 0x200000, 0x202, LCODE, DATA0, 0);
        expect_new_fault(VEC_TS, LCODE);
        /* Beyond the LDT's limit. */
        reset();
        tss32(0x3000, 0x200000, 0x202, CODE0, 0x24, LDT);
        expect_new_fault(VEC_TS, 0x24);
}
END_TEST

START_TEST(cr3_loaded_with_paging)
{
        st.cr0 |= TS_CR0_PG;
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = 8,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true };
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(ncr3, 1);
        ck_assert_x64_eq(loaded_cr3, CR3_B);
        ck_assert_x64_eq(out.cr3, CR3_B);
        ck_assert(o.cr3_loaded);
        /* The error code went through the new task's paging. */
        ck_assert_x64_eq(last_cr3, CR3_B);
        ck_assert_uint_eq(g32(0x8000 - 4), 0);
        /* A PDPTE with a reserved bit: #TS(0) in the new task. */
        reset();
        st.cr0 |= TS_CR0_PG;
        cr3_ok = false;
        expect_new_fault(VEC_TS, 0);
        ck_assert_x64_eq(out.cr3, CR3_B);
}
END_TEST

START_TEST(eip_and_stack_limits)
{
        desc(BAD, 0, 0xfff, 0x9b, 0x4); /* byte-granular code, limit 0xfff */
        p16(0x3000 + 0x4c, BAD);
        p32(0x3000 + 0x20, 0x1000);
        expect_new_fault(VEC_GP, 0);
        /* The error code does not fit under the stack's limit. */
        reset();
        desc(BAD, 0, 0x7ffe, 0x93, 0x4);
        p16(0x3000 + 0x50, BAD);
        p32(0x3000 + 0x38, 0x7fff); /* ESP - 4 + 3 = 0x7ffe: fits */
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = VEC_NP,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true,
                                  .error = 7 };
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(g32(0x7ffb), 7);
        reset();
        desc(BAD, 0, 0x7ffe, 0x93, 0x4);
        p16(0x3000 + 0x50, BAD);
        p32(0x3000 + 0x38, 0x8000);
        rq = (struct ts_request){ .selector = TSS_B,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = 0x11,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true,
                                  .error = 7 };
        expect_new_fault(VEC_SS, 0);
        ck_assert_x64_eq(out.gpr[TS_ESP], 0x8000);
}
END_TEST

START_TEST(virtual_8086_task)
{
        p32(0x3000 + 0x24, 0x2 | TS_RFLAGS_VM | BIT(9));
        p32(0x3000 + 0x20, 0x1234);
        for (unsigned i = 0; i < 6; i++)
                p16(0x3000 + 0x48 + 4 * i, (uint16_t)(0x1000 + 0x100 * i));
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert(out.rflags & TS_RFLAGS_VM);
        for (unsigned i = 0; i < TS_NSEG; i++) {
                ck_assert_uint_eq(out.seg[i].sel, 0x1000 + 0x100 * i);
                ck_assert_x64_eq(out.seg[i].base, (uint64_t)(0x1000 + 0x100 * i) << 4);
                ck_assert_uint_eq(out.seg[i].limit, 0xffff);
                ck_assert_uint_eq(out.seg[i].ar, 0xf3);
        }
        ck_assert_uint_eq(TS_AR_DPL(out.seg[TS_SS].ar), 3);
        /* A fault after the commit keeps the virtual-8086 segments. */
        reset();
        p32(0x3000 + 0x24, 0x2 | TS_RFLAGS_VM);
        p16(0x3000 + 0x60, LDT | 4);
        expect_new_fault(VEC_TS, LDT | 4);
        ck_assert_uint_eq(out.seg[TS_CS].ar, 0xf3);
}
END_TEST

START_TEST(sixteen_bit_tss)
{
        /* From a 32-bit task to a 16-bit one. */
        p16(0x4000 + 0x0e, 0x5678);
        p16(0x4000 + 0x10, 0x0202 | TS_RFLAGS_NT);
        for (unsigned i = 0; i < 8; i++)
                p16(0x4000 + 0x12 + 2 * i, (uint16_t)(0x100 + i));
        p16(0x4000 + 0x22, DATA0);
        p16(0x4000 + 0x24, CODE0);
        p16(0x4000 + 0x26, DATA0);
        p16(0x4000 + 0x28, DATA0);
        p16(0x4000 + 0x2a, 0);
        st.cr0 |= TS_CR0_PG;
        rq.selector = TSS_C;
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(out.tr.ar, 0x83);
        ck_assert_x64_eq(out.rip, 0x5678);
        ck_assert_x64_eq(out.rflags, 0x0202 | TS_RFLAGS_NT);
        ck_assert_x64_eq(out.gpr[TS_ECX], 0xa0000101u); /* high half kept */
        ck_assert(out.seg[TS_FS].ar & TS_AR_UNUSABLE);
        ck_assert(out.seg[TS_GS].ar & TS_AR_UNUSABLE);
        ck_assert_uint_eq(ncr3, 0); /* no CR3 in a 16-bit TSS */
        ck_assert_uint_eq(access_byte(TSS_C), 0x83);

        /* From the 16-bit task to a 32-bit one by a gate with an error code:
         * the old state saved in 16-bit form, the error code pushed as the
         * new TSS's size says (32 bits). */
        st = out;
        st.rip = 0x9999;
        rq = (struct ts_request){ .selector = TSS_D,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = VEC_GP,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true,
                                  .error = 0x10 };
        tss32(0x3800, 0x300000, 0x2, CODE0, DATA0, 0);
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(g16(0x4000 + 0x0e), 0x9999);
        ck_assert_uint_eq(g16(0x4000 + 0x12 + 2), 0x101);
        ck_assert_uint_eq(g16(0x4000 + 0x24), CODE0);
        ck_assert_uint_eq(g16(0x3800), TSS_C);
        ck_assert_uint_eq(g32(0x8000 - 4), 0x10);

        /* A gate to a 16-bit TSS pushes 2 bytes. */
        reset();
        memcpy(mem + 0x4000, mem + 0x3000, 0x2c);
        p16(0x4000 + 0x0e, 0x10);
        p16(0x4000 + 0x10, 2);
        p16(0x4000 + 0x12 + 2 * 4, 0x600); /* SP */
        p16(0x4000 + 0x22, DATA0);
        p16(0x4000 + 0x24, CODE0);
        p16(0x4000 + 0x26, DATA0);
        p16(0x4000 + 0x28, DATA0);
        p16(0x4000 + 0x2a, 0);
        rq = (struct ts_request){ .selector = TSS_C,
                                  .source = TS_SRC_GATE,
                                  .event_valid = true,
                                  .vector = VEC_GP,
                                  .type = TS_EV_HW_EXCEPTION,
                                  .has_error = true,
                                  .error = 0xbeef };
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_x64_eq(out.gpr[TS_ESP], 0x5fe); /* the high half of the old ESP: 0 */
        ck_assert_uint_eq(g16(0x5fe), 0xbeef);
}
END_TEST

START_TEST(trap_bit_and_dr7)
{
        p16(0x3000 + 0x64, 1);
        st.dr7 = 0xffff0155;
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert(o.debug_trap);
        ck_assert_x64_eq(out.dr7, 0xffff0000);
}
END_TEST

START_TEST(unsupported_modes_stop)
{
        st.efer = TS_EFER_LMA;
        ck_assert_int_eq(run(), TS_STOP);
        ck_assert_ptr_nonnull(o.stop);
        ck_assert_mem_eq(&out, &st, sizeof(st));
        reset();
        st.cr0 = 0;
        ck_assert_int_eq(run(), TS_STOP);
        reset();
        rq = (struct ts_request){ .selector = TSS_B, .source = TS_SRC_GATE };
        ck_assert_int_eq(run(), TS_STOP);
        reset();
        st.tr.ar = 0x89; /* TR not busy: impossible on a CPU */
        ck_assert_int_eq(run(), TS_STOP);
}
END_TEST

START_TEST(accessed_bits_written)
{
        desc(CODE0, 0, 0xfffff, 0x9a, 0xc);
        desc(DATA0, 0, 0xfffff, 0x92, 0xc);
        ck_assert_int_eq(run(), TS_DONE);
        ck_assert_uint_eq(access_byte(CODE0), 0x9b);
        ck_assert_uint_eq(access_byte(DATA0), 0x93);
        ck_assert_uint_eq(out.seg[TS_CS].ar, 0xc09b);
}
END_TEST

START_TEST(overlapping_tss_sees_saved_state)
{
        /* B starts 8 bytes into A: B's EIP (0x2028) is where A's EAX is
         * saved, B's CS (0x2054) where A's DS is: a data segment. */
        desc(TSS_B, 0x2008, 0x67, 0x89, 0);
        expect_new_fault(VEC_TS, DATA0);
        ck_assert_x64_eq(out.rip, 0xa0000000u);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("task_switch");
        TCase *tc = tcase_create("task_switch");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, jmp_switches_and_saves);
        tcase_add_test(tc, call_then_iret_back);
        tcase_add_test(tc, gate_exception_pushes_error_code);
        tcase_add_test(tc, gate_int_n_resumes_after);
        tcase_add_test(tc, gate_external_and_nmi_resume_at_rip);
        tcase_add_test(tc, selector_faults_in_old_task);
        tcase_add_test(tc, descriptor_faults_in_old_task);
        tcase_add_test(tc, old_tss_limit_faults);
        tcase_add_test(tc, ext_bit_for_external_events);
        tcase_add_test(tc, faults_while_delivering_exceptions);
        tcase_add_test(tc, page_faults_change_nothing);
        tcase_add_test(tc, bad_cs_faults_in_new_task);
        tcase_add_test(tc, bad_ss_faults_in_new_task);
        tcase_add_test(tc, bad_data_faults_in_new_task);
        tcase_add_test(tc, ldt_loaded_and_checked);
        tcase_add_test(tc, cr3_loaded_with_paging);
        tcase_add_test(tc, eip_and_stack_limits);
        tcase_add_test(tc, virtual_8086_task);
        tcase_add_test(tc, sixteen_bit_tss);
        tcase_add_test(tc, trap_bit_and_dr7);
        tcase_add_test(tc, unsupported_modes_stop);
        tcase_add_test(tc, accessed_bits_written);
        tcase_add_test(tc, overlapping_tss_sees_saved_state);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
