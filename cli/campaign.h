// Fuzz campaigns (`smpemu fuzz`) and merging their shards (`smpemu merge`).
//
// A campaign runs one workload configuration over the seeds seed_base .. seed_base+runs-1
// and groups the bug reports by signature (bug_signature(): check + message with numbers
// masked). Seed i (0-based offset from seed_base) belongs to shard K/N when
// i % N == K-1, so N machines running shards 1/N .. N/N cover the campaign exactly once
// and merge_fuzz() of their results equals the unsharded campaign (runs, bugs_found,
// first_bug_run, per-signature count, first seed and repro).
//
// Invariants:
//  - The result is a function of (binary, configuration, seed_base, runs, shard,
//    stop_on_first) only: not of `jobs`, thread timing or completion order. Counts are
//    sums, first seeds minima, failing-seed lists the smallest kMaxListedSeeds; all of
//    which are combined in any order with the same outcome.
//  - With stop_on_first, the campaign covers exactly the shard's seeds up to and
//    including its smallest failing seed: every smaller seed is run, larger ones that
//    happened to run on another thread are discarded.
//  - Only `jobs`, `host_seconds` and `runs_per_second` depend on the host.
//
// Concurrency: run_fuzz() spreads runs over `jobs` host threads (cli/parallel.h), each
// with its own StackPool; the progress callback runs on the calling thread. The other
// functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/runner.h"
#include "emu/decision_log.h"

namespace smpemu {

/// At most this many failing seeds are listed in a result (the smallest ones).
constexpr std::size_t kMaxListedSeeds = 1000;

/// Per-run limits of fuzz and compare campaigns unless the user sets them: a run ends
/// at this emulated cycle (--max-cycles; about 10 s at 2 GHz, over a hundred times the
/// longest default workload) or this much host time (--run-timeout). A run that hits
/// one is counted as its own outcome (time_limited_runs / host_limited_runs), so one
/// seed that would run forever cannot hang a campaign, and none ends silently.
constexpr Cycles kCampaignMaxCycles = 20000000000ULL;
constexpr double kCampaignRunSeconds = 60;

/// Runs of a campaign that ended at a per-run limit: how many, and the smallest seed.
struct LimitedRuns {
  std::uint64_t count = 0;
  std::optional<std::uint64_t> first_seed;
  void add(std::uint64_t seed) {
    ++count;
    if (!first_seed || seed < *first_seed) first_seed = seed;
  }
  void merge(const LimitedRuns& o) {
    count += o.count;
    if (o.first_seed) add_first(*o.first_seed);
  }

 private:
  void add_first(std::uint64_t seed) {
    if (!first_seed || seed < *first_seed) first_seed = seed;
  }
};

/// A set of shards K of N: one shard from `--shard K/N`, several after a merge.
struct ShardSet {
  std::vector<std::uint64_t> indices = {1};  ///< the K values, ascending, 1-based
  std::uint64_t count = 1;                   ///< N

  /// "K/N", or "K1,K2,.../N" for merged shards.
  std::string to_string() const;
  bool complete() const { return indices.size() == count; }
};

/// Ends the run on `m` after `seconds` of host time (0: never) as EndReason::HostLimit.
void set_run_deadline(Machine& m, double seconds);

/// Parses `--shard K/N` (1 <= K <= N). Throws ConfigError.
ShardSet parse_shard(const std::string& text);

/// Parses the to_string() form "K1,K2,.../N" (what merge reads). Throws ConfigError.
ShardSet parse_shard_set(const std::string& text);

struct FuzzOptions {
  RunConfig base;               ///< everything but the seed
  std::uint64_t runs = 1000;    ///< campaign size before sharding, >= 1
  std::uint64_t seed_base = 1;
  ShardSet shard;               ///< a single shard
  unsigned jobs = 1;
  bool stop_on_first = false;
  double run_seconds = kCampaignRunSeconds;  ///< host-time limit per run (0: none)
  /// Progress (calling thread): runs done, runs in this shard, runs with a bug, seconds,
  /// conflicting-access pairs so far (0 without coverage).
  std::function<void(std::uint64_t, std::uint64_t, std::uint64_t, double, std::uint64_t)> progress;
};

/// One distinct kind of bug found by a campaign.
struct SignatureStats {
  std::string signature;
  std::string check;
  bool fatal = false;            ///< some run reported it as fatal (else only as a warning)
  std::uint64_t count = 0;       ///< runs that reported it
  std::uint64_t first_seed = 0;  ///< smallest such seed
  std::string strategy;          ///< the strategy that ran that seed (a portfolio's member)
  std::string repro;             ///< repro_command() of that seed
  std::string record;            ///< record file of that seed (fuzz --record), or empty
};

/// One member of a portfolio campaign: the seeds it ran and how many of them found a bug.
struct MemberStats {
  std::string strategy;
  std::uint64_t runs = 0;
  std::uint64_t bugs_found = 0;
};

/// A campaign's interleaving coverage (--coverage on; emu/coverage.h): every
/// conflicting-access pair its runs performed, with the smallest seed that did.
struct CoverageStats {
  std::map<std::uint64_t, std::uint64_t> first_seed;  ///< pair key -> smallest seed

  std::uint64_t pairs() const { return first_seed.size(); }
  /// Pairs found by the seeds seed_base .. seed_base+c-1, for c = 1, 10, 100, ... below
  /// `campaign_runs`, then `campaign_runs`: (c, pairs) in that order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> growth(std::uint64_t seed_base,
                                                              std::uint64_t campaign_runs) const;
  void add(std::uint64_t pair, std::uint64_t seed) {
    auto [it, fresh] = first_seed.try_emplace(pair, seed);
    if (!fresh && seed < it->second) it->second = seed;
  }
};

/// A coverage-guided campaign's runs by kind (cli/guided.h) and its corpus at the end.
struct GuidedStats {
  std::uint64_t generation = 0;    ///< runs per generation
  std::uint64_t fresh_runs = 0;    ///< runs of the base strategy from their seed
  std::uint64_t mutated_runs = 0;  ///< runs of an edited corpus log
  std::uint64_t corpus = 0;        ///< logs in the corpus after the last run
};

struct FuzzResult {
  std::string workload;
  std::string machine;
  std::string strategy;
  std::map<std::string, std::string> settings;  ///< engine parameters (no seed) and every knob
  std::string build;
  std::uint64_t campaign_runs = 0;  ///< --runs, before sharding
  std::uint64_t seed_base = 0;
  ShardSet shard;
  bool stop_on_first = false;
  unsigned jobs = 1;
  std::uint64_t runs = 0;        ///< runs done (this shard, up to the first bug with stop_on_first)
  std::uint64_t bugs_found = 0;  ///< runs with at least one bug report that counts (RunConfig::checks)
  std::uint64_t fatal_runs = 0;  ///< of those, runs with a fatal report (the rest only warned)
  std::uint64_t ignored_runs = 0;  ///< runs with a report the check filter left out
  /// Checks of every report, counted or not; for note_unmatched_checks() only (run_fuzz()
  /// fills it; not in the JSON, so merged results leave it empty).
  std::set<std::string> checks_seen;
  std::optional<std::uint64_t> first_bug_run;  ///< smallest failing seed
  std::vector<SignatureStats> signatures;      ///< ordered by first_seed, then signature
  /// A portfolio campaign's members in spec order (a repeated member once per place);
  /// empty for a single strategy. Runs and bugs_found add up to the campaign's.
  std::vector<MemberStats> members;
  std::optional<CoverageStats> coverage;  ///< with --coverage on
  std::optional<GuidedStats> guided;      ///< a coverage-guided campaign (cli/guided.h)
  /// A guided campaign: the decision log each signature's first seed followed, by seed
  /// (what its record replays); not part of the JSON.
  std::map<std::uint64_t, DecisionLog> logs;
  std::vector<std::uint64_t> seeds;            ///< smallest failing seeds, ascending
  bool seeds_truncated = false;                ///< more than kMaxListedSeeds failed
  LimitedRuns time_limited;  ///< runs that reached --max-cycles (deterministic)
  /// Runs stopped by --run-timeout: which ones depends on the host, so their bug
  /// reports are not counted in signatures.
  LimitedRuns host_limited;
  double host_seconds = 0;

  double runs_per_second() const { return host_seconds > 0 ? static_cast<double>(runs) / host_seconds : 0.0; }
};

/// Number of seeds of a campaign of `runs` that fall into shard K of N.
std::uint64_t shard_runs(std::uint64_t runs, std::uint64_t k, std::uint64_t n);

/// Engine parameters (no seed) and every knob of `cfg`, as strings. Throws ConfigError.
std::map<std::string, std::string> settings_map(const RunConfig& cfg);

/// Fills what a result says of its campaign (workload, settings, strategy, build, extent,
/// jobs) from `opt`, whose strategy is already resolved. Throws ConfigError as
/// settings_map().
void start_result(FuzzResult& res, const FuzzOptions& opt);

/// Runs the campaign. Throws ConfigError for a bad configuration (checked before any run).
FuzzResult run_fuzz(const FuzzOptions& opt);

/// Makes the record of signature `s`'s first seed at `path` and returns its run.
using RecordMaker = std::function<RunResult(const SignatureStats& s, const std::string& path, StackPool& pool)>;

/// Writes DIR/<workload>-seed<S>.rec for the first seed S of every signature of `r`
/// (once per seed, with `make`; creating DIR), warns when a record does not report its
/// signature again, and sets SignatureStats::record. Throws ConfigError if DIR or a
/// file cannot be written.
void record_first_seeds(FuzzResult& r, const std::string& dir, const RecordMaker& make);

/// For every signature, re-runs its first seed recording the decision log into
/// DIR/<workload>-seed<S>.rec (creating DIR) and sets SignatureStats::record.
/// Throws ConfigError if DIR or a file cannot be written.
void record_signatures(FuzzResult& r, const RunConfig& base, const std::string& dir);

/// The `--json` object (docs/USAGE.md, "Fuzz campaigns").
nlohmann::json fuzz_to_json(const FuzzResult& r);

/// Reads a fuzz_to_json() object back. Throws ConfigError naming `what` (a file name).
FuzzResult fuzz_from_json(const nlohmann::json& j, const std::string& what);

/// Parses the text of a `smpemu fuzz --json` file; `name` (the file name) is named in
/// messages. Throws ConfigError.
FuzzResult parse_fuzz_result(const std::string& text, const std::string& name);

/// Reads a `smpemu fuzz --json` file (read_input_file(), then parse_fuzz_result()).
/// Throws ConfigError.
FuzzResult read_fuzz_result(const std::string& path);

/// Short text summary for a terminal.
std::string fuzz_to_text(const FuzzResult& r);

/// Combines shard results of one campaign (same workload, settings, seed base, runs,
/// shard count; disjoint shards). runs/bugs_found/counts add up, first seeds are minima,
/// host_seconds add up, so runs_per_second = total runs / summed host seconds: the
/// throughput of one shard process, not of the whole (parallel) batch. Throws ConfigError.
FuzzResult merge_fuzz(const std::vector<FuzzResult>& parts, const std::vector<std::string>& names);

}  // namespace smpemu
