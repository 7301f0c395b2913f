#include "emu/rcu.h"

#include <stdexcept>

#include "emu/machine.h"

namespace smpemu {

namespace {
/// Tree RCU forces a quiescent state on holdout CPUs after 3 jiffies (docs/COSTS.md).
constexpr Cycles kForceQsTicks = 3;

void rcu_softirq(Machine& m, void*) { m.rcu().run_callbacks(); }
}  // namespace

const char* rcu_flavor_name(RcuFlavor f) { return f == RcuFlavor::Sched ? "sched" : "preempt"; }

RcuFlavor parse_rcu_flavor(const std::string& s) {
  if (s == "sched") return RcuFlavor::Sched;
  if (s == "preempt") return RcuFlavor::Preempt;
  throw std::invalid_argument("unknown RCU flavour '" + s + "' (expected sched or preempt)");
}

// ---- objects ----------------------------------------------------------------------

std::uint32_t ObjectTracker::alloc(const std::string& kind, Where loc) {
  live_.push_back(1);
  kinds_.push_back(kind);
  if (m_.params().history) {
    // Setup code allocates before the run: no task to name then, only the place.
    allocated_.push_back(m_.running() ? m_.track(loc) : Track{nullptr, kNoCpu, 0, m_.path(loc)});
    freed_.emplace_back();
  }
  return static_cast<std::uint32_t>(live_.size() - 1);
}

void ObjectTracker::free(std::uint32_t id, Where loc) {
  if (id >= live_.size()) {
    m_.report_bug("bad-free", "free of object #" + std::to_string(id) + ", which was never allocated", true);
    return;
  }
  if (!live_[id]) {
    report_kasan(id, "double-free", kinds_[id] + " #" + std::to_string(id) + " freed twice", loc);
    return;
  }
  live_[id] = 0;
  if (id < freed_.size()) freed_[id] = m_.track(loc);
}

bool ObjectTracker::check(std::uint32_t id, const std::string& what, Where loc) {
  if (id >= live_.size()) {
    m_.report_bug("bad-access", what + ": object #" + std::to_string(id) + " was never allocated", true);
    return false;
  }
  if (live_[id]) return true;
  report_kasan(id, "use-after-free", what + ": " + kinds_[id] + " #" + std::to_string(id) + " was freed", loc);
  return false;
}

void ObjectTracker::report_kasan(std::uint32_t id, const std::string& check, const std::string& message, Where loc) {
  // KASAN's layout: the bad access, then the object's allocation and free.
  const Track now = m_.track(loc);
  BugReport b;
  b.check = check;
  b.message = message;
  b.fatal = true;
  b.key = now.path.site_str();
  std::string& d = b.details;
  d += "\n" + splat_rule('=') + "BUG: KASAN: " + check + " in " + function_name(now.path.site) + "\n";
  d += "Access to " + kinds_[id] + " #" + std::to_string(id) + " " + track_text(now);
  std::vector<const Task*> involved;
  if (id < allocated_.size()) {
    d += "\nAllocated " + track_text(allocated_[id]);
    d += "\nFreed " + track_text(freed_[id]);
    involved.push_back(freed_[id].task);
  } else {
    d += "\n(no allocation or free history: run with --history on)\n";
  }
  d += "\nThe buggy address belongs to " + kinds_[id] + " #" + std::to_string(id) + "\n";
  if (now.task) d += held_locks_text(*now.task);
  m_.report(std::move(b), involved);
}

// ---- RCU --------------------------------------------------------------------------

Rcu::Rcu(Machine& m, RcuFlavor flavor)
    : m_(m),
      flavor_(flavor),
      gp_hist_(&m.histogram("rcu.gp")),
      needs_qs_(static_cast<std::size_t>(m.ncpus()), 0),
      waiting_(static_cast<std::size_t>(m.ncpus())),
      ready_(static_cast<std::size_t>(m.ncpus())) {}

void Rcu::read_lock() {
  Task* t = m_.current();
  if (flavor_ == RcuFlavor::Sched) m_.preempt_disable();
  ++t->rcu_nesting;
}

void Rcu::read_unlock() {
  Task* t = m_.current();
  if (t->rcu_nesting <= 0) {
    m_.report_bug("rcu", "rcu_read_unlock() without rcu_read_lock() in " + t->name, false);
    return;
  }
  --t->rcu_nesting;
  if (flavor_ == RcuFlavor::Sched) {
    m_.preempt_enable();
  } else if (t->rcu_nesting == 0 && t->rcu_blocker) {
    m_.sync_point();  // the grace-period state is shared: update it in turn
    t->rcu_blocker = false;
    m_.observe(gp_start_);  // it leaves a read section the grace period started waiting for
    --blockers_;
    maybe_end_gp();
  }
}

bool Rcu::read_lock_held() const { return m_.current()->rcu_nesting > 0; }

void Rcu::call_rcu(RcuHead* head, void (*func)(RcuHead*)) {
  m_.sync_point();
  head->func = func;
  if (head->object != RcuHead::kNoObject && !m_.objects().live(head->object)) {
    m_.report_bug("rcu-callback-freed",
                  "call_rcu() for " + m_.objects().kind(head->object) + " #" + std::to_string(head->object) +
                      ", which is already freed",
                  true);
    return;
  }
  const std::uint64_t target = gp_active_ ? completed_ + 2 : completed_ + 1;
  waiting_[static_cast<std::size_t>(m_.cpu_id())].push_back(Pending{head, target});
  maybe_start_gp();
}

namespace {
struct SyncWaiter {
  RcuHead head;
  Task* task = nullptr;
  bool done = false;
};
void sync_done(RcuHead* h) {
  auto* w = static_cast<SyncWaiter*>(h->data);
  w->done = true;
  this_machine()->wake(w->task);
}
}  // namespace

void Rcu::synchronize() {
  m_.might_sleep();
  SyncWaiter w;
  w.task = m_.current();
  w.head.data = &w;
  call_rcu(&w.head, sync_done);
  for (;;) {
    m_.set_current_blocked();
    if (w.done) break;
    m_.schedule();
  }
  m_.set_current_running();
}

void Rcu::maybe_start_gp() {
  if (gp_active_) return;
  bool any = false;
  for (const auto& w : waiting_) any = any || !w.empty();
  if (!any) return;
  gp_active_ = true;
  gp_start_ = m_.now();
  m_.trace_event(TraceKind::RcuGpStart, completed_ + 1, 0);
  cpus_pending_ = 0;
  for (CpuId c = 0; c < m_.ncpus(); ++c) {
    // Idle CPUs are in an extended quiescent state (NOHZ idle).
    const bool idle = m_.cpu(c).state == CpuState::Idle || m_.cpu(c).curr->is_idle;
    needs_qs_[static_cast<std::size_t>(c)] = idle ? 0 : 1;
    if (!idle) ++cpus_pending_;
  }
  blockers_ = 0;
  if (flavor_ == RcuFlavor::Preempt) {
    m_.for_each_task([this](Task& t) {
      t.rcu_blocker = t.rcu_nesting > 0;
      if (t.rcu_blocker) ++blockers_;
    });
  }
  maybe_end_gp();
}

void Rcu::report_qs(CpuId cpu) {
  auto& n = needs_qs_[static_cast<std::size_t>(cpu)];
  if (!gp_active_ || !n) return;
  // The quiescent state counts for a grace period this CPU learns has started: it is
  // passed no earlier than the start.
  m_.observe(gp_start_);
  n = 0;
  --cpus_pending_;
  maybe_end_gp();
}

void Rcu::maybe_end_gp() {
  if (gp_active_ && cpus_pending_ == 0 && blockers_ == 0) end_gp();
}

void Rcu::end_gp() {
  gp_active_ = false;
  ++completed_;
  m_.note_progress();
  m_.record_since(*gp_hist_, gp_start_);
  m_.trace_event(TraceKind::RcuGpEnd, completed_, m_.now() - gp_start_);
  for (CpuId c = 0; c < m_.ncpus(); ++c) {
    auto& w = waiting_[static_cast<std::size_t>(c)];
    auto& r = ready_[static_cast<std::size_t>(c)];
    const bool had = !r.empty();
    while (!w.empty() && w.front().target <= completed_) {
      r.push_back(w.front().head);
      w.pop_front();
    }
    if (!had && !r.empty()) m_.raise_softirq(c, rcu_softirq, nullptr);
  }
  maybe_start_gp();
}

void Rcu::run_callbacks() {
  auto& r = ready_[static_cast<std::size_t>(m_.cpu_id())];
  while (!r.empty()) {
    RcuHead* h = r.front();
    r.pop_front();
    if (h->object != RcuHead::kNoObject && !m_.objects().live(h->object)) {
      m_.report_bug("rcu-callback-freed",
                    "RCU callback for " + m_.objects().kind(h->object) + " #" + std::to_string(h->object) +
                        ", which was freed before its grace period ended",
                    true);
      return;
    }
    h->func(h);
  }
}

void Rcu::on_schedule(const Cpu& c) { report_qs(c.id); }

void Rcu::on_idle(const Cpu& c) { report_qs(c.id); }

void Rcu::on_user_return(const Cpu& c) { report_qs(c.id); }

void Rcu::on_tick(const Cpu& c) {
  if (!gp_active_ || !needs_qs_[static_cast<std::size_t>(c.id)]) return;
  if (c.curr->is_idle || (flavor_ == RcuFlavor::Preempt && c.curr->rcu_nesting == 0)) {
    report_qs(c.id);
    return;
  }
  // A holdout: ask it to reschedule, which is a quiescent state (force_quiescent_state).
  if (m_.now() >= gp_start_ + kForceQsTicks * m_.tick_cycles()) m_.set_need_resched();
}

}  // namespace smpemu
