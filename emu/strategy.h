// Scheduling strategies: who performs the next visible operation.
//
// At every sync point the running CPU asks the strategy whether it may go on or which
// other ready CPU goes first. A CPU is "ready at t" when its task wants to perform a
// visible operation (or be dispatched) at its own clock t. Strategies:
//   time     - earliest clock first; equal clocks are broken by a seeded random key, so
//              visible operations happen in global virtual-time order (the default);
//   random   - a uniformly random ready CPU at every sync point (the running one included);
//   pct:D[:K]- PCT (Burckhardt et al., ASPLOS'10): random distinct CPU priorities, the
//              highest-priority ready CPU runs, and at D-1 random steps out of an
//              expected K (default 100000) the running CPU drops below all others.
// Whatever the strategy, each CPU's clock only moves forward, and CPUs that interact
// through a line are ordered by the line's occupancy (coherence.h), so histograms stay
// meaningful under random and pct.
//
// Concurrency: owned by one Machine. Randomness comes from the "sched" stream only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emu/rng.h"
#include "emu/types.h"

namespace smpemu {

class Strategy {
 public:
  virtual ~Strategy() = default;
  /// Spec string that recreates this strategy ("time", "random", "pct:3:100000").
  virtual std::string spec() const = 0;
  /// CPU `c` becomes ready at time `t`. It must not already be in the ready set.
  virtual void add(CpuId c, Cycles t) = 0;
  virtual bool empty() const = 0;
  /// Earliest ready time, or kNever. Timed events due before it run first.
  virtual Cycles frontier() const = 0;
  /// Chooses the CPU that performs the next visible operation. `cur` (kNoCpu if none) is
  /// ready at `t` and not in the set. Returns `cur`, leaving the set unchanged, or another
  /// CPU, which leaves the set while `cur` joins it. Requires cur != kNoCpu or !empty().
  virtual CpuId pick(CpuId cur, Cycles t) = 0;
};

/// Builds a strategy from its spec. Throws std::invalid_argument with a one-line message
/// on a malformed spec.
std::unique_ptr<Strategy> make_strategy(const std::string& spec, int ncpus, std::uint64_t seed);

/// One-line descriptions of the strategies, for `smpemu list`.
std::vector<std::pair<std::string, std::string>> strategy_docs();

}  // namespace smpemu
