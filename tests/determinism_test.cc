// Determinism is the product: the same (binary, workload, config, seed) gives the same
// digest, different seeds give different digests, and runs on several host threads at
// once give the same digests as one after another (no hidden global state).
#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "test_util.h"

using namespace smpemu;
using smpemu::testing::spin_config;

namespace {

std::uint64_t digest_of(const RunConfig& cfg, StackPool* pool = nullptr) {
  RunResult r = run_once(cfg, pool);
  EXPECT_TRUE(r.bugs.empty()) << r.bugs.front().message;
  return r.stats.digest;
}

}  // namespace

TEST(Determinism, TwoHundredSeedsTwiceEachMatch) {
  const char* locks[] = {"tas", "ticket", "mcs"};
  std::set<std::uint64_t> distinct;
  StackPool pool;
  for (std::uint64_t seed = 1; seed <= 210; ++seed) {
    const RunConfig cfg = spin_config(4 + static_cast<int>(seed % 5), seed, locks[seed % 3], "150000");
    const std::uint64_t a = digest_of(cfg, &pool);
    const std::uint64_t b = digest_of(cfg, &pool);
    ASSERT_EQ(a, b) << "seed " << seed << " is not reproducible";
    distinct.insert(a);
  }
  EXPECT_EQ(distinct.size(), 210u) << "different seeds gave the same digest";
}

TEST(Determinism, DifferentSeedsDifferUnderEveryStrategy) {
  for (const char* strategy : {"time", "random", "pct:3"}) {
    std::set<std::uint64_t> distinct;
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      RunConfig cfg = spin_config(6, seed, "mcs", "100000");
      cfg.params.strategy = strategy;
      const std::uint64_t a = digest_of(cfg);
      ASSERT_EQ(a, digest_of(cfg)) << strategy << " seed " << seed;
      distinct.insert(a);
    }
    EXPECT_EQ(distinct.size(), 30u) << strategy;
  }
}

TEST(Determinism, ConfigurationChangesTheDigest) {
  const RunConfig base = spin_config(8, 3, "ticket", "200000");
  const std::uint64_t d = digest_of(base);
  RunConfig other = base;
  other.set["cs"] = "1001";
  EXPECT_NE(d, digest_of(other));
  other = base;
  other.machine = "xeon80";
  EXPECT_NE(d, digest_of(other));
  other = base;
  other.params.jitter_pct = 3;
  EXPECT_NE(d, digest_of(other));
}

TEST(Determinism, ParallelHostThreadsGiveTheSameDigests) {
  constexpr int kSeeds = 40;
  std::vector<std::uint64_t> serial(kSeeds), parallel(kSeeds);
  for (int i = 0; i < kSeeds; ++i) serial[static_cast<std::size_t>(i)] = digest_of(spin_config(8, static_cast<std::uint64_t>(i + 1), "ticket", "100000"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([t, &parallel] {
      StackPool pool;  // one pool per host thread
      for (int i = t; i < kSeeds; i += 2) {
        RunResult r = run_once(spin_config(8, static_cast<std::uint64_t>(i + 1), "ticket", "100000"), &pool);
        parallel[static_cast<std::size_t>(i)] = r.stats.digest;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(serial, parallel);
}
