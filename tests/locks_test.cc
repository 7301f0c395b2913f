// Unit tests of the kernel runtime's lock and sleep primitives, mostly through the
// kernel shim (kernel/): spinlock_t (emu/spinlock.*), struct mutex (emu/mutex.*),
// struct rw_semaphore (emu/rwsem.*), wait queues and completions (emu/waitqueue.*).
//
// Machines are built directly on the opteron48 profile (ctx_switch 3000, so a task's
// first instruction is at cycle 3000; ipi_send 150, ipi_latency 1250). Arrival orders
// are forced with cpu_work() delays that are large against every access cost, and
// every test asserts a concrete order, value or report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "emu/machine.h"
#include "emu/mutex.h"
#include "emu/rwlock.h"
#include "emu/rwsem.h"
#include "emu/spinlock.h"
#include "emu/waitqueue.h"
#include "kernel/kernel.h"
#include "traces/trace.h"

using namespace smpemu;

namespace smpemu {
static void PrintTo(EndReason r, std::ostream* os) { *os << end_reason_name(r); }
}  // namespace smpemu

namespace {

const machine_profile* opteron() { return find_machine_profile("opteron48"); }

MachineParams params(int cpus, std::uint64_t seed = 1) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = seed;
  return p;
}

std::unique_ptr<Machine> make(const MachineParams& p) {
  const machine_profile* prof = opteron();
  return std::make_unique<Machine>(p, build_topology(prof, p.cpus), prof->costs);
}

std::string named(const char* prefix, long long n) { return std::string(prefix) + std::to_string(n); }

int count_bugs(const Machine& m, const std::string& check) {
  return static_cast<int>(
      std::count_if(m.bugs().begin(), m.bugs().end(), [&](const BugReport& b) { return b.check == check; }));
}

const BugReport* find_bug(const Machine& m, const std::string& check) {
  for (const BugReport& b : m.bugs())
    if (b.check == check) return &b;
  return nullptr;
}

std::string all_bugs(const Machine& m) {
  std::string s;
  for (const BugReport& b : m.bugs()) s += "[" + b.check + "] " + b.message + "\n";
  return s;
}

const LockClass& lock_class(Machine& m, const std::string& name) {
  return m.lockdep().cls(m.lockdep().class_of(name));
}

}  // namespace

// ---- spinlock_t ---------------------------------------------------------------------

TEST(SpinLock, TicketsAreServedInArrivalOrderAndCounted) {
  auto m = make(params(4));
  spinlock_t l;
  spin_lock_init_on(m.get(), &l, "fifo");
  std::vector<int> order;
  m->spawn("holder", 0, [&] {
    spin_lock(&l);
    order.push_back(0);
    cpu_work(20000);
    spin_unlock(&l);
  });
  // Arrival order: CPU 2, then 3, then 1 (not CPU order), all while the holder holds.
  const Cycles delay[4] = {0, 3000, 1000, 2000};
  for (int c = 1; c < 4; ++c)
    m->spawn(named("w", c), c, [&, c] {
      cpu_work(delay[c]);
      spin_lock(&l);
      order.push_back(c);
      cpu_work(100);
      spin_unlock(&l);
    });
  ASSERT_EQ(m->run().end, EndReason::Completed) << all_bugs(*m);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(order, (std::vector<int>{0, 2, 3, 1}));

  // Lock statistics: 4 acquisitions, 3 of them contended; wait and hold histograms.
  const LockClass& c = lock_class(*m, "fifo");
  EXPECT_EQ(c.acquisitions, 4u);
  EXPECT_EQ(c.contentions, 3u);
  const Histogram& wait = m->histograms().at("lock.fifo.wait");
  const Histogram& hold = m->histograms().at("lock.fifo.hold");
  EXPECT_EQ(&wait, c.wait);
  EXPECT_EQ(&hold, c.hold);
  EXPECT_EQ(wait.count(), 4u);
  EXPECT_EQ(hold.count(), 4u);
  EXPECT_LT(wait.min(), 1000u) << "the holder did not wait";
  // CPU 1 asked at ~6000 and got it after 20000 + 2 * 100 cycles of holding.
  EXPECT_GE(wait.max(), 17000u);
  EXPECT_GE(hold.max(), 20000u);
  EXPECT_GE(hold.min(), 100u);
  EXPECT_LT(hold.min(), 20000u);
}

TEST(SpinLock, RaisesPreemptCountAndSleepingUnderItIsReported) {
  auto m = make(params(1));
  spinlock_t l;
  spin_lock_init_on(m.get(), &l, "atomic");
  int before = -1, held = -1, after = -1;
  m->spawn("sleeper", 0, [&] {
    before = preempt_count();
    spin_lock(&l);
    held = preempt_count();
    m->sleep_until(m->now() + 1000);  // sleeping in atomic context
    spin_unlock(&l);
    after = preempt_count();
    m->sleep_until(m->now() + 1000);  // fine: no lock held
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(held, 1);
  EXPECT_EQ(after, 0);
  EXPECT_EQ(count_bugs(*m, "sleep-in-atomic"), 1) << all_bugs(*m);
  const BugReport* b = find_bug(*m, "sleep-in-atomic");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->task, "sleeper");
  EXPECT_FALSE(b->fatal);
  EXPECT_NE(b->message.find("preempt_count=1"), std::string::npos) << b->message;
}

TEST(SpinLock, TrylockTakesOnlyAFreeLockAndNeverWaits) {
  auto m = make(params(2));
  spinlock_t l;
  spin_lock_init_on(m.get(), &l, "try");
  int r_held = -1, pc_failed = -1, locked_held = -1, r_free = -1, pc_ok = -1, locked_free = -1;
  Cycles fail_cost = 0;
  m->spawn("holder", 0, [&] {
    spin_lock(&l);
    cpu_work(10000);
    spin_unlock(&l);
  });
  m->spawn("trier", 1, [&] {
    cpu_work(2000);
    locked_held = spin_is_locked(&l);
    const Cycles t = m->now();
    r_held = spin_trylock(&l);
    fail_cost = m->now() - t;
    pc_failed = preempt_count();
    cpu_work(20000);
    locked_free = spin_is_locked(&l);
    r_free = spin_trylock(&l);
    pc_ok = preempt_count();
    spin_unlock(&l);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(locked_held, 1);
  EXPECT_EQ(r_held, 0);
  EXPECT_LT(fail_cost, 2000u) << "a failed trylock must not wait for the holder";
  EXPECT_EQ(pc_failed, 0) << "a failed trylock re-enables preemption";
  EXPECT_EQ(locked_free, 0);
  EXPECT_EQ(r_free, 1);
  EXPECT_EQ(pc_ok, 1);
  const LockClass& c = lock_class(*m, "try");
  EXPECT_EQ(c.acquisitions, 2u);
  EXPECT_EQ(c.contentions, 0u);
}

TEST(SpinLock, IsContendedOnlyWhileSomeoneWaits) {
  auto m = make(params(2));
  spinlock_t l;
  spin_lock_init_on(m.get(), &l, "contended");
  int alone = -1, with_waiter = -1, waiter_view = -1, after = -1;
  m->spawn("holder", 0, [&] {
    spin_lock(&l);
    alone = spin_is_contended(&l);
    cpu_work(10000);
    with_waiter = spin_needbreak(&l);
    spin_unlock(&l);
    cpu_work(20000);
    after = spin_is_contended(&l);
  });
  m->spawn("waiter", 1, [&] {
    cpu_work(2000);
    spin_lock(&l);
    waiter_view = spin_is_contended(&l);
    cpu_work(100);
    spin_unlock(&l);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(alone, 0);
  EXPECT_EQ(with_waiter, 1);
  EXPECT_EQ(waiter_view, 0);
  EXPECT_EQ(after, 0);
}

TEST(SpinLock, CondReschedLockDropsAndRetakesWhenContended) {
  auto m = make(params(2));
  spinlock_t l;
  spin_lock_init_on(m.get(), &l, "lockbreak");
  std::vector<std::string> log;
  int r_uncontended = -1, r_contended = -1, pc = -1;
  m->spawn("holder", 0, [&] {
    spin_lock(&l);
    r_uncontended = cond_resched_lock(&l);  // nobody waits, no reschedule due
    log.push_back("h1");
    cpu_work(10000);
    r_contended = cond_resched_lock(&l);  // the waiter spins: drop, let it in, retake
    log.push_back("h2");
    pc = preempt_count();
    spin_unlock(&l);
  });
  m->spawn("waiter", 1, [&] {
    cpu_work(2000);
    spin_lock(&l);
    log.push_back("w");
    cpu_work(500);
    spin_unlock(&l);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(r_uncontended, 0);
  EXPECT_EQ(r_contended, 1);
  EXPECT_EQ(log, (std::vector<std::string>{"h1", "w", "h2"}));
  EXPECT_EQ(pc, 1);
  EXPECT_EQ(lock_class(*m, "lockbreak").acquisitions, 3u);
}

// ---- mutex ----------------------------------------------------------------------------

TEST(Mutex, HandsOffInFifoOrder) {
  MachineParams p = params(4);
  p.mutex = MutexModel::Fifo;
  auto m = make(p);
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "fifo_mutex");
  std::vector<int> order;
  std::vector<Task*> tasks(4, nullptr);
  Task* owner_after_unlock = nullptr;
  int locked_after_unlock = -1;
  tasks[0] = m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    order.push_back(0);
    cpu_work(30000);
    smp_mb();  // the waiters queue before the unlock (see UnlockRightAfterLocalWork...)
    mutex_unlock(&mx);
    owner_after_unlock = mx.owner();
    locked_after_unlock = mutex_is_locked(&mx);
  });
  const Cycles delay[4] = {0, 3000, 1000, 2000};  // arrival: CPU 2, 3, 1
  for (int c = 1; c < 4; ++c)
    tasks[static_cast<std::size_t>(c)] = m->spawn(named("w", c), c, [&, c] {
      cpu_work(delay[c]);
      mutex_lock(&mx);
      order.push_back(c);
      cpu_work(100);
      mutex_unlock(&mx);
    });
  ASSERT_EQ(m->run().end, EndReason::Completed) << all_bugs(*m);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(order, (std::vector<int>{0, 2, 3, 1}));
  EXPECT_EQ(owner_after_unlock, tasks[2]) << "unlock hands the mutex to the first waiter";
  EXPECT_EQ(locked_after_unlock, 1);
  EXPECT_EQ(mx.owner(), nullptr);
  const LockClass& c = lock_class(*m, "fifo_mutex");
  EXPECT_EQ(c.acquisitions, 4u);
  EXPECT_EQ(c.contentions, 3u);
}

// What unlock does with a sleeping waiter, by kernel version (MachineParams::mutex): a
// holder on CPU 0 takes the mutex five times back to back, and a waiter on CPU 1 queues
// during the first. How many of the holder's critical sections come before the waiter's:
//  fifo    1: the first unlock gives the mutex to the waiter;
//  steal   5: every unlock releases and wakes the waiter, but the holder's next lock takes
//             the free mutex first (the IPI is still on its way): the waiter starves;
//  handoff 2: the waiter, woken and beaten once, sets the hand-off flag; the next unlock
//             gives it the mutex (4.10's bound on starvation).
TEST(Mutex, UnlockReleasesStealsOrHandsOffByKernelVersion) {
  for (MutexModel model : {MutexModel::Fifo, MutexModel::Steal, MutexModel::Handoff}) {
    MachineParams p = params(2);
    p.mutex = model;
    auto m = make(p);
    struct mutex mx;
    mutex_init_on(m.get(), &mx, "steal_mutex");
    int holder_sections = 0, before_waiter = -1;
    m->spawn("holder", 0, [&] {
      for (int i = 0; i < 5; ++i) {
        mutex_lock(&mx);
        cpu_work(20000);
        ++holder_sections;
        mutex_unlock(&mx);
      }
    });
    m->spawn("waiter", 1, [&] {
      cpu_work(1000);
      mutex_lock(&mx);
      before_waiter = holder_sections;
      mutex_unlock(&mx);
    });
    ASSERT_EQ(m->run().end, EndReason::Completed) << mutex_model_name(model) << ": " << all_bugs(*m);
    EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
    const int want = model == MutexModel::Fifo ? 1 : model == MutexModel::Steal ? 5 : 2;
    EXPECT_EQ(before_waiter, want) << mutex_model_name(model);
    EXPECT_EQ(mx.owner(), nullptr);
  }
}

TEST(Mutex, UnlockRightAfterLocalWorkWakesAWaiterThatQueuedEarlier) {
  auto m = make(params(2));
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "lost_wakeup");
  bool waiter_done = false;
  m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    cpu_work(30000);  // local work, then unlock with no sync point in between
    mutex_unlock(&mx);
  });
  m->spawn("waiter", 1, [&] {
    cpu_work(1000);
    mutex_lock(&mx);  // at ~4000, while the holder holds it
    waiter_done = true;
    mutex_unlock(&mx);
  });
  EXPECT_EQ(m->run().end, EndReason::Completed) << all_bugs(*m);
  EXPECT_TRUE(waiter_done);
}

TEST(Mutex, TrylockAndIsLocked) {
  auto m = make(params(2));
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "try_mutex");
  int r_held = -1, l_held = -1, l_free = -1, r_free = -1, l_mine = -1, l_end = -1;
  m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    cpu_work(10000);
    mutex_unlock(&mx);
  });
  m->spawn("trier", 1, [&] {
    cpu_work(2000);
    r_held = mutex_trylock(&mx);
    l_held = mutex_is_locked(&mx);
    cpu_work(20000);
    l_free = mutex_is_locked(&mx);
    r_free = mutex_trylock(&mx);
    l_mine = mutex_is_locked(&mx);
    mutex_unlock(&mx);
    l_end = mutex_is_locked(&mx);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(r_held, 0);
  EXPECT_EQ(l_held, 1);
  EXPECT_EQ(l_free, 0);
  EXPECT_EQ(r_free, 1);
  EXPECT_EQ(l_mine, 1);
  EXPECT_EQ(l_end, 0);
  EXPECT_EQ(lock_class(*m, "try_mutex").contentions, 0u) << "a failed trylock is not a contention";
}

TEST(Mutex, LockUnderASpinlockIsSleepInAtomic) {
  auto m = make(params(1));
  spinlock_t s;
  struct mutex mx;
  spin_lock_init_on(m.get(), &s, "outer_spin");
  mutex_init_on(m.get(), &mx, "inner_mutex");
  m->spawn("bad", 0, [&] {
    spin_lock(&s);
    mutex_lock(&mx);
    mutex_unlock(&mx);
    spin_unlock(&s);
    mutex_lock(&mx);  // fine without the spinlock
    mutex_unlock(&mx);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  ASSERT_EQ(count_bugs(*m, "sleep-in-atomic"), 1) << all_bugs(*m);
  const BugReport* b = find_bug(*m, "sleep-in-atomic");
  EXPECT_EQ(b->task, "bad");
  EXPECT_NE(b->message.find("might_sleep"), std::string::npos) << b->message;
  EXPECT_NE(b->message.find("preempt_count=1"), std::string::npos) << b->message;
}

TEST(Mutex, TwoMutexWaitForCycleIsAFatalDeadlock) {
  auto m = make(params(2));
  struct mutex a, b;
  mutex_init_on(m.get(), &a, "cycle_A");
  mutex_init_on(m.get(), &b, "cycle_B");
  bool finished = false;
  m->spawn("ab", 0, [&] {
    mutex_lock(&a);
    cpu_work(5000);
    mutex_lock(&b);
    finished = true;
    mutex_unlock(&b);
    mutex_unlock(&a);
  });
  m->spawn("ba", 1, [&] {
    mutex_lock(&b);
    cpu_work(8000);  // "ab" sleeps first; "ba" closes the cycle
    mutex_lock(&a);
    finished = true;
    mutex_unlock(&a);
    mutex_unlock(&b);
  });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  EXPECT_FALSE(finished);
  const BugReport* d = find_bug(*m, "deadlock");
  ASSERT_NE(d, nullptr) << all_bugs(*m);
  EXPECT_TRUE(d->fatal);
  EXPECT_NE(d->message.find("wait-for cycle"), std::string::npos) << d->message;
  EXPECT_EQ(d->task, "ba");
  EXPECT_NE(d->message.find("ba waits for cycle_A#1 held by ab"), std::string::npos) << d->message;
  EXPECT_EQ(count_bugs(*m, "lock-order"), 1) << "the inversion itself is also reported";
}

// ---- mutex optimistic spinning (--mutex-spin) -------------------------------------------

namespace {
struct SpinRun {
  std::uint64_t waiter_cpu_switches = 0;
  Cycles waiter_got_it = 0;
  Cycles holder_released = 0;
  std::uint64_t contentions = 0;
  bool clean = false;
};

/// A holder keeps the mutex 30000 cycles while running; a waiter on CPU 1 asks for it
/// at ~4000 with nothing else to run there.
SpinRun spin_while_owner_runs(bool spin) {
  MachineParams p = params(2);
  p.mutex_spin = spin;
  auto m = make(p);
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "spin_mutex");
  SpinRun r;
  m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    cpu_work(30000);
    smp_mb();
    r.holder_released = m->now();
    mutex_unlock(&mx);
  });
  m->spawn("waiter", 1, [&] {
    cpu_work(1000);
    mutex_lock(&mx);
    r.waiter_got_it = m->now();
    mutex_unlock(&mx);
  });
  r.clean = m->run().end == EndReason::Completed && m->bugs().empty();
  r.waiter_cpu_switches = m->cpu(1).ctx_switches;
  r.contentions = lock_class(*m, "spin_mutex").contentions;
  return r;
}
}  // namespace

TEST(MutexSpin, SpinnerTakesTheMutexFromARunningOwnerWithoutSleeping) {
  const SpinRun off = spin_while_owner_runs(false);
  const SpinRun on = spin_while_owner_runs(true);
  ASSERT_TRUE(off.clean);
  ASSERT_TRUE(on.clean);
  EXPECT_EQ(off.contentions, 1u);
  EXPECT_EQ(on.contentions, 1u) << "a spin that ends in the mutex is still a contention";
  // Off: the waiter sleeps (waiter -> idle) and is woken (idle -> waiter).
  EXPECT_GE(off.waiter_cpu_switches, on.waiter_cpu_switches + 2);
  // On: it takes the mutex within a line transfer of the release, not a wakeup later.
  EXPECT_GT(on.waiter_got_it, on.holder_released);
  EXPECT_LT(on.waiter_got_it - on.holder_released, off.waiter_got_it - off.holder_released);
  EXPECT_LT(on.waiter_got_it - on.holder_released, Cycles{1500}) << "no IPI, no context switch";
}

TEST(MutexSpin, SpinnerQueuesWhenTheOwnerGoesOffCpu) {
  MachineParams p = params(2);
  p.mutex_spin = true;
  auto m = make(p);
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "sleepy_owner");
  Cycles waiter_got_it = 0, holder_slept = 0;
  m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    cpu_work(5000);
    holder_slept = m->now();
    m->sleep_until(m->now() + 200000);  // sleeps holding the mutex: spinning is pointless
    mutex_unlock(&mx);
  });
  m->spawn("waiter", 1, [&] {
    cpu_work(1000);
    mutex_lock(&mx);
    waiter_got_it = m->now();
    mutex_unlock(&mx);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed) << all_bugs(*m);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_GT(waiter_got_it, holder_slept + 200000);
  // It stopped spinning when the owner went off CPU: CPU 1 spun only until then.
  EXPECT_LT(m->cpu(1).spin_cycles, Cycles{10000}) << m->cpu(1).spin_cycles;
  EXPECT_GE(m->cpu(1).ctx_switches, 2u) << "then it slept";
}

// The owner exits holding the mutex (a lockdep report, then its final switch). The exit
// takes it off CPU like any switch, so the spinner must look again, give up and sleep
// on the mutex; it used to stay parked on the line, spinning for ever on a dead owner.
TEST(MutexSpin, SpinnerStopsSpinningWhenTheOwnerExitsHoldingTheMutex) {
  MachineParams p = params(2);
  p.mutex_spin = true;
  auto m = make(p);
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "exiting_owner");
  Cycles owner_exited = 0;
  bool waiter_got_it = false;
  m->spawn("owner", 0, [&] {
    mutex_lock(&mx);
    cpu_work(5000);
    owner_exited = m->now();  // returns holding the mutex
  });
  Task* waiter = m->spawn("waiter", 1, [&] {
    cpu_work(1000);
    mutex_lock(&mx);  // spins: the owner is running
    waiter_got_it = true;
    mutex_unlock(&mx);
  });
  const RunStats s = m->run();
  const BugReport* exit = find_bug(*m, "exit-holding-lock");
  ASSERT_NE(exit, nullptr) << all_bugs(*m);
  EXPECT_NE(exit->message.find("owner exits holding exiting_owner#1"), std::string::npos) << exit->message;
  // Nobody can release a mutex whose owner is gone: the waiter sleeps on it for ever, and
  // the run ends as a deadlock that names it blocked, not spinning.
  EXPECT_FALSE(waiter_got_it);
  EXPECT_EQ(s.end, EndReason::Deadlock) << all_bugs(*m);
  const BugReport* d = find_bug(*m, "deadlock");
  ASSERT_NE(d, nullptr) << all_bugs(*m);
  EXPECT_NE(d->message.find("waiter[cpu1,blocked on exiting_owner#1]"), std::string::npos) << d->message;
  EXPECT_EQ(waiter->state, TaskState::Blocked);
  EXPECT_FALSE(waiter->spinning_on_owner);
  EXPECT_EQ(waiter->blocked_lock, static_cast<const void*>(static_cast<const Mutex*>(&mx)));
  // CPU 1 spun only until the exit (owner_exited), then switched to its idle task.
  EXPECT_GT(owner_exited, Cycles{0});
  EXPECT_LT(m->cpu(1).spin_cycles, owner_exited) << m->cpu(1).spin_cycles;
  EXPECT_GE(m->cpu(1).ctx_switches, 2u) << "waiter in, then idle in when it slept";
}

TEST(MutexSpin, SpinnerYieldsWhenAnotherTaskWantsItsCpu) {
  MachineParams p = params(2);
  p.mutex_spin = true;
  p.preempt = PreemptModel::Full;
  auto m = make(p);
  struct mutex mx;
  mutex_init_on(m.get(), &mx, "resched_mutex");
  std::vector<std::string> order;
  m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    cpu_work(100000);
    smp_mb();
    order.push_back("release");
    mutex_unlock(&mx);
  });
  m->spawn("other", 1, [&] {
    m->sleep_until(20000);  // runs first, sleeps; wakes while the spinner spins on CPU 1
    order.push_back("other");
  });
  m->spawn("spinner", 1, [&] {
    cpu_work(1000);
    mutex_lock(&mx);
    order.push_back("spinner");
    mutex_unlock(&mx);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed) << all_bugs(*m);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(order, (std::vector<std::string>{"other", "release", "spinner"}))
      << "need_resched ends the spin: the woken task runs before the mutex is free";
}

TEST(MutexSpin, WaitForCycleIsStillAFatalDeadlock) {
  MachineParams p = params(2);
  p.mutex_spin = true;
  auto m = make(p);
  struct mutex a, b;
  mutex_init_on(m.get(), &a, "spin_cycle_A");
  mutex_init_on(m.get(), &b, "spin_cycle_B");
  m->spawn("ab", 0, [&] {
    mutex_lock(&a);
    cpu_work(5000);
    mutex_lock(&b);
    mutex_unlock(&b);
    mutex_unlock(&a);
  });
  m->spawn("ba", 1, [&] {
    mutex_lock(&b);
    cpu_work(8000);
    mutex_lock(&a);
    mutex_unlock(&a);
    mutex_unlock(&b);
  });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  const BugReport* d = find_bug(*m, "deadlock");
  ASSERT_NE(d, nullptr) << all_bugs(*m);
  EXPECT_NE(d->message.find("wait-for cycle"), std::string::npos) << d->message;
}

TEST(MutexSpin, StressKeepsExclusionUnderEveryStrategy) {
  for (const char* strategy : {"time", "random", "pct:3"}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      MachineParams p = params(4, seed);
      p.mutex_spin = true;
      p.strategy = strategy;
      p.preempt = seed % 2 ? PreemptModel::Full : PreemptModel::Voluntary;
      auto m = make(p);
      struct mutex mx;
      mutex_init_on(m.get(), &mx, "stress_spin");
      LineId line = m->new_line();
      std::uint64_t counter = 0;
      int inside = 0, overlap = 0;
      for (int t = 0; t < 6; ++t)
        m->spawn(named("t", t), t % 4, [&, t] {
          for (int i = 0; i < 30; ++i) {
            mutex_lock(&mx);
            if (++inside != 1) ++overlap;
            const std::uint64_t v = m->load(line, counter);
            cpu_work(200 + 50 * static_cast<Cycles>(t));
            m->store(line, counter, v + 1);
            --inside;
            mutex_unlock(&mx);
            cpu_work(300);
          }
        });
      ASSERT_EQ(m->run().end, EndReason::Completed) << strategy << " seed " << seed << "\n" << all_bugs(*m);
      EXPECT_TRUE(m->bugs().empty()) << strategy << " seed " << seed << "\n" << all_bugs(*m);
      EXPECT_EQ(counter, 180u) << strategy << " seed " << seed;
      EXPECT_EQ(overlap, 0) << strategy << " seed " << seed;
    }
  }
}

// Causality of the spinner's look at its owner (owner->on_cpu): under strategies that
// let one CPU run far ahead of another, the owner may have gone off CPU (in the engine's
// order) at a virtual time later than the spinner's clock. The spinner must not observe
// that switch before it happened: when it gives up and sleeps, its CPU's clock is past
// the owner's switch. It used to read the engine's state directly and sleep at ~1000.
TEST(MutexSpin, SpinnerSeesTheOwnerOffCpuNoEarlierThanItWent) {
  int checked = 0;
  for (const char* strategy : {"random", "pct:2", "pos", "time"})
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      MachineParams p = params(2, seed);
      p.mutex_spin = true;
      p.strategy = strategy;
      auto m = make(p);
      Trace trace(Trace::kDefaultCapacity);
      m->set_trace(&trace);
      struct mutex mx;
      mutex_init_on(m.get(), &mx, "far_owner");
      Task* holder = m->spawn("holder", 0, [&] {
        mutex_lock(&mx);
        cpu_work(400000);
        m->sleep_until(m->now() + 100000);  // goes off CPU holding the mutex
        mutex_unlock(&mx);
      });
      Task* waiter = m->spawn("waiter", 1, [&] {
        cpu_work(1000);
        mutex_lock(&mx);
        mutex_unlock(&mx);
      });
      ASSERT_EQ(m->run().end, EndReason::Completed) << strategy << " seed " << seed << all_bugs(*m);
      Cycles owner_off = kNever, waiter_slept = kNever;
      for (const TraceEvent& e : trace.events()) {
        if (e.kind != TraceKind::CtxSwitch) continue;
        if (e.a == holder->id && owner_off == kNever) owner_off = e.time;
        if (e.a == waiter->id && e.switch_state() == SwitchState::Uninterruptible && waiter_slept == kNever)
          waiter_slept = e.time;
      }
      ASSERT_NE(owner_off, kNever) << strategy << " seed " << seed;
      if (waiter_slept == kNever) continue;  // took the mutex before the holder (a schedule that lets it)
      ++checked;
      EXPECT_GE(waiter_slept, owner_off) << strategy << " seed " << seed;
    }
  EXPECT_GT(checked, 20);
}

// ---- rw_semaphore ---------------------------------------------------------------------

TEST(RwSem, ReadersShare) {
  auto m = make(params(4));
  struct rw_semaphore sem;
  init_rwsem_on(m.get(), &sem, "share");
  int readers_seen = 0;
  int locked_during = -1, locked_after = -1;
  std::vector<Cycles> acquired(3, 0), released(3, 0);
  for (int c = 0; c < 3; ++c)
    m->spawn(named("r", c), c, [&, c] {
      down_read(&sem);
      acquired[static_cast<std::size_t>(c)] = m->now();
      readers_seen = std::max(readers_seen, sem.readers());
      cpu_work(10000);
      released[static_cast<std::size_t>(c)] = m->now();
      up_read(&sem);
    });
  m->spawn("observer", 3, [&] {
    cpu_work(5000);
    locked_during = rwsem_is_locked(&sem);
    cpu_work(50000);
    locked_after = rwsem_is_locked(&sem);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  // All three hold it at once: the last acquisition precedes the first release.
  EXPECT_LT(*std::max_element(acquired.begin(), acquired.end()), *std::min_element(released.begin(), released.end()));
  EXPECT_EQ(readers_seen, 3);
  EXPECT_EQ(locked_during, 1);
  EXPECT_EQ(locked_after, 0);
  const LockClass& c = lock_class(*m, "share");
  EXPECT_EQ(c.acquisitions, 3u);
  EXPECT_EQ(c.contentions, 0u);
  EXPECT_EQ(m->histograms().at("lock.share.hold").count(), 3u);
  EXPECT_EQ(sem.readers(), 0);
  EXPECT_EQ(sem.waiters(), 0);
}

TEST(RwSem, WriterIsExclusiveAndTheQueueIsFifo) {
  auto m = make(params(3));
  struct rw_semaphore sem;
  init_rwsem_on(m.get(), &sem, "excl");
  std::vector<std::string> log;
  Cycles w_release = 0, r_acquire = 0, r_release = 0, w2_acquire = 0;
  m->spawn("w1", 0, [&] {
    down_write(&sem);
    log.push_back("w1");
    cpu_work(20000);
    w_release = m->now();
    up_write(&sem);
  });
  m->spawn("r", 1, [&] {
    cpu_work(2000);
    down_read(&sem);
    r_acquire = m->now();
    log.push_back("r");
    cpu_work(3000);
    r_release = m->now();
    up_read(&sem);
  });
  m->spawn("w2", 2, [&] {
    cpu_work(3000);
    down_write(&sem);
    w2_acquire = m->now();
    log.push_back("w2");
    up_write(&sem);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(log, (std::vector<std::string>{"w1", "r", "w2"}));
  EXPECT_GT(r_acquire, w_release);
  EXPECT_GT(w2_acquire, r_release);
  EXPECT_EQ(lock_class(*m, "excl").contentions, 2u);
  EXPECT_EQ(sem.writer(), nullptr);
}

TEST(RwSem, QueuedWriterBlocksNewReadersAndTrylocks) {
  auto m = make(params(4));
  struct rw_semaphore sem;
  init_rwsem_on(m.get(), &sem, "pref");
  std::vector<std::string> log;
  int try_read = -1, try_write = -1, locked = -1, waiters = -1, readers = -1;
  m->spawn("r1", 0, [&] {
    down_read(&sem);
    log.push_back("r1");
    cpu_work(20000);
    log.push_back("r1 done");
    up_read(&sem);
  });
  m->spawn("w", 1, [&] {
    cpu_work(2000);
    down_write(&sem);
    log.push_back("w");
    cpu_work(5000);
    log.push_back("w done");
    up_write(&sem);
  });
  m->spawn("r2", 2, [&] {
    cpu_work(4000);
    down_read(&sem);  // only readers hold it, but a writer waits: queue behind it
    log.push_back("r2");
    up_read(&sem);
  });
  m->spawn("t", 3, [&] {
    cpu_work(8000);
    try_read = down_read_trylock(&sem);  // readers hold it, yet someone waits: fail
    try_write = down_write_trylock(&sem);
    locked = rwsem_is_locked(&sem);
    waiters = sem.waiters();
    readers = sem.readers();
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(log, (std::vector<std::string>{"r1", "r1 done", "w", "w done", "r2"}));
  EXPECT_EQ(try_read, 0);
  EXPECT_EQ(try_write, 0);
  EXPECT_EQ(locked, 1);
  EXPECT_EQ(waiters, 2);
  EXPECT_EQ(readers, 1);
}

TEST(RwSem, TrylockRulesWithoutWaiters) {
  auto m = make(params(2));
  struct rw_semaphore sem;
  init_rwsem_on(m.get(), &sem, "tryrw");
  int read_with_readers = -1, write_with_readers = -1, write_free = -1, read_with_writer = -1;
  int locked_w = -1, locked_end = -1;
  m->spawn("reader", 0, [&] {
    down_read(&sem);
    cpu_work(10000);
    up_read(&sem);
  });
  m->spawn("trier", 1, [&] {
    cpu_work(2000);
    read_with_readers = down_read_trylock(&sem);
    write_with_readers = down_write_trylock(&sem);
    if (read_with_readers) up_read(&sem);
    cpu_work(20000);
    write_free = down_write_trylock(&sem);
    locked_w = rwsem_is_locked(&sem);
    read_with_writer = down_read_trylock(&sem);
    if (write_free) up_write(&sem);
    locked_end = rwsem_is_locked(&sem);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(read_with_readers, 1);
  EXPECT_EQ(write_with_readers, 0);
  EXPECT_EQ(write_free, 1);
  EXPECT_EQ(locked_w, 1);
  EXPECT_EQ(read_with_writer, 0);
  EXPECT_EQ(locked_end, 0);
  const LockClass& c = lock_class(*m, "tryrw");
  EXPECT_EQ(c.acquisitions, 3u);
  EXPECT_EQ(c.contentions, 0u);
}

TEST(RwSem, WriterReleaseWakesTheRunOfReadersTogether) {
  auto m = make(params(5));
  struct rw_semaphore sem;
  init_rwsem_on(m.get(), &sem, "batch");
  std::vector<std::string> log;
  int readers_after = -1, waiters_after = -1;
  Task* writer_after = reinterpret_cast<Task*>(1);
  std::map<std::string, Cycles> acq, rel;
  auto reader = [&](const char* name, Cycles delay, Cycles hold) {
    return [&, name, delay, hold] {
      cpu_work(delay);
      down_read(&sem);
      log.push_back(name);
      acq[name] = m->now();
      cpu_work(hold);
      rel[name] = m->now();
      up_read(&sem);
    };
  };
  m->spawn("w1", 0, [&] {
    down_write(&sem);
    log.push_back("w1");
    cpu_work(20000);
    up_write(&sem);
    // The hand-off happened inside up_write: both queued readers now hold it.
    readers_after = sem.readers();
    writer_after = sem.writer();
    waiters_after = sem.waiters();
  });
  m->spawn("r1", 1, reader("r1", 1000, 5000));
  m->spawn("r2", 2, reader("r2", 2000, 5000));
  m->spawn("w2", 3, [&] {
    cpu_work(3000);
    down_write(&sem);
    log.push_back("w2");
    acq["w2"] = m->now();
    cpu_work(1000);
    rel["w2"] = m->now();
    up_write(&sem);
  });
  m->spawn("r3", 4, reader("r3", 4000, 100));
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(readers_after, 2);
  EXPECT_EQ(writer_after, nullptr);
  EXPECT_EQ(waiters_after, 2) << "w2 and r3 still wait";
  EXPECT_LT(std::max(acq["r1"], acq["r2"]), std::min(rel["r1"], rel["r2"])) << "r1 and r2 hold it together";
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0], "w1");
  std::vector<std::string> batch{log[1], log[2]};
  std::sort(batch.begin(), batch.end());
  EXPECT_EQ(batch, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(log[3], "w2");
  EXPECT_EQ(log[4], "r3") << "r3 queued behind w2 and is not part of the first batch";
  EXPECT_GT(acq["w2"], std::max(rel["r1"], rel["r2"]));
  EXPECT_GT(acq["r3"], rel["w2"]);
  EXPECT_EQ(lock_class(*m, "batch").contentions, 4u);
}

TEST(RwSem, DownUnderASpinlockIsSleepInAtomic) {
  auto m = make(params(1));
  spinlock_t s;
  struct rw_semaphore sem;
  spin_lock_init_on(m.get(), &s, "rw_outer_spin");
  init_rwsem_on(m.get(), &sem, "rw_inner");
  m->spawn("bad", 0, [&] {
    spin_lock(&s);
    down_read(&sem);
    up_read(&sem);
    spin_unlock(&s);
    down_write(&sem);
    up_write(&sem);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(count_bugs(*m, "sleep-in-atomic"), 1) << all_bugs(*m);
}

TEST(RwSem, WaitForCycleThroughAWriterIsAFatalDeadlock) {
  auto m = make(params(2));
  struct rw_semaphore sem;
  struct mutex mx;
  init_rwsem_on(m.get(), &sem, "cyc_sem");
  mutex_init_on(m.get(), &mx, "cyc_mutex");
  bool finished = false;
  m->spawn("writer", 0, [&] {
    down_write(&sem);
    cpu_work(8000);  // the reader sleeps first; the writer closes the cycle through it
    mutex_lock(&mx);
    finished = true;
    mutex_unlock(&mx);
    up_write(&sem);
  });
  m->spawn("reader", 1, [&] {
    mutex_lock(&mx);
    cpu_work(5000);
    down_read(&sem);
    finished = true;
    up_read(&sem);
    mutex_unlock(&mx);
  });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  EXPECT_FALSE(finished);
  const BugReport* d = find_bug(*m, "deadlock");
  ASSERT_NE(d, nullptr) << all_bugs(*m);
  EXPECT_TRUE(d->fatal);
  EXPECT_NE(d->message.find("wait-for cycle"), std::string::npos) << d->message;
  EXPECT_EQ(d->task, "writer");
  // The reader's wait is followed to the rwsem's writer (RwSem's owner lookup).
  EXPECT_NE(d->message.find("writer waits for cyc_mutex#1 held by reader"), std::string::npos) << d->message;
  EXPECT_EQ(d->message.substr(d->message.size() - std::string("held by writer").size()), "held by writer")
      << d->message;
}

TEST(RwSem, ReleasingInTheWrongModeIsReportedAndChangesNothing) {
  auto m = make(params(1));
  struct rw_semaphore sem;
  init_rwsem_on(m.get(), &sem, "mode");
  int readers_after = -1;
  m->spawn("t", 0, [&] {
    down_read(&sem);
    up_write(&sem);  // wrong mode
    readers_after = sem.readers();
    up_read(&sem);
    up_read(&sem);  // not held at all
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(readers_after, 1);
  EXPECT_EQ(count_bugs(*m, "unlock-not-held"), 2) << all_bugs(*m);
  EXPECT_EQ(sem.readers(), 0);
}

namespace {

struct StressCase {
  std::string strategy;
  PreemptModel preempt;
  std::uint64_t seed;
};

std::vector<StressCase> stress_cases() {
  std::vector<StressCase> v;
  for (const char* st : {"time", "random", "pct:3"})
    for (PreemptModel pm : {PreemptModel::None, PreemptModel::Voluntary, PreemptModel::Full})
      for (std::uint64_t seed = 1; seed <= 4; ++seed) v.push_back({st, pm, seed});
  return v;
}

std::string describe(const StressCase& c) {
  return c.strategy + "/" + preempt_name(c.preempt) + "/seed " + std::to_string(c.seed);
}

}  // namespace

TEST(RwSem, StressKeepsExclusionAndCompletesUnderEveryStrategy) {
  // 8 tasks on 4 CPUs take the semaphore for read (mostly) or write, sometimes with a
  // trylock, for random times. Inside, a host-side count checks exclusion; the sync
  // points inside the critical section let every other CPU run there.
  for (const StressCase& sc : stress_cases()) {
    MachineParams p = params(4, sc.seed);
    p.strategy = sc.strategy;
    p.preempt = sc.preempt;
    p.jitter_pct = 10;
    auto m = make(p);
    struct rw_semaphore sem;
    init_rwsem_on(m.get(), &sem, "stress");
    shared<long> data;
    shared_init(&data, m->new_line(), 0L);
    int readers_in = 0, writers_in = 0, violations = 0, acquisitions = 0, finished = 0;
    long writes = 0;
    for (int t = 0; t < 8; ++t)
      m->spawn(named("t", t), t % 4, [&, t] {
        Rng rng = m->rng(named("stress.", t));
        for (int i = 0; i < 25; ++i) {
          cpu_work(rng.range(0, 3000));
          const bool write = rng.range(0, 9) < 3;
          const bool try_first = rng.range(0, 9) == 0;
          if (write) {
            if (!(try_first && down_write_trylock(&sem))) down_write(&sem);
            if (readers_in != 0 || writers_in != 0) ++violations;
            ++writers_in;
            WRITE_ONCE(data, READ_ONCE(data) + 1);
            cpu_work(rng.range(0, 2000));
            ++writes;
            smp_mb();
            --writers_in;
            up_write(&sem);
          } else {
            if (!(try_first && down_read_trylock(&sem))) down_read(&sem);
            if (writers_in != 0) ++violations;
            ++readers_in;
            (void)READ_ONCE(data);
            cpu_work(rng.range(0, 2000));
            smp_mb();
            --readers_in;
            up_read(&sem);
          }
          ++acquisitions;
        }
        ++finished;
      });
    const RunStats st = m->run();
    ASSERT_EQ(st.end, EndReason::Completed) << describe(sc) << "\n" << all_bugs(*m);
    EXPECT_TRUE(m->bugs().empty()) << describe(sc) << "\n" << all_bugs(*m);
    EXPECT_EQ(violations, 0) << describe(sc);
    EXPECT_EQ(finished, 8) << describe(sc);
    EXPECT_EQ(acquisitions, 200) << describe(sc);
    EXPECT_EQ(static_cast<int>(lock_class(*m, "stress").acquisitions), 200) << describe(sc);
    EXPECT_EQ(data.v, writes) << describe(sc);
    EXPECT_EQ(sem.readers(), 0);
    EXPECT_EQ(sem.writer(), nullptr);
    EXPECT_EQ(sem.waiters(), 0);
  }
}

// ---- wait queues ----------------------------------------------------------------------

TEST(WaitQueue, WaitEventReturnsOnlyOnceTheConditionHolds) {
  auto m = make(params(2));
  wait_queue_head_t wq;
  init_waitqueue_head_on(m.get(), &wq);
  shared<int> flag;
  shared_init(&flag, m->new_line(), 0);
  int evals = 0, seen = -1;
  Cycles returned = 0, spurious = 0, set = 0;
  std::size_t queued_after_spurious = 99;
  m->spawn("waiter", 0, [&] {
    wait_event(wq, (++evals, READ_ONCE(flag) != 0));
    returned = m->now();
    seen = READ_ONCE(flag);
  });
  m->spawn("waker", 1, [&] {
    cpu_work(20000);
    wake_up(&wq);  // the condition is still false: the waiter must sleep again
    spurious = m->now();
    cpu_work(20000);
    smp_mb();  // a sync point: the woken waiter (far behind) has run and queued again
    queued_after_spurious = wq.size();
    WRITE_ONCE(flag, 1);
    set = m->now();
    wake_up(&wq);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(seen, 1);
  EXPECT_GT(returned, set);
  EXPECT_GT(set, spurious);
  // Checked once before queueing, once queued, once after the spurious wake-up and
  // once after the real one.
  EXPECT_EQ(evals, 4);
  EXPECT_EQ(queued_after_spurious, 1u) << "the waiter queued itself again";
  EXPECT_EQ(wq.size(), 0u);
}

namespace {

/// One waiter, one waker `delay` cycles later: returns how the run ended. With
/// `protocol` the waiter uses wait_event(); without it, it checks the condition first
/// and queues itself afterwards (the lost wake-up bug). Evaluating the condition takes
/// `gap` cycles after the flag is read, which widens every window between a check and
/// the queueing.
EndReason race_wait_and_wake(Cycles delay, bool protocol, Cycles gap, bool* returned) {
  auto m = make(params(2));
  wait_queue_head_t wq;
  init_waitqueue_head_on(m.get(), &wq);
  shared<int> flag;
  shared_init(&flag, m->new_line(), 0);
  *returned = false;
  m->spawn("waiter", 0, [&] {
    cpu_work(1000);
    auto cond = [&] {
      const int v = READ_ONCE(flag);
      cpu_work(gap);
      return v != 0;
    };
    if (protocol) {
      wait_event(wq, cond());
    } else if (!cond()) {
      wait_queue_entry_t e;
      prepare_to_wait(&wq, &e);
      schedule();
      finish_wait(&wq, &e);
    }
    *returned = true;
  });
  m->spawn("waker", 1, [&] {
    cpu_work(delay);
    WRITE_ONCE(flag, 1);
    wake_up(&wq);
  });
  return m->run().end;
}

}  // namespace

TEST(WaitQueue, NoWakeUpIsLostWithTheProtocol) {
  int lost_naive = 0;
  for (Cycles d = 0; d <= 5000; d += 20) {
    for (Cycles gap : {Cycles{0}, Cycles{500}}) {
      bool returned = false;
      EXPECT_EQ(race_wait_and_wake(d, true, gap, &returned), EndReason::Completed) << "delay " << d << " gap " << gap;
      EXPECT_TRUE(returned) << "delay " << d << " gap " << gap;
    }
    bool returned = false;
    if (race_wait_and_wake(d, false, 500, &returned) == EndReason::Deadlock) ++lost_naive;
  }
  // The same sweep does catch the check-then-sleep bug, so it can tell them apart.
  EXPECT_GT(lost_naive, 0);
}

namespace {

/// The open-coded protocol with the condition already true and a tick due at the load
/// that checks it, while another task waits for the CPU. Returns whether the waiter
/// got past its wait.
bool check_under_a_tick(PreemptModel pm, EndReason* end) {
  MachineParams p = params(1);
  p.preempt = pm;
  auto m = make(p);
  wait_queue_head_t wq;
  init_waitqueue_head_on(m.get(), &wq);
  shared<int> flag;
  shared_init(&flag, m->new_line(), 1);  // already true: nobody will call wake_up()
  bool done = false;
  m->spawn("waiter", 0, [&] {
    wait_queue_entry_t e;
    prepare_to_wait(&wq, &e);
    cpu_work(20'000'000);  // past the next tick; it is taken at the load below
    if (!READ_ONCE(flag)) schedule();
    finish_wait(&wq, &e);
    done = true;
  });
  m->spawn("other", 0, [&] { cpu_work(1000); });
  *end = m->run().end;
  return done;
}

}  // namespace

TEST(WaitQueue, TickBetweenPrepareAndCheckPreemptsWithoutSleepingVoluntary) {
  EndReason end;
  EXPECT_TRUE(check_under_a_tick(PreemptModel::Voluntary, &end));
  EXPECT_EQ(end, EndReason::Completed);
}

TEST(WaitQueue, TickBetweenPrepareAndCheckPreemptsWithoutSleepingFull) {
  EndReason end;
  EXPECT_TRUE(check_under_a_tick(PreemptModel::Full, &end));
  EXPECT_EQ(end, EndReason::Completed);
}

TEST(WaitQueue, WakeUpWakesEveryNonExclusiveAndOneExclusiveWaiter) {
  auto m = make(params(5));
  wait_queue_head_t wq;
  init_waitqueue_head_on(m.get(), &wq);
  std::vector<Cycles> woke(4, 0);
  Cycles first = 0, second = 0;
  std::size_t left_after_first = 99;
  int active_before = -1, active_after = -1;
  for (int c = 0; c < 4; ++c)
    m->spawn(named("s", c), c, [&, c] {
      cpu_work(1000 * static_cast<Cycles>(c + 1));  // queue order: s2 before s3
      wait_queue_entry_t e;
      if (c < 2)
        prepare_to_wait(&wq, &e);
      else
        prepare_to_wait_exclusive(&wq, &e);
      schedule();
      finish_wait(&wq, &e);
      woke[static_cast<std::size_t>(c)] = m->now();
    });
  m->spawn("waker", 4, [&] {
    cpu_work(20000);
    active_before = waitqueue_active(&wq);
    first = m->now();
    wake_up(&wq);
    left_after_first = wq.size();
    cpu_work(50000);
    second = m->now();
    wake_up(&wq);
    active_after = waitqueue_active(&wq);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(active_before, 1);
  EXPECT_EQ(left_after_first, 1u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(woke[static_cast<std::size_t>(c)], first) << c;
    EXPECT_LT(woke[static_cast<std::size_t>(c)], second) << c;
  }
  EXPECT_GT(woke[3], second) << "the second exclusive waiter waits for the next wake_up";
  EXPECT_EQ(active_after, 0);
}

TEST(WaitQueue, WakeUpAllWakesExclusiveWaitersToo) {
  auto m = make(params(4));
  wait_queue_head_t wq;
  init_waitqueue_head_on(m.get(), &wq);
  int woken = 0;
  Cycles at = 0;
  std::vector<Cycles> woke(3, 0);
  for (int c = 0; c < 3; ++c)
    m->spawn(named("x", c), c, [&, c] {
      wait_queue_entry_t e;
      prepare_to_wait_exclusive(&wq, &e);
      schedule();
      finish_wait(&wq, &e);
      ++woken;
      woke[static_cast<std::size_t>(c)] = m->now();
    });
  m->spawn("waker", 3, [&] {
    cpu_work(20000);
    at = m->now();
    wake_up_all(&wq);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(woken, 3);
  for (Cycles w : woke) EXPECT_GT(w, at);
}

TEST(WaitQueue, StressProducerConsumerLosesNoWakeUpUnderEveryStrategy) {
  // Consumers sleep in wait_event() until a token is available and take it with a
  // cmpxchg; producers add tokens and wake_up(). Every token must be consumed.
  for (const StressCase& sc : stress_cases()) {
    MachineParams p = params(4, sc.seed);
    p.strategy = sc.strategy;
    p.preempt = sc.preempt;
    p.jitter_pct = 10;
    auto m = make(p);
    wait_queue_head_t wq;
    init_waitqueue_head_on(m.get(), &wq);
    atomic_t tokens;
    atomic_init_on(&tokens, m->new_line(), 0);
    int consumed = 0;
    constexpr int kConsumers = 5, kPerConsumer = 12, kProducers = 2;
    for (int c = 0; c < kConsumers; ++c)
      m->spawn(named("consumer", c), c % 4, [&, c] {
        Rng rng = m->rng(named("consumer.", c));
        for (int i = 0; i < kPerConsumer; ++i) {
          for (;;) {
            wait_event(wq, atomic_read(&tokens) > 0);
            int v = atomic_read(&tokens);
            if (v > 0 && atomic_cmpxchg(&tokens, v, v - 1) == v) break;
          }
          ++consumed;
          cpu_work(rng.range(0, 1500));
        }
      });
    for (int q = 0; q < kProducers; ++q)
      m->spawn(named("producer", q), (q + 1) % 4, [&, q] {
        Rng rng = m->rng(named("producer.", q));
        for (int i = 0; i < kConsumers * kPerConsumer / kProducers; ++i) {
          cpu_work(rng.range(0, 2500));
          atomic_inc(&tokens);
          if (rng.range(0, 3) == 0)
            wake_up_all(&wq);
          else
            wake_up(&wq);
        }
      });
    const RunStats st = m->run();
    ASSERT_EQ(st.end, EndReason::Completed) << describe(sc) << "\n" << all_bugs(*m);
    EXPECT_TRUE(m->bugs().empty()) << describe(sc) << "\n" << all_bugs(*m);
    EXPECT_EQ(consumed, kConsumers * kPerConsumer) << describe(sc);
    EXPECT_EQ(tokens.counter, 0) << describe(sc);
    EXPECT_EQ(wq.size(), 0u) << describe(sc);
  }
}

// ---- completions ------------------------------------------------------------------------

TEST(Completion, CompleteWakesOneWaiterInFifoOrder) {
  auto m = make(params(4));
  struct completion done;
  init_completion_on(m.get(), &done);
  std::vector<int> order;
  std::vector<Cycles> returned(3, 0);
  std::vector<Cycles> completed;
  std::vector<std::size_t> returned_by;  // returns seen just before each complete()
  const Cycles delay[3] = {3000, 1000, 2000};  // queue order: 1, 2, 0
  for (int c = 0; c < 3; ++c)
    m->spawn(named("w", c), c, [&, c] {
      cpu_work(delay[c]);
      wait_for_completion(&done);
      order.push_back(c);
      returned[static_cast<std::size_t>(c)] = m->now();
    });
  m->spawn("completer", 3, [&] {
    for (int i = 0; i < 3; ++i) {
      cpu_work(30000);
      smp_mb();  // let the waiters (far behind) run first
      returned_by.push_back(order.size());
      completed.push_back(m->now());
      complete(&done);
    }
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(returned_by, (std::vector<std::size_t>{0, 1, 2})) << "one waiter per complete()";
  ASSERT_EQ(completed.size(), 3u);
  EXPECT_GT(returned[1], completed[0]);
  EXPECT_GT(returned[2], completed[1]);
  EXPECT_GT(returned[0], completed[2]);
  EXPECT_EQ(done.done(), 0u);
  EXPECT_EQ(done.wait_queue().size(), 0u);
}

TEST(Completion, CompleteAllReleasesEveryWaiterAndLaterWaits) {
  auto m = make(params(5));
  struct completion done;
  init_completion_on(m.get(), &done);
  int returned = 0;
  int done_before = -1, done_after = -1, try1 = -1, try2 = -1;
  Cycles at = 0, late_wait = 0;
  for (int c = 0; c < 4; ++c)
    m->spawn(named("w", c), c, [&, c] {
      cpu_work(1000 * static_cast<Cycles>(c + 1));
      wait_for_completion(&done);
      ++returned;
    });
  m->spawn("completer", 4, [&] {
    cpu_work(20000);
    done_before = completion_done(&done);
    at = m->now();
    complete_all(&done);
    cpu_work(50000);
    done_after = completion_done(&done);
    try1 = try_wait_for_completion(&done);
    try2 = try_wait_for_completion(&done);
    const Cycles t = m->now();
    wait_for_completion(&done);  // does not sleep
    late_wait = m->now() - t;
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(returned, 4);
  EXPECT_EQ(done_before, 0);
  EXPECT_EQ(done_after, 1);
  EXPECT_EQ(try1, 1);
  EXPECT_EQ(try2, 1);
  EXPECT_LT(late_wait, m->costs().ctx_switch) << "no sleep after complete_all";
  EXPECT_EQ(done.done(), std::numeric_limits<unsigned>::max());
}

TEST(Completion, TryWaitAndCompletionDoneCountCompletions) {
  auto m = make(params(1));
  struct completion c;
  init_completion_on(m.get(), &c);
  std::vector<int> r;
  std::uint64_t switches_before = 0, switches_after = 0;
  m->spawn("t", 0, [&] {
    r.push_back(completion_done(&c));          // 0
    r.push_back(try_wait_for_completion(&c));  // 0
    complete(&c);
    complete(&c);
    r.push_back(completion_done(&c));          // 1
    r.push_back(try_wait_for_completion(&c));  // 1 (one left)
    r.push_back(static_cast<int>(c.done()));   // 1
    switches_before = m->cpu(0).ctx_switches;
    wait_for_completion(&c);  // available: no sleep
    switches_after = m->cpu(0).ctx_switches;
    r.push_back(completion_done(&c));          // 0
    r.push_back(try_wait_for_completion(&c));  // 0
    complete(&c);
    reinit_completion(&c);
    r.push_back(completion_done(&c));          // 0
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(r, (std::vector<int>{0, 0, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(switches_after, switches_before);
}

TEST(Completion, CompleteBeforeWaitIsNotLost) {
  for (Cycles d = 0; d <= 3000; d += 1) {
    auto m = make(params(2));
    struct completion c;
    init_completion_on(m.get(), &c);
    bool returned = false;
    m->spawn("waiter", 0, [&] {
      cpu_work(1000);
      wait_for_completion(&c);
      returned = true;
    });
    m->spawn("completer", 1, [&] {
      cpu_work(d);
      complete(&c);
    });
    EXPECT_EQ(m->run().end, EndReason::Completed) << "delay " << d;
    EXPECT_TRUE(returned) << "delay " << d;
    EXPECT_EQ(c.done(), 0u);
  }
}

TEST(Completion, WaitForCompletionIsAMightSleepSite) {
  auto m = make(params(1));
  struct completion c;
  spinlock_t s;
  init_completion_on(m.get(), &c);
  spin_lock_init_on(m.get(), &s, "cmp_spin");
  m->spawn("t", 0, [&] {
    complete(&c);
    spin_lock(&s);
    wait_for_completion(&c);  // does not block, but may sleep: reported
    spin_unlock(&s);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(count_bugs(*m, "sleep-in-atomic"), 1) << all_bugs(*m);
}

// rwlock_t: a second writer that queues while the first holds the lock must not make
// the lock look free. It used to add its "waiting" flag to the held writer byte (0xff),
// which carried into the reader count: a reader arriving then got in beside the holder.
// W1 holds from the start for 20,000 cycles; W2 queues at 2,000; a reader arrives at
// 6,000 and must wait for both (W2 is queued before it).
TEST(RwLockTest, AQueuedWriterNeverLetsAReaderInBesideTheHolder) {
  auto m = make(params(3));
  RwLock l;
  l.init(*m, "rw");
  Cycles w1_out = 0, w2_in = 0, w2_out = 0, r_in = 0;
  bool overlap = false;
  int writers_in = 0;
  m->spawn("w1", 0, [&] {
    l.write_lock();
    writers_in++;
    cpu_work(20000);
    m->sync_point();
    writers_in--;
    w1_out = m->now();
    l.write_unlock();
  });
  m->spawn("w2", 1, [&] {
    cpu_work(2000);
    l.write_lock();
    w2_in = m->now();
    writers_in++;
    overlap |= writers_in > 1;
    cpu_work(5000);
    m->sync_point();
    writers_in--;
    w2_out = m->now();
    l.write_unlock();
  });
  m->spawn("r", 2, [&] {
    cpu_work(6000);
    l.read_lock();
    r_in = m->now();
    overlap |= writers_in > 0;
    l.read_unlock();
  });
  m->run();
  EXPECT_FALSE(overlap);
  EXPECT_GT(w2_in, w1_out);
  EXPECT_GT(r_in, w2_out);
}
