// Running one workload on one freshly built Machine: the unit that `smpemu run`,
// the tests and (later) fuzz and compare campaigns repeat.
//
// Concurrency: run_once() touches no global mutable state; many may run at once on
// different host threads, each with its own StackPool.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "emu/machine.h"
#include "workloads/workload.h"

namespace smpemu {

/// Everything that determines a run (with the binary).
struct RunConfig {
  std::string workload;
  std::string machine = "opteron48";
  MachineParams params;  ///< cpus, seed, strategy, preempt, hz, jitter, max_cycles
  std::map<std::string, std::string> set;  ///< workload knobs as given by --set
};

struct RunResult {
  RunConfig config;
  Knobs knobs;  ///< every knob, defaults filled in
  RunStats stats;
  std::vector<BugReport> bugs;
  std::map<std::string, Histogram> histograms;
  Metrics metrics;
  double clock_hz = 0;
};

/// Checks a configuration without running it. Throws ConfigError with a one-line message.
void validate(const RunConfig& cfg);

/// Builds the machine, runs the workload, collects results. Throws ConfigError.
RunResult run_once(const RunConfig& cfg, StackPool* pool = nullptr);

/// The command line that reproduces `cfg` exactly.
std::string repro_command(const RunConfig& cfg);

/// Identity of this build (git revision + build type), recorded with results.
std::string build_identity();

}  // namespace smpemu
