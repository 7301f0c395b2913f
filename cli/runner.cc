#include "cli/runner.h"

#include "arch/profiles.h"
#include "emu/errors.h"

#ifndef SMPEMU_GIT_REV
#define SMPEMU_GIT_REV "unknown"
#endif

namespace smpemu {

std::string build_identity() {
#ifdef NDEBUG
  return std::string("smpemu ") + SMPEMU_GIT_REV + " release";
#else
  return std::string("smpemu ") + SMPEMU_GIT_REV + " debug";
#endif
}

void validate(const RunConfig& cfg) {
  const WorkloadSpec* spec = find_workload(cfg.workload);
  if (!spec) {
    std::string known;
    for (const auto& w : workloads()) known += (known.empty() ? "" : ", ") + w.name;
    throw ConfigError("unknown workload '" + cfg.workload + "' (known: " + known + ")");
  }
  if (!find_machine_profile(cfg.machine)) {
    std::string known;
    for (const auto* p : machine_profiles()) known += (known.empty() ? "" : ", ") + std::string(p->name);
    throw ConfigError("unknown machine '" + cfg.machine + "' (known: " + known + ")");
  }
  if (cfg.params.cpus < 1 || cfg.params.cpus > kMaxCpus)
    throw ConfigError("impossible CPU count " + std::to_string(cfg.params.cpus) + " (expected 1.." +
                      std::to_string(kMaxCpus) + ")");
  if (cfg.params.hz < 1 || cfg.params.hz > 100000)
    throw ConfigError("bad --hz " + std::to_string(cfg.params.hz) + " (expected 1..100000)");
  if (cfg.params.jitter_pct > 100)
    throw ConfigError("bad --jitter " + std::to_string(cfg.params.jitter_pct) + " (expected 0..100)");
  try {
    (void)make_strategy(cfg.params.strategy, cfg.params.cpus, cfg.params.seed);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  (void)resolve_knobs(*spec, cfg.set);
}

RunResult run_once(const RunConfig& cfg, StackPool* pool) {
  validate(cfg);
  const WorkloadSpec* spec = find_workload(cfg.workload);
  const machine_profile* prof = find_machine_profile(cfg.machine);
  RunResult r;
  r.config = cfg;
  r.knobs = resolve_knobs(*spec, cfg.set);
  r.clock_hz = static_cast<double>(prof->costs.clock_hz);
  Machine m(cfg.params, build_topology(prof, cfg.params.cpus), prof->costs, pool);
  std::unique_ptr<Workload> w = spec->make();
  w->setup(m, r.knobs);
  r.stats = m.run();
  r.bugs = m.bugs();
  w->finish(m, r.metrics, r.bugs);
  r.histograms = m.histograms();
  return r;
}

std::string repro_command(const RunConfig& cfg) {
  std::string s = "smpemu run " + cfg.workload + " --cpus " + std::to_string(cfg.params.cpus) + " --seed " +
                  std::to_string(cfg.params.seed) + " --machine " + cfg.machine + " --strategy " +
                  cfg.params.strategy + " --preempt " + preempt_name(cfg.params.preempt);
  const MachineParams d;
  if (cfg.params.rcu != d.rcu) s += std::string(" --rcu ") + rcu_flavor_name(cfg.params.rcu);
  if (cfg.params.mutex_spin != d.mutex_spin) s += std::string(" --mutex-spin ") + (cfg.params.mutex_spin ? "on" : "off");
  if (cfg.params.hz != d.hz) s += " --hz " + std::to_string(cfg.params.hz);
  if (cfg.params.jitter_pct != d.jitter_pct) s += " --jitter " + std::to_string(cfg.params.jitter_pct);
  if (cfg.params.max_cycles != d.max_cycles) s += " --max-cycles " + std::to_string(cfg.params.max_cycles);
  for (const auto& [k, v] : cfg.set) s += " --set " + k + "=" + v;
  return s;
}

}  // namespace smpemu
