/* Every VMX instruction vtvisor uses, one inline wrapper each.  VMX
 * instructions report failure in RFLAGS (SDM 30.2): CF=1 is VMfailInvalid
 * (no current VMCS), ZF=1 is VMfailValid (reason in VM_INSTRUCTION_ERROR). */
#ifndef VTV_VMX_VMX_H
#define VTV_VMX_VMX_H

#include "lib/types.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_defs.h"

enum vmx_result { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

#define VMX_RESULT_ASM "setc %b0; setz %h0"

static inline enum vmx_result vmx_result_from(uint16_t flags)
{
        if (flags & 0xff)
                return VMX_FAIL_INVALID;
        if (flags >> 8)
                return VMX_FAIL_VALID;
        return VMX_OK;
}

static inline enum vmx_result vmxon(hpa_t region)
{
        uint16_t f;
        __asm__ volatile("vmxon %1; " VMX_RESULT_ASM : "=Q"(f) : "m"(region) : "cc", "memory");
        return vmx_result_from(f);
}

static inline enum vmx_result vmclear(hpa_t vmcs)
{
        uint16_t f;
        __asm__ volatile("vmclear %1; " VMX_RESULT_ASM : "=Q"(f) : "m"(vmcs) : "cc", "memory");
        return vmx_result_from(f);
}

static inline enum vmx_result vmptrld(hpa_t vmcs)
{
        uint16_t f;
        __asm__ volatile("vmptrld %1; " VMX_RESULT_ASM : "=Q"(f) : "m"(vmcs) : "cc", "memory");
        return vmx_result_from(f);
}

static inline enum vmx_result vmread_raw(uint64_t field, uint64_t *value)
{
        uint16_t f;
        __asm__ volatile("vmread %2, %1; " VMX_RESULT_ASM
                         : "=Q"(f), "=rm"(*value)
                         : "r"(field)
                         : "cc");
        return vmx_result_from(f);
}

static inline enum vmx_result vmwrite_raw(uint64_t field, uint64_t value)
{
        uint16_t f;
        __asm__ volatile("vmwrite %2, %1; " VMX_RESULT_ASM
                         : "=Q"(f)
                         : "r"(field), "rm"(value)
                         : "cc");
        return vmx_result_from(f);
}

struct invept_desc {
        uint64_t eptp;
        uint64_t reserved;
};

struct invvpid_desc {
        uint64_t vpid;
        uint64_t linear;
};

#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXT     2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT    2

static inline enum vmx_result invept(uint64_t type, uint64_t eptp)
{
        struct invept_desc d = { eptp, 0 };
        uint16_t f;
        __asm__ volatile("invept %1, %2; " VMX_RESULT_ASM
                         : "=Q"(f)
                         : "m"(d), "r"(type)
                         : "cc", "memory");
        return vmx_result_from(f);
}

static inline enum vmx_result invvpid(uint64_t type, uint16_t vpid)
{
        struct invvpid_desc d = { vpid, 0 };
        uint16_t f;
        __asm__ volatile("invvpid %1, %2; " VMX_RESULT_ASM
                         : "=Q"(f)
                         : "m"(d), "r"(type)
                         : "cc", "memory");
        return vmx_result_from(f);
}

/* The capabilities of this machine, probed once by vmx_init(). */
extern struct vmx_caps vmx_caps;

/* Checks VMX support and enters VMX root operation on this CPU, or refuses
 * to boot with a message naming what is missing. */
void vmx_init(void);
/* The same on another CPU, after vmx_init() ran on the boot CPU: checks
 * that its VT-x matches and enters VMX operation.  Returns NULL, or why the
 * CPU cannot be used. */
const char *vmx_init_ap(void);

#endif
