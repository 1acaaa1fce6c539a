/* Host unit tests for vmx/vmx_names.c and the VMCS field encodings of
 * vmx/vmx_defs.h. */
#include "tests/unit/check_compat.h"
#include "vmx/vmx_names.h"

/* Every enum vmcs_field constant, spelled once, so the test can compare
 * the table's names with the enum's own spelling.  A field added to the
 * enum belongs here too (the table check below says so if it is missing). */
#define VMCS_FIELDS(X)                                                                             \
        X(VPID_FIELD)                                                                              \
        X(GUEST_ES_SELECTOR)                                                                       \
        X(GUEST_CS_SELECTOR)                                                                       \
        X(GUEST_SS_SELECTOR)                                                                       \
        X(GUEST_DS_SELECTOR)                                                                       \
        X(GUEST_FS_SELECTOR)                                                                       \
        X(GUEST_GS_SELECTOR)                                                                       \
        X(GUEST_LDTR_SELECTOR)                                                                     \
        X(GUEST_TR_SELECTOR)                                                                       \
        X(HOST_ES_SELECTOR)                                                                        \
        X(HOST_CS_SELECTOR)                                                                        \
        X(HOST_SS_SELECTOR)                                                                        \
        X(HOST_DS_SELECTOR)                                                                        \
        X(HOST_FS_SELECTOR)                                                                        \
        X(HOST_GS_SELECTOR)                                                                        \
        X(HOST_TR_SELECTOR)                                                                        \
        X(IO_BITMAP_A)                                                                             \
        X(IO_BITMAP_B)                                                                             \
        X(MSR_BITMAP)                                                                              \
        X(VIRTUAL_APIC_PAGE_ADDR)                                                                  \
        X(VM_EXIT_MSR_STORE_ADDR)                                                                  \
        X(VM_EXIT_MSR_LOAD_ADDR)                                                                   \
        X(VM_ENTRY_MSR_LOAD_ADDR)                                                                  \
        X(TSC_OFFSET)                                                                              \
        X(EPT_POINTER)                                                                             \
        X(GUEST_PHYSICAL_ADDRESS)                                                                  \
        X(VMCS_LINK_POINTER)                                                                       \
        X(GUEST_IA32_DEBUGCTL)                                                                     \
        X(GUEST_IA32_PAT)                                                                          \
        X(GUEST_IA32_EFER)                                                                         \
        X(GUEST_PDPTE0)                                                                            \
        X(GUEST_PDPTE1)                                                                            \
        X(GUEST_PDPTE2)                                                                            \
        X(GUEST_PDPTE3)                                                                            \
        X(HOST_IA32_PAT)                                                                           \
        X(HOST_IA32_EFER)                                                                          \
        X(PIN_BASED_VM_EXEC_CONTROL)                                                               \
        X(CPU_BASED_VM_EXEC_CONTROL)                                                               \
        X(EXCEPTION_BITMAP)                                                                        \
        X(PAGE_FAULT_ERROR_CODE_MASK)                                                              \
        X(PAGE_FAULT_ERROR_CODE_MATCH)                                                             \
        X(CR3_TARGET_COUNT)                                                                        \
        X(VM_EXIT_CONTROLS)                                                                        \
        X(VM_EXIT_MSR_STORE_COUNT)                                                                 \
        X(VM_EXIT_MSR_LOAD_COUNT)                                                                  \
        X(VM_ENTRY_CONTROLS)                                                                       \
        X(VM_ENTRY_MSR_LOAD_COUNT)                                                                 \
        X(VM_ENTRY_INTR_INFO_FIELD)                                                                \
        X(VM_ENTRY_EXCEPTION_ERROR_CODE)                                                           \
        X(VM_ENTRY_INSTRUCTION_LEN)                                                                \
        X(TPR_THRESHOLD)                                                                           \
        X(SECONDARY_VM_EXEC_CONTROL)                                                               \
        X(VM_INSTRUCTION_ERROR)                                                                    \
        X(VM_EXIT_REASON)                                                                          \
        X(VM_EXIT_INTR_INFO)                                                                       \
        X(VM_EXIT_INTR_ERROR_CODE)                                                                 \
        X(IDT_VECTORING_INFO_FIELD)                                                                \
        X(IDT_VECTORING_ERROR_CODE)                                                                \
        X(VM_EXIT_INSTRUCTION_LEN)                                                                 \
        X(VMX_INSTRUCTION_INFO)                                                                    \
        X(GUEST_ES_LIMIT)                                                                          \
        X(GUEST_CS_LIMIT)                                                                          \
        X(GUEST_SS_LIMIT)                                                                          \
        X(GUEST_DS_LIMIT)                                                                          \
        X(GUEST_FS_LIMIT)                                                                          \
        X(GUEST_GS_LIMIT)                                                                          \
        X(GUEST_LDTR_LIMIT)                                                                        \
        X(GUEST_TR_LIMIT)                                                                          \
        X(GUEST_GDTR_LIMIT)                                                                        \
        X(GUEST_IDTR_LIMIT)                                                                        \
        X(GUEST_ES_AR_BYTES)                                                                       \
        X(GUEST_CS_AR_BYTES)                                                                       \
        X(GUEST_SS_AR_BYTES)                                                                       \
        X(GUEST_DS_AR_BYTES)                                                                       \
        X(GUEST_FS_AR_BYTES)                                                                       \
        X(GUEST_GS_AR_BYTES)                                                                       \
        X(GUEST_LDTR_AR_BYTES)                                                                     \
        X(GUEST_TR_AR_BYTES)                                                                       \
        X(GUEST_INTERRUPTIBILITY_INFO)                                                             \
        X(GUEST_ACTIVITY_STATE)                                                                    \
        X(GUEST_SYSENTER_CS)                                                                       \
        X(VMX_PREEMPTION_TIMER_VALUE)                                                              \
        X(HOST_IA32_SYSENTER_CS)                                                                   \
        X(CR0_GUEST_HOST_MASK)                                                                     \
        X(CR4_GUEST_HOST_MASK)                                                                     \
        X(CR0_READ_SHADOW)                                                                         \
        X(CR4_READ_SHADOW)                                                                         \
        X(EXIT_QUALIFICATION)                                                                      \
        X(GUEST_LINEAR_ADDRESS)                                                                    \
        X(GUEST_CR0)                                                                               \
        X(GUEST_CR3)                                                                               \
        X(GUEST_CR4)                                                                               \
        X(GUEST_ES_BASE)                                                                           \
        X(GUEST_CS_BASE)                                                                           \
        X(GUEST_SS_BASE)                                                                           \
        X(GUEST_DS_BASE)                                                                           \
        X(GUEST_FS_BASE)                                                                           \
        X(GUEST_GS_BASE)                                                                           \
        X(GUEST_LDTR_BASE)                                                                         \
        X(GUEST_TR_BASE)                                                                           \
        X(GUEST_GDTR_BASE)                                                                         \
        X(GUEST_IDTR_BASE)                                                                         \
        X(GUEST_DR7)                                                                               \
        X(GUEST_RSP)                                                                               \
        X(GUEST_RIP)                                                                               \
        X(GUEST_RFLAGS)                                                                            \
        X(GUEST_PENDING_DBG_EXCEPTIONS)                                                            \
        X(GUEST_SYSENTER_ESP)                                                                      \
        X(GUEST_SYSENTER_EIP)                                                                      \
        X(HOST_CR0)                                                                                \
        X(HOST_CR3)                                                                                \
        X(HOST_CR4)                                                                                \
        X(HOST_FS_BASE)                                                                            \
        X(HOST_GS_BASE)                                                                            \
        X(HOST_TR_BASE)                                                                            \
        X(HOST_GDTR_BASE)                                                                          \
        X(HOST_IDTR_BASE)                                                                          \
        X(HOST_IA32_SYSENTER_ESP)                                                                  \
        X(HOST_IA32_SYSENTER_EIP)                                                                  \
        X(HOST_RSP)                                                                                \
        X(HOST_RIP)

struct known_field {
        uint32_t value;
        const char *name;
};

#define KNOWN(f) { (uint32_t)(f), #f },
static const struct known_field known[] = { VMCS_FIELDS(KNOWN) };
#undef KNOWN
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static const struct known_field *known_by_name(const char *name)
{
        for (size_t i = 0; i < NKNOWN; i++)
                if (strcmp(known[i].name, name) == 0)
                        return &known[i];
        return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- exit reasons ---- */

START_TEST(exit_reason_known)
{
        ck_assert_str_eq(vmx_exit_reason_name(0), "exception or NMI");
        ck_assert_str_eq(vmx_exit_reason_name(1), "external interrupt");
        ck_assert_str_eq(vmx_exit_reason_name(2), "triple fault");
        ck_assert_str_eq(vmx_exit_reason_name(10), "CPUID");
        ck_assert_str_eq(vmx_exit_reason_name(12), "HLT");
        ck_assert_str_eq(vmx_exit_reason_name(18), "VMCALL");
        ck_assert_str_eq(vmx_exit_reason_name(28), "control-register access");
        ck_assert_str_eq(vmx_exit_reason_name(30), "I/O instruction");
        ck_assert_str_eq(vmx_exit_reason_name(31), "RDMSR");
        ck_assert_str_eq(vmx_exit_reason_name(32), "WRMSR");
        ck_assert_str_eq(vmx_exit_reason_name(48), "EPT violation");
        ck_assert_str_eq(vmx_exit_reason_name(49), "EPT misconfiguration");
        ck_assert_str_eq(vmx_exit_reason_name(52), "VMX-preemption timer expired");
        ck_assert_str_eq(vmx_exit_reason_name(55), "XSETBV");
        ck_assert_str_eq(vmx_exit_reason_name(64), "XRSTORS");
        ck_assert_ptr_nonnull(strstr(vmx_exit_reason_name(33), "invalid guest state"));
        ck_assert_ptr_nonnull(strstr(vmx_exit_reason_name(34), "MSR loading"));
        ck_assert_ptr_nonnull(strstr(vmx_exit_reason_name(41), "machine-check"));
        /* The basic reason of an entry failure. */
        ck_assert_str_eq(vmx_exit_reason_name(EXIT_REASON_BASIC(EXIT_REASON_ENTRY_FAILURE | 33)),
                         vmx_exit_reason_name(33));
}
END_TEST

START_TEST(exit_reason_every_enum_value_named)
{
        static const uint32_t all[] = {
                EXIT_EXCEPTION_NMI,
                EXIT_EXTERNAL_INTERRUPT,
                EXIT_TRIPLE_FAULT,
                EXIT_INIT,
                EXIT_SIPI,
                EXIT_IO_SMI,
                EXIT_OTHER_SMI,
                EXIT_INTERRUPT_WINDOW,
                EXIT_NMI_WINDOW,
                EXIT_TASK_SWITCH,
                EXIT_CPUID,
                EXIT_GETSEC,
                EXIT_HLT,
                EXIT_INVD,
                EXIT_INVLPG,
                EXIT_RDPMC,
                EXIT_RDTSC,
                EXIT_RSM,
                EXIT_VMCALL,
                EXIT_VMCLEAR,
                EXIT_VMLAUNCH,
                EXIT_VMPTRLD,
                EXIT_VMPTRST,
                EXIT_VMREAD,
                EXIT_VMRESUME,
                EXIT_VMWRITE,
                EXIT_VMXOFF,
                EXIT_VMXON,
                EXIT_CR_ACCESS,
                EXIT_DR_ACCESS,
                EXIT_IO_INSTRUCTION,
                EXIT_RDMSR,
                EXIT_WRMSR,
                EXIT_INVALID_GUEST_STATE,
                EXIT_MSR_LOADING,
                EXIT_MWAIT,
                EXIT_MONITOR_TRAP_FLAG,
                EXIT_MONITOR,
                EXIT_PAUSE,
                EXIT_MACHINE_CHECK,
                EXIT_TPR_BELOW_THRESHOLD,
                EXIT_APIC_ACCESS,
                EXIT_EOI_INDUCED,
                EXIT_GDTR_IDTR,
                EXIT_LDTR_TR,
                EXIT_EPT_VIOLATION,
                EXIT_EPT_MISCONFIG,
                EXIT_INVEPT,
                EXIT_RDTSCP,
                EXIT_PREEMPTION_TIMER,
                EXIT_INVVPID,
                EXIT_WBINVD,
                EXIT_XSETBV,
                EXIT_APIC_WRITE,
                EXIT_RDRAND,
                EXIT_INVPCID,
                EXIT_VMFUNC,
                EXIT_ENCLS,
                EXIT_RDSEED,
                EXIT_PML_FULL,
                EXIT_XSAVES,
                EXIT_XRSTORS,
        };
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                const char *n = vmx_exit_reason_name(all[i]);
                ck_assert_ptr_nonnull(n);
                ck_assert_msg(strcmp(n, "unknown") != 0 && n[0] != '\0',
                              "exit reason %u has no name", all[i]);
                /* Distinct reasons, distinct names. */
                for (size_t j = 0; j < i; j++)
                        ck_assert_msg(strcmp(n, vmx_exit_reason_name(all[j])) != 0,
                                      "exit reasons %u and %u are both \"%s\"", all[i], all[j], n);
        }
}
END_TEST

START_TEST(exit_reason_unknown)
{
        /* Numbers the SDM leaves unused, and out-of-range ones. */
        ck_assert_str_eq(vmx_exit_reason_name(35), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(38), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(42), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(EXIT_REASON_MAX), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(1000), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(0xffff), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(EXIT_REASON_ENTRY_FAILURE | 33), "unknown");
        ck_assert_str_eq(vmx_exit_reason_name(UINT32_MAX), "unknown");
}
END_TEST

/* ---- VM-instruction errors ---- */

START_TEST(instruction_error_known)
{
        ck_assert_str_eq(vmx_instruction_error_name(1), "VMCALL executed in VMX root operation");
        ck_assert_str_eq(vmx_instruction_error_name(4), "VMLAUNCH with non-clear VMCS");
        ck_assert_str_eq(vmx_instruction_error_name(5), "VMRESUME with non-launched VMCS");
        ck_assert_str_eq(vmx_instruction_error_name(7), "VM entry with invalid control field(s)");
        ck_assert_str_eq(vmx_instruction_error_name(8),
                         "VM entry with invalid host-state field(s)");
        ck_assert_ptr_nonnull(strstr(vmx_instruction_error_name(11), "revision"));
        ck_assert_ptr_nonnull(strstr(vmx_instruction_error_name(12), "unsupported VMCS component"));
        ck_assert_ptr_nonnull(strstr(vmx_instruction_error_name(13), "read-only"));
        ck_assert_ptr_nonnull(strstr(vmx_instruction_error_name(26), "MOV SS"));
        ck_assert_ptr_nonnull(strstr(vmx_instruction_error_name(28), "INVEPT/INVVPID"));

        /* Every number of SDM table 30-1 is named, and names differ. */
        static const uint32_t all[] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                        15, 16, 17, 18, 19, 20, 22, 23, 24, 25, 26, 28 };
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                const char *n = vmx_instruction_error_name(all[i]);
                ck_assert_msg(strcmp(n, "unknown") != 0, "error %u has no name", all[i]);
                for (size_t j = 0; j < i; j++)
                        ck_assert_str_ne(n, vmx_instruction_error_name(all[j]));
        }
}
END_TEST

START_TEST(instruction_error_unknown)
{
        ck_assert_str_eq(vmx_instruction_error_name(0), "unknown");
        ck_assert_str_eq(vmx_instruction_error_name(14), "unknown");
        ck_assert_str_eq(vmx_instruction_error_name(21), "unknown");
        ck_assert_str_eq(vmx_instruction_error_name(27), "unknown");
        ck_assert_str_eq(vmx_instruction_error_name(29), "unknown");
        ck_assert_str_eq(vmx_instruction_error_name(64), "unknown");
        ck_assert_str_eq(vmx_instruction_error_name(UINT32_MAX), "unknown");
}
END_TEST

/* ---- the VMCS field table ---- */

START_TEST(field_table_names_match_enum)
{
        ck_assert_uint_gt(vmcs_field_count, 0);
        for (size_t i = 0; i < vmcs_field_count; i++) {
                const struct vmcs_field_desc *d = &vmcs_field_table[i];
                ck_assert_ptr_nonnull(d->name);
                const struct known_field *k = known_by_name(d->name);
                ck_assert_msg(k != NULL,
                              "table entry %zu \"%s\" is not an enum vmcs_field constant "
                              "(or is missing from VMCS_FIELDS in this test)",
                              i, d->name);
                ck_assert_msg(k->value == (uint32_t)d->field,
                              "table entry \"%s\" has field 0x%x, but %s is 0x%x", d->name,
                              (unsigned)d->field, k->name, k->value);
        }
}
END_TEST

START_TEST(field_table_unique)
{
        for (size_t i = 0; i < vmcs_field_count; i++)
                for (size_t j = 0; j < i; j++) {
                        ck_assert_msg(vmcs_field_table[i].field != vmcs_field_table[j].field,
                                      "field 0x%x listed twice (%s, %s)",
                                      (unsigned)vmcs_field_table[i].field, vmcs_field_table[i].name,
                                      vmcs_field_table[j].name);
                        ck_assert_str_ne(vmcs_field_table[i].name, vmcs_field_table[j].name);
                }
}
END_TEST

START_TEST(field_table_covers_the_essentials)
{
        /* Fields any diagnostic dump needs. */
        static const uint32_t must[] = {
                GUEST_RIP,
                GUEST_RSP,
                GUEST_RFLAGS,
                GUEST_CR0,
                GUEST_CR3,
                GUEST_CR4,
                VM_EXIT_REASON,
                EXIT_QUALIFICATION,
                VM_INSTRUCTION_ERROR,
                PIN_BASED_VM_EXEC_CONTROL,
                CPU_BASED_VM_EXEC_CONTROL,
                SECONDARY_VM_EXEC_CONTROL,
                VM_EXIT_CONTROLS,
                VM_ENTRY_CONTROLS,
                EPT_POINTER,
                GUEST_PHYSICAL_ADDRESS,
        };
        for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
                ck_assert_msg(strcmp(vmcs_field_name(must[i]), "unknown") != 0,
                              "field 0x%x missing from the table", must[i]);
}
END_TEST

START_TEST(field_name_lookup)
{
        ck_assert_str_eq(vmcs_field_name(GUEST_RIP), "GUEST_RIP");
        ck_assert_str_eq(vmcs_field_name(0x681e), "GUEST_RIP");
        ck_assert_str_eq(vmcs_field_name(EPT_POINTER), "EPT_POINTER");
        ck_assert_str_eq(vmcs_field_name(VM_EXIT_REASON), "VM_EXIT_REASON");
        ck_assert_str_eq(vmcs_field_name(VPID_FIELD), "VPID_FIELD");
        ck_assert_str_eq(vmcs_field_name(HOST_IA32_PAT), "HOST_IA32_PAT");
        /* Every table entry is found by its field. */
        for (size_t i = 0; i < vmcs_field_count; i++)
                ck_assert_str_eq(vmcs_field_name(vmcs_field_table[i].field),
                                 vmcs_field_table[i].name);
        /* Every enum constant gives its own name or "unknown", never another. */
        for (size_t i = 0; i < NKNOWN; i++) {
                const char *n = vmcs_field_name(known[i].value);
                ck_assert_msg(strcmp(n, known[i].name) == 0 || strcmp(n, "unknown") == 0,
                              "0x%x is %s but named %s", known[i].value, known[i].name, n);
        }
        /* Not fields, or the high half of a 64-bit field. */
        ck_assert_str_eq(vmcs_field_name(0x681f), "unknown");
        ck_assert_str_eq(vmcs_field_name(EPT_POINTER + 1), "unknown");
        ck_assert_str_eq(vmcs_field_name(0xffff), "unknown");
        ck_assert_str_eq(vmcs_field_name(UINT32_MAX), "unknown");
        ck_assert_str_eq(vmcs_field_name(0x1681e), "unknown");
}
END_TEST

/* ---- encodings in vmx_defs.h ---- */

START_TEST(field_width)
{
        ck_assert_int_eq(VMCS_FIELD_WIDTH(VPID_FIELD), VMCS_W16);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(GUEST_CS_SELECTOR), VMCS_W16);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(HOST_TR_SELECTOR), VMCS_W16);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(EPT_POINTER), VMCS_W64);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(VMCS_LINK_POINTER), VMCS_W64);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(GUEST_IA32_EFER), VMCS_W64);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(GUEST_PHYSICAL_ADDRESS), VMCS_W64);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(PIN_BASED_VM_EXEC_CONTROL), VMCS_W32);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(VM_EXIT_REASON), VMCS_W32);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(GUEST_CS_AR_BYTES), VMCS_W32);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(VMX_PREEMPTION_TIMER_VALUE), VMCS_W32);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(GUEST_RIP), VMCS_WNAT);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(EXIT_QUALIFICATION), VMCS_WNAT);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(HOST_RSP), VMCS_WNAT);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(CR0_GUEST_HOST_MASK), VMCS_WNAT);
        /* Only bits 14:13 count. */
        ck_assert_int_eq(VMCS_FIELD_WIDTH(0x2001), VMCS_W64);
        ck_assert_int_eq(VMCS_FIELD_WIDTH(0x9fff), VMCS_W16);
}
END_TEST

START_TEST(field_encodings_sdm)
{
        /* Spot checks against SDM Appendix B. */
        ck_assert_x64_eq(GUEST_RIP, 0x681e);
        ck_assert_x64_eq(VIRTUAL_APIC_PAGE_ADDR, 0x2012);
        ck_assert_x64_eq(TPR_THRESHOLD, 0x401c);
        ck_assert_x64_eq(GUEST_RSP, 0x681c);
        ck_assert_x64_eq(GUEST_RFLAGS, 0x6820);
        ck_assert_x64_eq(HOST_RIP, 0x6c16);
        ck_assert_x64_eq(EPT_POINTER, 0x201a);
        ck_assert_x64_eq(VMCS_LINK_POINTER, 0x2800);
        ck_assert_x64_eq(VM_EXIT_REASON, 0x4402);
        ck_assert_x64_eq(EXIT_QUALIFICATION, 0x6400);
        ck_assert_x64_eq(SECONDARY_VM_EXEC_CONTROL, 0x401e);
        ck_assert_x64_eq(GUEST_INTERRUPTIBILITY_INFO, 0x4824);
        ck_assert_x64_eq(GUEST_ACTIVITY_STATE, 0x4826);
        ck_assert_x64_eq(VMX_PREEMPTION_TIMER_VALUE, 0x482e);
        ck_assert_x64_eq(GUEST_PHYSICAL_ADDRESS, 0x2400);
}
END_TEST

START_TEST(field_encodings_consistent)
{
        for (size_t i = 0; i < NKNOWN; i++) {
                uint32_t v = known[i].value;
                const char *n = known[i].name;
                unsigned type = (v >> 10) & 3;
                enum vmcs_width w = VMCS_FIELD_WIDTH(v);
                /* Full access (bit 0 clear), no reserved bits, unique. */
                ck_assert_msg((v & 1) == 0 && (v & 0xffff9000u) == 0, "%s = 0x%x malformed", n, v);
                for (size_t j = 0; j < i; j++)
                        ck_assert_msg(known[j].value != v, "%s and %s are both 0x%x", n,
                                      known[j].name, v);
                /* Width follows the kind of field. */
                if (ends_with(n, "_SELECTOR"))
                        ck_assert_msg(w == VMCS_W16, "%s is not 16-bit", n);
                if (ends_with(n, "_LIMIT") || ends_with(n, "_AR_BYTES") || ends_with(n, "_COUNT") ||
                    ends_with(n, "_CONTROL") || ends_with(n, "_CONTROLS"))
                        ck_assert_msg(w == VMCS_W32, "%s is not 32-bit", n);
                if (ends_with(n, "_BASE") || starts_with(n, "GUEST_CR") ||
                    starts_with(n, "HOST_CR"))
                        ck_assert_msg(w == VMCS_WNAT, "%s is not natural-width", n);
                if (ends_with(n, "_PAT") || ends_with(n, "_EFER") || ends_with(n, "_POINTER") ||
                    starts_with(n, "GUEST_PDPTE") || starts_with(n, "IO_BITMAP_"))
                        ck_assert_msg(w == VMCS_W64, "%s is not 64-bit", n);
                /* Type (bits 11:10): host-state and guest-state fields. */
                if (starts_with(n, "HOST_"))
                        ck_assert_msg(type == 3, "%s is not a host-state field", n);
                if (starts_with(n, "GUEST_") && strcmp(n, "GUEST_PHYSICAL_ADDRESS") != 0 &&
                    strcmp(n, "GUEST_LINEAR_ADDRESS") != 0)
                        ck_assert_msg(type == 2, "%s is not a guest-state field", n);
        }
}
END_TEST

static Suite *vmx_names_suite(void)
{
        Suite *s = suite_create("vmx_names");
        TCase *ex = tcase_create("exit_reasons");
        tcase_add_test(ex, exit_reason_known);
        tcase_add_test(ex, exit_reason_every_enum_value_named);
        tcase_add_test(ex, exit_reason_unknown);
        tcase_add_test(ex, instruction_error_known);
        tcase_add_test(ex, instruction_error_unknown);
        suite_add_tcase(s, ex);

        TCase *fl = tcase_create("fields");
        tcase_add_test(fl, field_table_names_match_enum);
        tcase_add_test(fl, field_table_unique);
        tcase_add_test(fl, field_table_covers_the_essentials);
        tcase_add_test(fl, field_name_lookup);
        tcase_add_test(fl, field_width);
        tcase_add_test(fl, field_encodings_sdm);
        tcase_add_test(fl, field_encodings_consistent);
        suite_add_tcase(s, fl);
        return s;
}

int main(void)
{
        return unit_run_suite(vmx_names_suite());
}
