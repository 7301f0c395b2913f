// Chrome trace-event JSON of a Trace, for ui.perfetto.dev and chrome://tracing.
//
// What it models: one lane per emulated CPU, a thread named "CPU n" (tid n + 1, sorted
// by thread_sort_index) of process 1 "CPUs", plus a lane "RCU" (tid ncpus + 1) for grace
// periods. pid 0 / tid 0 are avoided on purpose: Perfetto treats them as the kernel's
// swapper (renamed, or merged with tid 1 by some versions). On a CPU lane:
//   - task running spans ("X", category "task", named by task), from context switches;
//     a CPU runs its first task from the start of the trace (cycle 0, or the oldest
//     event kept when the ring buffer dropped events) and its last one to the end of the
//     trace; idle tasks (swapper/N) are not drawn;
//   - IRQ-off and preempt-off regions (categories "irqsoff", "preemptoff");
//   - contended lock waits (category "lock_wait", optional) and lock-held spans
//     (category "lock", named by lock instance, args wait_cycles / hold_cycles);
//   - instants ("i", scope "t"): bugs (category "bug", args message, fatal), wakeups,
//     IPIs, task start/exit, TLB flushes, page faults, workload marks, ticks (optional).
// Sync events (detail traces) are skipped.
//
// Invariants (what viewers need):
//   - spans on one lane nest properly: any two are disjoint or one contains the other.
//     A span that would overlap another partially (a mutex held while its owner sleeps,
//     a region that outlives a context switch) is cut at the other span's boundaries,
//     and pieces that fall outside the owning task's running time are dropped; pieces
//     carry args.split = true. Durations are never negative.
//   - time: ts and dur are microseconds derived from integer nanoseconds
//     (ns = round(cycles * 1e9 / clock_hz)), so a viewer that rounds to ns (Perfetto)
//     sees exact, still-nested intervals; args.cycles / args.dur_cycles keep the exact
//     cycle values.
//   - events are emitted in (start, longest first) order, so a parent precedes the
//     children that start with it.
//   - deterministic: the output is a function of the trace alone.
//
// Top level: {"traceEvents":[...], "displayTimeUnit":"ns", "otherData":{workload,
// clock_hz, cpus, events_written, dropped_events, ...}}.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "traces/trace.h"

namespace smpemu {

/// What to include beyond the always-present lanes, spans and instants.
struct PerfettoOptions {
  bool ticks = false;      ///< timer ticks as instants (many of them)
  bool lock_waits = true;  ///< contended lock waits (request to acquisition) as spans
};

/// The whole trace as one JSON object (traceEvents, displayTimeUnit, otherData).
nlohmann::json perfetto_json(const Trace& trace, const PerfettoOptions& options = {});

/// Writes the same document as perfetto_json(), one trace event per line, without
/// building it in memory first.
void write_perfetto(std::ostream& out, const Trace& trace, const PerfettoOptions& options = {});

/// write_perfetto() to a file. Throws std::runtime_error when it cannot be written.
void write_perfetto_file(const std::string& path, const Trace& trace, const PerfettoOptions& options = {});

}  // namespace smpemu
