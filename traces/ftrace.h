// ftrace text of a Trace, in the layout of the kernel's /sys/kernel/tracing/trace with
// the irq-info (latency) flags column, as printed by kernels before 5.14 (4 flags), and
// with nanosecond timestamps (as `trace-cmd report` prints them). ui.perfetto.dev opens
// it directly: docs/TRACES.md says which lines become which tracks there.
//
// What it models: the header block
//     # tracer: nop
//     #
//     # entries-in-buffer/entries-written: N/M   #P:cpus      (M = N + dropped events)
//     #
//     (the flags legend and the column titles)
// then one line per event, sorted stably by time:
//     <comm>-<pid> [<cpu>] <flags> <seconds>.<nanoseconds>: <event>: <fields>
// comm is the task's name truncated to 15 characters (TASK_COMM_LEN - 1) and
// right-aligned in 16; pid is the task id, left-aligned in 5, except that idle tasks
// (swapper/N) print pid 0 as in the kernel (Perfetto then shows idle time as idle); cpu
// has 3 digits; flags are irqs-off 'd', need-resched 'N', hardirq 'h', preempt depth as
// one hex digit, each '.' when clear; the time is cycles * 1e9 / clock_hz, truncated.
//
// Events, in the kernel's field layouts:
//     sched_switch: prev_comm= prev_pid= prev_prio= prev_state= ==> next_comm= next_pid= next_prio=
//         (logged by the task leaving the CPU; prio 120, or 0 for real-time tasks: the
//         engine's one SCHED_FIFO level is rt_priority 99, as `cyclictest -p99`, and the
//         kernel prints MAX_RT_PRIO-1 - rt_priority; prev_state R yielded, R+ preempted,
//         S timer sleep, D any other wait, X exited)
//     sched_waking: comm= pid= prio= target_cpu=NNN   (in the waker's context)
//     cpu_idle: state=1 cpu_id=N | state=4294967295 cpu_id=N   (idle entry / exit)
//     task_newtask: pid= comm= clone_flags=0 oom_score_adj=0   (the task's first run)
//     sched_process_exit: comm= pid= prio=
//     local_timer_entry/local_timer_exit: vector=236, call_function_entry/_exit: vector=251,
//     reschedule_entry/_exit: vector=253                       (x86 irq_vectors)
//     ipi_raise: target_mask=XXXXXXXX (Function call interrupts|Rescheduling interrupts)
//     contention_begin: 0xADDR (flags=SPIN|READ|WRITE|MUTEX) / contention_end: 0xADDR (ret=0)
//         (ADDR: a pseudo-address per lock instance; no line for lock_page waits)
//     rcu_grace_period: rcu N start | rcu N end
//     tlb_flush: pages:N reason:local mm shootdown (3)|remote shootdown (1) (pages:-1: full)
//     page_fault_user: address=0x... ip=0x0 error_code=0x4|0x6   (no ip is modelled)
//     sync: kind=NAME(N) payload=0x...  (detail traces only; not a kernel event)
// and as tracing_mark_write (the atrace format the kernel's trace_marker carries):
//     B|pid|NAME / E|pid     spans of the task that holds them, from traces/spans.h:
//                            lock holds (NAME = the lock), contended waits ("wait
//                            NAME"), "preempt off", "irqs off", "irq: local_timer" etc.,
//                            each B at the span's start and E at its end; properly nested
//                            per task (Perfetto keeps one stack per thread)
//     S|pid|NAME|cookie / F|pid|NAME|cookie   spans that do not nest in the others, and
//                            spans of idle tasks (NAME prefixed with "swapper/N: ")
//     S|0|rcu grace period|cookie / F|...     grace periods
//     I|pid|BUG: CHECK: MESSAGE[ (fatal)]      bug reports
//     C|pid|NAME|VALUE                         workload marks (a counter per task)
// A lock still held at the end of the trace has a B and no E.
//
// With FtraceOptions::cycles every line but the tracing_mark_write ones (whose last field
// would take it in) ends with " cycles=N" (exact time, for diffs).
//
// Invariant: a pure function of the trace; lines never contain '\n'.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace smpemu {

struct FtraceOptions {
  /// Append " cycles=N" (the exact event time) to every line but tracing_mark_write's:
  /// the nanosecond column hides differences of less than a nanosecond (clocks above
  /// 1 GHz), which a trace diff wants to see.
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
