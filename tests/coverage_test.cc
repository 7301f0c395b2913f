// Interleaving coverage (emu/coverage.h, --coverage on): which pairs of conflicting
// accesses a run performed, by code site and in order. The pair rules on hand-made
// access sequences; that collecting never changes a run; that campaign coverage is the
// same with any --jobs and sharding, grows as the table says, and that merge checks it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "emu/coverage.h"
#include "json_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::run_smpemu;
using smpemu::testing::without_timing;
using json = nlohmann::json;

namespace {

Where at(unsigned line) { return Where{"mm/example.cc", "f", line}; }


}  // namespace

TEST(InterleavingCoverage, PairsConflictingAccessesOfDifferentCpusInOrder) {
  InterleavingCoverage c;
  c.access(0, 0, true, at(10));  // W(a) on CPU 0
  c.access(0, 0, false, at(11));  // its own read: no pair
  EXPECT_EQ(c.size(), 0u);
  c.access(0, 1, false, at(20));  // R(b) on CPU 1 after W(a): (W a, R b)
  EXPECT_EQ(c.size(), 1u);
  c.access(0, 1, false, at(20));  // the same pair again
  EXPECT_EQ(c.size(), 1u);
  c.access(0, 0, true, at(12));  // W(c) on CPU 0 after R(b): (R b, W c); W-W on one CPU is none
  EXPECT_EQ(c.size(), 2u);
  c.access(1, 2, false, at(30));  // another line: nothing written there yet
  c.access(1, 3, false, at(31));  // two reads never conflict
  EXPECT_EQ(c.size(), 2u);
  c.access(1, 2, true, at(32));  // W after reads: pairs with the latest other-CPU read
  EXPECT_EQ(c.size(), 3u);
  const auto before = c.pairs();
  c.access(1, 3, true, at(33));  // W after another CPU's W: (W 32, W 33)
  EXPECT_EQ(c.size(), 4u);
  const auto after = c.pairs();
  EXPECT_TRUE(std::is_sorted(after.begin(), after.end()));
  for (std::uint64_t p : before) EXPECT_NE(std::find(after.begin(), after.end(), p), after.end());
}

TEST(InterleavingCoverage, OrderAndKindAreDistinctPairs) {
  InterleavingCoverage ab, ba, kinds;
  ab.access(0, 0, true, at(1));
  ab.access(0, 1, true, at(2));
  ba.access(0, 1, true, at(2));
  ba.access(0, 0, true, at(1));
  kinds.access(0, 0, true, at(1));
  kinds.access(0, 1, false, at(2));  // a read at line 2 is another site than a write there
  ASSERT_EQ(ab.size(), 1u);
  ASSERT_EQ(ba.size(), 1u);
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_NE(ab.pairs(), ba.pairs());
  EXPECT_NE(ab.pairs(), kinds.pairs());
  // Keys depend on the file's text, not the address of its literal.
  static const char other_copy[] = "mm/example.cc";
  InterleavingCoverage same;
  same.access(0, 0, true, Where{other_copy, "g", 1});
  same.access(0, 1, true, Where{other_copy, "g", 2});
  EXPECT_EQ(same.pairs(), ab.pairs());
}

TEST(CoverageCli, CollectingNeverChangesARun) {
  for (const char* strategy : {"time", "random", "pct:3", "pos"})
    for (int seed = 1; seed <= 3; ++seed) {
      const std::string base = std::string("run truncate-latency --set truncates=2 --strategy ") + strategy +
                               " --seed " + std::to_string(seed) + " --json";
      const json off = json::parse(run_smpemu(base).out);
      const Exec e = run_smpemu(base + " --coverage on");
      const json on = json::parse(e.out);
      EXPECT_EQ(off["digest"], on["digest"]) << base;
      EXPECT_FALSE(off.contains("coverage"));
      ASSERT_TRUE(on.contains("coverage")) << base;
      EXPECT_GT(on["coverage"]["pairs"].get<std::uint64_t>(), 0u) << base;
      // The same seed gives the same pairs.
      EXPECT_EQ(json::parse(run_smpemu(base + " --coverage on").out)["coverage"], on["coverage"]);
    }
  EXPECT_NE(run_smpemu("run abba --coverage on").out.find("conflicting-access pairs"), std::string::npos);
  expect_usage_error("run abba --coverage maybe", "--coverage: maybe not in {on,off}");
}

TEST(CoverageCli, CampaignCoverageAgreesAcrossJobsShardsAndMerge) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("coverage-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string fuzz = "fuzz suite-wsq --runs 150 --coverage on --json";
  const Exec one = run_smpemu(fuzz + " --jobs 1");
  const Exec two = run_smpemu(fuzz + " --jobs 2");
  const json j = json::parse(one.out);
  EXPECT_EQ(without_timing(j), without_timing(json::parse(two.out)));
  ASSERT_TRUE(j.contains("coverage")) << one.out;
  EXPECT_EQ(j["settings"]["coverage"], "on");
  const json& c = j["coverage"];
  EXPECT_EQ(c["pairs"].get<std::uint64_t>(), c["first_seeds"].size());
  EXPECT_GT(c["pairs"].get<std::uint64_t>(), 1u);
  // growth: cumulative pairs after 1, 10, 100 and all 150 seeds; never falls, ends at pairs.
  ASSERT_EQ(c["growth"].size(), 4u);
  std::uint64_t last = 0;
  for (const json& g : c["growth"]) {
    EXPECT_GE(g["pairs"].get<std::uint64_t>(), last);
    last = g["pairs"];
  }
  EXPECT_EQ(c["growth"].back()["seeds"], 150u);
  EXPECT_EQ(last, c["pairs"].get<std::uint64_t>());
  // Each pair's first seed is the smallest seed whose run performed it.
  for (const auto& [pair, seed] : c["first_seeds"].items()) {
    EXPECT_GE(seed.get<std::uint64_t>(), 1u);
    EXPECT_LE(seed.get<std::uint64_t>(), 150u);
  }
  EXPECT_FALSE(json::parse(run_smpemu("fuzz suite-wsq --runs 20 --json").out).contains("coverage"));

  std::string files;
  for (int k = 1; k <= 2; ++k) {
    const std::string f = (dir / ("s" + std::to_string(k) + ".json")).string();
    std::ofstream(f) << run_smpemu(fuzz + " --shard " + std::to_string(k) + "/2").out;
    files += " " + f;
  }
  const Exec m = run_smpemu("merge" + files + " --json");
  json a = without_timing(j), b = without_timing(json::parse(m.out));
  a.erase("shard");
  b.erase("shard");
  EXPECT_EQ(a["coverage"], b["coverage"]);
  EXPECT_EQ(a, b);

  // Shards with and without coverage do not merge; tampered coverage is refused.
  const std::string plain = (dir / "plain.json").string();
  std::ofstream(plain) << run_smpemu("fuzz suite-wsq --runs 150 --json --shard 2/2").out;
  expect_usage_error("merge " + (dir / "s1.json").string() + " " + plain, "settings");
  json bad = j;
  bad["coverage"]["pairs"] = c["pairs"].get<std::uint64_t>() + 1;
  std::ofstream(dir / "bad.json") << bad.dump();
  expect_usage_error("merge " + (dir / "bad.json").string(), "coverage.pairs is not the");
  json key = j;
  key["coverage"]["first_seeds"]["not-hex"] = 1;
  std::ofstream(dir / "key.json") << key.dump();
  expect_usage_error("merge " + (dir / "key.json").string(), "a pair key is 16 hex digits");
  json gone = j;
  gone.erase("coverage");
  std::ofstream(dir / "gone.json") << gone.dump();
  expect_usage_error("merge " + (dir / "gone.json").string(), "coverage missing with settings.coverage on");
  std::filesystem::remove_all(dir);
}
