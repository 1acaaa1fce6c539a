/* Hardware task switches for a guest (task_switch.h).  The steps follow
 * SDM Vol. 3A 7.3 "Task Switching"; the checks and their exceptions Table
 * 7-1 "Exception Conditions Checked During a Task Switch". */
#include "emulate/task_switch.h"
#include "lib/bytes.h"

/* Descriptor bits (SDM 3.4.5), in the high dword. */
#define D_S   BIT(12)
#define D_P   BIT(15)
#define D_G   BIT(23)
#define D_BSY BIT(9)

/* Segment types (SDM Table 3-1, 3-2). */
#define T_ACCESSED BIT(0)
#define T_WRITABLE BIT(1) /* data */
#define T_READABLE BIT(1) /* code */
#define T_EXPDOWN  BIT(2) /* data */
#define T_CONFORM  BIT(2) /* code */
#define T_CODE     BIT(3)
#define T_BUSY     BIT(1) /* TSS */
#define T_TSS32    BIT(3) /* TSS */
#define T_LDT      2

/* EFLAGS bits a TSS can load: all but the reserved 1, 3, 5, 15, 22-31 (1
 * reads as one). */
#define EFLAGS_LOADABLE 0x3f7fd5u
#define EFLAGS_FIXED    0x2u

/* The parts of the TSSs this module touches (SDM Figures 7-2 and 7-9). */
#define TSS32_CR3    0x1c
#define TSS32_EIP    0x20
#define TSS32_EFLAGS 0x24
#define TSS32_GPR    0x28
#define TSS32_SEG    0x48 /* ES, CS, SS, DS, FS, GS: a dword each */
#define TSS32_LDT    0x60
#define TSS32_TRAP   0x64
#define TSS32_DYN_LO 0x20 /* what a switch saves: EIP to GS */
#define TSS32_DYN_HI 0x60
#define TSS16_IP     0x0e
#define TSS16_FLAGS  0x10
#define TSS16_GPR    0x12
#define TSS16_SEG    0x22 /* ES, CS, SS, DS */
#define TSS16_LDT    0x2a
#define TSS16_DYN_LO 0x0e
#define TSS16_DYN_HI 0x2a
#define TSS_MAX      0x68

struct ts {
        const struct ts_request *rq;
        const struct ts_ops *ops;
        struct ts_state *s;
        struct ts_outcome *o;
        uint32_t ext;         /* EXT bit of selector error codes */
        uint64_t cr3;         /* translates the accesses */
        bool loaded[TS_NSEG]; /* segment register checked and loaded */
};

static enum ts_result fault(struct ts *t, unsigned vector, uint32_t error)
{
        t->o->result = TS_FAULT;
        t->o->fault = (struct ts_fault){ (uint8_t)vector, true, error, false, 0 };
        return TS_FAULT;
}

static enum ts_result sel_fault(struct ts *t, unsigned vector, uint16_t sel)
{
        return fault(t, vector, (sel & 0xfffcu) | t->ext);
}

static enum ts_result stop(struct ts *t, const char *why)
{
        t->o->result = TS_STOP;
        t->o->stop = why;
        return TS_STOP;
}

static enum ts_result mem_failed(struct ts *t, enum ts_mem m, const struct ts_fault *pf)
{
        if (m == TS_MEM_FAULT) {
                t->o->result = TS_FAULT;
                t->o->fault = *pf;
                return TS_FAULT;
        }
        return stop(t, "a task switch reached guest memory that is not RAM");
}

static enum ts_result rd(struct ts *t, uint64_t la, void *buf, unsigned len)
{
        struct ts_fault pf = { VEC_PF, true, 0, true, 0 };
        enum ts_mem m = t->ops->read(t->ops->ctx, t->cr3, (uint32_t)la, buf, len, &pf);
        return m == TS_MEM_OK ? TS_DONE : mem_failed(t, m, &pf);
}

static enum ts_result wr(struct ts *t, uint64_t la, const void *buf, unsigned len)
{
        struct ts_fault pf = { VEC_PF, true, 0, true, 0 };
        enum ts_mem m = t->ops->write(t->ops->ctx, t->cr3, (uint32_t)la, buf, len, &pf);
        return m == TS_MEM_OK ? TS_DONE : mem_failed(t, m, &pf);
}

#define TRY(x)                                                                                     \
        do {                                                                                       \
                enum ts_result r_ = (x);                                                           \
                if (r_ != TS_DONE)                                                                 \
                        return r_;                                                                 \
        } while (0)

/* A descriptor's parts, as the VMCS holds them. */
static struct ts_seg desc_seg(uint16_t sel, uint64_t d)
{
        uint32_t lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
        uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
        if (hi & D_G)
                limit = (limit << 12) | 0xfff;
        return (struct ts_seg){
                .sel = sel,
                .base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u),
                .limit = limit,
                /* type, S, DPL, P, AVL, D/B, G; L means nothing outside
                 * IA-32e mode and is left clear. */
                .ar = (hi >> 8) & 0xd0ff,
        };
}

/* Where sel's descriptor lies, or false when sel is outside its table (an
 * LDT selector with no LDT loaded included). */
static bool desc_addr(const struct ts *t, uint16_t sel, uint64_t *la)
{
        uint64_t base = t->s->gdtr_base, limit = t->s->gdtr_limit;
        if (sel & 4) {
                if (t->s->ldtr.ar & TS_AR_UNUSABLE)
                        return false;
                base = t->s->ldtr.base;
                limit = t->s->ldtr.limit;
        }
        if ((uint64_t)(sel | 7) > limit)
                return false;
        *la = (base + (sel & ~7u)) & 0xffffffffu;
        return true;
}

static enum ts_result read_desc(struct ts *t, uint64_t la, uint64_t *d)
{
        uint8_t b[8];
        TRY(rd(t, la, b, 8));
        *d = get64(b);
        return TS_DONE;
}

/* Sets the accessed bit of a code or data descriptor the switch loads, in
 * memory as the CPU does, and in the loaded access rights (VM entry wants
 * it set). */
static enum ts_result touch(struct ts *t, uint64_t la, uint64_t d, struct ts_seg *seg)
{
        if (!((d >> 40) & T_ACCESSED)) {
                uint8_t b = (uint8_t)(d >> 40) | T_ACCESSED;
                TRY(wr(t, la + 5, &b, 1));
        }
        seg->ar |= T_ACCESSED;
        return TS_DONE;
}

/* SS of a protected-mode task, with CPL the new CS selector's RPL. */
static enum ts_result load_ss(struct ts *t, uint16_t sel, unsigned cpl)
{
        uint64_t la, d;
        if (!(sel & 0xfffc) || !desc_addr(t, sel, &la))
                return sel_fault(t, VEC_TS, sel);
        TRY(read_desc(t, la, &d));
        struct ts_seg seg = desc_seg(sel, d);
        unsigned type = TS_AR_TYPE(seg.ar);
        if (!(seg.ar & TS_AR_S) || (type & T_CODE) || !(type & T_WRITABLE))
                return sel_fault(t, VEC_TS, sel);
        if (!(seg.ar & TS_AR_P))
                return sel_fault(t, VEC_SS, sel);
        if (TS_AR_DPL(seg.ar) != cpl || (sel & 3) != cpl)
                return sel_fault(t, VEC_TS, sel);
        TRY(touch(t, la, d, &seg));
        t->s->seg[TS_SS] = seg;
        t->loaded[TS_SS] = true;
        return TS_DONE;
}

/* CS's descriptor and type checks (#TS); its presence is checked after
 * SS's, as in SDM Table 7-1. */
static enum ts_result check_cs(struct ts *t, uint16_t sel, uint64_t *la, uint64_t *d)
{
        if (!(sel & 0xfffc) || !desc_addr(t, sel, la))
                return sel_fault(t, VEC_TS, sel);
        TRY(read_desc(t, *la, d));
        struct ts_seg seg = desc_seg(sel, *d);
        unsigned type = TS_AR_TYPE(seg.ar), dpl = TS_AR_DPL(seg.ar), rpl = sel & 3;
        if (!(seg.ar & TS_AR_S) || !(type & T_CODE))
                return sel_fault(t, VEC_TS, sel);
        if ((type & T_CONFORM) ? dpl > rpl : dpl != rpl)
                return sel_fault(t, VEC_TS, sel);
        return TS_DONE;
}

static enum ts_result load_cs(struct ts *t, uint16_t sel, uint64_t la, uint64_t d)
{
        struct ts_seg seg = desc_seg(sel, d);
        if (!(seg.ar & TS_AR_P))
                return sel_fault(t, VEC_NP, sel);
        TRY(touch(t, la, d, &seg));
        t->s->seg[TS_CS] = seg;
        t->loaded[TS_CS] = true;
        return TS_DONE;
}

/* DS, ES, FS or GS: a null selector leaves the register unusable. */
static enum ts_result load_data(struct ts *t, enum ts_sreg r, uint16_t sel, unsigned cpl)
{
        uint64_t la, d;
        if (!(sel & 0xfffc)) {
                t->s->seg[r] = (struct ts_seg){ sel, 0, 0, TS_AR_UNUSABLE };
                t->loaded[r] = true;
                return TS_DONE;
        }
        if (!desc_addr(t, sel, &la))
                return sel_fault(t, VEC_TS, sel);
        TRY(read_desc(t, la, &d));
        struct ts_seg seg = desc_seg(sel, d);
        unsigned type = TS_AR_TYPE(seg.ar), dpl = TS_AR_DPL(seg.ar);
        if (!(seg.ar & TS_AR_S) || ((type & T_CODE) && !(type & T_READABLE)))
                return sel_fault(t, VEC_TS, sel);
        bool conforming = (type & T_CODE) && (type & T_CONFORM);
        if (!conforming && ((sel & 3u) > dpl || cpl > dpl))
                return sel_fault(t, VEC_TS, sel);
        if (!(seg.ar & TS_AR_P))
                return sel_fault(t, VEC_NP, sel);
        TRY(touch(t, la, d, &seg));
        t->s->seg[r] = seg;
        t->loaded[r] = true;
        return TS_DONE;
}

static enum ts_result load_ldt(struct ts *t, uint16_t sel)
{
        uint64_t la, d;
        if (!(sel & 0xfffc)) {
                t->s->ldtr = (struct ts_seg){ sel, 0, 0, TS_AR_UNUSABLE };
                return TS_DONE;
        }
        /* The LDT's descriptor must be in the GDT. */
        if ((sel & 4) || !desc_addr(t, sel, &la))
                return sel_fault(t, VEC_TS, sel);
        TRY(read_desc(t, la, &d));
        struct ts_seg seg = desc_seg(sel, d);
        if ((seg.ar & TS_AR_S) || TS_AR_TYPE(seg.ar) != T_LDT || !(seg.ar & TS_AR_P))
                return sel_fault(t, VEC_TS, sel);
        t->s->ldtr = seg;
        return TS_DONE;
}

/* The new task's segment registers, after LDTR (SDM 7.3 step 13). */
static enum ts_result load_segments(struct ts *t, const uint16_t sel[TS_NSEG])
{
        struct ts_state *s = t->s;
        if (s->rflags & TS_RFLAGS_VM) {
                /* Virtual-8086 mode: no descriptors (SDM 20.2.1). */
                for (unsigned i = 0; i < TS_NSEG; i++) {
                        s->seg[i] =
                            (struct ts_seg){ sel[i], (uint64_t)sel[i] << 4, 0xffff, TS_AR_V86 };
                        t->loaded[i] = true;
                }
                return TS_DONE;
        }
        unsigned cpl = sel[TS_CS] & 3;
        uint64_t cs_la = 0, cs_d = 0;
        TRY(check_cs(t, sel[TS_CS], &cs_la, &cs_d));
        TRY(load_ss(t, sel[TS_SS], cpl));
        TRY(load_cs(t, sel[TS_CS], cs_la, cs_d));
        static const enum ts_sreg data[] = { TS_DS, TS_ES, TS_FS, TS_GS };
        for (unsigned i = 0; i < ARRAY_SIZE(data); i++)
                TRY(load_data(t, data[i], sel[data[i]], cpl));
        return TS_DONE;
}

/* A fault raised in the new task before CS and SS were loaded: the CPU
 * would deliver it with whatever those caches held.  They get flat
 * descriptors that VM entry accepts, with the privilege the new CS
 * selector names (its RPL, which a loaded SS's DPL equals); data segments
 * not loaded are unusable. */
static void settle_after_fault(struct ts *t)
{
        struct ts_state *s = t->s;
        if (s->rflags & TS_RFLAGS_VM) {
                for (unsigned i = 0; i < TS_NSEG; i++)
                        s->seg[i] = (struct ts_seg){ s->seg[i].sel, (uint64_t)s->seg[i].sel << 4,
                                                     0xffff, TS_AR_V86 };
                return;
        }
        uint32_t dpl = (uint32_t)(s->seg[TS_CS].sel & 3) << 5;
        if (!t->loaded[TS_SS]) {
                s->seg[TS_SS].base = 0;
                s->seg[TS_SS].limit = 0xffffffffu;
                s->seg[TS_SS].ar = TS_AR_G | TS_AR_DB | TS_AR_P | dpl | TS_AR_S | 0x3;
        }
        if (!t->loaded[TS_CS]) {
                s->seg[TS_CS].base = 0;
                s->seg[TS_CS].limit = 0xffffffffu;
                s->seg[TS_CS].ar = TS_AR_G | TS_AR_DB | TS_AR_P | dpl | TS_AR_S | 0xb;
        }
        for (unsigned i = 0; i < TS_NSEG; i++) {
                if (i != TS_CS && i != TS_SS && !t->loaded[i])
                        s->seg[i].ar = TS_AR_UNUSABLE;
        }
}

/* Whether the old task resumes after the instruction that switched: CALL,
 * JMP, IRET, INT n, INT3, INTO, INT1 (their exits give its length); not
 * after a fault (restarted), an external interrupt or an NMI. */
static bool insn_completed(const struct ts_request *rq)
{
        return rq->source != TS_SRC_GATE || rq->type == TS_EV_SW_INTERRUPT ||
               rq->type == TS_EV_PRIV_SW_EXCEPTION || rq->type == TS_EV_SW_EXCEPTION;
}

/* Faults (SDM Table 6-1) set RF in the EFLAGS image they save, so that the
 * restarted instruction does not hit its own instruction breakpoint. */
static bool is_fault(unsigned vector)
{
        static const uint32_t faults = BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(10) | BIT(11) |
                                       BIT(12) | BIT(13) | BIT(14) | BIT(16) | BIT(17) | BIT(19) |
                                       BIT(20) | BIT(21);
        return vector < 32 && (faults & BIT(vector));
}

static enum ts_result do_switch(struct ts *t, const struct ts_state *in)
{
        const struct ts_request *rq = t->rq;
        struct ts_state *s = t->s;
        uint16_t sel = rq->selector;
        bool iret = rq->source == TS_SRC_IRET, jmp = rq->source == TS_SRC_JMP;
        bool nest = rq->source == TS_SRC_CALL || rq->source == TS_SRC_GATE;

        /* ---- Checks that fault in the old task (Table 7-1) ---- */
        unsigned bad_sel = iret ? VEC_TS : VEC_GP;
        if ((sel & 4) || (uint64_t)(sel | 7) > in->gdtr_limit)
                return sel_fault(t, bad_sel, sel);
        uint64_t nd_la = (in->gdtr_base + (sel & ~7u)) & 0xffffffffu, nd;
        TRY(read_desc(t, nd_la, &nd));
        uint32_t nhi = (uint32_t)(nd >> 32);
        unsigned ntype = (nhi >> 8) & 0xf;
        if ((nhi & D_S) || (ntype & 5) != 1) /* types 1, 3, 9, 11 */
                return sel_fault(t, bad_sel, sel);
        if (!(nhi & D_P))
                return sel_fault(t, VEC_NP, sel);
        if (iret != !!(ntype & T_BUSY))
                return sel_fault(t, bad_sel, sel);
        struct ts_seg ntss = desc_seg(sel, nd);
        bool big = ntype & T_TSS32;
        if (ntss.limit < (big ? TS_TSS32_MIN : TS_TSS16_MIN))
                return sel_fault(t, VEC_TS, sel);
        uint64_t nbase = ntss.base;

        unsigned otype = TS_AR_TYPE(in->tr.ar);
        if ((in->tr.ar & (TS_AR_UNUSABLE | TS_AR_S)) || (otype != 3 && otype != 11))
                return stop(t, "task switch while TR does not hold a busy TSS");
        bool obig = otype & T_TSS32;
        unsigned lo = obig ? TSS32_DYN_LO : TSS16_DYN_LO, hi = obig ? TSS32_DYN_HI : TSS16_DYN_HI;
        if (in->tr.limit < hi - 1)
                return sel_fault(t, VEC_TS, in->tr.sel);

        /* Everything the switch reads, and every place it writes, before
         * it changes anything: the new TSS, the old TSS's dynamic fields,
         * the descriptors whose busy bits change (their bytes rewritten
         * with what they hold: a write fault shows now, harmlessly). */
        uint8_t img[TSS_MAX], save[TSS32_DYN_HI - TSS32_DYN_LO];
        unsigned nlen = big ? TS_TSS32_MIN + 1 : TS_TSS16_MIN + 1, slen = hi - lo;
        TRY(rd(t, nbase, img, nlen));
        TRY(rd(t, in->tr.base + lo, save, slen));
        uint64_t od_la = (in->gdtr_base + (in->tr.sel & ~7u) + 5) & 0xffffffffu;
        uint8_t ob5 = 0, nb5 = (uint8_t)(nhi >> 8);
        if (jmp || iret) {
                TRY(rd(t, od_la, &ob5, 1));
                TRY(wr(t, od_la, &ob5, 1));
        }
        if (!iret)
                TRY(wr(t, nd_la + 5, &nb5, 1));
        if (nest)
                TRY(wr(t, nbase, img, 2));

        /* ---- Save the old task (one write: nothing, or all of it) ---- */
        uint32_t eflags = (uint32_t)in->rflags;
        if (iret)
                eflags &= ~(uint32_t)TS_RFLAGS_NT;
        if (rq->source == TS_SRC_GATE && rq->type == TS_EV_HW_EXCEPTION && is_fault(rq->vector))
                eflags |= TS_RFLAGS_RF;
        else if (insn_completed(rq))
                eflags &= ~(uint32_t)TS_RFLAGS_RF; /* the instruction completed */
        uint32_t eip = (uint32_t)(in->rip + (insn_completed(rq) ? rq->insn_len : 0));
        if (obig) {
                put32(save + (TSS32_EIP - lo), eip);
                put32(save + (TSS32_EFLAGS - lo), eflags);
                for (unsigned i = 0; i < TS_NGPR; i++)
                        put32(save + (TSS32_GPR - lo + 4 * i), (uint32_t)in->gpr[i]);
                for (unsigned i = 0; i < TS_NSEG; i++)
                        put16(save + (TSS32_SEG - lo + 4 * i), in->seg[i].sel);
        } else {
                put16(save + (TSS16_IP - lo), (uint16_t)eip);
                put16(save + (TSS16_FLAGS - lo), (uint16_t)eflags);
                for (unsigned i = 0; i < TS_NGPR; i++)
                        put16(save + (TSS16_GPR - lo + 2 * i), (uint16_t)in->gpr[i]);
                for (unsigned i = 0; i <= TS_DS; i++)
                        put16(save + (TSS16_SEG - lo + 2 * i), in->seg[i].sel);
        }
        TRY(wr(t, in->tr.base + lo, save, slen));
        /* TSSs that overlap: the new task reads what was just saved. */
        for (unsigned i = 0; i < slen; i++) {
                uint32_t off = (uint32_t)(in->tr.base + lo + i - nbase);
                if (off < nlen)
                        img[off] = save[i];
        }

        /* ---- Busy bits and the back link ---- */
        if (jmp || iret) {
                uint8_t b = ob5 & (uint8_t)~T_BUSY;
                TRY(wr(t, od_la, &b, 1));
        }
        if (nest) {
                put16(img, in->tr.sel);
                TRY(wr(t, nbase, img, 2));
        }
        if (!iret) {
                uint8_t b = nb5 | T_BUSY;
                TRY(wr(t, nd_la + 5, &b, 1));
        }

        /* ---- Commit: TR, CR0.TS, DR7, then the new task's state ---- */
        t->o->committed = true;
        s->tr = ntss;
        s->tr.ar |= T_BUSY;
        s->cr0 |= TS_CR0_TS;
        s->dr7 &= ~(uint64_t)TS_DR7_LOCAL;

        uint16_t seg[TS_NSEG] = { 0 }, ldt;
        uint32_t neflags, ncr3 = 0;
        bool trap = false;
        if (big) {
                ncr3 = get32(img + TSS32_CR3);
                s->rip = get32(img + TSS32_EIP);
                neflags = get32(img + TSS32_EFLAGS) & EFLAGS_LOADABLE;
                for (unsigned i = 0; i < TS_NGPR; i++)
                        s->gpr[i] = get32(img + TSS32_GPR + 4 * i);
                for (unsigned i = 0; i < TS_NSEG; i++)
                        seg[i] = get16(img + TSS32_SEG + 4 * i);
                ldt = get16(img + TSS32_LDT);
                trap = get16(img + TSS32_TRAP) & 1;
        } else {
                /* A 16-bit TSS holds the low halves: the high halves of the
                 * general registers are kept; FS and GS become null. */
                s->rip = get16(img + TSS16_IP);
                neflags = get16(img + TSS16_FLAGS) & EFLAGS_LOADABLE & 0xffff;
                for (unsigned i = 0; i < TS_NGPR; i++)
                        s->gpr[i] = (in->gpr[i] & 0xffff0000u) | get16(img + TSS16_GPR + 2 * i);
                for (unsigned i = 0; i <= TS_DS; i++)
                        seg[i] = get16(img + TSS16_SEG + 2 * i);
                ldt = get16(img + TSS16_LDT);
        }
        if (nest)
                neflags |= TS_RFLAGS_NT;
        s->rflags = neflags | EFLAGS_FIXED;
        /* The selectors are loaded even if their descriptors then fault. */
        for (unsigned i = 0; i < TS_NSEG; i++)
                s->seg[i].sel = seg[i];
        s->ldtr = (struct ts_seg){ ldt, 0, 0, TS_AR_UNUSABLE };

        if (big && (in->cr0 & TS_CR0_PG)) {
                s->cr3 = ncr3;
                t->cr3 = ncr3;
                t->o->cr3_loaded = true;
                if (!t->ops->load_cr3(t->ops->ctx, ncr3))
                        return fault(t, VEC_TS, 0);
        }

        /* ---- Faults from here on are the new task's (step 13) ---- */
        TRY(load_ldt(t, ldt));
        TRY(load_segments(t, seg));

        if (rq->source == TS_SRC_GATE && rq->type == TS_EV_HW_EXCEPTION && rq->has_error) {
                const struct ts_seg *ss = &s->seg[TS_SS];
                unsigned size = big ? 4 : 2;
                uint64_t mask = (ss->ar & TS_AR_DB) ? 0xffffffffu : 0xffffu;
                uint64_t sp = (s->gpr[TS_ESP] - size) & mask;
                bool in_limit = (TS_AR_TYPE(ss->ar) & T_EXPDOWN)
                                    ? sp > ss->limit && sp + size - 1 <= mask
                                    : sp + size - 1 <= ss->limit;
                if (!in_limit)
                        return fault(t, VEC_SS, 0);
                uint8_t b[4];
                put32(b, rq->error);
                TRY(wr(t, ss->base + sp, b, size));
                s->gpr[TS_ESP] = (s->gpr[TS_ESP] & ~mask) | sp;
        }
        if (s->rip > s->seg[TS_CS].limit)
                return fault(t, VEC_GP, 0);
        t->o->debug_trap = trap;
        return TS_DONE;
}

enum exc_class { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT };

static enum exc_class exc_class(unsigned vector)
{
        switch (vector) {
        case 0:
        case VEC_TS:
        case VEC_NP:
        case VEC_SS:
        case VEC_GP:
                return CONTRIBUTORY;
        case VEC_PF:
                return PAGE_FAULT;
        case VEC_DF:
                return DOUBLE_FAULT;
        default:
                return BENIGN;
        }
}

enum ts_result task_switch(const struct ts_request *rq, const struct ts_state *in,
                           const struct ts_ops *ops, struct ts_state *out, struct ts_outcome *o)
{
        struct ts t = { .rq = rq, .ops = ops, .s = out, .o = o, .cr3 = in->cr3 };
        *o = (struct ts_outcome){ .result = TS_DONE };
        *out = *in;
        if (in->efer & TS_EFER_LMA)
                return stop(&t, "task switch in IA-32e mode (the CPU raises #GP there)");
        if (!(in->cr0 & TS_CR0_PE))
                return stop(&t, "task switch in real mode");
        if (rq->source == TS_SRC_GATE) {
                if (!rq->event_valid)
                        return stop(&t, "task switch through a task gate with no event");
                /* Faults while delivering an event from outside the program
                 * set EXT in their error codes (SDM 6.13). */
                if (rq->type != TS_EV_SW_INTERRUPT && rq->type != TS_EV_SW_EXCEPTION)
                        t.ext = 1;
        }

        enum ts_result r = do_switch(&t, in);
        if (r == TS_FAULT && !o->committed) {
                *out = *in;
        } else if (r == TS_FAULT) {
                settle_after_fault(&t);
        } else if (r == TS_STOP && !o->committed) {
                *out = *in;
        }
        if (o->committed && rq->source == TS_SRC_IRET)
                o->nmi_unblocked = true;

        /* A fault while delivering an exception through the task gate
         * (SDM Table 6-5). */
        if (r == TS_FAULT && rq->source == TS_SRC_GATE && rq->type == TS_EV_HW_EXCEPTION) {
                enum exc_class first = exc_class(rq->vector), second = exc_class(o->fault.vector);
                bool serious = second == CONTRIBUTORY || second == PAGE_FAULT;
                if (first == DOUBLE_FAULT && serious) {
                        o->triple_fault = true;
                        return stop(&t, "triple fault: a fault while delivering a double fault "
                                        "through a task gate");
                }
                if ((first == CONTRIBUTORY && second == CONTRIBUTORY) ||
                    (first == PAGE_FAULT && serious))
                        o->fault = (struct ts_fault){ VEC_DF, true, 0, false, 0 };
        }
        return o->result;
}
