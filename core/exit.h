/* VM-exit dispatch: one handler per basic exit reason, in a table. */
#ifndef VTV_CORE_EXIT_H
#define VTV_CORE_EXIT_H

#include "core/vm.h"

enum exit_action {
        EXIT_CONTINUE, /* re-enter the guest */
        EXIT_YIELD,    /* let another VM run first */
};

enum exit_action exit_dispatch(struct vcpu *v, uint32_t basic_reason);

/* Sets v->cpuid_max, the highest basic CPUID leaf v sees: at vCPU set-up
 * and when IA32_MISC_ENABLE's "limit CPUID maxval" changes. */
void exit_cpuid_limits(struct vcpu *v);

/* The handler table exit_dispatch uses, for the fast path (vcpu.c), which
 * calls only reasons it knows have a handler. */
typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);
extern const exit_handler_fn exit_handlers[EXIT_REASON_MAX];

#endif
