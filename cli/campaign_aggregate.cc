#include "cli/campaign_aggregate.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <tuple>

#include "cli/record.h"
#include "cli/report.h"
#include "emu/errors.h"
#include "emu/portfolio.h"

namespace smpemu {

bool RunFindings::fatal() const {
  return std::any_of(sigs.begin(), sigs.end(), [](const auto& kv) { return kv.second.fatal; });
}

RunFindings run_signatures(const RunResult& r) {
  RunFindings f;
  for (const BugReport& b : r.bugs) {
    RunFindings::Sig& s = f.sigs[bug_signature(b)];
    s.check = b.check;
    s.fatal = s.fatal || b.fatal;
  }
  f.ignored = !r.ignored.empty();
  f.checks = checks_of(r);
  return f;
}

void Aggregate::add_run(std::uint64_t seed, const RunResult& r) {
  if (r.stats.end == EndReason::HostLimit) {
    ++runs;
    host_limited.add(seed);
    return;
  }
  if (r.stats.end == EndReason::TimeLimit) time_limited.add(seed);
  add_coverage(seed, r);
  add(seed, run_signatures(r));
}

void Aggregate::add_coverage(std::uint64_t seed, const RunResult& r) {
  if (r.coverage)
    for (std::uint64_t p : *r.coverage) coverage.add(p, seed);
}

void Aggregate::add(std::uint64_t seed, const RunFindings& found) {
  ++runs;
  ignored_runs += found.ignored;
  checks_seen.insert(found.checks.begin(), found.checks.end());
  if (found.empty()) return;
  ++bugs_found;
  fatal_runs += found.fatal();
  if (!member_bugs.empty()) ++member_bugs[portfolio_index(seed, member_bugs.size())];
  for (const auto& [sig, info] : found.sigs) {
    auto [it, fresh] = sigs.try_emplace(sig);
    SignatureStats& s = it->second;
    if (fresh) {
      s.signature = sig;
      s.check = info.check;
      s.first_seed = seed;
    }
    s.fatal = s.fatal || info.fatal;
    ++s.count;
    s.first_seed = std::min(s.first_seed, seed);
  }
  seeds.insert(seed);
  if (seeds.size() > kMaxListedSeeds) {
    seeds.erase(std::prev(seeds.end()));
    truncated = true;
  }
}

void Aggregate::fill(FuzzResult& res, bool with_coverage) {
  res.runs = runs;
  res.bugs_found = bugs_found;
  res.fatal_runs = fatal_runs;
  res.ignored_runs = ignored_runs;
  res.checks_seen = checks_seen;
  if (!seeds.empty()) res.first_bug_run = *seeds.begin();
  res.seeds.assign(seeds.begin(), seeds.end());
  res.seeds_truncated = truncated;
  res.time_limited = time_limited;
  res.host_limited = host_limited;
  if (with_coverage) res.coverage = std::move(coverage);
}

SeedStrategies::SeedStrategies(std::string strategy) : strategy_(std::move(strategy)) {
  if (!is_portfolio(strategy_)) return;
  try {
    members_ = portfolio_members(strategy_);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("strategy: ") + e.what());
  }
}

std::vector<SignatureStats> ordered_signatures(std::vector<SignatureStats> v) {
  std::sort(v.begin(), v.end(), [](const SignatureStats& x, const SignatureStats& y) {
    return std::tie(x.first_seed, x.signature) < std::tie(y.first_seed, y.signature);
  });
  return v;
}

}  // namespace smpemu
