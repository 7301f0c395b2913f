// Unit tests of the lock-order checker (emu/lockdep.*) through the kernel shim's locks,
// and of the abba workload that demonstrates it (in-process and through the CLI).
//
// Machines are built directly on the opteron48 profile. Orders are taken at times far
// apart (no overlap, so no deadlock can happen) to show that lockdep reports what could
// deadlock, not what did.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "cli/runner.h"
#include "emu/machine.h"
#include "kernel/kernel.h"
#include "tests/test_util.h"

using namespace smpemu;

namespace smpemu {
static void PrintTo(EndReason r, std::ostream* os) { *os << end_reason_name(r); }
}  // namespace smpemu

namespace {

const machine_profile* opteron() { return find_machine_profile("opteron48"); }

std::unique_ptr<Machine> make(int cpus, std::uint64_t seed = 1) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = seed;
  const machine_profile* prof = opteron();
  return std::make_unique<Machine>(p, build_topology(prof, p.cpus), prof->costs);
}

std::vector<const BugReport*> bugs_of(const Machine& m, const std::string& check) {
  std::vector<const BugReport*> v;
  for (const BugReport& b : m.bugs())
    if (b.check == check) v.push_back(&b);
  return v;
}

std::string all_bugs(const Machine& m) {
  std::string s;
  for (const BugReport& b : m.bugs()) s += "[" + b.check + "] " + b.message + "\n";
  return s;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(LockDep, InversionIsReportedThoughNoDeadlockHappens) {
  auto m = make(2);
  spinlock_t a, b;
  spin_lock_init_on(m.get(), &a, "inv_A");
  spin_lock_init_on(m.get(), &b, "inv_B");
  int rounds = 0;
  m->spawn("early", 0, [&] {
    spin_lock(&a);
    spin_lock(&b);
    spin_unlock(&b);
    spin_unlock(&a);
    ++rounds;
  });
  m->spawn("late", 1, [&] {
    cpu_work(1'000'000);  // long after "early" is done
    spin_lock(&b);
    spin_lock(&a);
    spin_unlock(&a);
    spin_unlock(&b);
    ++rounds;
  });
  ASSERT_EQ(m->run().end, EndReason::Completed) << all_bugs(*m);
  EXPECT_EQ(rounds, 2);
  const auto reports = bugs_of(*m, "lock-order");
  ASSERT_EQ(reports.size(), 1u) << all_bugs(*m);
  const BugReport& r = *reports[0];
  EXPECT_FALSE(r.fatal);
  EXPECT_EQ(r.task, "late");
  EXPECT_TRUE(contains(r.message, "circular")) << r.message;
  EXPECT_TRUE(contains(r.message, "acquires inv_A while holding inv_B")) << r.message;
  EXPECT_TRUE(contains(r.message, "inv_A -> inv_B (early at cycle")) << r.message;
  EXPECT_EQ(bugs_of(*m, "deadlock").size(), 0u);
}

TEST(LockDep, ConsistentOrderIsNotReported) {
  auto m = make(3);
  struct mutex a;
  struct rw_semaphore b;
  spinlock_t c;
  mutex_init_on(m.get(), &a, "ok_A");
  init_rwsem_on(m.get(), &b, "ok_B");
  spin_lock_init_on(m.get(), &c, "ok_C");
  for (int i = 0; i < 3; ++i)
    m->spawn("t" + std::to_string(i), i, [&, i] {
      for (int k = 0; k < 5; ++k) {
        cpu_work(1000 * static_cast<Cycles>(i + 1));
        mutex_lock(&a);
        if (i == 0)
          down_write(&b);
        else
          down_read(&b);
        spin_lock(&c);
        cpu_work(500);
        spin_unlock(&c);
        if (i == 0)
          up_write(&b);
        else
          up_read(&b);
        mutex_unlock(&a);
        // Only part of the chain, in the same order.
        down_read(&b);
        spin_lock(&c);
        spin_unlock(&c);
        up_read(&b);
      }
    });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
  EXPECT_EQ(m->lockdep().cls(m->lockdep().class_of("ok_C")).acquisitions, 30u);
}

TEST(LockDep, TrylockAddsNoEdge) {
  // "first" holds A and trylocks B; "second" later takes B then A. Had the trylock
  // recorded A -> B, this would be an inversion (compare the first test).
  auto m = make(2);
  spinlock_t a, b;
  struct rw_semaphore s;
  struct mutex mx;
  spin_lock_init_on(m.get(), &a, "try_A");
  spin_lock_init_on(m.get(), &b, "try_B");
  init_rwsem_on(m.get(), &s, "try_S");
  mutex_init_on(m.get(), &mx, "try_M");
  int got = 0, held_inside = 0;
  Task* first = nullptr;
  first = m->spawn("first", 0, [&] {
    spin_lock(&a);
    got += spin_trylock(&b);
    held_inside = static_cast<int>(first->held_locks.size());  // the trylock's lock is held
    spin_unlock(&b);
    spin_unlock(&a);
    mutex_lock(&mx);
    got += down_write_trylock(&s);
    up_write(&s);
    got += down_read_trylock(&s);
    up_read(&s);
    mutex_unlock(&mx);
  });
  m->spawn("second", 1, [&] {
    cpu_work(1'000'000);
    spin_lock(&b);
    spin_lock(&a);
    spin_unlock(&a);
    spin_unlock(&b);
    down_read(&s);
    mutex_lock(&mx);
    mutex_unlock(&mx);
    up_read(&s);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(got, 3);
  EXPECT_EQ(held_inside, 2);
  EXPECT_TRUE(bugs_of(*m, "lock-order").empty()) << all_bugs(*m);
  EXPECT_TRUE(m->bugs().empty()) << all_bugs(*m);
}

TEST(LockDep, SameClassNestingNeedsASubclass) {
  auto nest = [](bool use_subclass) {
    auto m = make(1);
    spinlock_t outer, inner;
    struct mutex m1, m2;
    spin_lock_init_on(m.get(), &outer, "same_spin");
    spin_lock_init_on(m.get(), &inner, "same_spin");
    mutex_init_on(m.get(), &m1, "same_mutex");
    mutex_init_on(m.get(), &m2, "same_mutex");
    m->spawn("nester", 0, [&] {
      mutex_lock(&m1);
      if (use_subclass)
        mutex_lock_nested(&m2, 1);
      else
        mutex_lock(&m2);
      mutex_unlock(&m2);
      mutex_unlock(&m1);
      spin_lock(&outer);
      if (use_subclass)
        spin_lock_nested(&inner, 1);
      else
        spin_lock(&inner);
      spin_unlock(&inner);
      spin_unlock(&outer);
    });
    EXPECT_EQ(m->run().end, EndReason::Completed);
    std::vector<std::string> msgs;
    for (const BugReport* b : bugs_of(*m, "lock-order")) msgs.push_back(b->message);
    if (use_subclass) {
      EXPECT_EQ(m->lockdep().cls(m->lockdep().class_of("same_spin", 1)).acquisitions, 1u);
      EXPECT_EQ(m->lockdep().cls(m->lockdep().class_of("same_mutex", 1)).acquisitions, 1u);
    }
    EXPECT_EQ(msgs.size(), m->bugs().size()) << all_bugs(*m);
    return msgs;
  };
  const auto plain = nest(false);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_TRUE(contains(plain[0], "possible recursive locking")) << plain[0];
  EXPECT_TRUE(contains(plain[0], "same_mutex#2 while holding same_mutex#1")) << plain[0];
  EXPECT_TRUE(contains(plain[1], "same_spin#2 while holding same_spin#1")) << plain[1];
  EXPECT_TRUE(nest(true).empty());
}

TEST(LockDep, RwsemNestingNeedsASubclassToo) {
  auto m = make(1);
  struct rw_semaphore p, c;
  init_rwsem_on(m.get(), &p, "rw_same");
  init_rwsem_on(m.get(), &c, "rw_same");
  m->spawn("t", 0, [&] {
    down_write(&p);
    down_write_nested(&c, 1);  // fine
    up_write(&c);
    down_read(&c);  // same class, no subclass: reported
    up_read(&c);
    down_read_nested(&c, 1);  // fine
    up_read(&c);
    up_write(&p);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  const auto r = bugs_of(*m, "lock-order");
  ASSERT_EQ(r.size(), 1u) << all_bugs(*m);
  EXPECT_TRUE(contains(r[0]->message, "possible recursive locking")) << r[0]->message;
}

TEST(LockDep, UnlockNotHeldIsReportedAndNotPerformed) {
  auto m = make(2);
  spinlock_t l;
  struct mutex mx;
  spin_lock_init_on(m.get(), &l, "nh_spin");
  mutex_init_on(m.get(), &mx, "nh_mutex");
  int still_locked = -1, owner_kept = 0;
  Task* holder = nullptr;
  holder = m->spawn("holder", 0, [&] {
    mutex_lock(&mx);
    spin_lock(&l);
    cpu_work(10000);
    spin_unlock(&l);
    mutex_unlock(&mx);
  });
  m->spawn("intruder", 1, [&] {
    cpu_work(2000);
    spin_unlock(&l);  // not ours
    mutex_unlock(&mx);
    still_locked = spin_is_locked(&l);
    owner_kept = mx.owner() == holder;
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  const auto r = bugs_of(*m, "unlock-not-held");
  ASSERT_EQ(r.size(), 2u) << all_bugs(*m);
  EXPECT_EQ(r[0]->task, "intruder");
  EXPECT_TRUE(contains(r[0]->message, "nh_spin#1")) << r[0]->message;
  EXPECT_TRUE(contains(r[1]->message, "nh_mutex#1")) << r[1]->message;
  EXPECT_EQ(still_locked, 1);
  EXPECT_EQ(owner_kept, 1);
  EXPECT_EQ(m->bugs().size(), 2u) << all_bugs(*m);
}

TEST(LockDep, ExitHoldingALockIsReported) {
  auto m = make(2);
  struct mutex mx;
  struct rw_semaphore s;
  mutex_init_on(m.get(), &mx, "exit_mutex");
  init_rwsem_on(m.get(), &s, "exit_sem");
  m->spawn("leaker", 0, [&] {
    mutex_lock(&mx);
    down_read(&s);
  });
  m->spawn("clean", 1, [&] {
    down_read(&s);
    up_read(&s);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  const auto r = bugs_of(*m, "exit-holding-lock");
  ASSERT_EQ(r.size(), 1u) << all_bugs(*m);
  EXPECT_EQ(r[0]->task, "leaker");
  EXPECT_TRUE(contains(r[0]->message, "exit_mutex#1(mutex)")) << r[0]->message;
  EXPECT_TRUE(contains(r[0]->message, "exit_sem#1(rwsem:R)")) << r[0]->message;
}

TEST(LockDep, ThreeLockCycleIsReported) {
  auto m = make(3);
  struct mutex a, b;
  struct rw_semaphore c;
  mutex_init_on(m.get(), &a, "cyc3_A");
  mutex_init_on(m.get(), &b, "cyc3_B");
  init_rwsem_on(m.get(), &c, "cyc3_C");
  std::vector<std::size_t> reports_after(3, 99);
  // A -> B (t0), then B -> C (t1), then C -> A (t2), each long after the previous one:
  // no two of them ever wait for each other, and only the third closes a cycle.
  m->spawn("t0", 0, [&] {
    mutex_lock(&a);
    mutex_lock(&b);
    mutex_unlock(&b);
    mutex_unlock(&a);
    reports_after[0] = bugs_of(*m, "lock-order").size();
  });
  m->spawn("t1", 1, [&] {
    cpu_work(100'000);
    mutex_lock(&b);
    down_read(&c);
    up_read(&c);
    mutex_unlock(&b);
    reports_after[1] = bugs_of(*m, "lock-order").size();
  });
  m->spawn("t2", 2, [&] {
    cpu_work(200'000);
    down_write(&c);
    mutex_lock(&a);
    mutex_unlock(&a);
    up_write(&c);
    reports_after[2] = bugs_of(*m, "lock-order").size();
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(reports_after, (std::vector<std::size_t>{0, 0, 1}));
  const auto r = bugs_of(*m, "lock-order");
  ASSERT_EQ(r.size(), 1u) << all_bugs(*m);
  EXPECT_EQ(r[0]->task, "t2");
  const std::string& msg = r[0]->message;
  EXPECT_TRUE(contains(msg, "t2 acquires cyc3_A while holding cyc3_C")) << msg;
  EXPECT_TRUE(contains(msg, "cyc3_A -> cyc3_B (t0 at cycle")) << msg;
  EXPECT_TRUE(contains(msg, "cyc3_B -> cyc3_C (t1 at cycle")) << msg;
  EXPECT_LT(msg.find("cyc3_A -> cyc3_B"), msg.find("cyc3_B -> cyc3_C")) << "the chain is printed in order";
  EXPECT_EQ(m->bugs().size(), 1u) << all_bugs(*m);
}

// ---- the abba workload ----------------------------------------------------------------

namespace {

bool has_check(const nlohmann::json& bugs, const std::string& check) {
  return std::any_of(bugs.begin(), bugs.end(), [&](const nlohmann::json& b) { return b["check"] == check; });
}

}  // namespace

TEST(Abba, CliReportsTheInversionForEverySeed) {
  for (int seed : {1, 2, 3, 17, 42}) {
    const smpemu::testing::Exec e = smpemu::testing::run_smpemu("run abba --seed " + std::to_string(seed) + " --json");
    EXPECT_EQ(e.status, 1) << "seed " << seed << ": " << e.err;
    const auto j = nlohmann::json::parse(e.out);
    ASSERT_TRUE(j["bugs"].is_array());
    EXPECT_TRUE(has_check(j["bugs"], "lock-order")) << "seed " << seed << ": " << e.out;
  }
  // With spinlocks too.
  const smpemu::testing::Exec s = smpemu::testing::run_smpemu("run abba --seed 5 --set lock=spin --json");
  EXPECT_EQ(s.status, 1) << s.err;
  EXPECT_TRUE(has_check(nlohmann::json::parse(s.out)["bugs"], "lock-order")) << s.out;
}

TEST(Abba, SomeSeedsDeadlockAndSomeDoNot) {
  int deadlocked = 0, clean = 0, first_deadlock = 0, first_clean = 0;
  for (int seed = 1; seed <= 60; ++seed) {
    RunConfig cfg;
    cfg.workload = "abba";
    cfg.params.seed = static_cast<std::uint64_t>(seed);
    const RunResult r = run_once(cfg);
    const bool lock_order = std::any_of(r.bugs.begin(), r.bugs.end(), [](const BugReport& b) { return b.check == "lock-order"; });
    EXPECT_TRUE(lock_order) << "seed " << seed;
    // A real abba deadlock is a wait-for cycle (see EveryMutexDeadlockIsAWaitForCycle
    // for the other kind).
    const bool dl = std::any_of(r.bugs.begin(), r.bugs.end(), [](const BugReport& b) {
      return b.check == "deadlock" && b.message.find("wait-for cycle") != std::string::npos;
    });
    if (dl) {
      ++deadlocked;
      if (!first_deadlock) first_deadlock = seed;
      EXPECT_NE(r.stats.end, EndReason::Completed) << "seed " << seed;
    } else if (r.stats.end == EndReason::Completed) {
      ++clean;
      if (!first_clean) first_clean = seed;
    }
  }
  EXPECT_GT(deadlocked, 0);
  EXPECT_GT(clean, 0);
  // The CLI agrees on one seed of each kind.
  if (first_deadlock) {
    const smpemu::testing::Exec e = smpemu::testing::run_smpemu("run abba --seed " + std::to_string(first_deadlock) + " --json");
    EXPECT_EQ(e.status, 1);
    EXPECT_TRUE(has_check(nlohmann::json::parse(e.out)["bugs"], "deadlock")) << e.out;
  }
  if (first_clean) {
    const smpemu::testing::Exec e = smpemu::testing::run_smpemu("run abba --seed " + std::to_string(first_clean) + " --json");
    EXPECT_EQ(e.status, 1);
    const auto j = nlohmann::json::parse(e.out);
    EXPECT_FALSE(has_check(j["bugs"], "deadlock")) << e.out;
    EXPECT_TRUE(has_check(j["bugs"], "lock-order")) << e.out;
  }
}

TEST(Abba, EveryMutexDeadlockIsAWaitForCycle) {
  for (int seed = 1; seed <= 60; ++seed) {
    RunConfig cfg;
    cfg.workload = "abba";
    cfg.params.seed = static_cast<std::uint64_t>(seed);
    const RunResult r = run_once(cfg);
    for (const BugReport& b : r.bugs) {
      if (b.check == "deadlock") {
        EXPECT_NE(b.message.find("wait-for cycle"), std::string::npos) << "seed " << seed << ": " << b.message;
      }
    }
    if (r.stats.end != EndReason::FatalBug) {
      EXPECT_EQ(r.metrics.at("rounds_ab"), 10.0) << "seed " << seed;
      EXPECT_EQ(r.metrics.at("rounds_ba"), 10.0) << "seed " << seed;
    }
  }
}
