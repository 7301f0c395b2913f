// The 64-bit digest of a run: a hash of the ordered stream of visible events and
// scheduling decisions. Two runs with the same binary, workload, configuration and seed
// fold the same words in the same order, so their digests are equal; any difference in
// order or content changes it (with overwhelming probability).
//
// Only integers derived from emulated state may be folded: never host addresses, wall
// time, or the iteration order of unordered containers.
#pragma once

#include <cstdint>
#include <string>

namespace smpemu {

/// Kinds of visible event; they are folded into the digest and, later, the trace.
enum class Ev : std::uint8_t {
  Load = 1, Store, Rmw, Barrier, SpinWait, Pick, CtxSwitch, Wakeup, Tick, IpiSend, IpiHandle,
  TaskStart, TaskExit, Bug, Workload
};

class Digest {
 public:
  /// Folds one event: kind, time, cpu and two payload words.
  void add(Ev kind, std::uint64_t time, std::int32_t cpu, std::uint64_t a, std::uint64_t b) {
    mix((static_cast<std::uint64_t>(kind) << 56) ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(cpu)) << 32) ^ a);
    mix(time ^ (b * 0x9e3779b97f4a7c15ULL));
  }
  std::uint64_t value() const { return h_; }
  /// The digest as 16 lower-case hex digits.
  std::string hex() const;

 private:
  void mix(std::uint64_t v) {
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdULL;
    v ^= v >> 33;
    h_ = (h_ ^ v) * 0xc4ceb9fe1a85ec53ULL;
    h_ ^= h_ >> 29;
  }
  std::uint64_t h_ = 0x736d70656d750001ULL;  // "smpemu" + version of the digest scheme
};

inline std::string Digest::hex() const {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 0; i < 16; ++i) s[static_cast<std::size_t>(i)] = digits[(h_ >> (60 - 4 * i)) & 0xf];
  return s;
}

}  // namespace smpemu
