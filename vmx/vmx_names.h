/* Human-readable names for exit reasons, VM-instruction errors and VMCS
 * fields, so that every diagnostic says what happened in words.  Pure. */
#ifndef VTV_VMX_NAMES_H
#define VTV_VMX_NAMES_H

#include "vmx/vmx_defs.h"

/* Never NULL: unknown numbers give "unknown". */
const char *vmx_exit_reason_name(uint32_t basic_reason);
const char *vmx_instruction_error_name(uint32_t error);

struct vmcs_field_desc {
        enum vmcs_field field;
        const char *name;
};

/* Every field vtvisor reads or writes, in dump order. */
extern const struct vmcs_field_desc vmcs_field_table[];
extern const size_t vmcs_field_count;
const char *vmcs_field_name(uint32_t field);

#endif
