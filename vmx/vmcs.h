/* VMCS accessors typed by field width.  Using a 16-bit accessor on a 32-bit
 * field is a compile-time error (the width is in the encoding, SDM B.1).
 * A failing VMREAD/VMWRITE is a hypervisor bug: it panics naming the field
 * and the caller.  The _safe variant reports failure instead. */
#ifndef VTV_VMX_VMCS_H
#define VTV_VMX_VMCS_H

#include "vmx/vmx.h"

uint64_t vmcs_read_checked(enum vmcs_field field, void *caller);
void vmcs_write_checked(enum vmcs_field field, uint64_t value, void *caller);
bool vmcs_write_safe(enum vmcs_field field, uint64_t value);

#define VMCS_WIDTH_CHECK(f, w)                                                                     \
        (void)sizeof(struct {                                                                      \
                _Static_assert(VMCS_FIELD_WIDTH(f) == (w), "VMCS field width mismatch: " #f);      \
                int dummy;                                                                         \
        })

#define vmcs_read16(f)                                                                             \
        (VMCS_WIDTH_CHECK(f, VMCS_W16), (uint16_t)vmcs_read_checked(f, __builtin_return_address(0)))
#define vmcs_read32(f)                                                                             \
        (VMCS_WIDTH_CHECK(f, VMCS_W32), (uint32_t)vmcs_read_checked(f, __builtin_return_address(0)))
#define vmcs_read64(f)                                                                             \
        (VMCS_WIDTH_CHECK(f, VMCS_W64), vmcs_read_checked(f, __builtin_return_address(0)))
#define vmcs_readnat(f)                                                                            \
        (VMCS_WIDTH_CHECK(f, VMCS_WNAT), vmcs_read_checked(f, __builtin_return_address(0)))

#define vmcs_write16(f, v)                                                                         \
        (VMCS_WIDTH_CHECK(f, VMCS_W16),                                                            \
         vmcs_write_checked(f, (uint16_t)(v), __builtin_return_address(0)))
#define vmcs_write32(f, v)                                                                         \
        (VMCS_WIDTH_CHECK(f, VMCS_W32),                                                            \
         vmcs_write_checked(f, (uint32_t)(v), __builtin_return_address(0)))
#define vmcs_write64(f, v)                                                                         \
        (VMCS_WIDTH_CHECK(f, VMCS_W64),                                                            \
         vmcs_write_checked(f, (uint64_t)(v), __builtin_return_address(0)))
#define vmcs_writenat(f, v)                                                                        \
        (VMCS_WIDTH_CHECK(f, VMCS_WNAT),                                                           \
         vmcs_write_checked(f, (uint64_t)(v), __builtin_return_address(0)))

/* Prints every field of vmcs_field_table by name (current VMCS). */
void vmcs_dump(const char *vm_name);

#endif
