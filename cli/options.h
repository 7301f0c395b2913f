// Command-line plumbing shared by the smpemu commands: the run-configuration options
// every command that runs a workload accepts (run, fuzz, compare), exit codes, and the
// one-line usage error.
//
// Numbers are checked by CLI11 validators built on number_problem() (cli/runner.h), so a
// bad value is refused while the command line is parsed, with one line naming the
// option, and a counted option is then read as a typed integer. CLI11 2.1's own integer
// conversion (strtoull with base 0) would take "010" as octal, "0x10" as hex, wrap "-1"
// to 2^64-1 and saturate on overflow, so neither it nor CLI::Range sees a string first:
// number_check() canonicalises the value (decimal digits, no leading zeros) before any
// conversion. Names from a fixed set are checked with CLI::IsMember. The run
// configuration is kept as strings and applied by apply_config_options() through
// apply_setting(), the same path records and compare variants take.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/number_check.h"
#include "cli/runner.h"

namespace smpemu {

constexpr int kExitOk = 0;
constexpr int kExitBug = 1;
constexpr int kExitUsage = 2;
/// `smpemu replay`: the replayed digest differs from the recorded one (log not edited).
constexpr int kExitMismatch = 3;

/// Prints "smpemu: error: MSG" on stderr, as one line (bytes outside printable ASCII are
/// escaped); returns kExitUsage.
int usage_error(const std::string& msg);

/// The run-configuration options, as typed.
struct ConfigOptions {
  std::string cpus = "8", seed = "1", hz = "250", jitter = "0";
  std::string max_cycles;  ///< "" = the command's default (run: none; fuzz, compare: kCampaignMaxCycles)
  std::string machine;  ///< "" = the arch's default machine (default_machine_for)
  std::string strategy = "time", preempt = "voluntary", rcu = "sched";
  std::string mutex = "steal";
  std::string mutex_spin = "off", arch = "x86", livelock_ms = "1000", history = "on", lockdep = "on",
              coverage = "off";
  bool coverage_given = false;  ///< --coverage was on the command line (not its default)
  std::vector<std::string> sets;  ///< --set KEY=VALUE
  std::vector<std::string> checks, ignore_checks;  ///< --check, --ignore-check (comma lists)
};

/// The machine profile a run gets without --machine: power7 for --arch ppc64-hash (the
/// hash MMU is a POWER feature), opteron48 otherwise.
std::string default_machine_for(const std::string& arch);

/// Adds --cpus --seed --machine --arch --strategy --preempt --rcu --mutex-spin --mutex --history --lockdep
/// --hz --jitter --max-cycles --livelock-ms --set --check --ignore-check to `cmd` (without --seed if
/// `with_seed` is false).
void add_config_options(CLI::App* cmd, ConfigOptions& o, bool with_seed = true);

/// Fills `cfg` (workload excluded) from the options. Throws ConfigError.
void apply_config_options(const ConfigOptions& o, RunConfig& cfg);

/// The per-run limits of a campaign (fuzz, compare): --max-cycles defaults to
/// kCampaignMaxCycles when not given; `run_timeout` (--run-timeout, whole seconds,
/// 0 = none) becomes `seconds`.
void apply_campaign_limits(const ConfigOptions& o, RunConfig& cfg, std::uint64_t run_timeout, double& seconds);

/// Adds --run-timeout (0..86400 seconds) to a campaign command.
void add_run_timeout_option(CLI::App* cmd, std::uint64_t& run_timeout);

/// Adds --jobs (1..limits::kJobs; "" when not given: parse_jobs() or default_jobs()).
void add_jobs_option(CLI::App* cmd, std::string& jobs);

/// How a command runs.
struct CliMode {
  /// Parse and validate only: each command checks its options and reads and checks its
  /// input files, then returns kExitOk before it runs a workload or writes anything (the
  /// option parser's fuzz harness, fuzz/options_fuzz.cc).
  bool validate_only = false;
};

/// A subcommand and what to run when it was chosen.
using Command = std::pair<CLI::App*, std::function<int(const CliMode&)>>;

Command add_list_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_replay_command(CLI::App& app);
Command add_shrink_command(CLI::App& app);
Command add_diff_command(CLI::App& app);
Command add_fuzz_command(CLI::App& app);
Command add_explore_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
Command add_compare_command(CLI::App& app);

}  // namespace smpemu
