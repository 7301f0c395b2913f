// The smpemu command line (shared/DESIGN.md, "Command-line contract").
//
//   smpemu list
//   smpemu run WORKLOAD [--cpus N] [--seed S] [--machine P] [--strategy X]
//                       [--preempt M] [--set K=V]... [--json]
//
// Exit status: 0 no bug, 1 a bug was reported, 2 usage or configuration error (one line
// on stderr).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <spdlog/spdlog.h>

#include "arch/profiles.h"
#include "cli/report.h"
#include "cli/runner.h"
#include "emu/errors.h"

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
  std::printf("\nstrategies (--strategy):\n");
  for (const auto& [name, doc] : strategy_docs()) std::printf("  %-10s %s\n", name.c_str(), doc.c_str());
  std::printf("\nengine parameters:\n");
  for (const auto& d : MachineParams::docs())
    std::printf("  %-15s default %-10s %s\n", d.name.c_str(), d.default_value.c_str(), d.doc.c_str());
  return 0;
}

struct RunOptions {
  std::string workload;
  std::string preempt = "voluntary";
  std::vector<std::string> sets;
  bool json = false;
  RunConfig cfg;
};

int cmd_run(RunOptions& o) {
  RunConfig& cfg = o.cfg;
  cfg.workload = o.workload;
  try {
    cfg.params.preempt = parse_preempt(o.preempt);
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
  spdlog::set_level(spdlog::level::warn);
  CLI::App app{"smpemu: deterministic discrete-event SMP emulator for Linux mm locking experiments"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  app.add_subcommand("list", "List workloads with their knobs, machines, strategies and engine parameters");

  RunOptions ro;
  CLI::App* run = app.add_subcommand("run", "Run one workload once and report digest, metrics, histograms, bugs");
  run->add_option("workload", ro.workload, "Workload name (see `smpemu list`)")->required();
  run->add_option("--cpus", ro.cfg.params.cpus, "Emulated CPUs, 1..1024")->default_val(8);
  run->add_option("--seed", ro.cfg.params.seed, "Root seed")->default_val(1);
  run->add_option("--machine", ro.cfg.machine, "Machine profile")->default_val("opteron48");
  run->add_option("--strategy", ro.cfg.params.strategy, "time | random | pct:D[:K]")->default_val("time");
  run->add_option("--preempt", ro.preempt, "none | voluntary | full")->default_val("voluntary");
  run->add_option("--hz", ro.cfg.params.hz, "Timer tick frequency")->default_val(250);
  run->add_option("--jitter", ro.cfg.params.jitter_pct, "Cost jitter in percent, 0..100")->default_val(0);
  run->add_option("--max-cycles", ro.cfg.params.max_cycles, "Stop CPUs past this clock (0: none)")->default_val(0);
  run->add_option("--set", ro.sets, "Workload knob KEY=VALUE (repeatable)");
  run->add_flag("--json", ro.json, "Print one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (app.got_subcommand("list")) return cmd_list();
  if (app.got_subcommand("run")) return cmd_run(ro);
  return usage_error("no command given (expected list or run)");
}
