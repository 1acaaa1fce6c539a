/* The scheduler: each physical CPU runs the vCPUs placed on it at boot,
 * round-robin in time slices bounded by the VMX preemption timer.  A vCPU
 * never moves to another CPU, so its VMCS is only ever loaded on one CPU;
 * work for a vCPU from elsewhere arrives as request bits or APIC state
 * under its VM's lock, plus a kick (sched_kick) that makes its CPU leave
 * guest mode.  Per-CPU scheduler state is touched only by its own CPU. */
#ifndef VTV_CORE_SCHED_H
#define VTV_CORE_SCHED_H

#include "core/vm.h"

/* At boot, before any CPU runs: vCPU index of vm runs on physical CPU cpu.
 * Returns false when that CPU's run queue is full. */
bool sched_add(struct vm *vm, unsigned index, unsigned cpu);

/* This CPU's loop: runs its vCPUs until none of their VMs can run again. */
void sched_run(void);

/* On a kick, in vcpu_run on this CPU: whether the running vCPU should give
 * up the CPU now, because another vCPU here has had less of it. */
bool sched_kick_should_yield(void);

#endif
