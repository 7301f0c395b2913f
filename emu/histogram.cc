#include "emu/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace smpemu {

namespace {
constexpr std::uint64_t kSub = std::uint64_t{1} << Histogram::kSubBits;
}

std::size_t Histogram::bucket_of(std::uint64_t v) {
  if (v < kSub) return static_cast<std::size_t>(v);
  const int e = 63 - std::countl_zero(v);  // e >= kSubBits
  const int shift = e - kSubBits;
  const std::uint64_t mantissa = (v >> shift) & (kSub - 1);
  return static_cast<std::size_t>(kSub + static_cast<std::uint64_t>(shift) * kSub + mantissa);
}

std::uint64_t Histogram::bucket_low(std::size_t b) {
  if (b < kSub) return b;
  const std::uint64_t shift = (b - kSub) / kSub;
  const std::uint64_t mantissa = (b - kSub) % kSub;
  return (kSub + mantissa) << shift;
}

std::uint64_t Histogram::bucket_high(std::size_t b) {
  if (b < kSub) return b;
  const std::uint64_t shift = (b - kSub) / kSub;
  return bucket_low(b) + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record_n(std::uint64_t v, std::uint64_t n) {
  // A sample of 2^63 cycles or more (a century) is an interval that ran backwards.
  assert(v < (std::uint64_t{1} << 63) && "negative interval recorded in a histogram");
  if (n == 0) return;
  const std::size_t b = bucket_of(v);
  if (b >= buckets_.size()) buckets_.resize(b + 1, 0);
  buckets_[b] += n;
  if (count_ == 0 || v < min_) min_ = v;
  if (v > max_) max_ = v;
  count_ += n;
  sum_ += static_cast<unsigned __int128>(v) * n;
}

void Histogram::merge(const Histogram& o) {
  if (o.count_ == 0) return;
  if (o.buckets_.size() > buckets_.size()) buckets_.resize(o.buckets_.size(), 0);
  for (std::size_t i = 0; i < o.buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
  if (count_ == 0 || o.min_ < min_) min_ = o.min_;
  max_ = std::max(max_, o.max_);
  count_ += o.count_;
  sum_ += o.sum_;
}

std::uint64_t Histogram::percentile(std::uint32_t permyriad) const {
  if (count_ == 0) return 0;
  if (permyriad >= 10000) return max_;
  // Rank of the sample, 1-based, rounded up: integer arithmetic only.
  std::uint64_t rank = static_cast<std::uint64_t>(
      (static_cast<unsigned __int128>(count_) * permyriad + 9999) / 10000);
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::clamp(bucket_high(b), min_, max_);
  }
  return max_;
}

}  // namespace smpemu
