// Chrome trace-event JSON of a Trace, for ui.perfetto.dev and chrome://tracing.
//
// What it models: two processes of tracks (pid 0 / tid 0 are avoided on purpose:
// Perfetto treats them as the kernel's swapper and renames or merges them):
//   - "CPUs" (pid 1, sorted first): one thread per emulated CPU, "CPU n" (tid n + 1,
//     thread_sort_index n), present even when the CPU has no event, plus "RCU" (tid
//     ncpus + 1). A CPU lane shows which task runs when: "X" slices (category "sched",
//     named by the task, args pid and end_state, the kernel's prev_state letter of the
//     switch that ended it) from context switches; a CPU runs its first task from the
//     start of the trace (cycle 0, or the oldest event kept when the ring buffer dropped
//     events) and its last one to the end; idle tasks (swapper/N) are not drawn. IPIs
//     (and ticks, optional) are instants there; grace periods are slices of "RCU".
//   - "Tasks" (pid 2, sorted second): one thread per task that has something to show
//     (tid 1000 + task id, or the next multiple of 1000 above the CPU lanes; named by
//     the task; sorted by task id). A task's track holds the spans of traces/spans.h on
//     the task that holds them, wherever it runs: lock holds (category "lock", named by
//     the lock, args hold_cycles / wait_cycles), contended waits ("lock_wait", optional),
//     preempt-off and IRQ-off regions ("preemptoff", "irqsoff") and interrupt handlers
//     ("irq"); and instants ("i", scope "t"): bugs (category "bug", args message,
//     fatal), wakeups (sched_waking, on the woken task), task start/exit, TLB flushes,
//     page faults, workload marks. An idle task's instants go to its CPU's lane.
// Sync events (detail traces) are skipped.
//
// Invariants (what viewers need):
//   - the complete ("X") slices of one track nest properly; spans that would not
//     (lock A taken, B taken, A released, B released) are async slices ("b"/"e", id a
//     cookie, args nested = false) instead, so none is cut or lost. A span still open
//     at the end of the trace (a lock never released) ends there, args open = true.
//   - no zero-length slice: a span shorter than a nanosecond in the viewer becomes an
//     instant; a zero-length running interval is dropped.
//   - time: ts and dur are microseconds derived from integer nanoseconds
//     (ns = round(cycles * 1e9 / clock_hz)), so a viewer that rounds to ns (Perfetto)
//     sees exact, still-nested intervals; args.cycles / args.dur_cycles keep the exact
//     cycle values.
//   - events are emitted in (start, longest first) order, so a parent precedes the
//     children that start with it.
//   - no "displayTimeUnit" (older Perfetto versions misread it); ts are microseconds,
//     the format's default.
//   - deterministic: the output is a function of the trace alone.
//
// Top level: {"traceEvents":[...], "otherData":{workload, clock_hz, cpus,
// events_written, dropped_events, ...}}.
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

/// The whole trace as one JSON object (traceEvents, otherData).
nlohmann::json perfetto_json(const Trace& trace, const PerfettoOptions& options = {});

/// Writes the same document as perfetto_json(), one trace event per line, without
/// building it in memory first.
void write_perfetto(std::ostream& out, const Trace& trace, const PerfettoOptions& options = {});

/// write_perfetto() to a file. Throws std::runtime_error when it cannot be written.
void write_perfetto_file(const std::string& path, const Trace& trace, const PerfettoOptions& options = {});

}  // namespace smpemu
