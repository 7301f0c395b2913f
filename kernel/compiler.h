/*
 * Kernel shim: shared words, READ_ONCE/WRITE_ONCE and barriers.
 *
 * mm/ and arch/ code reaches the engine only through the kernel/ headers. Data that
 * another CPU can read or write without a lock is declared as shared<T>: the value and
 * the coherence line it lives on (several fields of one structure may share a line).
 * READ_ONCE/WRITE_ONCE on it are sync points costed by the coherence model; plain
 * accesses to data protected by a held lock need none (the kernel's own discipline,
 * which is what makes unprotected races reachable here).
 *
 * The engine is found through smpemu::this_machine(), the Machine running on this
 * host thread, like the kernel's `current`. A shim call that needs it, made where no
 * machine runs (a workload's setup() or finish()), throws ConfigError naming the call
 * (one line, exit status 2) instead of dereferencing nullptr; setup code uses the
 * variants that take the Machine: spin_lock_init_on(), mutex_init_on(), m.new_line() ...
 *
 * Context: task or interrupt context of an emulated CPU, inside Machine::run().
 */
#pragma once

#include "emu/machine.h"
#include "kernel/callpath.h"

template <typename T>
struct shared {
	T v;
	smpemu::LineId line;
};

/* shared_init - place @s on @line with initial value @val (not a sync point). */
template <typename T>
static inline void shared_init(shared<T> *s, smpemu::LineId line, T val)
{
	s->line = line;
	s->v = val;
}

/* new_line - a fresh coherence line, for shared_init() and the locks. */
static inline smpemu::LineId new_line(void)
{
	return smpemu::running_machine("new_line()", "m.new_line()").new_line();
}

template <typename T>
static inline T __read_once(const shared<T> *s, smpemu::Where loc = smpemu::Where::here())
{
	return smpemu::running_machine("READ_ONCE()").load(s->line, s->v, loc);
}

template <typename T, typename V>
static inline void __write_once(shared<T> *s, V val, smpemu::Where loc = smpemu::Where::here())
{
	smpemu::running_machine("WRITE_ONCE()").store(s->line, s->v, static_cast<T>(val), loc);
}

/* smp_cond_load_relaxed - wait until @cond(*@s) holds and return that value: one load,
 * then the CPU is parked on the line until a store changes it (Machine::spin_until),
 * charged as spin time rather than emulated load by load. */
template <typename T, typename Cond>
static inline T smp_cond_load_relaxed(const shared<T> *s, Cond cond, smpemu::Where loc = smpemu::Where::here())
{
	return smpemu::running_machine("smp_cond_load_relaxed()").spin_until(s->line, s->v, cond, loc);
}

#define READ_ONCE(x) __read_once(&(x))
#define WRITE_ONCE(x, val) __write_once(&(x), (val))

/* Barriers are sync points; smp_mb() costs a full barrier, rmb/wmb are free on x86. */
static inline void smp_mb(void)
{
	smpemu::running_machine("smp_mb()").barrier();
}

static inline void smp_rmb(void)
{
	smpemu::running_machine("smp_rmb()").sync_point();
}

static inline void smp_wmb(void)
{
	smpemu::running_machine("smp_wmb()").sync_point();
}
