// A run's lock statistics as text, from a LockProfile (traces/lock_profile.h): the
// /proc/lock_stat table (--lock-stat).
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
// Invariant: the text is a function of the profile (no host state, a total order).
#pragma once

#include <string>

#include "traces/lock_profile.h"

namespace smpemu {

/// The table for `p`; `clock_hz` converts cycles to time.
std::string lock_stat_table(const LockProfile& p, double clock_hz);


}  // namespace smpemu
