// Bug reports in the kernel's shapes, with call paths and both sides, and fuzz
// signatures that group what a developer would call one bug.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cli/record.h"
#include "cli/report.h"
#include "test_util.h"

using namespace smpemu;

namespace {

RunResult run(const std::string& workload, std::map<std::string, std::string> set, std::uint64_t seed = 1,
              int cpus = 4, const std::string& strategy = "time") {
  RunConfig cfg;
  cfg.workload = workload;
  cfg.params.cpus = cpus;
  cfg.params.seed = seed;
  cfg.params.strategy = strategy;
  cfg.set = std::move(set);
  return run_once(cfg, nullptr);
}

const BugReport* find(const RunResult& r, const std::string& check) {
  for (const auto& b : r.bugs)
    if (b.check == check) return &b;
  return nullptr;
}

/// Checks that `text` holds each of `parts` in order.
void expect_in_order(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t at = 0;
  for (const auto& p : parts) {
    const std::size_t found = text.find(p, at);
    ASSERT_NE(found, std::string::npos) << "missing (in order) '" << p << "' in:\n" << text;
    at = found + p.size();
  }
}

}  // namespace

TEST(BugReport, LockOrderReadsLikeLockdep) {
  const RunResult r = run("abba", {});
  const BugReport* b = find(r, "lock-order");
  ASSERT_NE(b, nullptr);
  expect_in_order(b->details, {
                                  "WARNING: possible circular locking dependency detected",
                                  "ba/", " is trying to acquire lock:",
                                  " abba_A#1 (abba_A), at: workloads/abba.cc:", " take <- body",
                                  "but task is already holding lock:",
                                  " abba_B#1 (abba_B), at: workloads/abba.cc:",
                                  "which lock already depends on the new lock.",
                                  "the existing dependency chain (in reverse order) is:",
                                  "-> #1 (abba_B):", "taken while holding abba_A by task ab/", " on CPU 0 at cycle ",
                                  "workloads/abba.cc:", "take <- body",
                                  "-> #0 (abba_A):", "taken while holding abba_B by task ba/",
                                  "Possible unsafe locking scenario:",
                                  "CPU0", "CPU1", "lock(abba_B);", "lock(abba_A);", "lock(abba_B);", "lock(abba_A);",
                                  "*** DEADLOCK ***",
                                  "1 lock held by ba/", " #0: abba_B#1 (abba_B){mutex}, at: workloads/abba.cc:",
                                  "last ", " events of ", "lock_acquired abba_B#1",
                              });
  EXPECT_EQ(bug_signature(*b), "lock-order: circular abba_A abba_B");
  // The report comes before the run's summary in the text output.
  const std::string text = to_text(r);
  EXPECT_LT(text.find("WARNING: possible circular"), text.find("digest "));
}

TEST(BugReport, AbbaIsTwoSignaturesWhicheverSideDetectsIt) {
  std::set<std::string> sigs;
  std::set<std::string> detectors;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const RunResult r = run("abba", {{"think", "200"}, {"cs", "2000"}}, seed, 2, "random");
    for (const auto& b : r.bugs) {
      sigs.insert(bug_signature(b));
      if (b.check == "lock-order") detectors.insert(b.task);
    }
  }
  EXPECT_EQ(sigs, (std::set<std::string>{"lock-order: circular abba_A abba_B", "deadlock: abba_A abba_B"}));
  EXPECT_EQ(detectors.size(), 2u) << "both tasks should detect the inversion on some seed";
}

TEST(BugReport, UseAfterFreeHasBothSides) {
  const RunResult r = run("rcu-readers", {{"free", "immediate"}, {"updates", "20"}, {"interval", "500"}});
  const BugReport* b = find(r, "use-after-free");
  ASSERT_NE(b, nullptr);
  expect_in_order(b->details, {"BUG: KASAN: use-after-free in ", "Access to rcu-obj #", "by task rcu-reader/",
                               "workloads/rcu_readers.cc:", "Freed by task rcu-writer/", " on CPU 0 at cycle ",
                               "workloads/rcu_readers.cc:", "The buggy address belongs to rcu-obj #"});
  EXPECT_EQ(bug_signature(*b).rfind("use-after-free: workloads/rcu_readers.cc:", 0), 0u) << bug_signature(*b);
}

TEST(BugReport, HistoryNeverChangesTheDigest) {
  for (const char* w : {"abba", "rcu-readers", "truncate-latency"}) {
    RunConfig cfg;
    cfg.workload = w;
    cfg.params.cpus = 4;
    cfg.params.history = true;
    const RunResult on = run_once(cfg, nullptr);
    cfg.params.history = false;
    const RunResult off = run_once(cfg, nullptr);
    EXPECT_EQ(on.stats.digest, off.stats.digest) << w;
    EXPECT_EQ(on.bugs.size(), off.bugs.size()) << w;
  }
}

TEST(BugReport, HistoryOffKeepsTheBugAndTheDigestAndDropsTheOtherSides) {
  using smpemu::testing::run_smpemu;
  const std::string args = "run truncate-latency --seed 195 --strategy pct:3:3000000 --set fault_recheck=off --json";
  const auto on = run_smpemu(args);
  const auto off = run_smpemu(args + " --history off");
  ASSERT_EQ(on.status, 1) << on.err;
  ASSERT_EQ(off.status, 1) << off.err;
  const auto jon = nlohmann::json::parse(on.out), joff = nlohmann::json::parse(off.out);
  EXPECT_EQ(jon["digest"], joff["digest"]);
  EXPECT_EQ(jon["history"], true);
  EXPECT_EQ(joff["history"], false);
  const std::string don = jon["bugs"][0]["details"], doff = joff["bugs"][0]["details"];
  // A COW copy of the racing fault's pte: the report follows it back to that fault.
  EXPECT_NE(don.find("It is the COW copy of a pte installed by task"), std::string::npos) << don;
  EXPECT_NE(don.find("That fault read i_size"), std::string::npos) << don;
  EXPECT_EQ(doff.find("fault read i_size"), std::string::npos) << doff;
  EXPECT_NE(doff.find("was installed (not recorded: history off or overwritten)"), std::string::npos) << doff;
  EXPECT_NE(joff["bugs"][0]["repro"].get<std::string>().find("--history off"), std::string::npos);
  const auto bad = run_smpemu("run abba --history maybe");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--history"), std::string::npos) << bad.err;
}
