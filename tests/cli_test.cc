// The command-line contract (shared/DESIGN.md): exit codes, one-line errors, JSON keys,
// and the same command printing the same digest.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::run_smpemu;

TEST(Cli, BadInputExitsTwoWithOneLine) {
  expect_usage_error("run no-such-workload", "unknown workload 'no-such-workload'");
  expect_usage_error("run spinlock-contention --set nosuch=1", "unknown knob 'nosuch'");
  expect_usage_error("run spinlock-contention --set lock=rwsem", "bad value 'rwsem' for knob lock");
  expect_usage_error("run spinlock-contention --set cs=-5", "bad value '-5' for knob cs");
  expect_usage_error("run spinlock-contention --set cs=12abc", "bad value '12abc'");
  expect_usage_error("run spinlock-contention --set lock", "expected KEY=VALUE");
  expect_usage_error("run spinlock-contention --cpus 0", "impossible CPU count 0");
  expect_usage_error("run spinlock-contention --cpus 1025", "impossible CPU count 1025");
  expect_usage_error("run spinlock-contention --cpus many", "impossible CPU count many");
  expect_usage_error("run spinlock-contention --seed -1", "bad --seed '-1'");
  expect_usage_error("run spinlock-contention --machine vax", "unknown machine 'vax'");
  expect_usage_error("run spinlock-contention --strategy fifo", "unknown strategy 'fifo'");
  expect_usage_error("run spinlock-contention --strategy pct:0", "bad strategy 'pct:0'");
  expect_usage_error("run spinlock-contention --preempt sometimes", "unknown preemption model");
  expect_usage_error("run spinlock-contention --jitter 101", "bad --jitter");
  expect_usage_error("run abba --mutex-spin maybe", "bad --mutex-spin 'maybe'");
  expect_usage_error("run abba --rcu classic", "classic");
  expect_usage_error("run spinlock-contention --bogus-flag", "bogus");
  expect_usage_error("frobnicate", "frobnicate");
}

TEST(Cli, ListShowsWorkloadsKnobsMachinesAndParams) {
  const Exec e = run_smpemu("list");
  ASSERT_EQ(e.status, 0);
  for (const char* s : {"spinlock-contention", "lock=ticket (tas|ticket|mcs)", "cs=1000", "opteron48", "xeon80",
                        "power7", "pct:D", "hz", "jitter"})
    EXPECT_NE(e.out.find(s), std::string::npos) << s;
}

TEST(Cli, RunJsonHasTheContractKeysAndIsReproducible) {
  const std::string args = "run spinlock-contention --cpus 48 --seed 1 --set duration=1000000 --json";
  const Exec a = run_smpemu(args);
  ASSERT_EQ(a.status, 0) << a.err;
  const auto j = nlohmann::json::parse(a.out);
  for (const char* k : {"workload", "seed", "cpus", "machine", "digest", "cycles", "events", "host_seconds",
                        "events_per_second", "bugs", "histograms", "metrics"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["workload"], "spinlock-contention");
  EXPECT_EQ(j["cpus"], 48);
  EXPECT_EQ(j["seed"], 1);
  EXPECT_EQ(j["machine"], "opteron48");
  const std::string digest = j["digest"];
  EXPECT_EQ(digest.size(), 16u);
  EXPECT_EQ(digest.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(j["bugs"].is_array());
  EXPECT_GT(j["events"].get<std::uint64_t>(), 0u);
  EXPECT_GT(j["metrics"]["acquisitions_per_mcycle"].get<double>(), 0.0);
  const auto& h = j["histograms"]["lock.ticket.wait"];
  for (const char* k : {"count", "min", "p50", "p90", "p99", "p999", "max", "unit"}) EXPECT_TRUE(h.contains(k)) << k;
  EXPECT_EQ(h["unit"], "cycles");
  EXPECT_LE(h["p50"].get<std::uint64_t>(), h["p99"].get<std::uint64_t>());
  EXPECT_LE(h["p99"].get<std::uint64_t>(), h["max"].get<std::uint64_t>());

  const Exec b = run_smpemu(args);
  ASSERT_EQ(b.status, 0);
  EXPECT_EQ(nlohmann::json::parse(b.out)["digest"], j["digest"]);
}

TEST(Cli, MutexSpinKnobChangesTheScheduleAndIsInTheReproCommand) {
  const Exec off = run_smpemu("run abba --set lock=mutex --json");
  const Exec on = run_smpemu("run abba --set lock=mutex --mutex-spin on --json");
  ASSERT_EQ(off.status, 1) << off.err;  // the lock-order report
  ASSERT_EQ(on.status, 1) << on.err;
  const auto a = nlohmann::json::parse(off.out);
  const auto b = nlohmann::json::parse(on.out);
  EXPECT_EQ(a["mutex_spin"], false);
  EXPECT_EQ(b["mutex_spin"], true);
  EXPECT_NE(a["digest"], b["digest"]);
  const std::string repro = b["bugs"][0]["repro"];
  EXPECT_NE(repro.find("--mutex-spin on"), std::string::npos) << repro;
}
