// The trace: a typed, compact record of what happened in a run, for people (Perfetto,
// ftrace text, lock_stat) and for tools (trace diff, --stop-at).
//
// Every event carries its virtual time, CPU, task and the CPU's state flags at that
// moment (preempt depth, IRQs off, need_resched, in hardirq), so the ftrace export can
// print the kernel's latency-format flags column. Spans are recorded once, when they
// end: a lock release carries the hold time, a preempt-off or IRQ-off event carries the
// start of the region, so exporters need no pairing and a ring buffer that dropped the
// start still shows complete spans.
//
// Bounded: events go to a ring buffer of `capacity` events (32 bytes each); when it is
// full the oldest are overwritten and counted in dropped(). Off by default: the engine
// tests one pointer per traced site, and the fine-grained `Sync` events (every load,
// store, atomic, barrier, spin-wait; what a trace diff needs) only with `detail`.
//
// Strings (lock instance names, bug texts, workload event names) are interned once;
// events refer to them by id. Task names are kept by task id. Lock points (a lock class
// and the call path that takes it) have a table of their own, so every lock event can
// name where its lock was taken in 24 bits (lock_event::pack()); their ids are given in
// order of first use (the look-up cache is keyed by code addresses, the ids are not).
//
// Listeners (set_listener(), add_listener()) see every event as it is added, before the
// ring can drop it: what needs the whole run (lock statistics, the wait profile) folds
// the events there, whatever the ring keeps. Several may listen, each seeing the events
// in the same order (listeners in the order they were added).
//
// Determinism: a trace is a function of the run (no host time or addresses); two runs
// with the same digest give the same trace.
// Concurrency: one Trace per Machine, written only by the running fiber.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "emu/callpath.h"
#include "emu/types.h"

namespace smpemu {

enum class TraceKind : std::uint8_t {
  TaskStart,    ///< a = task id
  TaskExit,     ///< a = task id
  CtxSwitch,    ///< a = prev task id, b = next task id | SwitchState << 32 (ctx_switch_payload())
  /// a = woken task id, b = its CPU. Stamped like the kernel's sched_waking: on the waker's
  /// CPU at the waker's time, or, for a timer wakeup, on the woken task's CPU at expiry.
  Wakeup,
  Tick,         ///< a = tick number on this CPU
  IpiSend,      ///< a = target CPU, b = 1 for a function IPI, 0 for a reschedule IPI
  IpiHandle,    ///< a = 1 for a function IPI, 0 for a reschedule IPI
  /// a = lock_event::pack(lock name id, flags, lock point of the contended acquisition),
  /// b = lock class id | lock_contention flags << 32; time = when the lock was
  /// requested (recorded at the acquisition, right before its LockAcquire). The flags
  /// are the lock's (those of `a`), plus kSpin for a mutex won by optimistic spinning
  /// (the kernel's flags while a waiter spins on the owner: LCB_F_SPIN | LCB_F_MUTEX).
  LockContend,
  LockAcquire,  ///< a = lock_event::pack(name id, flags, point), b = wait cycles (request to acquisition)
  /// a = lock_event::pack(name id, flags, point of the acquisition it ends), b = hold
  /// cycles (span ends at `time`)
  LockRelease,
  PreemptOff,   ///< a = start of the preempt-off region (span ends at `time`)
  IrqOff,       ///< a = start of the IRQ-off region (span ends at `time`)
  RcuGpStart,   ///< a = grace-period number
  RcuGpEnd,     ///< a = grace-period number, b = duration
  TlbFlush,     ///< a = address (or ~0 for a full flush), b = pages
  PageFault,    ///< a = address, b = 1 for a write fault
  Bug,          ///< a = text id ("check: message"), b = 1 if fatal
  Mark,         ///< workload-defined: a = name id, b = value
  Sync,         ///< detail only: a = engine event kind (traces/digest.h Ev), b = payload (line)
  IrqExit,      ///< end of an interrupt handler: a = its x86 vector (irq_vector)
};
const char* trace_kind_name(TraceKind k);

/// Why a task left its CPU, as the kernel's sched_switch prev_state tells it. Carried in
/// the high half of a CtxSwitch event's `b` (Unknown in traces written without it).
enum class SwitchState : std::uint8_t {
  Unknown = 0,
  Runnable,         ///< "R": gave the CPU up and stays runnable (yield, idle)
  Preempted,        ///< "R+": preempted (tick, wakeup, cond_resched, preempt_enable)
  Sleeping,         ///< "S": an interruptible timer sleep (clock_nanosleep, sleep_until)
  Uninterruptible,  ///< "D": waits for a lock, a completion, a wait queue, a page lock
  Dead,             ///< "X": its last switch, after it exited
};

/// The kernel's prev_state letter of `s` ("R", "R+", "S", "D", "X"; "" for Unknown).
const char* switch_state_letter(SwitchState s);

/// True for the name of an idle task ("swapper/N"), which exporters show as pid 0.
bool is_idle_task_name(const std::string& name);

/// The `b` of a CtxSwitch event: the next task and why the previous one left.
constexpr std::uint64_t ctx_switch_payload(std::uint32_t next, SwitchState why) {
  return next | static_cast<std::uint64_t>(why) << 32;
}

/// The kernel's lock:contention_begin flags (LCB_F_*), for LockContend events.
namespace lock_contention {
constexpr std::uint32_t kSpin = 1u << 0;
constexpr std::uint32_t kRead = 1u << 1;
constexpr std::uint32_t kWrite = 1u << 2;
constexpr std::uint32_t kMutex = 1u << 5;
}  // namespace lock_contention

/// The `a` of LockContend, LockAcquire and LockRelease events: which lock instance (its
/// name id, low 32 bits), how it is taken (its lock_contention flags, bits 32..39: none
/// of kRead/kWrite is exclusive, 0 is a lock_page bit lock) and where (the lock point
/// id, bits 40..63; 0 when unknown). Traces written before lock points have 0 there.
namespace lock_event {
constexpr std::uint32_t kMaxPoint = (1u << 24) - 1;  ///< larger point ids are not recorded (0)
constexpr std::uint64_t pack(std::uint32_t name, std::uint32_t flags, std::uint32_t point) {
  return name | static_cast<std::uint64_t>(flags & 0xffu) << 32 |
         static_cast<std::uint64_t>(point <= kMaxPoint ? point : 0) << 40;
}
constexpr std::uint32_t name(std::uint64_t a) { return static_cast<std::uint32_t>(a); }
constexpr std::uint32_t flags(std::uint64_t a) { return static_cast<std::uint32_t>(a >> 32) & 0xffu; }
constexpr std::uint32_t point(std::uint64_t a) { return static_cast<std::uint32_t>(a >> 40); }
}  // namespace lock_event

/// How `flags` (lock_contention) take a lock, as `perf lock contention` names lock
/// types: "spinlock", "mutex", "rwsem:R", "rwsem:W", "rwlock:R", "rwlock:W"; "bitlock"
/// for 0 (lock_page).
const char* lock_type_name(std::uint32_t flags);

/// A lock point: a lock class taken along one call path.
struct LockPoint {
  std::string cls;        ///< the class ("mmap_sem", "i_mmap_lock/1")
  std::string position;   ///< "file:line" of the lock call
  std::string functions;  ///< the function making it and its callers: "f <- caller <- ..."
  /// "file:line f <- caller <- ..." (CallPath::str()).
  std::string path() const { return position + " " + functions; }
};

/// x86 vectors of the interrupts the engine models (arch/x86/include/asm/irq_vectors.h).
namespace irq_vector {
constexpr std::uint64_t kLocalTimer = 0xec;    ///< LOCAL_TIMER_VECTOR (the tick)
constexpr std::uint64_t kCallFunction = 0xfb;  ///< CALL_FUNCTION_VECTOR (function IPI)
constexpr std::uint64_t kReschedule = 0xfd;    ///< RESCHEDULE_VECTOR (reschedule IPI)
}  // namespace irq_vector

/// CPU state flags of an event (ftrace latency format).
namespace trace_flags {
constexpr std::uint8_t kPreemptMask = 0x0f;  ///< preempt depth, saturated at 15
constexpr std::uint8_t kIrqsOff = 0x10;
constexpr std::uint8_t kNeedResched = 0x20;
constexpr std::uint8_t kHardIrq = 0x40;
}  // namespace trace_flags

struct TraceEvent {
  Cycles time = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint32_t task = 0;  ///< task id (idle tasks are swapper/N)
  std::int16_t cpu = 0;
  TraceKind kind = TraceKind::Mark;
  std::uint8_t flags = 0;
  bool operator==(const TraceEvent&) const = default;

  /// CtxSwitch only: the task switched to.
  std::uint32_t next_task() const { return static_cast<std::uint32_t>(b); }
  /// CtxSwitch only: why the previous task (`a`) left.
  SwitchState switch_state() const { return static_cast<SwitchState>((b >> 32) & 0xff); }
  /// Lock events only: the lock instance's name id (lock_event).
  std::uint32_t lock_name() const { return lock_event::name(a); }
};
static_assert(sizeof(TraceEvent) == 32, "a trace event is 32 bytes");

class Trace;

/// Sees each event of a Trace as it is added (Trace::set_listener()).
class TraceListener {
 public:
  virtual ~TraceListener() = default;
  virtual void on_event(const Trace& t, const TraceEvent& e) = 0;
};

class Trace {
 public:
  /// A trace keeping the last `capacity` events (>= 1); `detail` adds Sync events.
  explicit Trace(std::size_t capacity = kDefaultCapacity, bool detail = false);
  static constexpr std::size_t kDefaultCapacity = 1u << 20;

  bool detail() const { return detail_; }
  void add(const TraceEvent& e) {
    // The ring grows as events arrive (a large capacity costs nothing until used) and
    // wraps once it holds `capacity` events.
    if (ring_.size() < capacity_) {
      ring_.push_back(e);
    } else {
      ring_[head_] = e;
      head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    }
    ++written_;
    if (!listeners_.empty()) [[unlikely]]
      for (TraceListener* l : listeners_) l->on_event(*this, e);
  }
  /// `l` (not owned; nullptr for none) is the only listener: it sees every event added
  /// from now on, and the listeners added before see none.
  void set_listener(TraceListener* l) {
    listeners_.clear();
    if (l) listeners_.push_back(l);
  }
  /// `l` (not owned, not nullptr) sees every event added from now on, after the listeners
  /// added before it.
  void add_listener(TraceListener* l) { listeners_.push_back(l); }
  std::size_t capacity() const { return capacity_; }
  /// Id of `s` in the string table (added on first use).
  std::uint32_t intern(const std::string& s);
  const std::string& str(std::uint64_t id) const;

  /// Id (1..lock_event::kMaxPoint, or 0 past it) of the lock point "class `cls` taken
  /// along `where`", added on first use; `cls_id` is the caller's id of the class (the
  /// engine's), which keys the look-up together with the path's code positions, so a
  /// known point costs no string. Equal texts give one id.
  std::uint32_t lock_point(std::uint32_t cls_id, const std::string& cls, const CallPath& where);
  /// The same for a point given as text (hand-made traces, tests).
  std::uint32_t lock_point(const LockPoint& p);
  /// The point `id` (nullptr for 0 or an unknown id).
  const LockPoint* lock_point_of(std::uint32_t id) const;

  /// Task names by id (set by the Machine as tasks are created).
  void set_task_name(std::uint32_t id, const std::string& name);
  const std::string& task_name(std::uint32_t id) const;
  /// Real-time (SCHED_FIFO) tasks, by id (set by the Machine; false when never set).
  void set_task_rt(std::uint32_t id, bool rt);
  bool task_rt(std::uint32_t id) const { return id < task_rt_.size() && task_rt_[id]; }
  /// Run metadata for exporters.
  int ncpus = 0;
  double clock_hz = 1e9;
  std::string workload;

  /// The events kept, oldest first (in recording order, which is not strictly time
  /// order: a LockContend is stamped with the earlier request time).
  std::vector<TraceEvent> events() const;
  std::uint64_t written() const { return written_; }
  std::uint64_t dropped() const { return written_ - ring_.size(); }

 private:
  bool detail_;
  std::size_t capacity_;
  std::vector<TraceEvent> ring_;  // grows to capacity_, then head_ is the oldest event
  std::size_t head_ = 0;
  std::uint64_t written_ = 0;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> string_ids_;  // ids never depend on its order
  std::vector<LockPoint> points_;  // id - 1
  std::map<std::tuple<std::string, std::string, std::string>, std::uint32_t> point_ids_;
  // (class id, site line, site file, site function, callers' functions) -> point id
  using PointKey = std::pair<std::uint32_t, std::array<std::uintptr_t, 3 + CallPath::kMaxCallers>>;
  struct PointKeyHash {
    std::size_t operator()(const PointKey& k) const {
      std::size_t h = k.first;
      for (std::uintptr_t v : k.second) h = (h ^ v) * 0x100000001b3ULL;
      return h;
    }
  };
  /// Never iterated (ids come from point_ids_), so its order cannot reach an output.
  std::unordered_map<PointKey, std::uint32_t, PointKeyHash> point_cache_;
  std::vector<TraceListener*> listeners_;
  std::vector<std::string> task_names_;
  std::vector<bool> task_rt_;
};

}  // namespace smpemu
