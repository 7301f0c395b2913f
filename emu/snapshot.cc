#include "emu/snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "emu/machine.h"

namespace smpemu {

namespace {

constexpr TraceKind kStoppable[] = {
    TraceKind::TaskStart,   TraceKind::TaskExit,   TraceKind::CtxSwitch, TraceKind::Wakeup,
    TraceKind::Tick,        TraceKind::IpiSend,    TraceKind::IpiHandle, TraceKind::LockContend,
    TraceKind::LockAcquire, TraceKind::LockRelease, TraceKind::PreemptOff, TraceKind::IrqOff,
    TraceKind::RcuGpStart,  TraceKind::RcuGpEnd,   TraceKind::TlbFlush,  TraceKind::PageFault,
    TraceKind::Mark};

std::uint64_t parse_count(const std::string& spec, const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos || std::stoull(s) == 0)
    throw std::invalid_argument("bad --stop-at '" + spec + "' (the count must be a positive integer)");
  return std::stoull(s);
}

const char* cpu_state_name(CpuState s) {
  switch (s) {
    case CpuState::Running: return "running";
    case CpuState::Idle: return "idle";
    case CpuState::Spinning: return "spinning";
    case CpuState::Parked: return "parked";
  }
  return "?";
}

}  // namespace

std::string stop_condition_help() {
  std::string s = "bug, bug:CHECK, event:N, or a trace event with an optional :N (";
  for (std::size_t i = 0; i < std::size(kStoppable); ++i) s += (i ? ", " : "") + std::string(trace_kind_name(kStoppable[i]));
  return s + ")";
}

StopCondition parse_stop_condition(const std::string& spec) {
  StopCondition c;
  c.spec = spec;
  const auto colon = spec.find(':');
  const std::string head = spec.substr(0, colon);
  const std::string tail = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (head == "bug") {
    c.kind = StopCondition::Kind::Bug;
    c.check = tail;
    return c;
  }
  if (head == "event") {
    c.kind = StopCondition::Kind::Event;
    c.count = parse_count(spec, tail);
    return c;
  }
  for (TraceKind k : kStoppable) {
    if (head != trace_kind_name(k)) continue;
    c.kind = StopCondition::Kind::Trace;
    c.trace_kind = k;
    c.count = colon == std::string::npos ? 1 : parse_count(spec, tail);
    return c;
  }
  throw std::invalid_argument("unknown --stop-at event '" + spec + "' (expected " + stop_condition_help() + ")");
}

MachineSnapshot Machine::snapshot() const {
  MachineSnapshot s;
  s.end = end_reason_name(end_);
  if (stop_requested_) s.stop_condition = stop_cond_.spec;
  for (const Cpu& c : cpus_) {
    CpuSnapshot cs;
    cs.id = c.id;
    cs.clock = c.clock;
    cs.state = cpu_state_name(c.state);
    cs.task = c.curr ? c.curr->name : "";
    cs.preempt_count = c.curr ? c.curr->preempt_count : 0;
    cs.irqs_off = c.irqs_off;
    cs.need_resched = c.need_resched;
    cs.in_irq = c.in_irq;
    for (const Task* t : c.rq) cs.runqueue.push_back(t->name);
    cs.next_tick = c.next_tick;
    for (const PendingIpi& p : c.ipis) cs.pending_ipis.push_back(p.arrival);
    s.cpus.push_back(std::move(cs));
  }
  for (const auto& t : tasks_) {
    if (t->is_idle) continue;
    TaskSnapshot ts;
    ts.id = t->id;
    ts.name = t->name;
    ts.cpu = t->cpu;
    const Cpu& c = cpus_[static_cast<std::size_t>(t->cpu)];
    if (t->state == TaskState::Dead)
      ts.state = "dead";
    else if (t->state == TaskState::Blocked)
      ts.state = c.curr == t.get() ? "blocking" : "blocked";  // "blocking": not switched out yet
    else if (c.curr == t.get())
      ts.state = c.state == CpuState::Spinning ? "spinning" : "running";
    else
      ts.state = "runnable";
    ts.preempt_count = t->preempt_count;
    ts.rcu_nesting = t->rcu_nesting;
    for (const HeldLock& h : t->held_locks) ts.held.push_back(h.instance + " (" + lock_kind_name(h.kind) + ")");
    if (t->waiting_for) ts.waiting_for = *t->waiting_for;
    s.tasks.push_back(std::move(ts));
  }
  std::vector<Event> q = queue_;
  std::sort(q.begin(), q.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.prio != b.prio) return a.prio < b.prio;
    return a.seq < b.seq;
  });
  for (const Event& e : q) {
    PendingEventSnapshot p;
    p.time = e.time;
    p.cpu = e.cpu;
    p.what = e.kind == EventKind::WakeTask ? "timer wakeup of " + (e.task ? e.task->name : std::string("?"))
                                           : "interrupt wakeup of the CPU";
    s.events.push_back(std::move(p));
  }
  return s;
}

std::string format_snapshot(const MachineSnapshot& s) {
  std::string out = "machine state (" + s.end + (s.stop_condition.empty() ? "" : " at " + s.stop_condition) + ")\n";
  out += fmt::format("  {:>4} {:>14} {:<9} {:<22} {:>7} {:<5} {:<6} {}\n", "cpu", "clock", "state", "task",
                     "preempt", "irqs", "resched", "run queue");
  for (const CpuSnapshot& c : s.cpus) {
    std::string rq;
    for (const auto& n : c.runqueue) rq += (rq.empty() ? "" : " ") + n;
    std::string irqs = c.irqs_off ? "off" : "on";
    if (c.in_irq) irqs += ",irq";
    out += fmt::format("  {:>4} {:>14} {:<9} {:<22} {:>7} {:<5} {:<6} {}\n", c.id, c.clock, c.state, c.task,
                       c.preempt_count, irqs, c.need_resched ? "yes" : "no", rq.empty() ? "-" : rq);
  }
  out += "tasks\n";
  for (const TaskSnapshot& t : s.tasks) {
    if (t.state == "dead") continue;
    std::string held;
    for (const auto& h : t.held) held += (held.empty() ? "" : ", ") + h;
    out += fmt::format("  {:<22} cpu {:<4} {:<9} preempt {} rcu {}  holds: {}{}\n", t.name, t.cpu, t.state,
                       t.preempt_count, t.rcu_nesting, held.empty() ? "-" : held,
                       t.waiting_for.empty() ? "" : "  waits for: " + t.waiting_for);
  }
  std::size_t dead = 0;
  for (const TaskSnapshot& t : s.tasks) dead += t.state == "dead";
  if (dead) out += fmt::format("  ({} exited task(s) not shown)\n", dead);
  out += "pending events\n";
  bool any = false;
  for (const PendingEventSnapshot& e : s.events) {
    out += fmt::format("  at {:>14} cpu {:<4} {}\n", e.time, e.cpu, e.what);
    any = true;
  }
  for (const CpuSnapshot& c : s.cpus)
    for (Cycles t : c.pending_ipis) {
      out += fmt::format("  at {:>14} cpu {:<4} IPI\n", t, c.id);
      any = true;
    }
  if (!any) out += "  none\n";
  return out;
}

}  // namespace smpemu
