// Stopping a run on purpose and looking at the machine: what `smpemu run --until CYCLE`
// and `--stop-at EVENT` print.
//
// A StopCondition names the event at which a run stops: the first bug report (of a given
// check), the Nth visible event (the digest's event count), or the Nth trace event of a
// kind (sched_switch, lock_contended, ...). When it fires, every CPU parks at its next
// sync point (the CPU that hit it finishes only its local work), the run ends with
// EndReason::Stopped, and Machine::snapshot() still sees the stopped state: each CPU's
// task, preempt and IRQ state, run queue; each task's locks held and the lock it waits
// for; the pending timed events and IPIs. A snapshot is also meaningful after a normal
// end (deadlock, time limit).
//
// Determinism: a snapshot lists CPUs, tasks and events in id / time order only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emu/types.h"
#include "traces/trace.h"

namespace smpemu {

struct StopCondition {
  enum class Kind : std::uint8_t { None, Bug, Event, Trace };
  Kind kind = Kind::None;
  std::string check;           ///< Bug: only reports of this check ("" = any)
  std::uint64_t count = 1;     ///< Event: stop at the Nth visible event; Trace: at the Nth of trace_kind
  TraceKind trace_kind = TraceKind::Mark;
  std::string spec;            ///< as given
};

/// Parses `bug`, `bug:CHECK`, `event:N`, or a trace event name with an optional count
/// (`sched_switch`, `lock_contended:3`, ...; names as in traces/trace.cc). Throws
/// std::invalid_argument with a one-line message.
StopCondition parse_stop_condition(const std::string& spec);

/// Names accepted by parse_stop_condition(), for help texts.
std::string stop_condition_help();

struct CpuSnapshot {
  CpuId id = kNoCpu;
  Cycles clock = 0;
  std::string state;           ///< running, idle, spinning, parked
  std::string task;            ///< current task
  int preempt_count = 0;
  bool irqs_off = false;
  bool need_resched = false;
  bool in_irq = false;
  std::vector<std::string> runqueue;
  Cycles next_tick = 0;
  std::vector<Cycles> pending_ipis;  ///< arrival times
};

struct TaskSnapshot {
  std::uint32_t id = 0;
  std::string name;
  CpuId cpu = kNoCpu;
  std::string state;           ///< running, runnable, blocking (not switched out yet), blocked, spinning, dead
  int preempt_count = 0;
  int rcu_nesting = 0;
  std::vector<std::string> held;  ///< lock instances, in acquisition order, with kind
  std::string waiting_for;     ///< lock instance it waits or spins for ("" if none)
};

struct PendingEventSnapshot {
  Cycles time = 0;
  CpuId cpu = kNoCpu;
  std::string what;
};

struct MachineSnapshot {
  std::string end;             ///< end reason
  std::string stop_condition;  ///< spec of the stop condition, if one fired
  std::vector<CpuSnapshot> cpus;
  std::vector<TaskSnapshot> tasks;  ///< idle tasks excluded
  std::vector<PendingEventSnapshot> events;
};

/// Multi-line, human-readable form.
std::string format_snapshot(const MachineSnapshot& s);

}  // namespace smpemu
