/*
 * Kernel shim: struct completion (emu/waitqueue.h).
 *
 * complete() makes one wait_for_completion() return (now or later) and wakes one
 * waiter; complete_all() makes every present and future wait return.
 *
 * Context: wait_for_completion() in task context (may sleep, might_sleep() is checked);
 * complete() in any context; inside Machine::run(), except init_completion_on().
 */
#pragma once

#include "emu/waitqueue.h"
#include "kernel/compiler.h"

struct completion : smpemu::Completion {};

static inline void init_completion(struct completion *x)
{
	x->init(smpemu::running_machine("init_completion()", "init_completion_on(&m, ...)"));
}

/* For setup code that runs before Machine::run(). */
static inline void init_completion_on(smpemu::Machine *m, struct completion *x)
{
	x->init(*m);
}

static inline void reinit_completion(struct completion *x) { x->reinit(); }
static inline void wait_for_completion(struct completion *x) { x->wait_for_completion(); }
static inline void complete(struct completion *x) { x->complete(); }
static inline void complete_all(struct completion *x) { x->complete_all(); }
static inline bool try_wait_for_completion(struct completion *x) { return x->try_wait_for_completion(); }
static inline bool completion_done(struct completion *x) { return x->completion_done(); }
