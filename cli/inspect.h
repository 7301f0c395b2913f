// Options for looking inside a run, shared by `smpemu run` and `smpemu replay`:
// stopping it (--until CYCLE, --stop-at EVENT) and printing the machine state, and
// tracing it (--trace FILE ...). An Inspector turns the options into a prepare step
// for run_once() and collects what the run leaves behind (state snapshot, trace).
//
// --until and --stop-at change the run (it ends early), so a record made with them
// stores them and replay applies them again. --lock-stat and --lock-contention fold the
// lock events of the trace as they are added (traces/lock_profile.h), so they cover the
// whole run whatever --trace-buffer keeps; without --trace an internal trace (as large
// as the engine's own history trace) carries them. --wait-profile sets
// RunConfig::wait_profile (run_once() folds the waits, cli/runner.h) and prints the
// profile it leaves in RunResult::waits. Tracing never changes the run.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/runner.h"
#include "emu/snapshot.h"
#include "traces/lock_profile.h"
#include "traces/trace.h"

namespace smpemu {

struct InspectOptions {
  std::string until;     ///< --until CYCLE ("" if not given)
  std::string stop_at;   ///< --stop-at EVENT
  std::string trace;     ///< --trace FILE
  std::string trace_format;  ///< perfetto | ftrace ("" = by file extension)
  std::string trace_buffer = std::to_string(Trace::kDefaultCapacity);  ///< events kept
  bool trace_detail = false;
  bool hist = false;         ///< --hist: bcc-style log2 histograms
  std::string hist_unit = "cycles";  ///< --hist-unit
  bool lock_stat = false;    ///< --lock-stat: /proc/lock_stat-style table
  bool lock_contention = false;  ///< --lock-contention: perf lock contention-style summary
  bool wait_profile = false;     ///< --wait-profile: perf report-style blocked/spinning shares
};

void add_inspect_options(CLI::App* cmd, InspectOptions& o);

/// MachineSnapshot as JSON (the `state` key of --json output).
nlohmann::json snapshot_json(const MachineSnapshot& s);

class Inspector {
 public:
  /// Checks the options (and that the --trace file can be written); applies --until to
  /// `cfg` (as max_cycles). Throws ConfigError.
  Inspector(const InspectOptions& o, RunConfig& cfg);
  /// Prepare step for run_once(): attaches the trace and the stop condition.
  void prepare(Machine& m);
  /// After step for run_once(): takes the snapshot if the run was stopped on purpose.
  void after(Machine& m);
  /// Writes the trace file (if asked for, atomically: cli/output_file.h) and returns the terminal extras (--hist,
  /// --lock-stat, --lock-contention, --wait-profile) for the finished run. Throws ConfigError if the file cannot be written.
  std::string finish(const RunResult& r);
  /// The trace, if one was attached (--trace, or internal for the lock options).
  const Trace* trace() const { return trace_.get(); }
  bool stopping() const { return stop_.kind != StopCondition::Kind::None || until_; }
  const std::optional<MachineSnapshot>& snapshot() const { return snapshot_; }
  const std::string& stop_spec() const { return stop_.spec; }
  /// Prints a note on stderr if a --stop-at condition was given but never met.
  void note_unreached() const;

 private:
  InspectOptions o_;
  StopCondition stop_;
  bool until_ = false;
  std::unique_ptr<Trace> trace_;
  std::unique_ptr<LockProfile> locks_;  // with --lock-stat / --lock-contention
  std::optional<MachineSnapshot> snapshot_;
};

}  // namespace smpemu
