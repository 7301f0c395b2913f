#include "cli/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>

#include "cli/parallel.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

/// What a comparison keeps of one run.
struct RunSummary {
  Metrics metrics;
  std::map<std::string, Histogram> histograms;
  bool bug = false;
  EndReason end = EndReason::Completed;
};

std::optional<double> ratio(double b, double a) {
  if (a == 0) return std::nullopt;
  return b / a;
}

HistogramSide side_of(const std::vector<RunSummary>& runs, const std::string& name) {
  HistogramSide s;
  for (const RunSummary& r : runs) {
    const auto it = r.histograms.find(name);
    const Histogram empty;
    const Histogram& h = it == r.histograms.end() ? empty : it->second;
    s.present = s.present || h.count() > 0;
    s.merged.merge(h);
    s.p50.push_back(static_cast<double>(h.percentile(5000)));
    s.p99.push_back(static_cast<double>(h.percentile(9900)));
    s.max.push_back(static_cast<double>(h.max()));
  }
  return s;
}

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json side_json(const HistogramSide& s) {
  if (!s.present) return nullptr;
  const Histogram& h = s.merged;
  return {{"count", h.count()},
          {"p50", h.percentile(5000)},
          {"p90", h.percentile(9000)},
          {"p99", h.percentile(9900)},
          {"p999", h.percentile(9990)},
          {"max", h.max()},
          {"per_seed", {{"p50", s.p50}, {"p99", s.p99}, {"max", s.max}}}};
}

std::string opt_text(const std::optional<double>& v, const char* fmt_spec = "{:.3f}") {
  return v ? fmt::format(fmt::runtime(fmt_spec), *v) : std::string("-");
}

std::string p_text(const std::optional<MannWhitneyResult>& t) { return t ? fmt::format("{:.3g}", t->p_value) : "-"; }

/// A Holm-adjusted p-value, starred when significant.
std::string holm_text(const std::optional<double>& p) {
  return p ? fmt::format("{:.3g}{}", *p, *p < kSignificance ? " *" : "  ") : std::string("-");
}

/// Refuses, in a variant's "K=V,..." list, what compare sets itself (the seed: both
/// variants run the same seeds) and a key given twice (the last would silently win).
void check_variant_keys(const std::string& list) {
  std::set<std::string> seen;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string kv = list.substr(pos, comma - pos);
    pos = comma + 1;
    const auto eq = kv.find('=');
    if (kv.empty() || eq == std::string::npos || eq == 0) continue;  // apply_settings_list() names it
    std::string key = kv.substr(0, eq);
    for (char& ch : key)
      if (ch == '-') ch = '_';
    if (key == "seed")
      throw ConfigError("seed cannot be set per variant: both variants run the seeds --seed-base .. "
                        "--seed-base + --seeds - 1");
    if (!seen.insert(key).second) throw ConfigError(quoted(kv.substr(0, eq)) + " is given twice");
  }
}

/// Metric `name` of run `r`, if it reported it. A wait-profile metric (traces/wait_profile.h)
/// is left out of a run only when it was zero there: a run with the profile ("blocked"
/// present) counts it as 0.
std::optional<double> metric_of(const RunSummary& r, const std::string& name) {
  if (const auto it = r.metrics.find(name); it != r.metrics.end()) return it->second;
  if (is_wait_metric(name) && r.metrics.count("blocked")) return 0.0;
  return std::nullopt;
}

}  // namespace

void compare_configs(const CompareOptions& opt, RunConfig& a, RunConfig& b) {
  if (opt.seeds == 0) throw ConfigError("bad --seeds 0 (expected at least 1)");
  if (opt.seed_base > std::numeric_limits<std::uint64_t>::max() - (opt.seeds - 1))
    throw ConfigError("--seed-base + --seeds passes 2^64-1");
  a = opt.base;
  b = opt.base;
  try {
    check_variant_keys(opt.a);
    apply_settings_list(a, opt.a);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--a: ") + e.what());
  }
  try {
    check_variant_keys(opt.b);
    apply_settings_list(b, opt.b);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--b: ") + e.what());
  }
  a.params.seed = b.params.seed = opt.seed_base;
  try {
    validate(a);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--a: ") + e.what());
  }
  try {
    validate(b);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--b: ") + e.what());
  }
}

CompareResult run_compare(const CompareOptions& opt) {
  CompareResult res;
  compare_configs(opt, res.a, res.b);
  // pct:D without K: a pilot run per side from the seed base (cli/runner.h).
  res.a.params.strategy = resolve_strategy(res.a, opt.seed_base);
  res.b.params.strategy = resolve_strategy(res.b, opt.seed_base);
  res.workload = opt.base.workload;
  res.a_settings = opt.a;
  res.b_settings = opt.b;
  res.seeds = opt.seeds;
  res.seed_base = opt.seed_base;
  res.jobs = opt.jobs;

  // Slot 2s is variant A on seed s, slot 2s+1 variant B: A and B progress together.
  const std::uint64_t n = 2 * opt.seeds;
  std::vector<RunSummary> slots(n);
  ParallelOptions popt;
  popt.jobs = opt.jobs;
  if (opt.progress) popt.progress = [&](const ParallelProgress& p) { opt.progress(p.done, n, p.seconds); };
  const auto start = std::chrono::steady_clock::now();
  parallel_for(n, popt, [&](std::uint64_t i, StackPool& pool) {
    RunConfig cfg = i % 2 ? res.b : res.a;
    cfg.params.seed = opt.seed_base + i / 2;
    cfg.params.history = false;  // only metrics and histograms are kept: no report text

    RunResult r = run_once(cfg, &pool, [&](Machine& m) {
      if (opt.run_seconds > 0)
        m.set_host_deadline(std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(opt.run_seconds)));
    });
    RunSummary& s = slots[i];
    s.end = r.stats.end;
    s.metrics = std::move(r.metrics);
    s.histograms = std::move(r.histograms);
    s.bug = !r.bugs.empty();
    return false;
  });
  res.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<RunSummary> ra, rb;
  for (std::uint64_t i = 0; i < n; ++i) {
    const bool b = i % 2;
    if (slots[i].end == EndReason::TimeLimit) ++(b ? res.time_limited_b : res.time_limited_a);
    if (slots[i].end == EndReason::HostLimit) {
      ++(b ? res.host_limited_b : res.host_limited_a);
      continue;
    }
    (b ? rb : ra).push_back(std::move(slots[i]));
  }
  std::set<std::string> hnames, mnames;
  for (const auto* v : {&ra, &rb})
    for (const RunSummary& r : *v) {
      if (r.bug) ++(v == &ra ? res.bugs_a : res.bugs_b);
      for (const auto& [name, h] : r.histograms)
        if (h.count() > 0) hnames.insert(name);
      for (const auto& [name, x] : r.metrics) mnames.insert(name);
    }

  for (const std::string& name : hnames) {
    HistogramComparison c;
    c.a = side_of(ra, name);
    c.b = side_of(rb, name);
    if (c.a.present && c.b.present) {
      c.ratio_p99 = ratio(static_cast<double>(c.b.merged.percentile(9900)),
                          static_cast<double>(c.a.merged.percentile(9900)));
      c.ratio_max = ratio(static_cast<double>(c.b.merged.max()), static_cast<double>(c.a.merged.max()));
      c.test_p99 = mann_whitney_u(c.a.p99, c.b.p99);
      c.test_max = mann_whitney_u(c.a.max, c.b.max);
    }
    res.histograms.emplace(name, std::move(c));
  }
  for (const std::string& name : mnames) {
    MetricComparison c;
    for (const auto& [runs, values] : {std::pair{&ra, &c.a}, std::pair{&rb, &c.b}})
      for (const RunSummary& r : *runs)
        if (auto v = metric_of(r, name)) values->push_back(*v);
    c.a_mean = mean(c.a);
    c.b_mean = mean(c.b);
    c.a_stddev = stddev(c.a);
    c.b_stddev = stddev(c.b);
    if (!c.a.empty() && !c.b.empty()) {
      c.ratio = ratio(c.b_mean, c.a_mean);
      c.shift_hl = hodges_lehmann_shift(c.a, c.b);
      c.test = mann_whitney_u(c.a, c.b);
    }
    res.metrics.emplace(name, std::move(c));
  }
  adjust_for_multiple_tests(res);
  return res;
}

void adjust_for_multiple_tests(CompareResult& r) {
  // One family: every p-value the comparison reports, each with where its adjusted value goes.
  std::vector<double> p;
  std::vector<std::optional<double>*> slot;
  const auto add = [&](const std::optional<MannWhitneyResult>& t, std::optional<double>& holm) {
    holm.reset();
    if (!t) return;
    p.push_back(t->p_value);
    slot.push_back(&holm);
  };
  for (auto& [name, c] : r.metrics) add(c.test, c.holm);
  for (auto& [name, c] : r.histograms) {
    add(c.test_p99, c.holm_p99);
    add(c.test_max, c.holm_max);
  }
  const std::vector<double> adjusted = holm_adjust(p);
  for (std::size_t i = 0; i < slot.size(); ++i) *slot[i] = adjusted[i];
  r.tests = p.size();
  const auto below = [](const std::optional<double>& x) { return x && *x < kSignificance; };
  for (auto& [name, c] : r.metrics) c.significant = below(c.holm);
  for (auto& [name, c] : r.histograms) c.significant = below(c.holm_p99) || below(c.holm_max);
}

nlohmann::json compare_to_json(const CompareResult& r) {
  using nlohmann::json;
  json j;
  j["workload"] = r.workload;
  j["seeds"] = r.seeds;
  j["seed_base"] = r.seed_base;
  j["jobs"] = r.jobs;
  j["build"] = build_identity();
  j["a"] = {{"settings", r.a_settings}, {"repro", repro_command(r.a)}};
  j["b"] = {{"settings", r.b_settings}, {"repro", repro_command(r.b)}};
  json hs = json::object();
  for (const auto& [name, c] : r.histograms) {
    hs[name] = {{"a", side_json(c.a)},
                {"b", side_json(c.b)},
                {"ratio_p99", opt_json(c.ratio_p99)},
                {"ratio_max", opt_json(c.ratio_max)},
                {"p_value_p99", c.test_p99 ? json(c.test_p99->p_value) : json(nullptr)},
                {"p_value_max", c.test_max ? json(c.test_max->p_value) : json(nullptr)},
                {"p_value_p99_holm", opt_json(c.holm_p99)},
                {"p_value_max_holm", opt_json(c.holm_max)},
                {"significant", c.significant}};
  }
  j["histograms"] = hs;
  json ms = json::object();
  for (const auto& [name, c] : r.metrics) {
    ms[name] = {{"a_mean", c.a_mean},
                {"b_mean", c.b_mean},
                {"a_stddev", c.a_stddev},
                {"b_stddev", c.b_stddev},
                {"ratio", opt_json(c.ratio)},
                {"shift_hl", c.shift_hl},
                {"p_value", c.test ? json(c.test->p_value) : json(nullptr)},
                {"p_value_holm", opt_json(c.holm)},
                {"significant", c.significant},
                {"a", c.a},
                {"b", c.b}};
  }
  j["metrics"] = ms;
  j["tests"] = r.tests;
  j["bugs"] = {{"a", r.bugs_a}, {"b", r.bugs_b}};
  j["time_limited_runs"] = {{"a", r.time_limited_a}, {"b", r.time_limited_b}};
  j["host_limited_runs"] = {{"a", r.host_limited_a}, {"b", r.host_limited_b}};
  j["host_seconds"] = r.host_seconds;
  j["runs_per_second"] = r.runs_per_second();
  return j;
}

std::string compare_to_text(const CompareResult& r) {
  std::string s;
  s += fmt::format("compare {} over {} seeds ({}..{}), {} jobs, {:.2f} s ({:.1f} runs/s)\n", r.workload, r.seeds,
                   r.seed_base, r.seed_base + r.seeds - 1, r.jobs, r.host_seconds, r.runs_per_second());
  s += fmt::format("  A: {}\n  B: {}\n", r.a_settings.empty() ? "(base)" : r.a_settings,
                   r.b_settings.empty() ? "(base)" : r.b_settings);
  s += fmt::format("  runs with bugs: A {}, B {}\n", r.bugs_a, r.bugs_b);
  if (r.time_limited_a + r.time_limited_b)
    s += fmt::format("  runs that reached the per-run cycle limit (--max-cycles): A {}, B {}\n", r.time_limited_a,
                     r.time_limited_b);
  if (r.host_limited_a + r.host_limited_b)
    s += fmt::format("  runs stopped at the host-time limit (--run-timeout), left out of the statistics: A {}, B {}\n",
                     r.host_limited_a, r.host_limited_b);
  if (!r.metrics.empty()) {
    // The name column is 28 wide, or wider when a name needs it (the wait profile's
    // blocked.CLASS.FUNCTION keys), so the numbers stay in columns.
    std::size_t width = 28;
    for (const auto& [name, c] : r.metrics) width = std::max(width, name.size());
    s += fmt::format("\n{:<{}} {:>12} {:>10} {:>12} {:>10} {:>8} {:>10} {:>10}\n", "metric (mean over seeds)", width,
                     "A", "sd", "B", "sd", "B/A", "p", "p(Holm)");
    for (const auto& [name, c] : r.metrics)
      s += fmt::format("{:<{}} {:>12.6g} {:>10.3g} {:>12.6g} {:>10.3g} {:>8} {:>10} {:>10}\n", name, width, c.a_mean,
                       c.a_stddev, c.b_mean, c.b_stddev, opt_text(c.ratio), p_text(c.test), holm_text(c.holm));
  }
  if (!r.histograms.empty()) {
    s += fmt::format("\n{:<26} {:>4} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}  (cycles, merged over seeds)\n",
                     "histogram", "", "count", "p50", "p90", "p99", "p99.9", "max");
    for (const auto& [name, c] : r.histograms) {
      bool first = true;
      for (const auto& [label, side] : {std::pair{"A", &c.a}, std::pair{"B", &c.b}}) {
        const std::string shown = first ? name : "";
        first = false;
        if (!side->present) {
          s += fmt::format("{:<26} {:>4} {:>9}\n", shown, label, "-");
          continue;
        }
        const Histogram& h = side->merged;
        s += fmt::format("{:<26} {:>4} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n", shown, label, h.count(),
                         h.percentile(5000), h.percentile(9000), h.percentile(9900), h.percentile(9990), h.max());
      }
      if (c.a.present && c.b.present)
        s += fmt::format("{:<26} {:>4} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}  p(p99) {} Holm {}  p(max) {} Holm {}\n",
                         "", "B/A", "", "", "", opt_text(c.ratio_p99), "", opt_text(c.ratio_max), p_text(c.test_p99),
                         holm_text(c.holm_p99), p_text(c.test_max), holm_text(c.holm_max));
    }
  }
  s += fmt::format("\n* p < 0.05 after Holm-Bonferroni over the {} tests of this comparison (Mann-Whitney U over "
                   "per-seed values; p is unadjusted)\n",
                   r.tests);
  return s;
}

}  // namespace smpemu
