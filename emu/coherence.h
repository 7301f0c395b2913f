// Cache-line coherence model: what a load, store or atomic costs, and when it completes.
//
// Shared memory is divided into lines (LineId). Each line is in one of three states:
//   uncached   - no CPU holds it (owner == kNoCpu, no sharers); an access fetches it
//                from memory;
//   exclusive  - one CPU owns it (owner), as in MESI's M/E; only that CPU may hit;
//   shared     - one or more CPUs hold read copies (sharer bits), owner == kNoCpu.
// A load by a non-holder transfers the line from the owner (which becomes a sharer) or
// from the nearest sharer. A store or RMW by a non-owner transfers the line and
// invalidates every other copy: it costs the transfer from the farthest holder plus
// `inval_per_sharer` for each further sharer.
//
// Invalidations are sent in parallel: a write to a line with many sharers costs the
// transfer from the farthest of them plus a small `inval_per_sharer` for each further
// one (the acks overlap), as on directory and broadcast protocols.
//
// Occupancy: a line serves one transfer at a time, but only part of a transfer
// serialises. A transfer of cost c is a request leg (request_leg_pct of c: the request
// travelling to the holder or home) and the rest (the reply, the invalidation acks, an
// atomic's own work). The request leg overlaps with whatever the line is doing; the rest
// starts at max(request time + leg, busy_until) and keeps the line busy until it
// completes. Alone on a line an access costs c; behind a queue, each further one adds
// only its serialising part. Queuing is what makes a test-and-set or ticket lock
// hand-off cost O(waiters) transfers while a queue lock's costs one (docs/ENGINE.md,
// "Coherence model"). Hits use no interconnect and neither wait for nor occupy the line.
//
// Causality: every access is performed at a time no earlier than the accesses it is
// ordered after on the same line. A load is ordered after the last store (it may see
// its value); a store or RMW after the last store and every load since (they must not
// see its value). Under `time` the strategy already runs accesses in clock order; under
// `random` and `pct` a CPU whose clock is behind is moved forward to the time of the
// access it follows (a Lamport clock per line), so nothing is observed at a virtual
// time before it happened, whatever order the strategy chose.
//
// Pricing a shared line costs O(sharer words x distance classes), not O(sharers): each
// CPU has a bitmap of the other CPUs per distance class, and the nearest (farthest)
// sharer's transfer is that of the cheapest (dearest) class whose bitmap meets the
// sharers.
//
// Concurrency: owned by one Machine; the engine calls access() only for the CPU that is
// performing its visible operation, in the global order the strategy chose. State
// changes take effect in that order, so a later access always observes earlier ones.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "emu/rng.h"
#include "emu/topology.h"
#include "emu/types.h"

namespace smpemu {

enum class Access : std::uint8_t { Load, Store, Rmw };

/// State of one line. Engine-owned: only CoherenceModel and Machine change it.
struct LineState {
  Cycles busy_until = 0;     ///< the line serves no new transfer before this time
  std::uint64_t version = 0; ///< bumped by every write that changed a value (wakes spinners)
  CpuId owner = kNoCpu;      ///< exclusive holder, or kNoCpu
  std::uint32_t nsharers = 0;///< read copies (the owner is not counted)
  CpuId wait_head = kNoCpu;  ///< first CPU spin-waiting for this line to change
  std::uint64_t transfers = 0;  ///< statistics: transfers served
  Cycles written_at = 0;     ///< issue time of the last store or RMW (causality)
  Cycles read_at = 0;        ///< latest issue time of a load since then (causality)
};

class CoherenceModel {
 public:
  /// `jitter_pct` > 0 adds a uniform random 0..jitter_pct% to every transfer cost,
  /// drawn from `jitter` (which must outlive the model).
  CoherenceModel(const Topology& topo, const CostTable& costs, Rng* jitter, std::uint32_t jitter_pct);

  /// Allocates a new line, initially uncached. Ids are dense, from 0, in call order.
  LineId new_line();
  std::size_t nlines() const { return lines_.size(); }

  /// Performs an access by `cpu` ready to issue at time `t`. It issues at `t`, or later
  /// if the line's last conflicting access issued later (see Causality above); returns
  /// the completion time.
  Cycles access(LineId id, CpuId cpu, Access kind, Cycles t);

  LineState& line(LineId id) { return lines_[id]; }
  const LineState& line(LineId id) const { return lines_[id]; }
  /// True if `cpu` holds a copy (shared or exclusive).
  bool holds(LineId id, CpuId cpu) const;
  /// Cost of moving a line between two CPUs.
  Cycles transfer_cost(CpuId a, CpuId b) const {
    return costs_.transfer[dist_[static_cast<std::size_t>(a) * ncpus_ + static_cast<std::size_t>(b)]];
  }
  /// `c` plus the seeded jitter, if any.
  Cycles jittered(Cycles c) { return jitter_pct_ == 0 ? c : jitter_slow(c); }
  /// Sharer-bitmap words examined so far to price transfers (for tests that bound the
  /// cost of an access: O(words x distance classes), not O(sharers)).
  std::uint64_t scan_words() const { return scan_words_; }

 private:
  Cycles jitter_slow(Cycles c);
  std::uint64_t* sharer_words(LineId id) { return &sharers_[static_cast<std::size_t>(id) * words_]; }
  const std::uint64_t* sharer_words(LineId id) const {
    return &sharers_[static_cast<std::size_t>(id) * words_];
  }

  /// The transfer cost from the sharer of `w` nearest to `cpu` (`nearest`) or farthest
  /// from it, `cpu` itself excluded; kNever if `w` has no other CPU.
  Cycles sharer_cost(const std::uint64_t* w, CpuId cpu, bool nearest);

  CostTable costs_;
  std::size_t ncpus_;
  std::size_t words_;                    // 64-bit sharer words per line
  std::vector<std::uint8_t> dist_;       // ncpus x ncpus distance classes
  std::vector<LineState> lines_;
  std::vector<std::uint64_t> sharers_;   // words_ per line
  // For each CPU and distance class, the other CPUs at that distance as a sparse bitmap:
  // the nonzero words (index, bits) of entry cpu * kDistanceClasses + class lie in
  // mask_words_[mask_start_[entry] .. mask_start_[entry + 1]). A transfer is priced by
  // testing a few masks against the sharers, not by visiting every sharer. by_cost_: the
  // classes ordered by transfer cost (ties by class).
  struct MaskWord {
    std::size_t index;
    std::uint64_t bits;
  };
  std::vector<MaskWord> mask_words_;
  std::vector<std::size_t> mask_start_;
  std::array<std::uint8_t, kDistanceClasses> by_cost_{};
  std::uint64_t scan_words_ = 0;
  Rng* jitter_;
  std::uint32_t jitter_pct_;
};

}  // namespace smpemu
