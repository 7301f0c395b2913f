// What a fuzz campaign adds up over its runs: the per-run findings (signatures, each
// once per run) and the order-independent aggregate (sums, minima, smallest seeds) that
// both kinds of campaign fold their runs into: seed campaigns (cli/campaign.cc), whose
// runs may be added in any order, and coverage-guided ones (cli/guided.cc), which add
// them in seed order.
//
// Concurrency: plain values; a campaign guards its Aggregate with its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/campaign.h"
#include "cli/runner.h"
#include "emu/portfolio.h"

namespace smpemu {

/// What a run found: its signatures, each once (a run counts once per signature).
struct RunFindings {
  struct Sig {
    std::string check;
    bool fatal = false;
  };
  std::map<std::string, Sig> sigs;
  bool ignored = false;          ///< a report the check filter left out
  std::set<std::string> checks;  ///< of every report, counted or not
  bool empty() const { return sigs.empty(); }
  bool fatal() const;
};

/// The findings of run `r` (its reports that count, by bug_signature()).
RunFindings run_signatures(const RunResult& r);

/// Order-independent aggregate of runs (sums, minima, smallest seeds).
struct Aggregate {
  std::uint64_t runs = 0;
  std::uint64_t bugs_found = 0;
  std::uint64_t fatal_runs = 0;
  std::uint64_t ignored_runs = 0;
  std::set<std::string> checks_seen;
  std::map<std::string, SignatureStats> sigs;
  std::set<std::uint64_t> seeds;
  bool truncated = false;
  LimitedRuns time_limited, host_limited;
  /// Runs with a bug per portfolio member (empty for a single strategy).
  std::vector<std::uint64_t> member_bugs;
  CoverageStats coverage;  ///< of every run added (with --coverage on)

  explicit Aggregate(std::size_t members = 0) : member_bugs(members) {}

  /// Adds a run, its outcome first: a host-limited run counts as run and host-limited
  /// only (what it did is not a function of its seed).
  void add_run(std::uint64_t seed, const RunResult& r);
  /// Adds the conflicting-access pairs of run `r` (seed `seed`), if it collected them.
  void add_coverage(std::uint64_t seed, const RunResult& r);
  /// Adds a run's findings (counts, signatures, failing seeds).
  void add(std::uint64_t seed, const RunFindings& found);
  /// Moves the totals into `res` (runs, counts, seeds, limits, coverage when
  /// `with_coverage`); leaves the signatures to the caller (their repro is its own).
  void fill(FuzzResult& res, bool with_coverage);
};

/// The strategy each seed of a campaign runs: the campaign's, or its portfolio member.
class SeedStrategies {
 public:
  /// Throws ConfigError for a malformed portfolio.
  explicit SeedStrategies(std::string strategy);
  const std::string& of(std::uint64_t seed) const {
    return members_.empty() ? strategy_ : members_[portfolio_index(seed, members_.size())];
  }
  /// The portfolio's members in spec order; empty for a single strategy.
  const std::vector<std::string>& members() const { return members_; }

 private:
  std::string strategy_;
  std::vector<std::string> members_;
};

/// Signatures by first seed, then name: the order results print them in.
std::vector<SignatureStats> ordered_signatures(std::vector<SignatureStats> v);

}  // namespace smpemu
