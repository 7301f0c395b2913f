#include <gtest/gtest.h>

#include "cli/runner.h"

using namespace smpemu;

TEST(Smoke, SpinlockRuns) {
  RunConfig cfg;
  cfg.workload = "spinlock-contention";
  cfg.params.cpus = 4;
  cfg.set["duration"] = "200000";
  RunResult r = run_once(cfg);
  EXPECT_TRUE(r.bugs.empty());
  EXPECT_GT(r.metrics["acquisitions"], 10);
}
