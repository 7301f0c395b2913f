/*
 * Kernel shim: current, preemption, interrupts and scheduling points.
 *
 * Preemption points follow the machine's preemption model (emu/sched.cc):
 * cond_resched() everywhere, might_sleep() under voluntary and full, preempt_enable()
 * under full. might_sleep() in atomic context is a sleep-in-atomic report.
 *
 * Context: task context, inside Machine::run(); the irq helpers also in IRQ context.
 */
#pragma once

#include "kernel/compiler.h"

struct task_struct;	/* opaque: an emulated task (smpemu::Task) */

#define current (reinterpret_cast<struct task_struct *>(smpemu::running_machine("current").current()))

static inline int smp_processor_id(void)
{
	return smpemu::running_machine("smp_processor_id()").cpu_id();
}

static inline void preempt_disable(void)
{
	smpemu::running_machine("preempt_disable()").preempt_disable();
}

static inline void preempt_enable(void)
{
	smpemu::running_machine("preempt_enable()").preempt_enable();
}

static inline int preempt_count(void)
{
	return smpemu::running_machine("preempt_count()").preempt_count();
}

static inline bool need_resched(void)
{
	return smpemu::running_machine("need_resched()").need_resched();
}

static inline void might_sleep(caller_ip_t ip = _RET_IP_)
{
	smpemu::running_machine("might_sleep()").might_sleep(ip);
}

static inline int cond_resched(void)
{
	smpemu::Machine *m = &smpemu::running_machine("cond_resched()");
	const bool due = m->need_resched();
	m->cond_resched();
	return due;
}

static inline void schedule(void)
{
	smpemu::running_machine("schedule()").schedule();
}

static inline void local_irq_disable(void)
{
	smpemu::running_machine("local_irq_disable()").irq_disable();
}

static inline void local_irq_enable(void)
{
	smpemu::running_machine("local_irq_enable()").irq_enable();
}

static inline bool irqs_disabled(void)
{
	return smpemu::running_machine("irqs_disabled()").irqs_disabled();
}

#define local_irq_save(flags) ((flags) = smpemu::running_machine("local_irq_save()").irq_save())
#define local_irq_restore(flags) smpemu::running_machine("local_irq_restore()").irq_restore(flags)

/* Local work of @cycles cycles: not visible to other CPUs. */
static inline void cpu_work(smpemu::Cycles cycles)
{
	smpemu::running_machine("cpu_work()").compute(cycles);
}

/* local_clock - this CPU's cycle clock (the kernel's sched_clock, in cycles). */
static inline smpemu::Cycles local_clock(void)
{
	return smpemu::running_machine("local_clock()").now();
}

/* sleep_until - block until this CPU's clock reaches @t (hrtimer sleep; cyclictest). */
static inline void sleep_until(smpemu::Cycles t)
{
	smpemu::running_machine("sleep_until()").sleep_until(t);
}

/*
 * IS_ENABLED(CONFIG_PREEMPT): the machine runs the full preemption model. Kernel code
 * that the kernel compiles differently under CONFIG_PREEMPT (ZAP_BLOCK_SIZE,
 * need_lockbreak) asks this at run time.
 */
static inline bool config_preempt(void)
{
	return smpemu::running_machine("config_preempt()").params().preempt == smpemu::PreemptModel::Full;
}
