// The kernel's rw_semaphore, on the engine's atomics and sleep protocol.
//
// Readers share the semaphore, a writer holds it alone; waiters queue FIFO
// (docs/KERNEL.md, "Locks"). Once anyone waits, new readers queue too, so a queued
// writer is not starved by a stream of readers, and down_read_trylock() /
// down_write_trylock() fail whenever someone waits. The last holder to leave hands the
// semaphore to the head of the queue: a writer alone, or the run of readers at the head
// (up to the next writer) together, and wakes them. There is no optimistic spinning
// (none before 3.16). down_read()/down_write() are might_sleep() sites.
//
// The whole state (writer owner, active readers, number of waiters) is one word on one
// coherence line, changed only by compare-and-exchange, so costs and contention come
// from the coherence model. The number of waiters is part of the word: every change of
// the wait queue is made right after a successful exchange of the word, with no sync
// point in between, so the queue is always consistent with the word a task exchanged
// (this models the kernel's wait_lock).
//
// Before sleeping behind a writer, the wait-for graph of sleeping locks is checked (a
// cycle is a fatal `deadlock` report); behind readers there is no single owner and the
// check is skipped. Lock statistics and the order checker come from LockDep, with kinds
// RwsemRead and RwsemWrite.
//
// Concurrency: all operations run on the current task of the Machine given to init().
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "emu/machine.h"

namespace smpemu {

class RwSem {
 public:
  /// init_rwsem(): a new, unlocked semaphore of class `cls`.
  void init(Machine& m, const std::string& cls);
  /// down_read() / down_read_nested(sem, subclass).
  void down_read(unsigned subclass = 0, Where loc = Where::here());
  void up_read(Where loc = Where::here());
  /// down_write() / down_write_nested(sem, subclass).
  void down_write(unsigned subclass = 0, Where loc = Where::here());
  void up_write(Where loc = Where::here());
  /// Take the semaphore only if that needs no wait: fails if a writer holds it (or, for
  /// a writer, anyone holds it) or anyone waits. Never sleeps; adds no lockdep edge.
  bool down_read_trylock(Where loc = Where::here());
  bool down_write_trylock(Where loc = Where::here());
  /// rwsem_is_locked(): someone holds it (readers or a writer).
  bool is_locked();

  /// Engine-side views (tests, reports); not sync points.
  Task* writer() const { return state_.writer; }
  int readers() const { return state_.readers; }
  int waiters() const { return state_.waiters; }
  const std::string& name() const { return instance_; }
  LineId line() const { return line_; }

 private:
  /// The word on the line. A writer and readers never hold it together; waiters > 0
  /// only while someone holds it.
  struct State {
    Task* writer = nullptr;
    std::int32_t readers = 0;
    std::int32_t waiters = 0;
    bool operator==(const State&) const = default;
  };
  /// A queued task; lives on the waiting task's stack.
  struct Waiter {
    Task* task;
    bool write;
    bool granted;  // set by the task that hands the semaphore over
  };
  static Task* owner_of(const void* sem) { return static_cast<const RwSem*>(sem)->state_.writer; }
  void down(bool write, unsigned subclass, Where loc);
  void up(bool write, Where loc);
  bool holds_as(Task* t, LockKind kind) const;

  Machine* m_ = nullptr;
  LineId line_ = 0;
  State state_;
  std::deque<Waiter*> waiters_;
  std::uint32_t cls_ = 0;
  std::string class_name_;
  std::string instance_;
};

}  // namespace smpemu
