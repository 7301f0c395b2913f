// Golden bug reports: the text `smpemu run` prints for the three bugs a kernel
// developer reads first (an AB-BA inversion, the fault-vs-truncate race of seed 002,
// an RCU use-after-free) must stay what tests/golden/reports/ holds: lockdep's and
// KASAN's layouts, call paths and both sides of each race.
//
// Source line numbers are replaced by N on both sides ("mm/memory.cc:N do_no_page"), so
// an edit elsewhere in a file does not churn the files; everything else (tasks, CPUs,
// cycles, values, function names, order) is compared exactly. Cycles change only with
// the model, which also changes the golden digests. After a deliberate change, rewrite
// the files with `SMPEMU_UPDATE_GOLDEN=1 ctest -R ReportGolden` and read the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "test_util.h"

using smpemu::testing::run_smpemu;
using smpemu::testing::slurp;

namespace {

/// The bug part of `smpemu run` text output (it comes before the summary).
std::string bug_text(const std::string& out) {
  const std::size_t end = out.find("\nworkload   ");
  return end == std::string::npos ? out : out.substr(0, end + 1);
}

std::string without_line_numbers(const std::string& s) {
  static const std::regex line(R"(\.(cc|h):[0-9]+)");
  return std::regex_replace(s, line, ".$1:N");
}

struct Case {
  const char* name;  ///< file under tests/golden/reports/, without .txt
  const char* args;  ///< after `smpemu run`
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ReportGolden : public ::testing::TestWithParam<Case> {};

TEST_P(ReportGolden, TextIsTheRecordedOne) {
  const Case c = GetParam();
  const auto e = run_smpemu(std::string("run ") + c.args);
  ASSERT_EQ(e.status, 1) << c.args << ": a run with a bug exits 1: " << e.err;
  const std::string got = without_line_numbers(bug_text(e.out));
  const std::string path = std::string(SMPEMU_SOURCE_DIR) + "/tests/golden/reports/" + c.name + ".txt";
  if (std::getenv("SMPEMU_UPDATE_GOLDEN")) {
    std::ofstream(path) << got;
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(got, slurp(path)) << "the report of `smpemu run " << c.args << "` changed; see the file's header";
}

// The truncate seed is the first one `smpemu fuzz truncate-latency --strategy time --set
// fault_recheck=off` finds (docs/MM.md, "Fuzzing the planted bugs"): the report names the
// racing do_no_page's pte, its i_size sample, the missing truncate_count sample and the
// truncate's two stores. (Following a COW copy back to its fault: bug_report_test.cc.)
INSTANTIATE_TEST_SUITE_P(
    Bugs, ReportGolden,
    ::testing::Values(Case{"abba", "abba"},
                      Case{"truncate-fault_recheck-off", "truncate-latency --seed 10 --set fault_recheck=off"},
                      Case{"rcu-free-immediate", "rcu-readers --set free=immediate"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      std::string n = i.param.name;
      for (char& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

}  // namespace
