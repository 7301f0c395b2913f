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

const char* lock_type_name(std::uint32_t flags) {
  const bool read = flags & lock_contention::kRead, write = flags & lock_contention::kWrite;
  if (read || write) {
    if (flags & lock_contention::kSpin) return read ? "rwlock:R" : "rwlock:W";
    return read ? "rwsem:R" : "rwsem:W";
  }
  if (flags & lock_contention::kSpin) return "spinlock";
  if (flags & lock_contention::kMutex) return "mutex";
  return "bitlock";
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

std::uint32_t Trace::lock_point(std::uint32_t cls_id, const std::string& cls, const CallPath& where) {
  if (where.empty()) return 0;
  PointKey key{cls_id, {}};
  key.second[0] = where.site.line;
  key.second[1] = reinterpret_cast<std::uintptr_t>(where.site.file);
  key.second[2] = reinterpret_cast<std::uintptr_t>(where.site.func);
  for (std::uint8_t i = 0; i < where.ncallers; ++i) key.second[3 + i] = reinterpret_cast<std::uintptr_t>(where.callers[i].func);
  if (auto it = point_cache_.find(key); it != point_cache_.end()) return it->second;
  const std::string position = where.site_str();  // "file:line function"
  const auto space = position.find(' ');
  LockPoint p{cls, position.substr(0, space), where.functions()};
  const std::uint32_t id = lock_point(p);
  point_cache_.emplace(key, id);
  return id;
}

std::uint32_t Trace::lock_point(const LockPoint& p) {
  auto [it, inserted] =
      point_ids_.try_emplace(std::make_tuple(p.cls, p.position, p.functions), static_cast<std::uint32_t>(points_.size() + 1));
  if (!inserted) return it->second;
  if (it->second > lock_event::kMaxPoint) {  // not recorded: its events say "unknown"
    it->second = 0;
    return 0;
  }
  points_.push_back(p);
  return it->second;
}

const LockPoint* Trace::lock_point_of(std::uint32_t id) const {
  return id >= 1 && id <= points_.size() ? &points_[id - 1] : nullptr;
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
