/*
 * Kernel shim: struct mutex (sleeping, FIFO hand-off; emu/mutex.h).
 *
 * Context: task context, may sleep (might_sleep() is checked), inside Machine::run().
 */
#pragma once

#include "emu/mutex.h"
#include "kernel/compiler.h"

struct mutex : smpemu::Mutex {};

static inline void mutex_init(struct mutex *l, const char *cls)
{
	l->init(smpemu::running_machine("mutex_init()", "mutex_init_on(&m, ...)"), cls);
}

/* For setup code that runs before Machine::run(). */
static inline void mutex_init_on(smpemu::Machine *m, struct mutex *l, const char *cls)
{
	l->init(*m, cls);
}

static inline void mutex_lock(struct mutex *l, caller_ip_t ip = _RET_IP_) { l->lock(0, ip); }
static inline void mutex_lock_nested(struct mutex *l, unsigned subclass, caller_ip_t ip = _RET_IP_) { l->lock(subclass, ip); }
static inline void mutex_unlock(struct mutex *l, caller_ip_t ip = _RET_IP_) { l->unlock(ip); }
static inline int mutex_trylock(struct mutex *l, caller_ip_t ip = _RET_IP_) { return l->trylock(ip); }
static inline int mutex_is_locked(struct mutex *l) { return l->is_locked(); }
