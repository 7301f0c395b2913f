/*
 * Kernel shim: rwlock_t (emu/rwlock.h): shared readers, one writer, not fair; both
 * sides disable preemption. The class names the lock statistics and lockdep class.
 *
 * Context: task context, inside Machine::run() (rwlock_init_on before it).
 */
#pragma once

#include "emu/rwlock.h"
#include "kernel/compiler.h"

typedef smpemu::RwLock rwlock_t;

static inline void rwlock_init(rwlock_t *l, const char *cls) { l->init(smpemu::running_machine("rwlock_init()", "rwlock_init_on(&m, ...)"), cls); }
static inline void rwlock_init_on(smpemu::Machine *m, rwlock_t *l, const char *cls) { l->init(*m, cls); }
static inline void read_lock(rwlock_t *l, caller_ip_t ip = _RET_IP_) { l->read_lock(ip); }
static inline void read_unlock(rwlock_t *l, caller_ip_t ip = _RET_IP_) { l->read_unlock(ip); }
static inline void write_lock(rwlock_t *l, caller_ip_t ip = _RET_IP_) { l->write_lock(ip); }
static inline void write_unlock(rwlock_t *l, caller_ip_t ip = _RET_IP_) { l->write_unlock(ip); }
static inline int read_trylock(rwlock_t *l, caller_ip_t ip = _RET_IP_) { return l->read_trylock(ip); }
static inline int write_trylock(rwlock_t *l, caller_ip_t ip = _RET_IP_) { return l->write_trylock(ip); }
