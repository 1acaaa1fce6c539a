/* Hardware task switches (SDM Vol. 3A 7.3), performed for a guest.
 *
 * A task switch always exits in VMX non-root operation (SDM 25.4.2): the
 * CPU has checked the task gate (if any) and the privilege rules, and the
 * exit gives the new TSS selector and what caused the switch (CALL, IRET,
 * JMP, or an event delivered through a task gate in the IDT, whose
 * IDT-vectoring information names the event).  This module does the rest,
 * as the CPU would: it checks the new TSS descriptor again (a guest can
 * change its GDT from another vCPU meanwhile), saves the old task's state
 * in its TSS, updates the busy bits, the back link and NT, loads TR, CR0.TS,
 * CR3, EFLAGS, EIP, the general registers, LDTR and the segment registers
 * (with their checks, SDM Table 7-1), clears DR7's local enables, pushes
 * the error code of an exception delivered through a task gate and reports
 * the new TSS's debug trap bit.
 *
 * 32-bit and 16-bit TSSs are both supported, old and new; virtual-8086
 * tasks (EFLAGS.VM in a 32-bit TSS) too.  Not in IA-32e mode: there are no
 * task switches there, so EFER.LMA = 1 is an error (TS_STOP).
 *
 * Pure: guest memory is reached only through the callbacks, with
 * guest-linear (32-bit) addresses and supervisor rights; every selector,
 * limit and address the TSS or the descriptor tables hold is checked. */
#ifndef VTV_EMULATE_TASK_SWITCH_H
#define VTV_EMULATE_TASK_SWITCH_H

#include "lib/types.h"
#include "lib/vectors.h" /* the exceptions a task switch raises */

/* The exit qualification's source (SDM Vol. 3C 28.2.1, task switch: bits
 * 31:30). */
enum ts_source {
        TS_SRC_CALL = 0,
        TS_SRC_IRET = 1,
        TS_SRC_JMP = 2,
        TS_SRC_GATE = 3, /* an event delivered through a task gate in the IDT */
};

/* Event types, in the VMX interruption-type encoding (SDM Vol. 3C, the
 * IDT-vectoring information field). */
enum ts_event_type {
        TS_EV_EXTERNAL = 0,
        TS_EV_NMI = 2,
        TS_EV_HW_EXCEPTION = 3,
        TS_EV_SW_INTERRUPT = 4,      /* INT n */
        TS_EV_PRIV_SW_EXCEPTION = 5, /* INT1 */
        TS_EV_SW_EXCEPTION = 6,      /* INT3, INTO */
};

/* Segment registers in the SDM's (and the VMCS's) order. */
enum ts_sreg { TS_ES, TS_CS, TS_SS, TS_DS, TS_FS, TS_GS, TS_NSEG };

/* General registers 0-7 in the SDM's order. */
enum ts_gpr { TS_EAX, TS_ECX, TS_EDX, TS_EBX, TS_ESP, TS_EBP, TS_ESI, TS_EDI, TS_NGPR };

/* Access rights in the VMX format (SDM Vol. 3C, "Guest Register State"). */
#define TS_AR_TYPE(ar) ((ar)&0xf)
#define TS_AR_S        BIT(4)
#define TS_AR_DPL(ar)  (((ar) >> 5) & 3)
#define TS_AR_P        BIT(7)
#define TS_AR_L        BIT(13)
#define TS_AR_DB       BIT(14)
#define TS_AR_G        BIT(15)
#define TS_AR_UNUSABLE BIT(16)
#define TS_AR_V86      0xf3u /* present, DPL 3, read/write data, accessed */
#define TS_TSS32_MIN   0x67u /* the lowest limit of a 32-bit TSS */
#define TS_TSS16_MIN   0x2bu
#define TS_RFLAGS_NT   BIT(14)
#define TS_RFLAGS_RF   BIT(16)
#define TS_RFLAGS_VM   BIT(17)
#define TS_DR7_LOCAL   0x155u /* L0-L3 and LE */
#define TS_CR0_PE      BIT(0)
#define TS_CR0_TS      BIT(3)
#define TS_CR0_PG      BIT(31)
#define TS_EFER_LMA    BIT(10)
#define TS_DR6_BT      BIT(15)

struct ts_seg {
        uint16_t sel;
        uint64_t base;
        uint32_t limit; /* in bytes (granularity applied) */
        uint32_t ar;    /* VMX access rights; TS_AR_UNUSABLE for a null selector */
};

/* The guest state a task switch reads and writes.  CR0 and CR4 are the
 * guest's view (read shadows applied); CPL is SS.DPL. */
struct ts_state {
        uint64_t gpr[TS_NGPR];
        uint64_t rip, rflags;
        uint64_t cr0, cr3, cr4, efer, dr7;
        struct ts_seg seg[TS_NSEG];
        struct ts_seg ldtr, tr;
        uint64_t gdtr_base;
        uint32_t gdtr_limit;
};

struct ts_request {
        uint16_t selector; /* exit qualification bits 15:0 */
        enum ts_source source;
        unsigned
            insn_len; /* VM-exit instruction length (CALL, JMP, IRET, INT n, INT3, INTO, INT1) */
        /* TS_SRC_GATE: the event being delivered (IDT-vectoring information). */
        bool event_valid;
        uint8_t vector;
        enum ts_event_type type;
        bool has_error;
        uint32_t error;
};

/* A fault for the caller to inject: #TS, #NP, #SS, #GP, #PF (CR2), #DF. */
struct ts_fault {
        uint8_t vector;
        bool has_error;
        uint32_t error;
        bool has_cr2;
        uint64_t cr2;
};

enum ts_mem {
        TS_MEM_OK,
        TS_MEM_FAULT, /* *pf holds the page fault */
        TS_MEM_STOP,  /* not guest RAM (or its paging structures are not): stop the VM */
};

struct ts_ops {
        /* Read or write len (1..0x68) bytes at guest-linear la (32 bits,
         * wrapping at 4 GiB) with supervisor rights, translated through the
         * paging structures at cr3 (the guest's CR0, CR4 and EFER as they
         * were).  A write is all or nothing: every byte's translation is
         * checked before the first byte is written. */
        enum ts_mem (*read)(void *ctx, uint64_t cr3, uint32_t la, void *buf, unsigned len,
                            struct ts_fault *pf);
        enum ts_mem (*write)(void *ctx, uint64_t cr3, uint32_t la, const void *buf, unsigned len,
                             struct ts_fault *pf);
        /* Loads CR3 from a 32-bit TSS while paging is on; with PAE paging
         * also the four PDPTEs (false: one is present with a reserved bit;
         * the PDPTEs are then left not present). */
        bool (*load_cr3)(void *ctx, uint64_t cr3);
        void *ctx;
};

enum ts_result {
        TS_DONE,  /* the switch completed: *out is the new task's state */
        TS_FAULT, /* inject o->fault: in the old task (!committed, *out == *in) or in the new one */
        TS_STOP,  /* the VM cannot go on: o->stop says why */
};

struct ts_outcome {
        enum ts_result result;
        bool committed; /* TR and the new task's state are loaded into *out */
        struct ts_fault fault;
        bool debug_trap;    /* TS_DONE: the new TSS's T bit: #DB with DR6.BT, after the switch */
        bool cr3_loaded;    /* CR3 was loaded: the guest's TLB must be flushed */
        bool triple_fault;  /* TS_STOP: a fault while delivering a double fault */
        bool nmi_unblocked; /* TS_SRC_IRET: the IRET ends NMI blocking */
        const char *stop;   /* TS_STOP */
};

/* Performs the task switch rq describes on the state in, into out.  Every
 * path fills *o and returns o->result.  Faults that arise while delivering
 * a hardware exception through a task gate are combined with it as the CPU
 * would (SDM Table 6-5): #DF, or a triple fault (TS_STOP). */
enum ts_result task_switch(const struct ts_request *rq, const struct ts_state *in,
                           const struct ts_ops *ops, struct ts_state *out, struct ts_outcome *o);

#endif
