// Joins, exits and thread groups (emu/machine.h, "joins, exits and thread groups";
// kernel/sched.h): kthread_join() returns after the target's exit and at once for a
// dead target, a join cycle is a deadlock report, a join on a task that never exits
// ends in the deadlock check, and do_group_exit() kills the caller's group, blocked
// members included, with the same digest on every run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::opteron_machine;

namespace {

bool has_check(const Machine &m, const std::string &check) {
  for (const BugReport &b : m.bugs())
    if (b.check == check) return true;
  return false;
}

TEST(JoinExitGroup, JoinReturnsAfterTheTargetExitsWithItsCode) {
  auto m = opteron_machine(2);
  Cycles exited_at = 0, joined_at = 0;
  int code = -1;
  Task *worker = m->spawn("worker", 1, [&] {
    cpu_work(50000);
    exited_at = local_clock();
    do_exit(7);
  });
  m->spawn("main", 0, [&] {
    code = kthread_join(task_struct_of(worker));
    joined_at = local_clock();
  });
  const RunStats s = m->run();
  EXPECT_EQ(s.end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty());
  EXPECT_EQ(code, 7);
  EXPECT_EQ(worker->state, TaskState::Dead);
  EXPECT_GE(joined_at, exited_at);  // the joiner sees the exit no earlier than it happened
}

TEST(JoinExitGroup, JoinOfADeadTaskReturnsAtOnce) {
  auto m = opteron_machine(2);
  bool dead_before = false;
  int code = -1;
  Task *quick = m->spawn("quick", 1, [] {});
  m->spawn("main", 0, [&] {
    cpu_work(100000);
    dead_before = task_is_dead(task_struct_of(quick));
    const std::uint64_t switches = m->cpu(0).ctx_switches;
    code = kthread_join(task_struct_of(quick));
    EXPECT_EQ(m->cpu(0).ctx_switches, switches);  // no sleep
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(dead_before);
  EXPECT_EQ(code, 0);
}

TEST(JoinExitGroup, AJoinCycleIsADeadlock) {
  auto m = opteron_machine(2);
  Task *a = nullptr, *b = nullptr;
  a = m->spawn("a", 0, [&] { kthread_join(task_struct_of(b)); });
  b = m->spawn("b", 1, [&] {
    cpu_work(10000);
    kthread_join(task_struct_of(a));
  });
  const RunStats s = m->run();
  EXPECT_EQ(s.end, EndReason::FatalBug);
  ASSERT_TRUE(has_check(*m, "deadlock"));
  EXPECT_NE(m->bugs().front().message.find("wait-for cycle"), std::string::npos) << m->bugs().front().message;
}

TEST(JoinExitGroup, SelfJoinIsADeadlock) {
  auto m = opteron_machine(1);
  m->spawn("self", 0, [&] { kthread_join(current); });
  m->run();
  EXPECT_TRUE(has_check(*m, "deadlock"));
}

TEST(JoinExitGroup, JoinOnATaskThatNeverExitsEndsInTheDeadlockCheck) {
  auto m = opteron_machine(2);
  Task *sleeper = m->spawn("sleeper", 1, [&] {
    set_current_state(TASK_UNINTERRUPTIBLE);
    schedule();  // nobody wakes it
  });
  m->spawn("main", 0, [&] { kthread_join(task_struct_of(sleeper)); });
  const RunStats s = m->run();
  EXPECT_EQ(s.end, EndReason::Deadlock);
  EXPECT_TRUE(has_check(*m, "deadlock"));
}

TEST(JoinExitGroup, WakeUpProcessWakesASleeperOnce) {
  auto m = opteron_machine(2);
  shared<int> flag;
  shared_init(&flag, m->new_line(), 0);
  int woke = -1, again = -1;
  Task *sleeper = m->spawn("sleeper", 1, [&] {
    for (;;) {
      set_current_state(TASK_UNINTERRUPTIBLE);
      if (READ_ONCE(flag)) break;
      schedule();
    }
    __set_current_state(TASK_RUNNING);
  });
  m->spawn("waker", 0, [&] {
    cpu_work(50000);
    WRITE_ONCE(flag, 1);
    woke = wake_up_process(task_struct_of(sleeper));
    kthread_join(task_struct_of(sleeper));
    again = wake_up_process(task_struct_of(sleeper));
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(woke, 1);
  EXPECT_EQ(again, 0);
}

/// A group of one leader and four threads: a spinner that polls, a thread asleep in a
/// join on a task that never exits, one in a killable sleep, one in a long timer sleep.
/// The leader's do_group_exit() kills them all; the outsider joins the leader and then
/// every thread.
struct GroupRun {
  RunStats stats;
  std::vector<int> codes;
  int reached_after_sleep = 0;
  std::vector<std::string> checks;
};

GroupRun group_run(std::uint64_t seed, const std::string &strategy = "time") {
  MachineParams p;
  p.cpus = 4;
  p.seed = seed;
  p.strategy = strategy;
  const machine_profile *prof = find_machine_profile("opteron48");
  Machine m(p, build_topology(prof, 4), prof->costs);
  GroupRun r;
  std::vector<Task *> threads;
  Task *never = m.spawn("never", 3, [] {
    set_current_state(TASK_UNINTERRUPTIBLE);
    schedule();  // woken by the outsider at the end
  });
  Task *leader = m.spawn("leader", 0, [&] {
    cpu_work(200000);
    do_group_exit(3);
  });
  threads.push_back(m.spawn_thread(leader, "poller", 1, [&] {
    while (!fatal_signal_pending(current)) {
      cpu_work(1000);
      cond_resched();
    }
  }));
  threads.push_back(m.spawn_thread(leader, "joiner", 2, [&] { kthread_join(task_struct_of(never)); }));
  threads.push_back(m.spawn_thread(leader, "killable", 1, [&] {
    set_current_state(TASK_KILLABLE);
    schedule();
    ++r.reached_after_sleep;  // never: the kill ends the task in schedule()
  }));
  threads.push_back(m.spawn_thread(leader, "napper", 2, [&] {
    sleep_until(local_clock() + 1000000000);
    ++r.reached_after_sleep;
  }));
  m.spawn("outsider", 3, [&] {
    r.codes.push_back(kthread_join(task_struct_of(leader)));
    for (Task *t : threads) r.codes.push_back(kthread_join(task_struct_of(t)));
    wake_up_process(task_struct_of(never));
  });
  r.stats = m.run();
  for (const BugReport &b : m.bugs()) r.checks.push_back(b.check);
  EXPECT_EQ(threads[0]->tgid, leader->tgid);
  EXPECT_NE(never->tgid, leader->tgid);
  return r;
}

TEST(JoinExitGroup, GroupExitKillsEverySiblingBlockedOnesIncluded) {
  const GroupRun r = group_run(1);
  EXPECT_EQ(r.stats.end, EndReason::Completed);
  EXPECT_TRUE(r.checks.empty()) << r.checks.front();
  EXPECT_EQ(r.codes, (std::vector<int>{3, 3, 3, 3, 3}));
  EXPECT_EQ(r.reached_after_sleep, 0);
  EXPECT_LT(r.stats.cycles, 100000000u);  // the napper did not sleep out its timer
}

TEST(JoinExitGroup, GroupExitIsDeterministic) {
  for (const char *strategy : {"time", "random", "pct:2"}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      const GroupRun a = group_run(seed, strategy);
      const GroupRun b = group_run(seed, strategy);
      EXPECT_EQ(a.stats.end, EndReason::Completed) << strategy << " seed " << seed;
      EXPECT_EQ(a.stats.digest, b.stats.digest) << strategy << " seed " << seed;
      EXPECT_EQ(a.stats.events, b.stats.events);
      EXPECT_EQ(a.codes, b.codes);
    }
  }
}

TEST(JoinExitGroup, AKilledTaskKeepsItsLocks) {
  auto m = opteron_machine(2);
  struct mutex mu;
  mutex_init_on(m.get(), &mu, "kept");
  Task *leader = m->spawn("leader", 0, [&] {
    cpu_work(100000);
    do_group_exit(1);
  });
  m->spawn_thread(leader, "holder", 1, [&] {
    mutex_lock(&mu);
    for (;;) {
      cpu_work(1000);
      cond_resched();  // killed here, the mutex held
    }
  });
  m->spawn("later", 0, [&] {
    kthread_join(task_struct_of(leader));
    mutex_lock(&mu);  // never: the dead holder keeps it
  });
  const RunStats s = m->run();
  EXPECT_TRUE(has_check(*m, "exit-holding-lock"));
  EXPECT_TRUE(s.end == EndReason::Deadlock || s.end == EndReason::FatalBug) << end_reason_name(s.end);
}

}  // namespace
