// A /proc/lock_stat-style table of a run's lock classes (CONFIG_LOCK_STAT's layout,
// kernel/locking/lockdep_proc.c).
//
// What it models:
//     lock_stat version 0.4
//     ----------------------------------------------------------------- (221 dashes)
//                                   class name    con-bounces    contentions   waittime-min ...
//     -----------------------------------------------------------------
//
//                                       NAME:              0             12           0.05 ...
//     ................................................................. (between classes)
// The columns are the kernel's: class name (right-aligned in 40, then ':'),
// con-bounces, contentions, waittime-min, waittime-max, waittime-total, waittime-avg,
// acq-bounces, acquisitions, holdtime-min, holdtime-max, holdtime-total, holdtime-avg,
// each 14 wide. Times are microseconds with 2 decimals, rounded like the kernel's
// snprint_time (cycles -> ns through clock_hz first). Classes are sorted by contentions,
// most first (as the kernel sorts them), ties in registration order.
//
// Differences from the kernel, on purpose or by lack of data:
//   - con-bounces and acq-bounces (acquisitions by a CPU other than the previous one)
//     are not modelled: they print 0.
//   - the wait times come from the lock.<class>.wait histogram, which has a sample for
//     every acquisition, not only the contended ones as in the kernel; so waittime-min is
//     usually the uncontended cost and waittime-avg is total / acquisitions.
//   - min/max/total are exact; the histogram is not needed for them.
//   - no per-class contention-point blocks (the emulator has no call sites) and no -R/-W
//     split for rw_semaphores (lock classes have one set of counters).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/runner.h"
#include "emu/histogram.h"

namespace smpemu {

/// The table for a run (its `locks` and its lock.<class>.wait / .hold histograms).
std::string lock_stat_table(const RunResult& r);

/// The table from lock class counters and histograms named lock.<class>.wait/.hold
/// (merged results of many runs work the same way). `clock_hz` converts cycles to time.
std::string lock_stat_table(const std::vector<LockClassStats>& locks,
                            const std::map<std::string, Histogram>& histograms, double clock_hz);

}  // namespace smpemu
