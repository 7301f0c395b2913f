// Running one workload on one freshly built Machine: the unit that `smpemu run`,
// the tests and (later) fuzz and compare campaigns repeat.
//
// Concurrency: run_once() touches no global mutable state; many may run at once on
// different host threads, each with its own StackPool.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "emu/machine.h"
#include "traces/wait_profile.h"
#include "workloads/workload.h"

namespace smpemu {

/// Everything that determines a run (with the binary).
/// Which bug checks count (--check, --ignore-check). A report of a check that does not
/// count is kept aside (RunResult::ignored): it does not make the run fail, it is no
/// fuzz signature and no campaign stops on it. The run itself is not changed: its digest
/// and end are the same with any filter, and an ignored fatal report still ends it.
struct CheckFilter {
  std::vector<std::string> only;    ///< --check: when not empty, only these checks count
  std::vector<std::string> ignore;  ///< --ignore-check: these checks never count
  bool counts(const std::string& check) const;
  bool empty() const { return only.empty() && ignore.empty(); }
  friend bool operator==(const CheckFilter&, const CheckFilter&) = default;
};

/// Adds the comma-separated check names of `list` to `names` (sorted, each once), for
/// option `option` ("--check"). A name is lower-case letters, digits and '-' (what every
/// check is called, "lock-order"); anything else throws ConfigError.
void add_check_names(std::vector<std::string>& names, const std::string& list, const std::string& option);
/// The names as add_check_names() reads them: "deadlock,lock-order".
std::string check_list(const std::vector<std::string>& names);

struct RunConfig {
  std::string workload;
  std::string machine = "opteron48";
  /// MMU model of mm workloads (--arch; the registry of arch/mmu.h). The mm environment
  /// reads it (Knobs::arch); the engine never does, so it is not a MachineParams field.
  std::string arch = "x86";
  MachineParams params;  ///< cpus, seed, strategy, preempt, hz, jitter, max_cycles
  std::map<std::string, std::string> set;  ///< workload knobs as given by --set
  CheckFilter checks;                      ///< which reports count (never changes the run)
  /// --wait-profile: fold the run's lock waits into RunResult::waits and the blocked.* and
  /// spin.* metrics (traces/wait_profile.h). Never changes the run or its digest; a
  /// workload can ask for it in every run (Workload::wants_wait_profile()).
  bool wait_profile = false;
};

/// Per lock class counters (the histograms are lock.<name>.wait / .hold).
struct LockClassStats {
  std::string name;
  std::uint64_t acquisitions = 0;
  std::uint64_t contentions = 0;
};

struct RunResult {
  RunConfig config;
  Knobs knobs;  ///< every knob, defaults filled in
  RunStats stats;
  std::vector<BugReport> bugs;     ///< the reports that count (config.checks)
  std::vector<BugReport> ignored;  ///< the reports config.checks leaves out, in order
  std::map<std::string, Histogram> histograms;
  Metrics metrics;
  std::vector<LockClassStats> locks;  ///< every lock class, in registration order
  /// With RunConfig::wait_profile or a workload that wants it: where lock waits went
  /// (its shares are also in `metrics`); else nothing.
  std::optional<WaitProfile> waits;
  double clock_hz = 0;
  /// With MachineParams::coverage: the run's conflicting-access pairs (emu/coverage.h
  /// keys, ascending); else nothing.
  std::optional<std::vector<std::uint64_t>> coverage;
};

/// Strict unsigned parse: digits only, at most `max`.
bool parse_unsigned(const std::string& s, std::uint64_t max, std::uint64_t& out);

/// What a number a user gives (an option, a setting of a record or a compare variant) must
/// be: decimal digits only (no sign, no 0x, no exponent), in min..max.
struct NumberSpec {
  std::uint64_t min = 0;
  std::uint64_t max = ~0ULL;
  std::string expected;  ///< what messages say is expected, e.g. "an integer 1..1024"
  /// How a value outside min..max is named: "" gives "0 is out of range (expected E)";
  /// kPastBound (max is a bound of emu/limits.h) gives "2000 is past its bound 1024
  /// (see `smpemu list`)" above max; any other text T gives "T 0 (expected E)".
  std::string out_of_range;
};

/// NumberSpec::out_of_range of a bound of emu/limits.h.
inline constexpr const char* kPastBound = "past its bound";

/// Checks `value` against `spec`: returns "" and sets `out`, or the problem as one line
/// that does not name the option ("malformed number '4x' (expected an integer 1..1024)",
/// "101 is out of range (expected 0..100)"). User text in it is quoted and escaped.
std::string number_problem(const std::string& value, const NumberSpec& spec, std::uint64_t& out);

/// number_problem() for the option or setting `name`. Throws ConfigError "NAME: PROBLEM".
std::uint64_t parse_number(const std::string& name, const std::string& value, const NumberSpec& spec);

/// A count the user gives on the command line (`option` is its name, "--runs"): digits
/// only, in min..max where max is a bound of emu/limits.h. Throws ConfigError: "--runs:
/// malformed number 'x' (expected an integer 1..1099511627776)", or for a larger number
/// "--runs: 2000000000000 is past its bound 1099511627776 (see `smpemu list`)".
std::uint64_t parse_count(const std::string& option, const std::string& value, std::uint64_t min, std::uint64_t max);

/// The NumberSpec of parse_count().
NumberSpec count_spec(std::uint64_t min, std::uint64_t max);

/// The NumberSpec of a numeric engine parameter (cpus, seed, hz, jitter, max_cycles,
/// livelock_ms; '-' and '_' alike), or nullptr for any other key. apply_setting() and
/// the command-line options check these numbers through it.
const NumberSpec* engine_number_spec(const std::string& key);

/// Applies one setting KEY=VALUE to `cfg`: an engine parameter (cpus, seed, machine,
/// strategy, preempt, rcu, mutex_spin, mutex, history, lockdep, hz, jitter, max_cycles, livelock_ms;
/// check and ignore_check, comma lists added to RunConfig::checks; '-' and '_' alike) or,
/// for any other key, a workload knob (checked when the run is validated). Messages name
/// the key as an option ("--seed") when `as_option`. Throws ConfigError.
void apply_setting(RunConfig& cfg, const std::string& key, const std::string& value, bool as_option = false);

/// Parses "K=V,K=V" (compare variants) into settings applied on top of `cfg`.
void apply_settings_list(RunConfig& cfg, const std::string& list);

/// Checks a configuration without running it. Throws ConfigError with a one-line message.
void validate(const RunConfig& cfg);

/// Builds the machine, runs the workload, collects results. Throws ConfigError.
/// `prepare` (optional) is called on the machine after the workload's setup and before
/// the run: to replace the strategy (record, replay) or attach a trace. The wait profile,
/// when wanted, listens to the trace `prepare` attached (else to one of
/// MachineParams::kHistoryEvents events, the size of the engine's own history trace). `after`
/// (optional) sees the machine once the run is over, before it is torn down.
RunResult run_once(const RunConfig& cfg, StackPool* pool = nullptr,
                   const std::function<void(Machine&)>& prepare = {},
                   const std::function<void(Machine&)>& after = {});

/// The strategy spec to run `cfg` with: cfg.params.strategy, except that `pct:D` without
/// K (strategy_wants_steps()) becomes `pct:D:K` with K the scheduling steps of a pilot
/// run: `cfg` under `time` with seed `pilot_seed` and history off. The pilot depends only
/// on the configuration and `pilot_seed` (campaigns pass their seed base, so every job
/// and shard resolves the same K), and the resolved spec is what records and repro
/// commands carry, so replaying never runs the pilot again. A portfolio comes back
/// spelled out, with K filled in for its members that want it. Throws ConfigError.
std::string resolve_strategy(const RunConfig& cfg, std::uint64_t pilot_seed, StackPool* pool = nullptr);

/// The program the repro commands name: "smpemu", or the experiment binary's own name
/// (set_program_name(), called once by smpemu_main() before any command runs).
const std::string& program_name();
void set_program_name(std::string name);

/// The command line that reproduces `cfg` exactly.
std::string repro_command(const RunConfig& cfg);

/// Identity of this build (git revision + build type), recorded with results.
std::string build_identity();

/// "smpemu 0.1.0 (git REV, release build)": the project version of CMakeLists.txt, the
/// git revision and build type of build_identity().
std::string version_text();

}  // namespace smpemu
