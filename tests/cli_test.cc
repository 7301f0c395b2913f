// The command-line contract (docs/USAGE.md): exit codes, one-line errors, JSON keys,
// and the same command printing the same digest.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <utility>

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
  expect_usage_error("run spinlock-contention --cpus many", "--cpus: malformed number 'many'");
  expect_usage_error("run spinlock-contention --seed -1", "--seed: malformed number '-1'");
  expect_usage_error("run spinlock-contention --machine vax", "--machine: vax not in {opteron48,");
  expect_usage_error("run spinlock-contention --strategy fifo", "unknown strategy 'fifo'");
  expect_usage_error("run spinlock-contention --strategy pct:0", "bad strategy 'pct:0'");
  expect_usage_error("run spinlock-contention --preempt sometimes", "--preempt: sometimes not in {none,voluntary,full}");
  expect_usage_error("run spinlock-contention --jitter 101", "--jitter: 101 is out of range (expected 0..100");
  expect_usage_error("run abba --mutex-spin maybe", "--mutex-spin: maybe not in {on,off}");
  expect_usage_error("run abba --mutex fair", "--mutex: fair not in {steal,handoff,fifo}");
  expect_usage_error("compare abba --a mutex=fair --b mutex=fifo", "unknown mutex model 'fair'");
  expect_usage_error("run abba --rcu classic", "classic");
  expect_usage_error("run spinlock-contention --bogus-flag", "bogus");
  expect_usage_error("frobnicate", "frobnicate");
}

TEST(Cli, MalformedNumbersAreMalformedNotOutOfRange) {
  // Every numeric option of every command: text that is not a decimal number is named as
  // such, before any range check ("--cpus 4x" is not an impossible CPU count).
  const std::pair<const char*, const char*> cases[] = {
      {"run abba --cpus 4x", "--cpus"},          {"run abba --seed 1x", "--seed"},
      {"run abba --hz 250Hz", "--hz"},           {"run abba --jitter 5%", "--jitter"},
      {"run abba --max-cycles 1e9", "--max-cycles"}, {"run abba --livelock-ms 10s", "--livelock-ms"},
      {"run abba --until 1e6", "--until"},       {"run abba --trace-buffer 1M", "--trace-buffer"},
      {"run abba --cpus 0x10", "--cpus"},        {"run abba --cpus ' 4'", "--cpus"},
      {"run abba --cpus +4", "--cpus"},          {"run abba --cpus ''", "--cpus"},
      {"fuzz abba --runs 10x", "--runs"},        {"fuzz abba --jobs 2x", "--jobs"},
      {"fuzz abba --seed-base 0x10", "--seed-base"}, {"fuzz abba --run-timeout 5s", "--run-timeout"},
      {"compare abba --a lock=spin --b lock=mutex --seeds 8x", "--seeds"},
      {"compare abba --a lock=spin --b lock=mutex --jobs -1", "--jobs"},
      {"diff a b --context 3x", "--context"},    {"diff a b --buffer 1k", "--buffer"},
      {"shrink x.rec --max-runs 10x", "--max-runs"}};
  for (const auto& [args, option] : cases) expect_usage_error(args, std::string(option) + ": malformed number");
  // The same in a compare variant and in range: malformed first, then the range.
  expect_usage_error("compare abba --a cpus=4x --b lock=mutex", "--a: cpus: malformed number '4x'");
  expect_usage_error("run abba --cpus 1025", "--cpus: impossible CPU count 1025 (expected an integer 1..1024)");
}

TEST(Cli, NumbersAreDecimalWithoutOctalOrWrapping) {
  // CLI11's own conversion would read 010 as octal 8; a typed option here gets 10.
  const Exec run = run_smpemu("run spinlock-contention --cpus 010 --seed 007 --set duration=100000 --json");
  ASSERT_EQ(run.status, 0) << run.err;
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["cpus"], 10);
  EXPECT_EQ(j["seed"], 7);
  const Exec fuzz = run_smpemu("fuzz rcu-readers --runs 010 --jobs 02 --json");
  ASSERT_EQ(fuzz.status, 0) << fuzz.err;
  EXPECT_EQ(nlohmann::json::parse(fuzz.out)["runs"], 10);
}

TEST(Cli, GlobalOptionsGoBeforeOrAfterTheCommand) {
  // --log-level info shows the engine's bug log line on stderr, wherever it is given.
  for (const char* args : {"--log-level info run abba --json", "run abba --log-level info --json",
                           "run abba --json --log-level=info"}) {
    const Exec e = run_smpemu(args);
    EXPECT_EQ(e.status, 1) << args << ": " << e.err;
    EXPECT_NE(e.err.find("info: bug [lock-order]"), std::string::npos) << args << ": " << e.err;
    EXPECT_TRUE(nlohmann::json::accept(e.out)) << args;
  }
  const Exec quiet = run_smpemu("run abba --json");
  EXPECT_EQ(quiet.err.find("info: bug"), std::string::npos) << quiet.err;
  expect_usage_error("run abba --log-level loud", "--log-level: loud not in {trace,debug,");
  expect_usage_error("--log-level loud list", "--log-level: loud not in");
  expect_usage_error("run abba extra", "not expected: extra");
}

TEST(Cli, AloneOrWithVersionPrintsTheVersionAndTheCommands) {
  for (const char* args : {"", "--version", "list --version"}) {
    const Exec e = run_smpemu(args);
    EXPECT_EQ(e.status, 0) << "'" << args << "': " << e.err;
    EXPECT_TRUE(e.err.empty()) << e.err;
    EXPECT_EQ(e.out.rfind("smpemu 0.", 0), 0u) << e.out;
    EXPECT_NE(e.out.find(" build)"), std::string::npos) << e.out;
    for (const char* cmd : {"list", "run", "replay", "shrink", "fuzz", "explore", "merge", "compare", "diff"})
      EXPECT_NE(e.out.find("\n  " + std::string(cmd) + " "), std::string::npos) << cmd << " in: " << e.out;
  }
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

// --mutex (docs/KERNEL.md, "Locks by kernel version"): in the JSON, in the repro
// command, and it changes the run of a workload whose mutexes are contended.
TEST(Cli, MutexModelChangesTheRunAndIsInTheJsonAndTheReproCommand) {
  const std::string base = "run abba --set lock=mutex --cpus 4 --json";
  std::map<std::string, std::string> digest;
  for (const char* model : {"steal", "handoff", "fifo"}) {
    const Exec e = run_smpemu(base + " --mutex " + model);
    ASSERT_EQ(e.status, 1) << e.err;  // the lock-order report
    const auto j = nlohmann::json::parse(e.out);
    EXPECT_EQ(j["mutex"], model);
    digest[model] = j["digest"];
    const std::string repro = j["bugs"][0]["repro"];
    if (std::string(model) == "steal")
      EXPECT_EQ(repro.find("--mutex "), std::string::npos) << "the default is not spelled out: " << repro;
    else
      EXPECT_NE(repro.find(std::string("--mutex ") + model), std::string::npos) << repro;
  }
  EXPECT_NE(digest["steal"], digest["fifo"]);
  const auto d = nlohmann::json::parse(run_smpemu(base).out);
  EXPECT_EQ(d["digest"], digest["steal"]) << "steal is the default";
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
