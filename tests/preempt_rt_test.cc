// Tests of the pieces behind a preemptible lazy MMU region (seed 001): PREEMPT_RT's
// sleeping spinlock_t (emu/spinlock.h, init_sleeping), the engine's context-switch hooks
// (Machine::set_switch_hooks, the arch's part of __switch_to), the mm knob pte_lock=rt,
// and powerpc's ctxsw_batch_flush on zap-preempt-race.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "emu/machine.h"
#include "emu/spinlock.h"
#include "kernel/kernel.h"
#include "mm_test_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::MmBox;
using smpemu::testing::run_smpemu;

namespace {

std::unique_ptr<Machine> make(int cpus, PreemptModel preempt) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = 1;
  p.preempt = preempt;
  const machine_profile* prof = find_machine_profile("opteron48");
  return std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
}

int count_bugs(const Machine& m) { return static_cast<int>(m.bugs().size()); }

// A sleeping spinlock leaves preemption on, may be held across a sleep, and a waiter on
// the holder's CPU sleeps instead of spinning (a spinning waiter would never let the
// holder run again).
TEST(SleepingSpinLock, HolderIsPreemptibleAndAWaiterOnItsCpuSleeps) {
  auto m = make(1, PreemptModel::Full);
  spinlock_t l;
  l.init_sleeping(*m, "rt_lock");
  std::vector<std::string> order;
  int held = -1, contended = -1;
  m->spawn("holder", 0, [&] {
    spin_lock(&l);
    held = preempt_count();
    order.push_back("holder locked");
    m->sleep_until(m->now() + 5000);  // not sleep-in-atomic: the lock sleeps
    contended = spin_is_contended(&l);
    order.push_back("holder unlocks");
    spin_unlock(&l);
  });
  m->spawn("waiter", 0, [&] {
    spin_lock(&l);
    order.push_back("waiter locked");
    spin_unlock(&l);
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_TRUE(l.sleeping());
  EXPECT_EQ(held, 0);
  EXPECT_EQ(contended, 1);
  EXPECT_EQ(order, (std::vector<std::string>{"holder locked", "holder unlocks", "waiter locked"}));
  EXPECT_EQ(count_bugs(*m), 0);
}

// PREEMPT_RT's spin_lock_irqsave leaves IRQs on (the lock may sleep) and restores nothing.
TEST(SleepingSpinLock, IrqsaveLeavesIrqsAlone) {
  auto m = make(1, PreemptModel::Full);
  spinlock_t l;
  l.init_sleeping(*m, "rt_irq");
  bool inside = true, after = true;
  m->spawn("t", 0, [&] {
    unsigned long flags;
    spin_lock_irqsave(&l, flags);
    inside = irqs_disabled();
    spin_unlock_irqrestore(&l, flags);
    after = irqs_disabled();
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_FALSE(inside);
  EXPECT_FALSE(after);
  EXPECT_EQ(count_bugs(*m), 0);
}

struct HookLog {
  bool want = false;
  int outs = 0, ins = 0, out_preempt = -1;
  bool out_irqs_off = false;
  std::uint32_t in_flags = 0;
};

// The out hook runs, preemption and IRQs off, when a task enters schedule() and
// out_needed says so; the in hook runs when it returns from schedule(), with the flags
// the out hook left on that task.
TEST(SwitchHooks, OutRunsAtomicallyWhenNeededAndInSeesTheTaskFlags) {
  auto m = make(1, PreemptModel::Voluntary);
  HookLog log;
  set_switch_hooks_on(
      m.get(), [](void* a) { return static_cast<HookLog*>(a)->want; },
      [](void* a, std::uint32_t* flags) {
        HookLog* l = static_cast<HookLog*>(a);
        l->outs++;
        l->out_preempt = preempt_count();
        l->out_irqs_off = irqs_disabled();
        *flags |= 0x1;
        cpu_work(100);  // a hook may take time (and sync points)
      },
      [](void* a, std::uint32_t* flags) {
        HookLog* l = static_cast<HookLog*>(a);
        l->ins++;
        l->in_flags |= *flags;
        *flags &= ~0x1u;
      },
      &log);
  m->spawn("a", 0, [&] {
    m->sleep_until(m->now() + 1000);  // out not needed: no out, one in
    log.want = true;
    m->sleep_until(m->now() + 1000);  // out and in
    log.want = false;
  });
  ASSERT_EQ(m->run().end, EndReason::Completed);
  EXPECT_EQ(log.outs, 1);
  EXPECT_EQ(log.ins, 2);
  EXPECT_EQ(log.out_preempt, 1);
  EXPECT_TRUE(log.out_irqs_off);
  EXPECT_EQ(log.in_flags, 0x1u);
  EXPECT_EQ(count_bugs(*m), 0);
}

// pte_lock=rt makes every pte lock (page_table_lock and the split ptls) a sleeping lock.
TEST(MmPteLockRt, PteLocksSleepAndLeavePreemptionOn) {
  for (const bool rt : {false, true})
    for (const char* split : {"off", "on"}) {
      MmBox b(1,
              {{"pte_lock", rt ? "rt" : "spinlock"},
               {"mmu_gather", "preemptible"},
               {"lockbreak", "mutex_nobreak"},
               {"split_ptlock", split}},
              1, PreemptModel::Full);
      int in_lock = -1;
      bool sleeping = false;
      b.m->spawn("t", 0, [&] {
        mm_struct* mm = b.env.new_mm();
        struct page* p = alloc_page(GFP_KERNEL);
        ASSERT_EQ(install_page(mm, 0x100000000UL, p, PAGE_SHARED), 0);
        put_page(p);
        spinlock_t* ptl = nullptr;
        pgtable_slot_t* pte = get_locked_pte(mm, 0x100000000UL, &ptl);
        ASSERT_NE(pte, nullptr);
        in_lock = preempt_count();
        sleeping = ptl->sleeping();
        pte_unmap_unlock(pte, ptl);
      });
      b.m->run();
      EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
      EXPECT_EQ(sleeping, rt) << "split " << split;
      EXPECT_EQ(in_lock, rt ? 0 : 1) << "split " << split;
    }
}

TEST(PreemptRtCli, CowSiblingsNeedASecondCpuForTheKicker) {
  const Exec e = run_smpemu("run zap-preempt-race --cpus 1 --set siblings=cow");
  EXPECT_EQ(e.status, 2);
  EXPECT_NE(e.err.find("needs at least 2 CPUs"), std::string::npos) << e.err;
  const Exec alone = run_smpemu("run zap-preempt-race --cpus 2 --set siblings=cow --set threads=1");
  EXPECT_EQ(alone.status, 0) << alone.err;  // no sibling to kick: thread 0 alone
}

TEST(PreemptRtCli, PteLockRtNeedsThePreemptibleGatherAndTheIMmapMutex) {
  for (const std::string set : {"", " --set mmu_gather=preemptible", " --set lockbreak=mutex_nobreak"}) {
    const Exec e = run_smpemu("run zap-preempt-race --cpus 2 --set pte_lock=rt" + set);
    EXPECT_EQ(e.status, 2) << set;
    EXPECT_NE(e.err.find("pte_lock=rt needs mmu_gather=preemptible and lockbreak=mutex_nobreak"), std::string::npos)
        << e.err;
  }
}

// ctxsw_batch_flush=off (the bug) is found; on, the batch is flushed at every switch out
// of a lazy MMU region (lazy_mmu_switches) and nothing is found.
TEST(PreemptRtCli, ContextSwitchBatchFlushOffIsFound) {
  const std::string base =
      "zap-preempt-race --arch ppc64-hash --cpus 2 --preempt full --set siblings=cow --set pte_lock=rt "
      "--set mmu_gather=preemptible --set lockbreak=mutex_nobreak";
  const Exec off = run_smpemu("fuzz " + base + " --set ctxsw_batch_flush=off --runs 30 --jobs 2");
  EXPECT_EQ(off.status, 1) << off.out << off.err;
  EXPECT_NE(off.out.find("duplicate-hpte"), std::string::npos) << off.out;
  const Exec on = run_smpemu("fuzz " + base + " --runs 30 --jobs 2");
  EXPECT_EQ(on.status, 0) << on.out << on.err;
  const Exec one = run_smpemu("run " + base + " --json");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_GT(nlohmann::json::parse(one.out)["metrics"]["lazy_mmu_switches"].get<double>(), 0);
}

}  // namespace
