#include "cli/campaign.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <mutex>

#include "cli/campaign_aggregate.h"
#include "cli/guided.h"
#include "cli/parallel.h"
#include "cli/record.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"
#include "emu/log.h"
#include "emu/portfolio.h"

namespace smpemu {

namespace {

std::uint64_t parse_u64(const std::string& s, const std::string& what) {
  std::uint64_t v = 0;
  if (!parse_unsigned(s, std::numeric_limits<std::uint64_t>::max(), v)) throw ConfigError(what);
  return v;
}

}  // namespace

std::string ShardSet::to_string() const {
  std::string s;
  for (std::uint64_t k : indices) {
    if (!s.empty()) s += ',';
    s += std::to_string(k);
  }
  s += '/';
  s += std::to_string(count);
  return s;
}

ShardSet parse_shard_set(const std::string& text) {
  const std::string bad = "bad shard " + quoted(text) + " (expected K/N with 1 <= K <= N)";
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw ConfigError(bad);
  ShardSet s;
  s.indices.clear();
  s.count = parse_u64(text.substr(slash + 1), bad);
  if (s.count == 0) throw ConfigError(bad);
  std::string ks = text.substr(0, slash);
  std::size_t pos = 0;
  while (pos <= ks.size()) {
    std::size_t comma = ks.find(',', pos);
    if (comma == std::string::npos) comma = ks.size();
    const std::uint64_t k = parse_u64(ks.substr(pos, comma - pos), bad);
    if (k == 0 || k > s.count) throw ConfigError(bad);
    s.indices.push_back(k);
    pos = comma + 1;
  }
  std::sort(s.indices.begin(), s.indices.end());
  if (std::adjacent_find(s.indices.begin(), s.indices.end()) != s.indices.end()) throw ConfigError(bad);
  return s;
}

ShardSet parse_shard(const std::string& text) {
  if (text.find(',') != std::string::npos)
    throw ConfigError("bad --shard " + quoted(text) + " (expected K/N with 1 <= K <= N)");
  try {
    return parse_shard_set(text);
  } catch (const ConfigError&) {
    throw ConfigError("bad --shard " + quoted(text) + " (expected K/N with 1 <= K <= N)");
  }
}

std::uint64_t shard_runs(std::uint64_t runs, std::uint64_t k, std::uint64_t n) {
  // Offsets i in [0, runs) with i % n == k - 1.
  return runs > k - 1 ? (runs - (k - 1) - 1) / n + 1 : 0;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> CoverageStats::growth(std::uint64_t seed_base,
                                                                           std::uint64_t campaign_runs) const {
  std::vector<std::uint64_t> offsets;  // of each pair's first seed, ascending
  offsets.reserve(first_seed.size());
  for (const auto& [pair, seed] : first_seed) offsets.push_back(seed - seed_base);
  std::sort(offsets.begin(), offsets.end());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  const auto below = [&](std::uint64_t c) {
    return static_cast<std::uint64_t>(std::lower_bound(offsets.begin(), offsets.end(), c) - offsets.begin());
  };
  for (std::uint64_t c = 1; c < campaign_runs; c *= 10) {
    out.emplace_back(c, below(c));
    if (c > std::numeric_limits<std::uint64_t>::max() / 10) break;
  }
  out.emplace_back(campaign_runs, below(campaign_runs));
  return out;
}

void set_run_deadline(Machine& m, double seconds) {
  if (seconds > 0)
    m.set_host_deadline(std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                                std::chrono::duration<double>(seconds)));
}

std::map<std::string, std::string> settings_map(const RunConfig& cfg) {
  validate(cfg);
  const MachineParams& p = cfg.params;
  std::map<std::string, std::string> s = resolve_knobs(*find_workload(cfg.workload), cfg.set).all();
  s["cpus"] = std::to_string(p.cpus);
  s["machine"] = cfg.machine;
  s["strategy"] = p.strategy;
  s["preempt"] = preempt_name(p.preempt);
  s["rcu"] = rcu_flavor_name(p.rcu);
  s["mutex_spin"] = p.mutex_spin ? "on" : "off";
  s["mutex"] = mutex_model_name(p.mutex);
  s["arch"] = cfg.arch;
  s["hz"] = std::to_string(p.hz);
  s["jitter"] = std::to_string(p.jitter_pct);
  s["max_cycles"] = std::to_string(p.max_cycles);
  s["livelock_ms"] = std::to_string(p.livelock_ms);
  s["lockdep"] = p.lockdep ? "on" : "off";
  if (p.coverage) s["coverage"] = "on";  // shards with and without coverage do not merge
  // What counts is part of a campaign's identity: shards with other filters do not merge.
  if (!cfg.checks.only.empty()) s["check"] = check_list(cfg.checks.only);
  if (!cfg.checks.ignore.empty()) s["ignore_check"] = check_list(cfg.checks.ignore);
  return s;
}

void start_result(FuzzResult& res, const FuzzOptions& opt) {
  res.workload = opt.base.workload;
  res.settings = settings_map(opt.base);
  res.machine = opt.base.machine;
  res.strategy = opt.base.params.strategy;
  res.build = build_identity();
  res.campaign_runs = opt.runs;
  res.seed_base = opt.seed_base;
  res.shard = opt.shard;
  res.stop_on_first = opt.stop_on_first;
  res.jobs = opt.jobs;
}

FuzzResult run_fuzz(const FuzzOptions& given) {
  FuzzOptions opt = given;
  if (opt.runs == 0) throw ConfigError("bad --runs 0 (expected at least 1)");
  if (opt.seed_base > std::numeric_limits<std::uint64_t>::max() - (opt.runs - 1))
    throw ConfigError("--seed-base " + std::to_string(opt.seed_base) + " + --runs " + std::to_string(opt.runs) +
                      " passes 2^64-1");
  if (opt.shard.indices.size() != 1) throw ConfigError("a fuzz campaign runs exactly one shard");
  if (is_guided(opt.base.params.strategy)) return run_guided_fuzz(opt);
  FuzzResult res;
  // pct:D without K: one pilot run from the seed base (the same for every job and shard).
  // The pilot, like settings_map(), validates the configuration before any run.
  opt.base.params.strategy = resolve_strategy(opt.base, opt.seed_base);
  // A portfolio: each seed runs its member, named as such in its run, record and repro.
  const SeedStrategies strategies(opt.base.params.strategy);
  const std::vector<std::string>& members = strategies.members();
  start_result(res, opt);

  const std::uint64_t k = opt.shard.indices.front();
  const std::uint64_t n_shards = opt.shard.count;
  const std::uint64_t n = shard_runs(opt.runs, k, n_shards);
  const auto seed_of = [&](std::uint64_t j) { return opt.seed_base + j * n_shards + (k - 1); };

  std::mutex mu;  // guards agg and failing
  Aggregate agg(members.size());
  std::map<std::uint64_t, RunFindings> failing;  // stop_on_first: index -> what it found
  std::map<std::uint64_t, bool> limited_at;  // stop_on_first: index -> hit the host limit (else the cycle limit)
  std::atomic<std::uint64_t> bug_runs{0};

  ParallelOptions popt;
  popt.jobs = opt.jobs;
  if (opt.progress)
    popt.progress = [&](const ParallelProgress& p) {
      std::uint64_t pairs = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        pairs = agg.coverage.pairs();
      }
      opt.progress(p.done, n, bug_runs.load(), p.seconds, pairs);
    };
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t stop = parallel_for(n, popt, [&](std::uint64_t j, StackPool& pool) {
    RunConfig cfg = opt.base;
    cfg.params.seed = seed_of(j);
    cfg.params.strategy = strategies.of(cfg.params.seed);
    // A campaign prints no report text, only signatures, which never depend on the
    // history; each signature's repro (from opt.base) prints the whole report.
    cfg.params.history = false;
    const RunResult r = run_once(cfg, &pool, [&](Machine& m) { set_run_deadline(m, opt.run_seconds); });
    const bool host_limited = r.stats.end == EndReason::HostLimit;
    const RunFindings sigs = host_limited ? RunFindings{} : run_signatures(r);
    if (!sigs.empty()) bug_runs.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (opt.stop_on_first) {
      if (!host_limited) agg.add_coverage(cfg.params.seed, r);  // cut at the stop below
      if (!sigs.empty() || sigs.ignored) failing.emplace(j, sigs);
      if (r.stats.end == EndReason::TimeLimit) limited_at.emplace(j, false);
      if (host_limited) limited_at.emplace(j, true);
    } else {
      agg.add_run(cfg.params.seed, r);
    }
    return opt.stop_on_first && !sigs.empty();
  });
  res.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (opt.stop_on_first) {
    // Every index below `stop` ran clean; the run at `stop` (if any) is the first bug.
    agg.runs = stop < n ? stop + 1 : n;
    Aggregate upto(members.size());
    for (const auto& [j, found] : failing) {
      if (j >= agg.runs) break;
      upto.add(seed_of(j), found);  // clean but for ignored reports, or the first bug
    }
    upto.runs = agg.runs;
    // The pairs of the runs kept: a pair's smallest seed is one of them if any saw it.
    const std::uint64_t end_seed = agg.runs < n ? seed_of(agg.runs) : std::numeric_limits<std::uint64_t>::max();
    for (const auto& [pair, seed] : agg.coverage.first_seed)
      if (seed < end_seed) upto.coverage.add(pair, seed);
    agg = std::move(upto);
    for (const auto& [j, host] : limited_at)
      if (j < agg.runs) (host ? agg.host_limited : agg.time_limited).add(seed_of(j));
  }
  agg.fill(res, opt.base.params.coverage);
  for (std::size_t i = 0; i < members.size(); ++i) res.members.push_back({members[i], 0, agg.member_bugs[i]});
  if (!members.empty())  // the seeds run: every one below agg.runs
    for (std::uint64_t j = 0; j < agg.runs; ++j) ++res.members[portfolio_index(seed_of(j), members.size())].runs;
  for (auto& [sig, s] : agg.sigs) {
    RunConfig cfg = opt.base;
    cfg.params.seed = s.first_seed;
    cfg.params.strategy = s.strategy = strategies.of(s.first_seed);
    s.repro = repro_command(cfg);
    res.signatures.push_back(s);
  }
  res.signatures = ordered_signatures(std::move(res.signatures));
  return res;
}

void record_first_seeds(FuzzResult& r, const std::string& dir, const RecordMaker& make) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw ConfigError("cannot create record directory " + quoted(dir) + (ec ? ": " + ec.message() : ""));
  StackPool pool;
  std::map<std::uint64_t, std::string> done;  // seed -> path (signatures may share a seed)
  for (SignatureStats& s : r.signatures) {
    auto it = done.find(s.first_seed);
    if (it == done.end()) {
      const std::string path = (std::filesystem::path(dir) / fmt::format("{}-seed{}.rec", r.workload, s.first_seed)).string();
      const RunResult rr = make(s, path, pool);
      bool seen = false;
      for (const BugReport& b : rr.bugs) seen = seen || bug_signature(b) == s.signature;
      if (!seen) logger("cli")->warn("recorded seed {} did not report '{}' again", s.first_seed, s.signature);
      it = done.emplace(s.first_seed, path).first;
    }
    s.record = it->second;
  }
}

void record_signatures(FuzzResult& r, const RunConfig& base, const std::string& dir) {
  record_first_seeds(r, dir, [&](const SignatureStats& s, const std::string& path, StackPool& pool) {
    RunConfig cfg = base;
    cfg.params.seed = s.first_seed;
    cfg.params.strategy = s.strategy;  // as the campaign ran it (pct:D -> pct:D:K, a portfolio's member)
    return record_run_to(cfg, path, &pool);
  });
}

nlohmann::json fuzz_to_json(const FuzzResult& r) {
  using nlohmann::json;
  json j;
  j["workload"] = r.workload;
  j["machine"] = r.machine;
  j["strategy"] = r.strategy;
  j["settings"] = r.settings;
  j["build"] = r.build;
  j["campaign_runs"] = r.campaign_runs;
  j["seed_base"] = r.seed_base;
  j["shard"] = r.shard.to_string();
  j["complete"] = r.shard.complete();
  j["stop_on_first"] = r.stop_on_first;
  j["jobs"] = r.jobs;
  j["runs"] = r.runs;
  j["bugs_found"] = r.bugs_found;
  j["fatal_runs"] = r.fatal_runs;
  j["warning_runs"] = r.bugs_found - r.fatal_runs;
  j["ignored_runs"] = r.ignored_runs;
  j["first_bug_run"] = r.first_bug_run ? json(*r.first_bug_run) : json(nullptr);
  j["host_seconds"] = r.host_seconds;
  j["runs_per_second"] = r.runs_per_second();
  json sigs = json::array();
  for (const SignatureStats& s : r.signatures) {
    json o = {{"signature", s.signature}, {"check", s.check},   {"fatal", s.fatal}, {"count", s.count},
              {"first_seed", s.first_seed}, {"strategy", s.strategy}, {"repro", s.repro}};
    if (!s.record.empty()) o["record"] = s.record;
    sigs.push_back(o);
  }
  j["signatures"] = sigs;
  if (r.coverage) {
    json growth = json::array();
    for (const auto& [seeds, pairs] : r.coverage->growth(r.seed_base, r.campaign_runs))
      growth.push_back({{"seeds", seeds}, {"pairs", pairs}});
    json first = json::object();
    for (const auto& [pair, seed] : r.coverage->first_seed) first[hex16(pair)] = seed;
    j["coverage"] = {{"pairs", r.coverage->pairs()}, {"growth", growth}, {"first_seeds", first}};
  }
  if (r.guided)
    j["guided"] = {{"generation", r.guided->generation}, {"fresh_runs", r.guided->fresh_runs},
                   {"mutated_runs", r.guided->mutated_runs}, {"corpus", r.guided->corpus}};
  if (!r.members.empty()) {
    json members = json::array();
    for (const MemberStats& m : r.members)
      members.push_back({{"strategy", m.strategy}, {"runs", m.runs}, {"bugs_found", m.bugs_found}});
    j["portfolio"] = members;
  }
  j["seeds"] = r.seeds;
  j["seeds_truncated"] = r.seeds_truncated;
  const auto opt_json = [](const std::optional<std::uint64_t>& v) { return v ? json(*v) : json(nullptr); };
  j["time_limited_runs"] = r.time_limited.count;
  j["first_time_limited_seed"] = opt_json(r.time_limited.first_seed);
  j["host_limited_runs"] = r.host_limited.count;
  j["first_host_limited_seed"] = opt_json(r.host_limited.first_seed);
  return j;
}

std::string fuzz_to_text(const FuzzResult& r) {
  std::string s;
  const std::uint64_t last = r.seed_base + (r.campaign_runs ? r.campaign_runs - 1 : 0);
  s += fmt::format("fuzz {}: {} runs of seeds {}..{} (shard {}{}), {} jobs, {:.2f} s, {:.0f} runs/s\n", r.workload,
                   r.runs, r.seed_base, last, r.shard.to_string(), r.stop_on_first ? ", stop on first" : "", r.jobs,
                   r.host_seconds, r.runs_per_second());
  if (r.time_limited.count)
    s += fmt::format("{} run{} reached the per-run cycle limit (--max-cycles {}), first at seed {}\n",
                     r.time_limited.count, r.time_limited.count == 1 ? "" : "s", r.settings.count("max_cycles") ?
                     r.settings.at("max_cycles") : "?", *r.time_limited.first_seed);
  if (r.host_limited.count)
    s += fmt::format("{} run{} stopped at the per-run host-time limit (--run-timeout), first at seed {}; "
                     "their bug reports are not counted\n",
                     r.host_limited.count, r.host_limited.count == 1 ? "" : "s", *r.host_limited.first_seed);
  if (r.ignored_runs) {
    std::string which;
    for (const auto& [key, option] : {std::pair{"check", "--check "}, std::pair{"ignore_check", "--ignore-check "}})
      if (r.settings.count(key)) which += (which.empty() ? "" : ", ") + (option + r.settings.at(key));
    s += fmt::format("{} run{} had reports left out by {}\n", r.ignored_runs, r.ignored_runs == 1 ? "" : "s", which);
  }
  if (!r.members.empty()) {
    s += "portfolio (runs with bugs / runs):";
    for (std::size_t i = 0; i < r.members.size(); ++i)
      s += fmt::format("{} {} {}/{}", i == 0 ? "" : ",", r.members[i].strategy, r.members[i].bugs_found,
                       r.members[i].runs);
    s += "\n";
  }
  if (r.guided)
    s += fmt::format("coverage-guided: generations of {} runs; {} fresh {} runs, {} mutants of corpus logs; "
                     "corpus {} logs\n",
                     r.guided->generation, r.guided->fresh_runs, r.strategy.substr(r.strategy.find(':') + 1),
                     r.guided->mutated_runs, r.guided->corpus);
  if (r.coverage) {
    s += fmt::format("coverage: {} conflicting-access pairs; by seeds run:", r.coverage->pairs());
    for (const auto& [seeds, pairs] : r.coverage->growth(r.seed_base, r.campaign_runs))
      s += fmt::format(" {} after {},", pairs, seeds);
    s.back() = '\n';
  }
  if (r.bugs_found == 0) return s + "no bug found\n";
  s += fmt::format("{} runs with bugs ({} fatal, {} only warnings), first at seed {}; {} distinct signature{}\n",
                   r.bugs_found, r.fatal_runs, r.bugs_found - r.fatal_runs,
                   r.first_bug_run ? std::to_string(*r.first_bug_run) : std::string("?"), r.signatures.size(),
                   r.signatures.size() == 1 ? "" : "s");
  s += fmt::format("{:>8} {:>12}  {:<14} {:<8} {}\n", "runs", "first seed", "check", "kind", "signature");
  for (const SignatureStats& g : r.signatures) {
    s += fmt::format("{:>8} {:>12}  {:<14} {:<8} {}\n", g.count, g.first_seed, g.check, g.fatal ? "fatal" : "warning",
                     g.signature);
    if (!r.members.empty()) s += fmt::format("{:>23}found first by: {}\n", "", g.strategy);
    s += fmt::format("{:>23}repro: {}\n", "", g.repro);
    if (!g.record.empty()) s += fmt::format("{:>23}record: {}\n", "", g.record);
  }
  return s;
}

}  // namespace smpemu
