/* Task-switch VM exits (SDM Vol. 3C 25.4.2, 28.2.1): the VMCS state in
 * and out of emulate/task_switch.c, guest memory through the guest's own
 * page tables, and the event the switch delivered. */
#include "core/taskswitch.h"
#include "arch/x86/cpu.h"
#include "emulate/guest_walk.h"
#include "emulate/task_switch.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

#define INTR_BLOCKING_STI_MOVSS 3u
#define INTR_BLOCKING_NMI       8u

struct ts_glue {
        struct vcpu *v;
        uint64_t cr0, cr4, efer;
        uint64_t bad_gpa; /* the address that was not RAM (TS_MEM_STOP) */
};

/* Translates [la, la+len) page by page with supervisor rights and, when
 * buf is given, copies to or from it; with buf NULL it only checks. */
static enum ts_mem guest_access(struct ts_glue *g, uint64_t cr3, uint32_t la, uint8_t *buf,
                                unsigned len, bool write, struct ts_fault *pf)
{
        struct walk_ctx w = {
                .cr0 = g->cr0,
                .cr3 = cr3,
                .cr4 = g->cr4,
                .efer = g->efer,
                .cpl = 0,
                .read_gpa = vcpu_walk_read,
                .ctx = g->v->vm,
        };
        for (unsigned i = 0; i < len;) {
                uint32_t a = la + i;
                unsigned n = (unsigned)MIN((uint64_t)(len - i), PAGE_SIZE - (a & 0xfff));
                uint64_t gpa;
                uint32_t err;
                switch (guest_walk(&w, a, write ? WALK_WRITE : WALK_READ, &gpa, &err)) {
                case WALK_OK:
                        break;
                case WALK_PAGE_FAULT:
                        *pf = (struct ts_fault){ VEC_PF, true, err, true, a };
                        return TS_MEM_FAULT;
                case WALK_BAD_GPA:
                        g->bad_gpa = ~0ull;
                        return TS_MEM_STOP;
                }
                uint8_t *p = vm_gpa_ptr(g->v->vm, gpa, n);
                if (!p) {
                        g->bad_gpa = gpa;
                        return TS_MEM_STOP;
                }
                if (buf && write)
                        vtv_memcpy(p, buf + i, n);
                else if (buf)
                        vtv_memcpy(buf + i, p, n);
                i += n;
        }
        return TS_MEM_OK;
}

static enum ts_mem ts_read(void *ctx, uint64_t cr3, uint32_t la, void *buf, unsigned len,
                           struct ts_fault *pf)
{
        return guest_access(ctx, cr3, la, buf, len, false, pf);
}

/* All or nothing: every page is checked before a byte is written. */
static enum ts_mem ts_write(void *ctx, uint64_t cr3, uint32_t la, const void *buf, unsigned len,
                            struct ts_fault *pf)
{
        enum ts_mem m = guest_access(ctx, cr3, la, NULL, len, true, pf);
        if (m != TS_MEM_OK)
                return m;
        return guest_access(ctx, cr3, la, (uint8_t *)(uintptr_t)buf, len, true, pf);
}

/* A 32-bit TSS's CR3, with PAE paging its PDPTEs too, as MOV to CR3 would
 * load them (exit_load_pdptes).  A bad PDPTE leaves them not present. */
static bool ts_load_cr3(void *ctx, uint64_t cr3)
{
        struct ts_glue *g = ctx;
        if (!(g->cr4 & CR4_PAE) || (g->efer & EFER_LMA))
                return true;
        if (exit_load_pdptes(g->v, cr3))
                return true;
        vmcs_write64(GUEST_PDPTE0, 0);
        vmcs_write64(GUEST_PDPTE1, 0);
        vmcs_write64(GUEST_PDPTE2, 0);
        vmcs_write64(GUEST_PDPTE3, 0);
        return false;
}

/* ES, CS, SS, DS, FS, GS, LDTR, TR: the VMCS's selector, limit, access
 * rights and base fields lie at fixed strides (SDM Vol. 3C B.1-B.4). */
static struct ts_seg read_seg(unsigned i)
{
        return (struct ts_seg){
                .sel =
                    (uint16_t)vmcs_read_checked((enum vmcs_field)(GUEST_ES_SELECTOR + 2 * i), NULL),
                .limit =
                    (uint32_t)vmcs_read_checked((enum vmcs_field)(GUEST_ES_LIMIT + 2 * i), NULL),
                .ar =
                    (uint32_t)vmcs_read_checked((enum vmcs_field)(GUEST_ES_AR_BYTES + 2 * i), NULL),
                .base = vmcs_read_checked((enum vmcs_field)(GUEST_ES_BASE + 2 * i), NULL),
        };
}

static void write_seg(unsigned i, const struct ts_seg *s)
{
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_SELECTOR + 2 * i), s->sel, NULL);
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_LIMIT + 2 * i), s->limit, NULL);
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_AR_BYTES + 2 * i), s->ar, NULL);
        vmcs_write_checked((enum vmcs_field)(GUEST_ES_BASE + 2 * i), s->base, NULL);
}

#define SEG_LDTR 6
#define SEG_TR   7

static void read_state(struct vcpu *v, struct ts_state *s)
{
        for (unsigned i = 0; i < TS_NGPR; i++)
                s->gpr[i] = vcpu_gpr(v, i);
        s->rip = vmcs_readnat(GUEST_RIP);
        s->rflags = vmcs_readnat(GUEST_RFLAGS);
        s->cr0 = vcpu_guest_cr0(v);
        s->cr3 = vmcs_readnat(GUEST_CR3);
        s->cr4 = vcpu_guest_cr4(v);
        s->efer = vmcs_read64(GUEST_IA32_EFER);
        s->dr7 = vmcs_readnat(GUEST_DR7);
        for (unsigned i = 0; i < TS_NSEG; i++)
                s->seg[i] = read_seg(i);
        s->ldtr = read_seg(SEG_LDTR);
        s->tr = read_seg(SEG_TR);
        s->gdtr_base = vmcs_readnat(GUEST_GDTR_BASE);
        s->gdtr_limit = vmcs_read32(GUEST_GDTR_LIMIT);
}

/* The new task's state into the VMCS. */
static void write_state(struct vcpu *v, const struct ts_state *s, const struct ts_outcome *o)
{
        for (unsigned i = 0; i < TS_NGPR; i++)
                vcpu_set_gpr(v, i, s->gpr[i]);
        vmcs_writenat(GUEST_RIP, s->rip);
        vmcs_writenat(GUEST_RFLAGS, s->rflags);
        /* CR0.TS is guest-owned; the read shadow follows the guest's view
         * as set_cr0 (core/exit.c) keeps it. */
        vmcs_writenat(CR0_READ_SHADOW, s->cr0);
        vmcs_writenat(GUEST_CR0,
                      (s->cr0 | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1);
        if (o->cr3_loaded) {
                vmcs_writenat(GUEST_CR3, s->cr3);
                /* As MOV to CR3 would: the guest's non-global translations
                 * (tagged with its VPID) go. */
                if (invvpid(INVVPID_SINGLE_CONTEXT, v->vpid) != VMX_OK)
                        panic("INVVPID for vm %s failed", v->vm->cfg.name);
        }
        vmcs_writenat(GUEST_DR7, s->dr7);
        for (unsigned i = 0; i < TS_NSEG; i++)
                write_seg(i, &s->seg[i]);
        write_seg(SEG_LDTR, &s->ldtr);
        write_seg(SEG_TR, &s->tr);
}

enum exit_action exit_task_switch(struct vcpu *v)
{
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        uint32_t idt = vmcs_read32(IDT_VECTORING_INFO_FIELD);
        struct ts_request rq = {
                .selector = (uint16_t)q,
                .source = (enum ts_source)((q >> 30) & 3),
                .insn_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN),
        };
        if (rq.source == TS_SRC_GATE && (idt & INTR_INFO_VALID)) {
                rq.event_valid = true;
                rq.vector = (uint8_t)INTR_INFO_VECTOR(idt);
                rq.type = (enum ts_event_type)(INTR_INFO_TYPE(idt) >> 8);
                rq.has_error = idt & INTR_INFO_DELIVER_CODE;
                rq.error = vmcs_read32(IDT_VECTORING_ERROR_CODE);
                /* This switch is that event's delivery: vcpu_run queued
                 * it for re-injection (reinject_vectoring_event), which
                 * would deliver it a second time. */
                vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
        }

        struct ts_state in, out;
        read_state(v, &in);
        struct ts_glue g = { v, in.cr0, in.cr4, in.efer, 0 };
        struct ts_ops ops = { ts_read, ts_write, ts_load_cr3, &g };
        struct ts_outcome o;
        enum ts_result r = task_switch(&rq, &in, &ops, &out, &o);
        v->irq_dirty = true; /* IF, NMI blocking and what to inject may have changed */

        if (r == TS_STOP) {
                if (o.triple_fault)
                        vm_stop(v->vm, "triple fault at rip 0x%llx (%s)",
                                (unsigned long long)in.rip, o.stop);
                else if (g.bad_gpa)
                        vm_stop(v->vm,
                                "task switch to selector 0x%x: %s (guest-physical 0x%llx, rip "
                                "0x%llx)",
                                rq.selector, o.stop, (unsigned long long)g.bad_gpa,
                                (unsigned long long)in.rip);
                else
                        vm_stop(v->vm, "task switch to selector 0x%x: %s (rip 0x%llx)", rq.selector,
                                o.stop, (unsigned long long)in.rip);
                return EXIT_CONTINUE;
        }

        if (o.committed) {
                write_state(v, &out, &o);
                /* The switching instruction or event delivery completed: STI
                 * and MOV SS blocking end; an NMI delivered through the
                 * gate blocks NMIs until an IRET, and the IRET that
                 * switched back ends that blocking (virtual NMIs: the
                 * guest's own). */
                uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & ~INTR_BLOCKING_STI_MOVSS;
                if (rq.event_valid && rq.type == TS_EV_NMI)
                        intr |= INTR_BLOCKING_NMI;
                if (o.nmi_unblocked && (vmcs_read32(PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS))
                        intr &= ~INTR_BLOCKING_NMI;
                vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr);
        }

        if (r == TS_FAULT) {
                if (o.fault.has_cr2)
                        vcpu_set_cr2(v, o.fault.cr2);
                vcpu_inject_exception(v, o.fault.vector, o.fault.has_error, o.fault.error);
        } else if (o.debug_trap) {
                /* The new TSS's T bit: #DB after the switch, DR6.BT set
                 * (SDM 17.2.3).  DR6 is the guest's while its vCPU runs
                 * here (vcpu_load). */
                write_dr6(read_dr6() | TS_DR6_BT);
                vcpu_inject_exception(v, VEC_DB, false, 0);
        }
        return EXIT_CONTINUE;
}
