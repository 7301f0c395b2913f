// Coverage-guided fuzz campaigns: `smpemu fuzz W --strategy cov[:BASE] --record DIR`.
//
// A seed campaign draws every schedule afresh from its seed. A guided one keeps the
// schedules that did something new and edits them: like AFL, with interleaving coverage
// (emu/coverage.h: pairs of conflicting accesses by code site, in order) as its notion of
// "new". A run either
//   - is fresh: the BASE strategy (default pos) from the run's seed, its decision log
//     recorded; every run of the first generation, and kFreshPercent of the later ones;
//   - or is a mutant: a corpus log picked by the seed, edited 1..kMaxEdits times
//     (emu/log_mutation.h) and replayed, with the seed's own workload randomness.
// After each generation of kGeneration runs the campaign walks its runs in seed order:
// a run that performed a pair no earlier run had adds the log it actually followed to
// the corpus (the oldest entry goes past kCorpusMax).
//
// Invariants:
//  - The corpus changes only between generations, in seed order, so the campaign is a
//    function of (binary, configuration, seed base, runs, stop_on_first), not of --jobs.
//    A run that hits the host-time limit (--run-timeout) is counted and adds nothing.
//  - It cannot be sharded: shard K's runs would depend on the other shards' corpus.
//    --shard other than 1/1 is refused.
//  - A mutant's schedule is no function of its seed alone, so no `smpemu run` command
//    repeats it: the campaign needs --record DIR, and each signature's first seed is
//    written there as a record (its seed and the log it followed) whose repro is
//    `smpemu replay FILE`.
//
// Concurrency: run_guided_fuzz() runs each generation on --jobs host threads
// (cli/parallel.h), reading the corpus, which only the calling thread changes, between
// generations.
#pragma once

#include <cstdint>
#include <string>

#include "cli/campaign.h"

namespace smpemu {

struct GuidedParams {
  /// Runs per generation: the corpus a run mutates is the one of the generations before.
  static constexpr std::uint64_t kGeneration = 64;
  /// Percentage of the runs after the first generation that are fresh BASE runs.
  static constexpr std::uint64_t kFreshPercent = 25;
  /// A mutant gets 1..kMaxEdits edits of its parent's log.
  static constexpr unsigned kMaxEdits = 4;
  /// Logs kept; past it the oldest goes.
  static constexpr std::size_t kCorpusMax = 4096;
};

/// What `smpemu list` says of it, next to the strategies of emu/strategy.h.
inline constexpr const char* kGuidedSyntax = "cov[:BASE]";
inline constexpr const char* kGuidedDoc =
    "fuzz only, with --record DIR: coverage-guided; runs that reach new conflicting-access pairs join a corpus "
    "whose decision logs later runs edit and replay (BASE, default pos, runs the fresh ones); not shardable";

/// True if `spec` names a guided campaign: `cov` or `cov:BASE`.
bool is_guided(const std::string& spec);

/// The base strategy of guided `spec`: BASE, or `pos` for a bare `cov`. Throws
/// ConfigError for a base that is itself guided or a portfolio, or not a strategy.
std::string guided_base(const std::string& spec);

/// Runs a guided campaign (opt.base.params.strategy is `cov[:BASE]`; a BASE that wants K,
/// `pct:3`, gets it from the pilot run as in run_fuzz()). Coverage is always collected.
/// Throws ConfigError for a sharded campaign or a bad configuration.
FuzzResult run_guided_fuzz(const FuzzOptions& opt);

/// Writes the record of every signature's first seed of guided result `r` into `dir`
/// (replaying the log that seed followed) and makes `smpemu replay FILE` its repro.
void record_guided_signatures(FuzzResult& r, const RunConfig& base, const std::string& dir);

}  // namespace smpemu
