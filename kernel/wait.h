/*
 * Kernel shim: wait_queue_head_t, wait_event() and wake_up() (emu/waitqueue.h).
 *
 * wait_event(wq, condition) sleeps until @condition is true; it is evaluated after the
 * task is queued and blocked, so a waker that makes @condition true and then calls
 * wake_up(&wq) is never missed. wake_up() wakes every non-exclusive waiter and one
 * exclusive waiter; wake_up_all() wakes all of them.
 *
 * Note: the wait_event() macro shadows smpemu::wait_event() in code that includes this
 * header; call the engine's template as (smpemu::wait_event)(wq, pred) there.
 *
 * Context: wait_event() in task context (may sleep, might_sleep() is checked); wake_up()
 * in any context; inside Machine::run(), except init_waitqueue_head_on().
 */
#pragma once

#include "emu/waitqueue.h"
#include "kernel/compiler.h"

typedef smpemu::WaitQueue wait_queue_head_t;
typedef smpemu::WaitQueue::Entry wait_queue_entry_t;

static inline void init_waitqueue_head(wait_queue_head_t *wq)
{
	wq->init(smpemu::running_machine("init_waitqueue_head()", "init_waitqueue_head_on(&m, ...)"));
}

/* For setup code that runs before Machine::run(). */
static inline void init_waitqueue_head_on(smpemu::Machine *m, wait_queue_head_t *wq)
{
	wq->init(*m);
}

#define wait_event(wq, condition) (smpemu::wait_event)((wq), [&]() -> bool { return (condition); })

static inline void wake_up(wait_queue_head_t *wq) { wq->wake_up(); }
static inline void wake_up_nr(wait_queue_head_t *wq, int nr) { wq->wake_up_nr(nr); }
static inline void wake_up_all(wait_queue_head_t *wq) { wq->wake_up_all(); }
static inline int waitqueue_active(wait_queue_head_t *wq) { return wq->active(); }

static inline void add_wait_queue(wait_queue_head_t *wq, wait_queue_entry_t *e) { wq->add(*e, false); }
static inline void add_wait_queue_exclusive(wait_queue_head_t *wq, wait_queue_entry_t *e) { wq->add(*e, true); }
static inline void remove_wait_queue(wait_queue_head_t *wq, wait_queue_entry_t *e) { wq->remove(*e); }

/* The open-coded protocol: prepare_to_wait(); if (!cond) schedule(); finish_wait(). */
static inline void prepare_to_wait(wait_queue_head_t *wq, wait_queue_entry_t *e) { wq->prepare_to_wait(*e, false); }
static inline void prepare_to_wait_exclusive(wait_queue_head_t *wq, wait_queue_entry_t *e)
{
	wq->prepare_to_wait(*e, true);
}
static inline void finish_wait(wait_queue_head_t *wq, wait_queue_entry_t *e) { wq->finish_wait(*e); }
