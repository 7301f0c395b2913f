/*
 * Kernel shim: spinlock_t (a ticket lock that disables preemption; emu/spinlock.h).
 *
 * spin_lock_init() names the lock class used by the lock statistics
 * (lock.<class>.wait/hold) and the lock-order checker; spin_lock_nested() takes a
 * subclass for intended same-class nesting.
 *
 * Context: task context (spin_lock_irqsave also with IRQs off), inside Machine::run().
 */
#pragma once

#include "emu/spinlock.h"
#include "kernel/compiler.h"

typedef smpemu::SpinLock spinlock_t;

static inline void spin_lock_init(spinlock_t *l, const char *cls)
{
	l->init(smpemu::running_machine("spin_lock_init()", "spin_lock_init_on(&m, ...)"), cls);
}

/* spin_lock_init_sleeping - spin_lock_init() of PREEMPT_RT: a sleeping lock whose
 * holder stays preemptible (emu/spinlock.h); mm's pte locks with knob pte_lock=rt. */
static inline void spin_lock_init_sleeping(spinlock_t *l, const char *cls)
{
	l->init_sleeping(smpemu::running_machine("spin_lock_init_sleeping()"), cls);
}

/* For setup code that runs before Machine::run(). */
static inline void spin_lock_init_on(smpemu::Machine *m, spinlock_t *l, const char *cls)
{
	l->init(*m, cls);
}

static inline void spin_lock(spinlock_t *l, caller_ip_t ip = _RET_IP_) { l->lock(0, ip); }
static inline void spin_lock_nested(spinlock_t *l, unsigned subclass, caller_ip_t ip = _RET_IP_) { l->lock(subclass, ip); }
static inline void spin_unlock(spinlock_t *l, caller_ip_t ip = _RET_IP_) { l->unlock(ip); }
static inline int spin_trylock(spinlock_t *l, caller_ip_t ip = _RET_IP_) { return l->trylock(ip); }
static inline int spin_is_locked(spinlock_t *l) { return l->is_locked(); }
static inline int spin_is_contended(spinlock_t *l) { return l->is_contended(); }
static inline int spin_needbreak(spinlock_t *l) { return l->is_contended(); }
static inline int cond_resched_lock(spinlock_t *l, caller_ip_t ip = _RET_IP_) { return smpemu::cond_resched_lock(*l, ip); }

#define spin_lock_irqsave(l, flags) ((flags) = (l)->lock_irqsave())
#define spin_unlock_irqrestore(l, flags) (l)->unlock_irqrestore(flags)

static inline void spin_lock_irq(spinlock_t *l, caller_ip_t ip = _RET_IP_)
{
	smpemu::running_machine("spin_lock_irq()").irq_disable();
	l->lock(0, ip);
}

static inline void spin_unlock_irq(spinlock_t *l, caller_ip_t ip = _RET_IP_)
{
	l->unlock(ip);
	smpemu::running_machine("spin_unlock_irq()").irq_enable();
}
