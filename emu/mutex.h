// The kernel's struct mutex, on the engine's atomics and sleep protocol.
//
// A sleeping lock with an owner: lock() is might_sleep() (so it is a sleep-in-atomic
// report under a spinlock, with IRQs off or in an interrupt), then one cmpxchg of the
// owner field on the fast path. A contended lock() queues the task FIFO and sleeps;
// unlock() hands the mutex directly to the first waiter and wakes it (FIFO hand-off,
// no stealing). trylock() is an acquire that never waits; is_locked() is observable
// (anon_vma_free relies on it).
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
// Unlock still hands the mutex directly to the first queued waiter.
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
  static Task* owner_of(const void* mutex) { return static_cast<const Mutex*>(mutex)->owner_; }
  Machine* m_ = nullptr;
  LineId line_ = 0;
  Task* owner_ = nullptr;
  std::deque<Task*> waiters_;
  int spinners_ = 0;  ///< CPUs in spin_on_owner() on this mutex
  std::uint32_t cls_ = 0;
  std::string class_name_;
  std::string instance_;
};

}  // namespace smpemu
