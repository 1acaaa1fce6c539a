/* VM-exit dispatch: one handler per basic exit reason, in a table. */
#ifndef VTV_CORE_EXIT_H
#define VTV_CORE_EXIT_H

#include "core/vm.h"

enum exit_action {
        EXIT_CONTINUE, /* re-enter the guest */
        EXIT_YIELD,    /* let another VM run first */
};

enum exit_action exit_dispatch(struct vcpu *v, uint32_t basic_reason);

#endif
