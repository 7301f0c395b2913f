// Bounded exhaustive exploration of schedules (`smpemu explore`): every schedule of a
// small workload with at most C preemptions, in the manner of CHESS's iterative context
// bounding (Musuvathi & Qadeer, PLDI'07), by stateless re-execution.
//
// Schedules. The base order is the default order of decision logs (emu/decision_log.h):
// at each step the earliest ready CPU, ties to the lowest id, the running CPU among the
// candidates at its own clock; this is `time` with a fixed tie-break. A schedule is the
// list of its departures from that order, (step, cpu), exactly a decision log, so every
// explored schedule is a record that `smpemu replay` reruns.
//
// Preemptions. A departure at a step where a CPU was running (it reached a sync point and
// could go on) costs one preemption: the base order would have let the earliest CPU go,
// and the departure makes it wait. A departure at a step where the running CPU had just
// stopped (it blocked, went idle or exited) is free, as a context switch at a blocking
// point is in CHESS; the first step of the run (every CPU ready at its start, none
// stopped) is not such a point and costs one.
//
// Search. Depth-first over a worklist of prefixes. A run follows its prefix (a list of
// departures) and then the base order, noting every later step where another CPU was
// ready; each such alternative whose cost fits the bound becomes a new prefix. The
// engine is deterministic, so re-running a prefix from scratch reproduces it exactly
// (a run that does not is reported as an internal error). Distinct prefixes differ at
// their first differing step, so no schedule is run twice.
//
// Pruning: happens-before caching (Musuvathi & Qadeer, "Partial-order reduction for
// context-bounded state exploration", MSR-TR-2007-12), on by default (--prune hbr).
// Sleep sets and DPOR are not sound under a preemption bound (the schedule they prune
// may be its class's only one within the bound: same report); caching states is, if a
// state is only skipped when it was reached before with no more preemptions. A step is
// what one CPU does from its turn to its next turn; its footprint is what the engine's
// events say it touched (Machine::set_event_observer): the lines of its loads, stores,
// atomics and spin-waits; a barrier touches nothing (the engine is sequentially
// consistent); anything else (a context switch, wakeup, tick, IPI, task start or exit,
// bug, workload event, or an event of another CPU) makes the step global, ordered
// against every other step. Two steps of different CPUs are independent if neither is
// global and they touch no common line (two loads of one line are dependent: they
// change each other's cost). Runs that differ only in the order of independent steps
// reach the same state: same memory, same clocks (a step's cost depends only on its own
// lines), same ready CPUs. The fingerprint of a run so far is a sum over its steps of a
// hash of (CPU, index among that CPU's steps, the steps it depends on), which is the
// same for such runs. After its last departure, a run that reaches a fingerprint and
// CPU at the turn that an earlier run reached with no more preemptions records no more
// branch points: the earlier run recorded the same alternatives, at no greater cost.
// Assumptions, and where pruning is off: costs have no jitter (--jitter draws from one
// stream in access order: pruning is off), and a workload's tasks draw randomness from
// streams of their own (every workload here does). Fingerprints are 64-bit: a collision
// could prune a state wrongly, with probability about (states^2 / 2^65). "All N
// schedules" then counts the runs; every schedule within the bound was run or reaches a
// state of a run that was. --prune none runs every schedule.
//
// Concurrency: run_explore() runs one Machine at a time on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/record.h"
#include "cli/runner.h"

namespace smpemu {

struct ExploreOptions {
  RunConfig base;                       ///< workload and configuration (strategy unused)
  std::uint64_t preemptions = 2;        ///< the bound C
  std::uint64_t max_schedules = 100000; ///< stop (incomplete) after this many runs
  bool prune = true;                    ///< happens-before caching (off with jitter)
  /// Called after every schedule with the schedules run so far.
  std::function<void(std::uint64_t)> progress;
};

/// The first failing schedule.
struct ExploreBug {
  std::uint64_t schedule = 0;     ///< 1-based index in exploration order
  std::uint64_t preemptions = 0;  ///< preemptions the schedule uses
  RunResult run;                  ///< the failing run (its bugs: the counted ones first)
  Record record;                  ///< replayable record of it
};

struct ExploreResult {
  std::uint64_t schedules = 0;     ///< schedules run
  std::uint64_t preemptions = 0;   ///< the bound
  bool complete = false;           ///< every schedule within the bound was run
  std::uint64_t longest = 0;       ///< steps (strategy picks) of the longest schedule
  std::uint64_t time_limited = 0;  ///< schedules that ended at --max-cycles
  std::uint64_t ignored_reports = 0;  ///< bug reports of ignored checks seen
  bool pruning = false;            ///< happens-before caching was on
  std::uint64_t cut = 0;           ///< runs that reached a cached state (see Pruning)
  /// Fingerprints of the whole runs (distinct happens-before orders); empty with jitter.
  /// Pruning keeps this set: every order a schedule within the bound has, a run had.
  std::set<std::uint64_t> classes;
  std::optional<ExploreBug> bug;
};

/// Explores `o.base` as described above; stops at the first schedule with a bug report
/// whose check is not ignored. Throws ConfigError for a bad configuration, and
/// std::logic_error if a re-run does not follow its prefix (the engine is not
/// deterministic).
ExploreResult run_explore(const ExploreOptions& o);

/// "explore abba: all 5 schedules with <= 2 preemptions explored, no bug" and detail
/// lines, or the bug report of the failing schedule with its repro (`record_path`).
std::string explore_to_text(const ExploreOptions& o, const ExploreResult& r, const std::string& record_path);

/// The --json object: schedules, preemptions, complete, bugs, record (the failing
/// record's path, or null), and detail keys.
nlohmann::json explore_to_json(const ExploreResult& r, const std::string& record_path);

}  // namespace smpemu
