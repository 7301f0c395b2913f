// Regression tests for the defects an outside reliability campaign found in the engine
// (issue 10): held locks carry their type, nothing is observed at a virtual time before
// it happened, and runs that cannot end are ended.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "cli/runner.h"
#include "emu/lockdep.h"
#include "emu/machine.h"
#include "emu/mutex.h"
#include "emu/spinlock.h"

using namespace smpemu;

namespace {

RunResult run(const std::string& w, std::uint64_t seed, const std::string& strategy,
              std::map<std::string, std::string> set = {}, PreemptModel preempt = PreemptModel::Voluntary,
              bool mutex_spin = false) {
  RunConfig cfg;
  cfg.workload = w;
  cfg.params.seed = seed;
  cfg.params.strategy = strategy;
  cfg.params.preempt = preempt;
  cfg.params.mutex_spin = mutex_spin;
  cfg.set = std::move(set);
  return run_once(cfg);
}

std::unique_ptr<Machine> make(int cpus, std::uint64_t seed, const std::string& strategy) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = seed;
  p.strategy = strategy;
  const machine_profile* prof = find_machine_profile("opteron48");
  return std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
}

// Page locks (lock_page) are held as bit locks, not mutexes: the context switch of a
// task holding one used to cast the page to a Mutex under --mutex-spin (a segfault).
TEST(HeldLocks, PageLocksUnderMutexSpinAndFullPreemption) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const RunResult r = run("truncate-latency", seed, "time", {}, PreemptModel::Full, true);
    EXPECT_TRUE(r.bugs.empty()) << "seed " << seed << ": " << r.bugs.front().message;
    EXPECT_EQ(r.stats.end, EndReason::Completed);
  }
}

TEST(HeldLocks, AKindMatchesOnlyItsOwnLockType) {
  const Mutex* mu = nullptr;
  const SpinLock* sp = nullptr;
  int page = 0;
  EXPECT_TRUE(lock_kind_matches(LockRef(mu), LockKind::Mutex));
  EXPECT_FALSE(lock_kind_matches(LockRef(MapLock{&page}), LockKind::Mutex));
  EXPECT_TRUE(lock_kind_matches(LockRef(MapLock{&page}), LockKind::BitLock));
  EXPECT_FALSE(lock_kind_matches(LockRef(sp), LockKind::BitLock));
  // Identity: the same object as another type is another lock.
  EXPECT_FALSE(LockRef(MapLock{&page}) == LockRef(reinterpret_cast<const Mutex*>(&page)));
}

// Under random and pct a waker can run ahead of the CPU it wakes; the woken task used to
// run before its wakeup (sched.latency wrapped to about 2^64).
TEST(Causality, NoHistogramSampleIsNegative) {
  for (const char* strategy : {"random", "pct:1", "pct:3"})
    for (std::uint64_t seed = 1; seed <= 4; ++seed)
      for (const char* w : {"truncate-latency", "rcu-readers", "spinlock-contention"}) {
        const RunResult r = run(w, seed, strategy);
        for (const auto& [name, h] : r.histograms)
          EXPECT_LT(h.max(), Cycles{1} << 62) << w << " " << strategy << " seed " << seed << " " << name;
        if (std::string(w) == "truncate-latency") {
          EXPECT_GT(r.histograms.at("sched.latency").count(), 0u);
        }
      }
}

// A value stored at virtual time T is never loaded by a CPU whose clock is before T, and a
// store is never performed before a load that did not see it, whatever order the
// strategy runs the CPUs in.
TEST(Causality, LoadsAndStoresFollowTheAccessesTheyAreOrderedAfter) {
  for (const char* strategy : {"time", "random", "pct:2"})
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      auto m = make(4, seed, strategy);
      Machine* mp = m.get();
      const LineId line = m->new_line();
      int value = 0;
      Cycles stored_at = 0, seen_at = 0, overwrite_at = 0;
      m->spawn("writer", 0, [&] {
        mp->compute(100000);  // far ahead of the reader's clock
        stored_at = mp->now();
        mp->store(line, value, 1);
      });
      m->spawn("reader", 1, [&] {
        for (;;) {
          if (mp->load(line, value) != 0) {
            seen_at = mp->now();
            break;
          }
          mp->compute(50);
        }
      });
      m->spawn("late-writer", 2, [&] {
        mp->compute(10);
        mp->spin_until(line, value, [](int v) { return v == 1; });
        overwrite_at = mp->now();
        mp->store(line, value, 2);
      });
      m->run();
      EXPECT_GE(seen_at, stored_at) << strategy << " seed " << seed;
      EXPECT_GE(overwrite_at, stored_at) << strategy << " seed " << seed;
    }
}

// A task woken by a CPU that ran ahead starts no earlier than the wakeup.
TEST(Causality, AWokenTaskRunsAfterItsWakeup) {
  for (const char* strategy : {"random", "pct:2"})
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      auto m = make(2, seed, strategy);
      Machine* mp = m.get();
      Task* sleeper = nullptr;
      Cycles woke_at = 0, ran_at = 0;
      bool flag = false;
      const LineId line = m->new_line();
      sleeper = m->spawn("sleeper", 1, [&] {
        for (;;) {
          mp->set_current_blocked();
          if (mp->load(line, flag)) break;
          mp->schedule();
        }
        mp->set_current_running();
        ran_at = mp->now();
      });
      m->spawn("busy", 1, [&] {
        for (int i = 0; i < 200; ++i) {
          mp->compute(10);
          mp->yield();
        }
      });
      m->spawn("waker", 0, [&] {
        mp->compute(200000);
        mp->store(line, flag, true);
        woke_at = mp->now();
        mp->wake(sleeper);
      });
      m->run();
      EXPECT_GE(ran_at, woke_at) << strategy << " seed " << seed;
      EXPECT_LT(m->histograms().at("sched.latency").max(), Cycles{1} << 62);
    }
}

}  // namespace
