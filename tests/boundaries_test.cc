// The command line's boundaries against hostile input (shared/STYLE.md, "Boundaries that
// cannot crash"): every exception is one line and exit 2; input files must be regular,
// readable and bounded; messages quote what the user gave so they stay one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/input_file.h"
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
  expect_usage_error("run abba --machine \"$(printf '\\001vax')\"", "unknown machine '\\x01vax'");
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
