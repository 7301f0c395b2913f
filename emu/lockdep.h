// Lock classes, lock statistics and the lock-order checker (lockdep).
//
// Every lock belongs to a class, named when the lock is initialised
// ("i_mmap_lock", "mmap_sem", ...); nested acquisitions of one class take a subclass
// ("name/1"), as with the kernel's *_nested() variants. Per class the engine keeps
// acquisitions, contentions and the histograms `lock.<class>.wait` (request to
// acquisition) and `lock.<class>.hold` (acquisition to release).
//
// The checker follows the kernel's lockdep: acquiring lock B while holding A records
// the class edge A -> B, with the task and cycle where it was first seen. If B already
// reaches A through recorded edges, the two orders can deadlock: a `lock-order` report
// (a warning, once per new edge), whether or not this run deadlocks. Trylocks cannot
// deadlock and add no edge, but the lock they take is held like any other. Holding a
// lock class while acquiring the same class again (without a subclass) is reported as
// possible recursive locking. Releasing a lock the task does not hold is an
// `unlock-not-held` warning (and the release is not performed); a task that exits
// holding locks gets an `exit-holding-lock` warning.
//
// Determinism: class ids are dense, in registration order; edges are kept in vectors.
// Concurrency: one LockDep per Machine; only the running fiber calls it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "emu/callpath.h"
#include "emu/histogram.h"
#include "emu/splat.h"
#include "emu/types.h"

namespace smpemu {

class Machine;
class Trace;
struct Task;
class SpinLock;
class Mutex;
class RwSem;
class RwLock;

/// How a lock is held. BitLock: a lock built outside the engine from a flag bit and a
/// wait queue (lock_page), reported through kernel/lockdep.h.
enum class LockKind : std::uint8_t { Spin, Mutex, RwsemRead, RwsemWrite, RwlockRead, RwlockWrite, BitLock };
const char* lock_kind_name(LockKind k);

/// A lock built outside the engine (BitLock), known only by the address of what it
/// locks (the struct page of lock_page). The engine performs no operation on it.
struct MapLock {
  const void* key = nullptr;
  friend bool operator==(MapLock, MapLock) = default;
};

/// What a held lock is: a typed handle, so the engine reaches the lock's own operations
/// without casting back from a kind tag (std::get_if on the alternative it needs).
/// Equality is identity: the same alternative and the same object.
using LockRef = std::variant<const SpinLock*, const Mutex*, const RwSem*, const RwLock*, MapLock>;

/// True if `kind` is how a lock of `ref`'s type can be held (checked in Debug builds).
bool lock_kind_matches(const LockRef& ref, LockKind kind);

/// One lock class and its statistics.
struct LockClass {
  std::string name;
  std::uint64_t acquisitions = 0;
  std::uint64_t contentions = 0;
  Histogram* wait = nullptr;  ///< lock.<name>.wait, owned by the Machine
  Histogram* hold = nullptr;  ///< lock.<name>.hold
};

/// A lock a task holds (the task's lockdep stack entry).
struct HeldLock {
  LockRef lock;                ///< the lock instance (identity; never ordered or printed)
  std::uint32_t cls = 0;
  LockKind kind = LockKind::Spin;
  Cycles since = 0;            ///< acquisition time, for the hold histogram
  std::string instance;        ///< "class#n", for reports
  Where site{};                ///< the acquisition's source line
  /// Its whole call path, interned by LockDep (valid as long as the Machine), when it
  /// has callers; null for the site alone (history and trace off keep only the site).
  const CallPath* path = nullptr;

  /// Where it was acquired (reports, held-lock lists).
  CallPath where() const {
    if (path) return *path;
    CallPath p;
    p.site = site;
    return p;
  }
};

class LockDep {
 public:
  /// `order_checks` false (--lockdep off): check_order() records and reports nothing;
  /// held locks, statistics and the unlock/exit checks stay.
  LockDep(Machine& m, bool order_checks) : m_(m), order_checks_(order_checks) {}

  /// The class called `name` (with `subclass` > 0: "name/subclass"), created on first use.
  std::uint32_t class_of(const std::string& name, unsigned subclass = 0);
  const LockClass& cls(std::uint32_t id) const { return classes_[id]; }
  const std::vector<LockClass>& classes() const { return classes_; }
  /// A fresh instance number for a lock of class `id` (names in reports: "class#n").
  std::uint32_t new_instance(std::uint32_t id) { return ++instances_[id]; }

  /// Before `t` waits for or takes a lock at `where`: the order check (not for trylocks).
  /// Nothing when order checks are off.
  void check_order(Task* t, std::uint32_t cls, const std::string& instance, const CallPath& where);
  /// `t` now holds the lock, taken at `where`; `requested` is when it asked (wait
  /// histogram), `contended` whether it had to wait, `spun` whether it waited on CPU
  /// all along although the lock can sleep (a mutex won by optimistic spinning: its
  /// trace LockContend carries kSpin | kMutex, the kernel's flags of that phase).
  void acquired(Task* t, LockRef lock, std::uint32_t cls, LockKind kind, const std::string& instance,
                Cycles requested, bool contended, const CallPath& where, bool spun = false);
  /// `t` releases the lock at `loc`. Returns false (after a report) if it did not hold it.
  bool released(Task* t, LockRef lock, const std::string& instance, Where loc);
  /// An `unlock-not-held` report (`message` is its one line): `t` releases `instance` at
  /// `loc`, and `why` it may not ("but there are no more locks to release!").
  void bad_unlock(Task* t, const std::string& instance, Where loc, std::string message, const std::string& why);
  /// True if `t` holds `lock`.
  static bool holds(const Task* t, const LockRef& lock);
  /// Reports the locks a task still holds when it exits.
  void check_exit(Task* t);

 private:
  /// The `a` of a lock event of `instance` (class `cls`, held as `kind`, taken along
  /// `where`) in `tr`: traces/trace.h lock_event.
  std::uint64_t lock_event_a(Trace& tr, const std::string& instance, std::uint32_t cls, LockKind kind,
                             const CallPath& where) const;
  bool reaches(std::uint32_t from, std::uint32_t to, std::vector<std::uint32_t>& path) const;
  /// A recorded dependency: class `to` was first acquired while holding the edge's
  /// source class, by `track` (task, CPU, cycle and the acquisition's path).
  struct Edge {
    std::uint32_t to;
    Track track;
  };
  /// The recorded edge from -> to (it exists: reaches() found it).
  const Edge& edge(std::uint32_t from, std::uint32_t to) const;
  void report_circular(Task* t, const HeldLock& held, std::uint32_t cls, const std::string& instance,
                       const CallPath& where, const std::vector<std::uint32_t>& path);
  void report_recursive(Task* t, const HeldLock& held, const std::string& instance, const CallPath& where);
  /// Hash of a call path's positions (file and function by address, as Where compares).
  struct PathHash {
    std::size_t operator()(const CallPath& p) const;
  };
  Machine& m_;
  bool order_checks_;  // MachineParams::lockdep
  /// Call paths of acquisitions, one copy each (HeldLock::path points into it).
  std::unordered_set<CallPath, PathHash> paths_;
  std::vector<LockClass> classes_;
  std::map<std::string, std::uint32_t> by_name_;
  std::vector<std::uint32_t> instances_;
  std::vector<std::vector<Edge>> edges_;  // by class id
};

}  // namespace smpemu
