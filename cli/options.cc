#include "cli/options.h"

#include <algorithm>
#include <cstdio>

#include "arch/mmu_registry.h"
#include "arch/profiles.h"
#include "cli/campaign.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "smpemu: error: %s\n", escape_nonprintable(msg).c_str());
  return kExitUsage;
}

namespace {

CLI::Option* add_number_option(CLI::App* cmd, const std::string& key, std::string& value, const std::string& doc) {
  return cmd->add_option("--" + key, value, doc)->transform(number_check(*engine_number_spec(key)));
}

}  // namespace

std::string default_machine_for(const std::string& arch) { return arch == "ppc64-hash" ? "power7" : "opteron48"; }

void add_config_options(CLI::App* cmd, ConfigOptions& o, bool with_seed) {
  add_number_option(cmd, "cpus", o.cpus, "Emulated CPUs")->capture_default_str();
  if (with_seed) add_number_option(cmd, "seed", o.seed, "Root seed")->capture_default_str();
  std::vector<std::string> machines;
  for (const auto* p : machine_profiles()) machines.emplace_back(p->name);
  cmd->add_option("--machine", o.machine, "Machine profile (default: opteron48; power7 with --arch ppc64-hash)")
      ->check(CLI::IsMember(machines));
  cmd->add_option("--arch", o.arch, "MMU model of mm workloads: " + mmu_type_names() + " (see `smpemu list`)")
      ->capture_default_str();
  cmd->add_option("--strategy", o.strategy,
                  "time | random | pct:D[:K[:W]] | pos | delay:B[:K] | portfolio[:S,S,...] (see `smpemu list`; K left "
                  "out: from a pilot run)")
      ->capture_default_str();
  cmd->add_option("--preempt", o.preempt, "Preemption model")
      ->check(CLI::IsMember(std::vector<std::string>{preempt_name(PreemptModel::None),
                                                     preempt_name(PreemptModel::Voluntary),
                                                     preempt_name(PreemptModel::Full)}))
      ->capture_default_str();
  cmd->add_option("--rcu", o.rcu, "RCU flavour")
      ->check(CLI::IsMember(std::vector<std::string>{rcu_flavor_name(RcuFlavor::Sched), rcu_flavor_name(RcuFlavor::Preempt)}))
      ->capture_default_str();
  cmd->add_option("--mutex-spin", o.mutex_spin, "Mutex optimistic spinning on a running owner")
      ->check(CLI::IsMember(std::vector<std::string>{"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--mutex", o.mutex,
                  "What mutex_unlock() does with waiters: steal (kernels 2.6.16-4.9), handoff (4.10+), fifo (no kernel)")
      ->check(CLI::IsMember(std::vector<std::string>{mutex_model_name(MutexModel::Steal),
                                                     mutex_model_name(MutexModel::Handoff),
                                                     mutex_model_name(MutexModel::Fifo)}))
      ->capture_default_str();
  cmd->add_option("--history", o.history,
                  "Keep what two-sided bug reports print (recent events, who last changed each checked object); "
                  "never changes a digest")
      ->check(CLI::IsMember(std::vector<std::string>{"on", "off"}))
      ->capture_default_str();
  add_number_option(cmd, "hz", o.hz, "Timer tick frequency")->capture_default_str();
  add_number_option(cmd, "jitter", o.jitter, "Cost jitter in percent")->capture_default_str();
  add_number_option(cmd, "max-cycles", o.max_cycles,
                    "Stop CPUs past this clock (0: none; default: none for run, 20000000000 for fuzz and compare)");
  add_number_option(cmd, "livelock-ms", o.livelock_ms,
                    "End the run as livelock after this many emulated ms without progress (0: off)")
      ->capture_default_str();
  cmd->add_option("--lockdep", o.lockdep,
                  "The lock-order checker (lock-order reports); off keeps held-lock tracking and lock statistics")
      ->check(CLI::IsMember(std::vector<std::string>{"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--coverage", o.coverage,
                  "Count interleaving coverage: pairs of conflicting accesses by code site (JSON coverage.pairs); "
                  "never changes a run")
      ->check(CLI::IsMember(std::vector<std::string>{"on", "off"}))
      ->each([&o](const std::string&) { o.coverage_given = true; })
      ->capture_default_str();
  cmd->add_option("--set", o.sets, "Workload knob KEY=VALUE (repeatable)");
  cmd->add_option("--check", o.checks,
                  "Only reports of these checks count (NAME[,NAME...], repeatable): exit status, fuzz signatures, "
                  "--stop-on-first; the others are listed as ignored");
  cmd->add_option("--ignore-check", o.ignore_checks,
                  "Reports of these checks do not count (NAME[,NAME...], repeatable), e.g. lock-order on a deadlock "
                  "hunt; the run itself is unchanged");
}

void apply_config_options(const ConfigOptions& o, RunConfig& cfg) {
  apply_setting(cfg, "cpus", o.cpus, true);
  apply_setting(cfg, "seed", o.seed, true);
  apply_setting(cfg, "arch", o.arch, true);
  apply_setting(cfg, "machine", o.machine.empty() ? default_machine_for(cfg.arch) : o.machine, true);
  apply_setting(cfg, "strategy", o.strategy, true);
  apply_setting(cfg, "preempt", o.preempt, true);
  apply_setting(cfg, "rcu", o.rcu, true);
  apply_setting(cfg, "mutex-spin", o.mutex_spin, true);
  apply_setting(cfg, "mutex", o.mutex, true);
  apply_setting(cfg, "history", o.history, true);
  apply_setting(cfg, "lockdep", o.lockdep, true);
  apply_setting(cfg, "coverage", o.coverage, true);
  apply_setting(cfg, "hz", o.hz, true);
  apply_setting(cfg, "jitter", o.jitter, true);
  if (!o.max_cycles.empty()) apply_setting(cfg, "max-cycles", o.max_cycles, true);
  apply_setting(cfg, "livelock-ms", o.livelock_ms, true);
  for (const auto& kv : o.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("bad --set " + quoted(kv) + " (expected KEY=VALUE)");
    cfg.set[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& c : o.checks) apply_setting(cfg, "check", c, true);
  for (const auto& c : o.ignore_checks) apply_setting(cfg, "ignore-check", c, true);
}

void apply_campaign_limits(const ConfigOptions& o, RunConfig& cfg, std::uint64_t run_timeout, double& seconds) {
  if (o.max_cycles.empty()) cfg.params.max_cycles = kCampaignMaxCycles;
  seconds = static_cast<double>(run_timeout);
}

void add_run_timeout_option(CLI::App* cmd, std::uint64_t& run_timeout) {
  cmd->add_option("--run-timeout", run_timeout,
                  "Host seconds one run may take before it is stopped and counted as host-limited (0: none)")
      ->transform(number_check({0, 86400, "0..86400 seconds; 0 = no limit", ""}))
      ->capture_default_str();
}

void add_jobs_option(CLI::App* cmd, std::string& jobs) {
  cmd->add_option("--jobs", jobs, "Host threads (default: hardware concurrency); results do not depend on it")
      ->transform(count_check(1, limits::kJobs));
}

}  // namespace smpemu
