// The smpemu command line (shared/DESIGN.md, "Command-line contract").
//
//   smpemu list
//   smpemu run WORKLOAD [--cpus N] [--seed S] [--machine P] [--strategy X]
//                       [--preempt M] [--set K=V]... [--json]
//
// Exit status: 0 no bug, 1 a bug was reported, 2 usage or configuration error (one line
// on stderr).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "arch/profiles.h"
#include "cli/report.h"
#include "cli/runner.h"
#include "emu/errors.h"
#include "emu/log.h"

using namespace smpemu;

namespace {

constexpr int kExitBug = 1;
constexpr int kExitUsage = 2;

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "smpemu: error: %s\n", msg.c_str());
  return kExitUsage;
}

std::string knob_summary(const KnobSpec& k) {
  std::string s = k.name + "=" + k.default_value + " (";
  if (!k.choices.empty()) {
    for (std::size_t i = 0; i < k.choices.size(); ++i) s += (i ? "|" : "") + k.choices[i];
  } else {
    s += std::to_string(k.min) + ".." + std::to_string(k.max);
  }
  return s + ")";
}

int cmd_list() {
  std::printf("workloads:\n");
  for (const auto& w : workloads()) {
    std::string knobs;
    for (const auto& k : w.knobs) knobs += (knobs.empty() ? "" : ", ") + knob_summary(k);
    std::printf("  %-22s %s; knobs: %s\n", w.name.c_str(), w.summary.c_str(), knobs.c_str());
  }
  std::printf("\nknob docs:\n");
  for (const auto& w : workloads())
    for (const auto& k : w.knobs) std::printf("  %s.%-18s %s\n", w.name.c_str(), k.name.c_str(), k.doc.c_str());
  std::printf("\nmachines (--machine):\n");
  for (const auto* p : machine_profiles())
    std::printf("  %-10s %4d CPUs  %s\n", p->name, machine_profile_cpus(p), p->description);
  std::printf("\nmachine costs in cycles (sources: arch/profiles.cc):\n");
  for (const auto* p : machine_profiles()) {
    const CostTable& c = p->costs;
    std::printf("  %-10s transfer smt/die/package/hop1/hop2 %llu/%llu/%llu/%llu/%llu, memory %llu, hit %llu, "
                "local_rmw %llu, inval_per_sharer %llu, ipi send/latency %llu/%llu, ctx_switch %llu, "
                "barrier %llu, clock %.2f GHz\n",
                p->name, (unsigned long long)c.transfer[1], (unsigned long long)c.transfer[2],
                (unsigned long long)c.transfer[3], (unsigned long long)c.transfer[4], (unsigned long long)c.transfer[5],
                (unsigned long long)c.memory, (unsigned long long)c.hit, (unsigned long long)c.local_rmw,
                (unsigned long long)c.inval_per_sharer, (unsigned long long)c.ipi_send,
                (unsigned long long)c.ipi_latency, (unsigned long long)c.ctx_switch, (unsigned long long)c.barrier,
                static_cast<double>(c.clock_hz) / 1e9);
  }
  std::printf("\nstrategies (--strategy):\n");
  for (const auto& [name, doc] : strategy_docs()) std::printf("  %-10s %s\n", name.c_str(), doc.c_str());
  std::printf("\nengine parameters:\n");
  for (const auto& d : MachineParams::docs())
    std::printf("  %-15s default %-10s %s\n", d.name.c_str(), d.default_value.c_str(), d.doc.c_str());
  return 0;
}

/// Strict unsigned parse: digits only (CLI11 would wrap "-1" to 2^64-1).
bool parse_unsigned(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno != 0 || v > max) return false;
  out = v;
  return true;
}

struct RunOptions {
  std::string workload;
  std::string cpus = "8", seed = "1", hz = "250", jitter = "0", max_cycles = "0";
  std::string preempt = "voluntary";
  std::string rcu = "sched";
  std::string mutex_spin = "off";
  std::vector<std::string> sets;
  bool json = false;
  RunConfig cfg;
};

int cmd_run(RunOptions& o) {
  RunConfig& cfg = o.cfg;
  cfg.workload = o.workload;
  std::uint64_t v = 0;
  if (!parse_unsigned(o.cpus, 1u << 20, v) || v == 0)
    return usage_error("impossible CPU count " + o.cpus + " (expected 1.." + std::to_string(kMaxCpus) + ")");
  cfg.params.cpus = static_cast<int>(v);
  if (!parse_unsigned(o.seed, ~0ULL, cfg.params.seed))
    return usage_error("bad --seed '" + o.seed + "' (expected an integer 0..2^64-1)");
  if (!parse_unsigned(o.hz, 100000, v) || v == 0) return usage_error("bad --hz '" + o.hz + "' (expected 1..100000)");
  cfg.params.hz = static_cast<std::uint32_t>(v);
  if (!parse_unsigned(o.jitter, 100, v)) return usage_error("bad --jitter '" + o.jitter + "' (expected 0..100)");
  cfg.params.jitter_pct = static_cast<std::uint32_t>(v);
  if (!parse_unsigned(o.max_cycles, ~0ULL, cfg.params.max_cycles))
    return usage_error("bad --max-cycles '" + o.max_cycles + "' (expected a cycle count)");
  try {
    cfg.params.preempt = parse_preempt(o.preempt);
    cfg.params.rcu = parse_rcu_flavor(o.rcu);
    cfg.params.mutex_spin = parse_on_off("--mutex-spin", o.mutex_spin);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  for (const auto& kv : o.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("bad --set '" + kv + "' (expected KEY=VALUE)");
    cfg.set[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  RunResult r;
  try {
    r = run_once(cfg);
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  if (o.json)
    std::cout << to_json(r).dump(2) << "\n";
  else
    std::cout << to_text(r);
  return r.bugs.empty() ? 0 : kExitBug;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smpemu: deterministic discrete-event SMP emulator for Linux mm locking experiments"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  app.add_subcommand("list", "List workloads with their knobs, machines, strategies and engine parameters");

  RunOptions ro;
  CLI::App* run = app.add_subcommand("run", "Run one workload once and report digest, metrics, histograms, bugs");
  run->add_option("workload", ro.workload, "Workload name (see `smpemu list`)")->required();
  run->add_option("--cpus", ro.cpus, "Emulated CPUs, 1..1024")->capture_default_str();
  run->add_option("--seed", ro.seed, "Root seed, 0..2^64-1")->capture_default_str();
  run->add_option("--machine", ro.cfg.machine, "Machine profile")->default_val("opteron48");
  run->add_option("--strategy", ro.cfg.params.strategy, "time | random | pct:D[:K]")->default_val("time");
  run->add_option("--preempt", ro.preempt, "none | voluntary | full")->default_val("voluntary");
  run->add_option("--rcu", ro.rcu, "RCU flavour: sched | preempt")->capture_default_str();
  run->add_option("--mutex-spin", ro.mutex_spin, "Mutex optimistic spinning on a running owner: on | off")
      ->capture_default_str();
  run->add_option("--hz", ro.hz, "Timer tick frequency")->capture_default_str();
  run->add_option("--jitter", ro.jitter, "Cost jitter in percent, 0..100")->capture_default_str();
  run->add_option("--max-cycles", ro.max_cycles, "Stop CPUs past this clock (0: none)")->capture_default_str();
  run->add_option("--set", ro.sets, "Workload knob KEY=VALUE (repeatable)");
  run->add_flag("--json", ro.json, "Print one JSON object");

  if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "list" && std::string(argv[1]) != "run")
    return usage_error(std::string("unknown command '") + argv[1] + "' (expected list or run)");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Diagnostics on stderr: trace, debug, info, warn, error, off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  const auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") return usage_error("bad --log-level '" + log_level + "'");
  set_log_level(level);
  if (app.got_subcommand("list")) return cmd_list();
  if (app.got_subcommand("run")) return cmd_run(ro);
  return usage_error("no command given (expected list or run)");
}
