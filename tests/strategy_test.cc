// The strategy table (emu/strategy.h) and the strategies added to it after time, random
// and pct: pos (partial order sampling) and delay:B[:K] (delay bounding over time).
// Each spec parses and prints back, malformed ones are one-line errors (exit 2 through
// the CLI), runs are deterministic per seed, differ from time, replay exactly from a
// record (tests/record_test.cc), and find abba's deadlock; delay:0 is time.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>

#include "emu/limits.h"
#include "emu/strategy.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::abba_config;
using smpemu::testing::expect_usage_error;
using smpemu::testing::Exec;
using smpemu::testing::run_smpemu;
using smpemu::testing::spin_config;
using json = nlohmann::json;

namespace {

std::uint64_t digest_of(RunConfig cfg, const std::string& strategy, StackPool* pool = nullptr) {
  cfg.params.strategy = strategy;
  return run_once(cfg, pool).stats.digest;
}

}  // namespace

TEST(StrategyTable, SpecsPrintBackAndDocsListEveryStrategy) {
  EXPECT_EQ(make_strategy("pos", 4, 1)->spec(), "pos");
  EXPECT_EQ(make_strategy("pos:100000", 4, 1)->spec(), "pos");  // the default W
  EXPECT_EQ(make_strategy("pos:5000", 4, 1)->spec(), "pos:5000");
  EXPECT_EQ(make_strategy("delay:2", 4, 1)->spec(), "delay:2:100000");
  EXPECT_EQ(make_strategy("delay:0:5", 4, 1)->spec(), "delay:0:5");
  std::set<std::string> names;
  for (const auto& [name, doc] : strategy_docs()) {
    names.insert(name);
    EXPECT_FALSE(doc.empty()) << name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"time", "random", "pct:D[:K[:W]]", "pos[:W]", "delay:B[:K]", "portfolio[:S,S,...]"}));
}

TEST(StrategyTable, MalformedSpecsAreOneLineErrors) {
  for (const char* bad : {"pos:", "pos:0", "pos:1:2", "pos:1000000001", "posx", "delay", "delay:", "delay:x", "delay:1001", "delay:1:0",
                          "delay:1:", "delay:1:2:3", "time:1", "random:"})
    EXPECT_THROW(make_strategy(bad, 4, 1), std::invalid_argument) << "'" << bad << "'";
  try {
    make_strategy("fifo", 4, 1);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown strategy 'fifo' (expected time, random, pct:D[:K[:W]], pos[:W], delay:B[:K] or portfolio[:S,S,...])");
  }
  try {
    make_strategy("delay:x", 4, 1);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "bad strategy 'delay:x': expected delay:B[:K] with 0 <= B <= 1000, 1 <= K <= " +
                                         std::to_string(limits::kPctSteps));
  }
  expect_usage_error("run abba --strategy pos:x", "bad strategy 'pos:x': expected pos");
  expect_usage_error("run abba --strategy delay:x", "bad strategy 'delay:x'");
  expect_usage_error("run abba --strategy delay:2:0", "bad strategy 'delay:2:0'");
}

TEST(StrategyTable, StepsAreWantedWhereKIsLeftOut) {
  EXPECT_TRUE(strategy_wants_steps("pct:3"));
  EXPECT_TRUE(strategy_wants_steps("delay:2"));
  EXPECT_TRUE(strategy_wants_steps("delay:0"));
  for (const char* s : {"time", "random", "pos", "pct:3:100", "pct:3:100:5", "delay:2:50", "delay:x", "pct:0", "nosuch"})
    EXPECT_FALSE(strategy_wants_steps(s)) << s;
  EXPECT_EQ(strategy_with_steps("pct:3", 5000), "pct:3:5000");
  EXPECT_EQ(strategy_with_steps("delay:2", 77), "delay:2:77");
  EXPECT_EQ(strategy_with_steps("delay:2:9", 77), "delay:2:9");
  EXPECT_EQ(strategy_with_steps("pos", 77), "pos");
}

TEST(StrategyTable, ListShowsTheNewStrategies) {
  const auto e = run_smpemu("list");
  ASSERT_EQ(e.status, 0) << e.err;
  for (const char* s : {"pos[:W] ", "delay:B[:K]", "POS:", "delay bounding"}) EXPECT_NE(e.out.find(s), std::string::npos) << s;
}

TEST(StrategyTable, DelayZeroIsTime) {
  StackPool pool;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const RunConfig cfg = spin_config(4 + static_cast<int>(seed % 3), seed, "ticket", "100000");
    const std::uint64_t time = digest_of(cfg, "time", &pool);
    EXPECT_EQ(digest_of(cfg, "delay:0", &pool), time) << seed;
    EXPECT_EQ(digest_of(cfg, "delay:0:10", &pool), time) << seed;
    EXPECT_EQ(digest_of(abba_config(seed, "time"), "delay:0", &pool), digest_of(abba_config(seed, "time"), "time", &pool));
  }
}

TEST(StrategyTable, NewStrategiesAreDeterministicAndDifferFromTime) {
  StackPool pool;
  for (const char* strategy : {"pos", "delay:3:2000", "delay:1:300"}) {
    std::set<std::uint64_t> distinct;
    int differ = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      const RunConfig cfg = spin_config(6, seed, "mcs", "100000");
      const std::uint64_t a = digest_of(cfg, strategy, &pool);
      ASSERT_EQ(a, digest_of(cfg, strategy, &pool)) << strategy << " seed " << seed;
      distinct.insert(a);
      differ += a != digest_of(cfg, "time", &pool) ? 1 : 0;
    }
    EXPECT_EQ(distinct.size(), 12u) << strategy;
    EXPECT_GT(differ, 0) << strategy;
  }
}

// POS's starvation bound, found by a 100,000-run default campaign of rcu-readers: the
// writer's pending step (a barrier) names no line, so its one low priority was never
// redrawn while seven readers polling `done` redrew theirs at every step; it never ran
// again and the run ended as a livelock (4 of 25,000 pos seeds). With W as large as
// allowed (1e9 cycles) the bound acts only after the 200 ms livelock limit used here, and
// seed 11213 livelocks; with the default W it completes.
TEST(StrategyTable, PosDoesNotStarveACpuWhoseStepNamesNoLine) {
  const std::string seeds = " --runs 20 --seed-base 11200 --jobs 2 --livelock-ms 200 --json";
  const Exec unbounded = run_smpemu("fuzz rcu-readers --strategy pos:1000000000" + seeds);
  ASSERT_EQ(unbounded.status, 1) << unbounded.err;
  EXPECT_NE(unbounded.out.find("\"livelock\""), std::string::npos) << unbounded.out;
  const Exec bounded = run_smpemu("fuzz rcu-readers --strategy pos" + seeds);
  EXPECT_EQ(bounded.status, 0) << bounded.out;
  const Exec one = run_smpemu("run rcu-readers --seed 11213 --strategy pos --json");
  EXPECT_EQ(one.status, 0) << one.out;
}

TEST(StrategyTable, PosStepsAreLogarithmicInTheCpuCount) {
  constexpr int kCpus = 1024;
  constexpr int kPicks = 20000;
  auto s = make_strategy("pos", kCpus, 7);
  for (CpuId c = 1; c < kCpus; ++c) {
    s->note_pending(c, static_cast<LineId>(c % 64), c % 3 == 0);
    s->add(c, static_cast<Cycles>(c));
  }
  const std::uint64_t before = s->scan_steps();
  CpuId cur = 0;
  Cycles t = 0;
  for (int i = 0; i < kPicks; ++i) {
    t += 97;
    s->note_pending(cur, static_cast<LineId>(i % 64), i % 5 == 0);
    cur = s->pick(cur, t);
  }
  // Two trees of 11 levels (an update of each for the CPU leaving and the one joining,
  // a search) plus the racers: 1024 CPUs over 64 lines, a third of them writers, are
  // about 5 writers a line, 16 pending operations when a write runs.
  const double per_pick = static_cast<double>(s->scan_steps() - before) / kPicks;
  EXPECT_LE(per_pick, 6 * 12 + 16);
}

TEST(StrategyCli, PosFindsTheAbbaDeadlock) {
  const auto e = run_smpemu("fuzz abba --runs 2000 --jobs 2 --strategy pos --json");
  ASSERT_EQ(e.status, 1) << e.err;
  const json j = json::parse(e.out);
  bool deadlock = false;
  for (const auto& s : j["signatures"]) deadlock = deadlock || s["check"] == "deadlock";
  EXPECT_TRUE(deadlock) << e.out;
}
