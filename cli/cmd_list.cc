// `smpemu list`: workloads with their knobs, machines, MMU models, strategies and engine parameters,
// all printed from the tables the code itself uses.
#include <cstdio>

#include "arch/mmu_registry.h"
#include "arch/profiles.h"
#include "cli/guided.h"
#include "cli/options.h"
#include "emu/limits.h"
#include "emu/strategy.h"
#include "workloads/workload.h"

namespace smpemu {

namespace {

std::string knob_summary(const KnobSpec& k) {
  std::string s = k.name + "=" + k.default_value + " (";
  if (!k.choices.empty()) {
    for (std::size_t i = 0; i < k.choices.size(); ++i) s += (i ? "|" : "") + k.choices[i];
  } else {
    s += std::to_string(k.min) + ".." + std::to_string(k.max);
  }
  return s + ")";
}

int cmd_list(const CliMode& mode) {
  if (mode.validate_only) return kExitOk;
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
                "local_rmw %llu, inval_per_sharer %llu, request_leg %llu%%, ipi send/latency %llu/%llu, ctx_switch %llu, "
                "barrier %llu, clock %.2f GHz\n",
                p->name, (unsigned long long)c.transfer[1], (unsigned long long)c.transfer[2],
                (unsigned long long)c.transfer[3], (unsigned long long)c.transfer[4], (unsigned long long)c.transfer[5],
                (unsigned long long)c.memory, (unsigned long long)c.hit, (unsigned long long)c.local_rmw,
                (unsigned long long)c.inval_per_sharer, (unsigned long long)c.request_leg_pct, (unsigned long long)c.ipi_send,
                (unsigned long long)c.ipi_latency, (unsigned long long)c.ctx_switch, (unsigned long long)c.barrier,
                static_cast<double>(c.clock_hz) / 1e9);
  }
  std::printf("\nMMU models of mm workloads (--arch; default %s):\n", mmu_types[0].name);
  for (std::size_t i = 0; i < nr_mmu_types; ++i) std::printf("  %-10s %s\n", mmu_types[i].name, mmu_types[i].doc);
  std::printf("\nstrategies (--strategy):\n");
  for (const auto& [name, doc] : strategy_docs()) std::printf("  %-10s %s\n", name.c_str(), doc.c_str());
  std::printf("  %-10s %s\n", kGuidedSyntax, kGuidedDoc);
  std::printf("\nengine parameters:\n");
  for (const auto& d : MachineParams::docs())
    std::printf("  %-15s default %-10s %s\n", d.name.c_str(), d.default_value.c_str(), d.doc.c_str());
  std::printf("\nlimits (a larger value is refused with exit status 2):\n");
  for (const auto& l : limits::limit_docs())
    std::printf("  %-30s %20llu %-13s %s\n", l.name.c_str(), static_cast<unsigned long long>(l.max), l.unit.c_str(),
                l.why.c_str());
  return 0;
}

}  // namespace

Command add_list_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("list", "List workloads with their knobs, machines, strategies and engine parameters");
  return {cmd, [](const CliMode& mode) { return cmd_list(mode); }};
}

}  // namespace smpemu
