// Regression tests for the defects an outside reliability campaign found in the engine
// (issue 10): held locks carry their type, nothing is observed at a virtual time before
// it happened, and runs that cannot end are ended.
#include <gtest/gtest.h>

#include <chrono>
#include <sys/resource.h>
#include <memory>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "cli/runner.h"
#include "emu/lockdep.h"
#include "emu/machine.h"
#include "emu/mutex.h"
#include "emu/spinlock.h"
#include "emu/strategy.h"
#include "emu/errors.h"
#include "emu/limits.h"
#include "traces/trace.h"
#include "tests/test_util.h"
#include <nlohmann/json.hpp>

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

// Two tasks that poll each other's words forever make no progress the engine can see:
// the watchdog ends the run as a livelock (a fatal report) instead of running forever.
TEST(Livelock, PollingForeverIsReportedAndEndsTheRun) {
  MachineParams p;
  p.cpus = 2;
  p.livelock_ms = 5;
  const machine_profile* prof = find_machine_profile("opteron48");
  Machine m(p, build_topology(prof, 2), prof->costs);
  const LineId line = m.new_line();
  int word = 0;
  for (CpuId c = 0; c < 2; ++c)
    m.spawn("poller" + std::to_string(c), c, [&m, line, &word] {
      for (;;) {
        (void)m.load(line, word);
        m.compute(1000);
      }
    });
  const RunStats st = m.run();
  EXPECT_EQ(st.end, EndReason::Livelock);
  ASSERT_EQ(m.bugs().size(), 1u);
  EXPECT_EQ(m.bugs()[0].check, "livelock");
  EXPECT_NE(m.bugs()[0].message.find("poller"), std::string::npos);
  // 5 ms at 2.1 GHz, plus at most a tick.
  EXPECT_LT(st.cycles, 2 * 10500000u + m.tick_cycles());
}

// Progress of any kind (here: a lock taken now and then) keeps the watchdog quiet.
TEST(Livelock, ProgressKeepsTheWatchdogQuiet) {
  MachineParams p;
  p.cpus = 2;
  p.livelock_ms = 1;
  const machine_profile* prof = find_machine_profile("opteron48");
  Machine m(p, build_topology(prof, 2), prof->costs);
  SpinLock lock;
  lock.init(m, "l");
  m.spawn("worker", 0, [&m, &lock] {
    for (int i = 0; i < 20000; ++i) {
      lock.lock();
      m.compute(500);
      lock.unlock();
      m.compute(1000);
    }
  });
  const RunStats st = m.run();
  EXPECT_EQ(st.end, EndReason::Completed);
  EXPECT_TRUE(m.bugs().empty());
  EXPECT_GT(st.cycles, 20000u * 1500u);  // longer than the watchdog's window many times over
}

// A host deadline in the past stops the run at once as host_limit.
TEST(Livelock, AHostDeadlineStopsTheRun) {
  auto m = make(2, 1, "time");
  Machine* mp = m.get();
  m->spawn("forever", 0, [mp] {
    for (;;) mp->compute(100000), mp->note_progress(), mp->sync_point();
  });
  m->set_host_deadline(std::chrono::steady_clock::now());
  EXPECT_EQ(m->run().end, EndReason::HostLimit);
  EXPECT_TRUE(m->bugs().empty());
}

TEST(Livelock, PctWindowIsBounded) {
  EXPECT_THROW(make_strategy("pct:3:1:18446744073709551615", 4, 1), std::invalid_argument);
  EXPECT_THROW(make_strategy("pct:3:10000000000000:100", 4, 1), std::invalid_argument);
  EXPECT_NO_THROW(make_strategy("pct:3:1:1000000000", 4, 1));
}

// A campaign's per-run limits: a run that reaches --max-cycles or --run-timeout is
// counted as its own outcome, in the JSON and in the text.
TEST(CampaignLimits, LimitedRunsAreCountedNotHidden) {
  using smpemu::testing::run_smpemu;
  const auto e = run_smpemu("fuzz rcu-readers --runs 3 --jobs 1 --max-cycles 200000 --json");
  ASSERT_EQ(e.status, 0) << e.err;
  const auto j = nlohmann::json::parse(e.out);
  EXPECT_EQ(j["time_limited_runs"], 3);
  EXPECT_EQ(j["first_time_limited_seed"], 1);
  EXPECT_EQ(j["host_limited_runs"], 0);
  EXPECT_EQ(j["settings"]["max_cycles"], "200000");
  const auto t = run_smpemu("fuzz rcu-readers --runs 3 --jobs 1 --max-cycles 200000");
  EXPECT_NE(t.out.find("3 runs reached the per-run cycle limit"), std::string::npos) << t.out;
  // Without --max-cycles a campaign still has a limit.
  const auto d = run_smpemu("fuzz abba --runs 2 --jobs 1 --json");
  EXPECT_EQ(nlohmann::json::parse(d.out)["settings"]["max_cycles"], "20000000000");
  const auto c = run_smpemu("compare rcu-readers --a free=call_rcu --b free=synchronize --seeds 2 --jobs 1 "
                            "--max-cycles 200000 --json");
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(nlohmann::json::parse(c.out)["time_limited_runs"]["a"], 2);
  smpemu::testing::expect_usage_error("fuzz abba --run-timeout -1", "--run-timeout");
}

// The trace ring grows as events arrive: the largest --trace-buffer costs nothing until
// it is used (it used to allocate 2^28 * 32 bytes up front), and past it is refused.
TEST(Bounds, TraceBufferGrowsLazily) {
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  Trace t(limits::kTraceBuffer);
  for (std::uint64_t i = 0; i < 1000; ++i) t.add(TraceEvent{i, i, 0, 0, 0, TraceKind::Mark, 0});
  ::getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024);  // KiB: far below the 2 GiB capacity
  EXPECT_EQ(t.events().size(), 1000u);
  EXPECT_EQ(t.dropped(), 0u);
  Trace small(3);
  for (std::uint64_t i = 0; i < 5; ++i) small.add(TraceEvent{i, i, 0, 0, 0, TraceKind::Mark, 0});
  ASSERT_EQ(small.events().size(), 3u);
  EXPECT_EQ(small.events().front().time, 2u);
  EXPECT_EQ(small.dropped(), 2u);
  smpemu::testing::expect_usage_error("run abba --trace /tmp/smpemu_t.txt --trace-buffer " +
                                          std::to_string(limits::kTraceBuffer + 1),
                                      "--trace-buffer");
}

TEST(Bounds, TaskCountIsBounded) {
  auto m = make(1, 1, "time");
  EXPECT_THROW(
      {
        for (std::uint64_t i = 0; i <= limits::kTasks; ++i) m->spawn("t", 0, [] {});
      },
      ConfigError);
}

}  // namespace
