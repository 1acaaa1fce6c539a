/* The VM-entry checks on guest segment registers and RFLAGS (SDM Vol. 3C
 * 27.3.1.2 and 27.3.1.4, outside IA-32e mode, "unrestricted guest" = 1, as
 * vtvisor runs its guests) that a task switch's result must pass, for
 * tests/unit/test_task_switch.c and tests/fuzz/fuzz_task_switch.c. */
#ifndef VTV_TESTS_FUZZ_TASK_SWITCH_CHECK_H
#define VTV_TESTS_FUZZ_TASK_SWITCH_CHECK_H

#include "emulate/task_switch.h"

/* Limit and granularity agree (SDM 27.3.1.2). */
static inline bool ts_check_granularity(const struct ts_seg *s)
{
        if ((s->limit & 0xfff) != 0xfff && (s->ar & TS_AR_G))
                return false;
        if ((s->limit >> 20) && !(s->ar & TS_AR_G))
                return false;
        return true;
}

/* Reserved access-rights bits 11:8 and 31:17. */
static inline bool ts_check_reserved(const struct ts_seg *s)
{
        return !(s->ar & 0xfffe0f00u);
}

/* NULL when s would pass VM entry's checks, else what fails. */
static inline const char *ts_check_state(const struct ts_state *s)
{
        uint64_t rf = s->rflags;
        if ((rf >> 22) || (rf & (BIT(15) | BIT(5) | BIT(3))) || !(rf & BIT(1)))
                return "RFLAGS reserved bits";
        if (!(s->cr0 & TS_CR0_PE))
                return "CR0.PE";
        /* TR: a busy TSS. */
        unsigned trt = TS_AR_TYPE(s->tr.ar);
        if ((s->tr.sel & 4) || (trt != 3 && trt != 11) || (s->tr.ar & TS_AR_S) ||
            !(s->tr.ar & TS_AR_P) || !ts_check_reserved(&s->tr) || (s->tr.ar & TS_AR_UNUSABLE) ||
            !ts_check_granularity(&s->tr) || (s->tr.base >> 32))
                return "TR";
        if (!(s->ldtr.ar & TS_AR_UNUSABLE)) {
                if ((s->ldtr.sel & 4) || TS_AR_TYPE(s->ldtr.ar) != 2 || (s->ldtr.ar & TS_AR_S) ||
                    !(s->ldtr.ar & TS_AR_P) || !ts_check_reserved(&s->ldtr) ||
                    !ts_check_granularity(&s->ldtr) || (s->ldtr.base >> 32))
                        return "LDTR";
        }
        if (s->rflags & TS_RFLAGS_VM) {
                for (unsigned i = 0; i < TS_NSEG; i++) {
                        const struct ts_seg *g = &s->seg[i];
                        if (g->base != (uint64_t)g->sel << 4 || g->limit != 0xffff ||
                            g->ar != TS_AR_V86)
                                return "virtual-8086 segment";
                }
                return NULL;
        }
        const struct ts_seg *cs = &s->seg[TS_CS], *ss = &s->seg[TS_SS];
        unsigned cst = TS_AR_TYPE(cs->ar), ssdpl = TS_AR_DPL(ss->ar);
        if ((cs->ar & TS_AR_UNUSABLE) || !(cs->ar & TS_AR_S) || !(cs->ar & TS_AR_P) ||
            !ts_check_reserved(cs) || !ts_check_granularity(cs) || (cs->base >> 32))
                return "CS";
        if (cst == 3) {
                if (TS_AR_DPL(cs->ar) != 0)
                        return "CS type 3 with DPL != 0";
        } else if (cst == 9 || cst == 11) {
                if (TS_AR_DPL(cs->ar) != ssdpl)
                        return "CS.DPL != SS.DPL";
                /* Not an SDM check, but Bochs 2.7's VM entry makes it. */
                if (TS_AR_DPL(cs->ar) != (cs->sel & 3u))
                        return "non-conforming CS.RPL != CS.DPL";
        } else if (cst == 13 || cst == 15) {
                if (TS_AR_DPL(cs->ar) > ssdpl)
                        return "conforming CS.DPL > SS.DPL";
        } else {
                return "CS type";
        }
        if (!(ss->ar & TS_AR_UNUSABLE)) {
                unsigned sst = TS_AR_TYPE(ss->ar);
                if ((sst != 3 && sst != 7) || !(ss->ar & TS_AR_S) || !(ss->ar & TS_AR_P) ||
                    !ts_check_reserved(ss) || !ts_check_granularity(ss) || (ss->base >> 32))
                        return "SS";
                if (cst == 3 && ssdpl != 0)
                        return "SS.DPL with CS type 3";
        }
        static const enum ts_sreg data[] = { TS_DS, TS_ES, TS_FS, TS_GS };
        for (unsigned i = 0; i < 4; i++) {
                const struct ts_seg *g = &s->seg[data[i]];
                if (g->ar & TS_AR_UNUSABLE)
                        continue;
                unsigned t = TS_AR_TYPE(g->ar);
                if (!(t & 1) || ((t & 8) && !(t & 2)) || !(g->ar & TS_AR_S) || !(g->ar & TS_AR_P) ||
                    !ts_check_reserved(g) || !ts_check_granularity(g) || (g->base >> 32))
                        return "data segment";
        }
        return NULL;
}

#endif
