// The spans of a trace, per task: lock holds, contended lock waits, preempt-off and
// IRQ-off regions and interrupt handlers, with begin and end, for the exporters that
// draw them as slices on the task's track (ftrace tracing_mark_write B/E, Perfetto
// JSON).
//
// The trace records most spans once, at their end (traces/trace.h); this puts each back
// at its start. A lock whose release is not in the trace (still held when the run
// stopped, or its owner exited holding it) is an open span from its acquisition.
//
// Slices on one track form a stack, so spans that overlap without one containing the
// other (lock A taken, lock B taken, A released, B released) cannot all be slices of
// the task's track: mark_nesting() keeps each span that nests in the stack of the spans
// kept before it (outermost first) and marks the rest `nested = false`; exporters draw
// those as async slices (tracks of their own, per name) instead.
//
// Invariant: a pure function of the events; deterministic order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace smpemu {

/// What a span is. At equal extents the smaller value is drawn outside.
enum class SpanKind : std::uint8_t { IrqOff, PreemptOff, Irq, LockWait, Lock };

struct Span {
  Cycles start = 0;
  Cycles end = 0;     ///< meaningless when `open`
  bool open = false;  ///< never ended within the trace
  bool nested = true; ///< set by mark_nesting(): false -> draw as an async slice
  SpanKind kind = SpanKind::Lock;
  std::uint32_t task = 0;
  std::int16_t cpu = 0;
  /// Lock, LockWait: lock name id; Irq: x86 vector (irq_vector::); others: 0.
  std::uint64_t what = 0;
  /// Lock: wait cycles before the acquisition, when the acquisition is in the trace.
  std::uint64_t wait = kUnknown;
  /// Index of the event that began (kUnknown if not kept) and ended the span (kUnknown if open).
  std::size_t begin_ev = kUnknownIndex;
  std::size_t end_ev = kUnknownIndex;
  static constexpr std::uint64_t kUnknown = ~0ULL;
  static constexpr std::size_t kUnknownIndex = ~std::size_t{0};
};

/// The spans of `events` (a Trace's events(), in recording order), sorted by task, then
/// start, then longest first (open ones first), then kind.
std::vector<Span> collect_spans(const std::vector<TraceEvent>& events);

/// Marks the spans of each task that do not nest in the stack of the ones before them
/// (`spans` as collect_spans() returns them).
void mark_nesting(std::vector<Span>& spans);

/// One begin or end of a span, in an order that is valid for a stack per task: by
/// time, ends before begins at the same time, inner ends before outer ones, outer
/// begins before inner ones, and a zero-length span's begin right before its end.
struct SpanEdge {
  Cycles time = 0;
  std::size_t span = 0;  ///< index into the spans
  bool begin = false;
};

/// The edges of `spans` (after mark_nesting()), for every task, ordered as above within
/// each task and by time overall (ties between tasks by task id). Open spans have no end.
std::vector<SpanEdge> span_edges(const std::vector<Span>& spans);

/// A name for a span: the lock name for locks, "wait " + name for waits, "preempt off",
/// "irqs off", "irq: local_timer" (etc.) for the others.
std::string span_name(const Trace& trace, const Span& s);

/// The kernel's name of an x86 interrupt vector ("local_timer", "call_function",
/// "reschedule"), or "irq".
const char* irq_vector_name(std::uint64_t vector);

}  // namespace smpemu
