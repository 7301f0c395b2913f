// The kernel's wait queues (wait_queue_head_t) and completions, on the engine's sleep
// protocol.
//
// A WaitQueue is a list of entries, one per waiting task. Non-exclusive entries go to
// the front, exclusive ones to the back (add_wait_queue / add_wait_queue_exclusive),
// so wake_up() wakes every non-exclusive waiter and the first exclusive waiter it
// actually wakes; wake_up_all() wakes them all. Entries queued by prepare_to_wait()
// remove themselves when woken (autoremove_wake_function); entries queued by add()
// stay until remove() (default_wake_function). A waiter that is not blocked (already
// woken by something else) is not woken again and does not use up the exclusive wake,
// as try_to_wake_up() returning 0 in the kernel.
//
// The sleep protocol (no wake-up is lost when it is followed):
//
//   WaitQueue::Entry e;
//   for (;;) {
//     wq.prepare_to_wait(e);      // blocked, then queued
//     if (condition) break;       // checked after the task is queued and blocked
//     m.schedule();               // returns at once if woken since prepare_to_wait
//   }
//   wq.finish_wait(e);            // running, dequeued
//
// while the waker makes the condition true and then calls wake_up(). wait_event()
// below is that loop. prepare_to_wait() queues the entry, then sets the task state: a
// waker that finds the entry before the task is blocked neither wakes nor dequeues it
// (and it does not count as the exclusive wake), and the waiter's check that follows
// sees the condition.
//
// Known engine limitation (emu/sched.cc): under full preemption, an interrupt taken at
// a sync point between set_current_blocked() and schedule() preempts the task, and the
// engine's schedule() then puts the blocked task to sleep, where the kernel would keep
// it runnable. The primitives here have no sync point in that window; a wait_event()
// condition that reads shared memory does, and can then sleep with its condition true.
//
// The queue's lock (the kernel's wq->lock) is modelled by an atomic on the queue's
// coherence line: every operation on the list first takes its turn there (a sync point
// with the cost of an atomic on a shared line), then changes the list with no sync point
// in between. Wake-ups (Machine::wake, themselves sync points) are made after the list
// is consistent, since a woken waiter may return (and its Entry go away) at once.
//
// Completion (struct completion) is a count `done` next to a wait queue, on the same
// line: complete() adds one and wakes one exclusive waiter, complete_all() makes every
// present and future wait succeed, wait_for_completion() sleeps until it can take one.
//
// Concurrency: all operations run on the current task of the Machine given to init().
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "emu/machine.h"

namespace smpemu {

class WaitQueue {
 public:
  /// A waiting task's entry (wait_queue_entry_t); lives on the waiter's stack. Its
  /// fields change only at a turn, by the waiter or by a waker holding the queue.
  struct Entry {
    Task* task = nullptr;
    bool exclusive = false;
    bool autoremove = true;  ///< removed by the wake-up that wakes it
    bool queued = false;     ///< on the queue now
  };

  /// init_waitqueue_head().
  void init(Machine& m);
  /// add_wait_queue() / add_wait_queue_exclusive(): queues the current task's entry,
  /// which stays queued across wake-ups until remove().
  void add(Entry& e, bool exclusive = false);
  /// remove_wait_queue().
  void remove(Entry& e);
  /// prepare_to_wait() / prepare_to_wait_exclusive(): the task becomes blocked, then its
  /// entry is queued (if it is not already). Check the condition after this call.
  void prepare_to_wait(Entry& e, bool exclusive = false);
  /// finish_wait(): the task is running again and its entry is off the queue.
  void finish_wait(Entry& e);
  /// wake_up(): wakes every non-exclusive waiter and one exclusive waiter.
  void wake_up() { wake(1); }
  /// wake_up_nr(): as wake_up(), with up to `nr` exclusive waiters (0: all).
  void wake_up_nr(int nr) { wake(nr); }
  /// wake_up_all(): wakes every waiter.
  void wake_up_all() { wake(0); }
  /// waitqueue_active(): someone is queued (a load of the queue's line).
  bool active();

  // ---- with the queue held: call lock(), then the *_locked operations with no sync
  // point in between (the kernel's spin_lock(&wq->lock) sections). ----

  /// Takes the queue: an atomic on its line (a sync point).
  void lock();
  void add_locked(Entry& e, bool exclusive);
  void remove_locked(Entry& e);
  /// Dequeues (autoremove) the waiters a wake-up with `nr_exclusive` (0: all) wakes and
  /// appends their tasks to `out`, in wake order; the caller wakes them afterwards.
  void collect_locked(int nr_exclusive, std::vector<Task*>& out);

  Machine& machine() const { return *m_; }
  LineId line() const { return line_; }
  /// Queued entries (engine-side view for tests; not a sync point).
  std::size_t size() const { return entries_.size(); }

 private:
  void wake(int nr_exclusive);

  Machine* m_ = nullptr;
  LineId line_ = 0;
  std::uint64_t lock_word_ = 0;  // bumped by lock(): the queue lock's line traffic
  std::vector<Entry*> entries_;
};

/// The kernel's wait_event(wq, condition): returns once `cond()` is true, sleeping on
/// `wq` in between. `cond` is evaluated after the task is queued and blocked, so a
/// waker that makes it true and then calls wq.wake_up() cannot be missed.
template <class Pred>
void wait_event(WaitQueue& wq, Pred cond) {
  Machine& m = wq.machine();
  m.might_sleep();
  if (cond()) return;
  WaitQueue::Entry e;
  for (;;) {
    wq.prepare_to_wait(e, false);
    if (cond()) break;
    m.schedule();
  }
  wq.finish_wait(e);
}

class Completion {
 public:
  /// init_completion(): not done, nobody waiting.
  void init(Machine& m);
  /// reinit_completion(): back to not done (a store of the count).
  void reinit();
  /// wait_for_completion(): sleeps until a complete() can be taken (might_sleep()).
  void wait_for_completion();
  /// complete(): one more completion; wakes one waiter.
  void complete();
  /// complete_all(): every present and future wait succeeds; wakes all waiters.
  void complete_all();
  /// try_wait_for_completion(): takes a completion if one is available, never sleeps.
  bool try_wait_for_completion();
  /// completion_done(): a completion is available (nobody would have to wait).
  bool completion_done();

  /// The count (engine-side view for tests; not a sync point).
  unsigned done() const { return done_; }
  WaitQueue& wait_queue() { return wait_; }

 private:
  static constexpr unsigned kAll = std::numeric_limits<unsigned>::max();  // complete_all()
  Machine* m_ = nullptr;
  WaitQueue wait_;
  unsigned done_ = 0;  // on wait_'s line
};

}  // namespace smpemu
