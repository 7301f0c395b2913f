#include "cli/report.h"

#include "cli/record.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace smpemu {

std::string hex16(std::uint64_t v) { return fmt::format("{:016x}", v); }

namespace {
double events_per_second(const RunResult& r) {
  return r.stats.host_seconds > 0 ? static_cast<double>(r.stats.events) / r.stats.host_seconds : 0.0;
}

/// Cycles as microseconds at `clock_hz`, rounded to the nanosecond.
double to_us(std::uint64_t cycles, double clock_hz) {
  return std::round(static_cast<double>(cycles) * 1e9 / clock_hz) / 1000.0;
}
}  // namespace

nlohmann::json to_json(const RunResult& r, const std::string& repro_in) {
  const std::string repro = repro_in.empty() ? repro_command(r.config) : repro_in;
  using nlohmann::json;
  json j;
  j["workload"] = r.config.workload;
  j["seed"] = r.config.params.seed;
  j["cpus"] = r.config.params.cpus;
  j["machine"] = r.config.machine;
  j["strategy"] = r.config.params.strategy;
  j["preempt"] = preempt_name(r.config.params.preempt);
  j["rcu"] = rcu_flavor_name(r.config.params.rcu);
  j["mutex_spin"] = r.config.params.mutex_spin;
  j["mutex"] = mutex_model_name(r.config.params.mutex);
  j["history"] = r.config.params.history;
  j["arch"] = r.config.arch;
  j["knobs"] = r.knobs.all();
  j["digest"] = hex16(r.stats.digest);
  j["cycles"] = r.stats.cycles;
  j["events"] = r.stats.events;
  j["steps"] = r.stats.steps;
  if (r.coverage) j["coverage"] = {{"pairs", r.coverage->size()}};
  j["end"] = end_reason_name(r.stats.end);
  j["clock_hz"] = r.clock_hz;
  j["host_seconds"] = r.stats.host_seconds;
  j["events_per_second"] = events_per_second(r);
  j["build"] = build_identity();
  json bugs = json::array();
  for (const auto& b : r.bugs) {
    bugs.push_back({{"check", b.check},
                    {"message", b.message},
                    {"cycle", b.cycle},
                    {"cpu", b.cpu},
                    {"task", b.task},
                    {"fatal", b.fatal},
                    {"signature", bug_signature(b)},
                    {"details", b.details},
                    {"repro", repro}});
  }
  j["bugs"] = bugs;
  const auto fatal = static_cast<std::size_t>(
      std::count_if(r.bugs.begin(), r.bugs.end(), [](const BugReport& b) { return b.fatal; }));
  j["fatal_bugs"] = fatal;
  j["warnings"] = r.bugs.size() - fatal;
  // Reports the check filter (--check, --ignore-check) left out: named, not counted.
  json ignored = json::array();
  for (const auto& b : r.ignored)
    ignored.push_back({{"check", b.check}, {"message", b.message}, {"fatal", b.fatal}, {"signature", bug_signature(b)}});
  j["ignored_bugs"] = ignored;
  json hs = json::object();
  for (const auto& [name, h] : r.histograms) {
    if (h.count() == 0) continue;
    hs[name] = {{"count", h.count()},      {"min", h.min()},           {"p50", h.percentile(5000)},
                {"p90", h.percentile(9000)}, {"p99", h.percentile(9900)}, {"p999", h.percentile(9990)},
                {"max", h.max()},          {"mean", h.mean()},         {"unit", "cycles"}};
    if (r.clock_hz > 0) {
      // The same values in microseconds (clock_hz); the cycle values above stay the reference.
      json us = json::object();
      for (const char* k : {"min", "p50", "p90", "p99", "p999", "max", "mean"})
        us[k] = to_us(hs[name][k].get<std::uint64_t>(), r.clock_hz);
      hs[name]["us"] = std::move(us);
    }
  }
  j["histograms"] = hs;
  j["metrics"] = r.metrics;
  return j;
}

std::string bugs_text(const RunResult& r, const std::string& repro_in) {
  const std::string repro = repro_in.empty() ? repro_command(r.config) : repro_in;
  std::string s;
  for (const auto& b : r.bugs) {
    s += fmt::format("BUG [{}] {}: {}\n    at cycle {} on cpu {} in task {}\n", b.fatal ? "fatal" : "warning", b.check,
                     b.message, b.cycle, b.cpu, b.task);
    s += b.details;
    s += fmt::format("    repro: {}\n\n", repro);
  }
  if (!r.ignored.empty()) {
    std::map<std::string, std::size_t> by_check;
    for (const auto& b : r.ignored) ++by_check[b.check];
    std::string list;
    for (const auto& [c, n] : by_check) list += fmt::format("{}{} x{}", list.empty() ? "" : ", ", c, n);
    s += fmt::format("ignored    {} report{} of checks that do not count here: {}\n\n", r.ignored.size(),
                     r.ignored.size() == 1 ? "" : "s", list);
  }
  return s;
}

void note_unmatched_checks(const CheckFilter& f, const std::set<std::string>& seen) {
  for (const auto& [option, names] : {std::pair{"--check", &f.only}, std::pair{"--ignore-check", &f.ignore}})
    for (const std::string& n : *names)
      if (!seen.count(n)) std::fprintf(stderr, "smpemu: note: %s %s matched no report\n", option, n.c_str());
}

std::set<std::string> checks_of(const RunResult& r) {
  std::set<std::string> s;
  for (const auto* list : {&r.bugs, &r.ignored})
    for (const BugReport& b : *list) s.insert(b.check);
  return s;
}

std::string to_text(const RunResult& r, const std::string& repro) {
  std::string s;
  s += fmt::format("workload   {} on {} x{} (seed {}, strategy {}, preempt {})\n", r.config.workload,
                   r.config.machine, r.config.params.cpus, r.config.params.seed, r.config.params.strategy,
                   preempt_name(r.config.params.preempt));
  s += fmt::format("digest     {}\n", hex16(r.stats.digest));
  s += fmt::format("end        {} after {} cycles ({:.1f} us emulated)\n", end_reason_name(r.stats.end),
                   r.stats.cycles, static_cast<double>(r.stats.cycles) * 1e6 / r.clock_hz);
  s += fmt::format("events     {} in {:.3f} s host ({:.2f} M events/s)\n", r.stats.events, r.stats.host_seconds,
                   events_per_second(r) / 1e6);
  if (r.coverage) s += fmt::format("coverage   {} conflicting-access pairs\n", r.coverage->size());
  if (!r.metrics.empty()) {
    s += "metrics\n";
    std::size_t width = 28;  // wider when a name needs it (the wait profile's keys)
    for (const auto& [k, v] : r.metrics) width = std::max(width, k.size());
    for (const auto& [k, v] : r.metrics) s += fmt::format("  {:<{}} {:.6g}\n", k, width, v);
  }
  bool header = false;
  for (const auto& [name, h] : r.histograms) {
    if (h.count() == 0) continue;
    if (!header) {
      s += fmt::format("{:<26} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}  (cycles; (us) lines: microseconds)\n",
                       "histogram", "count", "p50", "p90", "p99", "p99.9", "max");
      header = true;
    }
    s += fmt::format("{:<26} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n", name, h.count(), h.percentile(5000),
                     h.percentile(9000), h.percentile(9900), h.percentile(9990), h.max());
    if (r.clock_hz > 0) {  // the same percentiles in microseconds, on a line of their own
      const auto us = [&](std::uint64_t c) { return fmt::format("{:.3f}", to_us(c, r.clock_hz)); };
      s += fmt::format("{:<26} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "", "(us)", us(h.percentile(5000)),
                       us(h.percentile(9000)), us(h.percentile(9900)), us(h.percentile(9990)), us(h.max()));
    }
  }
  return bugs_text(r, repro) + s;
}

}  // namespace smpemu
