// Unit tests of the deterministic random streams (emu/rng.h) and the log-linear
// histogram (emu/histogram.h). Every random input comes from a fixed seed, so the
// statistical bounds below are checked on one known sample and cannot flake.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "emu/histogram.h"
#include "emu/rng.h"

using namespace smpemu;

namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

std::vector<std::uint64_t> draw(Rng r, int n) {
  std::vector<std::uint64_t> v;
  for (int i = 0; i < n; ++i) v.push_back(r.next());
  return v;
}

double to_unit(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

}  // namespace

// ---- building blocks: published reference values ------------------------------------

TEST(Rng, SplitMix64MatchesReferenceOutputs) {
  // Reference sequence of SplitMix64 started from state 0 (Vigna's splitmix64.c).
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64(state), 0x06c45d188009454fULL);
  EXPECT_EQ(state, 3 * 0x9e3779b97f4a7c15ULL);
}

TEST(Rng, Fnv1a64MatchesReferenceValues) {
  static_assert(fnv1a64("") == 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

// ---- streams --------------------------------------------------------------------

TEST(Rng, SameSeedAndNameGiveTheSameStream) {
  EXPECT_EQ(draw(Rng(42, "sched"), 1000), draw(Rng(42, "sched"), 1000));
  Rng a(7, "workload.x");
  Rng b(9, "other");
  b.reseed(7, "workload.x");
  EXPECT_EQ(draw(a, 100), draw(b, 100));
}

TEST(Rng, DifferentNamesOrSeedsGiveDifferentStreams) {
  const auto base = draw(Rng(42, "sched"), 64);
  EXPECT_NE(base, draw(Rng(42, "jitter"), 64));
  EXPECT_NE(base, draw(Rng(43, "sched"), 64));
  EXPECT_NE(base, draw(Rng(42, "sched2"), 64));
  // Not merely different sequences: no value of one appears among the first values of
  // the other (a shifted copy of the same stream would share almost all of them).
  const auto other = draw(Rng(42, "jitter"), 64);
  for (std::uint64_t x : base) EXPECT_EQ(std::count(other.begin(), other.end(), x), 0);
}

TEST(Rng, DrawingFromOneStreamDoesNotShiftAnother) {
  Rng a1(5, "a");
  std::vector<std::uint64_t> alone;
  for (int i = 0; i < 100; ++i) alone.push_back(a1.next());

  Rng a2(5, "a");
  Rng b(5, "b");
  std::vector<std::uint64_t> interleaved;
  for (int i = 0; i < 100; ++i) {
    for (int j = 0; j < i % 7; ++j) b.next();
    interleaved.push_back(a2.next());
  }
  EXPECT_EQ(alone, interleaved);
}

TEST(Rng, StreamsOfDifferentNamesAreUncorrelated) {
  // Pearson correlation of paired uniforms from two streams of one seed, and of the same
  // stream name under adjacent seeds. For 20000 independent pairs |r| is ~0.007 (1 sigma).
  const int n = 20000;
  auto corr = [n](Rng x, Rng y) {
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; ++i) {
      const double a = to_unit(x.next()), b = to_unit(y.next());
      sx += a;
      sy += b;
      sxx += a * a;
      syy += b * b;
      sxy += a * b;
    }
    const double cov = sxy / n - (sx / n) * (sy / n);
    const double vx = sxx / n - (sx / n) * (sx / n);
    const double vy = syy / n - (sy / n) * (sy / n);
    return cov / std::sqrt(vx * vy);
  };
  EXPECT_LT(std::abs(corr(Rng(1, "a"), Rng(1, "b"))), 0.04);
  EXPECT_LT(std::abs(corr(Rng(1, "sched"), Rng(2, "sched"))), 0.04);
  EXPECT_LT(std::abs(corr(Rng(1, "spin/0"), Rng(1, "spin/1"))), 0.04);
}

// ---- distributions ----------------------------------------------------------------

TEST(Rng, BelowStaysInRange) {
  Rng r(11, "below");
  const std::uint64_t ns[] = {1, 2, 3, 5, 7, 10, 1000, 1ULL << 32, (1ULL << 63) + 1, kU64Max - 1, kU64Max};
  for (std::uint64_t n : ns)
    for (int i = 0; i < 2000; ++i) ASSERT_LT(r.below(n), n) << "n=" << n;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.below(1), 0u);
  EXPECT_EQ(r.below(0), 0u);
}

TEST(Rng, BelowIsRoughlyUniform) {
  // Chi-square goodness of fit over 10 cells: 9 degrees of freedom, so the statistic is
  // below 27.9 with probability 0.999. The seed is fixed, so this is one fixed sample.
  Rng r(2024, "chi2");
  constexpr int kCells = 10;
  constexpr int kDraws = 100000;
  std::array<int, kCells> counts{};
  for (int i = 0; i < kDraws; ++i) ++counts[r.below(kCells)];
  double chi2 = 0;
  const double expect = static_cast<double>(kDraws) / kCells;
  for (int c : counts) chi2 += (c - expect) * (c - expect) / expect;
  EXPECT_LT(chi2, 27.9);
  for (int c : counts) EXPECT_GT(c, 0);

  // A bound that is not a power of two and above 2^63: a third of the range lies below
  // 2^62. Standard deviation of the fraction over 30000 draws is ~0.0027.
  const std::uint64_t n = 3ULL << 62;
  int low = 0;
  for (int i = 0; i < 30000; ++i) low += r.below(n) < (1ULL << 62);
  EXPECT_NEAR(low / 30000.0, 1.0 / 3.0, 0.015);
}

TEST(Rng, RangeIsInclusiveAndChanceHasItsProbability) {
  Rng r(3, "range");
  bool saw_lo = false, saw_hi = false;
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t v = r.range(10, 15);
    ASSERT_GE(v, 10u);
    ASSERT_LE(v, 15u);
    saw_lo |= v == 10;
    saw_hi |= v == 15;
  }
  EXPECT_TRUE(saw_lo);
  EXPECT_TRUE(saw_hi);
  EXPECT_EQ(r.range(7, 7), 7u);
  EXPECT_LE(r.range(0, kU64Max), kU64Max);  // full range: below(0) path, must not trap

  int hits = 0;
  for (int i = 0; i < 40000; ++i) hits += r.chance(1, 4);
  EXPECT_NEAR(hits / 40000.0, 0.25, 0.015);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(r.chance(0, 5));
    EXPECT_TRUE(r.chance(5, 5));
  }
}

// ---- histogram ----------------------------------------------------------------------

TEST(Histogram, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.sum(), 0u);
  EXPECT_EQ(h.mean(), 0u);
  EXPECT_EQ(h.percentile(5000), 0u);
  EXPECT_EQ(h.percentile(10000), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  constexpr std::uint64_t kSub = 1u << Histogram::kSubBits;
  for (std::uint64_t v = 0; v < kSub; ++v) {
    EXPECT_EQ(Histogram::bucket_of(v), v);
    EXPECT_EQ(Histogram::bucket_low(v), v);
    EXPECT_EQ(Histogram::bucket_high(v), v);
  }
  Histogram h;
  for (std::uint64_t v = 0; v < kSub; ++v) h.record(v);  // 0..63 once each
  EXPECT_EQ(h.count(), kSub);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), kSub - 1);
  EXPECT_EQ(h.sum(), kSub * (kSub - 1) / 2);
  // With 64 samples the rank of permyriad p is ceil(64 p / 10000); the value is rank-1.
  for (std::uint32_t p : {1u, 1000u, 2500u, 5000u, 7500u, 9000u, 9999u}) {
    const std::uint64_t rank = (kSub * p + 9999) / 10000;
    EXPECT_EQ(h.percentile(p), rank - 1) << "p=" << p;
  }
  EXPECT_EQ(h.percentile(0), 0u);
  EXPECT_EQ(h.percentile(10000), kSub - 1);

  Histogram g;
  g.record(17);
  g.record(17);
  g.record(3);
  EXPECT_EQ(g.percentile(5000), 17u);
  EXPECT_EQ(g.percentile(3000), 3u);
  EXPECT_EQ(g.mean(), 12u);  // 37 / 3 rounded down
}

TEST(Histogram, BucketsCoverTheValueWithBoundedWidth) {
  Rng r(77, "buckets");
  std::vector<std::uint64_t> values = {64, 65, 127, 128, 129, 1000, 4095, 4096, 1ULL << 40, (1ULL << 63) - 1,
                                       1ULL << 63, kU64Max};
  for (int i = 0; i < 5000; ++i) values.push_back(r.next() >> r.below(64));
  std::size_t prev_bucket = 0;
  std::uint64_t prev_v = 0;
  std::sort(values.begin(), values.end());
  for (std::uint64_t v : values) {
    const std::size_t b = Histogram::bucket_of(v);
    const std::uint64_t lo = Histogram::bucket_low(b), hi = Histogram::bucket_high(b);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    // Width at most lo / 2^kSubBits: the relative error bound the header promises.
    ASSERT_LE(hi - lo, lo >> Histogram::kSubBits) << v;
    ASSERT_GE(b, prev_bucket) << "buckets must be monotone in the value: " << prev_v << " then " << v;
    prev_bucket = b;
    prev_v = v;
  }
  EXPECT_EQ(Histogram::bucket_high(Histogram::bucket_of(kU64Max)), kU64Max);
  // Adjacent buckets tile the value range with no gap.
  for (std::size_t b = 0; b + 1 < Histogram::bucket_of(kU64Max); ++b)
    ASSERT_EQ(Histogram::bucket_high(b) + 1, Histogram::bucket_low(b + 1)) << b;
}

TEST(Histogram, PercentilesOfAKnownDistributionAreWithinRelativeError) {
  // 1..100000 once each: the sample of rank k is k.
  Histogram h;
  constexpr std::uint64_t kN = 100000;
  for (std::uint64_t v = 1; v <= kN; ++v) h.record(v);
  EXPECT_EQ(h.count(), kN);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), kN);
  EXPECT_EQ(h.sum(), kN * (kN + 1) / 2);
  EXPECT_EQ(h.mean(), (kN + 1) / 2);
  for (std::uint32_t p : {1u, 10u, 100u, 1000u, 2500u, 5000u, 9000u, 9900u, 9990u, 9999u}) {
    const std::uint64_t truth = (kN * p + 9999) / 10000;
    const std::uint64_t got = h.percentile(p);
    EXPECT_GE(got, truth) << "p=" << p;  // highest value equivalent to the bucket
    EXPECT_LE(got, truth + (truth >> Histogram::kSubBits)) << "p=" << p;
  }
  EXPECT_EQ(h.percentile(10000), kN);
  EXPECT_EQ(h.percentile(5000), 50175u);  // bucket [49664, 50175] of width 512
}

TEST(Histogram, PercentilesOfASkewedSampleMatchTheSortedSample) {
  Rng r(31337, "skew");
  Histogram h;
  std::vector<std::uint64_t> sample;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t v = r.below(std::uint64_t{1} << r.below(40));  // log-uniform-ish
    sample.push_back(v);
    h.record(v);
  }
  std::sort(sample.begin(), sample.end());
  EXPECT_EQ(h.min(), sample.front());
  EXPECT_EQ(h.max(), sample.back());
  for (std::uint32_t p : {1u, 500u, 5000u, 9000u, 9900u, 9990u, 9999u}) {
    const std::uint64_t rank = (sample.size() * p + 9999) / 10000;
    const std::uint64_t truth = sample[rank - 1];
    const std::uint64_t got = h.percentile(p);
    EXPECT_GE(got, truth) << "p=" << p;
    EXPECT_LE(got, truth + (truth >> Histogram::kSubBits)) << "p=" << p;
  }
}

TEST(Histogram, RecordNEqualsRepeatedRecord) {
  Histogram a, b;
  a.record_n(1234, 5);
  a.record_n(7, 0);  // no samples: must not touch min
  for (int i = 0; i < 5; ++i) b.record(1234);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.min(), 1234u);
  EXPECT_EQ(a.buckets(), b.buckets());
  EXPECT_EQ(a.sum(), b.sum());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
}

TEST(Histogram, MergeEqualsRecordingEverythingIntoOne) {
  Rng r(8, "merge");
  Histogram all, parts[3];
  for (int i = 0; i < 30000; ++i) {
    const std::uint64_t v = r.next() >> r.below(64);
    all.record(v);
    parts[r.below(3)].record(v);
  }
  Histogram merged;
  merged.merge(Histogram{});  // merging an empty histogram is a no-op
  EXPECT_EQ(merged.count(), 0u);
  for (const Histogram& p : parts) merged.merge(p);
  merged.merge(Histogram{});
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_EQ(merged.sum(), all.sum());
  EXPECT_EQ(merged.mean(), all.mean());
  // Bucket vectors may differ in trailing zero length only; compare as counts.
  auto trimmed = [](std::vector<std::uint64_t> v) {
    while (!v.empty() && v.back() == 0) v.pop_back();
    return v;
  };
  EXPECT_EQ(trimmed(merged.buckets()), trimmed(all.buckets()));
  for (std::uint32_t p = 0; p <= 10000; p += 125) EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;

  // Merge order does not matter.
  Histogram reversed;
  for (int i = 2; i >= 0; --i) reversed.merge(parts[i]);
  EXPECT_EQ(trimmed(reversed.buckets()), trimmed(all.buckets()));
  EXPECT_EQ(reversed.min(), all.min());

  // Merging into a histogram whose min is larger than the other's lowers the min.
  Histogram hi, lo;
  hi.record(1000);
  lo.record(3);
  hi.merge(lo);
  EXPECT_EQ(hi.min(), 3u);
  EXPECT_EQ(hi.max(), 1000u);
  EXPECT_EQ(hi.count(), 2u);
}

TEST(Histogram, HugeValuesKeepExactSumAndMean) {
  Histogram h;
  h.record(kU64Max);
  h.record(kU64Max);
  EXPECT_EQ(h.max(), kU64Max);
  EXPECT_EQ(h.min(), kU64Max);
  EXPECT_EQ(h.mean(), kU64Max);  // sum is 2^65 - 2: needs the 128-bit accumulator
  EXPECT_EQ(h.percentile(5000), kU64Max);
}
