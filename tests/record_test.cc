// Records and exact replay (cli/record.h, emu/decision_log.h): a replay of a record
// reproduces the digest under every strategy, without the strategy's random stream;
// edited logs still replay; malformed records are one-line ConfigErrors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/record.h"
#include "cli/shrink.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "test_util.h"

using namespace smpemu;

namespace {

RunConfig abba(std::uint64_t seed, const std::string& strategy, const std::string& lock = "mutex") {
  return smpemu::testing::abba_config(seed, strategy, lock);
}

std::string tmp_path(const char* name) { return std::string(::testing::TempDir()) + name; }

}  // namespace

TEST(Record, ReplayMatchesTheDigestUnderEveryStrategy) {
  StackPool pool;
  for (const char* strategy : {"time", "random", "pct:3:2000", "pos", "delay:4:60"}) {
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      Record rec;
      const RunResult r = record_run(abba(seed, strategy, seed % 2 ? "mutex" : "spin"), rec, &pool);
      EXPECT_EQ(rec.digest, r.stats.digest);
      const ReplayResult p = replay_record(rec, &pool);
      EXPECT_TRUE(p.digest_match) << strategy << " seed " << seed;
      EXPECT_FALSE(p.edited);
      EXPECT_EQ(p.ignored, 0u);
      EXPECT_EQ(p.followed.entries, rec.decisions.entries) << "replay takes exactly the logged decisions";
      EXPECT_EQ(p.run.bugs.size(), r.bugs.size());
    }
  }
}

TEST(Record, TimeStrategyLogsOnlyTieBreaksRandomLogsMany) {
  Record t, r;
  const RunResult rt = record_run(abba(3, "time"), t);
  const RunResult rr = record_run(abba(3, "random"), r);
  EXPECT_GT(r.decisions.size(), t.decisions.size());
  EXPECT_GT(r.decisions.size(), 10u);
}

TEST(Record, StepsCountTheStrategysDecisionsAndReplayKeepsThem) {
  StackPool pool;
  for (const char* strategy : {"time", "random", "pct:2:500"}) {
    Record rec;
    const RunResult r = record_run(abba(5, strategy), rec, &pool);
    ASSERT_GT(r.stats.steps, 0u) << strategy;
    // Every logged decision names a step the run took (`time` may log none).
    if (std::string(strategy) != "time") ASSERT_FALSE(rec.decisions.entries.empty()) << strategy;
    if (!rec.decisions.entries.empty()) EXPECT_LT(rec.decisions.entries.back().step, r.stats.steps) << strategy;
    // A step is a decision whichever strategy makes it: the replay takes as many.
    const ReplayResult p = replay_record(rec, &pool);
    EXPECT_EQ(p.run.stats.steps, r.stats.steps) << strategy;
    EXPECT_EQ(run_once(abba(5, strategy), &pool).stats.steps, r.stats.steps) << strategy << ": deterministic";
  }
}

TEST(Record, WriteReadRoundTripAndReplayFromFile) {
  const std::string path = tmp_path("abba.rec");
  RunConfig cfg = abba(7, "random");
  cfg.params.preempt = PreemptModel::Full;
  cfg.params.mutex_spin = true;
  const RunResult r = record_run_to(cfg, path);
  const Record rec = read_record(path);
  EXPECT_EQ(rec.config.workload, "abba");
  EXPECT_EQ(rec.config.params.seed, 7u);
  EXPECT_EQ(rec.config.params.preempt, PreemptModel::Full);
  EXPECT_TRUE(rec.config.params.mutex_spin);
  EXPECT_EQ(rec.config.set.at("lock"), "mutex");
  EXPECT_EQ(rec.digest, r.stats.digest);
  EXPECT_EQ(rec.bugs.size(), r.bugs.size());
  EXPECT_EQ(rec.decisions.digest(), rec.decisions_digest);
  EXPECT_TRUE(replay_record(rec).digest_match);
  std::remove(path.c_str());
}

// Records from before --mutex existed have no "mutex" setting and ran with the FIFO
// hand-off, the only model then: read without it, a record replays as fifo.
TEST(Record, ARecordWithoutAMutexSettingReplaysWithFifoHandOff) {
  const std::string path = tmp_path("old.rec");
  RunConfig cfg = abba(3, "random");
  cfg.params.mutex = MutexModel::Fifo;
  const RunResult r = record_run_to(cfg, path);
  nlohmann::json j = nlohmann::json::parse(smpemu::testing::slurp(path));
  ASSERT_EQ(j["settings"]["mutex"], "fifo");
  j["settings"].erase("mutex");
  std::ofstream(path) << j.dump();
  const Record rec = read_record(path);
  EXPECT_EQ(rec.config.params.mutex, MutexModel::Fifo);
  EXPECT_EQ(rec.digest, r.stats.digest);
  EXPECT_TRUE(replay_record(rec).digest_match);
  std::remove(path.c_str());
}

TEST(Record, EditedLogReplaysAndIsRecognisedAsEdited) {
  Record rec;
  record_run(abba(11, "random"), rec);
  ASSERT_GT(rec.decisions.size(), 4u);
  Record edited = rec;
  edited.decisions.entries.resize(rec.decisions.size() / 2);  // the rest: default order
  const ReplayResult p = replay_record(edited);
  EXPECT_TRUE(p.edited);
  EXPECT_LE(p.followed.size(), rec.decisions.size());
  // The followed log is a faithful log of the edited run: replaying it reproduces it.
  Record again = edited;
  again.decisions = p.followed;
  again.decisions_digest = p.followed.digest();
  again.digest = p.run.stats.digest;
  const ReplayResult q = replay_record(again);
  EXPECT_TRUE(q.digest_match);
  EXPECT_EQ(q.ignored, 0u);
  // An empty log is the default order, whatever the recorded strategy was.
  Record none = rec;
  none.decisions.entries.clear();
  const ReplayResult d = replay_record(none);
  EXPECT_EQ(d.followed.size(), 0u);
  EXPECT_EQ(d.applied, 0u);
}

TEST(Record, DecisionsForCpusThatAreNotReadyAreIgnored) {
  Record rec;
  record_run(abba(5, "time"), rec);
  Record edited = rec;
  edited.decisions.entries = {{0, 3}, {0, 2}, {1, 1}, {5, 0}};  // duplicate step, maybe-unready CPUs
  const ReplayResult p = replay_record(edited);
  EXPECT_EQ(p.applied + p.ignored, 4u);
  EXPECT_GE(p.ignored, 1u);
}

TEST(Record, MalformedRecordsAreOneLineConfigErrors) {
  const std::string path = tmp_path("bad.rec");
  record_run_to(abba(1, "time"), path);
  const std::string good = smpemu::testing::slurp(path);
  auto expect_bad = [&](const std::string& text, const std::string& needle) {
    {
      std::ofstream f(path);
      f << text;
    }
    try {
      read_record(path);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("malformed record"), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto i = s.find(from);
    EXPECT_NE(i, std::string::npos) << from;
    return i == std::string::npos ? s : s.replace(i, from.size(), to);
  };
  // The value of top-level `key` (a string or a flat object) replaced by `to`.
  auto replace_value = [&](const std::string& key, const std::string& to) {
    std::string s = good;
    const auto a = s.find("\"" + key + "\": ") + key.size() + 4;
    const auto b = s[a] == '{' ? s.find('}', a) : s.find('"', a + 1);
    return s.replace(a, b - a + 1, to);
  };
  expect_bad("{not json", "not JSON");
  expect_bad("[1,2]", "not an smpemu record");
  expect_bad(replace("\"version\": 1", "\"version\": 99"), "version 99");
  expect_bad(replace("\"workload\": \"abba\"", "\"workload\": \"nope\""), "unknown workload 'nope'");
  expect_bad(replace("\"lock\": \"mutex\"", "\"lock\": \"rwlock\""), "bad value 'rwlock'");
  expect_bad(replace("\"preempt\": \"voluntary\"", "\"preempt\": \"sometimes\""), "unknown preemption model");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [[0, 99],"), "decisions[0].cpu 99 out of range 0..3");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [\"x\","), "is not [step, cpu]");
  expect_bad(replace("\"digest\": \"", "\"digest\": \"zz"), "bad digest");
  // Every setting is required: a default would replay another run (and exit 3, blaming
  // the binary). Types and ranges are checked before any narrowing.
  expect_bad(replace("\"cpus\": \"4\",", ""), "settings.cpus missing");
  expect_bad(replace("\"seed\": \"1\",", ""), "settings.seed missing");
  expect_bad(replace_value("settings", "{}"), "settings.cpus missing");
  expect_bad(replace("\"cpus\": \"4\"", "\"cpus\": 4"), "settings.cpus is a number (expected a string)");
  expect_bad(replace("\"settings\": {", "\"settings\": {\"machine\": \"xeon80\", "), "unknown key 'machine' in settings");
  expect_bad(replace_value("knobs", "null"), "knobs is null (expected an object)");
  expect_bad(replace("\"format\"", "\"colour\": 1, \"format\""), "unknown key 'colour'");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [[0, 4294967296],"),
             "decisions[0].cpu 4294967296 out of range 0..3");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [[0, -1],"), "decisions[0].cpu -1 out of range 0..3");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [[1.5, 0],"), "decisions[0].step 1.5 is not an integer");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [[-1, 0],"), "decisions[0].step -1 out of range");
  expect_bad(replace("\"version\": 1", "\"version\": \"1\""), "record version '1'");
  expect_bad(replace_value("build", "7"), "build is a number (expected a string)");
  expect_bad(replace_value("end", "\"over\""), "unknown end reason 'over'");
  expect_bad(replace("\"workload\": \"abba\"", "\"workload\": \"ab\\u0000\\nba\""),
             "unknown workload 'ab\\x00\\nba'");
  expect_bad(std::string(40, '[') + std::string(40, ']'), "nested deeper than 32 levels");
  std::remove(path.c_str());
  try {
    read_record(path);
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read record"), std::string::npos);
  }
}

TEST(Record, BugSignatureIgnoresNumbers) {
  BugReport a{"deadlock", "wait-for cycle: ba waits for A#1 held by ab at 1234", 5, 1, "ba", true};
  BugReport b{"deadlock", "wait-for cycle: ba waits for A#7 held by ab at 99", 9, 0, "ba", true};
  EXPECT_EQ(bug_signature(a), bug_signature(b));
  EXPECT_EQ(bug_signature(a), "deadlock: wait-for cycle: ba waits for A#N held by ab at N");
  // Addresses are printed in hex: one number, whatever letters they contain.
  BugReport c{"pte-beyond-eof", "mm 3 maps page 258 at 0x100e9b000 (pfn 6483)", 1, 0, "t", true};
  BugReport d{"pte-beyond-eof", "mm 2 maps page 9 at 0x7f0000 (pfn 1)", 1, 0, "t", true};
  EXPECT_EQ(bug_signature(c), bug_signature(d));
  EXPECT_EQ(bug_signature(c), "pte-beyond-eof: mm N maps page N at N (pfn N)");
}

// ---- shrink -------------------------------------------------------------------------


TEST(Shrink, KeepsTheFailureWithFewerDecisions) {
  StackPool pool;
  int shrunk = 0;
  for (std::uint64_t seed = 1; seed <= 40 && shrunk < 3; ++seed) {
    Record rec;
    const RunResult r = record_run(abba(seed, "random", seed % 2 ? "mutex" : "spin"), rec, &pool);
    if (r.stats.end != EndReason::FatalBug && r.stats.end != EndReason::Deadlock) continue;
    Record none = rec;
    none.decisions.entries.clear();
    if (replay_record(none, &pool).run.stats.end == r.stats.end) continue;  // default order fails too
    const ShrinkResult s = shrink_record(rec, ShrinkOptions{}, &pool);
    EXPECT_EQ(s.check, "deadlock");
    EXPECT_EQ(s.before, rec.decisions.size());
    EXPECT_LT(s.after, s.before) << "seed " << seed;
    EXPECT_GE(s.after, 1u) << "the default order does not deadlock, so some decision is needed";
    EXPECT_FALSE(s.budget_exhausted);
    // The shrunk record is exact: it replays to its digest and still deadlocks.
    const ReplayResult p = replay_record(s.record, &pool);
    EXPECT_TRUE(p.digest_match);
    EXPECT_FALSE(p.edited);
    ASSERT_FALSE(p.run.bugs.empty());
    EXPECT_EQ(p.run.bugs.back().check, "deadlock");
    ++shrunk;
  }
  EXPECT_EQ(shrunk, 3) << "expected random-strategy abba runs that need decisions to deadlock";
}

TEST(Shrink, RefusesARecordThatDoesNotFail) {
  Record rec;
  RunConfig cfg;
  cfg.workload = "rcu-readers";
  cfg.params.cpus = 2;
  record_run(cfg, rec);
  EXPECT_THROW(shrink_record(rec, ShrinkOptions{}), ConfigError);
}

// ---- the commands, as a user runs them ------------------------------------------------

using smpemu::testing::run_smpemu;

TEST(ReplayCli, RecordReplayShrinkAndTamper) {
  const std::string rec = tmp_path("cli_abba.rec");
  const std::string min = tmp_path("cli_abba.min.rec");
  auto r = run_smpemu("run abba --cpus 4 --seed 1 --strategy random --set lock=mutex --record " + rec + " --json");
  ASSERT_EQ(r.status, 1) << r.err;
  const auto run_json = nlohmann::json::parse(r.out);
  ASSERT_EQ(run_json["end"], "fatal_bug") << "seed 1 under random deadlocks (see Shrink test)";
  auto p = run_smpemu("replay " + rec + " --json");
  ASSERT_EQ(p.status, 1) << p.err;
  const auto j = nlohmann::json::parse(p.out);
  EXPECT_EQ(j["replay"]["digest_match"], true);
  EXPECT_EQ(j["digest"], run_json["digest"]);
  EXPECT_EQ(j["replay"]["edited"], false);

  auto s = run_smpemu("shrink " + rec + " -o " + min + " --json");
  ASSERT_EQ(s.status, 0) << s.err;
  const auto sj = nlohmann::json::parse(s.out);
  EXPECT_EQ(sj["check"], "deadlock");
  EXPECT_LE(sj["decisions_after"].get<int>(), sj["decisions_before"].get<int>());
  auto q = run_smpemu("replay " + min);
  EXPECT_EQ(q.status, 1);
  EXPECT_NE(q.out.find("(match)"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("deadlock"), std::string::npos) << q.out;

  // A changed digest with the recorded log is a mismatch (exit 3), not an edit.
  std::string text = smpemu::testing::slurp(rec);
  const std::string d = run_json["digest"];
  text.replace(text.find(d), d.size(), "0123456789abcdef");
  {
    std::ofstream f(rec);
    f << text;
  }
  auto t = run_smpemu("replay " + rec);
  EXPECT_EQ(t.status, 3) << t.out;
  EXPECT_NE(t.out.find("MISMATCH"), std::string::npos);
  auto bad = run_smpemu("replay /nonexistent/x.rec");
  EXPECT_EQ(bad.status, 2);
  std::remove(rec.c_str());
  std::remove(min.c_str());
}

TEST(ReplayCli, ReproOfAReplayedShrunkRecordReplaysTheRecord) {
  // The shrunk log is another schedule than the one the seed's strategy picks: the repro
  // printed for its replay must replay that record, and doing so must give the same run.
  const std::string rec = tmp_path("repro_abba.rec");
  const std::string min = tmp_path("repro_abba.min.rec");
  ASSERT_EQ(run_smpemu("run abba --cpus 4 --seed 1 --strategy random --set lock=mutex --record " + rec).status, 1);
  ASSERT_EQ(run_smpemu("shrink " + rec + " -o " + min).status, 0);
  const auto replayed = run_smpemu("replay " + min + " --json");
  ASSERT_EQ(replayed.status, 1) << replayed.err;
  const auto j = nlohmann::json::parse(replayed.out);
  ASSERT_FALSE(j["bugs"].empty());
  const std::string repro = j["bugs"].back()["repro"];
  EXPECT_EQ(repro, "smpemu replay " + min);
  const auto text = run_smpemu("replay " + min);
  EXPECT_NE(text.out.find("repro: smpemu replay " + min + "\n"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("repro: smpemu run"), std::string::npos) << text.out;

  const auto again = smpemu::testing::run_command(std::string(SMPEMU_BINARY) + repro.substr(6) + " --json");
  ASSERT_EQ(again.status, 1) << again.err;
  const auto k = nlohmann::json::parse(again.out);
  EXPECT_EQ(k["digest"], j["digest"]);
  EXPECT_EQ(k["bugs"].back()["check"], "deadlock");
  // A run (not a replay) still prints the seed's command.
  const auto run = run_smpemu("run abba --cpus 4 --seed 1 --strategy random --set lock=mutex --json");
  const std::string run_repro = nlohmann::json::parse(run.out)["bugs"].back()["repro"];
  EXPECT_EQ(run_repro.rfind("smpemu run abba --cpus 4 --seed 1 ", 0), 0u) << run_repro;
  std::remove(rec.c_str());
  std::remove(min.c_str());
}

TEST(ReplayCli, ReproQuotesARecordNameForTheShell) {
  EXPECT_EQ(shell_word("a.rec"), "a.rec");
  EXPECT_EQ(shell_word("/tmp/x-1.min.rec"), "/tmp/x-1.min.rec");
  EXPECT_EQ(shell_word("my rec"), "'my rec'");
  EXPECT_EQ(shell_word("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_word(""), "''");
}

TEST(StopAt, StopsAtTheEventAndPrintsTheState) {
  auto e = run_smpemu("run abba --set lock=spin --stop-at event:40 --json");
  ASSERT_NE(e.status, 2) << e.err;
  auto j = nlohmann::json::parse(e.out);
  EXPECT_EQ(j["end"], "stopped");
  EXPECT_EQ(j["events"], 40);
  EXPECT_EQ(j["state"]["stop_at"], "event:40");
  EXPECT_EQ(j["state"]["cpus"].size(), 8u);

  // The first bug (the lock-order warning) stops the run with the locks still held.
  auto b = run_smpemu("run abba --set lock=mutex --stop-at bug:lock-order --json");
  ASSERT_EQ(b.status, 1);
  j = nlohmann::json::parse(b.out);
  EXPECT_EQ(j["end"], "stopped");
  ASSERT_EQ(j["bugs"].size(), 1u);
  int holding = 0;
  for (const auto& t : j["state"]["tasks"]) holding += static_cast<int>(t["held"].size());
  EXPECT_GE(holding, 1) << "the reporting task holds one lock while it asks for the other";

  auto w = run_smpemu("run abba --set lock=mutex --seed 4 --stop-at bug:deadlock");
  EXPECT_EQ(w.status, 1);
  EXPECT_NE(w.out.find("waits for: abba_B#1"), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("holds: abba_A#1 (mutex)"), std::string::npos) << w.out;

  auto u = run_smpemu("run abba --until 20000 --json");
  ASSERT_EQ(u.status, 0) << u.err;
  j = nlohmann::json::parse(u.out);
  EXPECT_EQ(j["end"], "time_limit");
  EXPECT_EQ(j["state"]["cpus"].size(), 8u);
  // CPUs park at their first sync point past the limit (local work may overshoot it).
  EXPECT_LT(j["cycles"].get<std::uint64_t>(), 60000u);

  auto n = run_smpemu("run abba --stop-at lock_contended:1000");
  EXPECT_NE(n.status, 2);
  EXPECT_NE(n.err.find("was not reached"), std::string::npos) << n.err;

  for (const char* bad : {"--stop-at frobnicate", "--stop-at event:0", "--stop-at event:x", "--until -5"}) {
    auto x = run_smpemu(std::string("run abba ") + bad);
    EXPECT_EQ(x.status, 2) << bad;
    EXPECT_EQ(std::count(x.err.begin(), x.err.end(), '\n'), 1) << x.err;
  }
}

TEST(StopAt, ReplayOfAStoppedRecordStopsAgain) {
  const std::string rec = tmp_path("stopped.rec");
  auto r = run_smpemu("run abba --set lock=spin --stop-at sched_switch:3 --record " + rec + " --json");
  ASSERT_NE(r.status, 2) << r.err;
  auto p = run_smpemu("replay " + rec + " --json");
  ASSERT_EQ(p.status, r.status) << p.out;
  const auto j = nlohmann::json::parse(p.out);
  EXPECT_EQ(j["end"], "stopped");
  EXPECT_EQ(j["replay"]["digest_match"], true);
  std::remove(rec.c_str());
}
