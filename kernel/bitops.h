/*
 * Kernel shim: atomic bit operations and xchg/cmpxchg on shared<T> words.
 *
 * Each operation is one sync point costing an atomic read-modify-write on the word's
 * line (Machine::atomically / exchange / compare_exchange), like a LOCK-prefixed x86
 * instruction. test_bit() is a plain READ_ONCE. clear_bit_unlock() is an atomic clear
 * with release semantics, as x86 (a LOCK-prefixed and) and powerpc (lwsync, then a
 * ldarx/stdcx. loop) implement it: other bits of the word may change under it (a page's
 * flags while its lock is released).
 *
 * Context: any, inside Machine::run().
 */
#pragma once

#include "kernel/compiler.h"

#define BIT(nr) (1UL << (nr))

static inline bool test_bit(int nr, const shared<unsigned long> *addr, smpemu::Where loc = smpemu::Where::here())
{
	return (__read_once(addr, loc) & BIT(nr)) != 0;
}

static inline void set_bit(int nr, shared<unsigned long> *addr, smpemu::Where loc = smpemu::Where::here())
{
	smpemu::running_machine("set_bit()").atomically(addr->line, [&] { addr->v |= BIT(nr); }, loc);
}

static inline void clear_bit(int nr, shared<unsigned long> *addr, smpemu::Where loc = smpemu::Where::here())
{
	smpemu::running_machine("clear_bit()").atomically(addr->line, [&] { addr->v &= ~BIT(nr); }, loc);
}

/* test_and_set_bit - set bit @nr, return its old value; acquire semantics. */
static inline bool test_and_set_bit(int nr, shared<unsigned long> *addr, smpemu::Where loc = smpemu::Where::here())
{
	return smpemu::running_machine("test_and_set_bit()").atomically(addr->line, [&] {
		const bool old = (addr->v & BIT(nr)) != 0;
		addr->v |= BIT(nr);
		return old;
	}, loc);
}

static inline bool test_and_clear_bit(int nr, shared<unsigned long> *addr, smpemu::Where loc = smpemu::Where::here())
{
	return smpemu::running_machine("test_and_clear_bit()").atomically(addr->line, [&] {
		const bool old = (addr->v & BIT(nr)) != 0;
		addr->v &= ~BIT(nr);
		return old;
	}, loc);
}

/* clear_bit_unlock - release a bit lock: clear the bit atomically. (A plain store of the
 * word read before the sync point would undo other CPUs' updates to its other bits made
 * meanwhile: the lost-flag race that made reclaim free a page still marked PG_lru.) */
static inline void clear_bit_unlock(int nr, shared<unsigned long> *addr, smpemu::Where loc = smpemu::Where::here())
{
	smpemu::running_machine("clear_bit_unlock()").atomically(addr->line, [&] { addr->v &= ~BIT(nr); }, loc);
}

/* xchg - store @nv, return the old value (one atomic). */
template <typename T, typename V>
static inline T xchg(shared<T> *s, V nv, smpemu::Where loc = smpemu::Where::here())
{
	return smpemu::running_machine("xchg()").exchange(s->line, s->v, static_cast<T>(nv), loc);
}

/* fetch_andnot_or - one atomic: clear @clr and set @set in the word (clear first);
 * returns the old value (an ldarx/stdcx. loop on powerpc, lock cmpxchg on x86). */
template <typename T>
static inline T fetch_andnot_or(shared<T> *s, T clr, T set, smpemu::Where loc = smpemu::Where::here())
{
	return smpemu::running_machine("fetch_andnot_or()").atomically(s->line, [&] {
		const T old = s->v;
		s->v = static_cast<T>((old & ~clr) | set);
		return old;
	}, loc);
}

/* cmpxchg - store @nv if the word equals @old; returns the value seen. */
template <typename T, typename V, typename W>
static inline T cmpxchg(shared<T> *s, V old, W nv, smpemu::Where loc = smpemu::Where::here())
{
	T expected = static_cast<T>(old);
	smpemu::running_machine("cmpxchg()").compare_exchange(s->line, s->v, expected, static_cast<T>(nv), loc);
	return expected;
}
