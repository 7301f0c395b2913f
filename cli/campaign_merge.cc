// Reading fuzz results back (`smpemu merge`'s shard files) and merging the shards of one
// campaign (cli/campaign.h): every key of a file is checked, typed and checked against
// the others before anything is merged, so a lost, edited or foreign shard is one line
// and exit 2, never a wrong total.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include "cli/campaign.h"
#include "cli/campaign_aggregate.h"
#include "cli/guided.h"
#include "cli/input_file.h"
#include "cli/json_input.h"
#include "cli/record.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"
#include "emu/portfolio.h"

namespace smpemu {

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

}  // namespace smpemu
