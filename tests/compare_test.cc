// `smpemu compare` (cli/compare.h): a real difference is significant and points the right
// way, no difference is not significant, --jobs changes nothing, bad variants are a
// one-line exit 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/compare.h"
#include "emu/errors.h"
#include "json_util.h"
#include "test_util.h"

using namespace smpemu;
using nlohmann::json;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::run_smpemu;
using smpemu::testing::without_timing;

namespace {

// Short runs on 8 CPUs: mcs keeps its throughput, ticket already falls (docs/USAGE.md).
const std::string kSpin = "compare spinlock-contention --cpus 8 --set duration=400000 ";

CompareOptions spin(const std::string& a, const std::string& b, std::uint64_t seeds, unsigned jobs) {
  CompareOptions o;
  o.base.workload = "spinlock-contention";
  o.base.params.cpus = 8;
  o.base.set["duration"] = "400000";
  o.a = a;
  o.b = b;
  o.seeds = seeds;
  o.jobs = jobs;
  return o;
}


}  // namespace

TEST(CompareCli, McsThroughputIsSignificantlyHigherThanTicket) {
  const Exec e = run_smpemu(kSpin + "--a lock=ticket --b lock=mcs --seeds 8 --jobs 2 --json");
  ASSERT_EQ(e.status, 0) << e.err;
  const json j = json::parse(e.out);
  for (const char* k : {"workload", "seeds", "a", "b", "histograms", "metrics", "bugs", "runs_per_second"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["seeds"], 8);
  EXPECT_EQ(j["a"]["settings"], "lock=ticket");
  EXPECT_EQ(j["bugs"]["a"], 0);
  EXPECT_EQ(j["bugs"]["b"], 0);
  const json& m = j["metrics"]["acquisitions_per_mcycle"];
  EXPECT_GT(m["b_mean"].get<double>(), m["a_mean"].get<double>());
  EXPECT_GT(m["ratio"].get<double>(), 1.2);
  EXPECT_LT(m["p_value"].get<double>(), 0.05);
  EXPECT_TRUE(m["significant"].get<bool>());
  EXPECT_EQ(m["a"].size(), 8u);
  // The lock classes differ by name: each histogram is on one side only, without ratios.
  const json& h = j["histograms"]["lock.ticket.wait"];
  EXPECT_TRUE(h["b"].is_null());
  EXPECT_TRUE(h["ratio_p99"].is_null());
  for (const char* k : {"p50", "p90", "p99", "p999", "max", "count"}) EXPECT_TRUE(h["a"].contains(k)) << k;
  EXPECT_EQ(h["a"]["per_seed"]["p99"].size(), 8u);

  const Exec t = run_smpemu(kSpin + "--a lock=ticket --b lock=mcs --seeds 8 --jobs 2");
  ASSERT_EQ(t.status, 0);
  EXPECT_NE(t.out.find("acquisitions_per_mcycle"), std::string::npos);
  EXPECT_NE(t.out.find(" *\n"), std::string::npos) << t.out;
  EXPECT_TRUE(t.err.empty()) << t.err;  // no progress line without a terminal
}

TEST(Compare, LongerCriticalSectionsRaiseWaitTimeSignificantly) {
  const CompareResult r = run_compare(spin("cs=500", "cs=2000", 6, 2));
  const HistogramComparison& h = r.histograms.at("lock.ticket.wait");
  ASSERT_TRUE(h.a.present && h.b.present);
  ASSERT_TRUE(h.ratio_p99 && h.ratio_max);
  EXPECT_GT(*h.ratio_p99, 1.1);  // waiters queue behind longer sections
  EXPECT_GT(*h.ratio_max, 1.1);
  ASSERT_TRUE(h.test_p99);
  EXPECT_LT(h.test_p99->p_value, 0.05);
  EXPECT_TRUE(h.significant);
  EXPECT_EQ(h.a.p99.size(), 6u);
  const MetricComparison& m = r.metrics.at("acquisitions_per_mcycle");
  EXPECT_LT(*m.ratio, 1.0);  // longer sections, fewer acquisitions
  EXPECT_TRUE(m.significant);
  EXPECT_LT(m.shift_hl, 0);
}

TEST(Compare, SameVariantIsNotSignificant) {
  const CompareResult r = run_compare(spin("lock=mcs", "lock=mcs", 6, 2));
  for (const auto& [name, m] : r.metrics) {
    EXPECT_FALSE(m.significant) << name;
    EXPECT_DOUBLE_EQ(m.test->p_value, 1.0) << name;  // same seeds, same values
    EXPECT_DOUBLE_EQ(*m.ratio, 1.0) << name;
  }
  for (const auto& [name, h] : r.histograms) EXPECT_FALSE(h.significant) << name;
}

TEST(Compare, ResultsDoNotDependOnJobs) {
  const json one = without_timing(compare_to_json(run_compare(spin("lock=tas", "cpus=4", 4, 1))));
  const json three = without_timing(compare_to_json(run_compare(spin("lock=tas", "cpus=4", 4, 3))));
  EXPECT_EQ(one, three);
  EXPECT_NE(one["a"]["repro"].get<std::string>().find("--cpus 8 "), std::string::npos) << one["a"];
  EXPECT_NE(one["b"]["repro"].get<std::string>().find("--cpus 4 "), std::string::npos) << one["b"];
}

TEST(Compare, HolmCorrectionUnstarsAOnePercentResultAmongManyTests) {
  // Twenty metrics: one at p = 0.0001, one at p = 0.01, the rest at p = 0.5, and a
  // histogram's two tests (0.01, 0.5): 22 tests. Alone, p = 0.01 is below 0.05; as the
  // second smallest of 22, Holm makes it 21 x 0.01 = 0.21, while the strong one stays
  // significant (22 x 0.0001).
  CompareResult r;
  r.workload = "constructed";
  r.seeds = 10;
  const auto metric = [](double p) {
    MetricComparison c;
    c.a = {1, 2};
    c.b = {3, 4};
    c.test = MannWhitneyResult{0, 0, 0, p};
    return c;
  };
  for (int i = 0; i < 18; ++i) r.metrics.emplace("m" + std::to_string(10 + i), metric(0.5));
  r.metrics.emplace("one_percent", metric(0.01));
  r.metrics.emplace("strong", metric(0.0001));
  HistogramComparison h;
  h.a.present = h.b.present = true;
  h.test_p99 = MannWhitneyResult{0, 0, 0, 0.01};
  h.test_max = MannWhitneyResult{0, 0, 0, 0.5};
  r.histograms.emplace("lock.x.wait", h);
  adjust_for_multiple_tests(r);

  EXPECT_EQ(r.tests, 22u);
  EXPECT_TRUE(r.metrics.at("strong").significant);
  EXPECT_NEAR(*r.metrics.at("strong").holm, 22 * 0.0001, 1e-12);
  EXPECT_FALSE(r.metrics.at("one_percent").significant) << "p = 0.01 among 22 tests is not significant";
  EXPECT_LT(r.metrics.at("one_percent").test->p_value, kSignificance);  // it would be, alone
  EXPECT_FALSE(r.histograms.at("lock.x.wait").significant);
  const std::string text = compare_to_text(r);
  const auto row = [&](const std::string& name) {
    const auto i = text.find("\n" + name + " ");
    EXPECT_NE(i, std::string::npos) << name << " in:\n" << text;
    return text.substr(i + 1, text.find('\n', i + 1) - i - 1);
  };
  EXPECT_EQ(row("strong").back(), '*') << row("strong");
  EXPECT_EQ(row("one_percent").find('*'), std::string::npos) << row("one_percent");
  EXPECT_EQ(row("m10").find('*'), std::string::npos) << row("m10");
  EXPECT_NE(text.find("Holm-Bonferroni over the 22 tests"), std::string::npos) << text;
  const json j = compare_to_json(r);
  EXPECT_EQ(j["tests"], 22);
  EXPECT_NEAR(j["metrics"]["one_percent"]["p_value"].get<double>(), 0.01, 1e-12);
  EXPECT_NEAR(j["metrics"]["one_percent"]["p_value_holm"].get<double>(), 0.21, 1e-12);
  EXPECT_EQ(j["metrics"]["one_percent"]["significant"], false);

  // The same p = 0.01 as the only test of its comparison stays significant.
  CompareResult alone;
  alone.metrics.emplace("one_percent", metric(0.01));
  adjust_for_multiple_tests(alone);
  EXPECT_TRUE(alone.metrics.at("one_percent").significant);
  const std::string alone_text = compare_to_text(alone);
  EXPECT_NE(alone_text.find(" *\n"), std::string::npos) << alone_text;
}

TEST(CompareCli, BadVariantsExitTwoWithOneLine) {
  expect_usage_error("compare spinlock-contention --a lock --b lock=mcs", "--a: bad setting 'lock'");
  expect_usage_error("compare spinlock-contention --a lock=ticket --b nosuch=1", "--b: unknown knob 'nosuch'");
  expect_usage_error("compare spinlock-contention --a lock=ticket --b lock=rwsem", "bad value 'rwsem'");
  expect_usage_error("compare spinlock-contention --a cpus=0 --b lock=mcs", "impossible CPU count 0");
  expect_usage_error("compare spinlock-contention --a lock=ticket --b lock=mcs --seeds 0", "--seeds: 0 is out of range");
  expect_usage_error("compare spinlock-contention --a lock=ticket --b lock=mcs --jobs 0", "--jobs: 0 is out of range");
  expect_usage_error("compare no-such --a x=1 --b y=2", "unknown workload");
  expect_usage_error("compare spinlock-contention --a lock=ticket", "--b");
}
