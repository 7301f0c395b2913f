// The kernel's rwlock_t, on the engine's atomics, modelled as the queued rwlock.
//
// One counter word (readers << 8 | writer byte) and a ticket wait queue share one line,
// as in the kernel's qrwlock (3.16+). Fast paths: a reader adds itself and keeps the
// lock if no writer holds or waits; a writer cmpxchg's 0 to "locked". Anyone who cannot
// take it at once queues on the ticket lock (FIFO): a queued writer, once no writer
// holds the lock, sets the "waiting" flag, which sends newly arriving readers to the
// queue too, waits for the readers to drain and takes the lock; a queued reader waits only for the writer to leave. So
// readers share the lock, and waiters are served in order.
//
// Why not 2.6's unfair rwlock: with a dozen CPUs taking the write side, a waiter that is
// woken when the lock frees loses the race to CPUs that just arrive (it needs a reload
// and an RMW, they need one RMW), and the model showed waits of a millisecond, drowning
// the latencies the mm workloads measure. The ticket spinlock (emu/spinlock.h) is the
// same era choice (2.6.25's ticket lock stands in for 2.6.10's test-and-set).
//
// Readers share the lock but not the line: every read_lock/read_unlock is an atomic on
// it, so heavy read traffic still costs line transfers.
//
// Lock statistics and the order checker come from LockDep (kinds rwlock:R / rwlock:W);
// holding the read side while taking it again is legal in the kernel and is not reported
// as recursion here either. Both sides disable preemption.
//
// Concurrency: all operations run on the current task of the Machine given to init().
#pragma once

#include <cstdint>
#include <string>

#include "emu/machine.h"

namespace smpemu {

class RwLock {
 public:
  static constexpr std::uint32_t kLocked = 0xff;   ///< writer byte: held
  static constexpr std::uint32_t kWaiting = 0x01;  ///< writer byte: a writer is queued
  static constexpr std::uint32_t kWriterMask = 0xff;
  static constexpr std::uint32_t kReader = 0x100;  ///< one reader
  /// rwlock_init(): a new, unlocked lock of class `cls`.
  void init(Machine& m, const std::string& cls);
  void read_lock(Where loc = Where::here());
  void read_unlock(Where loc = Where::here());
  void write_lock(Where loc = Where::here());
  void write_unlock(Where loc = Where::here());
  bool read_trylock(Where loc = Where::here());
  bool write_trylock(Where loc = Where::here());

  const std::string& name() const { return instance_; }

 private:
  void acquire(bool write, Where loc);
  void queue_lock();
  void queue_unlock();
  Machine* m_ = nullptr;
  LineId line_ = 0;
  std::uint32_t cnts_ = 0;                 // readers << 8 | writer byte
  std::uint32_t next_ = 0, owner_ = 0;     // the wait queue (a ticket lock)
  std::uint32_t cls_ = 0;
  std::string instance_;
};

}  // namespace smpemu
