#include "vmx/vmcs.h"
#include "lib/log.h"
#include "vmx/vmx_names.h"

void vmcs_read_failed(enum vmcs_field field, void *caller)
{
        /* Repeat the access to learn which failure it was. */
        uint64_t v = 0;
        enum vmx_result r = vmread_raw(field, &v);
        panic("VMREAD of %s (0x%x) failed (%s), called from %p", vmcs_field_name(field),
              (unsigned)field, r == VMX_FAIL_INVALID ? "no current VMCS" : "unsupported field",
              caller);
}

void vmcs_write_failed(enum vmcs_field field, uint64_t value, void *caller)
{
        enum vmx_result r = vmwrite_raw(field, value);
        {
                uint64_t err = 0;
                if (r == VMX_FAIL_VALID)
                        vmread_raw(VM_INSTRUCTION_ERROR, &err);
                panic("VMWRITE of 0x%llx to %s (0x%x) failed: %s (VM-instruction error %llu: "
                      "%s), called from %p",
                      (unsigned long long)value, vmcs_field_name(field), (unsigned)field,
                      r == VMX_FAIL_INVALID ? "no current VMCS" : "rejected",
                      (unsigned long long)err, vmx_instruction_error_name((uint32_t)err), caller);
        }
}

bool vmcs_write_safe(enum vmcs_field field, uint64_t value)
{
        return vmwrite_raw(field, value) == VMX_OK;
}

void vmcs_dump(const char *vm_name)
{
        log_line("vm %s: VMCS dump:", vm_name);
        for (size_t i = 0; i < vmcs_field_count; i++) {
                uint64_t v;
                if (vmread_raw(vmcs_field_table[i].field, &v) == VMX_OK)
                        log_line("  %-30s 0x%016llx", vmcs_field_table[i].name,
                                 (unsigned long long)v);
                else
                        log_line("  %-30s (unreadable)", vmcs_field_table[i].name);
        }
}
