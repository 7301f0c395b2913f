// Mutations of scheduling decision logs (emu/decision_log.h), AFL-style, for
// coverage-guided campaigns (cli/guided.h): a parent run's log, edited a few times, is
// replayed; decisions that no longer fit the run it produces (their CPU is not ready at
// their step) are ignored by the replay, which falls back to the default order there.
//
// Edits, each drawn from the caller's random stream:
//   flip      a decision's CPU becomes another CPU (the same step, someone else runs);
//   insert    a decision at a step drawn from 0..steps-1 with a CPU drawn from all CPUs
//             (a new preemption);
//   delete    a decision goes (that step takes the default order);
//   truncate  every decision from a drawn step on goes (the run's tail takes the default
//             order: earliest clock first, as under `time` without its tie-breaks).
// An empty log can only grow (insert). The result is a valid log: steps strictly
// increasing, CPUs in 0..ncpus-1.
//
// Concurrency: pure functions.
#pragma once

#include <cstdint>

#include "emu/decision_log.h"
#include "emu/rng.h"

namespace smpemu {

/// The kinds of edit, for tests and statistics.
enum class LogEdit : std::uint8_t { Flip, Insert, Delete, Truncate };

/// Applies one edit to `log` (a run of `steps` steps on `ncpus` CPUs, ncpus >= 1);
/// returns which. Draws from `rng` only.
LogEdit mutate_once(DecisionLog& log, std::uint64_t steps, int ncpus, Rng& rng);

/// A copy of `parent` with 1..max_edits edits (the count drawn from `rng` too).
DecisionLog mutate_decisions(const DecisionLog& parent, std::uint64_t steps, int ncpus, Rng& rng,
                             unsigned max_edits);

}  // namespace smpemu
