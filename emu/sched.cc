// Scheduling of tasks on a CPU: schedule(), wakeups, blocking, the preemption points of
// the three preemption models, the idle loop, and the end-of-run deadlock check.
//
// Tasks are pinned to their CPU; each CPU has a FIFO run queue. Preemption points
// (docs/KERNEL.md, "Preemption models"):
//   none      - blocking, explicit cond_resched(), return to user;
//   voluntary - also every might_sleep() site;
//   full      - also preempt_enable() dropping the count to 0 and every interrupt return
//               to preemptible code (the sync point after an interrupt was handled).
#include <fmt/format.h>

#include <algorithm>

#include "emu/machine.h"
#include "emu/mutex.h"

namespace smpemu {

void Machine::schedule() { schedule_internal(false); }

void Machine::schedule_internal(bool preempted, bool timer_sleep) {
  if (tearing_down_) return;
  Cpu* c = cur_;
  Task* t = c->curr;
  if (!switch_hooks_.out_needed || t->is_idle || c->in_irq) {
    schedule_pick(preempted, timer_sleep);
    return;
  }
  if (switch_hooks_.out_needed(switch_hooks_.arg)) {
    // __switch_to runs with preemption and IRQs off.
    const bool irqs = c->irqs_off;
    c->irqs_off = true;
    update_next_irq(*c);
    ++t->preempt_count;
    switch_hooks_.out(switch_hooks_.arg, &t->local_flags);
    --t->preempt_count;
    c->irqs_off = irqs;
    update_next_irq(*c);
  }
  schedule_pick(preempted, timer_sleep);
  switch_hooks_.in(switch_hooks_.arg, &t->local_flags);  // back on its (pinned) CPU
}

void Machine::schedule_pick(bool preempted, bool timer_sleep) {
  Cpu* c = cur_;
  Task* prev = c->curr;
  const bool sleeping = !preempted && prev->state == TaskState::Blocked;
  if (c->in_irq || (sleeping && prev->is_idle)) {
    report_bug("sleep-in-atomic",
               std::string(sleeping ? "sleeping" : "scheduling") + " in interrupt context on cpu " +
                   std::to_string(c->id) + " (task " + prev->name + ")",
               true);
    return;
  }
  if (sleeping && prev->rcu_nesting > 0)
    report_atomic_sleep("task " + prev->name + " blocks inside an RCU read-side critical section",
                        "BUG: sleeping function called from invalid context (RCU read-side critical section)",
                        stack_path());
  if (prev->preempt_count != 0 || c->irqs_off)
    report_atomic_sleep(std::string(sleeping ? "task " : "yield by ") + prev->name + " with preempt_count=" +
                            std::to_string(prev->preempt_count) + (c->irqs_off ? " and IRQs off" : ""),
                        fmt::format("BUG: scheduling while atomic: {}/{:#010x}", task_label(*prev),
                                    prev->preempt_count),
                        stack_path());
  wait_turn(c);  // the run queue is shared with remote wakers: look at it in turn
  rcu_->on_schedule(*c);
  if (sleeping && prev->state == TaskState::Runnable) return;  // woken since it set its state
  c->need_resched = false;
  const bool stays = preempted || prev->state == TaskState::Runnable;
  Task* next;
  if (stays && prev->rt && !prev->is_idle && (c->rq.empty() || !c->rq.front()->rt)) {
    return;  // a real-time task keeps its CPU until it blocks
  } else if (!c->rq.empty()) {
    next = c->rq.front();
    c->rq.pop_front();
    next->on_rq = false;
    if (stays && !prev->is_idle) {
      rq_insert(c->rq, prev);
      prev->on_rq = true;
    }
  } else if (stays) {
    return;  // nothing else wants the CPU
  } else {
    next = c->idle;
  }
  // What the kernel's sched_switch says of prev (trace only): R+ if preempted, else R
  // while runnable, S for a timer sleep, D for every other (uninterruptible) wait.
  const SwitchState why = preempted                              ? SwitchState::Preempted
                          : prev->state == TaskState::Runnable ? SwitchState::Runnable
                          : timer_sleep                        ? SwitchState::Sleeping
                                                               : SwitchState::Uninterruptible;
  context_switch(c, prev, next, why);
}

void Machine::context_switch(Cpu* c, Task* prev, Task* next, SwitchState why) {
  switch_bookkeeping(c, prev, next, SwitchFrom::Schedule, why);
  switch_fiber(next);
  // Back in `prev`, on its own CPU (tasks are pinned), with the turn.
}

void Machine::switch_bookkeeping(Cpu* c, Task* prev, Task* next, SwitchFrom from, SwitchState why) {
  c->clock += costs_.ctx_switch;
  ++c->ctx_switches;
  note_progress();
  account_switch_in(c, next);
  // The two paths fold the switch into the digest at different points; each keeps its
  // own, so the Sync event of a detail trace keeps its place and its stamp (the digest
  // would be the same either way: nothing in between moves the clock or notes).
  if (from == SwitchFrom::Schedule) note(Ev::CtxSwitch, prev->id, next->id);
  trace_event(TraceKind::CtxSwitch, prev->id, ctx_switch_payload(next->id, why));  // stamped in `prev`, as the kernel does
  c->curr = next;
  // Optimistic spinners watch their mutex owner's on_cpu: the switch stores next->on_cpu
  // = 1 and prev->on_cpu = 0 (the kernel's prepare_task_switch / finish_task_switch), so
  // a spinner that reads them is ordered after this switch; then tell prev's spinners to
  // look again (an exiting owner too: it never releases what it still holds).
  if (params_.mutex_spin) {
    for (const Task* t : {next, prev})
      if (t->on_cpu_line != kNoLine) c->clock = coherence_.access(t->on_cpu_line, c->id, Access::Store, c->clock);
    for (const HeldLock& h : prev->held_locks)
      if (const Mutex* const* mu = std::get_if<const Mutex*>(&h.lock)) (*mu)->owner_off_cpu();
  }
  // As in the kernel (finish_task_switch), the next task runs with IRQs on; IRQ state
  // belongs to the CPU and must not leak from a task that slept with IRQs off.
  c->irqs_off = false;
  update_next_irq(*c);
  if (from == SwitchFrom::Exit) note(Ev::CtxSwitch, prev->id, next->id);
}

void Machine::account_switch_in(Cpu* c, Task* next) {
  if (!next->woken) return;
  // The waker ran ahead of this CPU (random, pct): the task is queued, but its wakeup
  // has not arrived yet in this CPU's time. The CPU idles until it does.
  if (c->clock < next->wake_time) {
    c->idle_cycles += next->wake_time - c->clock;
    c->clock = next->wake_time;
  }
  record_since(*sched_latency_, next->wake_time);
  next->woken = false;
}

void Machine::enqueue_task(Task* t, Cycles at, const Cpu* waker) {
  Cpu& d = cpus_[static_cast<std::size_t>(t->cpu)];
  t->state = TaskState::Runnable;
  if (d.curr == t) return;  // it had not switched away yet: it simply keeps running
  if (t->on_rq) return;     // preempted before it could sleep: already queued
  t->wake_time = at;
  t->woken = true;
  if (trace_) {
    // The kernel's sched_waking: in the waker's context, or in the hrtimer interrupt on
    // the sleeper's CPU for a timer wakeup.
    if (waker)
      trace_add(waker->clock, waker->id, TraceKind::Wakeup, t->id, static_cast<std::uint64_t>(t->cpu));
    else
      trace_add(at, t->cpu, TraceKind::Wakeup, t->id, static_cast<std::uint64_t>(t->cpu));
  }
  rq_insert(d.rq, t);
  t->on_rq = true;
  if (d.state == CpuState::Idle) {
    make_ready(d, at);
  } else if (params_.wakeup_preempt && !d.curr->is_idle) {
    // Local only if that CPU is executing: events are also handled from a spinning
    // CPU's dispatch loop, whose cur_/running_ still name it.
    if (&d == cur_ && running_ == d.curr && d.state == CpuState::Running)
      d.need_resched = true;
    else
      post_ipi(d, at, nullptr, nullptr);  // reschedule IPI
  } else if (d.state == CpuState::Spinning && !d.irqs_off && tick_interrupts_spin(&d)) {
    arm_irq_wake(d, std::max(at, d.next_tick));  // no IPI: the next tick ends the spin
  }
}

void Machine::idle_loop(Cpu* c) {
  for (;;) {
    sync_point();  // take the turn and handle interrupts that are due
    if (!c->rq.empty()) {
      schedule();
      continue;
    }
    rcu_->on_idle(*c);
    c->state = CpuState::Idle;
    if (!c->ipis.empty()) arm_irq_wake(*c, std::max(c->clock, c->ipis.front().arrival));
    dispatch(nullptr);
  }
}

bool Machine::preempt_after_irq(Cpu* c) {
  const Task* t = c->curr;
  if (params_.preempt != PreemptModel::Full || !c->need_resched || t->is_idle || t->preempt_count != 0 ||
      c->irqs_off)
    return false;
  preempt_schedule();
  return true;
}

void Machine::preempt_enable() {
  Task* t = cur_->curr;
  if (t->preempt_count <= 0) {
    report_bug("preempt-count", "preempt_enable() without a matching preempt_disable() in " + t->name, true);
    return;
  }
  if (--t->preempt_count != 0) return;
  record_since(*preemptoff_, t->preempt_off_since);
  trace_event(TraceKind::PreemptOff, t->preempt_off_since, 0);
  if (params_.preempt == PreemptModel::Full && cur_->need_resched && !cur_->irqs_off) preempt_schedule();
}

void Machine::cond_resched() {
  sync_point();
  if (cur_->need_resched && cur_->curr->preempt_count == 0 && !cur_->irqs_off) preempt_schedule();
}

void Machine::might_sleep(Where loc) {
  Cpu* c = cur_;
  Task* t = c->curr;
  if (t->preempt_count != 0 || c->irqs_off || c->in_irq) {
    const CallPath where = path(loc);
    report_atomic_sleep("might_sleep() in " + t->name + " with preempt_count=" + std::to_string(t->preempt_count) +
                            (c->irqs_off ? ", IRQs off" : "") + (c->in_irq ? ", in interrupt" : ""),
                        "BUG: sleeping function called from invalid context at " + where.site_str(), where);
    return;
  }
  if (params_.preempt != PreemptModel::None) cond_resched();
}

void Machine::report_atomic_sleep(std::string message, const std::string& headline, const CallPath& where) {
  const Cpu& c = *cur_;
  const Task& t = *c.curr;
  BugReport b;
  b.check = "sleep-in-atomic";
  b.message = std::move(message);
  b.key = where.empty() ? "" : where.site_str();
  b.details = "\n" + splat_rule('=') + headline + "\n" +
              fmt::format("in_atomic(): {}, irqs_disabled(): {}, pid: {}, name: {}\n", t.preempt_count != 0 ? 1 : 0,
                          c.irqs_off ? 1 : 0, t.id, t.name) +
              fmt::format("preempt_count: {}, expected: 0\nRCU nest depth: {}, expected: 0\n", t.preempt_count,
                          t.rcu_nesting) +
              held_locks_text(t) + "Call path:\n " + where.str() + "\n";
  report(std::move(b));
}

CallPath Machine::stack_path() const { return running_ ? innermost_path(running_->calls) : CallPath{}; }

void Machine::check_wait_cycle(Task* owner, const std::string& what) {
  Task* me = cur_->curr;
  std::string chain = me->name + " waits for " + what;
  int guard = 0;
  std::vector<const Task*> cycle{me};
  for (Task* x = owner; x && guard < 1 + static_cast<int>(tasks_.size()); ++guard) {
    chain += " held by " + x->name;
    if (x == me) {
      report_deadlock("wait-for cycle: " + chain, "the tasks wait for each other's locks (a wait-for cycle)", cycle);
      return;
    }
    cycle.push_back(x);
    if (!x->blocked_lock || (x->state != TaskState::Blocked && !x->spinning_on_owner)) return;
    chain += ", which waits for " + (x->waiting_for ? *x->waiting_for : std::string("a lock"));
    x = x->blocked_owner(x->blocked_lock);
  }
}

void Machine::user_return() {
  sync_point();
  rcu_->on_user_return(*cur_);
  if (cur_->need_resched && cur_->curr->preempt_count == 0 && !cur_->irqs_off) schedule();
}

void Machine::yield() { schedule(); }

void Machine::set_current_blocked(bool killable) {
  barrier();  // set_current_state() implies a full barrier
  mark_current_blocked(killable);
}

void Machine::block() {
  set_current_blocked();
  schedule();
}

bool Machine::wake(Task* t) {
  sync_point();
  if (t->state != TaskState::Blocked) return false;
  wake_at_turn(t);
  // try_to_wake_up() ends in preempt_enable(): a full-preemption point for the waker.
  Cpu* c = cur_;
  if (params_.preempt == PreemptModel::Full && c->need_resched && !c->in_irq && !c->irqs_off &&
      c->curr->preempt_count == 0 && !c->curr->is_idle)
    preempt_schedule();
  return true;
}

void Machine::wake_at_turn(Task* t) {
  Cpu* c = cur_;
  Cycles at = c->clock;
  if (t->cpu != c->id) {
    c->clock += costs_.ipi_send;
    at = c->clock + costs_.ipi_latency + coherence_.transfer_cost(c->id, t->cpu);
  }
  note(Ev::Wakeup, t->id, at);
  enqueue_task(t, at, c);
}

// ---- joins, exits and thread groups ------------------------------------------------
//
// Design notes. A join is a sleep on another task's exit, drawn in the wait-for graph
// like a sleeping lock: the joiner's blocked_lock is the target and join_target() its
// "owner", so a cycle of joins (or of joins and mutexes) is found by
// check_wait_cycle() when its last edge is added, and a join on a task that never
// exits ends, like any stuck sleep, in the end-of-run deadlock check. The exit wakes
// its joiners from fiber_exit() at the exiting CPU's turn. A kill is a flag plus a
// wakeup: exit_group() never unwinds another task's stack itself, it only marks the
// task and wakes it if it sleeps killably; the task unwinds itself (TaskExit) at a kill
// point, where no engine structure points into its stack.

int Machine::join(Task* t) {
  might_sleep();
  sync_point();
  Task* me = cur_->curr;
  if (t->state != TaskState::Dead) {
    if (t->exit_label.empty()) t->exit_label = "exit of " + t->name;
    me->joining = t;
    me->waiting_for = &t->exit_label;
    me->blocked_lock = t;
    me->blocked_owner = &Machine::join_target;
    t->joiners.push_back(me);
    for (;;) {
      set_current_blocked(true);
      if (t->state == TaskState::Dead || me->kill_pending) break;
      check_wait_cycle(t, t->exit_label);
      schedule();
      if (t->state == TaskState::Dead || me->kill_pending) break;
    }
    set_current_running();
    me->joining = nullptr;
    me->waiting_for = nullptr;
    me->blocked_lock = nullptr;
    me->blocked_owner = nullptr;
    if (t->state != TaskState::Dead) std::erase(t->joiners, me);
    kill_point();
  }
  observe(t->exit_time);
  return t->exit_code;
}

bool Machine::task_dead(const Task* t) {
  sync_point();
  if (t->state != TaskState::Dead) return false;
  observe(t->exit_time);
  return true;
}

void Machine::exit_current(int code) {
  cur_->curr->exit_code = code;
  throw TaskExit{};
}

void Machine::exit_group(int code) {
  sync_point();
  Task* me = cur_->curr;
  note(Ev::Workload, 0x67657869, me->tgid);  // "gexi": the group exit, in the digest
  for (auto& p : tasks_) {
    Task* t = p.get();
    if (t == me || t->is_idle || t->tgid != me->tgid || t->state == TaskState::Dead || t->kill_pending) continue;
    t->kill_pending = true;
    t->exit_code = code;
    if (t->state == TaskState::Blocked && t->killable) wake_at_turn(t);
  }
  exit_current(code);
}

void Machine::kill_now() {
  if (tearing_down_ || cur_->in_irq) return;
  throw TaskExit{};
}

void Machine::sleep_until(Cycles t) {
  if (tearing_down_) return;
  sync_point();
  if (t <= cur_->clock) return;
  Task* me = cur_->curr;
  mark_current_blocked(true);  // a kill cuts the sleep short (the caller's kill point)
  push_event(t, kPrioTimer, EventKind::WakeTask, me->cpu, me, me->sleep_gen);
  schedule_internal(false, true);
  ++me->sleep_gen;  // a timer still pending (the sleep was cut short) must not fire later
}

void Machine::check_deadlock() {
  if (live_tasks_ == 0) return;
  // Nothing is ready and no event is pending, yet tasks live: each is blocked, spinning
  // on a line nobody will write, or queued behind one that is.
  // The report names a task (a spinning one first: a spin deadlock has no wait-for
  // cycle report of its own) and, for each task listed, the lock it waits or spins for.
  std::string who;
  const Task* named = nullptr;
  bool named_spins = false;
  int n = 0;
  for (const auto& t : tasks_) {
    if (t->is_idle || t->state == TaskState::Dead) continue;
    const Cpu& c = cpus_[static_cast<std::size_t>(t->cpu)];
    const bool spinning = c.curr == t.get() && c.state == CpuState::Spinning;
    const char* what = t->state == TaskState::Blocked ? "blocked" : spinning ? "spinning" : "runnable";
    if (!named || (spinning && !named_spins)) {
      named = t.get();
      named_spins = spinning;
    }
    if (n++ < 8)
      who += " " + t->name + "[cpu" + std::to_string(t->cpu) + "," + what +
             (t->waiting_for ? " on " + *t->waiting_for : std::string()) + "]";
  }
  if (n > 8) who += " ...";
  end_ = EndReason::Deadlock;
  std::vector<const Task*> stuck;
  for (const auto& t : tasks_)
    if (!t->is_idle && t->state != TaskState::Dead) stuck.push_back(t.get());
  BugReport b = deadlock_report(std::to_string(n) + " task(s) can never run again:" + who,
                                "nothing can run: every live task is blocked or spins forever", stuck);
  for (const Cpu& c : cpus_)
    if (c.clock >= b.cycle) {
      b.cycle = c.clock;
      b.cpu = c.id;
    }
  if (named) {
    b.task = named->name;
    b.cpu = named->cpu;
  }
  b.fatal = true;
  const std::string recent = recent_events_text(*this, stuck);
  if (!recent.empty()) b.details += "\n" + recent;
  b.details += splat_rule('=');
  bugs_.push_back(std::move(b));
}

BugReport Machine::deadlock_report(std::string message, const std::string& why,
                                   const std::vector<const Task*>& tasks) const {
  BugReport b;
  b.check = "deadlock";
  b.message = std::move(message);
  b.fatal = true;
  std::vector<std::string> classes;
  std::string& d = b.details;
  d += "\n" + splat_rule('=') + "INFO: possible deadlock: " + why + "\n" + splat_rule('-');
  for (const Task* t : tasks) {
    const Cpu& c = cpus_[static_cast<std::size_t>(t->cpu)];
    const bool spinning = c.curr == t && c.state == CpuState::Spinning;
    d += fmt::format("task {} on CPU {} {}", task_label(*t), t->cpu,
                     t->state == TaskState::Blocked ? "is blocked" : spinning ? "spins" : "is runnable");
    if (t->waiting_for) {
      d += " waiting for " + *t->waiting_for;
      classes.push_back(instance_class(*t->waiting_for));
    }
    if (t->calls.depth > 0) d += ", in " + innermost_path(t->calls).functions();
    d += "\n";
  }
  d += "\nShowing all locks held in the system:\n";
  for (const Task* t : tasks) {
    if (t->held_locks.empty()) continue;
    d += held_locks_text(*t);
    for (const HeldLock& h : t->held_locks) classes.push_back(instance_class(h.instance));
  }
  b.key = class_key(std::move(classes));
  return b;
}

void Machine::report_deadlock(std::string message, const std::string& why, const std::vector<const Task*>& tasks) {
  report(deadlock_report(std::move(message), why, tasks), tasks);
}

}  // namespace smpemu
