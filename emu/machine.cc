// Machine core: construction, turn-taking, fiber switching, shared accesses, spin
// waits and interrupts. Scheduling of tasks on a CPU is in sched.cc.
#include "emu/machine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "emu/errors.h"
#include "emu/limits.h"
#include "emu/log.h"

namespace smpemu {

const char* end_reason_name(EndReason r) {
  switch (r) {
    case EndReason::Completed: return "completed";
    case EndReason::TimeLimit: return "time_limit";
    case EndReason::Deadlock: return "deadlock";
    case EndReason::FatalBug: return "fatal_bug";
    case EndReason::Stopped: return "stopped";
    case EndReason::Livelock: return "livelock";
    case EndReason::HostLimit: return "host_limit";
  }
  return "?";
}

namespace {

[[noreturn]] void panic(const char* what, Cycles cycle, CpuId cpu) {
  std::fprintf(stderr, "smpemu: panic: %s (cycle %llu, cpu %d)\n", what,
               static_cast<unsigned long long>(cycle), cpu);
  std::abort();
}

bool event_after(const auto& a, const auto& b) {  // heap order: min (time, prio, seq) on top
  if (a.time != b.time) return a.time > b.time;
  if (a.prio != b.prio) return a.prio > b.prio;
  return a.seq > b.seq;
}

}  // namespace

namespace detail {
constinit thread_local Machine* t_this_machine = nullptr;

void no_running_machine(const char* call, const char* instead) {
  std::string msg = std::string(call) + " needs a running machine (a task of Machine::run())";
  if (instead) msg += std::string("; before the run, in setup(), use ") + instead;
  throw ConfigError(msg);
}
}  // namespace detail

std::size_t Machine::new_extension_slot() {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Machine::Machine(const MachineParams& params, Topology topo, const CostTable& costs, StackPool* pool)
    : params_(params),
      topo_(std::move(topo)),
      costs_(costs),
      jitter_rng_(params.seed, "jitter"),
      coherence_(topo_, costs_, &jitter_rng_, params.jitter_pct),
      strategy_(make_strategy(params.strategy, params.cpus, params.seed)),
      time_(dynamic_cast<TimeStrategy*>(strategy_.get())),
      own_pool_(pool ? nullptr : std::make_unique<StackPool>(params.stack_size)),
      pool_(pool ? pool : own_pool_.get()),
      fibers_(pool_),
      tick_interval_(std::max<Cycles>(1, costs.clock_hz / std::max<std::uint32_t>(1, params.hz))),
      stop_at_(params.max_cycles ? params.max_cycles + 1 : kNever),
      lockdep_(*this, params.lockdep),
      objects_(*this) {
  if (params.coverage) coverage_ = std::make_unique<InterleavingCoverage>();
  access_slow_ = time_ == nullptr || coverage_;
  if (params.cpus < 1 || params.cpus > kMaxCpus || params.cpus != topo_.ncpus())
    throw std::invalid_argument("machine needs 1.." + std::to_string(kMaxCpus) +
                                " CPUs matching its topology");
  livelock_cycles_ = params.livelock_ms == 0
                        ? 0
                        : static_cast<Cycles>(static_cast<double>(costs.clock_hz) * params.livelock_ms / 1000.0);
  main_task_.name = "host";
  main_task_.id = 0;
  sched_latency_ = &histograms_["sched.latency"];
  preemptoff_ = &histograms_["preemptoff"];
  irqsoff_ = &histograms_["irqsoff"];
  cpus_.resize(static_cast<std::size_t>(params.cpus));
  for (CpuId i = 0; i < params.cpus; ++i) {
    Cpu& c = cpus_[static_cast<std::size_t>(i)];
    c.id = i;
    c.next_tick = tick_interval_;
    update_next_irq(c);
    auto idle = std::make_unique<Task>();
    idle->name = "swapper/" + std::to_string(i);
    idle->id = next_task_id_++;
    idle->cpu = i;
    idle->is_idle = true;
    Task* t = idle.get();
    idle->fn = [this, i] { idle_loop(&cpus_[static_cast<std::size_t>(i)]); };
    tasks_.push_back(std::move(idle));
    c.idle = t;
    c.curr = t;
  }
  rcu_ = std::make_unique<Rcu>(*this, params.rcu);
  // Fibers are created after every Task exists (tasks_ may reallocate before that).
  for (auto& t : tasks_) make_fiber(t.get());
}

Machine::~Machine() {
  // Unwind every suspended fiber inside itself: resume it with tearing_down_ set, so the
  // switch it is suspended in throws TaskKilled, caught at the fiber's base.
  tearing_down_ = true;
  access_slow_ = true;
  stop_at_ = 0;  // every wait_turn() now returns at once
  for (Cpu& c : cpus_) c.irq_gate = kNever;
  running_ = &main_task_;
  for (auto& t : tasks_)
    if (t->fiber.suspended()) switch_fiber(t.get());
}

Task* Machine::spawn(std::string name, CpuId cpu, std::function<void()> fn) {
  return spawn_task(std::move(name), cpu, std::move(fn), next_task_id_);  // leads a new group
}

Task* Machine::spawn_thread(Task* leader, std::string name, CpuId cpu, std::function<void()> fn) {
  if (!leader || leader->is_idle || leader == &main_task_)
    throw std::invalid_argument("spawn_thread needs a task of this machine as the group leader");
  return spawn_task(std::move(name), cpu, std::move(fn), leader->tgid);
}

Task* Machine::spawn_task(std::string name, CpuId cpu, std::function<void()> fn, std::uint32_t tgid) {
  if (cpu < 0 || cpu >= ncpus()) throw std::invalid_argument("spawn on a CPU that does not exist");
  if (tasks_.size() >= limits::kTasks)
    throw ConfigError("too many tasks: a machine holds at most " + std::to_string(limits::kTasks) +
                      " (idle tasks included)");
  auto t = std::make_unique<Task>();
  Task* task = t.get();
  task->id = next_task_id_++;
  task->tgid = tgid;
  task->name = std::move(name);
  task->cpu = cpu;
  task->fn = std::move(fn);
  task->state = TaskState::Blocked;
  if (params_.mutex_spin) task->on_cpu_line = new_line();
  make_fiber(task);
  tasks_.push_back(std::move(t));
  ++live_tasks_;
  if (trace_) trace_->set_task_name(task->id, task->name);
  if (running_run_ && running_ != &main_task_) {
    sync_point();
    enqueue_task(task, cur_->clock, cur_);  // wake_up_new_task(), in the parent
  } else {
    task->state = TaskState::Runnable;
    task->on_rq = true;
    cpus_[static_cast<std::size_t>(cpu)].rq.push_back(task);
  }
  return task;
}

Task* Machine::spawn_rt(std::string name, CpuId cpu, std::function<void()> fn) {
  if (cpu < 0 || cpu >= ncpus()) throw std::invalid_argument("spawn on a CPU that does not exist");
  if (running_run_) throw std::logic_error("spawn_rt is for setup, before run()");
  Task* t = spawn(std::move(name), cpu, std::move(fn));
  t->rt = true;
  if (trace_) trace_->set_task_rt(t->id, true);
  std::deque<Task*>& rq = cpus_[static_cast<std::size_t>(cpu)].rq;
  rq.pop_back();
  rq_insert(rq, t);
  return t;
}

void Machine::rq_insert(std::deque<Task*>& rq, Task* t) {
  if (!t->rt) {
    rq.push_back(t);
    return;
  }
  // FIFO among real-time tasks, all of them ahead of normal ones.
  auto it = std::find_if(rq.begin(), rq.end(), [](const Task* q) { return !q->rt; });
  rq.insert(it, t);
}

RunStats Machine::run() {
  if (running_run_) throw std::logic_error("Machine::run called twice");
  running_run_ = true;
  const auto t0 = std::chrono::steady_clock::now();
  running_ = &main_task_;
  if (params_.history && !trace_) {  // the recent events of bug reports
    own_trace_ = std::make_unique<Trace>(MachineParams::kHistoryEvents);
    set_trace(own_trace_.get());
  }
  for (Cpu& c : cpus_) strategy_->add(c.id, c.clock);
  cur_ = &cpus_[0];
  outer_machine_ = detail::t_this_machine;
  detail::t_this_machine = this;
  dispatch(nullptr);  // returns when the run is over
  detail::t_this_machine = outer_machine_;
  const auto t1 = std::chrono::steady_clock::now();
  SPDLOG_LOGGER_DEBUG(logger("emu"), "run ended ({}) after {} events, {} fiber switches, {} bugs",
                      end_reason_name(end_), events_, switches_, bugs_.size());
  RunStats s;
  s.end = end_;
  for (const Cpu& c : cpus_) s.cycles = std::max(s.cycles, c.clock);
  s.events = events_;
  s.steps = steps_;
  s.digest = digest_.value();
  s.switches = switches_;
  s.host_seconds = std::chrono::duration<double>(t1 - t0).count();
  return s;
}

// ---- turn-taking ----------------------------------------------------------------

void Machine::set_trace(Trace* t) {
  trace_ = t;
  update_note_slow();
  if (!t) return;
  t->ncpus = ncpus();
  t->clock_hz = static_cast<double>(costs_.clock_hz);
  for (const auto& task : tasks_) {
    t->set_task_name(task->id, task->name);
    t->set_task_rt(task->id, task->rt);
  }
}

void Machine::set_stop_condition(const StopCondition& c) {
  if (running_run_) panic("set_stop_condition() after run()", cur_ ? cur_->clock : 0, cur_ ? cur_->id : kNoCpu);
  stop_cond_ = c;
  stop_event_ = c.kind == StopCondition::Kind::Event ? c.count : ~0ULL;
  update_note_slow();
  if (c.kind == StopCondition::Kind::Trace && !trace_) {
    own_trace_ = std::make_unique<Trace>(256);
    set_trace(own_trace_.get());
  }
}

void Machine::set_event_observer(EventObserver f) {
  if (running_run_) panic("set_event_observer() after run()", cur_ ? cur_->clock : 0, cur_ ? cur_->id : kNoCpu);
  observer_ = std::move(f);
  update_note_slow();
}

void Machine::note_slow(Ev kind, std::uint64_t a) {
  if (observer_) observer_(kind, cur_->id, a);
  if (events_ == stop_event_) request_stop();
  if (trace_ && trace_->detail())
    trace_add(cur_->clock, cur_->id, TraceKind::Sync, static_cast<std::uint64_t>(kind), a);
}

void Machine::request_stop() {
  if (stop_requested_ || tearing_down_) return;
  stop_requested_ = true;
  stop_at_ = 0;  // every CPU parks at its next wait_turn(); none is resumed
}

void Machine::trace_add(Cycles time, CpuId cpu, TraceKind k, std::uint64_t a, std::uint64_t b) {
  const Cpu& c = cpus_[static_cast<std::size_t>(cpu)];
  const Task* t = c.curr;
  std::uint8_t flags = 0;
  if (t) flags = static_cast<std::uint8_t>(std::min(t->preempt_count, 15) & trace_flags::kPreemptMask);
  if (c.irqs_off) flags |= trace_flags::kIrqsOff;
  if (c.need_resched) flags |= trace_flags::kNeedResched;
  if (c.in_irq) flags |= trace_flags::kHardIrq;
  trace_->add(TraceEvent{time, a, b, t ? t->id : 0, static_cast<std::int16_t>(cpu), k, flags});
  if (stop_cond_.kind == StopCondition::Kind::Trace && k == stop_cond_.trace_kind && ++stop_seen_ == stop_cond_.count)
    request_stop();
}

void Machine::trace_mark(const char* name, std::uint64_t value) {
  note(Ev::Workload, 0x6d61726b, value);  // "mark"
  note_progress();
  if (trace_) [[unlikely]]
    trace_add(cur_->clock, cur_->id, TraceKind::Mark, trace_->intern(name), value);
}

void Machine::set_switch_hooks(const SwitchHooks& hooks) {
  const bool out = hooks.out_needed != nullptr;
  if (out != (hooks.out != nullptr) || out != (hooks.in != nullptr))
    panic("set_switch_hooks() needs all three hooks or none", cur_ ? cur_->clock : 0, cur_ ? cur_->id : kNoCpu);
  switch_hooks_ = hooks;
}

void Machine::set_strategy(std::unique_ptr<Strategy> s) {
  if (running_run_) panic("set_strategy() after run()", cur_ ? cur_->clock : 0, cur_ ? cur_->id : kNoCpu);
  strategy_ = std::move(s);
  time_ = dynamic_cast<TimeStrategy*>(strategy_.get());
  access_slow_ = time_ == nullptr || coverage_;
}

void Machine::dispatch(Cpu* cur) {
  if (tearing_down_) return;
  if (host_deadline_set_ && ++host_check_ >= 4096) {
    host_check_ = 0;
    if (std::chrono::steady_clock::now() >= host_deadline_ && !host_limited_) {
      host_limited_ = true;
      request_stop();
    }
  }
  resume_cpu(choose(cur));
}

void Machine::set_host_deadline(std::chrono::steady_clock::time_point deadline) {
  if (running_run_) panic("set_host_deadline() after run()", cur_ ? cur_->clock : 0, cur_ ? cur_->id : kNoCpu);
  host_deadline_ = deadline;
  host_deadline_set_ = true;
}

void Machine::watchdog(Cpu* c) {
  if (host_deadline_set_ && !host_limited_ && std::chrono::steady_clock::now() >= host_deadline_) {
    host_limited_ = true;
    request_stop();
    return;
  }
  if (livelock_cycles_ == 0 || c->curr->is_idle) return;
  if (c->progress_seen != progress_) {
    c->progress_seen = progress_;
    c->progress_seen_at = c->clock;
    return;
  }
  if (c->clock - c->progress_seen_at <= livelock_cycles_) return;
  // Like the kernel's soft-lockup and RCU-stall reports: who is running, for how long.
  std::string who;
  int n = 0;
  for (const Cpu& x : cpus_) {
    if (x.curr->is_idle) continue;
    if (n++ < 8) who += " " + x.curr->name + "[cpu" + std::to_string(x.id) + "]";
  }
  if (n > 8) who += " ...";
  end_ = EndReason::Livelock;
  report_bug("livelock",
             "no progress for " + std::to_string(params_.livelock_ms) + " ms of emulated time on cpu " +
                 std::to_string(c->id) + " (no context switch, lock acquisition, grace period, task exit or "
                 "workload event anywhere); running:" + who,
             true);
}

CpuId Machine::choose(Cpu* cur) {
  const CpuId curid = cur ? cur->id : kNoCpu;
  for (;;) {
    if (stop_) {
      if (curid != kNoCpu) strategy_->add(curid, cur->clock);
      return kNoCpu;
    }
    if (!queue_.empty()) {
      Cycles front = strategy_->frontier();
      if (cur) front = std::min(front, cur->clock);
      if (queue_.front().time <= front) {
        std::pop_heap(queue_.begin(), queue_.end(), [](const Event& a, const Event& b) { return event_after(a, b); });
        const Event e = queue_.back();
        queue_.pop_back();
        handle_event(e);
        continue;
      }
    }
    if (curid == kNoCpu && strategy_->empty()) return kNoCpu;
    ++steps_;
    return strategy_->pick(curid, cur ? cur->clock : 0);
  }
}

void Machine::park_self(Cpu* c) {
  if (tearing_down_) return;
  c->state = CpuState::Parked;
  parked_any_ = true;
  dispatch(nullptr);  // resumed only to be torn down
}

void Machine::resume_cpu_slow(CpuId n) {
  while (n != kNoCpu && cpus_[static_cast<std::size_t>(n)].clock >= stop_at_) {
    cpus_[static_cast<std::size_t>(n)].state = CpuState::Parked;
    parked_any_ = true;
    n = choose(nullptr);
  }
  if (n == kNoCpu) {
    end_of_run();
    return;
  }
  resume_cpu(n);
}

void Machine::end_of_run() {
  if (!stop_ && !parked_any_) check_deadlock();
  if (host_limited_ && end_ == EndReason::Completed) end_ = EndReason::HostLimit;
  if (stop_requested_ && end_ == EndReason::Completed) end_ = EndReason::Stopped;
  if (parked_any_ && end_ == EndReason::Completed) end_ = EndReason::TimeLimit;
  stop_ = true;
  if (running_ != &main_task_) switch_fiber(&main_task_);
}

void Machine::make_ready(Cpu& c, Cycles t) {
  const Cycles nt = std::max(c.clock, t);
  if (c.state == CpuState::Idle) {
    c.idle_cycles += nt - c.clock;
    // NOHZ idle: the tick restarts at the first boundary after the wakeup.
    if (c.next_tick <= nt) c.next_tick = (nt / tick_interval_ + 1) * tick_interval_;
    update_next_irq(c);
  } else if (c.state == CpuState::Spinning) {
    c.spin_cycles += nt - c.clock;
  }
  c.clock = nt;
  c.state = CpuState::Running;
  strategy_->add(c.id, c.clock);
}

void Machine::push_event(Cycles time, EventPrio prio, EventKind kind, CpuId cpu, Task* task, std::uint64_t arg) {
  queue_.push_back(Event{time, prio, event_seq_++, kind, cpu, task, arg});
  std::push_heap(queue_.begin(), queue_.end(), [](const Event& a, const Event& b) { return event_after(a, b); });
}

void Machine::handle_event(const Event& e) {
  Cpu& d = cpus_[static_cast<std::size_t>(e.cpu)];
  switch (e.kind) {
    case EventKind::WakeTask:
      if (e.task->state == TaskState::Blocked && e.task->sleep_gen == e.arg) enqueue_task(e.task, e.time);
      break;
    case EventKind::IpiArrive:
      // Wakes a CPU that cannot notice the interrupt at a sync point of its own.
      // The event may be stale (armed for a spin that has ended): wake only for an
      // interrupt that is due now. Idle CPUs take IPIs only (NOHZ: no tick).
      if (d.irq_wake_at == e.time) d.irq_wake_at = kNever;
      {
        const bool ipi_due = !d.ipis.empty() && d.ipis.front().arrival <= e.time;
        if (d.state == CpuState::Idle && ipi_due) {
          make_ready(d, e.time);
        } else if (d.state == CpuState::Spinning && !d.irqs_off &&
                   (ipi_due || (d.next_tick <= e.time && tick_interrupts_spin(&d)))) {
          unlink_waiter(d);
          make_ready(d, e.time);
        } else if (d.state == CpuState::Idle || (d.state == CpuState::Spinning && !d.irqs_off)) {
          // Nothing due yet (an earlier wake, e.g. for a tick that can no longer
          // preempt, stood in for a later IPI): arm the wake for what comes next, or
          // that interrupt would never be taken.
          Cycles t = d.ipis.empty() ? kNever : d.ipis.front().arrival;
          if (d.state == CpuState::Spinning && tick_interrupts_spin(&d)) t = std::min(t, d.next_tick);
          if (t != kNever) arm_irq_wake(d, std::max(e.time, t));
        }
      }
      break;
  }
}

// ---- fibers ---------------------------------------------------------------------

void Machine::make_fiber(Task* task) {
  task->machine = this;
  fibers_.make(task->fiber, &Machine::fiber_main, task);
}

void Machine::fiber_main(void* arg) {
  Task* t = static_cast<Task*>(arg);
  Machine* m = t->machine;
  m->run_body(t);
  Task* next = m->fiber_exit(t);
  t->fiber.exit_to(next->fiber);
}

void Machine::switch_fiber(Task* next) {
  Task* prev = running_;
  running_ = next;
  ++switches_;
  prev->fiber.switch_to(next->fiber);
  if (tearing_down_ && running_ != &main_task_) throw TaskKilled{};
}

void Machine::run_body(Task* t) {
  if (tearing_down_) return;
  std::string error;
  try {
    if (!t->is_idle) {
      note(Ev::TaskStart, t->id, 0);
      trace_event(TraceKind::TaskStart, t->id, 0);
    }
    if (!t->kill_pending) t->fn();  // killed before it ever ran: it exits at once
  } catch (const TaskKilled&) {
    return;
  } catch (const TaskExit&) {
    return;  // do_exit(), exit_group() or a kill point: an ordinary exit from here on
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "an exception not derived from std::exception";
  }
  if (error.empty()) return;
  // An exception from emulated code is a bug in that code, reported like BUG_ON. The
  // report stops the run; the fiber is resumed only to be torn down.
  try {
    report_bug("exception", "uncaught exception in task " + t->name + ": " + error, true);
  } catch (const TaskKilled&) {
  }
}

Task* Machine::fiber_exit(Task* t) {
  Task* next = &main_task_;
  if (!tearing_down_) {
    if (t->is_idle) panic("idle task returned", cur_->clock, cur_->id);
    Cpu* c = cur_;
    try {
      wait_turn(c);
    } catch (const TaskKilled&) {
    }
  }
  if (!tearing_down_ && t->rcu_nesting != 0) {
    try {
      report_bug("rcu", "task " + t->name + " exits inside an RCU read-side critical section", false);
    } catch (const TaskKilled&) {
    }
  }
  if (!tearing_down_ && (t->preempt_count != 0 || cur_->irqs_off || !t->held_locks.empty())) {
    try {
      lockdep_.check_exit(t);
      if (t->preempt_count != 0 || cur_->irqs_off) {
        report_bug("exit-in-atomic",
                   "task " + t->name + " exits with preempt_count=" + std::to_string(t->preempt_count) +
                       (cur_->irqs_off ? " and IRQs off" : ""),
                   false);
      }
    } catch (const TaskKilled&) {
    }
  }
  if (!tearing_down_) {
    Cpu* c = cur_;
    rcu_->on_schedule(*c);  // the exiting task's final schedule()
    note(Ev::TaskExit, t->id, 0);
    trace_event(TraceKind::TaskExit, t->id, 0);
    t->state = TaskState::Dead;
    t->exit_time = c->clock;
    --live_tasks_;
    // Joiners asleep on this exit wake now, before this CPU picks its next task.
    for (Task* j : t->joiners)
      if (j->joining == t && j->state == TaskState::Blocked) wake_at_turn(j);
    t->joiners.clear();
    if (!c->rq.empty()) {
      next = c->rq.front();
      c->rq.pop_front();
      next->on_rq = false;
    } else {
      next = c->idle;
    }
    switch_bookkeeping(c, t, next, SwitchFrom::Exit, SwitchState::Dead);  // counts the exit as progress too
  }
  running_ = next;
  ++switches_;
  return next;
}

// ---- shared accesses ------------------------------------------------------------

void Machine::take_interrupts(Cpu* c) {
  do {
    handle_irqs(c);
    preempt_after_irq(c);
    // Handlers and a preemption moved the clock: take the turn again.
    wait_turn(c);
  } while (c->clock >= c->irq_gate);
}

inline void Machine::perform_access(LineId l, Access kind, Ev ev) {
  Cpu* c = cur_;
  c->clock = coherence_.access(l, c->id, kind, c->clock);
  note(ev, l, 0);
}

void Machine::access(LineId l, Access kind, Ev ev) {
  sync_point();
  perform_access(l, kind, ev);
}

void Machine::access_slow(LineId l, Access kind, Ev ev, Where loc) {
  if (tearing_down_) return;
  // Consumed by the pick() (or add()) of this sync point. After interrupts taken there,
  // the turn is taken again with nothing noted: that step races with nothing.
  if (time_ == nullptr) strategy_->note_pending(cur_->id, l, kind != Access::Load);
  sync_point();
  // In the order the accesses happen: after the sync point, when it is this CPU's turn.
  if (coverage_) coverage_->access(l, cur_->id, kind != Access::Load, loc);
  perform_access(l, kind, ev);
}

bool Machine::owner_on_cpu(const Task* t) {
  if (t->on_cpu_line == kNoLine)
    panic("owner_on_cpu() of a task without an on_cpu line (mutex_spin off, or an idle task)", cur_->clock, cur_->id);
  // Not a sync point of its own: the spinner reads owner->on_cpu in the step of its
  // load of the owner, so nothing happens between the two (a release in between would
  // leave it parked on a line nobody writes again). The load still follows the switch
  // that wrote on_cpu (coherence.h, Causality): a spinner that sees the owner off CPU
  // has a clock past that switch.
  perform_access(t->on_cpu_line, Access::Load, Ev::Load);
  return task_on_cpu(t);
}

void Machine::barrier() {
  sync_point();
  cur_->clock += costs_.barrier;
  note(Ev::Barrier, 0, 0);
}

void Machine::changed(LineId l) {
  LineState& ls = coherence_.line(l);
  ++ls.version;
  const Cycles t = cur_->clock;
  for (CpuId w = ls.wait_head; w != kNoCpu;) {
    Cpu& cw = cpus_[static_cast<std::size_t>(w)];
    w = cw.wait_next;
    cw.wait_prev = cw.wait_next = kNoCpu;
    make_ready(cw, t);
  }
  ls.wait_head = kNoCpu;
}

void Machine::spin_wait(LineId l, bool until_resched) {
  if (tearing_down_) return;
  Cpu* c = cur_;
  LineState& ls = coherence_.line(l);
  c->state = CpuState::Spinning;
  c->wait_line = l;
  c->wait_start = c->clock;
  c->spin_resched = until_resched;
  c->wait_prev = kNoCpu;
  c->wait_next = ls.wait_head;
  if (ls.wait_head != kNoCpu) cpus_[static_cast<std::size_t>(ls.wait_head)].wait_prev = c->id;
  ls.wait_head = c->id;
  note(Ev::SpinWait, l, 0);
  // With IRQs on, a queued IPI interrupts the spin, and so does a tick that could
  // preempt the spinning task (or, for an optimistic spin, set need_resched).
  if (!c->irqs_off) {
    Cycles t = c->ipis.empty() ? kNever : c->ipis.front().arrival;
    if (tick_interrupts_spin(c)) t = std::min(t, c->next_tick);
    if (t != kNever) arm_irq_wake(*c, std::max(c->clock, t));
  }
  dispatch(nullptr);
}

void Machine::unlink_waiter(Cpu& c) {
  LineState& ls = coherence_.line(c.wait_line);
  if (c.wait_prev != kNoCpu)
    cpus_[static_cast<std::size_t>(c.wait_prev)].wait_next = c.wait_next;
  else
    ls.wait_head = c.wait_next;
  if (c.wait_next != kNoCpu) cpus_[static_cast<std::size_t>(c.wait_next)].wait_prev = c.wait_prev;
  c.wait_prev = c.wait_next = kNoCpu;
}

// ---- interrupts -----------------------------------------------------------------

void Machine::update_next_irq(Cpu& c) {
  c.next_irq = c.next_tick;
  if (!c.ipis.empty()) c.next_irq = std::min(c.next_irq, c.ipis.front().arrival);
  c.irq_gate = (c.irqs_off || c.in_irq || tearing_down_) ? kNever : c.next_irq;
}

void Machine::handle_irqs(Cpu* c) {
  c->in_irq = true;
  c->irq_gate = kNever;
  if (c->clock >= c->next_tick) {
    const Cycles missed = (c->clock - c->next_tick) / tick_interval_;
    c->next_tick += (missed + 1) * tick_interval_;
    ++c->ticks;
    note(Ev::Tick, c->ticks, 0);
    trace_event(TraceKind::Tick, c->ticks, 0);
    rcu_->on_tick(*c);
    watchdog(c);
    // Round-robin: a tick preempts the running task if another one waits for the CPU.
    if (!c->rq.empty() && !c->curr->is_idle && (!c->curr->rt || c->rq.front()->rt)) c->need_resched = true;
    trace_event(TraceKind::IrqExit, irq_vector::kLocalTimer, 0);
  }
  while (!c->ipis.empty() && c->ipis.front().arrival <= c->clock) {
    const PendingIpi ipi = c->ipis.front();
    c->ipis.pop_front();
    ++c->ipis_handled;
    note(Ev::IpiHandle, ipi.fn ? 1 : 0, 0);
    trace_event(TraceKind::IpiHandle, ipi.fn ? 1 : 0, 0);
    if (ipi.fn)
      ipi.fn(*this, ipi.arg);
    else
      c->need_resched = true;
    trace_event(TraceKind::IrqExit, ipi.fn ? irq_vector::kCallFunction : irq_vector::kReschedule, 0);
  }
  c->in_irq = false;
  update_next_irq(*c);
}

void Machine::post_ipi(Cpu& d, Cycles arrival, IpiFn fn, void* arg) {
  auto it = d.ipis.end();
  while (it != d.ipis.begin() && std::prev(it)->arrival > arrival) --it;
  d.ipis.insert(it, PendingIpi{arrival, fn, arg});
  update_next_irq(d);
  if (d.state == CpuState::Idle || (d.state == CpuState::Spinning && !d.irqs_off)) arm_irq_wake(d, arrival);
}

void Machine::raise_softirq(CpuId cpu, IpiFn fn, void* arg) {
  Cpu& d = cpus_[static_cast<std::size_t>(cpu)];
  post_ipi(d, std::max(cur_->clock, d.clock), fn, arg);
}

void Machine::arm_irq_wake(Cpu& c, Cycles t) {
  if (c.irq_wake_at <= t) return;  // an earlier wake is pending; it re-arms if needed
  c.irq_wake_at = t;
  push_event(t, kPrioIpiArrive, EventKind::IpiArrive, c.id, nullptr, 0);
}

void Machine::send_ipi(CpuId target, IpiFn fn, void* arg) {
  if (target < 0 || target >= ncpus()) panic("IPI to a CPU that does not exist", cur_->clock, cur_->id);
  sync_point();
  Cpu* c = cur_;
  c->clock += costs_.ipi_send;
  note(Ev::IpiSend, static_cast<std::uint64_t>(target), fn ? 1 : 0);
  trace_event(TraceKind::IpiSend, static_cast<std::uint64_t>(target), fn ? 1 : 0);
  const Cycles arrival = c->clock + costs_.ipi_latency + coherence_.transfer_cost(c->id, target);
  post_ipi(cpus_[static_cast<std::size_t>(target)], arrival, fn, arg);
}

void Machine::irq_enable() {
  Cpu* c = cur_;
  if (c->irqs_off && !c->in_irq) {
    record_since(*irqsoff_, c->irqs_off_since);
    trace_event(TraceKind::IrqOff, c->irqs_off_since, 0);
  }
  c->irqs_off = false;
  update_next_irq(*c);
  if (c->clock >= c->next_irq) sync_point();  // pending interrupts fire now
}

void Machine::record_since(Histogram& h, Cycles since) {
  if (since > cur_->clock) panic("an interval ends before it starts (causality)", cur_->clock, cur_->id);
  h.record(cur_->clock - since);
}

void Machine::report_bug(const std::string& check, const std::string& message, bool fatal) {
  BugReport b;
  b.check = check;
  b.message = message;
  b.fatal = fatal;
  report(std::move(b));
}

void Machine::report(BugReport b, const std::vector<const Task*>& involved) {
  b.cycle = cur_->clock;
  b.cpu = cur_->id;
  b.task = cur_->curr ? cur_->curr->name : "";
  const bool fatal = b.fatal;
  const std::string check = b.check;
  if (!b.details.empty()) {
    std::vector<const Task*> tasks = involved;
    if (cur_->curr && !cur_->curr->is_idle) tasks.insert(tasks.begin(), cur_->curr);
    const std::string recent = recent_events_text(*this, tasks);
    if (!recent.empty()) b.details += "\n" + recent;
    b.details += splat_rule('=');
  }
  logger("emu")->info("bug [{}] at cycle {} on cpu {}: {}", check, b.cycle, b.cpu, b.message);
  bugs_.push_back(std::move(b));
  note(Ev::Bug, bugs_.size(), fatal ? 1 : 0);
  if (stop_cond_.kind == StopCondition::Kind::Bug && (stop_cond_.check.empty() || stop_cond_.check == check))
    request_stop();
  if (trace_) trace_add(cur_->clock, cur_->id, TraceKind::Bug, trace_->intern(check + ": " + bugs_.back().message), fatal ? 1 : 0);
  if (fatal && running_ != &main_task_) {
    if (end_ == EndReason::Completed) end_ = EndReason::FatalBug;
    stop_ = true;
    end_of_run();  // resumed only to be torn down
  }
}

}  // namespace smpemu
