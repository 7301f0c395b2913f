#include "cli/campaign.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>

#include "cli/campaign_aggregate.h"
#include "cli/guided.h"
#include "cli/input_file.h"
#include "cli/json_input.h"
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

/// The strategy each seed of a campaign runs: the campaign's, or its portfolio member.
class SeedStrategies {
 public:
  /// Throws ConfigError for a malformed portfolio.
  explicit SeedStrategies(std::string strategy) : strategy_(std::move(strategy)) {
    if (!is_portfolio(strategy_)) return;
    try {
      members_ = portfolio_members(strategy_);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("strategy: ") + e.what());
    }
  }
  const std::string& of(std::uint64_t seed) const {
    return members_.empty() ? strategy_ : members_[portfolio_index(seed, members_.size())];
  }
  /// The portfolio's members in spec order; empty for a single strategy.
  const std::vector<std::string>& members() const { return members_; }

 private:
  std::string strategy_;
  std::vector<std::string> members_;
};

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

FuzzResult run_fuzz(const FuzzOptions& given) {
  FuzzOptions opt = given;
  if (opt.runs == 0) throw ConfigError("bad --runs 0 (expected at least 1)");
  if (opt.seed_base > std::numeric_limits<std::uint64_t>::max() - (opt.runs - 1))
    throw ConfigError("--seed-base " + std::to_string(opt.seed_base) + " + --runs " + std::to_string(opt.runs) +
                      " passes 2^64-1");
  if (opt.shard.indices.size() != 1) throw ConfigError("a fuzz campaign runs exactly one shard");
  if (is_guided(opt.base.params.strategy)) return run_guided_fuzz(opt);
  FuzzResult res;
  res.workload = opt.base.workload;
  // pct:D without K: one pilot run from the seed base (the same for every job and shard).
  // The pilot, like settings_map(), validates the configuration before any run.
  opt.base.params.strategy = resolve_strategy(opt.base, opt.seed_base);
  // A portfolio: each seed runs its member, named as such in its run, record and repro.
  const SeedStrategies strategies(opt.base.params.strategy);
  const std::vector<std::string>& members = strategies.members();
  res.settings = settings_map(opt.base);
  res.machine = opt.base.machine;
  res.strategy = opt.base.params.strategy;
  res.build = build_identity();
  res.campaign_runs = opt.runs;
  res.seed_base = opt.seed_base;
  res.shard = opt.shard;
  res.stop_on_first = opt.stop_on_first;
  res.jobs = opt.jobs;

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

namespace {

/// True when `seed` is one of the campaign's seeds that fall into `shard`.
bool seed_in_shard(std::uint64_t seed, std::uint64_t seed_base, std::uint64_t campaign_runs, const ShardSet& shard) {
  if (seed < seed_base || seed - seed_base >= campaign_runs) return false;
  const std::uint64_t k = (seed - seed_base) % shard.count + 1;
  return std::binary_search(shard.indices.begin(), shard.indices.end(), k);
}

/// The fields of one shard file, checked one by one and against each other. Messages
/// name the key of the first problem.
FuzzResult checked_fuzz_result(const nlohmann::json& j) {
  using nlohmann::json;
  if (!j.is_object() || !j.contains("signatures") || !j.contains("shard") || !j.contains("runs"))
    throw ConfigError("not a fuzz result (no runs, shard or signatures)");
  refuse_unknown_keys(j, "", {"workload", "machine", "strategy", "settings", "build", "campaign_runs", "seed_base",
                              "shard", "complete", "stop_on_first", "jobs", "runs", "bugs_found", "first_bug_run",
                              "fatal_runs", "warning_runs", "ignored_runs", "host_seconds", "runs_per_second",
                              "signatures", "portfolio", "coverage", "guided", "seeds", "seeds_truncated",
                              "time_limited_runs", "first_time_limited_seed", "host_limited_runs",
                              "first_host_limited_seed"});
  const auto at = [&](const char* key) -> const json& { return json_member(j, "", key); };
  constexpr std::uint64_t kU64 = std::numeric_limits<std::uint64_t>::max();
  FuzzResult r;
  r.workload = json_string(at("workload"), "workload");
  r.machine = json_string(at("machine"), "machine");
  r.strategy = json_string(at("strategy"), "strategy");
  const SeedStrategies strategies(r.strategy);
  const std::vector<std::string>& members = strategies.members();
  const json& settings = at("settings");
  require_object(settings, "settings");
  for (const auto& [k, v] : settings.items()) r.settings[k] = json_string(v, json_path("settings", k));
  for (const auto& [key, top] : {std::pair<std::string, std::string>{"machine", r.machine}, {"strategy", r.strategy}}) {
    const auto it = r.settings.find(key);
    if (it == r.settings.end()) throw ConfigError("settings." + key + " missing");
    if (it->second != top)
      throw ConfigError("settings." + key + " " + smpemu::quoted(it->second) + " differs from " + key + " " + smpemu::quoted(top));
  }
  r.build = json_string(at("build"), "build");
  r.campaign_runs = json_unsigned(at("campaign_runs"), "campaign_runs", 1, limits::kFuzzRuns);
  r.seed_base = json_unsigned(at("seed_base"), "seed_base", 0, kU64 - (r.campaign_runs - 1));
  try {
    r.shard = parse_shard_set(json_string(at("shard"), "shard"));
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("shard: ") + e.what());
  }
  if (r.shard.count > limits::kFuzzRuns)
    throw ConfigError("shard count " + std::to_string(r.shard.count) + " out of range 1.." +
                      std::to_string(limits::kFuzzRuns));
  if (json_bool(at("complete"), "complete") != r.shard.complete())
    throw ConfigError("complete is not " + std::string(r.shard.complete() ? "true" : "false") + " for shard " +
                      r.shard.to_string());
  r.stop_on_first = json_bool(at("stop_on_first"), "stop_on_first");
  r.jobs = static_cast<unsigned>(
      json_unsigned(at("jobs"), "jobs", 1, limits::kJobs * std::min<std::uint64_t>(r.shard.indices.size(), 1 << 20)));

  // runs: exactly the shard's seeds, or up to them when stopping at the first bug.
  std::uint64_t shard_total = 0;
  for (std::uint64_t k : r.shard.indices) shard_total += shard_runs(r.campaign_runs, k, r.shard.count);
  r.runs = json_unsigned(at("runs"), "runs", 0, kU64);
  if (r.runs > shard_total || (!r.stop_on_first && r.runs != shard_total))
    throw ConfigError("runs " + std::to_string(r.runs) + (r.stop_on_first ? " is more than" : " is not") + " the " +
                      std::to_string(shard_total) + " seeds of shard " + r.shard.to_string() + " of a " +
                      std::to_string(r.campaign_runs) + "-run campaign");
  r.bugs_found = json_unsigned(at("bugs_found"), "bugs_found", 0, r.runs);
  r.fatal_runs = json_unsigned(at("fatal_runs"), "fatal_runs", 0, r.bugs_found);
  if (json_unsigned(at("warning_runs"), "warning_runs", 0, r.bugs_found) != r.bugs_found - r.fatal_runs)
    throw ConfigError("warning_runs is not bugs_found " + std::to_string(r.bugs_found) + " - fatal_runs " +
                      std::to_string(r.fatal_runs));
  r.ignored_runs = json_unsigned(at("ignored_runs"), "ignored_runs", 0, r.runs);
  // portfolio: exactly the members of the strategy, in order, adding up to the runs.
  if (j.contains("portfolio") != !members.empty())
    throw ConfigError(members.empty() ? "portfolio given for strategy " + smpemu::quoted(r.strategy)
                                      : std::string("portfolio missing for a portfolio strategy"));
  if (!members.empty()) {
    const json& list = json_array(j["portfolio"], "portfolio", limits::kPortfolioMembers);
    if (list.size() != members.size())
      throw ConfigError("portfolio has " + std::to_string(list.size()) + " entries for " +
                        std::to_string(members.size()) + " members");
    std::uint64_t runs = 0, bugs = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = "portfolio[" + std::to_string(i) + "]";
      require_object(list[i], path);
      refuse_unknown_keys(list[i], path, {"strategy", "runs", "bugs_found"});
      MemberStats m;
      m.strategy = json_string(json_member(list[i], path, "strategy"), path + ".strategy");
      if (m.strategy != members[i])
        throw ConfigError(path + ".strategy " + smpemu::quoted(m.strategy) + " is not member " +
                          smpemu::quoted(members[i]));
      m.runs = json_unsigned(json_member(list[i], path, "runs"), path + ".runs", 0, r.runs);
      m.bugs_found = json_unsigned(json_member(list[i], path, "bugs_found"), path + ".bugs_found", 0, m.runs);
      runs += m.runs;
      bugs += m.bugs_found;
      r.members.push_back(m);
    }
    if (runs != r.runs || bugs != r.bugs_found)
      throw ConfigError("portfolio adds up to " + std::to_string(runs) + " runs and " + std::to_string(bugs) +
                        " with bugs, not runs " + std::to_string(r.runs) + " and bugs_found " +
                        std::to_string(r.bugs_found));
  }
  const auto in_shard = [&](std::uint64_t seed, const std::string& path) {
    if (!seed_in_shard(seed, r.seed_base, r.campaign_runs, r.shard))
      throw ConfigError(path + " " + std::to_string(seed) + " is not a seed of shard " + r.shard.to_string() +
                        " (seeds " + std::to_string(r.seed_base) + ".." +
                        std::to_string(r.seed_base + (r.campaign_runs - 1)) + ")");
    return seed;
  };
  const json& first = at("first_bug_run");
  if (first.is_null() != (r.bugs_found == 0))
    throw ConfigError("first_bug_run is " + describe_json(first) + " with bugs_found " + std::to_string(r.bugs_found));
  if (!first.is_null()) r.first_bug_run = in_shard(json_unsigned(first, "first_bug_run", 0, kU64), "first_bug_run");
  r.host_seconds = json_number(at("host_seconds"), "host_seconds", 0, 1e12);
  (void)json_number(at("runs_per_second"), "runs_per_second", 0, 1e300);

  const json& sigs = json_array(at("signatures"), "signatures", limits::kDecisions);
  if (sigs.empty() != (r.bugs_found == 0))
    throw ConfigError("signatures has " + std::to_string(sigs.size()) + " entries with bugs_found " +
                      std::to_string(r.bugs_found));
  std::set<std::string> seen;
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    const json& o = sigs[i];
    const std::string path = "signatures[" + std::to_string(i) + "]";
    require_object(o, path);
    refuse_unknown_keys(o, path, {"signature", "check", "fatal", "count", "first_seed", "strategy", "repro", "record"});
    const auto field = [&](const char* key) -> const json& { return json_member(o, path, key); };
    SignatureStats st;
    st.signature = json_string(field("signature"), path + ".signature");
    if (!seen.insert(st.signature).second) throw ConfigError(path + ".signature " + smpemu::quoted(st.signature) + " repeated");
    st.check = json_string(field("check"), path + ".check");
    st.fatal = json_bool(field("fatal"), path + ".fatal");
    st.count = json_unsigned(field("count"), path + ".count", 1, r.bugs_found);
    st.first_seed = in_shard(json_unsigned(field("first_seed"), path + ".first_seed", 0, kU64), path + ".first_seed");
    if (st.first_seed < *r.first_bug_run)
      throw ConfigError(path + ".first_seed " + std::to_string(st.first_seed) + " is below first_bug_run " +
                        std::to_string(*r.first_bug_run));
    st.strategy = json_string(field("strategy"), path + ".strategy");
    if (st.strategy != strategies.of(st.first_seed))
      throw ConfigError(path + ".strategy " + smpemu::quoted(st.strategy) + " is not the strategy of seed " +
                        std::to_string(st.first_seed) + " (" + smpemu::quoted(strategies.of(st.first_seed)) + ")");
    st.repro = json_string(field("repro"), path + ".repro");
    if (o.contains("record")) st.record = json_string(o["record"], path + ".record");
    r.signatures.push_back(st);
  }
  if (!r.signatures.empty()) {
    std::uint64_t lowest = kU64;
    for (const SignatureStats& st : r.signatures) lowest = std::min(lowest, st.first_seed);
    if (lowest != *r.first_bug_run)
      throw ConfigError("first_bug_run " + std::to_string(*r.first_bug_run) + " is no signature's first_seed");
  }

  const json& seeds = json_array(at("seeds"), "seeds", kMaxListedSeeds);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    const std::string path = "seeds[" + std::to_string(i) + "]";
    const std::uint64_t seed = in_shard(json_unsigned(seeds[i], path, 0, kU64), path);
    if (!r.seeds.empty() && seed <= r.seeds.back())
      throw ConfigError(path + " " + std::to_string(seed) + " is not above " + std::to_string(r.seeds.back()));
    r.seeds.push_back(seed);
  }
  r.seeds_truncated = json_bool(at("seeds_truncated"), "seeds_truncated");
  const bool consistent = r.seeds_truncated ? r.seeds.size() == kMaxListedSeeds && r.bugs_found > kMaxListedSeeds
                                            : r.seeds.size() == r.bugs_found;
  if (!consistent)
    throw ConfigError("seeds has " + std::to_string(r.seeds.size()) + " entries with bugs_found " +
                      std::to_string(r.bugs_found) + " and seeds_truncated " + (r.seeds_truncated ? "true" : "false"));
  if (!r.seeds.empty() && r.seeds.front() != *r.first_bug_run)
    throw ConfigError("seeds[0] " + std::to_string(r.seeds.front()) + " is not first_bug_run " +
                      std::to_string(*r.first_bug_run));
  // Runs that ended at a per-run limit: a count of at most `runs`, and a first seed of
  // this shard exactly when the count is not 0.
  const auto limited = [&](const char* count, const char* first) {
    LimitedRuns l;
    l.count = json_unsigned(at(count), count, 0, r.runs);
    const json& f = at(first);
    if (!f.is_null()) l.first_seed = in_shard(json_unsigned(f, first, 0, kU64), first);
    if ((l.count == 0) != !l.first_seed)
      throw ConfigError(std::string(first) + (l.first_seed ? " is set" : " is null") + " with " + count + " " +
                        std::to_string(l.count));
    return l;
  };
  r.time_limited = limited("time_limited_runs", "first_time_limited_seed");
  r.host_limited = limited("host_limited_runs", "first_host_limited_seed");
  // coverage: exactly with settings.coverage on; pairs of this shard's seeds, and the
  // counts are those the first seeds give.
  const bool covered = r.settings.count("coverage") && r.settings.at("coverage") == "on";
  if (j.contains("coverage") != covered)
    throw ConfigError(covered ? "coverage missing with settings.coverage on" : "coverage given without settings.coverage on");
  if (covered) {
    const json& c = j["coverage"];
    require_object(c, "coverage");
    refuse_unknown_keys(c, "coverage", {"pairs", "growth", "first_seeds"});
    const json& first_seeds = json_member(c, "coverage", "first_seeds");
    require_object(first_seeds, "coverage.first_seeds");
    CoverageStats cov;
    for (const auto& [key, v] : first_seeds.items()) {
      const std::string path = "coverage.first_seeds." + key;
      std::uint64_t pair = 0;
      const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), pair, 16);
      if (key.size() != 16 || ec != std::errc() || end != key.data() + key.size())
        throw ConfigError(path + ": a pair key is 16 hex digits");
      cov.first_seed[pair] = in_shard(json_unsigned(v, path, 0, kU64), path);
    }
    if (json_unsigned(json_member(c, "coverage", "pairs"), "coverage.pairs", 0, kU64) != cov.pairs())
      throw ConfigError("coverage.pairs is not the " + std::to_string(cov.pairs()) + " pairs of coverage.first_seeds");
    json growth = json::array();
    for (const auto& [seeds, pairs] : cov.growth(r.seed_base, r.campaign_runs))
      growth.push_back({{"seeds", seeds}, {"pairs", pairs}});
    if (json_member(c, "coverage", "growth") != growth)
      throw ConfigError("coverage.growth is not what coverage.first_seeds give");
    r.coverage = std::move(cov);
  }
  // guided: exactly for a cov strategy (which collects coverage); its runs by kind add up.
  if (j.contains("guided") != is_guided(r.strategy))
    throw ConfigError(is_guided(r.strategy) ? "guided missing with a cov strategy" : "guided given without a cov strategy");
  if (is_guided(r.strategy)) {
    if (!covered) throw ConfigError("a cov strategy without settings.coverage on");
    if (r.shard.count != 1) throw ConfigError("shard " + r.shard.to_string() + " of a cov campaign, which is never sharded");
    const json& g = j["guided"];
    require_object(g, "guided");
    refuse_unknown_keys(g, "guided", {"generation", "fresh_runs", "mutated_runs", "corpus"});
    GuidedStats gs;
    gs.generation = json_unsigned(json_member(g, "guided", "generation"), "guided.generation", 1, kU64);
    gs.fresh_runs = json_unsigned(json_member(g, "guided", "fresh_runs"), "guided.fresh_runs", 0, r.runs);
    gs.mutated_runs = json_unsigned(json_member(g, "guided", "mutated_runs"), "guided.mutated_runs", 0, r.runs);
    gs.corpus = json_unsigned(json_member(g, "guided", "corpus"), "guided.corpus", 0, kU64);
    if (gs.fresh_runs + gs.mutated_runs != r.runs)
      throw ConfigError("guided.fresh_runs + guided.mutated_runs is not runs " + std::to_string(r.runs));
    r.guided = gs;
  }
  return r;
}

}  // namespace

FuzzResult fuzz_from_json(const nlohmann::json& j, const std::string& what) {
  try {
    return checked_fuzz_result(j);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("malformed fuzz result " + quoted(what) + ": " + escape_nonprintable(e.what()));
  } catch (const ConfigError& e) {
    throw ConfigError("malformed fuzz result " + quoted(what) + ": " + escape_nonprintable(e.what()));
  }
}

FuzzResult parse_fuzz_result(const std::string& text, const std::string& name) {
  nlohmann::json j;
  try {
    j = parse_json(text);
  } catch (const ConfigError& e) {
    throw ConfigError("malformed fuzz result " + quoted(name) + ": " + e.what());
  }
  return fuzz_from_json(j, name);
}

FuzzResult read_fuzz_result(const std::string& path) {
  return parse_fuzz_result(read_input_file(path, "fuzz result"), path);
}

FuzzResult merge_fuzz(const std::vector<FuzzResult>& parts, const std::vector<std::string>& names) {
  if (parts.empty()) throw ConfigError("nothing to merge");
  FuzzResult m = parts.front();
  m.shard.indices.clear();
  m.runs = m.bugs_found = m.fatal_runs = m.ignored_runs = 0;
  m.jobs = 0;
  m.host_seconds = 0;
  m.first_bug_run.reset();
  m.seeds.clear();
  m.seeds_truncated = false;
  m.time_limited = m.host_limited = LimitedRuns{};
  for (MemberStats& ms : m.members) ms.runs = ms.bugs_found = 0;
  if (m.coverage) m.coverage = CoverageStats{};
  std::map<std::string, SignatureStats> sigs;
  std::set<std::uint64_t> seeds;
  std::set<std::uint64_t> shards_seen;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const FuzzResult& p = parts[i];
    const std::string other = quoted(names.at(i)) + " ";
    const std::string first = " than " + quoted(names.front());
    if (p.workload != m.workload) throw ConfigError(other + "fuzzes another workload" + first);
    if (p.settings != m.settings || p.machine != m.machine || p.strategy != m.strategy)
      throw ConfigError(other + "has other settings" + first);
    if (p.seed_base != m.seed_base || p.campaign_runs != m.campaign_runs || p.stop_on_first != m.stop_on_first)
      throw ConfigError(other + "has another --seed-base, --runs or --stop-on-first" + first);
    if (p.shard.count != m.shard.count) throw ConfigError(other + "has another shard count" + first);
    if (p.build != m.build) throw ConfigError(other + "comes from another build (" + quoted(p.build) + ")" + first);
    for (std::uint64_t k : p.shard.indices) {
      if (!shards_seen.insert(k).second)
        throw ConfigError(other + "repeats shard " + std::to_string(k) + "/" + std::to_string(p.shard.count));
      m.shard.indices.push_back(k);
    }
    // Disjoint shards of one campaign: runs and bugs_found add up to at most
    // campaign_runs (each part was checked against its shards), so these sums cannot
    // wrap; jobs and host seconds are checked.
    m.runs += p.runs;
    m.bugs_found += p.bugs_found;
    m.fatal_runs += p.fatal_runs;
    m.ignored_runs += p.ignored_runs;
    if (p.jobs > std::numeric_limits<unsigned>::max() - m.jobs) throw ConfigError(other + "makes the jobs sum overflow");
    m.jobs += p.jobs;
    m.host_seconds += p.host_seconds;
    m.time_limited.merge(p.time_limited);
    m.host_limited.merge(p.host_limited);
    if (m.coverage && p.coverage)  // one settings map: all parts have coverage or none
      for (const auto& [pair, seed] : p.coverage->first_seed) m.coverage->add(pair, seed);
    for (std::size_t x = 0; x < m.members.size(); ++x) {  // one strategy, so the same members
      m.members[x].runs += p.members.at(x).runs;
      m.members[x].bugs_found += p.members.at(x).bugs_found;
    }
    if (p.first_bug_run && (!m.first_bug_run || *p.first_bug_run < *m.first_bug_run))
      m.first_bug_run = p.first_bug_run;
    for (const SignatureStats& s : p.signatures) {
      auto [it, fresh] = sigs.try_emplace(s.signature, s);
      if (fresh) continue;
      it->second.count += s.count;
      it->second.fatal = it->second.fatal || s.fatal;
      if (s.first_seed < it->second.first_seed) {
        const std::uint64_t count = it->second.count;
        it->second = s;
        it->second.count = count;
      }
    }
    seeds.insert(p.seeds.begin(), p.seeds.end());
    m.seeds_truncated = m.seeds_truncated || p.seeds_truncated;
  }
  std::sort(m.shard.indices.begin(), m.shard.indices.end());
  if (seeds.size() > kMaxListedSeeds) m.seeds_truncated = true;
  for (std::uint64_t s : seeds) {
    if (m.seeds.size() == kMaxListedSeeds) break;
    m.seeds.push_back(s);
  }
  m.signatures.clear();
  for (auto& [sig, s] : sigs) m.signatures.push_back(s);
  m.signatures = ordered_signatures(std::move(m.signatures));
  return m;
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
