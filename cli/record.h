// Records of runs: what `--record FILE` writes and `smpemu replay` / `smpemu shrink`
// read. A record holds everything a run is a function of (workload, configuration,
// seed, the binary's identity) plus the run's digest, its bug reports, and the
// scheduling decision log (emu/decision_log.h), so the run can be replayed exactly,
// and also with the log edited by hand or by `smpemu shrink`, without the strategy's
// random stream.
//
// File format: one JSON object (docs/USAGE.md, "Records"), written with nlohmann-json:
//   {"format": "smpemu-record", "version": 1, "build": "...", "workload": "...",
//    "machine": "...", "settings": {"cpus": "8", "seed": "1", ..., "<knob>": "..."},
//    "digest": "16 hex", "end": "deadlock", "bugs": [{"check": ..., "message": ...}],
//    "decisions": [[step, cpu], ...], "decisions_digest": "16 hex"}
// `decisions_digest` lets replay tell an edited log (digest may differ) from a
// diverging binary (digest must match).
//
// Concurrency: pure functions; records_run() builds its own Machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/runner.h"
#include "emu/decision_log.h"

namespace smpemu {

struct Record {
  RunConfig config;
  std::string build;                 ///< build_identity() of the recording binary
  std::uint64_t digest = 0;          ///< digest of the recorded run
  EndReason end = EndReason::Completed;
  std::vector<BugReport> bugs;       ///< the recorded run's reports
  DecisionLog decisions;             ///< scheduling decisions away from the default order
  std::uint64_t decisions_digest = 0;///< decisions.digest() when written
  std::string stop_at;               ///< --stop-at of the recorded run ("" if none)
};

/// A prepare step (run_once): installs a strategy on `m` that logs into rec.decisions.
void start_recording(Machine& m, const RunConfig& cfg, Record& rec);
/// Fills the rest of `rec` from the finished run.
void finish_recording(const RunResult& r, Record& rec);

/// Runs `cfg` once while recording its decision log; returns the result and fills `rec`.
RunResult record_run(const RunConfig& cfg, Record& rec, StackPool* pool = nullptr);

/// record_run() and write_record() in one step.
RunResult record_run_to(const RunConfig& cfg, const std::string& path, StackPool* pool = nullptr);

/// Writes `rec` to `path` (atomically: cli/output_file.h). Throws ConfigError if the file
/// cannot be written.
void write_record(const std::string& path, const Record& rec);

/// Reads a record (read_input_file(), then parse_record()). Throws ConfigError with a
/// one-line message for a missing, unreadable or malformed file.
Record read_record(const std::string& path);

/// Parses the text of a record; `name` (the file name) is named in messages. Throws
/// ConfigError with a one-line message for a malformed record (bad JSON, wrong format or
/// version, unknown workload or setting).
Record parse_record(const std::string& text, const std::string& name);

/// Result of replaying a record.
struct ReplayResult {
  RunResult run;
  bool edited = false;          ///< the decision log differs from the one recorded
  bool digest_match = false;    ///< run digest equals the recorded digest
  std::uint64_t applied = 0;    ///< logged decisions that were followed
  std::uint64_t ignored = 0;    ///< logged decisions whose CPU was not ready (edited logs)
  DecisionLog followed;         ///< the decisions actually taken (a valid log of this run)
};

/// Re-runs a record with its decision log instead of its strategy (and its stop_at).
/// `prepare` / `after` are extra run_once() steps (traces, stop conditions, snapshots).
ReplayResult replay_record(const Record& rec, StackPool* pool = nullptr,
                           const std::function<void(Machine&)>& prepare = {},
                           const std::function<void(Machine&)>& after = {});

/// Stable signature of a bug: its check and key (the lock classes involved or the code
/// site, BugReport::key), so one bug found from either side or at another cycle is one
/// signature; without a key, the message with every number replaced by N.
std::string bug_signature(const BugReport& b);

}  // namespace smpemu
