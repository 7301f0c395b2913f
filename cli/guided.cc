#include "cli/guided.h"

#include <algorithm>
#include <chrono>
#include <deque>

#include "cli/campaign_aggregate.h"
#include "cli/parallel.h"
#include "cli/record.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/log_mutation.h"
#include "emu/portfolio.h"
#include "emu/rng.h"
#include "emu/strategy.h"

namespace smpemu {

namespace {

constexpr const char* kGuided = "cov";
constexpr const char* kDefaultBase = "pos";

/// One entry of the corpus: a log some run followed, and that run's length.
struct CorpusEntry {
  DecisionLog log;
  std::uint64_t steps = 0;
};

/// What one run of a generation gives the campaign.
struct Outcome {
  RunResult run;
  DecisionLog followed;  ///< the decisions it took (a valid log of the run)
  bool mutant = false;
};

}  // namespace

bool is_guided(const std::string& spec) { return spec == kGuided || spec.rfind("cov:", 0) == 0; }

std::string guided_base(const std::string& spec) {
  if (spec == kGuided) return kDefaultBase;
  const std::string base = spec.substr(4);
  if (base.empty() || is_guided(base) || is_portfolio(base))
    throw ConfigError("bad strategy " + quoted(spec) +
                      " (expected cov or cov:BASE with BASE a strategy other than cov and portfolio)");
  try {
    (void)make_strategy(base, 1, 1);
  } catch (const std::invalid_argument& e) {
    throw ConfigError("bad strategy " + quoted(spec) + ": " + escape_nonprintable(e.what()));
  }
  return base;
}

FuzzResult run_guided_fuzz(const FuzzOptions& given) {
  FuzzOptions opt = given;
  const std::string spec = opt.base.params.strategy;
  if (opt.shard.count != 1)
    throw ConfigError("--strategy " + spec + " cannot be sharded (--shard " + opt.shard.to_string() +
                      "): each generation mutates what the runs before it found; use --jobs");
  opt.base.params.strategy = guided_base(spec);
  opt.base.params.coverage = true;
  opt.base.params.strategy = resolve_strategy(opt.base, opt.seed_base);  // pct:3 -> pct:3:K
  const std::string base = opt.base.params.strategy;

  FuzzResult res;
  start_result(res, opt);
  res.strategy = res.settings["strategy"] = std::string(kGuided) + ":" + base;
  GuidedStats stats;
  stats.generation = GuidedParams::kGeneration;

  Aggregate agg;
  std::deque<CorpusEntry> corpus;
  std::uint64_t bug_runs = 0;
  const int ncpus = opt.base.params.cpus;
  const auto start = std::chrono::steady_clock::now();
  bool stopped = false;
  for (std::uint64_t first = 0; first < opt.runs && !stopped; first += GuidedParams::kGeneration) {
    const std::uint64_t size = std::min(GuidedParams::kGeneration, opt.runs - first);
    std::vector<Outcome> out(size);
    ParallelOptions popt;
    popt.jobs = opt.jobs;
    parallel_for(size, popt, [&](std::uint64_t j, StackPool& pool) {
      RunConfig cfg = opt.base;
      cfg.params.seed = opt.seed_base + first + j;
      cfg.params.history = false;  // signatures never depend on it; the records print it all
      Outcome& o = out[j];
      Rng rng(cfg.params.seed, "cov");
      o.mutant = !corpus.empty() && rng.below(100) >= GuidedParams::kFreshPercent;
      if (!o.mutant) {
        Record rec;
        o.run = run_once(cfg, &pool, [&](Machine& m) {
          start_recording(m, cfg, rec);
          set_run_deadline(m, opt.run_seconds);
        });
        o.followed = std::move(rec.decisions);
      } else {
        const CorpusEntry& parent = corpus[rng.below(corpus.size())];
        Record rec;
        rec.config = cfg;
        rec.decisions = mutate_decisions(parent.log, parent.steps, ncpus, rng, GuidedParams::kMaxEdits);
        ReplayResult rr = replay_record(rec, &pool, [&](Machine& m) { set_run_deadline(m, opt.run_seconds); });
        o.run = std::move(rr.run);
        o.followed = std::move(rr.followed);
      }
      return false;
    });
    // In seed order: what the runs found, and which of them join the corpus.
    for (std::uint64_t j = 0; j < size; ++j) {
      Outcome& o = out[j];
      const std::uint64_t seed = opt.seed_base + first + j;
      ++(o.mutant ? stats.mutated_runs : stats.fresh_runs);
      const bool counted = o.run.stats.end != EndReason::HostLimit;
      bool fresh_pairs = false;
      if (counted && o.run.coverage)
        for (std::uint64_t p : *o.run.coverage) fresh_pairs = fresh_pairs || !agg.coverage.first_seed.count(p);
      const RunFindings found = counted ? run_signatures(o.run) : RunFindings{};
      for (const auto& [sig, info] : found.sigs)
        if (!agg.sigs.count(sig)) res.logs.emplace(seed, o.followed);  // its first seed: keep what it followed
      agg.add_run(seed, o.run);
      bug_runs += !found.empty();
      if (fresh_pairs) {
        corpus.push_back({std::move(o.followed), o.run.stats.steps});
        if (corpus.size() > GuidedParams::kCorpusMax) corpus.pop_front();
      }
      if (opt.stop_on_first && !found.empty()) {
        stopped = true;
        break;
      }
    }
    if (opt.progress)
      opt.progress(agg.runs, opt.runs, bug_runs,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                   agg.coverage.pairs());
  }
  res.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.corpus = corpus.size();
  res.guided = stats;
  agg.fill(res, true);
  for (auto& [sig, s] : agg.sigs) {
    s.strategy = res.strategy;
    s.repro = "(replay its record: fuzz --strategy " + std::string(kGuided) + " needs --record DIR)";
    res.signatures.push_back(s);
  }
  res.signatures = ordered_signatures(std::move(res.signatures));
  return res;
}

void record_guided_signatures(FuzzResult& r, const RunConfig& base, const std::string& dir) {
  const std::string strategy = r.strategy.substr(r.strategy.find(':') + 1);  // the base, K resolved
  record_first_seeds(r, dir, [&](const SignatureStats& s, const std::string& path, StackPool& pool) {
    Record in;
    in.config = base;
    in.config.params.seed = s.first_seed;
    in.config.params.strategy = strategy;
    in.decisions = r.logs.at(s.first_seed);
    ReplayResult rr = replay_record(in, &pool);
    Record rec;
    rec.decisions = std::move(rr.followed);
    finish_recording(rr.run, rec);
    write_record(path, rec);
    return std::move(rr.run);
  });
  for (SignatureStats& s : r.signatures) s.repro = program_name() + " replay " + s.record;
}

}  // namespace smpemu
