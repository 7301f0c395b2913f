// The kernel's spinlock_t, on the engine's atomics.
//
// A ticket lock (Linux 2.6.25+): `next` and `owner` share one cache line; lock() takes
// a ticket with one atomic fetch_add and spins until `owner` reaches it; unlock() is a
// store of owner+1 by the holder. Spinning is not emulated iteration by iteration
// (Machine::spin_until): the CPU waits for the owner field to change and is charged the
// time plus the reload through the coherence model, so ticket order, hand-off costs and
// contention are exact.
//
// As in the kernel, lock() disables preemption first (so sleeping while holding it is
// a sleep-in-atomic report) and unlock() re-enables it (a preemption point under full).
// is_contended() (spin_needbreak) is true while another CPU holds a ticket: the
// contention flag unmap_mapping_range's lockbreak reads. Lock statistics and the order
// checker come from LockDep.
//
// PREEMPT_RT (init_sleeping): the lock is an rt_mutex-style sleeping lock instead, an
// emu Mutex underneath: lock() may sleep (a might_sleep() site, so taking it in atomic
// context is a report), does not disable preemption, and its holder can be preempted;
// is_contended() means a task is queued; lock_irqsave() leaves the IRQ state alone, as
// PREEMPT_RT's spin_lock_irqsave does. Priority inheritance is not modelled (tasks are
// pinned and of equal priority in the workloads that use it).
//
// Concurrency: all operations run on the current task of the Machine given to init().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "emu/machine.h"
#include "emu/mutex.h"

namespace smpemu {

class SpinLock {
 public:
  /// spin_lock_init(): a new, unlocked lock of class `cls`.
  void init(Machine& m, const std::string& cls);
  /// spin_lock_init() under PREEMPT_RT: a new, unlocked sleeping lock of class `cls`.
  void init_sleeping(Machine& m, const std::string& cls);
  /// Whether init_sleeping() made it a sleeping lock.
  bool sleeping() const { return rt_ != nullptr; }
  /// spin_lock() / spin_lock_nested(lock, subclass).
  void lock(unsigned subclass = 0, Where loc = Where::here());
  void unlock(Where loc = Where::here());
  /// spin_trylock(): takes the lock only if it is free; never waits.
  bool trylock(Where loc = Where::here());
  /// spin_is_locked().
  bool is_locked();
  /// spin_is_contended() / spin_needbreak(): someone waits for the lock.
  bool is_contended();
  /// spin_lock_irqsave(): returns the previous IRQ state for unlock_irqrestore().
  bool lock_irqsave(unsigned subclass = 0, Where loc = Where::here());
  void unlock_irqrestore(bool flags, Where loc = Where::here());

  LineId line() const { return line_; }
  const std::string& name() const { return instance_; }

 private:
  Machine* m_ = nullptr;
  LineId line_ = 0;
  std::uint32_t next_ = 0;   // next ticket to hand out
  std::uint32_t owner_ = 0;  // ticket now being served
  std::uint32_t cls_ = 0;
  std::string class_name_;
  std::string instance_;
  std::unique_ptr<Mutex> rt_;  // PREEMPT_RT: the sleeping lock every operation goes to
};

/// cond_resched_lock(): if the lock is contended or a reschedule is due, drops the lock,
/// reschedules (or relaxes briefly), retakes it and returns true.
bool cond_resched_lock(SpinLock& lock, Where loc = Where::here());

}  // namespace smpemu
