// The portfolio (emu/portfolio.h): `smpemu fuzz` without --strategy runs a mix of
// strategies, one per seed. Members are chosen by the seed alone, a bare `portfolio` is
// spelled out with the pilot's K, each signature names the member that found it first
// and repeats under that member alone, per-member counts add up to the campaign's, and
// jobs, shards and merge give the same result as for a single strategy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "emu/limits.h"
#include "emu/portfolio.h"
#include "emu/strategy.h"
#include "json_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::run_smpemu;
using smpemu::testing::without_timing;
using json = nlohmann::json;

TEST(Portfolio, SeedsPickMembersInOrder) {
  EXPECT_TRUE(is_portfolio("portfolio"));
  EXPECT_TRUE(is_portfolio("portfolio:pos,time"));
  EXPECT_FALSE(is_portfolio("portfolios"));
  EXPECT_FALSE(is_portfolio("pos"));
  EXPECT_EQ(portfolio_members("portfolio"), (std::vector<std::string>{"pos", "pct:3", "time", "random"}));
  EXPECT_EQ(portfolio_member("portfolio", 1), "pos");
  EXPECT_EQ(portfolio_member("portfolio", 2), "pct:3");
  EXPECT_EQ(portfolio_member("portfolio", 4), "random");
  EXPECT_EQ(portfolio_member("portfolio", 5), "pos");
  EXPECT_EQ(portfolio_member("portfolio", 0), "random");  // (0 - 1) mod 4
  EXPECT_EQ(portfolio_member("portfolio:pos,pos,time", 0), "time");
  EXPECT_EQ(portfolio_member("portfolio:pos,pos,time", ~std::uint64_t{0}), "time");  // (2^64-1) - 1 = 2 mod 3
  EXPECT_EQ(portfolio_member("time", 7), "time");
  // The Machine builds the member of its seed.
  EXPECT_EQ(make_strategy("portfolio:pos,random", 4, 1)->spec(), "pos");
  EXPECT_EQ(make_strategy("portfolio:pos,random", 4, 2)->spec(), "random");
}

TEST(Portfolio, StepsFillEveryMemberThatWantsThem) {
  EXPECT_TRUE(strategy_wants_steps("portfolio"));
  EXPECT_TRUE(strategy_wants_steps("portfolio:pos,delay:2"));
  EXPECT_FALSE(strategy_wants_steps("portfolio:pos,pct:3:9"));
  EXPECT_FALSE(strategy_wants_steps("portfolio:nosuch"));
  EXPECT_EQ(strategy_with_steps("portfolio", 77), "portfolio:pos,pct:3:77,time,random");
  EXPECT_EQ(strategy_with_steps("portfolio:delay:1,pct:2:5", 77), "portfolio:delay:1:77,pct:2:5");
  EXPECT_EQ(strategy_with_steps("portfolio:pos,time", 77), "portfolio:pos,time");
}

TEST(Portfolio, MalformedListsAreOneLineErrors) {
  std::string many = "portfolio:time";
  for (std::uint64_t i = 1; i < limits::kPortfolioMembers + 1; ++i) many += ",time";
  for (const std::string& bad : {std::string("portfolio:"), std::string("portfolio:pos,,time"),
                                 std::string("portfolio:pos,"), std::string("portfolio:portfolio"),
                                 std::string("portfolio:fifo"), std::string("portfolio:pct:0"), many})
    EXPECT_THROW(portfolio_members(bad), std::invalid_argument) << bad;
  EXPECT_NO_THROW(portfolio_members(many.substr(0, many.size() - 5)));  // exactly the bound
  expect_usage_error("fuzz abba --strategy portfolio:pos,fifo", "bad portfolio member 'fifo'");
  expect_usage_error("run abba --strategy portfolio:", "bad strategy 'portfolio:'");
  expect_usage_error("fuzz abba --strategy portfolio:portfolio", "strategies other than portfolio");
}

TEST(PortfolioCli, FuzzDefaultsToThePortfolioAndNamesTheFinder) {
  const Exec e = run_smpemu("fuzz suite-account --runs 80 --jobs 2 --json");
  ASSERT_EQ(e.status, 1) << e.err;
  const json j = json::parse(e.out);
  const std::string strategy = j["strategy"];
  ASSERT_EQ(strategy.rfind("portfolio:pos,pct:3:", 0), 0u) << strategy;  // K from the pilot
  EXPECT_EQ(j["settings"]["strategy"], strategy);
  const std::vector<std::string> members = portfolio_members(strategy);
  ASSERT_EQ(j["portfolio"].size(), members.size());
  std::uint64_t runs = 0, bugs = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    EXPECT_EQ(j["portfolio"][i]["strategy"], members[i]);
    EXPECT_EQ(j["portfolio"][i]["runs"], 20u);
    runs += j["portfolio"][i]["runs"].get<std::uint64_t>();
    bugs += j["portfolio"][i]["bugs_found"].get<std::uint64_t>();
  }
  EXPECT_EQ(runs, 80u);
  EXPECT_EQ(bugs, j["bugs_found"].get<std::uint64_t>());
  ASSERT_FALSE(j["signatures"].empty());
  for (const json& s : j["signatures"]) {
    const std::string member = s["strategy"];
    EXPECT_EQ(member, portfolio_member(strategy, s["first_seed"].get<std::uint64_t>()));
    const std::string repro = s["repro"];
    EXPECT_NE(repro.find("--strategy " + member + " "), std::string::npos) << repro;
    // The repro runs that member alone and reports the signature again.
    const Exec r = run_smpemu(repro.substr(repro.find(' ') + 1) + " --json");
    EXPECT_EQ(r.status, 1) << repro;
    EXPECT_EQ(json::parse(r.out)["strategy"], member);
  }
  // Text names the members and the finder.
  const Exec t = run_smpemu("fuzz suite-account --runs 80 --jobs 2");
  EXPECT_NE(t.out.find("portfolio (runs with bugs / runs): pos "), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("found first by: "), std::string::npos) << t.out;
  // `run` with a portfolio runs (and names) its seed's member.
  EXPECT_EQ(json::parse(run_smpemu("run suite-account --strategy portfolio --seed 3 --json").out)["strategy"], "time");
  EXPECT_EQ(json::parse(run_smpemu("run suite-account --strategy portfolio:random,pos --seed 2 --json").out)["strategy"],
            "pos");
  // A single strategy has no portfolio key, and its signatures name it.
  const json one = json::parse(run_smpemu("fuzz suite-account --runs 40 --strategy random --json").out);
  EXPECT_FALSE(one.contains("portfolio"));
  for (const json& s : one["signatures"]) EXPECT_EQ(s["strategy"], "random");
}

TEST(PortfolioCli, JobsShardsAndMergeAgree) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("portfolio-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Exec one = run_smpemu("fuzz suite-stack --runs 120 --jobs 1 --json");
  const Exec two = run_smpemu("fuzz suite-stack --runs 120 --jobs 2 --json");
  ASSERT_EQ(one.status, 1) << one.err;
  EXPECT_EQ(without_timing(json::parse(one.out)), without_timing(json::parse(two.out)));
  std::string files;
  for (int k = 1; k <= 3; ++k) {
    const std::string f = (dir / ("s" + std::to_string(k) + ".json")).string();
    std::ofstream(f) << run_smpemu("fuzz suite-stack --runs 120 --shard " + std::to_string(k) + "/3 --json").out;
    files += " " + f;
  }
  const Exec m = run_smpemu("merge" + files + " --json");
  ASSERT_EQ(m.status, 1) << m.err;
  json a = without_timing(json::parse(one.out)), b = without_timing(json::parse(m.out));
  a.erase("shard");
  b.erase("shard");
  EXPECT_EQ(a, b);

  // A shard file whose member counts or finder do not fit its strategy is refused.
  json bad = json::parse(run_smpemu("fuzz suite-stack --runs 120 --json").out);
  bad["portfolio"][0]["runs"] = bad["portfolio"][0]["runs"].get<std::uint64_t>() + 1;
  std::ofstream(dir / "bad.json") << bad.dump();
  expect_usage_error("merge " + (dir / "bad.json").string(), "portfolio adds up to");
  json who = json::parse(run_smpemu("fuzz suite-stack --runs 120 --json").out);
  ASSERT_FALSE(who["signatures"].empty());
  who["signatures"][0]["strategy"] = "time-travel";
  std::ofstream(dir / "who.json") << who.dump();
  expect_usage_error("merge " + (dir / "who.json").string(), "is not the strategy of seed");
  std::filesystem::remove_all(dir);
}
