// Where a run's CPU time went waiting for locks, in the shape of `perf report
// --no-children`: the contended acquisitions of a LockProfile (traces/lock_profile.h)
// split into blocked and spinning time, per lock class and per call path, each as a share
// of all CPU time. `--wait-profile` prints it (cli/lock_stat.h) and adds it to the run's
// metrics (wait_metrics()).
//
// The denominator, "all CPU time", is ncpus x the emulated run's duration in cycles (the
// largest CPU clock at the end of the run, RunStats::cycles). A share is a fraction of
// it, 0..1 (not a percentage; the text view prints percentages).
//
// What counts as which:
//   - spinning: the wait of a contended spinlock or rwlock acquisition (the task spun on
//     its CPU), and the wait of a mutex acquisition that the trace marks as won by
//     optimistic spinning (LockContend flags kSpin | kMutex, `--mutex-spin on`; the
//     waiter never left its CPU);
//   - blocked: the wait of every other contended acquisition of a sleeping lock: mutex,
//     rwsem (read or write) and lock_page's bit lock. A mutex waiter that spun first and
//     then slept counts as blocked for its whole wait: the trace has one wait per
//     acquisition, so the spin before the sleep cannot be told apart.
// A wait is the acquisition's: from its request to the acquisition (a task preempted or
// interrupted while it spins still counts, as perf's contention time does). Waits that
// never end (deadlock, end of run) are not counted, as in the LockProfile.
//
// Shares of spinning time are at most 1 (a CPU spins for one task at a time), but blocked
// time is task time: a task waits off CPU while its CPU runs another, so with more
// waiting tasks than CPUs the blocked share can pass 1. It is still a share of the same
// denominator, so blocked and spinning add up and compare across runs.
//
// Metric keys (wait_metrics()): "blocked" and "spin" (totals, always present), per class
// "blocked.CLASS" and "spin.CLASS", per class and function "blocked.CLASS.FUNCTION" and
// "spin.CLASS.FUNCTION", the latter two only when not zero (an absent key is zero).
// FUNCTION is wait_function() of the call path; CLASS and FUNCTION pass through
// metric_part(). Call paths with the same key add up.
//
// Invariants: a function of the LockProfile, ncpus and the duration (no host state, a
// total order for every sort); per class, blocked + spin is the class total, and the
// paths of a class add up to it; every share is the cycles over cpu_time().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "traces/lock_profile.h"

namespace smpemu {

/// Which way a task waited for a lock.
enum class WaitKind : std::uint8_t {
  Blocked,  ///< a sleeping lock: off CPU, or about to sleep
  Spin,     ///< on CPU, spinning
};

/// "blocked" or "spin" (the metric key's first part).
const char* wait_kind_key(WaitKind k);

/// Waits of one kind for one lock class along one call path.
struct WaitPath {
  WaitKind kind = WaitKind::Blocked;
  std::string type;      ///< lock_type_name() ("mutex", "rwsem:R", "spinlock", "bitlock")
  std::string path;      ///< LockPoint::path() ("?" when unknown)
  std::string function;  ///< wait_function() of the path's functions ("?" when unknown)
  std::uint64_t count = 0;  ///< contended acquisitions
  Cycles cycles = 0;        ///< their wait
};

/// A lock class's waits: totals and call paths, largest first.
struct WaitClass {
  std::string name;
  Cycles blocked = 0, spin = 0;
  std::vector<WaitPath> paths;  ///< by cycles, largest first; ties by kind, type, path
  Cycles total() const { return blocked + spin; }
};

struct WaitProfile {
  int ncpus = 0;
  Cycles duration = 0;            ///< the emulated run's length (RunStats::cycles)
  Cycles blocked = 0, spin = 0;   ///< over every class
  std::vector<WaitClass> classes;  ///< classes that waited, by total, largest first; ties by name
  /// The denominator of every share: ncpus x duration.
  double cpu_time() const { return static_cast<double>(ncpus) * static_cast<double>(duration); }
  /// `c` as a share of cpu_time() (0 when that is 0).
  double share(Cycles c) const;
};

/// The wait profile of `p` for a run on `ncpus` CPUs lasting `duration` cycles.
WaitProfile wait_profile_of(const LockProfile& p, int ncpus, Cycles duration);

/// The function a wait is charged to: of `functions` ("f <- caller <- ...", innermost
/// first), the first whose name does not contain "lock" (page_lock_anon_vma_read,
/// anon_vma_lock_read, lock_page, mutex_lock are lock wrappers), or the innermost if
/// every one does; "?" for an empty text.
std::string wait_function(const std::string& functions);

/// `s` as one part of a dotted metric key: every character other than ASCII letters,
/// digits and '_' becomes '_' ("i_mmap_lock/1" -> "i_mmap_lock_1", "?" -> "_"); "" -> "_".
std::string metric_part(const std::string& s);

/// The metrics of `w` (keys above), as shares of its CPU time.
std::map<std::string, double> wait_metrics(const WaitProfile& w);

/// True for a key wait_metrics() makes ("blocked", "spin", or one starting with either
/// and a '.').
bool is_wait_metric(const std::string& key);

}  // namespace smpemu
