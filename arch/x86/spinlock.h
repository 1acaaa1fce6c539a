/* Spinlocks.  Each lock is named for what it protects and documented where
 * it is defined; the order in which locks nest is written once, in
 * docs/architecture.md ("Locks").  Interrupts are always off in the
 * hypervisor, so a lock never has to mask them; a lock is never held across
 * a VM entry. */
#ifndef VTV_ARCH_X86_SPINLOCK_H
#define VTV_ARCH_X86_SPINLOCK_H

#include "lib/types.h"

struct spinlock {
        volatile uint32_t locked;
};

#define SPINLOCK_INIT                                                                              \
        {                                                                                          \
                0                                                                                  \
        }

static inline void spin_lock(struct spinlock *l)
{
        while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
                while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
                        __asm__ volatile("pause");
        }
}

static inline bool spin_trylock(struct spinlock *l)
{
        return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(struct spinlock *l)
{
        __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
