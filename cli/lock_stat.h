// A run's lock statistics as text, from a LockProfile (traces/lock_profile.h): the
// /proc/lock_stat table (--lock-stat), the `perf lock contention` summary
// (--lock-contention) and the wait profile (--wait-profile).
//
// The table has CONFIG_LOCK_STAT's layout (Documentation/locking/lockstat.rst):
//     lock_stat version 0.4
//     ----------------------------------------------------------------- (221 dashes)
//                                   class name    con-bounces    contentions   waittime-min ...
//     -----------------------------------------------------------------
//
//                                     NAME-W:              3             12           0.05 ...
//                                     NAME-R:              1              4           0.11 ...
//                                       ----
//                                       NAME              9          mm/mmap.cc:309 do_mmap <- ...
//                                       ...   (up to 4 contention points)
//                                       ----
//                                       NAME              7          mm/memory.cc:88 handle_mm_fault <- ...
//                                       ...   (up to 4 contending points)
//
//     ................................................................. (between classes)
// The columns are the kernel's: class name (right-aligned in 40, then ':'),
// con-bounces, contentions, waittime-min, waittime-max, waittime-total, waittime-avg,
// acq-bounces, acquisitions, holdtime-min, holdtime-max, holdtime-total, holdtime-avg,
// each 14 wide. Times are microseconds with 2 decimals, rounded like the kernel's
// snprint_time (cycles -> ns through clock_hz first). Wait times cover the contended
// acquisitions only. A class taken both for read and for write has a NAME-W row and a
// NAME-R row, one taken only for read a NAME-R row, any other a NAME row (as the
// kernel prints them). Classes are sorted by contentions (both rows), most first, ties
// in order of first appearance; only classes that were taken are listed.
//
// A class with contentions is followed by its contention points (the call paths whose
// acquisitions had to wait) and its contending points (where the lock was taken by the
// holder that made them wait), each the 4 most frequent, most frequent first, as lines
// "NAME COUNT file:line function <- callers": the kernel's `[<ip>] symbol+off` becomes
// the source position (right-aligned where the ip stands) and the call path.
//
// Differences from the kernel, on purpose or by lack of data: see traces/lock_profile.h
// (contentions sampled at the end of the wait; all points counted, the most frequent
// shown rather than the first 4 seen); "acquisitions" counts acquisitions, where the
// kernel counts hold samples (releases).
//
// The summary is perf lock contention's default output (aggregated by caller):
//      contended   total wait     max wait     avg wait         type   caller
//
//             12     35.20 us      5.10 us      2.93 us        mutex   workloads/abba.cc:48 take <- body [abba_B]
// Columns: contended (contended acquisitions), total, max and average wait of those
// acquisitions (an uncontended acquisition is not counted), the lock type as perf names
// it (spinlock, mutex, rwsem:R, rwsem:W, rwlock:R, rwlock:W; bitlock for lock_page,
// which perf does not see) and the caller: the lock call's source position and call
// path, then the lock class in brackets. Times are nanoseconds up to 999 ("850 ns"),
// then microseconds, milliseconds or seconds with 2 decimals ("35.20 us").
//
// Its rows are sorted by total wait, largest first; ties by contended (more first),
// then caller, type and class as text. With no contention it is the header alone.
//
// The wait profile (--wait-profile) is `perf report --no-children`'s shape over a
// WaitProfile (traces/wait_profile.h): a header naming the denominator, then per lock
// class, largest first, a class line and its call paths indented under it:
//     # Wait profile: share of all CPU time, 4 CPUs x 2000000 cycles = 8000000 CPU cycles
//     # blocked 12.50%, spin 1.25%
//     #
//     # Overhead  Wait     Type        Lock class / call path
//     # ........  .......  ..........  ..................................
//     #
//         12.50%  blocked  rwsem:R     anon_vma
//          8.00%  blocked  rwsem:R       mm/rmap.cc:210 anon_vma_lock_read <- rmap_walk <- ...
// Overhead is the share of all CPU time in percent with 2 decimals; Wait is blocked or
// spin (a class line: "both" when it has both, then "(blocked X%, spin Y%)" after its
// name); Type is the lock type (a class line: its paths' type, or their family, "rwsem"
// for rwsem:R and rwsem:W, or "mixed").
//
// Invariant: the texts are functions of the profile (no host state, a total order).
#pragma once

#include <cstdint>
#include <string>

#include "traces/lock_profile.h"
#include "traces/wait_profile.h"

namespace smpemu {

/// The table for `p`; `clock_hz` converts cycles to time.
std::string lock_stat_table(const LockProfile& p, double clock_hz);

/// The contention summary for `p`; `clock_hz` converts cycles to time.
std::string lock_contention_table(const LockProfile& p, double clock_hz);

/// The wait profile `w` as `perf report --no-children` would lay it out.
std::string wait_profile_table(const WaitProfile& w);

/// `ns` as perf lock prints a time: "850 ns", "35.20 us", "1.50 ms", "2.00 s".
std::string perf_lock_time(std::int64_t ns);

}  // namespace smpemu
