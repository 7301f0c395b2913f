// The command line's boundaries against hostile input (docs/USAGE.md, "Reliability:
// fuzzing the parsers"): every exception is one line and exit 2; input files must be regular,
// readable and bounded; messages quote what the user gave so they stay one line.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/input_file.h"
#include "cli/output_file.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::make_temp_dir;
using smpemu::testing::run_smpemu;

TEST(Quoted, EscapesEverythingOutsidePrintableAscii) {
  EXPECT_EQ(quoted("abba"), "'abba'");
  EXPECT_EQ(quoted("ab\nba"), "'ab\\nba'");
  EXPECT_EQ(quoted("a\tb\r"), "'a\\tb\\r'");
  EXPECT_EQ(quoted(std::string("\x01\x7f\xff", 3)), "'\\x01\\x7f\\xff'");
  EXPECT_EQ(quoted(std::string("a\0b", 3)), "'a\\x00b'");
  EXPECT_EQ(quoted("it's a\\b"), "'it\\'s a\\\\b'");
  EXPECT_EQ(escape_nonprintable("x\ny"), "x\\ny");
}

TEST(InputFile, RefusesDirectoriesDevicesUnreadableAndLargeFiles) {
  const std::string dir = make_temp_dir("input-file");
  auto message = [](const std::string& path, std::uint64_t max = 0) {
    try {
      (void)read_input_file(path, "record", max);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(dir), "record " + quoted(dir) + " is a directory");
  EXPECT_EQ(message("/dev/null"), "record '/dev/null' is not a regular file");
  EXPECT_EQ(message(dir + "/none"), "cannot read record " + quoted(dir + "/none") + ": No such file or directory");
  EXPECT_EQ(message("/proc/self/mem"), "cannot read record '/proc/self/mem': Input/output error");
  std::ofstream(dir + "/ten") << "0123456789";
  EXPECT_EQ(message(dir + "/ten", 9), "record " + quoted(dir + "/ten") + " is larger than 9 bytes");
  EXPECT_EQ(read_input_file(dir + "/ten", "record", 10), "0123456789");
  // A /proc file says 0 bytes and has more: the bound still holds.
  EXPECT_NE(message("/proc/self/maps", 10).find("is larger than 10 bytes"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Boundaries, DirectoriesAndUnreadableFilesAreOneLineExitTwo) {
  const std::string dir = make_temp_dir("boundaries-dirs");
  for (const std::string cmd : {"replay", "shrink", "merge"}) {
    expect_usage_error(cmd + " " + dir, "is a directory");
    expect_usage_error(cmd + " /proc/self/mem", "cannot read");
    expect_usage_error(cmd + " " + dir + "/missing", "No such file or directory");
  }
  expect_usage_error("diff " + dir + " " + dir, "is a directory");
  expect_usage_error("diff /proc/self/mem /proc/self/mem", "cannot read");
  expect_usage_error("diff " + dir + "/missing " + dir + "/missing", "No such file or directory");
  std::ofstream(dir + "/words.txt") << "not a trace\n";
  expect_usage_error("diff " + dir + "/words.txt " + dir + "/words.txt", "neither a record nor ftrace text");
  std::filesystem::remove_all(dir);
}

TEST(Boundaries, UserStringsWithNewlinesStayOnOneLine) {
  expect_usage_error("run 'ab\nba'", "unknown workload 'ab\\nba'");
  expect_usage_error("run abba --set 'lo\nck=mutex'", "unknown knob 'lo\\nck'");
  expect_usage_error("run abba --set 'lock=mu\ntex'", "bad value 'mu\\ntex'");
  expect_usage_error("run abba --machine \"$(printf '\\001vax')\"", "--machine: \\x01vax not in {");
  expect_usage_error("'fr\nob'", "unknown command 'fr\\nob'");
  expect_usage_error("replay 'x\ny.rec'", "cannot read record 'x\\ny.rec'");
}

TEST(Boundaries, MalformedRecordIsExitTwoNotAMismatch) {
  const std::string dir = make_temp_dir("boundaries-record");
  const std::string rec = dir + "/abba.rec";
  ASSERT_EQ(run_smpemu("run abba --cpus 8 --record " + rec).status, 1);
  const std::string good = smpemu::testing::slurp(rec);
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto i = s.find(from);
    EXPECT_NE(i, std::string::npos) << from;
    const std::string path = dir + "/edited.rec";
    std::ofstream(path) << (i == std::string::npos ? s : s.replace(i, from.size(), to));
    return path;
  };
  expect_usage_error("replay " + edited("\"cpus\": \"8\",", ""), "settings.cpus missing");
  expect_usage_error("replay " + edited("\"seed\": \"1\",", ""), "settings.seed missing");
  expect_usage_error("replay " + edited("\"decisions\": [", "\"decisions\": [[0, 4294967296],"),
                     "decisions[0].cpu 4294967296 out of range 0..7");
  expect_usage_error("shrink " + edited("\"decisions\": [", "\"decisions\": [[0, 4294967296],"),
                     "decisions[0].cpu 4294967296 out of range 0..7");
  expect_usage_error("diff " + rec + " " + edited("\"decisions\": [", "\"decisions\": [[0, -3],"),
                     "decisions[0].cpu -3 out of range 0..7");
  expect_usage_error("replay " + edited("\"workload\": \"abba\"", "\"workload\": \"\\u0007\\u00ff\""),
                     "unknown workload '\\x07\\xc3\\xbf'");
  std::filesystem::remove_all(dir);
}

// ---- outputs: lost output is exit 2; output files are whole or absent -----------------

namespace {

/// Names in `dir` (temporaries start with '.').
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

void expect_one_line_exit_two(const Exec& e, const std::string& mentions, const std::string& what) {
  EXPECT_EQ(e.status, 2) << what;
  EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << what << ": " << e.err;
  EXPECT_NE(e.err.find(mentions), std::string::npos) << what << ": " << e.err;
}

}  // namespace

TEST(Boundaries, LostStandardOutputIsExitTwo) {
  const std::string bin = SMPEMU_BINARY;
  for (const std::string args : {"fuzz abba --runs 5 --json", "run abba --json", "list", "fuzz abba --runs 5"})
    expect_one_line_exit_two(smpemu::testing::run_command(bin + " " + args, ">/dev/full"),
                             "cannot write standard output", args);
  // A file name that is not UTF-8 is replaced in the JSON, not an exception after the run.
  const std::string dir = make_temp_dir("boundaries-utf8");
  const Exec e = run_smpemu("run abba --json --record \"" + dir + "/$(printf '\\377').rec\"");
  EXPECT_EQ(e.status, 1) << e.err;
  EXPECT_NO_THROW((void)nlohmann::json::parse(e.out)) << e.out;
  std::filesystem::remove_all(dir);
  // A clean command still exits with its own status.
  EXPECT_EQ(smpemu::testing::run_command(bin + " run abba --json", ">/dev/null").status, 1);
}

TEST(Boundaries, OutputFilesAreCheckedUpFrontAndNeverHalfWritten) {
  const std::string dir = make_temp_dir("boundaries-out");
  // A directory that does not exist: refused before the run (nothing on stdout).
  expect_usage_error("run abba --record " + dir + "/no/x.rec", "directory '" + dir + "/no' does not exist");
  expect_usage_error("run abba --trace " + dir + "/no/x.json", "directory '" + dir + "/no' does not exist");
  expect_usage_error("run abba --record " + dir, "it is a directory");
  std::ofstream(dir + "/plain") << "x";
  expect_usage_error("fuzz abba --runs 3 --record " + dir + "/plain/recs", "Not a directory");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"plain"});

  // The same file twice, also spelled differently.
  expect_usage_error("run abba --trace " + dir + "/t --record " + dir + "/t", "name the same file");
  expect_usage_error("run abba --trace " + dir + "/./t --record " + dir + "/../" +
                         std::filesystem::path(dir).filename().string() + "/t",
                     "name the same file");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"plain"});

  // A record, then shrink into a missing directory: refused before shrinking.
  ASSERT_EQ(run_smpemu("run abba --set lock=mutex --seed 4 --record " + dir + "/a.rec").status, 1);
  expect_usage_error("shrink " + dir + "/a.rec -o " + dir + "/no/a.min.rec", "does not exist");
  expect_usage_error("replay " + dir + "/a.rec --trace " + dir + "/./a.rec", "names the record being replayed");

  // A write that fails half-way (file size limit) leaves neither the file nor a temporary.
  const std::string bin = SMPEMU_BINARY;
  for (const std::string out : {"--trace " + dir + "/big.txt", "--trace " + dir + "/big.json",
                                "--record " + dir + "/big.rec"}) {
    const Exec e = smpemu::testing::run_command("ulimit -f 1; " + bin + " run abba --strategy random " + out);
    expect_one_line_exit_two(e, "File too large", out);
  }
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"a.rec", "plain"}));

  // Writing over an existing file replaces it whole.
  ASSERT_EQ(run_smpemu("run abba --set lock=mutex --seed 5 --record " + dir + "/a.rec").status, 1);
  EXPECT_NO_THROW((void)smpemu::testing::slurp(dir + "/a.rec"));
  EXPECT_EQ(run_smpemu("replay " + dir + "/a.rec").status, 1);
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"a.rec", "plain"}));
  std::filesystem::remove_all(dir);
}

TEST(OutputFile, AFailedWriteRemovesTheTemporary) {
  const std::string dir = make_temp_dir("output-file");
  write_file_atomically(dir + "/ok", "hello\n");
  EXPECT_EQ(smpemu::testing::slurp(dir + "/ok"), "hello\n");
  // A file-size limit: writes past it fail with EFBIG (SIGXFSZ ignored, as main does).
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string what;
  try {
    write_file_atomically(dir + "/ok", std::string(100000, 'x'), "record");
  } catch (const ConfigError& e) {
    what = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(what, "cannot write record " + quoted(dir + "/ok") + ": File too large");
  EXPECT_EQ(smpemu::testing::slurp(dir + "/ok"), "hello\n") << "the old file stays whole";
  EXPECT_EQ(entries(dir), std::vector<std::string>{"ok"});
  EXPECT_TRUE(same_file(dir + "/ok", dir + "/./ok"));
  EXPECT_FALSE(same_file(dir + "/ok", dir + "/other"));
  std::filesystem::remove_all(dir);
}

// ---- merge: shard files are checked as strictly as records ------------------------------

TEST(Boundaries, MergeRefusesInconsistentShards) {
  const std::string dir = make_temp_dir("boundaries-merge");
  const Exec one = run_smpemu("fuzz abba --runs 30 --seed-base 7 --jobs 1 --shard 1/3 --json");
  const Exec two = run_smpemu("fuzz abba --runs 30 --seed-base 7 --jobs 1 --shard 2/3 --json");
  ASSERT_EQ(one.status, 1) << one.err;
  ASSERT_EQ(two.status, 1) << two.err;
  const auto good = nlohmann::json::parse(one.out);
  std::ofstream(dir + "/two.json") << two.out;
  int n = 0;
  auto bad = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& needle) {
    nlohmann::json j = good;
    edit(j);
    const std::string path = dir + "/bad" + std::to_string(n++) + ".json";
    std::ofstream(path) << j.dump();
    expect_usage_error("merge " + path, needle);
    expect_usage_error("merge " + dir + "/two.json " + path, needle);
  };
  using J = nlohmann::json;
  bad([](J& j) { j["runs"] = 31; }, "runs 31 is not the 10 seeds of shard 1/3 of a 30-run campaign");
  bad([](J& j) { j["runs"] = -1; }, "runs -1 out of range");
  bad([](J& j) { j["runs"] = 9; }, "runs 9 is not the 10 seeds");
  bad([](J& j) { j["bugs_found"] = 11; }, "bugs_found 11 out of range 0..10");
  bad([](J& j) { j["first_bug_run"] = nullptr; }, "first_bug_run is null with bugs_found 10");
  bad([](J& j) { j["first_bug_run"] = 8; }, "first_bug_run 8 is not a seed of shard 1/3");
  bad([](J& j) { j["signatures"][0]["count"] = 18446744073709551615ULL; }, "signatures[0].count 18446744073709551615 out of range 1..10");
  bad([](J& j) { j["signatures"][0]["count"] = 0; }, "signatures[0].count 0 out of range 1..10");
  bad([](J& j) { j["signatures"].push_back(j["signatures"][0]); }, "repeated");
  bad([](J& j) { j["signatures"] = J::array(); }, "signatures has 0 entries with bugs_found 10");
  bad([](J& j) { j["campaign_runs"] = 0; }, "campaign_runs 0 out of range 1..1099511627776");
  bad([](J& j) { j["seed_base"] = 18446744073709551615ULL; }, "seed_base 18446744073709551615 out of range");
  bad([](J& j) { j["shard"] = "1/0"; }, "shard: bad shard '1/0'");
  bad([](J& j) { j["complete"] = true; }, "complete is not false for shard 1/3");
  bad([](J& j) { j["jobs"] = 0; }, "jobs 0 out of range");
  bad([](J& j) { j["host_seconds"] = -1.0; }, "host_seconds -1.0 out of range");
  bad([](J& j) { j["seeds"] = {7}; }, "seeds has 1 entries with bugs_found 10");
  bad([](J& j) { std::swap(j["seeds"][0], j["seeds"][1]); }, "seeds[1] 7 is not above 10");
  bad([](J& j) { j["settings"] = nullptr; }, "settings is null (expected an object)");
  bad([](J& j) { j["settings"]["machine"] = "xeon80"; }, "settings.machine 'xeon80' differs from machine 'opteron48'");
  bad([](J& j) { j["colour"] = "blue"; }, "unknown key 'colour'");
  bad([](J& j) { j.erase("build"); }, "build missing");
  bad([](J& j) { j["workload"] = 5; }, "workload is a number (expected a string)");
  std::ofstream(dir + "/one.json") << one.out;
  expect_usage_error("merge " + dir + "/one.json " + dir + "/one.json", "repeats shard 1/3");
  expect_usage_error("merge " + dir + "/one.json " + dir + "/./one.json", "repeats shard 1/3");
  const Exec other = run_smpemu("fuzz abba --runs 60 --seed-base 7 --jobs 1 --shard 2/3 --json");
  std::ofstream(dir + "/other.json") << other.out;
  expect_usage_error("merge " + dir + "/one.json " + dir + "/other.json", "another --seed-base, --runs");
  // The consistent pair still merges.
  const Exec m = run_smpemu("merge " + dir + "/one.json " + dir + "/two.json");
  EXPECT_EQ(m.status, 1) << m.err;
  std::filesystem::remove_all(dir);
}

TEST(Boundaries, CompareRefusesWhatItSetsItself) {
  expect_usage_error("compare abba --a seed=5 --b lock=spin", "--a: seed cannot be set per variant");
  expect_usage_error("compare abba --a lock=spin --b cs=10,seed=5", "--b: seed cannot be set per variant");
  expect_usage_error("compare abba --a lock=spin,lock=mutex --b lock=spin", "--a: 'lock' is given twice");
  expect_usage_error("compare abba --a mutex-spin=on,mutex_spin=off --b lock=spin", "'mutex_spin' is given twice");
  expect_usage_error("compare abba --a lock=spin --b lock=mutex --seed 5", "--seed");
  expect_usage_error("compare abba --a 'lo\nck=spin' --b lock=mutex", "unknown knob 'lo\\nck'");
}

TEST(Boundaries, CountsOnTheCommandLineAreBounded) {
  expect_usage_error("fuzz abba --runs 1099511627777", "--runs: 1099511627777 is past its bound 1099511627776");
  expect_usage_error("fuzz abba --runs 99999999999999999999999999", "is past its bound 1099511627776");
  expect_usage_error("fuzz abba --jobs 257", "--jobs: 257 is past its bound 256");
  expect_usage_error("fuzz abba --shard 1/1099511627777", "the shard count is past its bound");
  expect_usage_error("compare abba --a lock=spin --b lock=mutex --seeds 16777217", "--seeds: 16777217 is past its bound");
  expect_usage_error("compare abba --a lock=spin --b lock=mutex --jobs 1000", "--jobs: 1000 is past its bound 256");
  expect_usage_error("shrink x.rec --max-runs 10000001", "--max-runs: 10000001 is past its bound 10000000");
  expect_usage_error("diff a b --context 1001", "--context: 1001 is past its bound 1000");
  expect_usage_error("diff a b --buffer 67108865", "--buffer: 67108865 is past its bound 67108864");
  expect_usage_error("diff a b --buffer 0", "--buffer: 0 is out of range");
  expect_usage_error("fuzz abba --runs 1e3", "--runs: malformed number '1e3'");
}
