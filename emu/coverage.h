// Interleaving coverage: which pairs of conflicting accesses a run performed, in order.
//
// Two accesses conflict when they touch the same line from different CPUs and at least
// one of them writes (a store or an atomic). A pair is identified by the code sites of
// both accesses, in the order they happened, and whether each wrote: "CPU x stored at
// mm/truncate.cc:88, then CPU y loaded at mm/memory.cc:412". This is the coverage of
// interleavings of Snowboard (SOSP'21) and Krace's alias coverage (S&P'20): a schedule
// that makes a new pair happen has ordered two racing operations in a way no earlier
// schedule did, which plain code coverage cannot tell.
//
// Per line the model keeps the last write and the last read by another CPU than that
// writer; an access pairs with the last write (if it came from another CPU), and a write
// also with the last read (likewise). So R(a) W(b) on a line gives (R a, W b), W(a) R(b)
// gives (W a, R b), and a line read by many CPUs before a write pairs the write with
// the latest of those reads only.
//
// Sites are source positions (emu/callpath.h Where): the kernel shim's accesses
// (READ_ONCE, WRITE_ONCE, atomics, bitops) name their caller's line, the engine's own
// accesses (lock internals) a line of the engine. A pair's key is a 64-bit hash of the
// two sites' file names (text, not addresses: keys are equal across processes of one
// source tree), lines and kinds, so campaigns on several machines can unite their pairs.
//
// Cost: nothing unless MachineParams::coverage is on; then a hash lookup per access.
// Nothing here reaches the digest or changes a schedule.
// Concurrency: owned by one Machine; called by the CPU whose turn it is.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "emu/callpath.h"
#include "emu/types.h"

namespace smpemu {

class InterleavingCoverage {
 public:
  /// CPU `cpu` accessed `line` at `site`; `is_write` for stores and atomics.
  void access(LineId line, CpuId cpu, bool is_write, Where site);
  /// The distinct pairs seen, as keys, ascending.
  std::vector<std::uint64_t> pairs() const;
  std::size_t size() const { return pairs_.size(); }

 private:
  struct Last {
    std::uint64_t site = 0;  // site key (0: none yet)
    CpuId cpu = kNoCpu;
  };
  struct LineLast {
    Last write, read;
  };
  std::uint64_t site_key(Where site, bool is_write);
  void pair(std::uint64_t first, std::uint64_t second) { pairs_.insert(first * 0x9E3779B97F4A7C15ULL ^ second); }

  std::unordered_map<std::uint64_t, std::uint64_t> sites_;  // (file pointer, line, kind) -> key
  std::vector<LineLast> lines_;                              // by LineId
  std::unordered_set<std::uint64_t> pairs_;
};

}  // namespace smpemu
