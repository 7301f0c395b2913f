/*
 * Kernel shim: lockdep annotations for locks built in mm/ (bit locks such as PG_locked).
 *
 * The engine's locks report to lockdep themselves; a lock made of a flag bit and a wait
 * queue (lock_page) tells it here what it does, like the kernel's lock_map_acquire():
 * lock_map_check() before it may wait (the order check), lock_map_acquired() once it
 * holds the lock (statistics lock.<class>.wait/hold), lock_map_release() when it lets go.
 * lockdep_current_holds_class() asks whether the current task holds a lock of a class.
 *
 * Context: task context, inside Machine::run(); not sync points.
 */
#pragma once

#include <cstdint>
#include <string>

#include "emu/machine.h"
#include "kernel/callpath.h"

/* The engine's Machine::current() meets the kernel's `current` macro (kernel/sched.h). */
#pragma push_macro("current")
#undef current

struct lockdep_map {
	std::uint32_t cls;
};

static inline void lockdep_init_map_on(smpemu::Machine *m, struct lockdep_map *map, const char *cls)
{
	map->cls = m->lockdep().class_of(cls);
}

static inline void lock_map_check(struct lockdep_map *map, const std::string &instance, caller_ip_t ip)
{
	smpemu::Machine *m = &smpemu::running_machine("lock_map_check()");
	m->lockdep().check_order(m->current(), map->cls, instance, m->lock_path(ip));
}

static inline void lock_map_acquired(struct lockdep_map *map, const void *lock, const std::string &instance,
				     smpemu::Cycles requested, bool contended, caller_ip_t ip)
{
	smpemu::Machine *m = &smpemu::running_machine("lock_map_acquired()");
	m->lockdep().acquired(m->current(), smpemu::MapLock{lock}, map->cls, smpemu::LockKind::BitLock, instance,
			      requested, contended, m->lock_path(ip));
}

/* Returns false (after an unlock-not-held report) if the current task did not hold it. */
static inline bool lock_map_release(const void *lock, const std::string &instance, caller_ip_t ip)
{
	smpemu::Machine *m = &smpemu::running_machine("lock_map_release()");
	return m->lockdep().released(m->current(), smpemu::MapLock{lock}, instance, ip);
}

static inline bool lockdep_current_holds_class(const char *cls)
{
	smpemu::Machine *m = &smpemu::running_machine("lockdep_current_holds_class()");
	const std::uint32_t id = m->lockdep().class_of(cls);
	for (const smpemu::HeldLock &h : m->current()->held_locks)
		if (h.cls == id)
			return true;
	return false;
}

/* Like lockdep_current_holds_class() for the class of @map (no lookup by name). */
static inline bool lockdep_current_holds_map(const struct lockdep_map *map)
{
	for (const smpemu::HeldLock &h : smpemu::running_machine("lockdep_current_holds_map()").current()->held_locks)
		if (h.cls == map->cls)
			return true;
	return false;
}

/* The current clock, for lock_map_acquired()'s @requested. */
static inline smpemu::Cycles lock_clock(void)
{
	return smpemu::running_machine("lock_clock()").now();
}

#pragma pop_macro("current")
