// Regressions found while building the engine, each pinned by a test.
#include <gtest/gtest.h>

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
