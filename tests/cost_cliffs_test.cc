// Cost cliffs (docs/PERFORMANCE.md, "Cost cliffs"): per-event work that used to grow with
// the number of CPUs. Each test bounds an operation count the code exposes for tests, and
// checks the faster structure gives the same answers as the one it replaced; none times
// anything.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "emu/coherence.h"
#include "emu/rng.h"
#include "emu/strategy.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

/// PCT as it was first written: ready CPUs in a vector, scanned by frontier() and pick().
/// The reference the O(log n) PctStrategy must agree with, decision for decision.
class LinearPct {
 public:
  LinearPct(int ncpus, std::uint32_t depth, std::uint64_t steps, Cycles window, std::uint64_t seed)
      : rng_(seed, "sched"), depth_(depth), window_(window), prio_(static_cast<std::size_t>(ncpus)) {
    std::vector<std::uint64_t> perm(prio_.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng_.below(i)]);
    for (std::size_t i = 0; i < prio_.size(); ++i) prio_[i] = depth_ + perm[i];
    for (std::uint32_t i = 0; i + 1 < depth_; ++i) cps_.push_back(1 + rng_.below(steps));
    std::sort(cps_.begin(), cps_.end());
  }
  void add(CpuId c, Cycles t) { ready_.push_back({c, t}); }
  Cycles frontier() const {
    Cycles m = kNever;
    for (const auto& e : ready_) m = std::min(m, e.time);
    return m;
  }
  CpuId pick(CpuId cur, Cycles t) {
    ++step_;
    while (next_cp_ < cps_.size() && cps_[next_cp_] <= step_) {
      const CpuId victim = cur != kNoCpu ? cur : last_;
      if (victim != kNoCpu) prio_[static_cast<std::size_t>(victim)] = depth_ - 1 - next_cp_;
      ++next_cp_;
    }
    Cycles earliest = cur != kNoCpu ? t : kNever;
    for (const auto& e : ready_) earliest = std::min(earliest, e.time);
    const Cycles horizon = earliest > kNever - window_ ? kNever : earliest + window_;
    const bool cur_ok = cur != kNoCpu && t <= horizon;
    std::size_t best = ready_.size();
    std::uint64_t best_prio = cur_ok ? prio_[static_cast<std::size_t>(cur)] : 0;
    bool have = cur_ok;
    for (std::size_t i = 0; i < ready_.size(); ++i) {
      if (ready_[i].time > horizon) continue;
      const std::uint64_t p = prio_[static_cast<std::size_t>(ready_[i].cpu)];
      if (!have || p > best_prio) {
        have = true;
        best = i;
        best_prio = p;
      }
    }
    if (best == ready_.size()) {
      last_ = cur;
    } else {
      last_ = ready_[best].cpu;
      ready_[best] = ready_.back();
      ready_.pop_back();
      if (cur != kNoCpu) ready_.push_back({cur, t});
    }
    return last_;
  }

 private:
  struct Entry {
    CpuId cpu;
    Cycles time;
  };
  Rng rng_;
  std::uint32_t depth_;
  Cycles window_;
  std::vector<std::uint64_t> prio_;
  std::vector<std::uint64_t> cps_;
  std::vector<Entry> ready_;
  std::size_t next_cp_ = 0;
  std::uint64_t step_ = 0;
  CpuId last_ = kNoCpu;
};

/// Drives a strategy the way the engine does: the running CPU advances and asks at sync
/// points, sometimes stops being ready (spins, idles) and is woken later. Calls `check`
/// after every step with the strategy's answer.
struct Driver {
  int ncpus;
  Rng rng;
  CpuId cur = kNoCpu;
  std::vector<Cycles> clock;
  std::vector<CpuId> waiting;  // not ready: spinning or idle
  Driver(int n, std::uint64_t seed) : ncpus(n), rng(seed, "driver"), clock(static_cast<std::size_t>(n), 0) {}
};

TEST(CostCliffs, PctPicksExactlyWhatTheLinearScanPicked) {
  struct Case {
    int ncpus;
    const char* spec;
    std::uint32_t depth;
    std::uint64_t steps;
    Cycles window;
  };
  const Case cases[] = {
      {1, "pct:1:100:1000", 1, 100, 1000},          {2, "pct:3:50:100", 3, 50, 100},
      {7, "pct:3:2000:5000", 3, 2000, 5000},        {33, "pct:5:3000:20000", 5, 3000, 20000},
      {64, "pct:20:1000:300", 20, 1000, 300},       {130, "pct:3:100000:100000", 3, 100000, 100000},
      {1024, "pct:4:4000:50000", 4, 4000, 50000},
  };
  for (const Case& k : cases)
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      auto fast = make_strategy(k.spec, k.ncpus, seed);
      LinearPct ref(k.ncpus, k.depth, k.steps, k.window, seed);
      Driver d(k.ncpus, seed);
      for (CpuId c = 0; c < k.ncpus; ++c) {
        fast->add(c, 0);
        ref.add(c, 0);
      }
      for (int i = 0; i < 20000; ++i) {
        ASSERT_EQ(fast->frontier(), ref.frontier()) << k.spec << " seed " << seed << " step " << i;
        const std::uint64_t r = d.rng.below(100);
        if (r < 8 && !d.waiting.empty()) {
          // Another CPU's operation wakes a waiting CPU at the current time.
          const std::size_t w = static_cast<std::size_t>(d.rng.below(d.waiting.size()));
          const CpuId c = d.waiting[w];
          d.waiting.erase(d.waiting.begin() + static_cast<std::ptrdiff_t>(w));
          const Cycles now = d.cur != kNoCpu ? d.clock[static_cast<std::size_t>(d.cur)] : d.clock[static_cast<std::size_t>(c)];
          Cycles& cc = d.clock[static_cast<std::size_t>(c)];
          cc = std::max(cc, now);
          fast->add(c, cc);
          ref.add(c, cc);
          continue;
        }
        if (d.cur != kNoCpu && r < 20) {
          d.waiting.push_back(d.cur);  // the running CPU spins or goes idle
          d.cur = kNoCpu;
        }
        if (d.cur == kNoCpu && fast->empty()) continue;
        Cycles t = 0;
        if (d.cur != kNoCpu) {
          Cycles& cc = d.clock[static_cast<std::size_t>(d.cur)];
          cc += d.rng.below(2 * k.window + 3);
          t = cc;
        }
        const CpuId a = fast->pick(d.cur, t), b = ref.pick(d.cur, t);
        ASSERT_EQ(a, b) << k.spec << " seed " << seed << " step " << i;
        d.cur = a;
      }
    }
}

TEST(CostCliffs, PctAndRandomStepsAreLogarithmicInTheCpuCount) {
  for (const char* spec : {"pct:3", "random"}) {
    constexpr int kCpus = 1024;
    constexpr int kPicks = 20000;
    auto s = make_strategy(spec, kCpus, 7);
    for (CpuId c = 1; c < kCpus; ++c) s->add(c, static_cast<Cycles>(c));
    const std::uint64_t before = s->scan_steps();
    CpuId cur = 0;
    Cycles t = 0, sum = 0;
    for (int i = 0; i < kPicks; ++i) {
      t += 97;
      sum += s->frontier();
      cur = s->pick(cur, t);
    }
    EXPECT_NE(sum, 0u);
    // A tree over 1024 CPUs (and PCT's few extra priorities) is 11 levels: a pick walks
    // down once and updates two leaf-to-root paths. A scan of the ready set would be
    // about 1000 steps per pick.
    const double per_pick = static_cast<double>(s->scan_steps() - before) / kPicks;
    EXPECT_LE(per_pick, 4 * 12) << spec;
  }
}

/// What an access costs, from the line's state before it, pricing sharers one by one as
/// the model first did (emu/coherence.h gives the rules).
Cycles reference_end(const CoherenceModel& cm, const Topology& topo, const CostTable& costs, LineId id, CpuId cpu,
                     Access kind, Cycles t) {
  const LineState& l = cm.line(id);
  const auto tr = [&](CpuId s) { return costs.transfer[static_cast<std::size_t>(topo.distance(cpu, s))]; };
  Cycles cost = 0;
  Cycles xfer = 0;  // the transfer part (its request leg overlaps with the line's queue)
  if (kind == Access::Load) {
    if (cm.holds(id, cpu)) return t + costs.hit;
    if (l.owner != kNoCpu) {
      cost = xfer = tr(l.owner);
    } else if (l.nsharers > 0) {
      cost = kNever;
      for (CpuId s = 0; s < topo.ncpus(); ++s)
        if (cm.holds(id, s)) cost = std::min(cost, tr(s));
      xfer = cost;
    } else {
      cost = xfer = costs.memory;
    }
  } else {
    if (l.owner == cpu) return t + (kind == Access::Rmw ? costs.local_rmw : costs.hit);
    if (l.owner != kNoCpu) {
      cost = xfer = tr(l.owner);
    } else if (l.nsharers > 0) {
      const std::uint32_t others = l.nsharers - (cm.holds(id, cpu) ? 1 : 0);
      if (others == 0) {
        cost = costs.hit;
      } else {
        Cycles far = 0;
        for (CpuId s = 0; s < topo.ncpus(); ++s)
          if (s != cpu && cm.holds(id, s)) far = std::max(far, tr(s));
        cost = far + costs.inval_per_sharer * (others - 1);
        xfer = far;
      }
    } else {
      cost = xfer = costs.memory;
    }
    if (kind == Access::Rmw) cost += costs.local_rmw;
  }
  const Cycles lead = xfer * costs.request_leg_pct / 100;
  return std::max(t + lead, l.busy_until) + cost - lead;
}

TEST(CostCliffs, SharedLinesArePricedAsBySharerScan) {
  struct Case {
    const char* machine;
    int ncpus;
  };
  for (const Case k : {Case{"opteron48", 48}, Case{"power7", 130}, Case{"xeon80", 80}, Case{"opteron48", 1024}}) {
    const machine_profile* prof = find_machine_profile(k.machine);
    const Topology topo = build_topology(prof, k.ncpus);
    Rng jitter(1, "jitter"), rng(k.ncpus, "accesses");
    CoherenceModel cm(topo, prof->costs, &jitter, 0);
    std::vector<LineId> lines;
    for (int i = 0; i < 4; ++i) lines.push_back(cm.new_line());
    Cycles t = 0;
    for (int i = 0; i < 20000; ++i) {
      const LineId id = lines[rng.below(lines.size())];
      const auto cpu = static_cast<CpuId>(rng.below(static_cast<std::uint64_t>(k.ncpus)));
      const std::uint64_t r = rng.below(100);
      const Access kind = r < 90 ? Access::Load : r < 95 ? Access::Store : Access::Rmw;  // wide sharer sets
      t += rng.below(50);
      const Cycles want = reference_end(cm, topo, prof->costs, id, cpu, kind, t);
      ASSERT_EQ(cm.access(id, cpu, kind, t), want) << k.machine << " " << k.ncpus << " access " << i;
    }
  }
}

TEST(CostCliffs, PricingAWidelySharedLineDoesNotVisitEverySharer) {
  const machine_profile* prof = find_machine_profile("opteron48");
  constexpr int kCpus = 1024;
  const Topology topo = build_topology(prof, kCpus);
  Rng jitter(1, "jitter");
  CoherenceModel cm(topo, prof->costs, &jitter, 0);
  const LineId l = cm.new_line();
  Cycles t = 0;
  for (int round = 0; round < 8; ++round) {
    cm.access(l, round, Access::Store, t += 10);
    const std::uint64_t before = cm.scan_words();
    // Every CPU reads the line: each load prices its transfer from the sharers so far,
    // then the store invalidates them all.
    for (CpuId c = 0; c < kCpus; ++c) cm.access(l, c, Access::Load, t += 10);
    cm.access(l, kCpus - 1 - round, Access::Store, t += 10);
    // 16 sharer words times at most 6 distance classes per access, against up to 1023
    // sharers per access for a scan.
    EXPECT_LE(cm.scan_words() - before, static_cast<std::uint64_t>(kCpus + 1) * 6 * 16) << round;
  }
}

TEST(CostCliffs, PageTableFramesCountEveryLevelTheRangeTouches) {
  constexpr unsigned long kBase = PerCpuMms::kBase;  // 4 GiB: 1 GiB and 2 MiB aligned
  EXPECT_EQ(page_table_frames(kBase, PAGE_SIZE), 4u);          // pgd, pud, pmd, pte
  EXPECT_EQ(page_table_frames(kBase, 512 * PAGE_SIZE), 4u);
  EXPECT_EQ(page_table_frames(kBase, 513 * PAGE_SIZE), 5u);    // a second pte table
  EXPECT_EQ(page_table_frames(kBase - PAGE_SIZE, 2 * PAGE_SIZE), 6u);  // crosses a 1 GiB line
  EXPECT_EQ(page_table_frames(kBase, (1UL << 20) * PAGE_SIZE), 1u + 1 + 4 + 2048);
}

TEST(CostCliffs, MmWorkloadsHaveFramesForTheirPageTables) {
  // fault-file and mmap-munmap once reserved 16 frames per task and 1024 for page tables
  // whatever the window size: from a few thousand pages per window the tables did not
  // fit, and every access took a failing fault through every node's allocator.
  for (const bool threads : {false, true})
    for (const int cpus : {1, 8, 64, 1024})
      for (const unsigned long pages : {1UL, 256UL, 6000UL, 65536UL, 1UL << 20}) {
        const PerCpuMms mms(threads);
        const unsigned long tables = mms.table_frames(cpus, pages);
        const auto tasks = static_cast<unsigned long>(cpus);
        EXPECT_GE(mm_frames(pages, tasks, tables) - pages, tables + tasks)
            << cpus << " cpus, " << pages << " pages, threads " << threads;
      }
  // Where the old reserve was enough (the default windows), the frame count is unchanged,
  // and so are the runs' digests.
  EXPECT_EQ(mm_frames(256, 8, PerCpuMms(false).table_frames(8, 256)), 256u + 8 * 16 + 1024);
  EXPECT_EQ(mm_frames(64, 1024, PerCpuMms(true).table_frames(1024, 64)), 64u + 1024 * 16 + 1024);
}

}  // namespace
}  // namespace smpemu
