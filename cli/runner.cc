#include "cli/runner.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "arch/mmu_registry.h"
#include "arch/profiles.h"
#include "cli/guided.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/portfolio.h"

#if __has_include("smpemu_git_rev.h")
#include "smpemu_git_rev.h"  // generated at build time (cmake/git_rev.cmake)
#endif
#ifndef SMPEMU_GIT_REV
#define SMPEMU_GIT_REV "unknown"
#endif
#ifndef SMPEMU_VERSION
#define SMPEMU_VERSION "unknown"
#endif

namespace smpemu {

namespace {

constexpr const char* build_type() {
#ifdef NDEBUG
  return "release";
#else
  return "debug";
#endif
}

}  // namespace

namespace {
std::string& program_name_slot() {
  static std::string name = "smpemu";
  return name;
}
}  // namespace

const std::string& program_name() { return program_name_slot(); }
void set_program_name(std::string name) { program_name_slot() = std::move(name); }

std::string build_identity() { return std::string("smpemu ") + SMPEMU_GIT_REV + " " + build_type(); }

std::string version_text() {
  return std::string("smpemu ") + SMPEMU_VERSION + " (git " + SMPEMU_GIT_REV + ", " + build_type() + " build)";
}

bool parse_unsigned(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno != 0 || v > max) return false;
  out = v;
  return true;
}

std::string number_problem(const std::string& value, const NumberSpec& spec, std::uint64_t& out) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
    return "malformed number " + quoted(value) + " (expected " + spec.expected + ")";
  const std::string digits = value.substr(std::min(value.find_first_not_of('0'), value.size() - 1));
  std::uint64_t v = 0;
  const bool fits = parse_unsigned(digits, ~0ULL, v);  // fails only past 2^64-1
  if (fits && v >= spec.min && v <= spec.max) {
    out = v;
    return "";
  }
  const std::string shown = digits.size() > 24 ? digits.substr(0, 24) + "..." : digits;
  if (spec.out_of_range == kPastBound && (!fits || v > spec.max))
    return shown + " is past its bound " + std::to_string(spec.max) + " (see `smpemu list`)";
  if (spec.out_of_range.empty() || spec.out_of_range == kPastBound)
    return shown + " is out of range (expected " + spec.expected + ")";
  return spec.out_of_range + " " + shown + " (expected " + spec.expected + ")";
}

std::uint64_t parse_number(const std::string& name, const std::string& value, const NumberSpec& spec) {
  std::uint64_t v = 0;
  const std::string problem = number_problem(value, spec, v);
  if (!problem.empty()) throw ConfigError(name + ": " + problem);
  return v;
}

NumberSpec count_spec(std::uint64_t min, std::uint64_t max) {
  return {min, max, "an integer " + std::to_string(min) + ".." + std::to_string(max), kPastBound};
}

std::uint64_t parse_count(const std::string& option, const std::string& value, std::uint64_t min, std::uint64_t max) {
  return parse_number(option, value, count_spec(min, max));
}

const NumberSpec* engine_number_spec(const std::string& key_in) {
  static const std::map<std::string, NumberSpec> specs = {
      {"cpus", {1, static_cast<std::uint64_t>(kMaxCpus), "an integer 1.." + std::to_string(kMaxCpus), "impossible CPU count"}},
      {"seed", {0, ~0ULL, "an integer 0..2^64-1", ""}},
      {"hz", {1, 100000, "1..100000", ""}},
      {"jitter", {0, 100, "0..100 percent", ""}},
      {"max_cycles", {0, ~0ULL, "a cycle count, 0 for none", ""}},
      {"livelock_ms", {0, 3600000, "0..3600000 ms; 0 turns the watchdog off", ""}},
  };
  std::string key = key_in;
  for (char& ch : key)
    if (ch == '-') ch = '_';
  const auto it = specs.find(key);
  return it == specs.end() ? nullptr : &it->second;
}

void apply_setting(RunConfig& cfg, const std::string& key_in, const std::string& value, bool as_option) {
  std::string key = key_in;
  for (char& ch : key)
    if (ch == '-') ch = '_';
  std::string shown = as_option ? "--" + key_in : key_in;
  MachineParams& p = cfg.params;
  try {
    if (const NumberSpec* spec = engine_number_spec(key)) {
      const std::uint64_t v = parse_number(shown, value, *spec);
      if (key == "cpus") p.cpus = static_cast<int>(v);
      if (key == "seed") p.seed = v;
      if (key == "hz") p.hz = static_cast<std::uint32_t>(v);
      if (key == "jitter") p.jitter_pct = static_cast<std::uint32_t>(v);
      if (key == "max_cycles") p.max_cycles = v;
      if (key == "livelock_ms") p.livelock_ms = static_cast<std::uint32_t>(v);
    } else if (key == "machine") {
      cfg.machine = value;
    } else if (key == "arch") {
      if (!find_mmu_type(value.c_str()))
        throw ConfigError("unknown " + shown + " " + quoted(value) + " (known: " + mmu_type_names() + ")");
      cfg.arch = value;
    } else if (key == "strategy") {
      p.strategy = value;
    } else if (key == "preempt") {
      p.preempt = parse_preempt(value);
    } else if (key == "rcu") {
      p.rcu = parse_rcu_flavor(value);
    } else if (key == "mutex_spin") {
      p.mutex_spin = parse_on_off(shown, value);
    } else if (key == "mutex") {
      p.mutex = parse_mutex_model(value);
    } else if (key == "history") {
      p.history = parse_on_off(shown, value);
    } else if (key == "lockdep") {
      p.lockdep = parse_on_off(shown, value);
    } else if (key == "coverage") {
      p.coverage = parse_on_off(shown, value);
    } else if (key == "check") {
      add_check_names(cfg.checks.only, value, shown);
    } else if (key == "ignore_check") {
      add_check_names(cfg.checks.ignore, value, shown);
    } else {
      cfg.set[key_in] = value;
    }
  } catch (const std::invalid_argument& e) {  // the engine's parsers echo the text raw
    throw ConfigError(escape_nonprintable(e.what()));
  }
}

void apply_settings_list(RunConfig& cfg, const std::string& list) {
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string kv = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (kv.empty()) continue;
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("bad setting " + quoted(kv) + " (expected KEY=VALUE)");
    apply_setting(cfg, kv.substr(0, eq), kv.substr(eq + 1));
  }
}

void validate(const RunConfig& cfg) {
  for (const auto& c : cfg.checks.only)
    if (std::find(cfg.checks.ignore.begin(), cfg.checks.ignore.end(), c) != cfg.checks.ignore.end())
      throw ConfigError("--check " + c + " and --ignore-check " + c + " contradict each other");
  const WorkloadSpec* spec = find_workload(cfg.workload);
  if (!spec) {
    std::string known;
    for (const auto& w : workloads()) known += (known.empty() ? "" : ", ") + w.name;
    throw ConfigError("unknown workload " + quoted(cfg.workload) + " (known: " + known + ")");
  }
  if (!find_machine_profile(cfg.machine)) {
    std::string known;
    for (const auto* p : machine_profiles()) known += (known.empty() ? "" : ", ") + std::string(p->name);
    throw ConfigError("unknown machine " + quoted(cfg.machine) + " (known: " + known + ")");
  }
  if (cfg.params.cpus < 1 || cfg.params.cpus > kMaxCpus)
    throw ConfigError("impossible CPU count " + std::to_string(cfg.params.cpus) + " (expected 1.." +
                      std::to_string(kMaxCpus) + ")");
  if (cfg.params.hz < 1 || cfg.params.hz > 100000)
    throw ConfigError("bad --hz " + std::to_string(cfg.params.hz) + " (expected 1..100000)");
  if (cfg.params.jitter_pct > 100)
    throw ConfigError("bad --jitter " + std::to_string(cfg.params.jitter_pct) + " (expected 0..100)");
  if (is_guided(cfg.params.strategy))
    throw ConfigError("--strategy " + quoted(cfg.params.strategy) +
                      " is a campaign of `smpemu fuzz` (with --record DIR); the runs it finds replay from their "
                      "records with `smpemu replay`");
  try {
    (void)make_strategy(cfg.params.strategy, cfg.params.cpus, cfg.params.seed);
  } catch (const std::invalid_argument& e) {  // the engine's parsers echo the text raw
    throw ConfigError(escape_nonprintable(e.what()));
  }
  if (!find_mmu_type(cfg.arch.c_str()))
    throw ConfigError("unknown --arch " + quoted(cfg.arch) + " (known: " + mmu_type_names() + ")");
  (void)resolve_knobs(*spec, cfg.set, cfg.arch);
}

bool CheckFilter::counts(const std::string& check) const {
  if (std::find(ignore.begin(), ignore.end(), check) != ignore.end()) return false;
  return only.empty() || std::find(only.begin(), only.end(), check) != only.end();
}

void add_check_names(std::vector<std::string>& names, const std::string& list, const std::string& option) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string name = list.substr(pos, comma - pos);
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!ok)
      throw ConfigError("bad " + option + " " + quoted(list) +
                        " (expected check names such as lock-order,deadlock: lower-case letters, digits, '-')");
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    if (comma == list.size()) break;
    pos = comma + 1;
  }
  std::sort(names.begin(), names.end());
}

std::string check_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string resolve_strategy(const RunConfig& cfg, std::uint64_t pilot_seed, StackPool* pool) {
  if (!strategy_wants_steps(cfg.params.strategy)) {
    if (!is_portfolio(cfg.params.strategy)) return cfg.params.strategy;
    try {
      return portfolio_spec(portfolio_members(cfg.params.strategy));  // `portfolio` spelled out
    } catch (const std::invalid_argument& e) {
      throw ConfigError(escape_nonprintable(e.what()));
    }
  }
  RunConfig pilot = cfg;
  pilot.params.strategy = "time";
  pilot.params.seed = pilot_seed;
  pilot.params.history = false;
  return strategy_with_steps(cfg.params.strategy, run_once(pilot, pool).stats.steps);
}

RunResult run_once(const RunConfig& cfg, StackPool* pool, const std::function<void(Machine&)>& prepare,
                   const std::function<void(Machine&)>& after) {
  validate(cfg);
  const WorkloadSpec* spec = find_workload(cfg.workload);
  const machine_profile* prof = find_machine_profile(cfg.machine);
  RunResult r;
  r.config = cfg;
  r.knobs = resolve_knobs(*spec, cfg.set, cfg.arch);
  r.clock_hz = static_cast<double>(prof->costs.clock_hz);
  std::unique_ptr<Trace> wait_trace;  // outlives the machine that writes it
  LockProfile waits;
  Machine m(cfg.params, build_topology(prof, cfg.params.cpus), prof->costs, pool);
  std::unique_ptr<Workload> w = spec->make();
  w->setup(m, r.knobs);
  if (prepare) prepare(m);
  const bool want_waits = cfg.wait_profile || w->wants_wait_profile();
  if (want_waits) {
    if (!m.trace()) {  // what the engine would attach for its history, so bug reports see the same
      wait_trace = std::make_unique<Trace>(MachineParams::kHistoryEvents);
      m.set_trace(wait_trace.get());
    }
    m.trace()->add_listener(&waits);
  }
  r.stats = m.run();
  r.bugs = m.bugs();
  w->finish(m, r.metrics, r.bugs);
  if (!cfg.checks.empty()) {
    std::vector<BugReport> all = std::move(r.bugs);
    r.bugs.clear();
    for (BugReport& b : all) (cfg.checks.counts(b.check) ? r.bugs : r.ignored).push_back(std::move(b));
  }
  r.histograms = m.histograms();
  for (const LockClass& c : m.lockdep().classes()) r.locks.push_back({c.name, c.acquisitions, c.contentions});
  if (m.coverage()) r.coverage = m.coverage()->pairs();
  if (want_waits) {
    r.waits = wait_profile_of(waits, cfg.params.cpus, r.stats.cycles);
    for (const auto& [key, share] : wait_metrics(*r.waits)) r.metrics[key] = share;
  }
  if (after) after(m);
  return r;
}

std::string repro_command(const RunConfig& cfg) {
  std::string s = program_name() + " run " + cfg.workload + " --cpus " + std::to_string(cfg.params.cpus) + " --seed " +
                  std::to_string(cfg.params.seed) + " --machine " + cfg.machine + " --strategy " +
                  cfg.params.strategy + " --preempt " + preempt_name(cfg.params.preempt);
  const MachineParams d;
  if (cfg.arch != RunConfig{}.arch) s += " --arch " + cfg.arch;
  if (cfg.params.rcu != d.rcu) s += std::string(" --rcu ") + rcu_flavor_name(cfg.params.rcu);
  if (cfg.params.mutex_spin != d.mutex_spin) s += std::string(" --mutex-spin ") + (cfg.params.mutex_spin ? "on" : "off");
  if (cfg.params.mutex != d.mutex) s += std::string(" --mutex ") + mutex_model_name(cfg.params.mutex);
  if (cfg.params.history != d.history) s += std::string(" --history ") + (cfg.params.history ? "on" : "off");
  if (cfg.params.hz != d.hz) s += " --hz " + std::to_string(cfg.params.hz);
  if (cfg.params.jitter_pct != d.jitter_pct) s += " --jitter " + std::to_string(cfg.params.jitter_pct);
  if (cfg.params.max_cycles != d.max_cycles) s += " --max-cycles " + std::to_string(cfg.params.max_cycles);
  if (cfg.params.livelock_ms != d.livelock_ms) s += " --livelock-ms " + std::to_string(cfg.params.livelock_ms);
  if (cfg.params.lockdep != d.lockdep) s += std::string(" --lockdep ") + (cfg.params.lockdep ? "on" : "off");
  for (const auto& [k, v] : cfg.set) s += " --set " + k + "=" + v;
  if (!cfg.checks.only.empty()) s += " --check " + check_list(cfg.checks.only);
  if (!cfg.checks.ignore.empty()) s += " --ignore-check " + check_list(cfg.checks.ignore);
  return s;
}

}  // namespace smpemu
