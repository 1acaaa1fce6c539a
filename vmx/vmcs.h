/* VMCS accessors typed by field width.  Using a 16-bit accessor on a 32-bit
 * field is a compile-time error (the width is in the encoding, SDM B.1).
 * A failing VMREAD/VMWRITE is a hypervisor bug: it panics naming the field
 * and the caller.  The _safe variant reports failure instead. */
#ifndef VTV_VMX_VMCS_H
#define VTV_VMX_VMCS_H

#include "vmx/vmx.h"

/* The failure reports: out of line, they never return. */
__attribute__((noreturn, cold)) void vmcs_read_failed(enum vmcs_field field, void *caller);
__attribute__((noreturn, cold)) void vmcs_write_failed(enum vmcs_field field, uint64_t value,
                                                       void *caller);
bool vmcs_write_safe(enum vmcs_field field, uint64_t value);

/* Inline, so an access on the exit path is the instruction and one
 * branch (CF or ZF set: VMfailInvalid or VMfailValid, SDM 30.2). */
static inline __attribute__((always_inline)) uint64_t vmcs_read_checked(enum vmcs_field field,
                                                                        void *caller)
{
        uint64_t v;
        __asm__ goto("vmread %1, %0; jbe %l[fail]" : "=r"(v) : "r"((uint64_t)field) : "cc" : fail);
        return v;
fail:
        vmcs_read_failed(field, caller);
}

static inline __attribute__((always_inline)) void vmcs_write_checked(enum vmcs_field field,
                                                                     uint64_t value, void *caller)
{
        __asm__ goto("vmwrite %1, %0; jbe %l[fail]"
                     :
                     : "r"((uint64_t)field), "rm"(value)
                     : "cc"
                     : fail);
        return;
fail:
        vmcs_write_failed(field, value, caller);
}

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
