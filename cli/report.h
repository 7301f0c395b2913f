// Presenting a RunResult: the JSON object of docs/USAGE.md ("JSON (`--json`)") and a
// human-readable summary.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli/runner.h"

namespace smpemu {

/// The `--json` object: workload, seed, cpus, machine, digest, cycles, events,
/// host_seconds, events_per_second, bugs, histograms, metrics (and a few more keys).
/// Each bug's `repro` is `repro` if given, else repro_command(r.config) (`replay`
/// gives `smpemu replay FILE`: a replayed log, shrunk or edited, is not the seed's).
nlohmann::json to_json(const RunResult& r, const std::string& repro = "");

/// The bug reports of `r`, each with its kernel-shaped details and repro line (`repro`
/// as for to_json()).
std::string bugs_text(const RunResult& r, const std::string& repro = "");
/// Multi-line text summary for a terminal, bugs first; `repro` as for to_json().
std::string to_text(const RunResult& r, const std::string& repro = "");

/// A name of --check / --ignore-check that no report of the run or campaign had (`seen`:
/// the checks reported, counted or not) is probably a typo: one note line each on
/// stderr, "smpemu: note: --check lock-orde matched no report". The exit status is not
/// changed: a check that did not fire is a possible outcome.
void note_unmatched_checks(const CheckFilter& f, const std::set<std::string>& seen);
/// The checks of `r`'s reports, counted or not.
std::set<std::string> checks_of(const RunResult& r);

/// 16 lower-case hex digits.
std::string hex16(std::uint64_t v);

}  // namespace smpemu
