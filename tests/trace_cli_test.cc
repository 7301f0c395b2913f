// The trace options and `smpemu diff` as a user runs them (the exporters themselves are
// tested in trace_export_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "test_util.h"

using smpemu::testing::run_smpemu;
using smpemu::testing::slurp;

namespace {
std::string tmp(const char* name) { return std::string(::testing::TempDir()) + name; }
}  // namespace

TEST(TraceCli, PerfettoJsonHasOneLanePerCpuAndLockSpans) {
  const std::string path = tmp("run.json");
  const auto r = run_smpemu("run abba --cpus 4 --set lock=mutex --trace " + path + " --json");
  ASSERT_EQ(r.status, 1) << r.err;  // abba's lock-order report
  const auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["trace"]["file"], path);
  EXPECT_GT(out["trace"]["events"].get<int>(), 10);
  const auto j = nlohmann::json::parse(slurp(path));
  std::set<std::string> lanes;
  int lock_spans = 0, bugs = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") lanes.insert(e["args"]["name"].get<std::string>());
    if (e["ph"] == "X" && e.value("cat", "") == "lock") ++lock_spans;
    if (e["ph"] == "i" && e.value("cat", "") == "bug") ++bugs;
  }
  for (int c = 0; c < 4; ++c) EXPECT_TRUE(lanes.count("CPU " + std::to_string(c))) << c;
  EXPECT_GT(lock_spans, 0);
  EXPECT_GE(bugs, 1);
  std::remove(path.c_str());
}

TEST(TraceCli, FtraceTextByExtensionOrFormatAndBoundedBuffer) {
  const std::string path = tmp("run.txt");
  auto r = run_smpemu("run rcu-readers --cpus 2 --trace " + path + " --trace-buffer 50");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string text = slurp(path);
  EXPECT_EQ(text.rfind("# tracer: nop", 0), 0u);
  // N lines kept of N + the dropped events.
  EXPECT_NE(text.find("entries-in-buffer/entries-written: "), std::string::npos);
  EXPECT_NE(r.out.find("dropped"), std::string::npos);
  const std::string forced = tmp("forced.trace");
  r = run_smpemu("run abba --trace " + forced + " --trace-format perfetto");
  EXPECT_TRUE(nlohmann::json::parse(slurp(forced)).contains("traceEvents"));
  std::remove(path.c_str());
  std::remove(forced.c_str());
}

TEST(TraceCli, HistAndLockStat) {
  const auto r = run_smpemu("run abba --set lock=spin --hist --hist-unit nsecs --lock-stat");
  ASSERT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("nsecs               : count     distribution"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lock_stat version 0.4"), std::string::npos);
  EXPECT_NE(r.out.find("abba_A:"), std::string::npos);
}

TEST(TraceCli, BadTraceOptionsExitTwo) {
  for (const char* bad : {"--trace x.txt --trace-format svg", "--trace-format ftrace", "--trace x --trace-buffer 0",
                          "--hist --hist-unit fortnights", "--trace /nonexistent/dir/t.txt"}) {
    const auto r = run_smpemu(std::string("run abba ") + bad);
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(DiffCli, RecordsAndTextTraces) {
  const std::string a = tmp("d1.rec"), b = tmp("d2.rec"), ta = tmp("d1.txt"), tb = tmp("d2.txt");
  ASSERT_NE(run_smpemu("run abba --seed 1 --record " + a + " --trace " + ta).status, 2);
  ASSERT_NE(run_smpemu("run abba --seed 2 --record " + b + " --trace " + tb).status, 2);
  auto same = run_smpemu("diff " + a + " " + a);
  EXPECT_EQ(same.status, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("identical"), std::string::npos);
  auto differ = run_smpemu("diff " + a + " " + b);
  EXPECT_EQ(differ.status, 1) << differ.err;
  EXPECT_NE(differ.out.find("diverge"), std::string::npos) << differ.out;
  EXPECT_NE(differ.out.find("cycles="), std::string::npos) << "record diffs compare exact cycles";
  EXPECT_EQ(run_smpemu("diff " + ta + " " + ta).status, 0);
  EXPECT_EQ(run_smpemu("diff " + ta + " " + tb).status, 1);
  EXPECT_EQ(run_smpemu("diff " + a + " /nonexistent.rec").status, 2);
  for (const auto& p : {a, b, ta, tb}) std::remove(p.c_str());
}
