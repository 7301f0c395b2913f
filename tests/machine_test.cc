// Unit tests of the Machine (emu/machine.h, emu/machine.cc, emu/sched.cc): tasks as
// fibers on emulated CPUs, turn-taking under the strategies, shared accesses, spinning,
// blocking and waking, timers, interrupts, the three preemption models, the end-of-run
// conditions, and teardown of suspended fibers.
//
// Machines are built directly on the opteron48 profile (hit 4, local_rmw 20, memory 300,
// barrier 40, ipi_send 150, ipi_latency 1250, ctx_switch 3000, 2.1 GHz; transfers Die
// 117, Package 197, Hop1 217, Hop2 300). Costs are read from m.costs() where possible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arch/profiles.h"
#include "emu/log.h"
#include "emu/machine.h"
#include "emu/strategy.h"

using namespace smpemu;

namespace smpemu {
// Readable values in failure messages (internal linkage: no clash with other tests).
static void PrintTo(EndReason r, std::ostream* os) { *os << end_reason_name(r); }
static void PrintTo(CpuState s, std::ostream* os) {
  static const char* const names[] = {"Running", "Idle", "Spinning", "Parked"};
  *os << names[static_cast<int>(s)];
}
static void PrintTo(TaskState s, std::ostream* os) {
  static const char* const names[] = {"Runnable", "Blocked", "Dead"};
  *os << names[static_cast<int>(s)];
}
}  // namespace smpemu

namespace {

const machine_profile* opteron() { return find_machine_profile("opteron48"); }

MachineParams params(int cpus, std::uint64_t seed = 1) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = seed;
  return p;
}

std::unique_ptr<Machine> make(const MachineParams& p, StackPool* pool = nullptr) {
  const machine_profile* prof = opteron();
  return std::make_unique<Machine>(p, build_topology(prof, p.cpus), prof->costs, pool);
}

/// "prefix" followed by the decimal number `n` (task and stream names).
std::string named(const char* prefix, long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

bool has_bug(const Machine& m, const std::string& check) {
  for (const BugReport& b : m.bugs())
    if (b.check == check) return true;
  return false;
}

/// Sets a flag when destroyed: proves a suspended fiber's stack was unwound.
struct Guard {
  bool* flag;
  ~Guard() { *flag = true; }
};

}  // namespace

// ---- construction and the basic life cycle ----------------------------------------

TEST(Machine, ConstructionChecksItsArguments) {
  const machine_profile* prof = opteron();
  MachineParams p = params(4);
  EXPECT_THROW({ Machine bad(p, build_topology(prof, 8), prof->costs); }, std::invalid_argument);
  p.strategy = "no-such-strategy";
  EXPECT_THROW({ Machine bad(p, build_topology(prof, 4), prof->costs); }, std::invalid_argument);
  p = params(4);
  auto m = make(p);
  EXPECT_EQ(m->ncpus(), 4);
  EXPECT_THROW(m->spawn("bad", 4, [] {}), std::invalid_argument);
  EXPECT_THROW(m->spawn("bad", -1, [] {}), std::invalid_argument);
}

TEST(Machine, TasksRunAndExit) {
  auto m = make(params(4));
  std::vector<int> ran(4, 0);
  std::vector<CpuId> seen_cpu(4, kNoCpu);
  std::vector<std::string> seen_name(4);
  std::vector<Task*> tasks;
  for (CpuId c = 0; c < 4; ++c)
    tasks.push_back(m->spawn(named("t", c), c, [&, c] {
      ++ran[static_cast<std::size_t>(c)];
      seen_cpu[static_cast<std::size_t>(c)] = m->cpu_id();
      seen_name[static_cast<std::size_t>(c)] = m->current()->name;
      m->compute(1000 * static_cast<Cycles>(c + 1));
      m->sync_point();
    }));
  const RunStats s = m->run();
  EXPECT_EQ(s.end, EndReason::Completed);
  EXPECT_STREQ(end_reason_name(s.end), "completed");
  EXPECT_TRUE(m->bugs().empty());
  const Cycles ctx = m->costs().ctx_switch;
  for (CpuId c = 0; c < 4; ++c) {
    const auto i = static_cast<std::size_t>(c);
    EXPECT_EQ(ran[i], 1);
    EXPECT_EQ(seen_cpu[i], c);
    EXPECT_EQ(seen_name[i], named("t", c));
    EXPECT_EQ(tasks[i]->state, TaskState::Dead);
    EXPECT_EQ(tasks[i]->cpu, c);
    // Switch in, compute, switch out to the idle task.
    EXPECT_EQ(m->cpu(c).clock, ctx + 1000 * static_cast<Cycles>(c + 1) + ctx);
    EXPECT_EQ(m->cpu(c).ctx_switches, 2u);
    EXPECT_EQ(m->cpu(c).state, CpuState::Idle);
    EXPECT_EQ(m->cpu(c).curr, m->cpu(c).idle);
  }
  EXPECT_EQ(s.cycles, 2 * ctx + 4000);
  EXPECT_GT(s.events, 0u);
  EXPECT_EQ(s.digest, m->digest());
  EXPECT_THROW(m->run(), std::logic_error);
}

TEST(Machine, TasksOfOneCpuRunInSpawnOrder) {
  auto m = make(params(2));
  std::string log;
  for (char name : std::string("ABCD"))
    m->spawn(std::string(1, name), 1, [&, name] {
      log += name;
      m->compute(500);
      m->sync_point();
      log += static_cast<char>(name - 'A' + 'a');
    });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(log, "AaBbCcDd");
  EXPECT_EQ(m->cpu(0).ctx_switches, 0u) << "CPU 0 had nothing to run";
}

TEST(Machine, RunWithNoTasksCompletesAtOnce) {
  auto m = make(params(3));
  const RunStats s = m->run();
  EXPECT_EQ(s.end, EndReason::Completed);
  EXPECT_EQ(s.cycles, 0u);
  EXPECT_TRUE(m->bugs().empty());
}

TEST(Machine, RngStreamsComeFromTheSeed) {
  auto m = make(params(2, 99));
  Rng a = m->rng("workload.x");
  Rng b(99, "workload.x");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
}

// ---- costs and clocks ---------------------------------------------------------------

TEST(Machine, ComputeAdvancesOnlyTheLocalClock) {
  auto m = make(params(2));
  bool other_ran = false;
  bool seen_during_compute = true;
  bool seen_after_sync = false;
  Cycles before = 0, after = 0, other_clock_before = 0, other_clock_after = 0;
  m->spawn("computer", 0, [&] {
    before = m->now();
    other_clock_before = m->cpu(1).clock;
    m->compute(1'000'000);
    after = m->now();
    other_clock_after = m->cpu(1).clock;
    seen_during_compute = other_ran;  // compute() is not a sync point: nobody else ran
    m->sync_point();                  // CPU 1 (far behind) goes first here
    seen_after_sync = other_ran;
  });
  m->spawn("other", 1, [&] {
    m->compute(10);
    m->sync_point();
    other_ran = true;
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(after - before, 1'000'000u);
  EXPECT_EQ(other_clock_before, other_clock_after);
  EXPECT_FALSE(seen_during_compute);
  EXPECT_TRUE(seen_after_sync);
}

TEST(Machine, ComputeJitterIsBoundedAndSeeded) {
  auto run = [](std::uint64_t seed) {
    MachineParams p = params(1, seed);
    p.jitter_pct = 10;
    auto m = make(p);
    std::vector<Cycles> d;
    m->spawn("j", 0, [&] {
      for (int i = 0; i < 50; ++i) {
        const Cycles t = m->now();
        m->compute(1000);
        d.push_back(m->now() - t);
      }
    });
    m->run();
    return d;
  };
  const auto a = run(5);
  for (Cycles c : a) {
    EXPECT_GE(c, 1000u);
    EXPECT_LE(c, 1100u);
  }
  EXPECT_NE(std::count(a.begin(), a.end(), a.front()), static_cast<long>(a.size())) << "no jitter at all";
  EXPECT_EQ(a, run(5));
  EXPECT_NE(a, run(6));
}

TEST(Machine, SharedAccessesChargeTheCoherenceCosts) {
  auto m = make(params(2));
  const CostTable& k = m->costs();
  std::vector<Cycles> d;
  std::uint32_t x = 0;
  std::uint64_t versions_after_same_store = 0, versions_end = 0;
  const LineId l = m->new_line();
  m->spawn("a", 0, [&] {
    m->sync_point();
    Cycles t = m->now();
    auto step = [&] {
      d.push_back(m->now() - t);
      t = m->now();
    };
    m->store(l, x, 1u);  // uncached: memory
    step();
    m->store(l, x, 1u);  // owner hit; the value does not change
    step();
    versions_after_same_store = m->coherence().line(l).version;
    EXPECT_EQ(m->load(l, x), 1u);  // hit
    step();
    EXPECT_EQ(m->fetch_add(l, x, 2u), 1u);  // local RMW
    step();
    EXPECT_EQ(m->exchange(l, x, 7u), 3u);
    step();
    std::uint32_t expected = 5;
    EXPECT_FALSE(m->compare_exchange(l, x, expected, 9u));
    EXPECT_EQ(expected, 7u);
    step();
    EXPECT_TRUE(m->compare_exchange(l, x, expected, 9u));
    step();
    m->barrier();
    step();
    versions_end = m->coherence().line(l).version;
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(x, 9u);
  const std::vector<Cycles> want = {k.memory, k.hit, k.hit, k.local_rmw, k.local_rmw, k.local_rmw, k.local_rmw, k.barrier};
  EXPECT_EQ(d, want);
  EXPECT_EQ(versions_after_same_store, 1u) << "a store of the same value must not count as a change";
  EXPECT_EQ(versions_end, 4u);  // 1, 3, 7, 9
}

TEST(Machine, StoresToOneLineFromTwoCpusAtOnceQueue) {
  auto m = make(params(24));
  const LineId l = m->new_line();
  std::uint32_t x = 0;
  std::vector<Cycles> done;
  for (CpuId c : {0, 12})
    m->spawn(named("w", c), c, [&, c] {
      m->store(l, x, static_cast<std::uint32_t>(c + 1));
      done.push_back(m->now());
    });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  ASSERT_EQ(done.size(), 2u);
  const Cycles start = m->costs().ctx_switch;
  // First: a memory fetch. Second: its request travels while the line is busy, then it
  // waits for the line and pays the rest of one transfer (0 <-> 12: 1 hop).
  const Cycles hop = m->costs().transfer[static_cast<std::size_t>(Distance::Hop1)];
  const Cycles lead = hop * m->costs().request_leg_pct / 100;
  EXPECT_EQ(done[0], start + m->costs().memory);
  EXPECT_EQ(done[1], done[0] + hop - lead);
}

// ---- strategies: order of visible operations ------------------------------------------

namespace {

struct OrderLog {
  std::vector<std::pair<Cycles, CpuId>> at_sync;   // now() right after sync_point()
  std::vector<Cycles> store_done;                  // now() right after a store, one line
  std::uint64_t digest = 0;
};

constexpr int kOrderCpus = 4;
constexpr int kOrderIters = 30;

/// Four CPUs, each repeatedly computing a seeded random amount, then a sync point, then a
/// store to one shared line. Short enough that no tick fires (no interrupt work).
OrderLog run_order(const std::string& strategy, std::uint64_t seed) {
  MachineParams p = params(kOrderCpus, seed);
  p.strategy = strategy;
  auto m = make(p);
  OrderLog log;
  const LineId l = m->new_line();
  std::uint32_t x = 0;
  for (CpuId c = 0; c < kOrderCpus; ++c)
    m->spawn(named("order", c), c, [&, c] {
      Rng rng = m->rng(named("workload.order.", c));
      for (int i = 0; i < kOrderIters; ++i) {
        m->compute(500 + rng.below(5000));
        m->sync_point();
        log.at_sync.emplace_back(m->now(), m->cpu_id());
        m->compute(rng.below(200));
        m->store(l, x, static_cast<std::uint32_t>(i * kOrderCpus + c + 1));
        log.store_done.push_back(m->now());
      }
    });
  const RunStats s = m->run();
  EXPECT_EQ(s.end, EndReason::Completed) << strategy;
  EXPECT_TRUE(m->bugs().empty()) << strategy;
  EXPECT_EQ(log.at_sync.size(), static_cast<std::size_t>(kOrderCpus * kOrderIters)) << strategy;
  EXPECT_EQ(log.store_done.size(), static_cast<std::size_t>(kOrderCpus * kOrderIters)) << strategy;
  log.digest = m->digest();
  return log;
}

}  // namespace

TEST(Strategy, TimeRunsVisibleOperationsInClockOrder) {
  for (std::uint64_t seed : {1, 2, 3}) {
    const OrderLog log = run_order("time", seed);
    ASSERT_EQ(log.at_sync.size(), static_cast<std::size_t>(kOrderCpus * kOrderIters));
    std::vector<int> per_cpu(kOrderCpus, 0);
    for (std::size_t i = 0; i < log.at_sync.size(); ++i) {
      ++per_cpu[static_cast<std::size_t>(log.at_sync[i].second)];
      if (i > 0) {
        ASSERT_LE(log.at_sync[i - 1].first, log.at_sync[i].first)
            << "seed " << seed << ": sync point " << i << " ran before an earlier one";
      }
    }
    for (int n : per_cpu) EXPECT_EQ(n, kOrderIters);
    // One line serves one transfer at a time, in the order the stores were issued.
    for (std::size_t i = 1; i < log.store_done.size(); ++i) {
      ASSERT_LE(log.store_done[i - 1], log.store_done[i]) << "seed " << seed << ": store " << i;
    }
  }
}

TEST(Strategy, RandomAndPctDoNotFollowClockOrderButKeepClocksMonotone) {
  for (const char* strategy : {"random", "pct:3:200"}) {
    const OrderLog log = run_order(strategy, 4);
    int decreases = 0;
    std::vector<Cycles> last(4, 0);
    for (std::size_t i = 0; i < log.at_sync.size(); ++i) {
      const auto [t, c] = log.at_sync[i];
      ASSERT_GE(t, last[static_cast<std::size_t>(c)]) << strategy << ": a CPU clock went backwards";
      last[static_cast<std::size_t>(c)] = t;
      if (i > 0 && t < log.at_sync[i - 1].first) ++decreases;
    }
    EXPECT_GT(decreases, 0) << strategy << " behaved exactly like time";
  }
}

TEST(Strategy, SameSeedSameScheduleDifferentSeedDifferentSchedule) {
  for (const char* strategy : {"time", "random", "pct:2"}) {
    const OrderLog a = run_order(strategy, 11), b = run_order(strategy, 11), c = run_order(strategy, 12);
    EXPECT_EQ(a.at_sync, b.at_sync) << strategy;
    EXPECT_EQ(a.digest, b.digest) << strategy;
    EXPECT_NE(a.digest, c.digest) << strategy;
  }
}

TEST(Strategy, SpecsAndErrors) {
  EXPECT_EQ(make_strategy("time", 4, 1)->spec(), "time");
  EXPECT_EQ(make_strategy("random", 4, 1)->spec(), "random");
  EXPECT_EQ(make_strategy("pct:2", 4, 1)->spec(), "pct:2:100000:100000");
  EXPECT_EQ(make_strategy("pct:3:500", 4, 1)->spec(), "pct:3:500:100000");
  EXPECT_EQ(make_strategy("pct:3:500:7", 4, 1)->spec(), "pct:3:500:7");
  for (const char* bad : {"", "Time", "pct", "pct:", "pct:0", "pct:1001", "pct:x", "pct:2:0", "pct:2:", "pct:2:3:0", "pct:2:3:4:5"})
    EXPECT_THROW(make_strategy(bad, 4, 1), std::invalid_argument) << "'" << bad << "'";
}

TEST(Strategy, TimeStrategyPicksTheEarliestReadyCpu) {
  TimeStrategy s(1);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.frontier(), kNever);
  s.add(1, 100);
  s.add(2, 50);
  s.add(3, 75);
  EXPECT_EQ(s.frontier(), 50u);
  EXPECT_EQ(s.pick(0, 40), 0) << "the running CPU is earliest: it goes on";
  EXPECT_EQ(s.pick(0, 60), 2);  // 0 joins the set at 60
  EXPECT_EQ(s.frontier(), 60u);
  EXPECT_EQ(s.pick(kNoCpu, 0), 0);
  EXPECT_EQ(s.pick(kNoCpu, 0), 3);
  EXPECT_EQ(s.pick(kNoCpu, 0), 1);
  EXPECT_TRUE(s.empty());
  // Ties: both orders occur over many seeds, and each seed is reproducible.
  int first_is_4 = 0;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    TimeStrategy t(seed), u(seed);
    t.add(4, 10);
    u.add(4, 10);
    const CpuId a = t.pick(5, 10), b = u.pick(5, 10);
    EXPECT_EQ(a, b);
    first_is_4 += a == 4;
  }
  EXPECT_GT(first_is_4, 8);
  EXPECT_LT(first_is_4, 56);
}

TEST(Strategy, RandomStrategyChoosesAmongAllReadyCpusIncludingTheCurrentOne) {
  auto s = make_strategy("random", 4, 3);
  int stays = 0;
  for (int i = 0; i < 1000; ++i) {
    s->add(1, 0);
    const CpuId c = s->pick(0, 5);
    if (c == 0) {
      ++stays;
      EXPECT_EQ(s->pick(kNoCpu, 0), 1);  // drain
    } else {
      EXPECT_EQ(c, 1);
      EXPECT_EQ(s->pick(kNoCpu, 0), 0);
    }
    EXPECT_TRUE(s->empty());
  }
  EXPECT_GT(stays, 400);
  EXPECT_LT(stays, 600);
}

// ---- spinning ---------------------------------------------------------------------

TEST(Machine, SpinUntilWakesWhenAnotherCpuStores) {
  auto m = make(params(2));
  const LineId l = m->new_line();
  std::uint32_t flag = 0;
  Cycles t_store = 0, t_woke = 0, spin_started = 0;
  std::uint32_t got = 0;
  CpuState spinner_state = CpuState::Running;
  m->spawn("spinner", 0, [&] {
    spin_started = m->now();
    got = m->spin_until(l, flag, [](std::uint32_t v) { return v == 1; });
    t_woke = m->now();
  });
  m->spawn("writer", 1, [&] {
    m->compute(1'000'000);
    m->sync_point();
    spinner_state = m->cpu(0).state;
    m->store(l, flag, 1u);
    t_store = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(spinner_state, CpuState::Spinning);
  EXPECT_GE(t_woke, t_store);
  // Reload from the writer (same die) right after the store completed.
  EXPECT_EQ(t_woke, t_store + m->costs().transfer[static_cast<std::size_t>(Distance::Die)]);
  EXPECT_GT(m->cpu(0).spin_cycles, 900'000u);
  EXPECT_LE(m->cpu(0).spin_cycles, t_store - spin_started);
}

TEST(Machine, SpinUntilIgnoresStoresThatDoNotSatisfyThePredicate) {
  auto m = make(params(2));
  const LineId l = m->new_line();
  std::uint32_t v = 0;
  Cycles t_second = 0, t_woke = 0;
  std::uint32_t got = 0;
  m->spawn("spinner", 0, [&] {
    got = m->spin_until(l, v, [](std::uint32_t x) { return x == 2; });
    t_woke = m->now();
  });
  m->spawn("writer", 1, [&] {
    m->compute(100'000);
    m->store(l, v, 1u);  // wakes the spinner, which reloads and spins on
    m->compute(100'000);
    m->store(l, v, 1u);  // same value: no change, no wakeup
    m->compute(100'000);
    m->store(l, v, 2u);
    t_second = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(got, 2u);
  EXPECT_GE(t_woke, t_second);
}

TEST(Machine, SpinUntilReturnsAtOnceWhenThePredicateHolds) {
  auto m = make(params(1));
  const LineId l = m->new_line();
  std::uint32_t v = 5;
  Cycles d = 0;
  m->spawn("s", 0, [&] {
    m->sync_point();
    const Cycles t = m->now();
    EXPECT_EQ(m->spin_until(l, v, [](std::uint32_t x) { return x == 5; }), 5u);
    d = m->now() - t;
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(d, m->costs().memory);  // one load
  EXPECT_EQ(m->cpu(0).spin_cycles, 0u);
}

// ---- blocking, waking, sleeping -------------------------------------------------------

TEST(Machine, BlockAndWakeAcrossCpus) {
  auto m = make(params(2));
  Task* sleeper = nullptr;
  Cycles t_wake_call = 0, t_resumed = 0;
  bool resumed = false;
  sleeper = m->spawn("sleeper", 0, [&] {
    m->block();
    resumed = true;
    t_resumed = m->now();
    EXPECT_EQ(m->cpu_id(), 0);
  });
  m->spawn("waker", 1, [&] {
    m->compute(500'000);
    m->sync_point();
    EXPECT_EQ(sleeper->state, TaskState::Blocked);
    EXPECT_EQ(m->cpu(0).state, CpuState::Idle);
    t_wake_call = m->now();
    m->wake(sleeper);
    m->wake(sleeper);  // no effect on a task that is not blocked
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty());
  ASSERT_TRUE(resumed);
  const CostTable& k = m->costs();
  EXPECT_GE(t_resumed, t_wake_call + k.ipi_latency);
  EXPECT_LE(t_resumed, t_wake_call + k.ipi_send + k.ipi_latency + k.transfer[5] + k.ctx_switch);
  // The wakeup latency is the context switch on the (idle) target CPU.
  const Histogram& lat = m->histograms().at("sched.latency");
  EXPECT_EQ(lat.count(), 1u);
  EXPECT_EQ(lat.max(), k.ctx_switch);
  EXPECT_GE(m->cpu(0).idle_cycles, 490'000u);
}

TEST(Machine, WakeBeforeBlockIsLostLikeInTheKernel) {
  // block() is set_current_blocked() + schedule(). The waker, earlier in virtual time,
  // wakes the sleeper before it calls block(): the task is not blocked yet, so the
  // wakeup has no effect, and the sleep that follows never ends ("check, then sleep"
  // without the protocol loses the wakeup, as in the kernel).
  bool after = false;
  auto m = make(params(2));
  Task* sleeper = nullptr;
  TaskState state_at_wake = TaskState::Dead;
  sleeper = m->spawn("sleeper", 0, [&] {
    m->compute(1000);
    m->block();
    after = true;
  });
  m->spawn("waker", 1, [&] {
    m->sync_point();
    state_at_wake = sleeper->state;
    m->wake(sleeper);
  });
  const RunStats s = m->run();
  EXPECT_EQ(state_at_wake, TaskState::Runnable) << "the wakeup was not ordered before block()";
  EXPECT_EQ(s.end, EndReason::Deadlock);
  EXPECT_FALSE(after);
  ASSERT_EQ(m->bugs().size(), 1u);
  EXPECT_EQ(m->bugs()[0].check, "deadlock");
  EXPECT_TRUE(m->bugs()[0].fatal);
  EXPECT_NE(m->bugs()[0].message.find("sleeper[cpu0,blocked]"), std::string::npos) << m->bugs()[0].message;
  EXPECT_EQ(sleeper->state, TaskState::Blocked);
}

TEST(Machine, SetCurrentBlockedThenScheduleReturnsIfWokenInBetween) {
  // The kernel's protocol: set_current_blocked(), then (the condition still false) some
  // work, then schedule(). A waker ordered after set_current_blocked() makes the task
  // runnable again, so schedule() returns at once, without a context switch.
  auto m = make(params(2));
  Task* sleeper = nullptr;
  Cycles before = 0, after = 0, t_blocked = 0, t_wake = 0;
  sleeper = m->spawn("sleeper", 0, [&] {
    m->compute(1000);
    m->set_current_blocked();
    t_blocked = m->now();
    EXPECT_EQ(m->current()->state, TaskState::Blocked);
    m->compute(100'000);
    before = m->now();
    m->schedule();
    after = m->now();
    EXPECT_EQ(m->current()->state, TaskState::Runnable);
  });
  m->spawn("waker", 1, [&] {
    m->compute(50'000);
    m->sync_point();
    EXPECT_EQ(sleeper->state, TaskState::Blocked) << "the wakeup must come after set_current_blocked()";
    t_wake = m->now();
    m->wake(sleeper);
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty());
  EXPECT_LT(t_blocked, t_wake);
  EXPECT_LT(t_wake, before);
  EXPECT_EQ(after, before) << "schedule() switched away although the task had been woken";
  EXPECT_EQ(m->cpu(0).ctx_switches, 2u);  // idle -> sleeper, sleeper -> idle at exit
  EXPECT_EQ(m->cpu(0).idle_cycles, 0u);
}

TEST(Machine, WakeOnTheSameCpuQueuesTheTask) {
  MachineParams p = params(1);
  p.preempt = PreemptModel::None;
  auto m = make(p);
  std::string log;
  Task* b = nullptr;
  b = m->spawn("B", 0, [&] {
    log += "B";
    m->block();
    log += "b";
  });
  m->spawn("A", 0, [&] {
    log += "A";
    m->compute(10'000);
    EXPECT_EQ(b->state, TaskState::Blocked);
    m->wake(b);
    log += "w";
    EXPECT_EQ(b->state, TaskState::Runnable);
    EXPECT_TRUE(m->need_resched()) << "a local wakeup sets need_resched (wakeup_preempt)";
    m->compute(10'000);
    m->sync_point();
    log += "a";
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(log, "BAwab") << "under none the waker keeps the CPU until it exits";
}

TEST(Machine, SleepUntilResumesAtOrAfterTheDeadline) {
  auto m = make(params(1));
  Cycles woke = 0, short_d = 0;
  std::vector<Cycles> other;
  m->spawn("sleeper", 0, [&] {
    m->sleep_until(5'000'000);
    woke = m->now();
    const Cycles t = m->now();
    m->sleep_until(t - 1);  // in the past: returns at once
    short_d = m->now() - t;
  });
  m->spawn("other", 0, [&] {
    for (int i = 0; i < 5; ++i) {
      other.push_back(m->now());
      m->compute(100'000);
      m->sync_point();
    }
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_GE(woke, 5'000'000u);
  EXPECT_LE(woke, 5'000'000u + m->costs().ctx_switch + 1000);
  EXPECT_EQ(short_d, 0u);
  ASSERT_EQ(other.size(), 5u);
  EXPECT_LT(other.back(), 5'000'000u) << "the CPU ran the other task while the sleeper slept";
}

TEST(Machine, TimerOfAnEarlierSleepDoesNotWakeALaterBlock) {
  // The sleeper's sleep_until(10M) is cut short by wake() at ~1M; it then block()s.
  // The stale 10M timer must not end that block: only the second wake() at ~20M may.
  auto m = make(params(2));
  Task* sleeper = nullptr;
  Cycles first = 0, second = 0;
  sleeper = m->spawn("sleeper", 0, [&] {
    m->sleep_until(10'000'000);
    first = m->now();
    m->block();
    second = m->now();
  });
  m->spawn("waker", 1, [&] {
    m->compute(1'000'000);
    m->wake(sleeper);
    m->compute(19'000'000);
    m->wake(sleeper);
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_GE(first, 1'000'000u);
  EXPECT_LT(first, 2'000'000u);
  EXPECT_GE(second, 20'000'000u) << "block() ended by the stale timer of an earlier sleep_until()";
}

TEST(Machine, SpawnFromARunningTask) {
  auto m = make(params(2));
  Cycles t_spawn = 0, b_start = 0, c_start = 0, a_end = 0;
  m->spawn("A", 0, [&] {
    m->compute(1'000'000);
    m->sync_point();
    t_spawn = m->now();
    m->spawn("B", 1, [&] { b_start = m->now(); });
    m->spawn("C", 0, [&] { c_start = m->now(); });
    m->compute(10'000);
    a_end = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_GE(b_start, t_spawn);
  EXPECT_GE(c_start, a_end);
}

TEST(Machine, YieldAlternatesBetweenTasksOfOneCpu) {
  MachineParams p = params(1);
  p.preempt = PreemptModel::None;
  auto m = make(p);
  std::string log;
  for (char name : std::string("AB"))
    m->spawn(std::string(1, name), 0, [&, name] {
      for (int i = 0; i < 3; ++i) {
        log += name;
        m->yield();
      }
    });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(log, "ABABAB");
  // A yield with nothing else runnable keeps the CPU.
  auto m2 = make(p);
  int n = 0;
  m2->spawn("solo", 0, [&] {
    for (int i = 0; i < 5; ++i) {
      m2->yield();
      ++n;
    }
  });
  EXPECT_EQ(m2->run().end, EndReason::Completed);
  EXPECT_EQ(n, 5);
  EXPECT_EQ(m2->cpu(0).ctx_switches, 2u);
}

// ---- end of run: deadlock, bugs, exceptions, time limit -------------------------------

TEST(Machine, DeadlockEndsTheRunWithABugReport) {
  bool g0 = false, g1 = false;
  auto captured = std::make_shared<int>(1);
  {
    auto m = make(params(2));
    m->spawn("stuck-a", 0, [&, captured] {
      Guard g{&g0};
      m->block();
      ADD_FAILURE() << "stuck-a resumed";
    });
    m->spawn("stuck-b", 1, [&] {
      Guard g{&g1};
      m->compute(1000);
      m->block();
      ADD_FAILURE() << "stuck-b resumed";
    });
    const RunStats s = m->run();
    EXPECT_EQ(s.end, EndReason::Deadlock);
    ASSERT_EQ(m->bugs().size(), 1u);
    const BugReport& b = m->bugs().front();
    EXPECT_EQ(b.check, "deadlock");
    EXPECT_TRUE(b.fatal);
    EXPECT_NE(b.message.find("stuck-a[cpu0,blocked]"), std::string::npos) << b.message;
    EXPECT_NE(b.message.find("stuck-b[cpu1,blocked]"), std::string::npos) << b.message;
    EXPECT_NE(b.message.find("2 task(s)"), std::string::npos) << b.message;
    EXPECT_FALSE(g0);
    EXPECT_FALSE(g1);
    EXPECT_EQ(captured.use_count(), 2);
  }
  // Destroying the machine unwound both suspended fibers and freed their functions.
  EXPECT_TRUE(g0);
  EXPECT_TRUE(g1);
  EXPECT_EQ(captured.use_count(), 1);
}

namespace {

/// One task spins forever on a line nobody writes; returns how the run ended.
void spin_forever(bool irqs_off) {
  bool unwound = false;
  {
    MachineParams p = params(2);
    p.max_cycles = 2'000'000'000;  // safety net: a run that cannot end must not hang the test
    auto m = make(p);
    const LineId l = m->new_line();
    std::uint32_t never = 0;
    m->spawn("spinner", 1, [&] {
      Guard g{&unwound};
      if (irqs_off) m->irq_disable();
      m->spin_until(l, never, [](std::uint32_t v) { return v != 0; });
      ADD_FAILURE() << "spin ended";
    });
    const RunStats s = m->run();
    EXPECT_EQ(s.end, EndReason::Deadlock) << "ended at cycle " << s.cycles;
    ASSERT_EQ(m->bugs().size(), 1u);
    EXPECT_EQ(m->bugs()[0].check, "deadlock");
    EXPECT_NE(m->bugs()[0].message.find("spinner[cpu1,spinning]"), std::string::npos) << m->bugs()[0].message;
    EXPECT_EQ(m->bugs()[0].task, "spinner") << "a spin deadlock names the task that spins";
    EXPECT_EQ(m->bugs()[0].cpu, 1);
    EXPECT_LT(s.cycles, 1'000'000u) << "the deadlock should be found when the spin starts";
  }
  EXPECT_TRUE(unwound);
}

}  // namespace

TEST(Machine, SpinningForeverWithIrqsOffIsADeadlock) { spin_forever(true); }

TEST(Machine, SpinningForeverWithIrqsOnIsADeadlock) {
  spin_forever(false);
}

TEST(Machine, ExceptionInATaskBecomesAFatalBug) {
  bool unwound = false;
  bool after_throw = false;
  {
    auto m = make(params(2));
    m->spawn("busy", 0, [&] {
      Guard g{&unwound};
      for (int i = 0; i < 1'000'000; ++i) {
        m->compute(1000);
        m->sync_point();
      }
      ADD_FAILURE() << "the run did not stop at the fatal bug";
    });
    m->spawn("thrower", 1, [&] {
      m->compute(50'000);
      m->sync_point();
      throw std::runtime_error("boom");
      after_throw = true;
    });
    const RunStats s = m->run();
    EXPECT_EQ(s.end, EndReason::FatalBug);
    ASSERT_EQ(m->bugs().size(), 1u);
    const BugReport& b = m->bugs()[0];
    EXPECT_EQ(b.check, "exception");
    EXPECT_TRUE(b.fatal);
    EXPECT_EQ(b.cpu, 1);
    EXPECT_EQ(b.task, "thrower");
    EXPECT_NE(b.message.find("boom"), std::string::npos) << b.message;
    EXPECT_NE(b.message.find("thrower"), std::string::npos) << b.message;
    EXPECT_GE(b.cycle, 53'000u);
    EXPECT_LT(m->cpu(0).clock, 200'000u) << "the other CPU kept running after the fatal bug";
  }
  EXPECT_FALSE(after_throw);
  EXPECT_TRUE(unwound);
}

TEST(Machine, NonStdExceptionInATaskDoesNotCrash) {
  // Run in a child process so that a crash fails this test instead of the whole binary.
  EXPECT_EXIT(
      {
        auto m = make(params(1));
        m->spawn("thrower", 0, [] { throw 42; });
        const RunStats s = m->run();
        const bool ok = s.end == EndReason::FatalBug && m->bugs().size() == 1 && m->bugs()[0].check == "exception";
        m.reset();
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Machine, ReportBugNonFatalContinuesFatalStops) {
  auto m = make(params(1));
  bool after_nonfatal = false, after_fatal = false;
  m->spawn("reporter", 0, [&] {
    m->compute(777);
    m->report_bug("warn-check", "just a warning", false);
    after_nonfatal = true;
    m->report_bug("bug-check", "this is fatal", true);
    after_fatal = true;
  });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  EXPECT_TRUE(after_nonfatal);
  EXPECT_FALSE(after_fatal);
  ASSERT_EQ(m->bugs().size(), 2u);
  EXPECT_EQ(m->bugs()[0].check, "warn-check");
  EXPECT_FALSE(m->bugs()[0].fatal);
  EXPECT_EQ(m->bugs()[0].task, "reporter");
  EXPECT_EQ(m->bugs()[0].cpu, 0);
  EXPECT_EQ(m->bugs()[0].cycle, m->costs().ctx_switch + 777);
  EXPECT_EQ(m->bugs()[1].check, "bug-check");
  EXPECT_TRUE(m->bugs()[1].fatal);
}

TEST(Machine, SleepingInAtomicContextIsReported) {
  auto m = make(params(2));
  m->spawn("atomic-sleeper", 0, [&] {
    m->preempt_disable();
    EXPECT_EQ(m->preempt_count(), 1);
    m->sleep_until(m->now() + 10'000);
    m->preempt_enable();
    EXPECT_EQ(m->preempt_count(), 0);
  });
  m->spawn("irqoff-sleeper", 1, [&] {
    m->irq_disable();
    EXPECT_TRUE(m->irqs_disabled());
    m->sleep_until(m->now() + 10'000);
    m->irq_enable();
    EXPECT_FALSE(m->irqs_disabled());
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  // One non-fatal report per sleeper. IRQ state is per CPU, so the idle task that runs
  // while irqoff-sleeper sleeps inherits IRQs off, and its own schedule() (when the
  // sleeper's timer makes it runnable) is reported too, as a yield by swapper/1.
  int atomic_reports = 0, irqoff_reports = 0, idle_reports = 0;
  for (const BugReport& b : m->bugs()) {
    EXPECT_EQ(b.check, "sleep-in-atomic") << b.message;
    EXPECT_FALSE(b.fatal) << b.message;
    if (b.task == "atomic-sleeper") {
      ++atomic_reports;
      EXPECT_EQ(b.cpu, 0);
      EXPECT_NE(b.message.find("preempt_count=1"), std::string::npos) << b.message;
      EXPECT_EQ(b.message.find("IRQs off"), std::string::npos) << b.message;
    } else if (b.task == "irqoff-sleeper") {
      ++irqoff_reports;
      EXPECT_EQ(b.cpu, 1);
      EXPECT_NE(b.message.find("preempt_count=0 and IRQs off"), std::string::npos) << b.message;
    } else {
      ++idle_reports;
      EXPECT_EQ(b.task, "swapper/1") << b.message;
      EXPECT_NE(b.message.find("IRQs off"), std::string::npos) << b.message;
    }
  }
  EXPECT_EQ(atomic_reports, 1);
  EXPECT_EQ(irqoff_reports, 1);
  EXPECT_LE(idle_reports, 1);
}

TEST(Machine, UnbalancedPreemptEnableIsFatal) {
  auto m = make(params(1));
  bool after = false;
  m->spawn("unbalanced", 0, [&] {
    m->preempt_enable();
    after = true;
  });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  EXPECT_TRUE(has_bug(*m, "preempt-count"));
  EXPECT_FALSE(after);
}

TEST(Machine, MaxCyclesStopsABusyCpu) {
  MachineParams p = params(2);
  p.max_cycles = 1'000'000;
  bool unwound = false;
  int iters = 0;
  {
    auto m = make(p);
    m->spawn("forever", 0, [&] {
      Guard g{&unwound};
      for (iters = 0; iters < 20'000; ++iters) {  // 200M cycles if never stopped
        m->compute(10'000);
        m->sync_point();
      }
    });
    const RunStats s = m->run();
    EXPECT_EQ(s.end, EndReason::TimeLimit);
    EXPECT_STREQ(end_reason_name(s.end), "time_limit");
    EXPECT_EQ(m->cpu(0).state, CpuState::Parked);
    EXPECT_LT(iters, 110);
    EXPECT_GT(m->cpu(0).clock, p.max_cycles);
    EXPECT_LE(m->cpu(0).clock, p.max_cycles + 10'000);
    EXPECT_TRUE(m->bugs().empty());
  }
  EXPECT_TRUE(unwound);
}

TEST(Machine, MaxCyclesParksEveryBusyCpu) {
  MachineParams p = params(3);
  p.max_cycles = 1'000'000;
  std::vector<int> iters(3, 0);
  bool never_started_unwound = true;
  Cycles finisher_end = 0;
  {
    auto m = make(p);
    for (CpuId c = 0; c < 2; ++c)
      m->spawn(named("forever", c), c, [&, c] {
        for (int& i = iters[static_cast<std::size_t>(c)]; i < 20'000; ++i) {
          m->compute(10'000);
          m->sync_point();
        }
      });
    // Queued behind forever0 and never started: teardown must still handle it.
    m->spawn("never", 0, [&] { never_started_unwound = false; });
    m->spawn("finisher", 2, [&] {
      m->compute(5000);
      m->sync_point();
      finisher_end = m->now();
    });
    const RunStats s = m->run();
    EXPECT_EQ(s.end, EndReason::TimeLimit);
    EXPECT_EQ(m->cpu(0).state, CpuState::Parked);
    EXPECT_EQ(m->cpu(1).state, CpuState::Parked);
    EXPECT_EQ(m->cpu(2).state, CpuState::Idle);
    for (int c = 0; c < 2; ++c) {
      EXPECT_GE(iters[static_cast<std::size_t>(c)], 99);
      EXPECT_LE(iters[static_cast<std::size_t>(c)], 101);
    }
    EXPECT_GT(finisher_end, 0u);
  }
  EXPECT_TRUE(never_started_unwound);
}

TEST(Machine, WaitingOnAParkedCpuIsATimeLimitNotADeadlock) {
  MachineParams p = params(3);
  p.max_cycles = 500'000;
  auto m = make(p);
  const LineId l = m->new_line();
  std::uint32_t flag = 0;
  m->spawn("late-writer", 0, [&] {
    m->compute(2'000'000);  // passes the limit before its store
    m->store(l, flag, 1u);
  });
  m->spawn("waiter", 1, [&] { m->spin_until(l, flag, [](std::uint32_t v) { return v == 1; }); });
  // A third busy CPU, so the writer's sync point hands the turn over (and its clock is
  // checked against the limit) even with the max_cycles fast-path bug.
  m->spawn("busy", 2, [&] {
    for (int i = 0; i < 1000; ++i) {
      m->compute(10'000);
      m->sync_point();
    }
  });
  EXPECT_EQ(m->run().end, EndReason::TimeLimit);
  EXPECT_EQ(flag, 0u) << "a CPU past max_cycles performed a store";
  EXPECT_FALSE(has_bug(*m, "deadlock"));
  EXPECT_EQ(m->cpu(0).state, CpuState::Parked);
}

TEST(Machine, DestroyingAMachineThatNeverRanReleasesItsTasks) {
  auto captured = std::make_shared<int>(7);
  StackPool pool;
  {
    auto m = make(params(2), &pool);
    m->spawn("a", 0, [captured] { ADD_FAILURE() << "must not run"; });
    m->spawn("b", 1, [captured] { ADD_FAILURE() << "must not run"; });
    EXPECT_EQ(captured.use_count(), 3);
  }
  EXPECT_EQ(captured.use_count(), 1);
  const std::size_t mapped = pool.mapped();
  EXPECT_EQ(mapped, 4u);  // 2 idle tasks + 2 tasks
  {
    auto m = make(params(2), &pool);
    m->spawn("a", 0, [] {});
    m->spawn("b", 1, [] {});
  }
  EXPECT_EQ(pool.mapped(), mapped) << "stacks of the first machine were not returned to the pool";
}

TEST(Machine, TeardownAfterDeadlockReturnsEveryStack) {
  StackPool pool;
  for (int round = 0; round < 3; ++round) {
    auto m = make(params(3), &pool);
    const LineId l = m->new_line();
    std::uint32_t never = 0;
    m->spawn("blocked", 0, [&] { m->block(); });
    m->spawn("spinning", 1, [&] {
      m->irq_disable();  // IRQs off: see SpinningForeverWithIrqsOnIsADeadlock
      m->spin_until(l, never, [](std::uint32_t v) { return v != 0; });
    });
    m->spawn("queued", 1, [&] {});
    m->spawn("done", 2, [&] {});
    EXPECT_EQ(m->run().end, EndReason::Deadlock);
  }
  EXPECT_EQ(pool.mapped(), 7u) << "teardown leaked stacks (3 idle + 4 tasks per machine)";
}

// ---- preemption models -----------------------------------------------------------------

namespace {

/// What task A's loop does at each iteration after its compute() and sync point.
enum class Loop {
  Plain,                  // nothing: only interrupt returns can preempt
  CondResched,            // cond_resched()
  MightSleep,             // might_sleep()
  UserReturn,             // user_return()
  PreemptOff,             // the whole loop inside preempt_disable() / preempt_enable()
  PreemptOffCondResched,  // same, with cond_resched() inside
  IrqOff,                 // the whole loop inside irq_disable() / irq_enable()
};

constexpr int kIters = 20;
constexpr Cycles kIterWork = 2'000'000;  // 40M cycles in all: almost 5 ticks at HZ 250
constexpr int kTailIters = 3;            // A's work after its loop, no preemption point
constexpr Cycles kTailWork = 10'000;

struct PreemptResult {
  EndReason end = EndReason::Completed;
  std::size_t bugs = 0;
  bool b_ran = false;
  Cycles b_first = 0;              // when B first ran
  Cycles a_loop_end = 0;           // when A left its loop (before preempt_enable/irq_enable)
  Cycles a_done = 0;               // when A finished its tail work
  bool a_saw_need_resched = false; // need_resched() read true right after a sync point
  int a_iters_when_b_ran = -1;     // iterations A had completed when B first ran
  bool b_before_a_done = false;    // B ran before A finished (A was preempted)
  std::uint64_t ticks = 0;         // ticks taken by CPU 0
  Cycles tick = 0;                 // tick interval
  Cycles ctx_switch = 0;
};

/// One CPU, two tasks: A loops kIters times doing a large compute(), a sync point (where
/// a due tick is taken) and the loop's preemption point; B, queued behind A from the
/// start, records when it first gets the CPU.
PreemptResult run_preempt(PreemptModel model, Loop loop) {
  MachineParams p = params(1, 7);
  p.preempt = model;
  auto m = make(p);
  PreemptResult r;
  int a_iters = 0;
  bool a_finished = false;
  m->spawn("A", 0, [&] {
    if (loop == Loop::PreemptOff || loop == Loop::PreemptOffCondResched) m->preempt_disable();
    if (loop == Loop::IrqOff) m->irq_disable();
    for (int i = 0; i < kIters; ++i) {
      m->compute(kIterWork);
      m->sync_point();
      r.a_saw_need_resched |= m->need_resched();
      switch (loop) {
        case Loop::CondResched:
        case Loop::PreemptOffCondResched: m->cond_resched(); break;
        case Loop::MightSleep: m->might_sleep(); break;
        case Loop::UserReturn: m->user_return(); break;
        case Loop::Plain:
        case Loop::PreemptOff:
        case Loop::IrqOff: break;
      }
      a_iters = i + 1;
    }
    r.a_loop_end = m->now();
    if (loop == Loop::PreemptOff || loop == Loop::PreemptOffCondResched) m->preempt_enable();
    if (loop == Loop::IrqOff) m->irq_enable();
    for (int i = 0; i < kTailIters; ++i) {
      m->compute(kTailWork);
      m->sync_point();
    }
    r.a_done = m->now();
    a_finished = true;
  });
  m->spawn("B", 0, [&] {
    r.b_ran = true;
    r.b_first = m->now();
    r.a_iters_when_b_ran = a_iters;
    r.b_before_a_done = !a_finished;
    m->compute(1000);
    m->sync_point();
  });
  r.end = m->run().end;
  r.bugs = m->bugs().size();
  r.ticks = m->cpu(0).ticks;
  r.tick = m->costs().clock_hz / p.hz;
  r.ctx_switch = m->costs().ctx_switch;
  return r;
}

/// B got the CPU only when A exited: no preemption point honoured need_resched.
void expect_b_after_a(const PreemptResult& r, const char* what) {
  EXPECT_EQ(r.end, EndReason::Completed) << what;
  EXPECT_EQ(r.bugs, 0u) << what;
  ASSERT_TRUE(r.b_ran) << what;
  EXPECT_TRUE(r.a_saw_need_resched) << what << ": no tick asked for a reschedule, so this proves nothing";
  EXPECT_EQ(r.a_iters_when_b_ran, kIters) << what << ": B ran inside A's loop";
  EXPECT_FALSE(r.b_before_a_done) << what << ": B ran before A exited";
  EXPECT_GE(r.b_first, r.a_done) << what;
}

/// B got the CPU inside A's loop, at the first preemption point after the first tick.
void expect_b_early(const PreemptResult& r, const char* what) {
  EXPECT_EQ(r.end, EndReason::Completed) << what;
  EXPECT_EQ(r.bugs, 0u) << what;
  ASSERT_TRUE(r.b_ran) << what;
  EXPECT_LT(r.a_iters_when_b_ran, kIters) << what << ": B waited for A's loop to end";
  EXPECT_TRUE(r.b_before_a_done) << what;
  EXPECT_LT(r.b_first, r.a_loop_end) << what;
  EXPECT_GE(r.b_first, r.tick) << what << ": B ran before any tick asked for it";
  // The tick is taken at the first sync point at or after it; the switch follows there.
  EXPECT_LE(r.b_first, r.tick + kIterWork + 2 * r.ctx_switch) << what << ": B ran late";
}

}  // namespace

TEST(Preempt, FullPreemptsABusyLoopAtTheTick) {
  expect_b_early(run_preempt(PreemptModel::Full, Loop::Plain), "full, plain loop");
  expect_b_early(run_preempt(PreemptModel::Full, Loop::UserReturn), "full, user_return");
}

TEST(Preempt, NoneIgnoresTicksAndMightSleep) {
  expect_b_after_a(run_preempt(PreemptModel::None, Loop::Plain), "none, plain loop");
  expect_b_after_a(run_preempt(PreemptModel::None, Loop::MightSleep), "none, might_sleep");
}

TEST(Preempt, NoneSwitchesAtCondReschedAndUserReturn) {
  expect_b_early(run_preempt(PreemptModel::None, Loop::CondResched), "none, cond_resched");
  expect_b_early(run_preempt(PreemptModel::None, Loop::UserReturn), "none, user_return");
}

TEST(Preempt, VoluntarySwitchesOnlyAtMightSleep) {
  expect_b_after_a(run_preempt(PreemptModel::Voluntary, Loop::Plain), "voluntary, plain loop");
  expect_b_early(run_preempt(PreemptModel::Voluntary, Loop::MightSleep), "voluntary, might_sleep");
  expect_b_early(run_preempt(PreemptModel::Voluntary, Loop::CondResched), "voluntary, cond_resched");
}

TEST(Preempt, FullAlsoHonoursExplicitPoints) {
  expect_b_early(run_preempt(PreemptModel::Full, Loop::MightSleep), "full, might_sleep");
  expect_b_early(run_preempt(PreemptModel::Full, Loop::CondResched), "full, cond_resched");
}

TEST(Preempt, PreemptDisableHoldsOffPreemptionUntilPreemptEnable) {
  const PreemptResult r = run_preempt(PreemptModel::Full, Loop::PreemptOff);
  EXPECT_EQ(r.end, EndReason::Completed);
  EXPECT_EQ(r.bugs, 0u);
  ASSERT_TRUE(r.b_ran);
  EXPECT_TRUE(r.a_saw_need_resched) << "ticks are still taken with preemption off";
  EXPECT_EQ(r.a_iters_when_b_ran, kIters) << "preempted inside the preempt-off region";
  EXPECT_GE(r.b_first, r.a_loop_end);
  EXPECT_TRUE(r.b_before_a_done) << "preempt_enable() dropping the count to 0 is a preemption point under full";

  // Under none, preempt_enable() is no preemption point.
  expect_b_after_a(run_preempt(PreemptModel::None, Loop::PreemptOff), "none, preempt off");
  // cond_resched() does nothing while preemption is disabled.
  const PreemptResult c = run_preempt(PreemptModel::None, Loop::PreemptOffCondResched);
  expect_b_after_a(c, "none, cond_resched inside preempt off");
}

TEST(Preempt, IrqsOffHoldOffTheTickAndThePreemption) {
  const PreemptResult r = run_preempt(PreemptModel::Full, Loop::IrqOff);
  EXPECT_EQ(r.end, EndReason::Completed);
  EXPECT_EQ(r.bugs, 0u);
  ASSERT_TRUE(r.b_ran);
  EXPECT_FALSE(r.a_saw_need_resched) << "a tick was handled with IRQs off";
  EXPECT_EQ(r.a_iters_when_b_ran, kIters);
  EXPECT_GE(r.b_first, r.a_loop_end);
  EXPECT_TRUE(r.b_before_a_done) << "the tick pending at irq_enable() must preempt under full";
  EXPECT_GE(r.ticks, 1u);
  EXPECT_LE(r.ticks, 2u) << "ticks missed with IRQs off are one pending interrupt, not a backlog";
}

TEST(Preempt, FullRoundRobinsTwoBusyTasksOnTicks) {
  MachineParams p = params(1, 3);
  p.preempt = PreemptModel::Full;
  p.hz = 1000;
  auto m = make(p);
  std::string log;
  for (char name : std::string("XY"))
    m->spawn(std::string(1, name), 0, [&, name] {
      for (int i = 0; i < 100; ++i) {
        if (log.empty() || log.back() != name) log += name;
        m->compute(100'000);
        m->sync_point();
      }
    });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  // 20M cycles of work, a tick every 2.1M: about 9 hand-overs.
  EXPECT_GE(log.size(), 7u) << log;
  EXPECT_LE(log.size(), 12u) << log;
}

TEST(Preempt, FullLocalWakeupPreemptsTheWaker) {
  // Under PREEMPT, try_to_wake_up() ends with preempt_enable(); a wakeup on the local
  // CPU that set need_resched therefore switches right there (docs/KERNEL.md,
  // "Preemption models": full switches wherever preempt_count drops to 0).
  MachineParams p = params(1, 2);
  p.preempt = PreemptModel::Full;
  auto m = make(p);
  Cycles y_ran = 0, after_wake = 0;
  bool y_ran_before_waker_continued = false;
  Task* y = m->spawn("Y", 0, [&] {
    m->block();
    y_ran = m->now();
  });
  m->spawn("X", 0, [&] {
    m->compute(10'000);
    m->wake(y);
    y_ran_before_waker_continued = y_ran != 0;
    after_wake = m->now();
    for (int i = 0; i < 20; ++i) {
      m->compute(100'000);
      m->sync_point();
    }
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(y_ran_before_waker_continued) << "Y ran at " << y_ran << ", X went on at " << after_wake;
}

namespace {

/// X busy-loops on CPU 0; Y (also CPU 0) is blocked and gets woken from CPU 1.
struct WakePreempt {
  Cycles y_ran = 0;
  Cycles x_done = 0;
  Cycles wake_at = 0;
};

constexpr int kXIters = 200;
constexpr Cycles kXWork = 100'000;  // X: 20M cycles in all, more than two ticks at HZ 250

WakePreempt run_wake_preempt(PreemptModel model, bool wakeup_preempt) {
  MachineParams p = params(2, 5);
  p.preempt = model;
  p.wakeup_preempt = wakeup_preempt;
  auto m = make(p);
  WakePreempt r;
  Task* y = m->spawn("Y", 0, [&] {
    m->block();  // runs first on CPU 0, long before the wakeup
    r.y_ran = m->now();
  });
  m->spawn("X", 0, [&] {
    for (int i = 0; i < kXIters; ++i) {
      m->compute(kXWork);
      m->sync_point();
    }
    r.x_done = m->now();
  });
  m->spawn("waker", 1, [&] {
    m->compute(1'000'000);
    m->sync_point();
    EXPECT_EQ(y->state, TaskState::Blocked);
    EXPECT_EQ(m->cpu(0).curr->name, "X");
    r.wake_at = m->now();
    m->wake(y);
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty());
  EXPECT_EQ(m->cpu(0).ipis_handled, wakeup_preempt ? 1u : 0u) << "one reschedule IPI per remote wakeup";
  return r;
}

}  // namespace

TEST(Preempt, RemoteWakeupPreemptsThroughTheRescheduleIpiUnderFull) {
  const WakePreempt r = run_wake_preempt(PreemptModel::Full, true);
  ASSERT_GT(r.y_ran, 0u);
  ASSERT_GT(r.wake_at, 0u);
  const MachineParams p = params(2);
  const CostTable& k = opteron()->costs;
  const Cycles arrival = r.wake_at + k.ipi_send + k.ipi_latency + k.transfer[static_cast<std::size_t>(Distance::Die)];
  EXPECT_GE(r.y_ran, arrival + k.ctx_switch) << "Y ran before the reschedule IPI arrived";
  // X takes the IPI at its first sync point after the arrival and is preempted there.
  EXPECT_LE(r.y_ran, arrival + kXWork + k.ctx_switch) << "Y waited past X's next sync point";
  EXPECT_LT(r.y_ran, r.x_done);
  EXPECT_LT(r.y_ran, k.clock_hz / p.hz) << "Y waited for the tick";
}

TEST(Preempt, WithoutWakeupPreemptTheWokenTaskWaitsForTheTick) {
  const WakePreempt r = run_wake_preempt(PreemptModel::Full, false);
  ASSERT_GT(r.y_ran, 0u);
  const MachineParams p = params(2);
  const CostTable& k = opteron()->costs;
  const Cycles tick = k.clock_hz / p.hz;
  ASSERT_LT(r.wake_at, tick);
  EXPECT_GE(r.y_ran, tick + k.ctx_switch) << "Y ran before CPU 0's first tick";
  EXPECT_LE(r.y_ran, tick + kXWork + k.ctx_switch) << "the tick did not preempt X at once";
  EXPECT_LT(r.y_ran, r.x_done);
}

TEST(Preempt, RemoteWakeupWaitsForAPreemptionPointUnderNoneAndVoluntary) {
  // The IPI sets need_resched on CPU 0, but X's loop has no preemption point.
  for (PreemptModel model : {PreemptModel::None, PreemptModel::Voluntary}) {
    for (bool wp : {true, false}) {
      const WakePreempt r = run_wake_preempt(model, wp);
      ASSERT_GT(r.y_ran, 0u) << preempt_name(model) << " " << wp;
      EXPECT_GE(r.y_ran, r.x_done) << preempt_name(model) << " " << wp << ": Y ran before X exited";
    }
  }
}

// ---- interrupts ------------------------------------------------------------------------

namespace {

struct IpiState {
  int count = 0;
  CpuId cpu = kNoCpu;
  Cycles t = 0;
  bool in_irq = false;
  std::string task;
  Task* to_wake = nullptr;
};

void record_ipi(Machine& m, void* arg) {
  auto* s = static_cast<IpiState*>(arg);
  ++s->count;
  s->cpu = m.cpu_id();
  s->t = m.now();
  s->in_irq = m.cpu(m.cpu_id()).in_irq;
  s->task = m.current()->name;
  if (s->to_wake) m.wake(s->to_wake);
}

}  // namespace

TEST(Ipi, HandlerRunsOnTheTargetCpuAtItsNextSyncPoint) {
  auto m = make(params(16));
  IpiState st;
  Cycles sent = 0, noticed = 0;
  m->spawn("target", 13, [&] {
    for (int i = 0; i < 1000 && st.count == 0; ++i) {
      m->compute(10'000);
      m->sync_point();
    }
    noticed = m->now();
  });
  m->spawn("sender", 0, [&] {
    m->send_ipi(13, record_ipi, &st);
    sent = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  ASSERT_EQ(st.count, 1);
  EXPECT_EQ(st.cpu, 13);
  EXPECT_TRUE(st.in_irq);
  EXPECT_EQ(st.task, "target");  // runs in the context of the interrupted task
  const CostTable& k = m->costs();
  const Cycles arrival = sent + k.ipi_latency + k.transfer[static_cast<std::size_t>(Distance::Hop1)];
  EXPECT_GE(st.t, arrival);
  EXPECT_LT(st.t, arrival + 10'000);
  EXPECT_LE(noticed, st.t + 10'000);
  EXPECT_EQ(m->cpu(13).ipis_handled, 1u);
  EXPECT_EQ(m->cpu(0).ipis_handled, 0u);
}

TEST(Ipi, IpiToAnIdleCpuWakesIt) {
  auto m = make(params(2));
  IpiState st;
  Cycles sent = 0;
  m->spawn("sender", 0, [&] {
    m->send_ipi(1, record_ipi, &st);
    sent = m->now();
    // Exits at once: the pending interrupt must still be delivered.
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  ASSERT_EQ(st.count, 1);
  EXPECT_EQ(st.cpu, 1);
  EXPECT_EQ(st.task, "swapper/1");
  const Cycles arrival = sent + m->costs().ipi_latency + m->costs().transfer[static_cast<std::size_t>(Distance::Die)];
  EXPECT_EQ(st.t, arrival) << "an idle CPU takes the interrupt when it arrives";
  EXPECT_EQ(m->cpu(1).idle_cycles, arrival);
  EXPECT_EQ(m->cpu(1).state, CpuState::Idle);
}

TEST(Ipi, HandlerOnAnIdleCpuCanWakeATask) {
  auto m = make(params(2));
  IpiState st;
  Cycles woke = 0;
  st.to_wake = m->spawn("waiter", 1, [&] {
    m->block();
    woke = m->now();
  });
  m->spawn("sender", 0, [&] {
    m->compute(200'000);
    m->send_ipi(1, record_ipi, &st);
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  ASSERT_EQ(st.count, 1);
  EXPECT_GT(woke, 0u);
  EXPECT_GE(woke, st.t);
}

TEST(Ipi, SpinningWithIrqsOnTakesTheInterruptAndSpinsOn) {
  auto m = make(params(2));
  IpiState st;
  const LineId l = m->new_line();
  std::uint32_t flag = 0;
  Cycles t_store = 0, spin_end = 0;
  m->spawn("spinner", 1, [&] {
    m->spin_until(l, flag, [](std::uint32_t v) { return v == 1; });
    spin_end = m->now();
  });
  m->spawn("sender", 0, [&] {
    m->compute(10'000);
    m->send_ipi(1, record_ipi, &st);
    m->compute(1'000'000);
    m->store(l, flag, 1u);
    t_store = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  ASSERT_EQ(st.count, 1);
  EXPECT_EQ(st.cpu, 1);
  EXPECT_LT(st.t, 100'000u) << "the spinning CPU took the interrupt late";
  EXPECT_GE(spin_end, t_store);
}

TEST(Ipi, SpinningWithIrqsOffDelaysTheInterruptUntilIrqEnable) {
  auto m = make(params(2));
  IpiState st;
  const LineId l = m->new_line();
  std::uint32_t flag = 0;
  Cycles t_store = 0, enabled_at = 0;
  int count_before_enable = -1, count_after_enable = -1;
  m->spawn("spinner", 1, [&] {
    m->irq_disable();
    m->spin_until(l, flag, [](std::uint32_t v) { return v == 1; });
    count_before_enable = st.count;
    m->compute(1000);
    enabled_at = m->now();
    m->irq_enable();  // the pending IPI fires here
    count_after_enable = st.count;
  });
  m->spawn("sender", 0, [&] {
    m->compute(10'000);
    m->send_ipi(1, record_ipi, &st);
    m->compute(1'000'000);
    m->store(l, flag, 1u);
    t_store = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(count_before_enable, 0);
  EXPECT_EQ(count_after_enable, 1);
  EXPECT_EQ(st.cpu, 1);
  EXPECT_GE(st.t, t_store);
  EXPECT_GE(st.t, enabled_at);
}

TEST(Ipi, RunningWithIrqsOffDelaysTheInterrupt) {
  auto m = make(params(2));
  IpiState st;
  int seen_during = 0;
  Cycles enabled_at = 0;
  m->spawn("target", 1, [&] {
    m->irq_disable();
    for (int i = 0; i < 50; ++i) {
      m->compute(10'000);
      m->sync_point();
      seen_during += st.count;
    }
    enabled_at = m->now();
    m->irq_enable();
  });
  m->spawn("sender", 0, [&] { m->send_ipi(1, record_ipi, &st); });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(seen_during, 0);
  ASSERT_EQ(st.count, 1);
  EXPECT_EQ(st.t, enabled_at);
}

TEST(Ipi, RescheduleIpiSetsNeedResched) {
  MachineParams p = params(2);
  p.preempt = PreemptModel::None;
  auto m = make(p);
  Cycles sent = 0, seen = 0;
  m->spawn("target", 1, [&] {
    for (int i = 0; i < 1000; ++i) {
      m->compute(1000);
      m->sync_point();
      if (m->need_resched()) {
        seen = m->now();
        break;
      }
    }
  });
  m->spawn("sender", 0, [&] {
    m->compute(50'000);
    m->send_ipi(1, nullptr, nullptr);
    sent = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  ASSERT_GT(seen, 0u);
  EXPECT_GE(seen, sent + m->costs().ipi_latency);
  EXPECT_LE(seen, sent + m->costs().ipi_latency + 117 + 1000);
}

TEST(Ticks, IdleCpusGetNoTicksBusyOnesDo) {
  auto m = make(params(2));  // HZ 250 on 2.1 GHz: a tick every 8.4M cycles
  m->spawn("sleeper", 1, [&] { m->sleep_until(100'000'000); });
  m->spawn("busy", 0, [&] {
    for (int i = 0; i < 100; ++i) {
      m->compute(1'000'000);
      m->sync_point();
    }
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_GE(m->cpu(0).ticks, 11u);
  EXPECT_LE(m->cpu(0).ticks, 12u);
  EXPECT_EQ(m->cpu(1).ticks, 0u) << "NOHZ idle: a sleeping CPU takes no ticks";
  EXPECT_GE(m->cpu(1).idle_cycles, 99'000'000u);
}

// ---- strategies on lock workloads ------------------------------------------------------

namespace {

/// Locks written on the engine's atomics, as in workloads/spinlock_contention.cc.
///   Tas    - xchg the word; on failure spin until it reads 0, retry;
///   Ticket - fetch_add a ticket, spin until the owner field equals it (one line);
///   Broken - test-then-set: a load, then a separate store. Two CPUs can both see 0
///            and both enter; the checkers below must catch that.
enum class Lock { Tas, Ticket, Broken };

const char* lock_name(Lock k) {
  switch (k) {
    case Lock::Tas: return "tas";
    case Lock::Ticket: return "ticket";
    case Lock::Broken: return "broken";
  }
  return "?";
}

constexpr int kLockCpus = 4;
constexpr int kLockIters = 25;

struct LockRun {
  EndReason end = EndReason::Completed;
  std::vector<BugReport> bugs;
  int entries = 0;            // critical sections entered
  int overlaps = 0;           // entries that found another CPU inside
  std::uint32_t counter = 0;  // non-atomic increments made inside the critical section
  int contended = 0;          // acquisitions that found the lock taken
  bool fifo = true;           // ticket lock: entered in the order the tickets were drawn
  std::uint64_t digest = 0;
};

/// kLockCpus CPUs each take the lock kLockIters times around a critical section that
/// checks mutual exclusion (an `inside` count that must be 0 on entry, reported as a
/// non-fatal "mutual-exclusion" bug) and increments a plain counter by load + store (a
/// lost update shows in the final count).
LockRun run_lock(Lock kind, const std::string& strategy, std::uint64_t seed) {
  MachineParams p = params(kLockCpus, seed);
  p.strategy = strategy;
  p.max_cycles = 2'000'000'000;  // safety net: a lock bug must not hang the test
  auto m = make(p);
  const LineId lock_line = m->new_line();
  const LineId inside_line = m->new_line();
  const LineId data_line = m->new_line();
  std::uint32_t word = 0;                     // tas and broken
  std::uint32_t next_ticket = 0, owner = 0;   // ticket (both on lock_line, as in Linux)
  std::uint32_t inside = 0, counter = 0, served = 0;
  LockRun r;
  for (CpuId c = 0; c < kLockCpus; ++c)
    m->spawn(named("locker", c), c, [&, c] {
      Rng rng = m->rng(named("workload.lock.", c));
      for (int i = 0; i < kLockIters; ++i) {
        // Acquire.
        std::uint32_t ticket = 0;
        switch (kind) {
          case Lock::Tas:
            if (m->exchange(lock_line, word, 1u) != 0) {
              ++r.contended;
              do {
                m->spin_until(lock_line, word, [](std::uint32_t v) { return v == 0; });
              } while (m->exchange(lock_line, word, 1u) != 0);
            }
            break;
          case Lock::Ticket:
            ticket = m->fetch_add(lock_line, next_ticket, 1u);
            if (m->load(lock_line, owner) != ticket) {
              ++r.contended;
              m->spin_until(lock_line, owner, [ticket](std::uint32_t v) { return v == ticket; });
            }
            break;
          case Lock::Broken:
            if (m->load(lock_line, word) != 0) {
              ++r.contended;
              m->spin_until(lock_line, word, [](std::uint32_t v) { return v == 0; });
            }
            m->store(lock_line, word, 1u);  // not atomic with the load: the bug
            break;
        }
        // Critical section.
        if (m->fetch_add(inside_line, inside, 1u) != 0) {
          ++r.overlaps;
          m->report_bug("mutual-exclusion", named("two CPUs in the critical section, cpu ", c), false);
        }
        ++r.entries;
        if (kind == Lock::Ticket) {
          if (ticket != served) r.fifo = false;
          ++served;
        }
        const std::uint32_t v = m->load(data_line, counter);
        m->compute(200 + rng.below(400));
        m->store(data_line, counter, v + 1);
        m->fetch_add(inside_line, inside, ~0u);  // -1
        // Release.
        if (kind == Lock::Ticket)
          m->store(lock_line, owner, m->load(lock_line, owner) + 1);
        else
          m->store(lock_line, word, 0u);
        m->compute(100 + rng.below(1000));  // think
      }
    });
  const RunStats s = m->run();
  r.end = s.end;
  r.bugs = m->bugs();
  r.counter = counter;
  r.digest = s.digest;
  return r;
}

/// Raises the log level for its lifetime (bug reports of deliberately broken code are
/// logged otherwise), then restores it.
class QuietLogs {
 public:
  QuietLogs() : saved_(logger("emu")->level()) { set_log_level(spdlog::level::err); }
  ~QuietLogs() { set_log_level(saved_); }
  QuietLogs(const QuietLogs&) = delete;
  QuietLogs& operator=(const QuietLogs&) = delete;

 private:
  spdlog::level::level_enum saved_;
};

// PCT with an expected K close to a run's length (a few hundred steps here): with the
// default K of 100000 the change points almost never fall inside such a short run, and
// the highest-priority CPU would take the lock kLockIters times before anyone else ran.
const char* const kLockStrategies[] = {"time", "random", "pct:2:200", "pct:3:200"};

}  // namespace

TEST(Lock, TasAndTicketLocksKeepMutualExclusionUnderEveryStrategy) {
  for (const char* strategy : kLockStrategies) {
    int contended = 0;
    for (Lock kind : {Lock::Tas, Lock::Ticket})
      for (std::uint64_t seed : {1, 2, 3, 4}) {
        const LockRun r = run_lock(kind, strategy, seed);
        const std::string what = std::string(lock_name(kind)) + " under " + strategy + ", seed " + std::to_string(seed);
        EXPECT_EQ(r.end, EndReason::Completed) << what;
        EXPECT_TRUE(r.bugs.empty()) << what << ": " << (r.bugs.empty() ? "" : r.bugs[0].check + ": " + r.bugs[0].message);
        EXPECT_EQ(r.entries, kLockCpus * kLockIters) << what;
        EXPECT_EQ(r.overlaps, 0) << what;
        EXPECT_EQ(r.counter, static_cast<std::uint32_t>(kLockCpus * kLockIters)) << what << ": lost updates";
        EXPECT_TRUE(r.fifo) << what << ": tickets served out of order";
        if (std::string(strategy) == "time" || std::string(strategy) == "random") {
          EXPECT_GT(r.contended, 0) << what << ": the CPUs never met at the lock";
        }
        contended += r.contended;
      }
    // Otherwise the checks above prove little: the CPUs must actually meet at the lock.
    EXPECT_GT(contended, 0) << strategy << ": the CPUs never met at the lock";
  }
}

TEST(Lock, LockRunsAreReproducible) {
  for (const char* strategy : kLockStrategies) {
    const LockRun a = run_lock(Lock::Ticket, strategy, 9), b = run_lock(Lock::Ticket, strategy, 9);
    EXPECT_EQ(a.digest, b.digest) << strategy;
    EXPECT_EQ(a.contended, b.contended) << strategy;
  }
}

TEST(Lock, BrokenLockIsCaughtUnderTimeAndRandom) {
  QuietLogs quiet;
  for (const char* strategy : {"time", "random"}) {
    int lost_update_runs = 0;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      const LockRun r = run_lock(Lock::Broken, strategy, seed);
      const std::string what = std::string(strategy) + ", seed " + std::to_string(seed);
      EXPECT_EQ(r.end, EndReason::Completed) << what;
      EXPECT_EQ(r.entries, kLockCpus * kLockIters) << what;
      EXPECT_GT(r.overlaps, 0) << what << ": the broken lock was never caught";
      ASSERT_FALSE(r.bugs.empty()) << what;
      for (const BugReport& b : r.bugs) {
        EXPECT_EQ(b.check, "mutual-exclusion") << what;
        EXPECT_FALSE(b.fatal) << what;
      }
      EXPECT_EQ(r.bugs.size(), static_cast<std::size_t>(r.overlaps)) << what;
      EXPECT_LE(r.counter, static_cast<std::uint32_t>(r.entries)) << what;
      lost_update_runs += r.counter < static_cast<std::uint32_t>(r.entries);
    }
    EXPECT_GT(lost_update_runs, 0) << strategy << ": overlapping critical sections never lost an update";
  }
}

TEST(Lock, BrokenLockIsCaughtByPctDepth3) {
  // The race needs two preemptions: one between a CPU's load and its store (another CPU
  // takes the lock meanwhile), one while that other CPU is inside (so the first one
  // stores and enters). PCT with D=3 finds it in some seeds.
  QuietLogs quiet;
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const LockRun r = run_lock(Lock::Broken, "pct:3:200", seed);
    EXPECT_EQ(r.end, EndReason::Completed) << "seed " << seed;
    EXPECT_EQ(r.bugs.size(), static_cast<std::size_t>(r.overlaps)) << "seed " << seed;
    caught += r.overlaps > 0;
  }
  EXPECT_GT(caught, 0) << "pct:3 never caught the broken lock in 60 seeds";
}

TEST(Machine, YieldWithPreemptionDisabledIsReported) {
  auto m = make(params(1));
  std::string log;
  m->spawn("A", 0, [&] {
    log += "A";
    m->preempt_disable();
    m->yield();
    log += "a";
    m->preempt_enable();
  });
  m->spawn("B", 0, [&] { log += "B"; });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(log, "ABa");
  EXPECT_TRUE(has_bug(*m, "sleep-in-atomic")) << "yield() with preempt_count=1 switched tasks unreported";
}

namespace {
void sleeping_handler(Machine& m, void* arg) {
  *static_cast<bool*>(arg) = true;
  m.sleep_until(m.now() + 1000);  // sleeping in IRQ context
}
}  // namespace

TEST(Machine, SleepingInAnInterruptHandlerIsReported) {
  MachineParams p = params(2);
  p.max_cycles = 100'000'000;  // safety net
  auto m = make(p);
  bool handler_ran = false;
  m->spawn("target", 1, [&] {
    for (int i = 0; i < 100; ++i) {
      m->compute(10'000);
      m->sync_point();
    }
  });
  m->spawn("sender", 0, [&] { m->send_ipi(1, sleeping_handler, &handler_ran); });
  const RunStats s = m->run();
  EXPECT_TRUE(handler_ran);
  EXPECT_TRUE(has_bug(*m, "sleep-in-atomic")) << "end " << end_reason_name(s.end) << " at " << s.cycles;
}

TEST(Machine, SleepingInAnInterruptHandlerOnAnIdleCpuIsReportedNotACrash) {
  // Run in a child process: the point is that this must not take the process down.
  EXPECT_EXIT(
      {
        MachineParams p = params(2);
        p.max_cycles = 100'000'000;  // safety net
        auto m = make(p);
        bool handler_ran = false;
        m->spawn("sender", 0, [&] { m->send_ipi(1, sleeping_handler, &handler_ran); });
        m->run();
        const bool ok = handler_ran && has_bug(*m, "sleep-in-atomic");
        m.reset();
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}
