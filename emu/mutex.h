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
// `deadlock` report even while other tasks still run. Optimistic spinning on a running
// owner (2.6.30+) is not modelled yet.
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
  void lock(unsigned subclass = 0);
  void unlock();
  /// mutex_trylock(): true if it took the mutex.
  bool trylock();
  /// mutex_is_locked().
  bool is_locked();
  /// The owning task, or nullptr.
  Task* owner() const { return owner_; }
  const std::string& name() const { return instance_; }

 private:
  static Task* owner_of(const void* mutex) { return static_cast<const Mutex*>(mutex)->owner_; }
  Machine* m_ = nullptr;
  LineId line_ = 0;
  Task* owner_ = nullptr;
  std::deque<Task*> waiters_;
  std::uint32_t cls_ = 0;
  std::string class_name_;
  std::string instance_;
};

}  // namespace smpemu
