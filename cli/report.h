// Presenting a RunResult: the JSON object of shared/DESIGN.md ("Command-line contract")
// and a human-readable summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/runner.h"

namespace smpemu {

/// The `--json` object: workload, seed, cpus, machine, digest, cycles, events,
/// host_seconds, events_per_second, bugs, histograms, metrics (and a few more keys).
nlohmann::json to_json(const RunResult& r);

/// Multi-line text summary for a terminal.
/// The bug reports of `r`, each with its kernel-shaped details and repro line.
std::string bugs_text(const RunResult& r);
std::string to_text(const RunResult& r);

/// 16 lower-case hex digits.
std::string hex16(std::uint64_t v);

}  // namespace smpemu
