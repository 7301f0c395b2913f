// Schedule minimisation: `smpemu shrink FILE` reduces a failing record's decision log
// while the same check still fails, so the schedule that shows a bug has as few
// departures from the default order (earliest clock first, lowest CPU on ties) as
// possible: each remaining decision is a preemption or reordering the bug needs.
//
// Algorithm: delta debugging (Zeller and Hildebrandt, "Simplifying and isolating
// failure-inducing input", TSE 2002), ddmin over the list of decisions. A candidate
// log is replayed (emu/decision_log.h): decisions that no longer apply are ignored,
// and the log the replay actually followed replaces the candidate, so the log only
// ever shrinks and every intermediate record is an exact record of its own run. The
// empty log (the pure default order) is tried first.
//
// The failure that must persist is the target check: that of the first fatal report
// of the replayed original, else of its first report.
//
// Concurrency: runs sequentially on the calling thread (each step depends on the last).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cli/record.h"

namespace smpemu {

struct ShrinkOptions {
  std::uint64_t max_runs = 2000;  ///< replay budget
  /// Called after every replay with (runs so far, current decisions); may be empty.
  std::function<void(std::uint64_t, std::size_t)> progress;
};

struct ShrinkResult {
  Record record;               ///< the smallest failing record found
  std::string check;           ///< the target check
  std::size_t before = 0;      ///< decisions in the original
  std::size_t after = 0;       ///< decisions in the result
  std::uint64_t runs = 0;      ///< replays performed
  bool budget_exhausted = false;
};

/// Shrinks `rec`. Throws ConfigError if the record's replay reports no bug.
ShrinkResult shrink_record(const Record& rec, const ShrinkOptions& opts, StackPool* pool = nullptr);

}  // namespace smpemu
