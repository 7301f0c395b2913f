// RCU: read-side critical sections, grace periods driven by quiescent states, and
// callbacks run after a grace period.
//
// Two flavours (MachineParams::rcu, `--rcu`; docs/KERNEL.md, "RCU"):
//   sched   - classic / RCU-sched: rcu_read_lock() disables preemption, and every
//             preempt-off or IRQ-off region is a read-side section too. A CPU passes a
//             quiescent state (QS) at a context switch, in idle, or on return to user.
//   preempt - PREEMPT_RCU: rcu_read_lock() only counts nesting; readers may be
//             preempted; preempt-off and IRQ-off regions do not hold off grace periods.
//             A CPU also passes a QS at a tick that finds its task outside a read
//             section, and a grace period also waits for every task that was inside a
//             read section when it started.
// A grace period starts when callbacks wait and none is running; idle CPUs are in an
// extended QS (NOHZ idle). When the last QS is reported the period ends (histogram
// `rcu.gp`, from start to end) and the callbacks it covers run on the CPU that queued
// them, from a self-interrupt (the RCU softirq), in IRQ context. A callback queued
// during a grace period waits for the next one.
//
// Checks: blocking inside a read-side section is a sleep-in-atomic report (in schedule);
// a callback queued for an object already freed, or whose object is freed before it
// runs, is a fatal `rcu-callback-freed` report (ObjectTracker).
//
// Concurrency: one Rcu per Machine, called only by the running fiber. State changes are
// CPU-local bookkeeping done at the task's turn; the grace-period machinery itself is
// not costed (the kernel's is amortised and off the measured paths).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "emu/splat.h"
#include "emu/types.h"

namespace smpemu {

class Machine;
struct Task;
struct Cpu;
class Histogram;

enum class RcuFlavor : std::uint8_t { Sched, Preempt };
const char* rcu_flavor_name(RcuFlavor f);
/// Parses sched|preempt; throws std::invalid_argument otherwise.
RcuFlavor parse_rcu_flavor(const std::string& s);

/// Liveness of emulated objects (kmalloc/kfree-like), for use-after-free checks.
/// Ids are dense and never reused, so a stale id is always recognised.
class ObjectTracker {
 public:
  explicit ObjectTracker(Machine& m) : m_(m) {}
  /// A new live object; `kind` names it in reports. With MachineParams::history the
  /// allocation and the free are remembered (task, CPU, cycle, call path) for the
  /// KASAN-shaped use-after-free and double-free reports.
  std::uint32_t alloc(const std::string& kind, Where loc = Where::here());
  /// Frees it; a double free is a fatal `double-free` report.
  void free(std::uint32_t id, Where loc = Where::here());
  bool live(std::uint32_t id) const { return id < live_.size() && live_[id]; }
  /// Reports a fatal `use-after-free` if `id` is freed; `what` says which access.
  bool check(std::uint32_t id, const std::string& what, Where loc = Where::here());
  const std::string& kind(std::uint32_t id) const { return kinds_[id]; }

 private:
  Machine& m_;
  std::vector<std::uint8_t> live_;
  std::vector<std::string> kinds_;
  std::vector<Track> allocated_, freed_;  // by id, with history only
  void report_kasan(std::uint32_t id, const std::string& check, const std::string& message, Where loc);
};

/// The kernel's struct rcu_head: what call_rcu() queues. `object` (an ObjectTracker id,
/// or kNoObject) is the object the callback will free.
struct RcuHead {
  static constexpr std::uint32_t kNoObject = ~0u;
  void (*func)(RcuHead* head) = nullptr;
  std::uint32_t object = kNoObject;
  void* data = nullptr;  ///< for the callback's use
};

class Rcu {
 public:
  Rcu(Machine& m, RcuFlavor flavor);

  RcuFlavor flavor() const { return flavor_; }
  void read_lock();
  void read_unlock();
  /// True if the current task is inside a read-side section (rcu_read_lock_held()).
  bool read_lock_held() const;
  /// Queues `head->func(head)` to run after a grace period.
  void call_rcu(RcuHead* head, void (*func)(RcuHead*));
  /// Waits for a grace period (sleeps; might_sleep() applies).
  void synchronize();

  std::uint64_t completed() const { return completed_; }
  bool gp_active() const { return gp_active_; }

  // Hooks called by the Machine, each for the current CPU `c`, which they only read
  // (a Cpu is written by the Machine alone; on_tick asks it for need_resched).
  /// schedule() was called on `c` (a switch or not): a quiescent state, as in the
  /// kernel's __schedule() -> rcu_note_context_switch().
  void on_schedule(const Cpu& c);
  void on_idle(const Cpu& c);
  void on_user_return(const Cpu& c);
  /// A tick of `c`: a quiescent state if it runs its idle task (preempt RCU: or a task
  /// outside a read section); a holdout 3 ticks into the grace period is asked to
  /// reschedule (Machine::set_need_resched(), force_quiescent_state).
  void on_tick(const Cpu& c);
  /// The RCU softirq on the current CPU: runs the callbacks whose grace period ended.
  void run_callbacks();

 private:
  struct Pending {
    RcuHead* head;
    std::uint64_t target;  // runs when completed_ >= target
  };
  void report_qs(CpuId cpu);
  void maybe_start_gp();
  void maybe_end_gp();
  void end_gp();

  Machine& m_;
  RcuFlavor flavor_;
  Histogram* gp_hist_;
  std::uint64_t completed_ = 0;  // grace periods ended
  bool gp_active_ = false;
  Cycles gp_start_ = 0;
  std::vector<std::uint8_t> needs_qs_;  // per CPU, for the current grace period
  int cpus_pending_ = 0;
  int blockers_ = 0;                    // preempt flavour: readers from before the start
  std::vector<std::deque<Pending>> waiting_;  // per CPU, in call order
  std::vector<std::deque<RcuHead*>> ready_;   // per CPU, ended, not yet run
};

}  // namespace smpemu
