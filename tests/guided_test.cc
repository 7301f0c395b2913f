// Coverage-guided campaigns (cli/guided.h, `fuzz --strategy cov --record DIR`) and the
// decision-log mutations they use (emu/log_mutation.h): edits keep a log valid and are
// a function of the random stream; a campaign is the same with any --jobs, mutates from
// its second generation on, writes records that replay what it found, and refuses what
// it cannot honour (sharding, no --record, `run --strategy cov`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unistd.h>

#include "emu/log_mutation.h"
#include "json_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::make_temp_dir;
using smpemu::testing::run_smpemu;
using smpemu::testing::without_timing;
using json = nlohmann::json;

namespace {

bool valid(const DecisionLog& log, int ncpus) {
  for (std::size_t i = 0; i < log.entries.size(); ++i) {
    if (log.entries[i].cpu < 0 || log.entries[i].cpu >= ncpus) return false;
    if (i > 0 && log.entries[i - 1].step >= log.entries[i].step) return false;
  }
  return true;
}



}  // namespace

TEST(LogMutation, EditsKeepTheLogValidAndFollowTheStream) {
  DecisionLog parent;
  for (std::uint64_t s = 0; s < 40; s += 3) parent.entries.push_back({s, static_cast<CpuId>(s % 4)});
  std::set<LogEdit> seen;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    Rng a(seed, "cov"), b(seed, "cov");
    DecisionLog x = parent, y = parent;
    const LogEdit e = mutate_once(x, 40, 4, a);
    EXPECT_EQ(mutate_once(y, 40, 4, b), e);
    EXPECT_EQ(x.entries, y.entries) << "the same stream gives the same edit";
    EXPECT_TRUE(valid(x, 4)) << "seed " << seed;
    seen.insert(e);
    switch (e) {
      case LogEdit::Flip: {
        ASSERT_EQ(x.size(), parent.size());
        int changed = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          EXPECT_EQ(x.entries[i].step, parent.entries[i].step);
          changed += x.entries[i].cpu != parent.entries[i].cpu;
        }
        EXPECT_EQ(changed, 1) << "a flip names another CPU at one step";
        break;
      }
      case LogEdit::Insert: EXPECT_GE(x.size(), parent.size()); break;  // or replaced a step's CPU
      case LogEdit::Delete: EXPECT_EQ(x.size(), parent.size() - 1); break;
      case LogEdit::Truncate: EXPECT_LT(x.size(), parent.size()); break;
    }
    DecisionLog many = mutate_decisions(parent, 40, 4, a, 4);
    EXPECT_TRUE(valid(many, 4));
  }
  EXPECT_EQ(seen.size(), 4u) << "every kind of edit happens";
  // An empty log can only grow; one CPU cannot be flipped to another.
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Rng r(seed, "cov");
    DecisionLog empty;
    EXPECT_EQ(mutate_once(empty, 10, 4, r), LogEdit::Insert);
    EXPECT_EQ(empty.size(), 1u);
    DecisionLog one;
    for (std::uint64_t s = 0; s < 40; s += 3) one.entries.push_back({s, 0});
    EXPECT_NE(mutate_once(one, 40, 1, r), LogEdit::Flip);
    EXPECT_TRUE(valid(one, 1));
  }
}

TEST(GuidedCli, CampaignIsTheSameWithAnyJobsAndMutatesAfterItsFirstGeneration) {
  const std::string dir = make_temp_dir("guided");
  const std::string fuzz = "fuzz suite-wsq --runs 300 --strategy cov --record " + dir + " --json";
  const Exec one = run_smpemu(fuzz + " --jobs 1");
  const Exec two = run_smpemu(fuzz + " --jobs 2");
  ASSERT_EQ(one.status, 1) << one.err;
  const json j = json::parse(one.out);
  EXPECT_EQ(without_timing(j), without_timing(json::parse(two.out)));
  EXPECT_EQ(j["strategy"], "cov:pos");
  EXPECT_EQ(j["settings"]["coverage"], "on");
  const json& g = j["guided"];
  EXPECT_EQ(g["generation"], 64u);
  EXPECT_EQ(g["fresh_runs"].get<std::uint64_t>() + g["mutated_runs"].get<std::uint64_t>(), 300u);
  EXPECT_GE(g["fresh_runs"].get<std::uint64_t>(), 64u) << "the whole first generation is fresh";
  EXPECT_GT(g["mutated_runs"].get<std::uint64_t>(), 150u) << "about 3/4 of the later runs mutate";
  EXPECT_GT(g["corpus"].get<std::uint64_t>(), 0u);
  EXPECT_GT(j["coverage"]["pairs"].get<std::uint64_t>(), 1u);
  // One generation: nothing to mutate yet.
  const json first = json::parse(run_smpemu("fuzz suite-wsq --runs 64 --strategy cov --record " + dir + " --json").out);
  EXPECT_EQ(first["guided"]["mutated_runs"], 0u);

  // Every signature's first seed is a record that replays the same run and the bug.
  ASSERT_FALSE(j["signatures"].empty());
  for (const json& s : j["signatures"]) {
    EXPECT_EQ(s["strategy"], "cov:pos");
    const std::string record = s["record"];
    EXPECT_EQ(s["repro"].get<std::string>().substr(s["repro"].get<std::string>().find(' ') + 1), "replay " + record);
    const Exec r = run_smpemu("replay " + record + " --json");
    EXPECT_EQ(r.status, 1) << r.err;
    const json rj = json::parse(r.out);
    EXPECT_TRUE(rj["replay"]["digest_match"].get<bool>()) << r.out;
    EXPECT_EQ(rj["replay"]["ignored"], 0u) << "the record holds the decisions the run took";
  }
  // merge takes the result as it is, and checks what it says of its runs.
  std::ofstream(dir + "/all.json") << one.out;
  const Exec m = run_smpemu("merge " + dir + "/all.json --json");
  ASSERT_EQ(m.status, 1) << m.err;
  json a = without_timing(j), b = without_timing(json::parse(m.out));
  EXPECT_EQ(a, b);
  json bad = j;
  bad["guided"]["fresh_runs"] = g["fresh_runs"].get<std::uint64_t>() + 1;
  std::ofstream(dir + "/bad.json") << bad.dump();
  expect_usage_error("merge " + dir + "/bad.json", "guided.fresh_runs + guided.mutated_runs is not runs 300");
  json gone = j;
  gone.erase("guided");
  std::ofstream(dir + "/gone.json") << gone.dump();
  expect_usage_error("merge " + dir + "/gone.json", "guided missing with a cov strategy");

  // --stop-on-first: every seed up to the first failing one, and not one more.
  const json stop =
      json::parse(run_smpemu("fuzz suite-wsq --runs 300 --strategy cov --stop-on-first --record " + dir + " --json").out);
  EXPECT_EQ(stop["runs"], stop["first_bug_run"]);
  EXPECT_EQ(stop["first_bug_run"], j["first_bug_run"]);
  std::filesystem::remove_all(dir);
}

TEST(GuidedCli, WhatItCannotHonourIsRefused) {
  expect_usage_error("fuzz suite-wsq --strategy cov", "needs --record DIR");
  expect_usage_error("fuzz suite-wsq --strategy cov --record /tmp/x --coverage off",
                     "--coverage off: --strategy cov steers by interleaving coverage");
  expect_usage_error("fuzz suite-wsq --strategy cov --record /tmp/x --shard 1/2", "cannot be sharded");
  expect_usage_error("fuzz suite-wsq --strategy cov:portfolio --record /tmp/x", "bad strategy 'cov:portfolio'");
  expect_usage_error("fuzz suite-wsq --strategy cov:cov --record /tmp/x", "bad strategy 'cov:cov'");
  expect_usage_error("fuzz suite-wsq --strategy cov:fifo --record /tmp/x", "bad strategy 'cov:fifo'");
  expect_usage_error("run suite-wsq --strategy cov", "is a campaign of `smpemu fuzz`");
  expect_usage_error("compare suite-wsq --a strategy=cov --b strategy=pos", "is a campaign of `smpemu fuzz`");
}

TEST(GuidedCli, BaseStrategyWithStepsIsResolvedFromThePilot) {
  const std::string dir = make_temp_dir("guided-pct");
  const Exec e = run_smpemu("fuzz suite-account --runs 100 --strategy cov:pct:2 --record " + dir + " --json");
  ASSERT_LE(e.status, 1) << e.err;
  const std::string strategy = json::parse(e.out)["strategy"];
  EXPECT_EQ(strategy.rfind("cov:pct:2:", 0), 0u) << strategy;
  std::filesystem::remove_all(dir);
}
