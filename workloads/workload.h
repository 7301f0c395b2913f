// Workloads: named scenarios that set up tasks on a Machine, declare knobs, and report
// metrics and checks.
//
// A workload is one .cc file in workloads/ that defines a subclass of Workload and a
// static WorkloadRegistrar; CMake globs the directory, so dropping a file in is enough.
// Outside the repository, smpemu_add_experiment() of the installed CMake package builds
// the command line with a project's own workloads (docs/WRITING_A_WORKLOAD.md).
// Knobs are declared with their default, allowed values (an enum) or integer range, and
// a one-line doc; `smpemu list` prints them from that declaration, and `--set k=v` is
// validated against it (unknown knob or bad value: ConfigError, exit 2).
//
// Determinism: a workload draws randomness only from Machine::rng("workload...")
// streams, and keeps per-task state in its own object (no globals): many Machines run at
// once on different host threads during fuzzing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emu/machine.h"

namespace smpemu {

struct KnobSpec {
  std::string name;
  std::string default_value;
  std::vector<std::string> choices;  ///< non-empty: the allowed values
  std::int64_t min = 0;              ///< integer knob (choices empty): inclusive range
  std::int64_t max = 0;
  std::string doc;
};

/// Knob values after validation (every declared knob has a value), and the run's MMU
/// model (`--arch`, a name from the registry of arch/mmu.h), which workloads that build
/// an mm environment pass on to it; the engine never reads it.
class Knobs {
 public:
  Knobs() = default;
  explicit Knobs(std::map<std::string, std::string> values, std::string arch = "x86")
      : values_(std::move(values)), arch_(std::move(arch)) {}
  const std::string& str(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  const std::map<std::string, std::string>& all() const { return values_; }
  const std::string& arch() const { return arch_; }

 private:
  std::map<std::string, std::string> values_;
  std::string arch_ = "x86";
};

using Metrics = std::map<std::string, double>;

class Workload {
 public:
  virtual ~Workload() = default;
  /// Creates shared state and tasks on `m` (before Machine::run: no machine runs yet, so
  /// kernel-shim calls that need one fail with ConfigError; use their `_on(&m, ...)`
  /// variants).
  virtual void setup(Machine& m, const Knobs& knobs) = 0;
  /// After the run: final checks (Machine::report_bug is not available; push to `bugs`)
  /// and metrics.
  virtual void finish(Machine& m, Metrics& metrics, std::vector<BugReport>& bugs) = 0;
  /// True if every run of this workload should report where lock waits go: the
  /// blocked.* and spin.* metrics of `--wait-profile` (traces/wait_profile.h), as if the
  /// flag were given. Costs host time (lock events are folded as they happen), never
  /// changes the run or its digest. Asked once per run, after setup().
  virtual bool wants_wait_profile() const { return false; }
};

struct WorkloadSpec {
  std::string name;
  std::string summary;
  std::vector<KnobSpec> knobs;
  std::function<std::unique_ptr<Workload>()> make;
};

/// Registered workloads, sorted by name. Written only during static initialisation.
const std::vector<WorkloadSpec>& workloads();
const WorkloadSpec* find_workload(const std::string& name);

/// Validates `set` against `spec` and fills in defaults; `arch` is the run's MMU model
/// (validated by the caller). Throws ConfigError.
Knobs resolve_knobs(const WorkloadSpec& spec, const std::map<std::string, std::string>& set,
                    const std::string& arch = "x86");

struct WorkloadRegistrar {
  explicit WorkloadRegistrar(WorkloadSpec spec);
};

}  // namespace smpemu
