// ftrace text of a Trace, in the layout of the kernel's /sys/kernel/tracing/trace with
// the irq-info (latency) flags column, as printed by kernels before 5.14 (4 flags).
// ui.perfetto.dev opens it directly (it recognises "# tracer:" and turns sched_switch
// and sched_wakeup into per-CPU scheduling tracks).
//
// What it models: the header block
//     # tracer: nop
//     #
//     # entries-in-buffer/entries-written: N/M   #P:cpus
//     #
//     (the flags legend and the column titles)
// then one line per kept event, sorted stably by time:
//     <comm>-<pid> [<cpu>] <flags> <seconds>.<usecs>: <event>: <fields>
// comm is the running task's name truncated to 15 characters (TASK_COMM_LEN - 1) and
// right-aligned in 16 (a switch is logged by the task leaving the CPU); pid is the task
// id, left-aligned in 5, except that idle tasks (swapper/N) print pid 0 as in the kernel
// (Perfetto then shows idle time as idle); cpu has 3 digits; flags are irqs-off 'd',
// need-resched 'N', hardirq 'h', preempt depth as one hex digit, each '.' when clear;
// the time is cycles / clock_hz, truncated to microseconds.
//
// Events (kernel names and field layouts where the kernel has one):
//     sched_switch: prev_comm= prev_pid= prev_prio=120 prev_state= ==> next_comm= next_pid= next_prio=120
//     sched_wakeup: comm= pid= prio=120 target_cpu=NNN
//     task_newtask: pid= comm=            (the task's first run)
//     sched_process_exit: comm= pid= prio=120
//     local_timer_entry: vector=236
//     ipi_raise: target_mask=XXXXXXXX (Function call interrupts|Rescheduling interrupts)
//     ipi_entry: (Function call interrupts|Rescheduling interrupts)
//     lock_contended: NAME              (stamped with the request time)
//     lock_acquired: NAME wait=CYCLES
//     lock_release: NAME hold=CYCLES
//     preempt_enable: duration=CYCLES   (end of a preempt-off region)
//     irq_enable: duration=CYCLES       (end of an IRQ-off region)
//     rcu_grace_period: rcu GP start | rcu GP end duration=CYCLES
//     tlb_flush: pages:N addr=0x...     (pages:-1 for a full flush)
//     page_fault_user: address=0x... error_code=0x4|0x6
//     mark: NAME=VALUE
//     bug: CHECK: MESSAGE [ (fatal)]
//     sync: kind=NAME(N) payload=0x...  (detail traces only)
// Durations and waits are in cycles (the project's unit). prev_state is inferred from
// what follows the switch: X (the task exited), D (it was woken later: it slept), R+ (it
// ran again without a wakeup: preempted), R for idle tasks.
//
// With FtraceOptions::cycles every line ends with " cycles=N" (exact time, for diffs).
//
// Invariant: a pure function of the trace; lines never contain '\n'.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace smpemu {

struct FtraceOptions {
  /// Append " cycles=N" (the exact event time) to every line: the microsecond column
  /// hides differences of less than a microsecond, which a trace diff wants to see.
  bool cycles = false;
};

/// The header block (every line starts with '#'), ending with a newline.
std::string ftrace_header(const Trace& trace);

/// The body: one line per kept event, sorted stably by time, without newlines.
std::vector<std::string> ftrace_lines(const Trace& trace, const FtraceOptions& options = {});

/// Header and body, as the kernel's `trace` file.
void write_ftrace(std::ostream& out, const Trace& trace, const FtraceOptions& options = {});
std::string ftrace_text(const Trace& trace, const FtraceOptions& options = {});

/// write_ftrace() to a file. Throws std::runtime_error when it cannot be written.
void write_ftrace_file(const std::string& path, const Trace& trace, const FtraceOptions& options = {});

}  // namespace smpemu
