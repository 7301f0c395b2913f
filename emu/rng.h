// Deterministic random numbers: named streams derived from one root seed.
//
// Determinism rule: nothing observable may depend on std::*_distribution (their output
// differs between standard libraries), so the distributions used by the engine and
// workloads are written here. A stream is identified by (root seed, name); adding a new
// stream or drawing more numbers from one stream never shifts another stream, so e.g. a
// workload can change its own randomness without changing the schedule.
//
// Generator: xoshiro256** (Blackman & Vigna, public domain algorithm, written from its
// description), seeded through SplitMix64. Not thread safe; every Machine owns its own.
#pragma once

#include <cstdint>
#include <string_view>

namespace smpemu {

/// SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// 64-bit FNV-1a of a name; used to derive stream seeds from stream names.
inline constexpr std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// One named random stream.
class Rng {
 public:
  /// Stream `name` of root seed `seed`.
  Rng(std::uint64_t seed, std::string_view name) { reseed(seed, name); }

  void reseed(std::uint64_t seed, std::string_view name) {
    std::uint64_t sm = seed ^ fnv1a64(name);
    for (auto& w : s_) w = splitmix64(sm);
  }

  /// Next raw 64-bit value.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  std::uint32_t next32() { return static_cast<std::uint32_t>(next() >> 32); }

  /// Uniform integer in [0, n); n == 0 returns 0. Lemire's multiply-and-reject method,
  /// so the result is unbiased and identical on every platform.
  std::uint64_t below(std::uint64_t n) {
    if (n == 0) return 0;
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Uniform integer in [lo, hi] (inclusive); requires lo <= hi.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t span = hi - lo + 1;  // 0 when [lo, hi] is all 2^64 values
    return span == 0 ? next() : lo + below(span);
  }

  /// True with probability num/den.
  bool chance(std::uint64_t num, std::uint64_t den) { return below(den) < num; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace smpemu
