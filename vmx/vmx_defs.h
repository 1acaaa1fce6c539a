/* VT-x architectural constants: VMCS field encodings, control bits, exit
 * reasons and MSR numbers (Intel SDM Vol. 3C, appendices A-C). */
#ifndef VTV_VMX_DEFS_H
#define VTV_VMX_DEFS_H

#include "arch/x86/regs.h"
#include "lib/types.h"

/* VMX capability MSRs (SDM Appendix A). */
#define MSR_IA32_FEATURE_CONTROL     0x03a
#define MSR_IA32_VMX_BASIC           0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS       0x483
#define MSR_IA32_VMX_ENTRY_CTLS      0x484
#define MSR_IA32_VMX_MISC            0x485
#define MSR_IA32_VMX_CR0_FIXED0      0x486
#define MSR_IA32_VMX_CR0_FIXED1      0x487
#define MSR_IA32_VMX_CR4_FIXED0      0x488
#define MSR_IA32_VMX_CR4_FIXED1      0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48c
#define MSR_IA32_VMX_TRUE_PINBASED   0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED  0x48e
#define MSR_IA32_VMX_TRUE_EXIT       0x48f
#define MSR_IA32_VMX_TRUE_ENTRY      0x490

#define FEATURE_CONTROL_LOCK        BIT(0)
#define FEATURE_CONTROL_VMX_OUTSIDE BIT(2)

#define VMX_BASIC_TRUE_CTLS       BIT(55)
#define VMX_BASIC_REVISION(b)     ((uint32_t)(b)&0x7fffffff)
#define VMX_MISC_PREEMPT_SHIFT(m) ((unsigned)(m)&0x1f)

/* Pin-based controls. */
#define PIN_EXTINT_EXITING BIT(0)
#define PIN_NMI_EXITING    BIT(3)
#define PIN_VIRTUAL_NMIS   BIT(5)
#define PIN_PREEMPT_TIMER  BIT(6)
#define PIN_POSTED_INTR    BIT(7)

/* Primary processor-based controls. */
#define PROC_INTR_WINDOW       BIT(2)
#define PROC_TSC_OFFSETTING    BIT(3)
#define PROC_HLT_EXITING       BIT(7)
#define PROC_INVLPG_EXITING    BIT(9)
#define PROC_MWAIT_EXITING     BIT(10)
#define PROC_RDPMC_EXITING     BIT(11)
#define PROC_CR3_LOAD_EXITING  BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_CR8_LOAD_EXITING  BIT(19)
#define PROC_CR8_STORE_EXITING BIT(20)
#define PROC_TPR_SHADOW        BIT(21)
#define PROC_NMI_WINDOW        BIT(22)
#define PROC_MOV_DR_EXITING    BIT(23)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_IO_BITMAPS        BIT(25)
#define PROC_MSR_BITMAPS       BIT(28)
#define PROC_MONITOR_EXITING   BIT(29)
#define PROC_SECONDARY         BIT(31)

/* Secondary processor-based controls. */
#define PROC2_VIRT_APIC_ACCESS   BIT(0)
#define PROC2_EPT                BIT(1)
#define PROC2_DESC_TABLE_EXITING BIT(2)
#define PROC2_RDTSCP             BIT(3)
#define PROC2_X2APIC_MODE        BIT(4)
#define PROC2_VPID               BIT(5)
#define PROC2_WBINVD_EXITING     BIT(6)
#define PROC2_UNRESTRICTED_GUEST BIT(7)
#define PROC2_APIC_REG_VIRT      BIT(8)
#define PROC2_VIRT_INTR_DELIVERY BIT(9)
#define PROC2_INVPCID            BIT(12)
#define PROC2_XSAVES             BIT(20)

/* VM-exit controls. */
#define EXIT_SAVE_DEBUG           BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_ACK_INTR_ON_EXIT     BIT(15)
#define EXIT_SAVE_PAT             BIT(18)
#define EXIT_LOAD_PAT             BIT(19)
#define EXIT_SAVE_EFER            BIT(20)
#define EXIT_LOAD_EFER            BIT(21)
#define EXIT_SAVE_PREEMPT_TIMER   BIT(22)

/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG BIT(2)
#define ENTRY_IA32E_MODE BIT(9)
#define ENTRY_LOAD_PAT   BIT(14)
#define ENTRY_LOAD_EFER  BIT(15)

/* IA32_VMX_EPT_VPID_CAP bits (SDM A.10). */
#define EPT_CAP_EXEC_ONLY       BIT(0)
#define EPT_CAP_WALK4           BIT(6)
#define EPT_CAP_UC              BIT(8)
#define EPT_CAP_WB              BIT(14)
#define EPT_CAP_2M              BIT(16)
#define EPT_CAP_1G              BIT(17)
#define EPT_CAP_INVEPT          BIT(20)
#define EPT_CAP_INVEPT_SINGLE   BIT(25)
#define EPT_CAP_INVEPT_ALL      BIT(26)
#define VPID_CAP_INVVPID        BIT(32)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL    BIT(42)

/* VMCS field encodings (SDM Appendix B). */
enum vmcs_field {
        VPID_FIELD = 0x0000,
        GUEST_ES_SELECTOR = 0x0800,
        GUEST_CS_SELECTOR = 0x0802,
        GUEST_SS_SELECTOR = 0x0804,
        GUEST_DS_SELECTOR = 0x0806,
        GUEST_FS_SELECTOR = 0x0808,
        GUEST_GS_SELECTOR = 0x080a,
        GUEST_LDTR_SELECTOR = 0x080c,
        GUEST_TR_SELECTOR = 0x080e,
        GUEST_INTR_STATUS = 0x0810,
        HOST_ES_SELECTOR = 0x0c00,
        HOST_CS_SELECTOR = 0x0c02,
        HOST_SS_SELECTOR = 0x0c04,
        HOST_DS_SELECTOR = 0x0c06,
        HOST_FS_SELECTOR = 0x0c08,
        HOST_GS_SELECTOR = 0x0c0a,
        HOST_TR_SELECTOR = 0x0c0c,
        IO_BITMAP_A = 0x2000,
        IO_BITMAP_B = 0x2002,
        MSR_BITMAP = 0x2004,
        VM_EXIT_MSR_STORE_ADDR = 0x2006,
        VM_EXIT_MSR_LOAD_ADDR = 0x2008,
        VM_ENTRY_MSR_LOAD_ADDR = 0x200a,
        TSC_OFFSET = 0x2010,
        VIRTUAL_APIC_PAGE_ADDR = 0x2012,
        APIC_ACCESS_ADDR = 0x2014,
        EPT_POINTER = 0x201a,
        EOI_EXIT_BITMAP0 = 0x201c,
        EOI_EXIT_BITMAP1 = 0x201e,
        EOI_EXIT_BITMAP2 = 0x2020,
        EOI_EXIT_BITMAP3 = 0x2022,
        GUEST_PHYSICAL_ADDRESS = 0x2400,
        VMCS_LINK_POINTER = 0x2800,
        GUEST_IA32_DEBUGCTL = 0x2802,
        GUEST_IA32_PAT = 0x2804,
        GUEST_IA32_EFER = 0x2806,
        GUEST_PDPTE0 = 0x280a,
        GUEST_PDPTE1 = 0x280c,
        GUEST_PDPTE2 = 0x280e,
        GUEST_PDPTE3 = 0x2810,
        HOST_IA32_PAT = 0x2c00,
        HOST_IA32_EFER = 0x2c02,
        PIN_BASED_VM_EXEC_CONTROL = 0x4000,
        CPU_BASED_VM_EXEC_CONTROL = 0x4002,
        EXCEPTION_BITMAP = 0x4004,
        PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
        PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
        CR3_TARGET_COUNT = 0x400a,
        VM_EXIT_CONTROLS = 0x400c,
        VM_EXIT_MSR_STORE_COUNT = 0x400e,
        VM_EXIT_MSR_LOAD_COUNT = 0x4010,
        VM_ENTRY_CONTROLS = 0x4012,
        VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
        VM_ENTRY_INTR_INFO_FIELD = 0x4016,
        VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
        VM_ENTRY_INSTRUCTION_LEN = 0x401a,
        TPR_THRESHOLD = 0x401c,
        SECONDARY_VM_EXEC_CONTROL = 0x401e,
        VM_INSTRUCTION_ERROR = 0x4400,
        VM_EXIT_REASON = 0x4402,
        VM_EXIT_INTR_INFO = 0x4404,
        VM_EXIT_INTR_ERROR_CODE = 0x4406,
        IDT_VECTORING_INFO_FIELD = 0x4408,
        IDT_VECTORING_ERROR_CODE = 0x440a,
        VM_EXIT_INSTRUCTION_LEN = 0x440c,
        VMX_INSTRUCTION_INFO = 0x440e,
        GUEST_ES_LIMIT = 0x4800,
        GUEST_CS_LIMIT = 0x4802,
        GUEST_SS_LIMIT = 0x4804,
        GUEST_DS_LIMIT = 0x4806,
        GUEST_FS_LIMIT = 0x4808,
        GUEST_GS_LIMIT = 0x480a,
        GUEST_LDTR_LIMIT = 0x480c,
        GUEST_TR_LIMIT = 0x480e,
        GUEST_GDTR_LIMIT = 0x4810,
        GUEST_IDTR_LIMIT = 0x4812,
        GUEST_ES_AR_BYTES = 0x4814,
        GUEST_CS_AR_BYTES = 0x4816,
        GUEST_SS_AR_BYTES = 0x4818,
        GUEST_DS_AR_BYTES = 0x481a,
        GUEST_FS_AR_BYTES = 0x481c,
        GUEST_GS_AR_BYTES = 0x481e,
        GUEST_LDTR_AR_BYTES = 0x4820,
        GUEST_TR_AR_BYTES = 0x4822,
        GUEST_INTERRUPTIBILITY_INFO = 0x4824,
        GUEST_ACTIVITY_STATE = 0x4826,
        GUEST_SYSENTER_CS = 0x482a,
        VMX_PREEMPTION_TIMER_VALUE = 0x482e,
        HOST_IA32_SYSENTER_CS = 0x4c00,
        CR0_GUEST_HOST_MASK = 0x6000,
        CR4_GUEST_HOST_MASK = 0x6002,
        CR0_READ_SHADOW = 0x6004,
        CR4_READ_SHADOW = 0x6006,
        EXIT_QUALIFICATION = 0x6400,
        GUEST_LINEAR_ADDRESS = 0x640a,
        GUEST_CR0 = 0x6800,
        GUEST_CR3 = 0x6802,
        GUEST_CR4 = 0x6804,
        GUEST_ES_BASE = 0x6806,
        GUEST_CS_BASE = 0x6808,
        GUEST_SS_BASE = 0x680a,
        GUEST_DS_BASE = 0x680c,
        GUEST_FS_BASE = 0x680e,
        GUEST_GS_BASE = 0x6810,
        GUEST_LDTR_BASE = 0x6812,
        GUEST_TR_BASE = 0x6814,
        GUEST_GDTR_BASE = 0x6816,
        GUEST_IDTR_BASE = 0x6818,
        GUEST_DR7 = 0x681a,
        GUEST_RSP = 0x681c,
        GUEST_RIP = 0x681e,
        GUEST_RFLAGS = 0x6820,
        GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
        GUEST_SYSENTER_ESP = 0x6824,
        GUEST_SYSENTER_EIP = 0x6826,
        HOST_CR0 = 0x6c00,
        HOST_CR3 = 0x6c02,
        HOST_CR4 = 0x6c04,
        HOST_FS_BASE = 0x6c06,
        HOST_GS_BASE = 0x6c08,
        HOST_TR_BASE = 0x6c0a,
        HOST_GDTR_BASE = 0x6c0c,
        HOST_IDTR_BASE = 0x6c0e,
        HOST_IA32_SYSENTER_ESP = 0x6c10,
        HOST_IA32_SYSENTER_EIP = 0x6c12,
        HOST_RSP = 0x6c14,
        HOST_RIP = 0x6c16,
};

/* Width of a field from bits 14:13 of its encoding (SDM B.1). */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
#define VMCS_FIELD_WIDTH(f) ((enum vmcs_width)(((unsigned)(f) >> 13) & 3))

/* Basic exit reasons (SDM Appendix C). */
enum exit_reason {
        EXIT_EXCEPTION_NMI = 0,
        EXIT_EXTERNAL_INTERRUPT = 1,
        EXIT_TRIPLE_FAULT = 2,
        EXIT_INIT = 3,
        EXIT_SIPI = 4,
        EXIT_IO_SMI = 5,
        EXIT_OTHER_SMI = 6,
        EXIT_INTERRUPT_WINDOW = 7,
        EXIT_NMI_WINDOW = 8,
        EXIT_TASK_SWITCH = 9,
        EXIT_CPUID = 10,
        EXIT_GETSEC = 11,
        EXIT_HLT = 12,
        EXIT_INVD = 13,
        EXIT_INVLPG = 14,
        EXIT_RDPMC = 15,
        EXIT_RDTSC = 16,
        EXIT_RSM = 17,
        EXIT_VMCALL = 18,
        EXIT_VMCLEAR = 19,
        EXIT_VMLAUNCH = 20,
        EXIT_VMPTRLD = 21,
        EXIT_VMPTRST = 22,
        EXIT_VMREAD = 23,
        EXIT_VMRESUME = 24,
        EXIT_VMWRITE = 25,
        EXIT_VMXOFF = 26,
        EXIT_VMXON = 27,
        EXIT_CR_ACCESS = 28,
        EXIT_DR_ACCESS = 29,
        EXIT_IO_INSTRUCTION = 30,
        EXIT_RDMSR = 31,
        EXIT_WRMSR = 32,
        EXIT_INVALID_GUEST_STATE = 33,
        EXIT_MSR_LOADING = 34,
        EXIT_MWAIT = 36,
        EXIT_MONITOR_TRAP_FLAG = 37,
        EXIT_MONITOR = 39,
        EXIT_PAUSE = 40,
        EXIT_MACHINE_CHECK = 41,
        EXIT_TPR_BELOW_THRESHOLD = 43,
        EXIT_APIC_ACCESS = 44,
        EXIT_EOI_INDUCED = 45,
        EXIT_GDTR_IDTR = 46,
        EXIT_LDTR_TR = 47,
        EXIT_EPT_VIOLATION = 48,
        EXIT_EPT_MISCONFIG = 49,
        EXIT_INVEPT = 50,
        EXIT_RDTSCP = 51,
        EXIT_PREEMPTION_TIMER = 52,
        EXIT_INVVPID = 53,
        EXIT_WBINVD = 54,
        EXIT_XSETBV = 55,
        EXIT_APIC_WRITE = 56,
        EXIT_RDRAND = 57,
        EXIT_INVPCID = 58,
        EXIT_VMFUNC = 59,
        EXIT_ENCLS = 60,
        EXIT_RDSEED = 61,
        EXIT_PML_FULL = 62,
        EXIT_XSAVES = 63,
        EXIT_XRSTORS = 64,
        EXIT_REASON_MAX = 65,
};
#define EXIT_REASON_ENTRY_FAILURE BIT(31)
#define EXIT_REASON_BASIC(r)      ((r)&0xffff)

/* Interruption-information fields (SDM 24.8.3, 24.9.2). */
#define INTR_INFO_VALID        BIT(31)
#define INTR_INFO_DELIVER_CODE BIT(11)
#define INTR_TYPE_EXTERNAL     (0u << 8)
#define INTR_TYPE_NMI          (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_SW_INTERRUPT (4u << 8)
#define INTR_TYPE_SW_EXCEPTION (6u << 8)
#define INTR_INFO_TYPE(i)      ((i) & (7u << 8))
#define INTR_INFO_VECTOR(i)    ((i)&0xff)

/* Pending debug exceptions (SDM Table 25-4): an enabled data or I/O
 * breakpoint matched, a single step. */
#define PENDING_DBG_ENABLED_BP BIT(12)
#define PENDING_DBG_BS         BIT(14)

/* EPT entry bits (SDM 28.3.2). */
#define EPT_READ       BIT(0)
#define EPT_WRITE      BIT(1)
#define EPT_EXEC       BIT(2)
#define EPT_RWX        (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_SHIFT   3
#define EPT_MT_UC      (0ULL << EPT_MT_SHIFT)
#define EPT_MT_WB      (6ULL << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT BIT(6)

/* EPT-violation exit qualification (SDM Table 27-7). */
#define EPT_QUAL_READ      BIT(0)
#define EPT_QUAL_WRITE     BIT(1)
#define EPT_QUAL_FETCH     BIT(2)
#define EPT_QUAL_GLA_VALID BIT(7)
#define EPT_QUAL_GLA_FINAL BIT(8) /* the access was the final translation's, not a walk's */

#endif
