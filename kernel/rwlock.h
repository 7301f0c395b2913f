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

static inline void rwlock_init(rwlock_t *l, const char *cls) { l->init(*smpemu::this_machine(), cls); }
static inline void rwlock_init_on(smpemu::Machine *m, rwlock_t *l, const char *cls) { l->init(*m, cls); }
static inline void read_lock(rwlock_t *l) { l->read_lock(); }
static inline void read_unlock(rwlock_t *l) { l->read_unlock(); }
static inline void write_lock(rwlock_t *l) { l->write_lock(); }
static inline void write_unlock(rwlock_t *l) { l->write_unlock(); }
static inline int read_trylock(rwlock_t *l) { return l->read_trylock(); }
static inline int write_trylock(rwlock_t *l) { return l->write_trylock(); }
