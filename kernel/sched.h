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

#include <functional>

#include "kernel/compiler.h"

struct task_struct;	/* opaque: an emulated task (smpemu::Task) */

/* The two views of one task: the kernel's opaque handle and the engine's Task. */
static inline smpemu::Task *__task(struct task_struct *t)
{
	return reinterpret_cast<smpemu::Task *>(t);
}

static inline struct task_struct *task_struct_of(smpemu::Task *t)
{
	return reinterpret_cast<struct task_struct *>(t);
}

#define current (task_struct_of(smpemu::running_machine("current").current()))

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
	m->kill_point();
	return due;
}

/*
 * schedule - after set_current_state(TASK_KILLABLE) also a kill point: a task killed by
 * do_group_exit() exits here. Other sleeps are not (the open-coded wait of
 * kernel/wait.h still has its entry queued when schedule() returns).
 */
static inline void schedule(void)
{
	smpemu::Machine *m = &smpemu::running_machine("schedule()");
	const bool killable = __task(current)->killable;
	m->schedule();
	if (killable)
		m->kill_point();
}

/*
 * Task states for set_current_state(). TASK_UNINTERRUPTIBLE and TASK_INTERRUPTIBLE
 * sleeps are woken only by wake_up_process() (there are no signals but the group
 * kill); TASK_KILLABLE sleeps are also woken by do_group_exit() of the task's group.
 */
#define TASK_RUNNING		0
#define TASK_INTERRUPTIBLE	1
#define TASK_UNINTERRUPTIBLE	2
#define TASK_KILLABLE		(TASK_UNINTERRUPTIBLE | 0x100)

static inline void __set_state(smpemu::Machine *m, int state, bool barrier)
{
	if (state == TASK_RUNNING) {
		if (barrier)
			m->barrier();
		m->set_current_running();
	} else if (barrier) {
		m->set_current_blocked(state == TASK_KILLABLE);
	} else {
		m->mark_current_blocked(state == TASK_KILLABLE);
	}
}

/*
 * set_current_state - the sleep protocol's first step, with a full barrier (a sync
 * point): set_current_state(TASK_UNINTERRUPTIBLE); if (!cond) schedule();
 * __set_current_state(TASK_RUNNING). A wake_up_process() before it is lost.
 */
static inline void set_current_state(int state)
{
	__set_state(&smpemu::running_machine("set_current_state()"), state, true);
}

/* __set_current_state - the same without the barrier: not a sync point. */
static inline void __set_current_state(int state)
{
	__set_state(&smpemu::running_machine("__set_current_state()"), state, false);
}

/* wake_up_process - wakes @p if it sleeps; returns 1 if it did (a sync point). */
static inline int wake_up_process(struct task_struct *p)
{
	return smpemu::running_machine("wake_up_process()").wake(__task(p)) ? 1 : 0;
}

/*
 * Tasks and thread groups (docs/KERNEL.md, "Tasks, joins and group exit").
 *
 * kthread_run_on_cpu() starts a task that leads a new thread group; clone_thread() one
 * in current's group (clone(CLONE_THREAD)). kthread_join() sleeps until the task has
 * exited and returns its exit code (a killable sleep; a join cycle is a deadlock
 * report). do_exit() ends current; do_group_exit() ends current and kills the rest of
 * its group: each dies at its next kill point (cond_resched(), return_to_user(),
 * kthread_join(), schedule() after set_current_state(TASK_KILLABLE), sleep_until(), or
 * before it starts),
 * and a killed task's locks stay held. fatal_signal_pending() lets a polling loop
 * notice the kill.
 *
 * Context: task context, inside Machine::run(); in setup() use m.spawn() and
 * m.spawn_thread().
 */
static inline struct task_struct *kthread_run_on_cpu(std::function<void()> fn, int cpu, const char *name)
{
	return task_struct_of(
		smpemu::running_machine("kthread_run_on_cpu()", "m.spawn(...)").spawn(name, cpu, std::move(fn)));
}

static inline struct task_struct *clone_thread(std::function<void()> fn, int cpu, const char *name)
{
	smpemu::Machine *m = &smpemu::running_machine("clone_thread()", "m.spawn_thread(...)");
	return task_struct_of(m->spawn_thread(__task(current), name, cpu, std::move(fn)));
}

static inline int kthread_join(struct task_struct *t)
{
	return smpemu::running_machine("kthread_join()").join(__task(t));
}

static inline bool task_is_dead(struct task_struct *t)
{
	return smpemu::running_machine("task_is_dead()").task_dead(__task(t));
}

[[noreturn]] static inline void do_exit(int code)
{
	smpemu::running_machine("do_exit()").exit_current(code);
}

[[noreturn]] static inline void do_group_exit(int code)
{
	smpemu::running_machine("do_group_exit()").exit_group(code);
}

static inline bool fatal_signal_pending(struct task_struct *t)
{
	return __task(t)->kill_pending;
}

static inline int task_pid_nr(struct task_struct *t) { return static_cast<int>(__task(t)->id); }
static inline int task_tgid_nr(struct task_struct *t) { return static_cast<int>(__task(t)->tgid); }

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

/*
 * set_switch_hooks_on - the arch's part of __switch_to on machine @m (host side, at MMU
 * set-up; all NULL clears them): @out_needed is asked host-side when a task enters
 * schedule(); if true, @out runs in that task's context with preemption and IRQs off
 * (it may flush); @in runs when the task returns from schedule(). Both get the task's
 * thread_info local_flags. Semantics: Machine::set_switch_hooks (emu/machine.h).
 */
typedef bool (*switch_out_needed_fn)(void *arg);
typedef void (*switch_hook_fn)(void *arg, std::uint32_t *local_flags);
static inline void set_switch_hooks_on(smpemu::Machine *m, switch_out_needed_fn out_needed, switch_hook_fn out,
				       switch_hook_fn in, void *arg)
{
	m->set_switch_hooks({out_needed, out, in, arg});
}

/* sleep_until - block until this CPU's clock reaches @t (hrtimer sleep; cyclictest). */
static inline void sleep_until(smpemu::Cycles t)
{
	smpemu::Machine *m = &smpemu::running_machine("sleep_until()");
	m->sleep_until(t);
	m->kill_point();
}

/* HZ - the machine's timer tick frequency (--hz, validated >= 1 by the command line). */
static inline unsigned long kernel_hz(void)
{
	return smpemu::running_machine("HZ").params().hz;
}
#define HZ (kernel_hz())

/* schedule_timeout_uninterruptible - sleep @jiffies timer ticks. */
static inline void schedule_timeout_uninterruptible(unsigned long jiffies)
{
	smpemu::Machine *m = &smpemu::running_machine("schedule_timeout_uninterruptible()");
	sleep_until(local_clock() + static_cast<smpemu::Cycles>(m->costs().clock_hz * jiffies / m->params().hz));
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
