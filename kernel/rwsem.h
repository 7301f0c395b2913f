/*
 * Kernel shim: struct rw_semaphore (readers share, writers exclusive, FIFO queue with
 * writer preference, no optimistic spinning; emu/rwsem.h).
 *
 * init_rwsem() names the lock class used by the lock statistics (lock.<class>.wait/hold)
 * and the lock-order checker; the *_nested() variants take a subclass for intended
 * same-class nesting.
 *
 * Context: task context; down_read()/down_write() may sleep (might_sleep() is checked),
 * inside Machine::run().
 */
#pragma once

#include "emu/rwsem.h"
#include "kernel/compiler.h"

struct rw_semaphore : smpemu::RwSem {};

static inline void init_rwsem(struct rw_semaphore *sem, const char *cls)
{
	sem->init(smpemu::running_machine("init_rwsem()", "init_rwsem_on(&m, ...)"), cls);
}

/* For setup code that runs before Machine::run(). */
static inline void init_rwsem_on(smpemu::Machine *m, struct rw_semaphore *sem, const char *cls)
{
	sem->init(*m, cls);
}

static inline void down_read(struct rw_semaphore *sem, caller_ip_t ip = _RET_IP_) { sem->down_read(0, ip); }
static inline void down_read_nested(struct rw_semaphore *sem, unsigned subclass, caller_ip_t ip = _RET_IP_) { sem->down_read(subclass, ip); }
static inline void up_read(struct rw_semaphore *sem, caller_ip_t ip = _RET_IP_) { sem->up_read(ip); }
static inline void down_write(struct rw_semaphore *sem, caller_ip_t ip = _RET_IP_) { sem->down_write(0, ip); }
static inline void down_write_nested(struct rw_semaphore *sem, unsigned subclass, caller_ip_t ip = _RET_IP_) { sem->down_write(subclass, ip); }
static inline void up_write(struct rw_semaphore *sem, caller_ip_t ip = _RET_IP_) { sem->up_write(ip); }
/* Return 1 if the semaphore was taken: fail if a writer holds it or anyone waits. */
static inline int down_read_trylock(struct rw_semaphore *sem, caller_ip_t ip = _RET_IP_) { return sem->down_read_trylock(ip); }
static inline int down_write_trylock(struct rw_semaphore *sem, caller_ip_t ip = _RET_IP_) { return sem->down_write_trylock(ip); }
static inline int rwsem_is_locked(struct rw_semaphore *sem) { return sem->is_locked(); }
