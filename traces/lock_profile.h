// A lock profile: the lock statistics of a run folded from its trace's lock events,
// with the meaning the kernel's CONFIG_LOCK_STAT gives them
// (Documentation/locking/lockstat.rst), for `--lock-stat` (cli/lock_stat.h) and
// `--lock-contention` (cli/lock_contention.h).
//
// What it counts, per lock class and per mode (write = exclusive or write, read):
//   - acquisitions: every LockAcquire; contentions: the acquisitions that had to wait
//     (a LockContend precedes them);
//   - wait times (min, max, total) over the contended acquisitions only: an
//     uncontended acquisition adds nothing, a class with no contention has no wait;
//   - hold times over the releases (LockRelease, mode from its flags);
//   - acq-bounces: acquisitions on a CPU other than the one that acquired the same lock
//     instance last (its cache line comes from another CPU); con-bounces: contentions
//     on a CPU other than the last acquirer's. The first acquisition of an instance in
//     the trace is no bounce (the kernel compares with the CPU that initialised it).
//   - contention points: the lock points (class + call path, traces/trace.h) of the
//     contended acquisitions; contending points: the point where the lock instance was
//     last acquired before each contended acquisition, i.e. by the holder that handed
//     it over. Every point is counted (the kernel keeps the first 4 it sees).
// And per (call path, lock type) the contended acquisitions and their wait, as
// `perf lock contention` aggregates by caller, with the part of it spent spinning (the
// LockContend's flags have kSpin: spinlocks, rwlocks, a mutex's optimistic spin).
//
// Differences from the kernel: contentions are recorded at the acquisition that ends
// the wait (the trace has them there), so con-bounces and contending points look at the
// last acquirer before the waiter got the lock rather than at the holder when it
// started to wait; with several holders in between (a queue), the last one is taken;
// a wait that never ends (deadlock, end of run) is not counted.
//
// Invariants: classes and rows are in the order of their first event, so the profile
// is a function of the event sequence; wait.count == contentions of a mode.
// Feeding: as a TraceListener attached to the Trace before the run (every event, even
// those the ring drops later), or lock_profile_of() on the events a trace kept.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "traces/trace.h"

namespace smpemu {

/// Count, minimum, maximum and total of durations in cycles (the kernel's lock_time).
struct LockTime {
  std::uint64_t count = 0;
  Cycles min = 0, max = 0, total = 0;
  void add(Cycles c);
};

/// One lock_stat row: a class taken in one mode.
struct LockModeStats {
  std::uint64_t acquisitions = 0;
  std::uint64_t acq_bounces = 0;
  std::uint64_t con_bounces = 0;
  LockTime wait;  ///< contended acquisitions only; wait.count is the contentions
  LockTime hold;  ///< releases
  bool used() const { return acquisitions > 0 || hold.count > 0; }
};

/// A lock point seen `count` times (its id is the trace's).
struct LockPointCount {
  std::uint32_t point = 0;
  std::string path;  ///< LockPoint::path(), "?" when the trace does not know it
  std::uint64_t count = 0;
};

/// A lock class: its write and read rows and its contention points.
struct LockClassProfile {
  std::string name;
  LockModeStats write;  ///< exclusive (spinlock, mutex, bit lock) and write acquisitions
  LockModeStats read;
  std::vector<LockPointCount> contention_points;  ///< first-seen order
  std::vector<LockPointCount> contending_points;
  std::uint64_t contentions() const { return write.wait.count + read.wait.count; }
};

/// The contended acquisitions of one lock type along one call path.
struct LockContentionRow {
  std::string caller;     ///< LockPoint::path() ("?" unknown)
  std::string functions;  ///< LockPoint::functions ("" unknown)
  std::string type;       ///< lock_type_name()
  std::string cls;        ///< the lock class
  LockTime wait;
  /// The acquisitions of `wait` whose LockContend has kSpin: all of them for a spinlock
  /// or rwlock, those a mutex won by optimistic spinning.
  LockTime spin;
};

/// The `n` most frequent of `points`, most frequent first (ties in first-seen order).
std::vector<LockPointCount> top_points(const std::vector<LockPointCount>& points, std::size_t n);

class LockProfile : public TraceListener {
 public:
  /// Folds one event of `t` (lock events only; the others are ignored).
  void on_event(const Trace& t, const TraceEvent& e) override;
  /// Every class with a lock event, in order of its first one.
  const std::vector<LockClassProfile>& classes() const { return classes_; }
  /// Contended acquisitions by call path and lock type, in order of the first.
  const std::vector<LockContentionRow>& contentions() const { return rows_; }

 private:
  /// What a lock event says: its class (index into classes_), mode and point.
  struct Taken {
    std::size_t cls;
    bool read;
    std::uint32_t point;
  };
  Taken taken(const Trace& t, const TraceEvent& e);
  LockModeStats& mode(const Taken& k) { return k.read ? classes_[k.cls].read : classes_[k.cls].write; }
  static void count_point(const Trace& t, std::vector<LockPointCount>& v, std::uint32_t point);
  /// The last acquisition of a lock instance: on which CPU (kNone: not acquired yet), at
  /// which point.
  struct Last {
    static constexpr std::int16_t kNone = -1;
    std::int16_t cpu = kNone;
    std::uint32_t point = 0;
  };
  /// A LockContend waiting for its LockAcquire on the same CPU.
  struct Pending {
    bool waiting = false;
    std::uint32_t name = 0;
    bool spin = false;  // the LockContend's flags (b >> 32) have kSpin
  };
  /// `v[i]`, grown with default values to hold it (ids and CPUs are small and dense).
  template <class T>
  static T& slot(std::vector<T>& v, std::size_t i) {
    if (i >= v.size()) v.resize(i + 1);
    return v[i];
  }
  std::vector<LockClassProfile> classes_;
  std::map<std::string, std::size_t> class_index_;
  std::vector<std::size_t> point_class_;  // by lock point id: class index + 1 (0: not seen yet)
  std::vector<LockContentionRow> rows_;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::size_t>, std::size_t> row_index_;  // (point, flags, class)
  std::vector<Last> last_;        // by lock name id
  std::vector<Pending> pending_;  // by CPU + 1 (0: events without a CPU)
};

/// The profile of the events `t` kept (the whole run if it dropped none).
LockProfile lock_profile_of(const Trace& t);

}  // namespace smpemu
