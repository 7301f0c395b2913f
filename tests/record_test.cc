// Records and exact replay (cli/record.h, emu/decision_log.h): a replay of a record
// reproduces the digest under every strategy, without the strategy's random stream;
// edited logs still replay; malformed records are one-line ConfigErrors.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "cli/record.h"
#include "emu/errors.h"
#include "test_util.h"

using namespace smpemu;

namespace {

RunConfig abba(std::uint64_t seed, const std::string& strategy, const std::string& lock = "mutex") {
  RunConfig cfg;
  cfg.workload = "abba";
  cfg.params.cpus = 4;
  cfg.params.seed = seed;
  cfg.params.strategy = strategy;
  cfg.set["lock"] = lock;
  return cfg;
}

std::string tmp_path(const char* name) { return std::string(::testing::TempDir()) + name; }

}  // namespace

TEST(Record, ReplayMatchesTheDigestUnderEveryStrategy) {
  StackPool pool;
  for (const char* strategy : {"time", "random", "pct:3:2000"}) {
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
  expect_bad("{not json", "not JSON");
  expect_bad("[1,2]", "not an smpemu record");
  expect_bad(replace("\"version\": 1", "\"version\": 99"), "version 99");
  expect_bad(replace("\"workload\": \"abba\"", "\"workload\": \"nope\""), "unknown workload 'nope'");
  expect_bad(replace("\"lock\": \"mutex\"", "\"lock\": \"rwlock\""), "bad value 'rwlock'");
  expect_bad(replace("\"preempt\": \"voluntary\"", "\"preempt\": \"sometimes\""), "unknown preemption model");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [[0, 99],"), "CPU the machine does not have");
  expect_bad(replace("\"decisions\": [", "\"decisions\": [\"x\","), "is not [step, cpu]");
  expect_bad(replace("\"digest\": \"", "\"digest\": \"zz"), "bad digest");
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
}
