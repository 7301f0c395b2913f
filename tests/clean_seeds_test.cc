// The correct variants must run thousands of seeds without a single report, under
// every strategy: a checker that cries wolf is as useless as one that never fires.
#include <gtest/gtest.h>

#include "test_util.h"

using namespace smpemu;

namespace {

void expect_clean(RunConfig cfg, int seeds, const std::vector<std::string>& strategies) {
  StackPool pool;
  int runs = 0;
  for (const auto& strategy : strategies) {
    cfg.params.strategy = strategy;
    for (int seed = 1; seed <= seeds; ++seed) {
      cfg.params.seed = static_cast<std::uint64_t>(seed);
      const RunResult r = run_once(cfg, &pool);
      ASSERT_TRUE(r.bugs.empty()) << cfg.workload << " " << strategy << " seed " << seed << ": "
                                  << r.bugs.front().check << ": " << r.bugs.front().message;
      ASSERT_EQ(r.stats.end, EndReason::Completed) << strategy << " seed " << seed;
      ++runs;
    }
  }
  EXPECT_EQ(runs, seeds * static_cast<int>(strategies.size()));
}

}  // namespace

TEST(CleanSeeds, RcuReadersCallRcuAndSynchronize) {
  for (const char* mode : {"call_rcu", "synchronize"}) {
    RunConfig cfg;
    cfg.workload = "rcu-readers";
    cfg.params.cpus = 4;
    cfg.set = {{"free", mode}, {"updates", "5"}, {"interval", "3000"}};
    for (RcuFlavor f : {RcuFlavor::Sched, RcuFlavor::Preempt}) {
      cfg.params.rcu = f;
      expect_clean(cfg, 1000, {"time", "random", "pct:3:2000"});
    }
  }
}

TEST(CleanSeeds, SpinlockContentionAllLocks) {
  RunConfig cfg;
  cfg.workload = "spinlock-contention";
  cfg.params.cpus = 3;
  for (const char* lock : {"tas", "ticket", "mcs"}) {
    cfg.set = {{"lock", lock}, {"duration", "30000"}};
    expect_clean(cfg, 1000, {"time", "random", "pct:2:500"});
  }
}
