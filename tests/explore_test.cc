// Bounded exhaustive exploration (cli/explore.h, `smpemu explore`): the correct abba
// variant is clean in every schedule up to the bound, with a schedule count that grows
// with it; the abba deadlock is found and its record replays to the same deadlock; the
// output is deterministic; --max-schedules makes a result incomplete; bad input is one
// line and exit 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/explore.h"
#include "cli/record.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::run_smpemu;

namespace {

/// The small abba of the explore docs: 2 CPUs, one round each, no pause.
RunConfig small_abba(const std::string& order) {
  RunConfig cfg;
  cfg.workload = "abba";
  cfg.params.cpus = 2;
  cfg.params.max_cycles = 20000000000ULL;
  cfg.set = {{"iterations", "1"}, {"think", "0"}, {"order", order}};
  return cfg;
}

ExploreResult explore(const RunConfig& cfg, std::uint64_t c, std::uint64_t max = 100000,
                      std::set<std::string> ignore = {}, bool prune = true) {
  ExploreOptions o;
  o.base = cfg;
  o.preemptions = c;
  o.max_schedules = max;
  o.prune = prune;
  o.base.checks.ignore.assign(ignore.begin(), ignore.end());
  return run_explore(o);
}

/// A bug-suite program (docs/BUGSUITE.md) whose reports all go uncounted, so that
/// exploration runs every schedule within the bound.
RunConfig suite_all_schedules(const std::string& name) {
  RunConfig cfg;
  cfg.workload = name;
  cfg.checks.only = {"nothing-counts"};
  return cfg;
}

const char* const kSmall = "abba --cpus 2 --set iterations=1 --set think=0";

}  // namespace

TEST(ExploreAbba, OrderKnobRemovesTheInversion) {
  const RunResult inverted = run_once(small_abba("abba"));
  const RunResult same = run_once(small_abba("same"));
  ASSERT_FALSE(inverted.bugs.empty());
  EXPECT_EQ(inverted.bugs.front().check, "lock-order");
  EXPECT_TRUE(same.bugs.empty()) << same.bugs.front().message;
  EXPECT_NE(inverted.stats.digest, same.stats.digest);
}

TEST(Explore, CorrectAbbaIsCleanUpToTwoPreemptionsAndCountsGrowWithTheBound) {
  std::uint64_t last = 0;
  for (std::uint64_t c = 0; c <= 2; ++c) {
    const ExploreResult r = explore(small_abba("same"), c);
    EXPECT_TRUE(r.complete) << "C=" << c;
    EXPECT_FALSE(r.bug) << "C=" << c << ": " << r.bug->run.bugs.front().message;
    EXPECT_EQ(r.preemptions, c);
    if (c == 0)
      EXPECT_EQ(r.schedules, 1u);  // no free choice is ever open: one schedule
    else
      EXPECT_GT(r.schedules, last) << "C=" << c;
    last = r.schedules;
  }
}

TEST(Explore, FindsTheAbbaDeadlockAndItsRecordReplaysToIt) {
  const ExploreResult r = explore(small_abba("abba"), 2, 100000, {"lock-order"});
  ASSERT_TRUE(r.bug);
  EXPECT_FALSE(r.complete);
  // abba's mutexes: the wait-for cycle is a fatal `deadlock` report when the second
  // task is about to sleep, before the machine runs out of work.
  EXPECT_EQ(r.bug->run.stats.end, EndReason::FatalBug);
  EXPECT_EQ(r.bug->run.bugs.front().check, "deadlock");
  EXPECT_LE(r.bug->preemptions, 2u);
  const ReplayResult p = replay_record(r.bug->record);
  EXPECT_TRUE(p.digest_match);
  EXPECT_FALSE(p.edited);
  EXPECT_EQ(p.run.stats.end, r.bug->run.stats.end);
  EXPECT_EQ(p.ignored, 0u);
  EXPECT_EQ(p.followed.entries, r.bug->record.decisions.entries);
}

TEST(Explore, CommandReportsTheDeadlockWithARecordThatReplays) {
  const std::string dir = smpemu::testing::make_temp_dir("explore");
  const std::string rec = dir + "/dl.rec";
  const Exec e =
      run_smpemu(std::string("explore ") + kSmall + " --preemptions 2 --ignore-check lock-order --record " + rec);
  EXPECT_EQ(e.status, 1) << e.err;
  EXPECT_NE(e.out.find("explore abba: bug in schedule "), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("BUG [fatal] deadlock"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("repro: smpemu replay " + rec), std::string::npos) << e.out;
  const Exec replay = run_smpemu("replay " + rec);
  EXPECT_EQ(replay.status, 1) << replay.err;
  EXPECT_NE(replay.out.find("BUG [fatal] deadlock"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("(match)"), std::string::npos) << replay.out;
}

TEST(Explore, CommandSaysAllSchedulesWereExploredAndIsDeterministic) {
  const std::string args = std::string("explore ") + kSmall + " --set order=same --preemptions 1";
  const Exec text = run_smpemu(args);
  EXPECT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("explore abba: all "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" schedules with <= 1 preemptions explored, no bug\n"), std::string::npos) << text.out;
  EXPECT_EQ(run_smpemu(args).out, text.out);

  const Exec a = run_smpemu(args + " --json");
  const Exec b = run_smpemu(args + " --json");
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["schedules"], explore(small_abba("same"), 1).schedules);
  EXPECT_EQ(j["preemptions"], 1);
  EXPECT_EQ(j["complete"], true);
  EXPECT_TRUE(j["bugs"].empty());
  EXPECT_TRUE(j["record"].is_null());
}

TEST(Explore, MaxSchedulesMakesTheResultIncomplete) {
  const ExploreResult r = explore(small_abba("same"), 2, 3);
  EXPECT_EQ(r.schedules, 3u);
  EXPECT_FALSE(r.complete);
  const Exec e = run_smpemu(std::string("explore ") + kSmall + " --set order=same --preemptions 2 --max-schedules 3");
  EXPECT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("3 schedules with <= 2 preemptions explored, no bug; stopped at --max-schedules 3, not "
                       "complete"),
            std::string::npos)
      << e.out;
  const auto j = nlohmann::json::parse(run_smpemu(std::string("explore ") + kSmall +
                                                  " --set order=same --preemptions 2 --max-schedules 3 --json")
                                           .out);
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["schedules"], 3);
}

TEST(Explore, BadInputIsOneLineAndExit2) {
  expect_usage_error("explore abba", "--preemptions");
  expect_usage_error("explore abba --preemptions x", "--preemptions: malformed number 'x'");
  expect_usage_error("explore abba --preemptions 65", "--preemptions: 65 is past its bound 64");
  expect_usage_error("explore abba --preemptions 1 --max-schedules 0", "--max-schedules");
  expect_usage_error("explore nosuch --preemptions 1", "nosuch");
  expect_usage_error("explore abba --preemptions 1 --set order=both", "order");
  expect_usage_error("explore abba --preemptions 1 --strategy random", "--strategy");
  expect_usage_error("explore abba --preemptions 1 --ignore-check ''", "--ignore-check");
  expect_usage_error("explore abba --preemptions 1 --prune sleep", "--prune");
}

// Happens-before caching is sound: over complete explorations of clean and buggy small
// programs (their reports uncounted), the pruned search reaches exactly the
// happens-before orders of whole runs that the unpruned one reaches, with fewer runs.
TEST(Explore, PruningKeepsEveryHappensBeforeOrderWithFewerRuns) {
  struct Case {
    RunConfig cfg;
    std::uint64_t c;
  };
  RunConfig inverted = small_abba("abba");
  inverted.checks.only = {"nothing-counts"};
  // The suite's programs block often: even without preemptions they have thousands of
  // schedules (free switches at blocking points).
  const std::vector<Case> cases = {
      {small_abba("same"), 2},
      {small_abba("same"), 3},
      {inverted, 2},
      {suite_all_schedules("suite-account"), 0},
      {suite_all_schedules("suite-stack"), 0},
      {suite_all_schedules("suite-wsq"), 0},
      {suite_all_schedules("suite-lost-wakeup"), 0},
  };
  std::uint64_t saved = 0;
  for (const Case& k : cases) {
    const std::string what = k.cfg.workload + " C=" + std::to_string(k.c);
    const ExploreResult all = explore(k.cfg, k.c, 100000, {}, false);
    const ExploreResult pruned = explore(k.cfg, k.c, 100000, {}, true);
    ASSERT_TRUE(all.complete && pruned.complete) << what;
    EXPECT_FALSE(all.pruning) << what;
    EXPECT_TRUE(pruned.pruning) << what;
    EXPECT_EQ(all.cut, 0u) << what;
    EXPECT_FALSE(all.classes.empty()) << what;
    EXPECT_EQ(pruned.classes, all.classes) << what << ": a happens-before order was lost";
    EXPECT_LE(pruned.schedules, all.schedules) << what;
    saved += all.schedules - pruned.schedules;
  }
  EXPECT_GT(saved, 1000u) << "pruning should save runs";
}

// The bugs exploration found without pruning it finds with it, in no more runs.
TEST(Explore, PruningFindsTheSameBugsSooner) {
  for (const char* w : {"suite-stack", "suite-philosophers3", "suite-reorder-3"}) {
    RunConfig cfg;
    cfg.workload = w;
    const ExploreResult all = explore(cfg, 2, 100000, {}, false);
    const ExploreResult pruned = explore(cfg, 2, 100000, {}, true);
    ASSERT_TRUE(all.bug && pruned.bug) << w;
    EXPECT_EQ(all.bug->run.bugs.front().check, pruned.bug->run.bugs.front().check) << w;
    EXPECT_LE(pruned.schedules, all.schedules) << w;
  }
  const ExploreResult abba = explore(small_abba("abba"), 2, 100000, {"lock-order"});
  ASSERT_TRUE(abba.bug);
  EXPECT_EQ(abba.bug->run.bugs.front().check, "deadlock");
}

// Jitter draws from one stream in access order: fingerprints would not identify states,
// so pruning (and the happens-before classes) are off, and every schedule runs.
TEST(Explore, JitterTurnsPruningOff) {
  RunConfig cfg = small_abba("same");
  cfg.params.jitter_pct = 5;
  const ExploreResult r = explore(cfg, 2);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.pruning);
  EXPECT_TRUE(r.classes.empty());
  EXPECT_EQ(r.schedules, explore(small_abba("same"), 2, 100000, {}, false).schedules);
}
