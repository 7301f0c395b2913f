/*
 * Kernel shim: atomic_t and atomic_long_t.
 *
 * Each atomic lives on its own coherence line unless atomic_init_on() places it on a
 * shared one. Every operation is a sync point; read-modify-write operations cost an
 * atomic on the line (coherence.h).
 *
 * Context: any, inside Machine::run().
 */
#pragma once

#include "kernel/compiler.h"

typedef struct {
	int counter;
	smpemu::LineId line;
} atomic_t;

typedef struct {
	long counter;
	smpemu::LineId line;
} atomic_long_t;

#define ATOMIC_OPS(type, val_t, prefix)							\
static inline void prefix##_init(type *a, val_t v)					\
{											\
	a->line = new_line();								\
	a->counter = v;									\
}											\
static inline void prefix##_init_on(type *a, smpemu::LineId line, val_t v)		\
{											\
	a->line = line;									\
	a->counter = v;									\
}											\
static inline val_t prefix##_read(const type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	return smpemu::running_machine("atomic_read()").load(a->line, a->counter, loc);			\
}											\
static inline void prefix##_set(type *a, val_t v, smpemu::Where loc = smpemu::Where::here())					\
{											\
	smpemu::running_machine("atomic_set()").store(a->line, a->counter, v, loc);				\
}											\
static inline val_t prefix##_add_return(val_t d, type *a, smpemu::Where loc = smpemu::Where::here())				\
{											\
	return smpemu::running_machine("atomic_add_return()").fetch_add(a->line, a->counter, d, loc) + d;		\
}											\
static inline val_t prefix##_sub_return(val_t d, type *a, smpemu::Where loc = smpemu::Where::here())				\
{											\
	return smpemu::running_machine("atomic_sub_return()").fetch_add(a->line, a->counter, static_cast<val_t>(-d), loc) - d; \
}											\
static inline void prefix##_add(val_t d, type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	smpemu::running_machine("atomic_add()").fetch_add(a->line, a->counter, d, loc);			\
}											\
static inline void prefix##_sub(val_t d, type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	smpemu::running_machine("atomic_sub()").fetch_add(a->line, a->counter, static_cast<val_t>(-d), loc);	\
}											\
static inline void prefix##_inc(type *a, smpemu::Where loc = smpemu::Where::here())						\
{											\
	prefix##_add(1, a, loc);								\
}											\
static inline void prefix##_dec(type *a, smpemu::Where loc = smpemu::Where::here())						\
{											\
	prefix##_sub(1, a, loc);								\
}											\
static inline val_t prefix##_inc_return(type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	return prefix##_add_return(1, a, loc);						\
}											\
static inline val_t prefix##_dec_return(type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	return prefix##_sub_return(1, a, loc);						\
}											\
static inline bool prefix##_dec_and_test(type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	return prefix##_sub_return(1, a, loc) == 0;						\
}											\
static inline bool prefix##_inc_not_zero(type *a, smpemu::Where loc = smpemu::Where::here())					\
{											\
	val_t c = prefix##_read(a, loc);							\
	while (c != 0) {								\
		if (smpemu::running_machine("atomic_inc_not_zero()").compare_exchange(a->line, a->counter, c, static_cast<val_t>(c + 1), loc)) \
			return true;							\
	}										\
	return false;									\
}											\
/* Returns the old value; the exchange happened if it equals @old. */			\
static inline val_t prefix##_cmpxchg(type *a, val_t old, val_t nv, smpemu::Where loc = smpemu::Where::here())			\
{											\
	val_t expected = old;								\
	smpemu::running_machine("atomic_cmpxchg()").compare_exchange(a->line, a->counter, expected, nv, loc);	\
	return expected;								\
}											\
static inline val_t prefix##_xchg(type *a, val_t nv, smpemu::Where loc = smpemu::Where::here())					\
{											\
	return smpemu::running_machine("atomic_xchg()").exchange(a->line, a->counter, nv, loc);		\
}

ATOMIC_OPS(atomic_t, int, atomic)
ATOMIC_OPS(atomic_long_t, long, atomic_long)

#undef ATOMIC_OPS
