// The kernel's struct mutex, on the engine's atomics and sleep protocol.
//
// A sleeping lock with an owner: lock() is might_sleep() (so it is a sleep-in-atomic
// report under a spinlock, with IRQs off or in an interrupt), then one cmpxchg of the
// owner field on the fast path. A contended lock() queues the task FIFO and sleeps.
// What unlock() does with the waiters is MachineParams::mutex (docs/KERNEL.md):
//  - steal (2.6.16-4.9): it releases the mutex and wakes the first waiter, which stays
//    queued and tries again when it runs; a newcomer's fast path or a spinner may take
//    the mutex first (lock stealing), and the waiter sleeps again;
//  - handoff (4.10+): as steal, but the first waiter, woken and beaten, sets the
//    hand-off flag, and the next unlock gives the mutex to it directly;
//  - fifo: every unlock hands the mutex to the first waiter (no mainline kernel).
// trylock() is an acquire that never waits; is_locked() is observable (anon_vma_free
// relies on it).
//
// Before sleeping, the wait-for graph of sleeping locks is checked: a cycle is a fatal
// `deadlock` report even while other tasks still run.
//
// Optimistic spinning (MachineParams::mutex_spin, 2.6.30's CONFIG_MUTEX_SPIN_ON_OWNER):
// a contended lock() first spins, preemption off, while the owner runs on a CPU and
// this CPU has no need_resched; it takes the mutex if it sees it free, so a spinner can
// get it ahead of sleeping waiters when no waiter was queued at the unlock. It gives up
// and queues when the owner goes off CPU (the switch away from it wakes the spinners,
// also when the owner exits still holding the mutex) or when it should reschedule.
// Under fifo, and under handoff once the flag is set, unlock still hands the mutex to
// the first queued waiter, so a spinner sees it owned.
//
// Concurrency: the wait list is touched only at the task's turn with no sync point in
// between the failed cmpxchg and the enqueue, which models the kernel's wait_lock.
#pragma once

#include <deque>
#include <string>

#include "emu/machine.h"

namespace smpemu {

class Mutex {
 public:
  /// mutex_init(): a new, unlocked mutex of class `cls`.
  void init(Machine& m, const std::string& cls);
  /// mutex_lock() / mutex_lock_nested(lock, subclass).
  void lock(unsigned subclass = 0, Where loc = Where::here());
  void unlock(Where loc = Where::here());
  /// mutex_trylock(): true if it took the mutex.
  bool trylock(Where loc = Where::here());
  /// mutex_is_locked().
  bool is_locked();
  /// Whether a task is queued for the mutex (host-side look: no sync point).
  bool has_waiters() const { return !waiters_.empty(); }
  /// The owning task, or nullptr.
  Task* owner() const { return owner_; }
  const std::string& name() const { return instance_; }
  /// Engine hook: the owner was switched out; optimistic spinners must look again.
  void owner_off_cpu() const {
    if (spinners_ > 0) m_->wake_spinners(line_);
  }

 private:
  /// Optimistic spin; true if it took the mutex.
  bool spin_on_owner(Task* me);
  /// steal/handoff: a queued waiter's attempt (one atomic step): takes a free mutex and
  /// leaves the queue, else, if `woken` and first in the queue under handoff, sets the
  /// hand-off flag. True if it took the mutex.
  bool waiter_trylock(Task* me, bool woken);
  static Task* owner_of(const void* mutex) { return static_cast<const Mutex*>(mutex)->owner_; }
  Machine* m_ = nullptr;
  LineId line_ = 0;
  Task* owner_ = nullptr;
  std::deque<Task*> waiters_;
  int spinners_ = 0;  ///< CPUs in spin_on_owner() on this mutex
  bool handoff_ = false;  ///< handoff: the first waiter asked for the next unlock (MUTEX_FLAG_HANDOFF)
  std::uint32_t cls_ = 0;
  std::string class_name_;
  std::string instance_;
};

}  // namespace smpemu
