#include "emu/splat.h"

#include <fmt/format.h>

#include <algorithm>

#include "emu/machine.h"

namespace smpemu {

std::string task_label(const Task& t) { return t.name + "/" + std::to_string(t.id); }

std::string splat_rule(char c) { return std::string(54, c) + "\n"; }

std::string track_text(const Track& t) {
  if (t.empty()) return "(not recorded: history off or overwritten)\n";
  if (!t.task) return fmt::format("by the workload's setup, before the run:\n       {}\n", t.path.str());
  return fmt::format("by task {} on CPU {} at cycle {}:\n       {}\n", task_label(*t.task), t.cpu, t.cycle,
                     t.path.str());
}

std::string instance_class(const std::string& instance) { return instance.substr(0, instance.rfind('#')); }

std::string class_key(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string k;
  for (const auto& n : names) k += (k.empty() ? "" : " ") + n;
  return k;
}

std::string held_locks_text(const Task& t) {
  const auto& held = t.held_locks;
  if (held.empty()) return "no locks held by " + task_label(t) + ".\n";
  std::string s = fmt::format("{} lock{} held by {}:\n", held.size(), held.size() == 1 ? "" : "s", task_label(t));
  for (std::size_t i = 0; i < held.size(); ++i) {
    const HeldLock& h = held[i];
    s += fmt::format(" #{}: {} ({}){{{}}}, at: {}\n", i, h.instance, instance_class(h.instance), lock_kind_name(h.kind),
                     h.where().str());
  }
  return s;
}

namespace {
std::string event_text(const Trace& tr, const TraceEvent& e) {
  switch (e.kind) {
    case TraceKind::LockContend: return "lock_contended " + tr.str(e.lock_name());
    case TraceKind::LockAcquire: return fmt::format("lock_acquired {} after {} cycles", tr.str(e.lock_name()), e.b);
    case TraceKind::LockRelease: return fmt::format("lock_release {} held {} cycles", tr.str(e.lock_name()), e.b);
    case TraceKind::CtxSwitch:
      return fmt::format("sched_switch {} ==> {}", tr.task_name(static_cast<std::uint32_t>(e.a)),
                         tr.task_name(static_cast<std::uint32_t>(e.b)));
    case TraceKind::Wakeup: return "sched_wakeup " + tr.task_name(static_cast<std::uint32_t>(e.a));
    case TraceKind::PageFault: return fmt::format("page_fault address={:#x} {}", e.a, e.b ? "write" : "read");
    case TraceKind::TlbFlush:
      return e.a == ~std::uint64_t{0} ? std::string("tlb_flush all") : fmt::format("tlb_flush {:#x} pages={}", e.a, e.b);
    case TraceKind::Bug: return "bug " + tr.str(e.a);
    case TraceKind::Mark: return fmt::format("mark {}={}", tr.str(e.a), e.b);
    case TraceKind::PreemptOff: return fmt::format("preempt_off since cycle {}", e.a);
    case TraceKind::IrqOff: return fmt::format("irqs_off since cycle {}", e.a);
    default: return fmt::format("{} {} {}", trace_kind_name(e.kind), e.a, e.b);
  }
}
}  // namespace

std::string recent_events_text(const Machine& m, const std::vector<const Task*>& tasks, std::size_t n) {
  const Trace* tr = m.trace();
  if (!tr || tasks.empty()) return "";
  const std::vector<TraceEvent> events = tr->events();
  std::string s;
  std::vector<std::uint32_t> seen;
  for (const Task* t : tasks) {
    if (!t || std::find(seen.begin(), seen.end(), t->id) != seen.end()) continue;
    seen.push_back(t->id);
    std::vector<const TraceEvent*> mine;
    for (auto it = events.rbegin(); it != events.rend() && mine.size() < n; ++it)
      if (it->task == t->id && it->kind != TraceKind::Sync && it->kind != TraceKind::Tick) mine.push_back(&*it);
    if (mine.empty()) continue;
    s += fmt::format("last {} events of {}:\n", mine.size(), task_label(*t));
    for (auto it = mine.rbegin(); it != mine.rend(); ++it)
      s += fmt::format("  [cycle {:>10}] CPU {}: {}\n", (*it)->time, (*it)->cpu, event_text(*tr, **it));
  }
  return s;
}

}  // namespace smpemu
