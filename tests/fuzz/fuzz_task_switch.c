/* libFuzzer target for emulate/task_switch.c: task switches of every
 * source over random GDT, LDT and TSS bytes.
 *
 * Input (fields little-endian; a short input reads as zeros):
 *
 *   u8   bits 1:0 source (CALL, IRET, JMP, gate); 4:2 the event's type; 5
 *        it has an error code; 6 CR0.PG; 7 the old task runs in
 *        virtual-8086 mode
 *   u16  the new TSS selector
 *   u8   instruction length (low 4 bits)
 *   u8   the event's vector
 *   u32  its error code
 *   u16  TR selector; u16 TR base (mod 16 KiB); u8 TR limit - 0x20; u8 bit 0:
 *        TR is a 16-bit TSS, bit 1: load_cr3 fails
 *   u16  GDTR base (mod 16 KiB); u16 GDTR limit
 *   u8   the four 4 KiB pages' attributes, 2 bits each (not present,
 *        read-only)
 *   then the 16 KiB of guest-linear memory (the rest zeros); linear
 *   addresses from 16 KiB up are not RAM (TS_MEM_STOP).
 *
 * Checked: callbacks get 1..0x68 bytes and the CR3 the switch runs on;
 * a result is DONE, FAULT or STOP; a fault in the old task (or a stop
 * before the commit) leaves the state and every byte of memory as they
 * were; a committed switch leaves a state VM entry accepts
 * (tests/fuzz/task_switch_check.h), TR the new selector and busy, CR0.TS
 * set, DR7's local enables clear, EIP within CS's limit when done; faults
 * are #TS, #NP, #SS, #GP, #PF or #DF, each with an error code. */
#include "tests/fuzz/fuzz.h"

#include "emulate/task_switch.h"
#include "tests/fuzz/task_switch_check.h"

#define MEM 0x4000u

static uint8_t mem[MEM], snap[MEM];
static uint8_t attr[MEM >> 12];
static uint64_t expect_cr3;
static bool cr3_fails, committed_cr3;

static FUZZ_HARNESS enum ts_mem access(uint64_t cr3, uint32_t la, unsigned len, bool write,
                                       struct ts_fault *pf)
{
        CHECK(len >= 1 && len <= 0x68);
        CHECK(cr3 == expect_cr3);
        for (unsigned i = 0; i < len; i++) {
                uint32_t a = la + i;
                if (a >= MEM)
                        return TS_MEM_STOP;
                if ((attr[a >> 12] & 1) || (write && (attr[a >> 12] & 2))) {
                        pf->error = ((attr[a >> 12] & 1) ? 0 : 1) | (write ? 2 : 0);
                        pf->cr2 = a;
                        return TS_MEM_FAULT;
                }
        }
        return TS_MEM_OK;
}

static FUZZ_HARNESS enum ts_mem rd(void *ctx, uint64_t cr3, uint32_t la, void *buf, unsigned len,
                                   struct ts_fault *pf)
{
        CHECK(ctx == mem);
        enum ts_mem m = access(cr3, la, len, false, pf);
        if (m == TS_MEM_OK)
                memcpy(buf, mem + la, len);
        return m;
}

static FUZZ_HARNESS enum ts_mem wr(void *ctx, uint64_t cr3, uint32_t la, const void *buf,
                                   unsigned len, struct ts_fault *pf)
{
        CHECK(ctx == mem);
        enum ts_mem m = access(cr3, la, len, true, pf);
        if (m == TS_MEM_OK)
                memcpy(mem + la, buf, len);
        return m;
}

static FUZZ_HARNESS bool load_cr3(void *ctx, uint64_t cr3)
{
        CHECK(ctx == mem);
        CHECK(!committed_cr3);
        committed_cr3 = true;
        expect_cr3 = cr3;
        return !cr3_fails;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t ctl = in_u8(&in);
        struct ts_request rq = {
                .source = (enum ts_source)(ctl & 3),
                .type = (enum ts_event_type)((ctl >> 2) & 7),
                .has_error = (ctl >> 5) & 1,
                .event_valid = true,
        };
        rq.selector = in_u16(&in);
        rq.insn_len = in_u8(&in) & 15;
        rq.vector = in_u8(&in);
        rq.error = in_u32(&in);

        struct ts_state st = { 0 };
        for (unsigned i = 0; i < TS_NGPR; i++)
                st.gpr[i] = 0x1000 * (i + 1);
        st.rip = 0x2000;
        st.rflags = 0x202;
        st.cr0 = TS_CR0_PE | ((ctl & 0x40) ? TS_CR0_PG : 0);
        st.cr3 = 0x12345000;
        st.dr7 = 0xffff07ff;
        if (ctl & 0x80) {
                st.rflags |= TS_RFLAGS_VM;
                for (unsigned i = 0; i < TS_NSEG; i++)
                        st.seg[i] = (struct ts_seg){ (uint16_t)(0x100 * i), 0x1000u * i, 0xffff,
                                                     TS_AR_V86 };
        } else {
                for (unsigned i = 0; i < TS_NSEG; i++)
                        st.seg[i] = (struct ts_seg){ 0x10, 0, 0xffffffffu, 0xc093 };
                st.seg[TS_CS] = (struct ts_seg){ 0x08, 0, 0xffffffffu, 0xc09b };
        }
        st.ldtr = (struct ts_seg){ 0, 0, 0, TS_AR_UNUSABLE };
        st.tr.sel = in_u16(&in) & 0xfff8;
        st.tr.base = in_u16(&in) % MEM;
        st.tr.limit = 0x20u + in_u8(&in);
        uint8_t trk = in_u8(&in);
        st.tr.ar = (trk & 1) ? 0x83 : 0x8b;
        cr3_fails = trk & 2;
        st.gdtr_base = in_u16(&in) % MEM;
        st.gdtr_limit = in_u16(&in);
        uint8_t pages = in_u8(&in);
        for (unsigned i = 0; i < ARRAY_SIZE(attr); i++)
                attr[i] = (pages >> (2 * i)) & 3;
        size_t got;
        const uint8_t *bytes = in_bytes(&in, MEM, &got);
        memset(mem, 0, MEM);
        memcpy(mem, bytes, got);
        memcpy(snap, mem, MEM);
        expect_cr3 = st.cr3;
        committed_cr3 = false;

        struct ts_state out;
        struct ts_outcome o;
        static const struct ts_ops ops = { rd, wr, load_cr3, mem };
        enum ts_result r = task_switch(&rq, &st, &ops, &out, &o);
        CHECK(r == o.result);
        CHECK(r == TS_DONE || r == TS_FAULT || r == TS_STOP);
        CHECK(!committed_cr3 || o.committed);
        CHECK(o.cr3_loaded == committed_cr3);
        if (r == TS_STOP)
                CHECK(o.stop != NULL);
        if (!o.committed) {
                CHECK(r != TS_DONE);
                CHECK(memcmp(&out, &st, sizeof(st)) == 0);
                CHECK(memcmp(mem, snap, MEM) == 0);
        } else if (r != TS_STOP) {
                const char *why = ts_check_state(&out);
                if (why) {
                        fprintf(stderr, "state VM entry refuses: %s\n", why);
                        CHECK(why == NULL);
                }
                CHECK(out.tr.sel == rq.selector);
                CHECK(TS_AR_TYPE(out.tr.ar) == 3 || TS_AR_TYPE(out.tr.ar) == 11);
                CHECK(out.cr0 & TS_CR0_TS);
                CHECK(!(out.dr7 & TS_DR7_LOCAL));
                CHECK(out.tr.limit >= TS_TSS16_MIN);
                if (rq.source == TS_SRC_CALL || rq.source == TS_SRC_GATE)
                        CHECK(out.rflags & TS_RFLAGS_NT);
                if (!(out.rflags & TS_RFLAGS_VM))
                        CHECK((out.seg[TS_CS].ar & TS_AR_UNUSABLE) == 0);
        }
        if (r == TS_DONE) {
                CHECK(out.rip <= out.seg[TS_CS].limit);
                CHECK(!o.debug_trap || TS_AR_TYPE(out.tr.ar) == 11);
        }
        if (r == TS_FAULT) {
                unsigned v = o.fault.vector;
                CHECK(v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14);
                CHECK(o.fault.has_error);
                CHECK(o.fault.has_cr2 == (v == 14));
                if (v == 14)
                        CHECK(o.fault.cr2 < MEM);
        }
        return 0;
}
