// Log-linear (HDR-style) histogram of non-negative integer samples (cycles).
//
// Values below 2^kSubBits are counted exactly; above that every power-of-two range is
// split into 2^kSubBits equal sub-buckets, so a reported percentile is within
// 2^-kSubBits (1.6%) of the true sample. min, max, count and sum are exact.
// Percentiles report the highest value equivalent to the bucket (as HdrHistogram does),
// clamped to the exact max. Histograms merge by adding counts, so results from many runs
// or host threads combine exactly and in any order.
//
// Why our own: HdrHistogram_c is not packaged in Debian 12, and
// the engine needs only record/merge/percentile with integer-exact, platform-independent
// output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace smpemu {

class Histogram {
 public:
  static constexpr int kSubBits = 6;

  /// Adds one sample. Samples are non-negative intervals: a value of 2^63 or more is a
  /// difference that ran backwards, and asserts in Debug builds.
  void record(std::uint64_t v) { record_n(v, 1); }
  /// Adds `n` samples of value `v`.
  void record_n(std::uint64_t v, std::uint64_t n);
  /// Adds every sample of `other`.
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  std::uint64_t sum() const { return sum_; }
  /// Mean rounded down; 0 when empty.
  std::uint64_t mean() const { return count_ ? static_cast<std::uint64_t>(sum_ / count_) : 0; }
  /// Value at or below which `permyriad`/10000 of the samples lie (e.g. 9990 = p99.9).
  std::uint64_t percentile(std::uint32_t permyriad) const;

  /// Bucket index of a value, and the [lowest, highest] values equivalent to a bucket.
  static std::size_t bucket_of(std::uint64_t v);
  static std::uint64_t bucket_low(std::size_t b);
  static std::uint64_t bucket_high(std::size_t b);

  /// Raw bucket counts (index = bucket), for exporters such as log2 terminal histograms.
  const std::vector<std::uint64_t>& buckets() const { return buckets_; }

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace smpemu
