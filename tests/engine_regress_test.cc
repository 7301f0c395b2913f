// Regressions found while building the engine, each pinned by a test.
#include <gtest/gtest.h>

#include "arch/profiles.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::spin_config;

// A CPU spinning with IRQs on arms a wake for its next tick. If the spin ends and the
// CPU goes idle first, that stale wake must not wake the idle CPU (NOHZ idle): before
// the fix every such CPU woke at the first tick boundary, so `cycles` of a short run
// read 8,400,000 (one opteron48 tick at HZ=250) instead of the real end.
TEST(EngineRegress, StaleTickWakeDoesNotWakeIdleCpu) {
  RunResult r = run_once(spin_config(256, 1, "mcs", "2000000"));
  ASSERT_TRUE(r.bugs.empty());
  const Cycles tick = 2'100'000'000ULL / 250;
  EXPECT_LT(r.stats.cycles, tick);
  EXPECT_GT(r.stats.cycles, 2'000'000u);
}

namespace {
void count_ipi(Machine&, void* arg) { ++*static_cast<int*>(arg); }
}  // namespace

// IRQs-off is CPU state. A task that slept with IRQs off used to leave them off for
// the idle task, which then could never take the IPI sent to it: the host looped
// forever at one virtual time. Now the next task runs with IRQs on (as after the
// kernel's finish_task_switch), the sleep is reported, and the run completes.
TEST(EngineRegress, SleepingWithIrqsOffDoesNotLeakIrqsOffToTheNextTask) {
  MachineParams p;
  p.cpus = 2;
  p.max_cycles = 100'000'000;
  const machine_profile* prof = find_machine_profile("opteron48");
  Machine m(p, build_topology(prof, 2), prof->costs);
  int handled = 0;
  bool resumed = false;
  m.spawn("irqoff-sleeper", 1, [&] {
    m.irq_disable();
    m.sleep_until(m.now() + 1'000'000);
    resumed = true;
    m.irq_enable();
  });
  m.spawn("sender", 0, [&] {
    m.compute(100'000);
    m.send_ipi(1, count_ipi, &handled);
  });
  const RunStats s = m.run();
  EXPECT_EQ(s.end, EndReason::Completed);
  EXPECT_TRUE(resumed);
  EXPECT_EQ(handled, 1);
  ASSERT_FALSE(m.bugs().empty());
  EXPECT_EQ(m.bugs().front().check, "sleep-in-atomic");
}

// Timer events are also handled from the dispatch loop of a CPU that has just started
// to spin, while cur_/running_ still name it. A wakeup of a task on that same CPU was
// taken for a wakeup by the running task: need_resched was set but the spinning CPU
// was never interrupted, so under full preemption the woken task waited for the spin
// to end instead of preempting the spinner at once.
TEST(EngineRegress, WakeupOnASpinningCpuInterruptsTheSpin) {
  MachineParams p;
  p.cpus = 2;
  p.preempt = PreemptModel::Full;
  const machine_profile* prof = find_machine_profile("opteron48");
  Machine m(p, build_topology(prof, 2), prof->costs);
  const LineId line = m.new_line();
  int flag = 0;
  Cycles woken_ran = 0, flag_set = 0;
  m.spawn("sleeper", 1, [&] {
    m.sleep_until(20'000);
    woken_ran = m.now();
  });
  m.spawn("spinner", 1, [&] { m.spin_until(line, flag, [](int v) { return v != 0; }); });
  m.spawn("setter", 0, [&] {
    m.compute(200'000);
    flag_set = m.now();
    m.store(line, flag, 1);
  });
  ASSERT_EQ(m.run().end, EndReason::Completed);
  EXPECT_TRUE(m.bugs().empty());
  EXPECT_LT(woken_ran, flag_set) << "the wakeup preempts the (preemptible) spinner";
  EXPECT_LT(woken_ran, Cycles{40'000});
}

// A spinning CPU has one pending wake-for-interrupt event. When an earlier wake (armed
// for a tick that could preempt the spin) fired after the tick could no longer preempt,
// it woke nobody and armed nothing, so an IPI posted meanwhile for later was never
// taken: the sender, spinning for that CPU's TLB-flush acknowledgement while holding a
// pte lock the target spun on, waited forever. PCT found it in truncate-latency (these
// seeds deadlocked or ran without end); now the stale wake re-arms for the next IPI.
TEST(EngineRegress, StaleWakeReArmsForALaterIpi) {
  for (std::uint64_t seed : {15u, 25u, 12u}) {
    RunConfig cfg;
    cfg.workload = "truncate-latency";
    cfg.params.seed = seed;
    cfg.params.strategy = "pct:3";
    const RunResult r = run_once(cfg);
    EXPECT_EQ(r.stats.end, EndReason::Completed) << "seed " << seed;
    EXPECT_TRUE(r.bugs.empty()) << "seed " << seed << ": " << (r.bugs.empty() ? "" : r.bugs[0].message);
  }
}
