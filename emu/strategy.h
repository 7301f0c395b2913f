// Scheduling strategies: who performs the next visible operation.
//
// At every sync point the running CPU asks the strategy whether it may go on or which
// other ready CPU goes first. A CPU is "ready at t" when its task wants to perform a
// visible operation (or be dispatched) at its own clock t. Strategies:
//   time     - earliest clock first; equal clocks are broken by a seeded random key, so
//              visible operations happen in global virtual-time order (the default);
//   random   - a uniformly random ready CPU at every sync point (the running one included);
//   pct:D[:K[:W]] - PCT (Burckhardt et al., ASPLOS'10): random distinct CPU priorities,
//              the highest-priority ready CPU runs, and at D-1 random steps out of an
//              expected K (default 100000) the running CPU drops below all others.
//              Priorities compete only among CPUs within W cycles (default 100000) of
//              the earliest ready CPU: PCT assumes threads eventually block, and kernel
//              code that polls (a loop re-reading a flag) would otherwise starve every
//              lower-priority CPU forever;
//   pos      - partial order sampling (Yuan, Yang, Gu, CAV'18): every pending operation
//              (a ready CPU's next visible operation) has a random priority, the highest
//              runs, and the operation that ran gives every pending operation racing with
//              it (same line, another CPU, at least one a store or atomic) a fresh one.
//              The engine names the line of loads, stores and atomics (note_pending());
//              other sync points (barriers, wakeups, IPIs, a CPU resumed from idle or a
//              spin) touch no line for POS and race with nothing. pos:W bounds
//              starvation as PCT's W does: when the chosen CPU is more than W cycles
//              (100000) ahead of the earliest ready CPU, the earliest runs instead;
//   delay:B[:K] - delay bounding (Emmi, Qadeer, Rakamaric, POPL'11) over the time order:
//              time's choice everywhere except at B steps drawn uniformly from 1..K
//              (default 100000), where the CPU time would run is delayed: the next one
//              in time order runs instead (j delays on one step skip j CPUs, round robin
//              over the candidates). delay:0 is time.
//   portfolio[:S,S,...] - not a strategy of its own: seed S runs one of the listed
//              strategies, chosen by the seed (emu/portfolio.h); make_strategy() builds
//              that member. The default of `smpemu fuzz`.
// Strategies whose spec has a K resolve a missing K from a pilot run's step count (the
// CLI, strategy_wants_steps()); make_strategy() alone uses the default.
// Whatever the strategy, each CPU's clock only moves forward, and CPUs that interact
// through a line are ordered by the line's occupancy (coherence.h), so histograms stay
// meaningful under every strategy.
//
// Concurrency: owned by one Machine. Randomness comes from the "sched" stream, and
// delay's delay steps from the "delay" stream (so delay:0 draws exactly what time draws).
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
  /// The engine knows what `c` is about to do: access `line`, a store or atomic if
  /// `is_write`. Called before the pick(c, ...) (or add(c, ...)) of that operation's sync
  /// point, never under `time` (whose hot path pays nothing for it); applies to that call
  /// only. Strategies that order operations by what they touch (pos) keep it; the others
  /// ignore it. A sync point without a call touches no line.
  virtual void note_pending(CpuId c, LineId line, bool is_write) {
    (void)c;
    (void)line;
    (void)is_write;
  }
  /// Work done so far by add(), frontier() and pick(), in the strategy's own unit
  /// (entries or tree nodes examined); 0 where that work is O(1). For tests that bound
  /// the cost of a step, never for anything observable.
  virtual std::uint64_t scan_steps() const { return 0; }
};

/// `time`: earliest clock first; ties broken by a fresh random key per request, then CPU id.
/// The ready set is a binary min-heap; handing the turn from the running CPU to the
/// earliest ready one is a single sift-down (replace the top), the engine's hot path.
class TimeStrategy final : public Strategy {
 public:
  explicit TimeStrategy(std::uint64_t seed) : tie_state_(Rng(seed, "sched").next()) {}
  std::string spec() const override { return "time"; }
  void add(CpuId c, Cycles t) override {
    heap_.push_back({});
    sift_up(heap_.size() - 1, {t, next_tie(), c});
  }
  bool empty() const override { return heap_.empty(); }
  Cycles frontier() const override { return heap_.empty() ? kNever : heap_.front().time; }
  CpuId pick(CpuId cur, Cycles t) override {
    if (cur == kNoCpu) {
      const CpuId top = heap_.front().cpu;
      const Entry last = heap_.back();
      heap_.pop_back();
      if (!heap_.empty()) sift_down(0, last);
      return top;
    }
    return pick_running(cur, t);
  }
  /// pick() for a running CPU (cur != kNoCpu): the engine's hot path. The CPU returned,
  /// if not `cur`, is never later than `t`.
  CpuId pick_running(CpuId cur, Cycles t) {
    const Entry mine{t, next_tie(), cur};
    if (heap_.empty() || before(mine, heap_.front())) return cur;
    const CpuId top = heap_.front().cpu;
    sift_down(0, mine);
    return top;
  }

 private:
  struct Entry {
    Cycles time;
    std::uint32_t tie;
    CpuId cpu;
  };
  static bool before(const Entry& a, const Entry& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.tie != b.tie) return a.tie < b.tie;
    return a.cpu < b.cpu;
  }
  void sift_up(std::size_t i, const Entry& e) {
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  void sift_down(std::size_t i, const Entry& e) {
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }
  /// Tie-break keys: the high half of a 64-bit LCG (Knuth's MMIX constants), seeded
  /// from the "sched" stream. Only the order of equal clocks depends on it, so a cheap
  /// generator is enough on this hot path.
  std::uint32_t next_tie() {
    tie_state_ = tie_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(tie_state_ >> 32);
  }
  std::uint64_t tie_state_;
  std::vector<Entry> heap_;
};

/// Builds a strategy from its spec. Throws std::invalid_argument with a one-line message
/// on a malformed spec.
std::unique_ptr<Strategy> make_strategy(const std::string& spec, int ncpus, std::uint64_t seed);

/// One-line descriptions of the strategies, for `smpemu list`: the spec syntax and what
/// the strategy does.
std::vector<std::pair<std::string, std::string>> strategy_docs();

/// True if `spec` names a strategy that takes an expected run length K and leaves it
/// out (`pct:D`, `delay:B`, a portfolio with such a member): the caller may measure K with a pilot run under `time` (its
/// number of steps) and use strategy_with_steps(). False for malformed specs.
bool strategy_wants_steps(const std::string& spec);

/// `spec` with K = `steps` filled in where strategy_wants_steps(spec) (`pct:3` and 5000
/// give `pct:3:5000`; in a portfolio, every member that wants it, and the bare
/// `portfolio` is spelled out); any other spec unchanged.
std::string strategy_with_steps(const std::string& spec, std::uint64_t steps);

}  // namespace smpemu
