// RCU: grace periods, the two flavours, callbacks, and the RCU checks.
#include <gtest/gtest.h>

#include "arch/profiles.h"
#include "kernel/kernel.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::run_smpemu;

namespace {

std::unique_ptr<Machine> make(int cpus, RcuFlavor flavor, PreemptModel preempt = PreemptModel::Voluntary) {
  MachineParams p;
  p.cpus = cpus;
  p.rcu = flavor;
  p.preempt = preempt;
  p.hz = 1000;  // a tick every 2.1M cycles on opteron48
  p.max_cycles = 1'000'000'000;
  const machine_profile* prof = find_machine_profile("opteron48");
  return std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
}

// CPU 1 runs a long preempt-off region (not an RCU reader) with sync points in it;
// CPU 0 calls synchronize_rcu() at once. Returns when synchronize_rcu() came back and
// when CPU 1's region ended.
std::pair<Cycles, Cycles> sync_vs_preempt_off(RcuFlavor flavor) {
  auto m = make(2, flavor);
  Cycles synced = 0, region_end = 0;
  m->spawn("busy", 1, [&] {
    preempt_disable();
    for (int i = 0; i < 100; ++i) {
      cpu_work(100'000);  // 10M cycles in all: several ticks
      smp_mb();
    }
    region_end = m->now();
    preempt_enable();
    cond_resched();
  });
  m->spawn("syncer", 0, [&] {
    cpu_work(10'000);
    synchronize_rcu();
    synced = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty());
  EXPECT_EQ(m->rcu().completed(), 1u);
  EXPECT_EQ(m->histograms().at("rcu.gp").count(), 1u);
  return {synced, region_end};
}

}  // namespace

TEST(Rcu, SchedFlavourWaitsForPreemptOffRegions) {
  const auto [synced, region_end] = sync_vs_preempt_off(RcuFlavor::Sched);
  EXPECT_GE(synced, region_end) << "a preempt-off region is a read section under RCU-sched";
}

TEST(Rcu, PreemptFlavourDoesNotWaitForPreemptOffRegions) {
  const auto [synced, region_end] = sync_vs_preempt_off(RcuFlavor::Preempt);
  EXPECT_LT(synced, region_end) << "the first tick outside a read section is a quiescent state";
  EXPECT_LT(synced, 2 * 2'100'000u + 100'000u) << "ended at CPU 1's first tick or soon after";
}

TEST(Rcu, PreemptFlavourWaitsForAPreemptedReader) {
  // A reader on CPU 1 is inside rcu_read_lock() when the grace period starts, and is
  // preempted there (its CPU passes quiescent states); the grace period must still wait
  // for it to leave its read section.
  auto m = make(2, RcuFlavor::Preempt, PreemptModel::Full);
  Cycles synced = 0, reader_unlocked = 0;
  m->spawn("reader", 1, [&] {
    rcu_read_lock();
    for (int i = 0; i < 30; ++i) {
      cpu_work(200'000);
      smp_mb();
    }
    reader_unlocked = m->now();
    rcu_read_unlock();
  });
  m->spawn("other", 1, [&] {
    for (int i = 0; i < 30; ++i) {
      cpu_work(200'000);
      smp_mb();
    }
  });
  m->spawn("syncer", 0, [&] {
    cpu_work(10'000);
    synchronize_rcu();
    synced = m->now();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(m->bugs().empty());
  EXPECT_GE(synced, reader_unlocked);
}

TEST(Rcu, CallbacksRunAfterTheGracePeriodOnTheQueuingCpu) {
  auto m = make(3, RcuFlavor::Sched);
  static CpuId ran_on = kNoCpu;
  static Cycles ran_at = 0;
  ran_on = kNoCpu;
  rcu_head head;
  Cycles reader_done = 0, queued_at = 0;
  m->spawn("reader", 1, [&] {
    rcu_read_lock();
    cpu_work(500'000);
    smp_mb();
    reader_done = m->now();
    rcu_read_unlock();
    return_to_user();
  });
  m->spawn("updater", 2, [&] {
    cpu_work(1'000);
    queued_at = m->now();
    call_rcu(&head, [](rcu_head*) {
      ran_on = this_machine()->cpu_id();
      ran_at = this_machine()->now();
    });
    cpu_work(2'000'000);
    smp_mb();
  });
  EXPECT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(ran_on, 2);
  EXPECT_GE(ran_at, reader_done);
  EXPECT_GT(queued_at, 0u);
}

TEST(Rcu, BlockingInAReadSectionIsReported) {
  auto m = make(2, RcuFlavor::Preempt);
  Task* sleeper = nullptr;
  sleeper = m->spawn("sleeper", 0, [&] {
    rcu_read_lock();
    m->block();
    rcu_read_unlock();
  });
  m->spawn("waker", 1, [&] {
    cpu_work(100'000);
    m->wake(sleeper);
  });
  m->run();
  ASSERT_FALSE(m->bugs().empty());
  EXPECT_EQ(m->bugs().front().check, "sleep-in-atomic");
  EXPECT_NE(m->bugs().front().message.find("RCU read-side"), std::string::npos);
}

TEST(Rcu, CallRcuOnAFreedObjectIsCaught) {
  auto m = make(1, RcuFlavor::Sched);
  rcu_head head;
  m->spawn("t", 0, [&] {
    head.object = obj_alloc("thing");
    obj_free(head.object);
    call_rcu(&head, [](rcu_head*) {});
  });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  ASSERT_EQ(m->bugs().size(), 1u);
  EXPECT_EQ(m->bugs()[0].check, "rcu-callback-freed");
}

TEST(Rcu, ObjectFreedWhileItsCallbackWaitsIsCaught) {
  auto m = make(2, RcuFlavor::Sched);
  rcu_head head;
  m->spawn("t", 0, [&] {
    head.object = obj_alloc("thing");
    call_rcu(&head, [](rcu_head* h) { obj_free(h->object); });
    obj_free(head.object);  // freed again before the grace period: the callback's object is gone
    return_to_user();
  });
  m->spawn("u", 1, [&] { cpu_work(100'000); return_to_user(); });
  EXPECT_EQ(m->run().end, EndReason::FatalBug);
  ASSERT_FALSE(m->bugs().empty());
  EXPECT_EQ(m->bugs().back().check, "rcu-callback-freed");
}

TEST(Objects, UseAfterFreeDoubleFreeAndUnknownIdsAreFatalReports) {
  struct Case {
    const char* check;
    void (*body)();
  };
  const Case cases[] = {
      {"use-after-free", [] {
         const unsigned id = obj_alloc("thing");
         EXPECT_TRUE(obj_check(id, "first read"));
         obj_free(id);
         obj_check(id, "second read");
       }},
      {"double-free", [] {
         const unsigned id = obj_alloc("thing");
         obj_free(id);
         obj_free(id);
       }},
      {"bad-free", [] { obj_free(12345); }},
      {"bad-access", [] { obj_check(777, "wild read"); }},
  };
  for (const Case& c : cases) {
    auto m = make(1, RcuFlavor::Sched);
    bool after = false;
    m->spawn("t", 0, [&] {
      c.body();
      after = true;  // a fatal report does not return
    });
    EXPECT_EQ(m->run().end, EndReason::FatalBug) << c.check;
    EXPECT_FALSE(after) << c.check;
    ASSERT_EQ(m->bugs().size(), 1u) << c.check;
    EXPECT_EQ(m->bugs()[0].check, c.check);
    EXPECT_EQ(m->bugs()[0].task, "t");
  }
}

TEST(Rcu, RcuReadersWorkloadCleanAndPlantedBugCaught) {
  for (const char* flavor : {"sched", "preempt"}) {
    for (int seed = 1; seed <= 5; ++seed) {
      const auto ok = run_smpemu("run rcu-readers --rcu " + std::string(flavor) + " --seed " + std::to_string(seed));
      EXPECT_EQ(ok.status, 0) << flavor << " seed " << seed << ": " << ok.out;
      const auto bad = run_smpemu("run rcu-readers --set free=immediate --rcu " + std::string(flavor) + " --seed " +
                                  std::to_string(seed) + " --json");
      EXPECT_EQ(bad.status, 1) << flavor << " seed " << seed;
      EXPECT_NE(bad.out.find("\"check\": \"use-after-free\""), std::string::npos);
    }
  }
}
