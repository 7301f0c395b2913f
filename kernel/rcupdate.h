/*
 * Kernel shim: RCU (emu/rcu.h) and object lifetimes.
 *
 * rcu_dereference()/rcu_assign_pointer() work on shared<T *> words: a load, and a
 * write barrier followed by a store. Objects that RCU protects carry an id from
 * obj_alloc(); obj_check() reports a fatal use-after-free when a reader reaches an
 * object that was already freed, and call_rcu() for (or a callback on) a freed object
 * is a fatal rcu-callback-freed report.
 *
 * Context: task context; call_rcu() also in IRQ context; callbacks run in IRQ context
 * (the RCU softirq) of the CPU that queued them.
 */
#pragma once

#include <string>

#include "emu/rcu.h"
#include "kernel/compiler.h"
#include "kernel/sched.h"

typedef smpemu::RcuHead rcu_head;

static inline void rcu_read_lock(void)
{
	smpemu::running_machine("rcu_read_lock()").rcu().read_lock();
}

static inline void rcu_read_unlock(void)
{
	smpemu::running_machine("rcu_read_unlock()").rcu().read_unlock();
}

static inline bool rcu_read_lock_held(void)
{
	return smpemu::running_machine("rcu_read_lock_held()").rcu().read_lock_held();
}

static inline void call_rcu(rcu_head *head, void (*func)(rcu_head *))
{
	smpemu::running_machine("call_rcu()").rcu().call_rcu(head, func);
}

static inline void synchronize_rcu(void)
{
	smpemu::running_machine("synchronize_rcu()").rcu().synchronize();
}

#define rcu_dereference(p) READ_ONCE(p)
#define rcu_assign_pointer(p, v)		\
	do {					\
		smp_wmb();			\
		WRITE_ONCE(p, (v));		\
	} while (0)

/*
 * Return to user mode: a preemption point, an RCU quiescent state and a kill point (a
 * task killed by do_group_exit() exits here, as the kernel's does on its way out).
 */
static inline void return_to_user(void)
{
	smpemu::Machine *m = &smpemu::running_machine("return_to_user()");
	m->user_return();
	m->kill_point();
}

/* Object lifetimes for use-after-free checks (kmalloc/kfree bookkeeping). */
static inline unsigned obj_alloc(const char *kind, caller_ip_t ip = _RET_IP_)
{
	return smpemu::running_machine("obj_alloc()", "m.objects().alloc(kind)").objects().alloc(kind, ip);
}

static inline void obj_free(unsigned id, caller_ip_t ip = _RET_IP_)
{
	smpemu::running_machine("obj_free()").objects().free(id, ip);
}

static inline bool obj_check(unsigned id, const char *what, caller_ip_t ip = _RET_IP_)
{
	return smpemu::running_machine("obj_check()").objects().check(id, what, ip);
}
