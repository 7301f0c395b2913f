#include "traces/trace.h"

#include <stdexcept>

namespace smpemu {

const char* trace_kind_name(TraceKind k) {
  switch (k) {
    case TraceKind::TaskStart: return "task_start";
    case TraceKind::TaskExit: return "task_exit";
    case TraceKind::CtxSwitch: return "sched_switch";
    case TraceKind::Wakeup: return "sched_wakeup";
    case TraceKind::Tick: return "tick";
    case TraceKind::IpiSend: return "ipi_send";
    case TraceKind::IpiHandle: return "ipi_entry";
    case TraceKind::LockContend: return "lock_contended";
    case TraceKind::LockAcquire: return "lock_acquired";
    case TraceKind::LockRelease: return "lock_release";
    case TraceKind::PreemptOff: return "preempt_off";
    case TraceKind::IrqOff: return "irqs_off";
    case TraceKind::RcuGpStart: return "rcu_gp_start";
    case TraceKind::RcuGpEnd: return "rcu_gp_end";
    case TraceKind::TlbFlush: return "tlb_flush";
    case TraceKind::PageFault: return "page_fault";
    case TraceKind::Bug: return "bug";
    case TraceKind::Mark: return "mark";
    case TraceKind::Sync: return "sync";
    case TraceKind::IrqExit: return "irq_exit";
  }
  return "?";
}

const char* switch_state_letter(SwitchState s) {
  switch (s) {
    case SwitchState::Runnable: return "R";
    case SwitchState::Preempted: return "R+";
    case SwitchState::Sleeping: return "S";
    case SwitchState::Uninterruptible: return "D";
    case SwitchState::Dead: return "X";
    case SwitchState::Unknown: break;
  }
  return "";
}

bool is_idle_task_name(const std::string& name) { return name.rfind("swapper/", 0) == 0; }

Trace::Trace(std::size_t capacity, bool detail) : detail_(detail), capacity_(capacity ? capacity : 1) {}

std::uint32_t Trace::intern(const std::string& s) {
  auto [it, inserted] = string_ids_.try_emplace(s, static_cast<std::uint32_t>(strings_.size()));
  if (inserted) strings_.push_back(s);
  return it->second;
}

const std::string& Trace::str(std::uint64_t id) const {
  static const std::string unknown = "?";
  return id < strings_.size() ? strings_[static_cast<std::size_t>(id)] : unknown;
}

void Trace::set_task_name(std::uint32_t id, const std::string& name) {
  if (id >= task_names_.size()) task_names_.resize(id + 1);
  task_names_[id] = name;
}

void Trace::set_task_rt(std::uint32_t id, bool rt) {
  if (id >= task_rt_.size()) task_rt_.resize(id + 1);
  task_rt_[id] = rt;
}

const std::string& Trace::task_name(std::uint32_t id) const {
  static const std::string unknown = "?";
  return id < task_names_.size() ? task_names_[id] : unknown;
}

std::vector<TraceEvent> Trace::events() const {
  std::vector<TraceEvent> out;
  const std::size_t n = ring_.size();
  out.reserve(n);
  const std::size_t start = ring_.size() < capacity_ ? 0 : head_;
  for (std::size_t i = 0; i < n; ++i) out.push_back(ring_[(start + i) % ring_.size()]);
  return out;
}

}  // namespace smpemu
