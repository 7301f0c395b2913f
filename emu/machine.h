// The emulated SMP machine: CPUs with their own cycle clocks, tasks running as fibers,
// a timed event queue, interrupts, and the sync points through which emulated code
// makes an operation visible to other CPUs.
//
// Execution model (docs/ENGINE.md, "Execution"):
//  - One host thread runs one Machine and exactly one fiber at a time. Every task,
//    including each CPU's idle task, runs on a Fiber (emu/fiber.h); switching CPUs is a
//    direct fiber-to-fiber switch (no trip through a scheduler fiber).
//  - Work that touches only CPU-local state just adds cycles (compute()). A *sync point*
//    (load/store/atomic on a line, barrier, wakeup, IPI, schedule) first waits for the
//    CPU's turn: the strategy (strategy.h) decides which ready CPU performs its visible
//    operation next; under `time` that is the CPU with the smallest clock. Fast path:
//    if the running CPU is still chosen, no switch happens.
//  - Costs of shared accesses come from the coherence model (coherence.h).
//  - A spinning CPU is not emulated spin by spin: spin_until() parks it on the line and
//    it resumes when a write changes the line (or an interrupt arrives), charged the
//    spin time plus the reload.
//  - Interrupts (the timer tick at HZ, IPIs) are delivered at the target CPU's next sync
//    point with IRQs enabled; IRQ-off regions delay them. A CPU that is idle, or spinning
//    with IRQs on, is woken by an event when an IPI is due, and a spinning CPU also for
//    a tick that could preempt it (full preemption, preemptible, another task queued);
//    other ticks of a spinning CPU are taken when the spin ends, so a CPU spinning
//    forever generates no events and the deadlock check can see it. Ticks on a running
//    CPU are generated lazily from its clock; idle CPUs get no ticks (NOHZ idle), so
//    idle CPUs cost nothing until woken.
//  - Timed events are ordered by (time, named priority, sequence); an event is
//    processed before any CPU whose ready time is not earlier than the event's.
//
// Invariants:
//  - A CPU's clock never decreases.
//  - CpuState::Running <=> the CPU is in the strategy's ready set or is executing.
//    Idle, Spinning and Parked CPUs are not in the ready set.
//  - Only the running fiber touches engine state; event handlers never switch fibers.
//  - No exception crosses a fiber switch: emulated code's exceptions are caught at the
//    fiber's base and become bug reports; the teardown exception is thrown and caught
//    inside the fiber being torn down.
//
// Concurrency: a Machine is confined to one host thread. Many Machines may run on many
// host threads at once; nothing here is global.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "emu/callpath.h"
#include "emu/coherence.h"
#include "emu/coverage.h"
#include "emu/histogram.h"
#include "emu/lockdep.h"
#include "emu/params.h"
#include "emu/rcu.h"
#include "emu/rng.h"
#include "emu/fiber.h"
#include "emu/stack_pool.h"
#include "emu/strategy.h"
#include "emu/topology.h"
#include "emu/types.h"
#include "traces/digest.h"
#include "traces/trace.h"
#include "emu/snapshot.h"

namespace smpemu {

class Machine;

/// The Machine whose run() is executing on this host thread (nullptr outside a run).
/// Kernel-style code (the shim in kernel/) reaches the engine through it, like the
/// kernel's `current`; each host thread has its own, so fuzzing threads do not share it.
namespace detail {
/// The Machine running on this host thread (written by Machine::run() only). constinit:
/// no dynamic initialisation, so every access is a plain thread-local load.
extern constinit thread_local Machine* t_this_machine;
/// running_machine()'s error path: throws ConfigError.
[[noreturn]] void no_running_machine(const char* call, const char* instead);
}  // namespace detail

inline Machine* this_machine() { return detail::t_this_machine; }

/// this_machine() for a kernel-shim call that needs a running machine: when none runs on
/// this host thread (the call was made from a workload's setup() or finish(), or from no
/// run at all) throws ConfigError naming `call` and, if given, the variant that takes the
/// Machine explicitly (`instead`), so the CLI prints one line and exits 2.
inline Machine& running_machine(const char* call, const char* instead = nullptr) {
  if (detail::t_this_machine) [[likely]]
    return *detail::t_this_machine;
  detail::no_running_machine(call, instead);
}

enum class TaskState : std::uint8_t { Runnable, Blocked, Dead };

/// An emulated task (kernel thread or process context). Engine-owned: the Machine
/// creates it (spawn(), the idle tasks) and frees it with itself, so a Task* stays
/// valid as long as the Machine, a dead task's included.
///
/// Next to each field: who may write it. Everything runs on the Machine's one host
/// thread, at a fiber's turn, so this is not about data races but about which code
/// keeps a field consistent. Outside the Machine (emu/machine.*, emu/sched.cc) only the
/// lock code, LockDep and Rcu write fields, and except for rcu_blocker only those of
/// the task that calls them (Machine::current()). Any code may read any field.
struct Task {
  // Identity: written by the Machine when it creates the task (Machine(), spawn(),
  // spawn_rt() sets rt); constant after that.
  std::uint32_t id = 0;       ///< unique, from a counter; idle tasks come first
  std::string name;
  CpuId cpu = kNoCpu;         ///< the CPU it runs on (tasks are pinned)
  /// Written by the Machine only (spawn(), wakeups, set_current_blocked/running(),
  /// sleep_until(), the exit); lock code changes it through those calls.
  TaskState state = TaskState::Runnable;
  bool is_idle = false;       ///< identity (see id)
  /// Identity: real-time (SCHED_FIFO), runs before, and is not preempted by, other tasks.
  bool rt = false;
  /// Identity: the line of the task's task_struct->on_cpu, which mutex spinners read
  /// (Machine::owner_on_cpu()) and the context switch writes, so a spinner observes an
  /// owner's switch no earlier than it happened (coherence.h, Causality). Allocated by
  /// spawn() only with MachineParams::mutex_spin (else kNoLine; idle tasks never own a
  /// mutex and have none), so runs without spinning keep their line ids.
  LineId on_cpu_line = kNoLine;
  /// Identity: the thread group (the kernel's tgid): the id of the group's leader. A
  /// task made by spawn() leads a group of its own; spawn_thread() joins the leader's.
  std::uint32_t tgid = 0;
  // Exit and kill (docs/ENGINE.md, "Joins and thread groups"): written by the Machine
  // only, kill_pending and exit_code by exit_group() of another task of the group.
  /// exit_group() of the group ran: the task exits at its next kill point.
  bool kill_pending = false;
  /// The current sleep may be cut short by a kill (join, sleep_until, the shim's
  /// schedule() after set_current_state(TASK_KILLABLE)). Written with the state by
  /// set_current_blocked()/set_current_running()/sleep_until().
  bool killable = false;
  int exit_code = 0;            ///< do_exit()/exit_group() code; 0 when the body returns
  Cycles exit_time = 0;         ///< its CPU's clock when it became Dead
  Task* joining = nullptr;      ///< the task whose exit this one waits for in join()
  /// Tasks sleeping in join() on this one, woken by its exit. Written by join() (the
  /// joiner's turn) and by the exit.
  std::vector<Task*> joiners;
  std::string exit_label;       ///< "exit of NAME": what a joiner waits for (state dumps)
  // Written by Machine::preempt_disable()/preempt_enable() only, on the current task.
  int preempt_count = 0;      ///< like the kernel's per-thread preempt_count
  Cycles preempt_off_since = 0;  ///< when preempt_count last rose from 0 (preemptoff)
  /// Lockdep: locks held, in acquisition order. Written by LockDep::acquired() and
  /// released() only, for the task taking or releasing the lock (the current one).
  /// Read by lock code (rwsem, rwlock recursion), the switch (mutex spinners), the exit
  /// check, snapshots and kernel/lockdep.h.
  std::vector<HeldLock> held_locks;
  /// The architecture's per-thread flags (the kernel's thread_info local_flags, e.g.
  /// powerpc's _TLF_LAZY_MMU). Written only by the switch hooks (Machine::SwitchHooks),
  /// for the task being switched.
  std::uint32_t local_flags = 0;
  /// rcu_read_lock() depth. Written by Rcu::read_lock()/read_unlock() only, on the
  /// current task.
  int rcu_nesting = 0;
  /// Preempt RCU: in a read section the current GP waits for. Written by Rcu only: set
  /// for every task in a read section when a grace period starts (Rcu::maybe_start_gp(),
  /// on whichever CPU starts it), cleared by the task's own outermost rcu_read_unlock().
  bool rcu_blocker = false;
  // Wait-for graph and state dumps: written by the lock code for the current task only,
  // set before it waits and cleared once it holds the lock (blocked_lock, blocked_owner:
  // Mutex and RwSem; spinning_on_owner: Mutex; waiting_for: Mutex, RwSem, SpinLock,
  // RwLock). Read by Machine::check_wait_cycle() (on behalf of another task), snapshots.
  /// The sleeping lock this task waits for, and how to find its owner.
  const void* blocked_lock = nullptr;
  Task* (*blocked_owner)(const void* lock) = nullptr;
  bool spinning_on_owner = false;  ///< waits for blocked_lock by optimistic spinning, not asleep
  const std::string* waiting_for = nullptr;  ///< name of the lock it waits for (state dumps)
  // Scheduler state: written by the Machine only (sched.cc: enqueue_task(),
  // schedule_internal(), account_switch_in(), sleep_until(); machine.cc: spawn(), the
  // exit). A waker on another CPU writes them for this task.
  Cycles wake_time = 0;       ///< when it was last woken (sched.latency)
  bool woken = false;         ///< woken and not yet running: its latency is pending
  bool on_rq = false;         ///< queued on its CPU's run queue (maybe still Blocked if preempted)
  std::uint64_t sleep_gen = 0;///< invalidates stale timer wakeups
  std::function<void()> fn;   ///< identity (see id): the task's body
  /// Annotated functions the task is in (emu/callpath.h). Written only by CallFrame, in
  /// the task's own fiber; read by the lock code, checks and reports through path().
  CallStack calls;
  // Fiber: made by the Machine (constructor, spawn) from its FiberFactory and switched
  // only by switch_fiber() and the fiber's exit (machine.cc).
  Fiber fiber;  ///< suspended while the task does not run; its stack is freed at exit
  Machine* machine = nullptr;  ///< the machine whose fiber factory made `fiber`
};

enum class CpuState : std::uint8_t { Running, Idle, Spinning, Parked };

/// Handler of an inter-processor interrupt, run on the target CPU in IRQ context.
using IpiFn = void (*)(Machine& m, void* arg);

struct PendingIpi {
  Cycles arrival;
  IpiFn fn;   ///< nullptr: reschedule IPI (sets need_resched)
  void* arg;
};

/// One emulated CPU. Engine-owned: written only by Machine members (emu/machine.h,
/// machine.cc, sched.cc); other code sees `const Cpu&` (Machine::cpu(), the Rcu hooks)
/// and reads it, or asks the Machine (set_need_resched()). Next to each field or group:
/// which Machine code writes it, and whether code running for another CPU (a waker, an
/// IPI sender, a line writer, an event) writes it too, "remote" below. All on the
/// Machine's host thread; no field is written concurrently.
struct Cpu {
  CpuId id = kNoCpu;              ///< written by Machine() only
  /// Written by this CPU's own work (compute(), accesses, barrier(), observe(), IPI
  /// sends and wakeups, the switch), and remote by make_ready(), which moves a CPU that
  /// is idle or spinning forward to its wakeup. Never decreases.
  Cycles clock = 0;
  /// Written by idle_loop() (Idle), spin_wait() (Spinning), park_self() (Parked), and
  /// remote by make_ready() (Running) and resume_cpu_slow() (Parked: a CPU chosen to
  /// run that is past the time limit).
  CpuState state = CpuState::Running;
  Task* curr = nullptr;           ///< written by Machine() and switch_bookkeeping() only
  Task* idle = nullptr;           ///< written by Machine() only
  /// Runnable tasks waiting for this CPU, FIFO. Written by schedule_internal() (pops
  /// the next task, requeues a preempted one) and fiber_exit() (pops), and remote by
  /// enqueue_task() (wakeups) and spawn()/spawn_rt().
  std::deque<Task*> rq;
  /// Written on this CPU only: schedule_internal() (clears), handle_irqs() (tick,
  /// reschedule IPI), enqueue_task() when the wakeup is local, set_need_resched().
  bool need_resched = false;
  // Interrupt state, written on this CPU only: irq_disable()/irq_enable(), handle_irqs()
  // (in_irq), switch_bookkeeping() (IRQs on for the next task).
  bool irqs_off = false;
  bool in_irq = false;
  Cycles irqs_off_since = 0;      ///< when IRQs were last disabled (irqsoff)
  /// Written by handle_irqs() at this CPU's ticks, Machine(), and remote by
  /// make_ready() (the NOHZ restart when an idle CPU is woken).
  Cycles next_tick = 0;
  // Derived by update_next_irq() (this CPU's or, after an IPI is queued or a CPU woken,
  // remote); irq_gate also by irq_disable(), handle_irqs() and ~Machine().
  Cycles next_irq = 0;            ///< min(next_tick, first IPI arrival)
  Cycles irq_gate = 0;            ///< next_irq, or kNever while IRQs are off or in an IRQ
  /// Sorted by arrival. Written by post_ipi() from any CPU (send_ipi(), raise_softirq(),
  /// the reschedule IPI of a wakeup) and by this CPU's handle_irqs() (pops).
  std::deque<PendingIpi> ipis;
  // Spin-wait list membership (intrusive, per line). Written by this CPU's spin_wait(),
  // and remote by changed() (a write to the line ends the spin), unlink_waiter() (an
  // event interrupts it) and another spinner's spin_wait() (wait_prev of the old head).
  LineId wait_line = 0;
  CpuId wait_prev = kNoCpu;
  CpuId wait_next = kNoCpu;
  Cycles wait_start = 0;
  /// Time of the pending wake-for-interrupt event, if any. Written by arm_irq_wake()
  /// (this CPU's spin or idle entry, or remote: IPIs, wakeups) and handle_event().
  Cycles irq_wake_at = kNever;
  // Livelock watchdog (written at this CPU's ticks only, by watchdog()).
  std::uint64_t progress_seen = 0;  ///< Machine progress count at this CPU's last look
  Cycles progress_seen_at = 0;      ///< this CPU's clock when that count last changed
  /// Written by spin_wait(): this spin also ends when a tick would set need_resched.
  bool spin_resched = false;
  // Statistics. idle_cycles: make_ready() (remote) and account_switch_in(); spin_cycles:
  // make_ready() (remote); ticks, ipis_handled: handle_irqs(); ctx_switches:
  // switch_bookkeeping().
  Cycles idle_cycles = 0;
  Cycles spin_cycles = 0;
  std::uint64_t ticks = 0;
  std::uint64_t ipis_handled = 0;
  std::uint64_t ctx_switches = 0;
};

/// A bug found by a checker or the emulated code (BUG_ON/WARN_ON, deadlock, ...).
struct BugReport {
  std::string check;
  std::string message;   ///< one line: what went wrong
  Cycles cycle = 0;
  CpuId cpu = kNoCpu;
  std::string task;
  bool fatal = false;
  /// The report as the kernel would print it (lockdep, KASAN, might_sleep shapes): the
  /// headline, both sides with task, CPU, cycle and call path, held locks, recent
  /// events. Empty for reports that have no more to say than `message`.
  std::string details;
  /// What makes two reports one bug (fuzz signatures): the lock classes involved, sorted
  /// ("abba_A abba_B"), or the code site of the check ("mm/filemap.cc:199
  /// check_pte_beyond_eof"). Empty: the signature falls back to the message.
  std::string key;
};

/// Why a run ended.
/// Livelock: CPUs ran on with no progress anywhere (Machine::note_progress) for
/// livelock_ms. HostLimit: the host-time deadline passed (set_host_deadline); the only
/// end that depends on the host, so never part of a reproducible result.
enum class EndReason : std::uint8_t { Completed, TimeLimit, Deadlock, FatalBug, Stopped, Livelock, HostLimit };
const char* end_reason_name(EndReason r);

struct RunStats {
  EndReason end = EndReason::Completed;
  Cycles cycles = 0;            ///< largest CPU clock at the end
  std::uint64_t events = 0;     ///< visible events folded into the digest
  std::uint64_t digest = 0;
  std::uint64_t switches = 0;   ///< fiber switches between CPUs or tasks
  /// Scheduling steps: the strategy's decisions (Strategy::pick() calls), the `k` of
  /// PCT's bound and the step numbers of decision logs.
  std::uint64_t steps = 0;
  double host_seconds = 0;      ///< wall time of run(); never observable in the digest
};

class Machine {
 public:
  /// Builds the machine. `pool` (optional) supplies fiber stacks and must outlive it.
  Machine(const MachineParams& params, Topology topo, const CostTable& costs, StackPool* pool = nullptr);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // ---- setup and results (host side, outside fibers) -----------------------------

  /// Why run() ended (EndReason::Completed before and during it). Host side.
  EndReason end_reason() const { return end_; }
  /// Creates a task pinned to `cpu`; it starts when that CPU first schedules. May also be
  /// called from a running task (the new task is woken at the caller's time).
  Task* spawn(std::string name, CpuId cpu, std::function<void()> fn);
  /// Like spawn(), a real-time task (SCHED_FIFO, one priority): queued ahead of normal
  /// tasks, it preempts them when woken and keeps its CPU until it blocks (cyclictest -p).
  Task* spawn_rt(std::string name, CpuId cpu, std::function<void()> fn);
  /// Like spawn(), a thread in `leader`'s thread group (clone(CLONE_THREAD)): it shares
  /// the group's tgid, so exit_group() of any member kills it.
  Task* spawn_thread(Task* leader, std::string name, CpuId cpu, std::function<void()> fn);
  /// Allocates a shared-memory line (see coherence.h).
  LineId new_line() { return coherence_.new_line(); }
  /// Random stream `name` derived from the run's seed (independent of the schedule).
  Rng rng(std::string_view name) const { return Rng(params_.seed, name); }
  /// Attaches a trace (before run(); the Machine does not own it). Task names are
  /// recorded in it; events are added while the run goes on (traces/trace.h).
  void set_trace(Trace* t);
  Trace* trace() const { return trace_; }
  /// Records an event on the current CPU if a trace is attached (for mm/arch code:
  /// TLB flushes, page faults). Not a sync point.
  void trace_event(TraceKind k, std::uint64_t a, std::uint64_t b) {
    if (trace_) [[unlikely]]
      trace_add(cur_->clock, cur_->id, k, a, b);
  }
  /// Adds a trace event at `time` stamped with CPU `cpu`'s state (trace() must be set).
  [[gnu::noinline]] void trace_add(Cycles time, CpuId cpu, TraceKind k, std::uint64_t a, std::uint64_t b);
  /// Workload-defined event `name` with a value: folded into the digest, and a `Mark`
  /// in the trace. Not a sync point.
  void trace_mark(const char* name, std::uint64_t value);
  /// Stops the run at an event (emu/snapshot.h). Before run(). A condition on trace
  /// events attaches an internal trace if none is attached.
  void set_stop_condition(const StopCondition& c);
  /// Sees every visible event the digest folds (kind, CPU, first payload word: the line
  /// of a load, store, atomic or spin-wait), in order, for exploration's happens-before
  /// fingerprints (cli/explore.h). Before run(); an empty function removes it. Costs
  /// nothing when not set.
  using EventObserver = std::function<void(Ev kind, CpuId cpu, std::uint64_t a)>;
  void set_event_observer(EventObserver f);
  /// The machine's state now: after run(), the state it stopped in (emu/snapshot.h).
  MachineSnapshot snapshot() const;
  /// Replaces the strategy built from MachineParams::strategy (before run(); used to
  /// record or replay decision logs, emu/decision_log.h).
  void set_strategy(std::unique_ptr<Strategy> s);
  /// The strategy in use.
  Strategy& strategy() { return *strategy_; }
  /// Runs until every task has exited, a fatal bug, a deadlock, a livelock, the time
  /// limit, or the host deadline.
  RunStats run();
  /// Ends the run (EndReason::HostLimit) once the host's steady clock passes `deadline`,
  /// checked at timer ticks and every few thousand CPU switches. Before run(). A safety
  /// net for campaigns: where the run ends depends on the host, so it is reported as
  /// its own outcome, never as a result.
  void set_host_deadline(std::chrono::steady_clock::time_point deadline);
  /// Something moved forward: a context switch, a lock acquisition, a grace period, a
  /// task exit or a workload event (the engine calls this itself; a workload whose
  /// tasks make progress in none of those ways calls it to keep the livelock watchdog
  /// quiet). Not a sync point.
  void note_progress() { ++progress_; }

  const MachineParams& params() const { return params_; }
  const CostTable& costs() const { return costs_; }
  const Topology& topology() const { return topo_; }
  int ncpus() const { return static_cast<int>(cpus_.size()); }
  const Cpu& cpu(CpuId c) const { return cpus_[static_cast<std::size_t>(c)]; }
  const std::vector<BugReport>& bugs() const { return bugs_; }
  const std::map<std::string, Histogram>& histograms() const { return histograms_; }
  /// Lock classes, statistics and the lock-order checker.
  LockDep& lockdep() { return lockdep_; }
  /// RCU (flavour from MachineParams::rcu).
  Rcu& rcu() { return *rcu_; }
  /// The interleaving coverage of this run (emu/coverage.h), or null when
  /// MachineParams::coverage is off.
  const InterleavingCoverage* coverage() const { return coverage_.get(); }
  /// Liveness of emulated objects, for use-after-free checks.
  ObjectTracker& objects() { return objects_; }
  /// Calls `fn(Task&)` for every task (idle tasks included), in creation order.
  template <class Fn>
  void for_each_task(Fn fn) {
    for (auto& t : tasks_) fn(*t);
  }
  /// Cycles between two timer ticks.
  Cycles tick_cycles() const { return tick_interval_; }
  /// Raises a software interrupt on `cpu`: `fn` runs there in IRQ context at its next
  /// sync point with IRQs on (at once if idle). Engine bookkeeping, not a sync point.
  void raise_softirq(CpuId cpu, IpiFn fn, void* arg);
  Histogram& histogram(const std::string& name) { return histograms_[name]; }
  CoherenceModel& coherence() { return coherence_; }
  std::uint64_t digest() const { return digest_.value(); }
  std::uint64_t events() const { return events_; }

  // ---- extensions (SimGrid's xbt::Extendable) --------------------------------------
  //
  // A subsystem outside the engine (the mm environment in mm/) hangs its own state on
  // the Machine and finds it again in O(1), instead of keeping a side map keyed by
  // Machine. Each type T has one slot: its index is assigned once per process, on the
  // first use of T, from an atomic counter, so Machines on many host threads share the
  // numbering but never a slot. Extensions are host-side bookkeeping: attaching or
  // looking one up is not a sync point and never observable in the digest or a trace.

  /// The object attached as this machine's extension of type T by set_extension<T>(),
  /// or nullptr if none is attached. O(1): a bounds check and one load.
  template <class T>
  T* extension() const {
    const std::size_t i = extension_slot<T>();
    return i < extensions_.size() ? static_cast<T*>(extensions_[i]) : nullptr;
  }
  /// Attaches `ext` as this machine's extension of type T, replacing the one attached
  /// before; nullptr detaches. The Machine does not own it: the caller keeps it alive
  /// while it is attached (detach before destroying it, or destroy the Machine first).
  /// T is the unqualified object type (attach a `Foo*`, look up extension<Foo>()). On
  /// the host side or from a task of this machine; never while another thread runs it.
  template <class T>
  void set_extension(T* ext) {
    const std::size_t i = extension_slot<T>();
    if (i >= extensions_.size()) extensions_.resize(i + 1, nullptr);
    extensions_[i] = ext;
  }

  // ---- called by emulated code on the current task -------------------------------

  /// Clock of the CPU running the current task.
  Cycles now() const { return cur_->clock; }
  /// The current CPU acts on something another CPU did at `cause` that reached it
  /// through engine state rather than a line (an RCU grace period's start): its clock
  /// moves to at least `cause`, so no effect is observed at a virtual time before its
  /// cause (lines, wakeups and IPIs do this themselves). Not a sync point.
  void observe(Cycles cause) {
    if (cur_->clock < cause) cur_->clock = cause;
  }
  /// Records now() - `since` in `h`. `since` is a time this CPU has already reached;
  /// a later one is an engine causality bug: a panic with the cycle and CPU.
  void record_since(Histogram& h, Cycles since);
  CpuId cpu_id() const { return cur_->id; }
  Task* current() const { return cur_->curr; }
  /// The task whose fiber executes now (the main task outside the emulated tasks).
  Task* running() const { return running_; }
  /// The call path of an operation at `site` by the running task (emu/callpath.h).
  CallPath path(Where site) const {
    return running_ ? capture_path(running_->calls, site) : capture_path(CallStack{}, site);
  }
  /// The path a lock operation keeps (held locks, lockdep links, lock events): the whole
  /// path when a report or a trace may print it, the site alone with history and trace
  /// off (reports then name the line of each acquisition, not its callers).
  CallPath lock_path(Where site) const {
    if (params_.history || trace_) return path(site);
    CallPath p;
    p.site = site;
    return p;
  }
  /// CPU-local work: advances this CPU's clock (plus jitter). Not a sync point.
  void compute(Cycles c) { cur_->clock += coherence_.jittered(c); }

  // The accessors below take the caller's source line (`loc`) for interleaving coverage
  // (emu/coverage.h); it is materialised only on the slow path (access_slow_).
  template <class T>
  T load(LineId l, const T& var, Where loc = Where::here()) {
    touch(l, Access::Load, Ev::Load, loc);
    return var;
  }
  template <class T>
  void store(LineId l, T& var, T v, Where loc = Where::here()) {
    touch(l, Access::Store, Ev::Store, loc);
    if (var != v) {
      var = v;
      changed(l);
    }
  }
  template <class T>
  T exchange(LineId l, T& var, T v, Where loc = Where::here()) {
    touch(l, Access::Rmw, Ev::Rmw, loc);
    T old = var;
    if (old != v) {
      var = v;
      changed(l);
    }
    return old;
  }
  /// Atomic compare-and-exchange; on failure `expected` receives the current value.
  template <class T>
  bool compare_exchange(LineId l, T& var, T& expected, T desired, Where loc = Where::here()) {
    touch(l, Access::Rmw, Ev::Rmw, loc);
    if (var != expected) {
      expected = var;
      return false;
    }
    if (var != desired) {
      var = desired;
      changed(l);
    }
    return true;
  }
  template <class T>
  T fetch_add(LineId l, T& var, T delta, Where loc = Where::here()) {
    touch(l, Access::Rmw, Ev::Rmw, loc);
    T old = var;
    var = static_cast<T>(old + delta);
    if (delta != T{}) changed(l);
    return old;
  }
  /// Spins until `ok(var)` holds, reloading `var` each time line `l` is written.
  /// Returns the value that satisfied `ok`. Interrupts are taken while spinning.
  /// A visible read-modify-write whose effect needs a decision: takes the turn, pays an
  /// atomic on line `l`, then runs `f()` with no other CPU in between and wakes CPUs
  /// spinning on the line. Use it where "look at shared state, then update it" must be
  /// one operation (e.g. a lock release that hands over to a queued waiter).
  template <class F>
  auto atomically(LineId l, F f, Where loc = Where::here()) {
    touch(l, Access::Rmw, Ev::Rmw, loc);
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      if (!tearing_down_) changed(l);
    } else {
      auto r = f();
      if (!tearing_down_) changed(l);
      return r;
    }
  }
  template <class T, class Pred>
  T spin_until(LineId l, const T& var, Pred ok, Where loc = Where::here()) {
    for (;;) {
      T v = load(l, var, loc);
      if (ok(v) || tearing_down_) return v;
      spin_wait(l);
    }
  }
  /// Optimistic spinning (mutex_spin_on_owner): parks this CPU on line `l` until the
  /// line is written, wake_spinners(l) is called, an interrupt is due, or a tick would
  /// set need_resched (another task waits for this CPU). The caller re-checks all of
  /// them; the spin is charged as spin time, not emulated spin by spin.
  void spin_on_owner(LineId l) { spin_wait(l, true); }
  /// Wakes the CPUs spinning on `l` without writing it: state they also watch changed
  /// elsewhere (the owner's task_struct->on_cpu). Engine bookkeeping, not a sync point.
  void wake_spinners(LineId l) { changed(l); }
  /// True if `t` is the task running on its CPU (the kernel's owner->on_cpu), as engine
  /// state: no access, no causality. For the engine, checks and tests.
  bool task_on_cpu(const Task* t) const { return cpus_[static_cast<std::size_t>(t->cpu)].curr == t; }
  /// READ_ONCE(owner->on_cpu) of a mutex spinner: a load of `t`'s on_cpu line in the
  /// step of the caller's last sync point (not one of its own), after which this CPU's
  /// clock is no earlier than the switch that set what it reads. Needs
  /// MachineParams::mutex_spin (the line exists only then).
  bool owner_on_cpu(const Task* t);
  /// Full memory barrier (smp_mb): a sync point costing `barrier` cycles.
  void barrier();
  /// A sync point with no memory access (orders this CPU against the others): waits for
  /// this CPU's turn, then takes the interrupts that are due. The hot path is inline;
  /// everything rare is out of line, so the common case saves few registers.
  void sync_point() {
    Cpu* c = cur_;
    wait_turn(c);
    if (c->clock >= c->irq_gate) [[unlikely]]
      take_interrupts(c);
  }

  void preempt_disable() {
    Task* t = cur_->curr;
    if (t->preempt_count++ == 0) t->preempt_off_since = cur_->clock;
  }
  void preempt_enable();
  int preempt_count() const { return cur_->curr->preempt_count; }
  void irq_disable() {
    if (!cur_->irqs_off) cur_->irqs_off_since = cur_->clock;
    cur_->irqs_off = true;
    cur_->irq_gate = kNever;
  }
  void irq_enable();
  /// local_irq_save(): disables IRQs, returns whether they were disabled before.
  bool irq_save() {
    const bool was = cur_->irqs_off;
    irq_disable();
    return was;
  }
  /// local_irq_restore(): back to the state irq_save() returned.
  void irq_restore(bool was_disabled) {
    if (!was_disabled) irq_enable();
  }
  bool irqs_disabled() const { return cur_->irqs_off; }
  bool need_resched() const { return cur_->need_resched; }
  /// Asks the current CPU to reschedule at its next preemption point (the kernel's
  /// set_tsk_need_resched(current); RCU does it from the tick to force a quiescent
  /// state). Engine bookkeeping, not a sync point.
  void set_need_resched() { cur_->need_resched = true; }
  /// Reschedules if need_resched is set and preemption is enabled (every model).
  void cond_resched();
  /// A might_sleep() site: reports sleep-in-atomic if preemption or IRQs are disabled or
  /// in interrupt context; a preemption point under voluntary and full.
  void might_sleep(Where loc = Where::here());
  /// Files a sleep-in-atomic report: `message` (one line), the kernel's `headline`, the
  /// context (preempt count, IRQs, RCU nesting), the held locks and `where`.
  void report_atomic_sleep(std::string message, const std::string& headline, const CallPath& where);
  /// A deadlock report on `tasks`: what each waits for and where, all locks they hold,
  /// their last events. report_deadlock() files it (fatal) from the running task.
  BugReport deadlock_report(std::string message, const std::string& why, const std::vector<const Task*>& tasks) const;
  void report_deadlock(std::string message, const std::string& why, const std::vector<const Task*>& tasks);
  /// Reports a deadlock (fatal) if the current task, about to sleep on a lock (`what`)
  /// owned by `owner`, closes a cycle in the wait-for graph of sleeping locks (each
  /// sleeper's Task::blocked_lock / blocked_owner).
  void check_wait_cycle(Task* owner, const std::string& what);
  /// Return to user mode: a preemption point under every model.
  void user_return();
  /// Gives up the CPU to the next runnable task, if any (the task stays runnable).
  void yield();
  /// set_current_state(TASK_UNINTERRUPTIBLE): a sync point (with a full barrier's cost,
  /// as in the kernel) after which a wake() makes the task runnable again. The sleep
  /// protocol is: set_current_blocked(); if the condition is false, schedule(); else
  /// set_current_running(). A wake() ordered before set_current_blocked() is lost.
  /// `killable`: TASK_KILLABLE, a sleep exit_group() cuts short (the sleeper then
  /// calls kill_point()).
  void set_current_blocked(bool killable = false);
  /// __set_current_state(TASK_UNINTERRUPTIBLE or TASK_KILLABLE): set_current_blocked()
  /// without the barrier. Not a sync point.
  void mark_current_blocked(bool killable) {
    cur_->curr->state = TaskState::Blocked;
    cur_->curr->killable = killable;
  }
  /// __set_current_state(TASK_RUNNING): cancels set_current_blocked(). Not a sync point.
  void set_current_running() {
    cur_->curr->state = TaskState::Runnable;
    cur_->curr->killable = false;
  }
  /// The kernel's schedule(): sleeps if the task is blocked (returns at once if it was
  /// woken since set_current_blocked()), otherwise yields to the next runnable task.
  /// Scheduling with preemption or IRQs disabled is reported (sleep-in-atomic); doing it
  /// in interrupt context is a fatal report.
  void schedule();
  /// The architecture's part of a context switch (the kernel's __switch_to work that
  /// belongs to an arch, e.g. powerpc's flush of the lazy-MMU hash batch). When a task
  /// (not idle, not in an interrupt) enters schedule(), `out_needed(arg)` is asked
  /// host-side; if true, `out(arg, &task.local_flags)` runs on the CPU in that task's
  /// context with preemption and IRQs off, and may take sync points. `in(arg,
  /// &task.local_flags)` runs host-side when the task returns from schedule(), whether
  /// it was switched out or not. A deviation from Linux, which does the out part only
  /// when it really switches: here it may run for a schedule() that finds nothing else
  /// to run (harmless for what it is used for: a flush done early). Set on the host side
  /// (MMU set-up); {} clears them.
  struct SwitchHooks {
    bool (*out_needed)(void* arg) = nullptr;
    void (*out)(void* arg, std::uint32_t* local_flags) = nullptr;
    void (*in)(void* arg, std::uint32_t* local_flags) = nullptr;
    void* arg = nullptr;
  };
  /// All three functions, or none (`{}`); anything else is an emulator bug (panic).
  void set_switch_hooks(const SwitchHooks& hooks);
  /// set_current_blocked() + schedule(): sleeps until a later wake(). A wake() ordered
  /// before this call is lost, exactly as for "check, then sleep" code in the kernel.
  void block();
  /// Makes a blocked task runnable; a sync point. No effect on a task that is not
  /// blocked. Under full preemption, waking a task on the caller's CPU preempts the
  /// caller at once if it is preemptible (try_to_wake_up ends in preempt_enable()).
  /// Returns whether `t` was blocked (the kernel's wake_up_process()).
  bool wake(Task* t);

  // ---- joins, exits and thread groups (docs/ENGINE.md, "Joins and thread groups") ----
  //
  // A task exits when its body returns, at do_exit() (exit_current()), or when it is
  // killed. exit_group() marks every other live task of the caller's group
  // kill_pending and wakes those in a killable sleep; each of them exits at its next
  // *kill point*: before its body starts, in join(), at the end of a killable sleep
  // (kill_point() after the sleep), or wherever emulated code calls kill_point() (the
  // shim's schedule(), cond_resched(), return_to_user()). Kill points are only where
  // no engine structure (a lock's wait list, a wait-queue entry) refers to the task,
  // so a task asleep on a mutex, rwsem, wait queue or completion (uninterruptible
  // sleeps in the kernel) dies only after that wait ends normally, and a killed task
  // never releases what it holds: its locks stay held (lockdep reports the exit with
  // locks held; their waiters then deadlock, which the deadlock check reports).

  /// Sleeps until `t` is Dead (returns at once if it is) and returns its exit code; a
  /// sync point and a killable sleep. `t` waiting, through joins and sleeping locks,
  /// for the caller is a wait-for cycle: a fatal deadlock report, as for mutexes.
  /// Requires task context (might_sleep()).
  int join(Task* t);
  /// True if `t` has exited; a sync point (the caller sees the exit no earlier than it
  /// happened).
  bool task_dead(const Task* t);
  /// do_exit(code): the current task exits now. Its stack unwinds to the fiber's base
  /// (TaskExit); what it holds stays held. Does not return.
  [[noreturn]] void exit_current(int code);
  /// do_group_exit(code): marks every other live task of the current task's thread
  /// group to be killed (see above), then exits like exit_current(). A sync point.
  [[noreturn]] void exit_group(int code);
  /// A kill point: if the current task was killed by exit_group(), it exits here (does
  /// not return). Call only where no engine structure refers to the task. Not a sync
  /// point.
  void kill_point() {
    if (cur_->curr->kill_pending) [[unlikely]]
      kill_now();
  }
  /// fatal_signal_pending(current): exit_group() has marked the current task.
  bool kill_pending() const { return cur_->curr->kill_pending; }
  /// Blocks the current task until this CPU's clock would reach `t`.
  void sleep_until(Cycles t);
  /// Sends an IPI; `fn` (nullptr: reschedule) runs on `target` in IRQ context.
  void send_ipi(CpuId target, IpiFn fn, void* arg);
  /// Files a bug report. A fatal one stops the run: this call does not return then.
  void report_bug(const std::string& check, const std::string& message, bool fatal);
  /// Files `b` as report_bug() does. Cycle, CPU and task default to now and the running
  /// task. A report with details gets the last events of `involved` (and of the running
  /// task) and a closing rule appended.
  void report(BugReport b, const std::vector<const Task*>& involved = {});
  /// This moment as one side of a report: the running task, its CPU, now, and the call
  /// path of an operation at `loc`.
  /// The running task's call path from its innermost annotated function (no exact line):
  /// for reports made inside the engine, away from the emulated code's call.
  CallPath stack_path() const;
  Track track(Where loc) const { return Track{running_, cur_ ? cur_->id : kNoCpu, now(), path(loc)}; }
  /// Folds a workload-defined event into the digest (a sync point is not implied).
  void note_workload_event(std::uint64_t a, std::uint64_t b) {
    note(Ev::Workload, a, b);
    note_progress();
  }

 private:
  enum class EventKind : std::uint8_t { WakeTask, IpiArrive };
  /// Named event priorities: lower runs first among events at the same time, and every
  /// event runs before a CPU operation at the same time.
  enum EventPrio : std::uint16_t {
    kPrioIpiArrive = 10,  // an interrupt raised at t is seen by an instruction at t
    kPrioTimer = 20,      // timer wakeups after interrupts: a woken task sees them pending
  };
  struct Event {
    Cycles time;
    std::uint16_t prio;
    std::uint64_t seq;
    EventKind kind;
    CpuId cpu;
    Task* task;
    std::uint64_t arg;
  };
  struct TaskKilled {};  // thrown inside a fiber to unwind it at teardown
  struct TaskExit {};    // thrown inside a fiber to unwind it at do_exit() or a kill

  Task* spawn_task(std::string name, CpuId cpu, std::function<void()> fn, std::uint32_t tgid);
  /// kill_point() when the kill is pending: the task exits (not in IRQ context or at
  /// teardown, where it returns).
  [[gnu::noinline]] void kill_now();
  /// The rest of wake() at the caller's turn: the wakeup's arrival, its event, the
  /// enqueue. `t` is blocked.
  void wake_at_turn(Task* t);
  /// Joins: the task whose exit a joiner waits for (Task::blocked_owner of a join).
  static Task* join_target(const void* t) { return const_cast<Task*>(static_cast<const Task*>(t)); }

  /// T's extension slot: assigned by new_extension_slot() on the first call for T.
  template <class T>
  static std::size_t extension_slot() {
    static_assert(std::is_object_v<T> && std::is_same_v<T, std::remove_cv_t<T>>,
                  "an extension is keyed by its unqualified object type");
    static const std::size_t slot = new_extension_slot();
    return slot;
  }
  /// The next unused extension slot index (process-wide, thread-safe).
  static std::size_t new_extension_slot();

  // Turn-taking and fiber switching (machine.cc).
  void wait_turn(Cpu* c) {
    if (c->clock >= stop_at_) {
      park_self(c);  // past --max-cycles (never returns), or tearing down (returns)
      return;
    }
    if (queue_.empty() || queue_.front().time > c->clock) {
      if (time_) {
        // The default strategy is called directly so that its pick inlines (hot path).
        // Its choice is never later than c, which is within the time limit.
        ++steps_;
        const CpuId n = time_->pick_running(c->id, c->clock);
        if (n != c->id) hand_over(n);
        return;
      }
      ++steps_;
      const CpuId n = strategy_->pick(c->id, c->clock);
      if (n != c->id) resume_cpu(n);  // c joined the ready set
      return;
    }
    dispatch(c);
  }
  /// Gives the turn away: `cur` (nullptr if the current CPU is not ready any more) is
  /// put in the ready set and the chosen CPU's task resumes. Returns when this fiber is
  /// resumed again.
  [[gnu::noinline]] void dispatch(Cpu* cur);
  /// Hands the turn to CPU `n` (kNoCpu: nothing can run) and resumes its task.
  void resume_cpu(CpuId n) {
    if (n != kNoCpu && cpus_[static_cast<std::size_t>(n)].clock < stop_at_)
      hand_over(n);
    else
      resume_cpu_slow(n);
  }
  /// Hands the turn to CPU `n`, known to be within the time limit. The choice itself is
  /// not folded into the digest: every visible event records its CPU, so the order of
  /// CPUs is already part of the event stream.
  void hand_over(CpuId n) {
    cur_ = &cpus_[static_cast<std::size_t>(n)];
    if (cur_->curr != running_) switch_fiber(cur_->curr);
  }
  [[gnu::noinline]] void resume_cpu_slow(CpuId n);
  /// Parks every CPU at its next sync point; the run ends as Stopped.
  [[gnu::noinline]] void request_stop();
  CpuId choose(Cpu* cur);
  void make_fiber(Task* task);
  static void fiber_main(void* task);
  [[gnu::noinline]] void switch_fiber(Task* next);
  Task* fiber_exit(Task* t);
  void run_body(Task* t);
  void end_of_run();
  void make_ready(Cpu& c, Cycles t);
  void push_event(Cycles time, EventPrio prio, EventKind kind, CpuId cpu, Task* task, std::uint64_t arg);
  void handle_event(const Event& e);
  void note(Ev kind, std::uint64_t a, std::uint64_t b) {
    digest_.add(kind, cur_->clock, cur_->id, a, b);
    ++events_;
    if (note_slow_) [[unlikely]]
      note_slow(kind, a);
  }
  /// The rest of note() when a detailed trace, an event-count stop or an observer is set.
  [[gnu::noinline]] void note_slow(Ev kind, std::uint64_t a);


  // Shared accesses (machine.cc).
  /// A visible access: access() on the hot path, access_slow() when a strategy wants
  /// note_pending(), coverage is on, or the machine is torn down.
  void touch(LineId l, Access kind, Ev ev, Where loc) {
    if (access_slow_) [[unlikely]]
      access_slow(l, kind, ev, loc);
    else
      access(l, kind, ev);
  }
  void access(LineId l, Access kind, Ev ev);
  void access_slow(LineId l, Access kind, Ev ev, Where loc);
  /// The access itself, in this CPU's turn (after its sync point): its cost and causality
  /// (coherence.h), folded into the digest. What access(), access_slow() and
  /// owner_on_cpu() all end with.
  void perform_access(LineId l, Access kind, Ev ev);
  void changed(LineId l);
  void spin_wait(LineId l, bool until_resched = false);
  void unlink_waiter(Cpu& c);

  // Interrupts (machine.cc).
  [[gnu::noinline]] void take_interrupts(Cpu* c);
  void handle_irqs(Cpu* c);
  void post_ipi(Cpu& d, Cycles arrival, IpiFn fn, void* arg);
  /// Makes sure an idle or spinning CPU is woken at `t` to take an interrupt.
  void arm_irq_wake(Cpu& c, Cycles t);
  /// Recomputes next_irq and irq_gate after the IPI queue, the tick or IRQ state changed.
  void update_next_irq(Cpu& c);
  Cycles tick_interval() const { return tick_interval_; }
  /// True if a tick on this CPU could preempt its task (so a spin must be interrupted).
  bool tick_can_preempt(const Cpu* c) const {
    return params_.preempt == PreemptModel::Full && c->curr->preempt_count == 0 && !c->rq.empty();
  }
  /// True if a tick must end this CPU's spin: it could preempt, or it would set
  /// need_resched under an optimistic spin (which stops on need_resched).
  bool tick_interrupts_spin(const Cpu* c) const {
    return tick_can_preempt(c) || (c->spin_resched && !c->rq.empty() && !c->curr->is_idle);
  }

  // Scheduling (sched.cc).
  [[gnu::noinline]] void park_self(Cpu* c);
  /// schedule() for a preemption (the kernel's preempt_schedule): the task stays on the
  /// run queue whatever its state, so one preempted between set_current_blocked() and
  /// schedule() is not put to sleep.
  void preempt_schedule() { schedule_internal(true); }
  /// `timer_sleep`: sleep_until()'s schedule (the trace calls the switch S, not D).
  void schedule_internal(bool preempted, bool timer_sleep = false);
  /// schedule_internal() without the switch hooks.
  void schedule_pick(bool preempted, bool timer_sleep);
  void context_switch(Cpu* c, Task* prev, Task* next, SwitchState why);
  /// Which switch switch_bookkeeping() does: one from schedule(), or an exiting task's last.
  enum class SwitchFrom : std::uint8_t { Schedule, Exit };
  /// Everything a switch of `c` from `prev` to `next` does before the fiber switch, for
  /// context_switch() and fiber_exit() alike: charges ctx_switch, counts the switch and
  /// the progress, waits for `next`'s wakeup (account_switch_in), folds the CtxSwitch
  /// event into the digest and the trace (trace stamped in `prev`), makes `next` the
  /// CPU's task, tells optimistic spinners on the mutexes `prev` holds that it went off
  /// CPU, and turns IRQs on. Only the CtxSwitch note's place depends on `from`: before
  /// the trace event for Schedule, last for Exit (as each path always did).
  /// `why`: prev's state for the trace's CtxSwitch event.
  void switch_bookkeeping(Cpu* c, Task* prev, Task* next, SwitchFrom from, SwitchState why);
  /// `next` is about to run on `c` after a switch: a woken task cannot run before its
  /// wakeup arrives, so the CPU waits (idle) until then; records sched.latency.
  void account_switch_in(Cpu* c, Task* next);
  /// `waker`: the CPU whose running task wakes `t` (nullptr: a timer or a setup wakeup),
  /// where the trace records the wakeup.
  void enqueue_task(Task* t, Cycles at, const Cpu* waker = nullptr);
  static void rq_insert(std::deque<Task*>& rq, Task* t);
  void idle_loop(Cpu* c);
  bool preempt_after_irq(Cpu* c);
  /// At a tick of `c`: the livelock watchdog and the host deadline.
  void watchdog(Cpu* c);
  void check_deadlock();

  MachineParams params_;
  Topology topo_;
  CostTable costs_;
  Rng jitter_rng_;
  CoherenceModel coherence_;
  std::unique_ptr<Strategy> strategy_;
  TimeStrategy* time_;  // strategy_ when it is `time`, else nullptr
  std::uint64_t steps_ = 0;  // Strategy::pick() calls so far (RunStats::steps)
  std::unique_ptr<StackPool> own_pool_;
  StackPool* pool_;
  FiberFactory fibers_;
  Cycles tick_interval_;
  Cycles stop_at_;  // a CPU parks at this clock: max_cycles + 1, kNever, or 0 at teardown

  std::vector<Cpu> cpus_;
  std::vector<std::unique_ptr<Task>> tasks_;
  Task main_task_;           // the host context that called run()
  Trace* trace_ = nullptr;   // not owned; nullptr when not tracing
  std::unique_ptr<Trace> own_trace_;  // attached for a stop condition on trace events
  StopCondition stop_cond_;
  std::uint64_t stop_event_ = ~0ULL;  // stop when events_ reaches it
  std::uint64_t stop_seen_ = 0;       // trace events of stop_cond_.trace_kind seen
  bool stop_requested_ = false;
  bool note_slow_ = false;            // a detailed trace, an event-count stop or an observer is set
  EventObserver observer_;            // set_event_observer()
  /// Recomputes note_slow_ after the trace, stop condition or observer changed.
  void update_note_slow() { note_slow_ = stop_event_ != ~0ULL || (trace_ && trace_->detail()) || observer_; }
  Task* running_ = nullptr;  // the task whose fiber executes now
  Cpu* cur_ = nullptr;       // the CPU whose turn it is (owner of running_)
  std::vector<Event> queue_;  // timed events, min-heap on (time, prio, seq)
  std::uint64_t event_seq_ = 0;
  std::uint32_t next_task_id_ = 1;
  int live_tasks_ = 0;
  bool running_run_ = false;
  bool stop_ = false;
  bool parked_any_ = false;
  bool tearing_down_ = false;
  SwitchHooks switch_hooks_;  // set_switch_hooks(); none by default
  // tearing_down_, a strategy other than `time` (which wants note_pending()), or
  // coverage: the one flag an access tests, so the `time` hot path tests nothing more.
  bool access_slow_ = false;
  std::unique_ptr<InterleavingCoverage> coverage_;  // MachineParams::coverage
  EndReason end_ = EndReason::Completed;
  std::uint64_t progress_ = 0;        // note_progress() count
  Cycles livelock_cycles_ = 0;        // livelock_ms in cycles (0: off)
  bool host_deadline_set_ = false;
  bool host_limited_ = false;
  std::uint32_t host_check_ = 0;      // CPU switches since the host clock was read
  std::chrono::steady_clock::time_point host_deadline_{};

  Digest digest_;
  std::uint64_t events_ = 0;
  std::uint64_t switches_ = 0;
  std::vector<BugReport> bugs_;
  std::map<std::string, Histogram> histograms_;
  Histogram* sched_latency_;
  Histogram* preemptoff_;
  Histogram* irqsoff_;
  LockDep lockdep_;
  ObjectTracker objects_;
  std::unique_ptr<Rcu> rcu_;
  Machine* outer_machine_ = nullptr;  // this_machine() before run() (restored after)
  std::vector<void*> extensions_;     // by extension slot; not owned (set_extension)
};

}  // namespace smpemu
