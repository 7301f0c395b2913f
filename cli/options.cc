#include "cli/options.h"

#include <cstdio>

#include "arch/mmu_registry.h"
#include "cli/campaign.h"
#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "smpemu: error: %s\n", escape_nonprintable(msg).c_str());
  return kExitUsage;
}

void add_config_options(CLI::App* cmd, ConfigOptions& o, bool with_seed) {
  cmd->add_option("--cpus", o.cpus, "Emulated CPUs, 1..1024")->capture_default_str();
  if (with_seed) cmd->add_option("--seed", o.seed, "Root seed, 0..2^64-1")->capture_default_str();
  cmd->add_option("--machine", o.machine, "Machine profile")->capture_default_str();
  cmd->add_option("--arch", o.arch, "MMU model of mm workloads: " + mmu_type_names() + " (see `smpemu list`)")
      ->capture_default_str();
  cmd->add_option("--strategy", o.strategy, "time | random | pct:D[:K[:W]]")->capture_default_str();
  cmd->add_option("--preempt", o.preempt, "none | voluntary | full")->capture_default_str();
  cmd->add_option("--rcu", o.rcu, "RCU flavour: sched | preempt")->capture_default_str();
  cmd->add_option("--mutex-spin", o.mutex_spin, "Mutex optimistic spinning on a running owner: on | off")
      ->capture_default_str();
  cmd->add_option("--hz", o.hz, "Timer tick frequency")->capture_default_str();
  cmd->add_option("--jitter", o.jitter, "Cost jitter in percent, 0..100")->capture_default_str();
  cmd->add_option("--max-cycles", o.max_cycles,
                  "Stop CPUs past this clock (0: none; default: none for run, 20000000000 for fuzz and compare)");
  cmd->add_option("--livelock-ms", o.livelock_ms,
                  "End the run as livelock after this many emulated ms without progress (0: off)")
      ->capture_default_str();
  cmd->add_option("--set", o.sets, "Workload knob KEY=VALUE (repeatable)");
}

void apply_config_options(const ConfigOptions& o, RunConfig& cfg) {
  apply_setting(cfg, "cpus", o.cpus, true);
  apply_setting(cfg, "seed", o.seed, true);
  apply_setting(cfg, "machine", o.machine, true);
  apply_setting(cfg, "arch", o.arch, true);
  apply_setting(cfg, "strategy", o.strategy, true);
  apply_setting(cfg, "preempt", o.preempt, true);
  apply_setting(cfg, "rcu", o.rcu, true);
  apply_setting(cfg, "mutex-spin", o.mutex_spin, true);
  apply_setting(cfg, "hz", o.hz, true);
  apply_setting(cfg, "jitter", o.jitter, true);
  if (!o.max_cycles.empty()) apply_setting(cfg, "max-cycles", o.max_cycles, true);
  apply_setting(cfg, "livelock-ms", o.livelock_ms, true);
  for (const auto& kv : o.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("bad --set " + quoted(kv) + " (expected KEY=VALUE)");
    cfg.set[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
}

void apply_campaign_limits(const ConfigOptions& o, RunConfig& cfg, const std::string& run_timeout, double& seconds) {
  if (o.max_cycles.empty()) cfg.params.max_cycles = kCampaignMaxCycles;
  std::uint64_t v = 0;
  if (!parse_unsigned(run_timeout, 86400, v))
    throw ConfigError("bad --run-timeout '" + run_timeout + "' (expected 0..86400 seconds; 0 = no limit)");
  seconds = static_cast<double>(v);
}

void add_run_timeout_option(CLI::App* cmd, std::string& run_timeout) {
  cmd->add_option("--run-timeout", run_timeout,
                  "Host seconds one run may take before it is stopped and counted as host-limited (0: none)")
      ->capture_default_str();
}

}  // namespace smpemu
