/* Task-switch VM exits: the guest's hardware task switch, performed by
 * emulate/task_switch.c on the vCPU's VMCS state. */
#ifndef VTV_CORE_TASKSWITCH_H
#define VTV_CORE_TASKSWITCH_H

#include "core/exit.h"

/* The handler of exit reason 9 (TASK_SWITCH).  vm->lock held. */
enum exit_action exit_task_switch(struct vcpu *v);

#endif
