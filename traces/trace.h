// The trace: a typed, compact record of what happened in a run, for people (Perfetto,
// ftrace text, lock_stat) and for tools (trace diff, --stop-at).
//
// Every event carries its virtual time, CPU, task and the CPU's state flags at that
// moment (preempt depth, IRQs off, need_resched, in hardirq), so the ftrace export can
// print the kernel's latency-format flags column. Spans are recorded once, when they
// end: a lock release carries the hold time, a preempt-off or IRQ-off event carries the
// start of the region, so exporters need no pairing and a ring buffer that dropped the
// start still shows complete spans.
//
// Bounded: events go to a ring buffer of `capacity` events (32 bytes each); when it is
// full the oldest are overwritten and counted in dropped(). Off by default: the engine
// tests one pointer per traced site, and the fine-grained `Sync` events (every load,
// store, atomic, barrier, spin-wait; what a trace diff needs) only with `detail`.
//
// Strings (lock instance names, bug texts, workload event names) are interned once;
// events refer to them by id. Task names are kept by task id.
//
// Determinism: a trace is a function of the run (no host time or addresses); two runs
// with the same digest give the same trace.
// Concurrency: one Trace per Machine, written only by the running fiber.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "emu/types.h"

namespace smpemu {

enum class TraceKind : std::uint8_t {
  TaskStart,    ///< a = task id
  TaskExit,     ///< a = task id
  CtxSwitch,    ///< a = prev task id, b = next task id
  Wakeup,       ///< a = woken task id (event on the woken task's CPU, at the wakeup time)
  Tick,         ///< a = tick number on this CPU
  IpiSend,      ///< a = target CPU, b = 1 for a function IPI, 0 for a reschedule IPI
  IpiHandle,    ///< a = 1 for a function IPI, 0 for a reschedule IPI
  LockContend,  ///< a = lock name id, b = lock class id; time = when the lock was requested
  LockAcquire,  ///< a = lock name id, b = wait cycles (request to acquisition)
  LockRelease,  ///< a = lock name id, b = hold cycles (span ends at `time`)
  PreemptOff,   ///< a = start of the preempt-off region (span ends at `time`)
  IrqOff,       ///< a = start of the IRQ-off region (span ends at `time`)
  RcuGpStart,   ///< a = grace-period number
  RcuGpEnd,     ///< a = grace-period number, b = duration
  TlbFlush,     ///< a = address (or ~0 for a full flush), b = pages
  PageFault,    ///< a = address, b = 1 for a write fault
  Bug,          ///< a = text id ("check: message"), b = 1 if fatal
  Mark,         ///< workload-defined: a = name id, b = value
  Sync,         ///< detail only: a = engine event kind (traces/digest.h Ev), b = payload (line)
};
const char* trace_kind_name(TraceKind k);

/// CPU state flags of an event (ftrace latency format).
namespace trace_flags {
constexpr std::uint8_t kPreemptMask = 0x0f;  ///< preempt depth, saturated at 15
constexpr std::uint8_t kIrqsOff = 0x10;
constexpr std::uint8_t kNeedResched = 0x20;
constexpr std::uint8_t kHardIrq = 0x40;
}  // namespace trace_flags

struct TraceEvent {
  Cycles time = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint32_t task = 0;  ///< task id (idle tasks are swapper/N)
  std::int16_t cpu = 0;
  TraceKind kind = TraceKind::Mark;
  std::uint8_t flags = 0;
  bool operator==(const TraceEvent&) const = default;
};
static_assert(sizeof(TraceEvent) == 32, "a trace event is 32 bytes");

class Trace {
 public:
  /// A trace keeping the last `capacity` events (>= 1); `detail` adds Sync events.
  explicit Trace(std::size_t capacity = kDefaultCapacity, bool detail = false);
  static constexpr std::size_t kDefaultCapacity = 1u << 20;

  bool detail() const { return detail_; }
  void add(const TraceEvent& e) {
    // The ring grows as events arrive (a large capacity costs nothing until used) and
    // wraps once it holds `capacity` events.
    if (ring_.size() < capacity_) {
      ring_.push_back(e);
    } else {
      ring_[head_] = e;
      head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    }
    ++written_;
  }
  std::size_t capacity() const { return capacity_; }
  /// Id of `s` in the string table (added on first use).
  std::uint32_t intern(const std::string& s);
  const std::string& str(std::uint64_t id) const;

  /// Task names by id (set by the Machine as tasks are created).
  void set_task_name(std::uint32_t id, const std::string& name);
  const std::string& task_name(std::uint32_t id) const;
  /// Run metadata for exporters.
  int ncpus = 0;
  double clock_hz = 1e9;
  std::string workload;

  /// The events kept, oldest first (in recording order, which is not strictly time
  /// order: a LockContend is stamped with the earlier request time).
  std::vector<TraceEvent> events() const;
  std::uint64_t written() const { return written_; }
  std::uint64_t dropped() const { return written_ - ring_.size(); }

 private:
  bool detail_;
  std::size_t capacity_;
  std::vector<TraceEvent> ring_;  // grows to capacity_, then head_ is the oldest event
  std::size_t head_ = 0;
  std::uint64_t written_ = 0;
  std::vector<std::string> strings_;
  std::map<std::string, std::uint32_t> string_ids_;
  std::vector<std::string> task_names_;
};

}  // namespace smpemu
