// Every bound on a size or count a user can give, in one table.
//
// A value past its bound is a configuration error (a one-line message, exit 2), never
// an allocation the host cannot satisfy, a wrapped integer or a run that cannot end.
// The bounds are chosen so that the largest accepted value still fits this class of
// host (a 2-core, 24 GiB machine) and finishes: each entry says why it is where it is.
// `smpemu list` prints the table from limit_docs(), so the documentation cannot drift
// from the values the checks use.
//
// Concurrency: constants only; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emu/types.h"

namespace smpemu::limits {

/// Emulated CPUs: the coherence model's sharer masks and the topologies go to 1024.
inline constexpr std::uint64_t kCpus = static_cast<std::uint64_t>(kMaxCpus);
/// Tasks per machine (idle tasks included): each has a fiber stack (256 KiB by default,
/// mapped lazily: an idle task costs about 5 KiB of host memory, docs/PERFORMANCE.md),
/// so 131072 tasks reserve 32 GiB of address space and use only what they touch. With
/// guard pages (Debug, ASan) a stack is two host mappings and the stack pool refuses
/// stacks past Linux's vm.max_map_count (about 30,000 at the default 65530) with a
/// configuration error (emu/stack_pool.h).
inline constexpr std::uint64_t kTasks = 131072;
/// Timer frequency: past 100 kHz a tick is shorter than an IPI.
inline constexpr std::uint64_t kHz = 100000;
/// PCT change points (D): the priorities are a vector of D + CPUs entries.
inline constexpr std::uint64_t kPctDepth = 1000;
/// PCT steps (K): change points are drawn from 1..K.
inline constexpr std::uint64_t kPctSteps = 1000000000000ULL;
/// Delay bounding's delays (B): their steps are a sorted vector of B entries, and a
/// schedule more than a few delays away from time's is found by no practical campaign.
inline constexpr std::uint64_t kDelays = 1000;
/// Members of a portfolio strategy (portfolio:S,S,...): one is picked per seed, and a
/// mix of more than a few dozen strategies gives each too few runs to matter.
inline constexpr std::uint64_t kPortfolioMembers = 64;
/// PCT priority window (W) in cycles: a CPU at most W cycles ahead of the earliest ready
/// CPU may run, so a starved CPU runs again within W cycles of emulated time. Past 1e9
/// (about half a second at 2 GHz) a spinning high-priority CPU could keep the others
/// waiting for longer than any workload runs.
inline constexpr std::uint64_t kPctWindow = 1000000000ULL;
/// Trace ring buffer, in events (32 bytes each): 2^26 events are 2 GiB. The ring grows
/// as events arrive, so a large bound costs nothing until it is used.
inline constexpr std::uint64_t kTraceBuffer = 1ULL << 26;
/// Lines of context `smpemu diff` prints before a divergence.
inline constexpr std::uint64_t kDiffContext = 1000;
/// Runs of one fuzz campaign (before sharding) and shards of a campaign.
inline constexpr std::uint64_t kFuzzRuns = 1ULL << 40;
/// Seeds per variant of `smpemu compare` (every run's values are kept for the test).
inline constexpr std::uint64_t kCompareSeeds = 1ULL << 24;
/// Host threads of a campaign.
inline constexpr std::uint64_t kJobs = 256;
/// Replays `smpemu shrink` may spend.
inline constexpr std::uint64_t kShrinkRuns = 10000000;
/// Schedules `smpemu explore` may run (--max-schedules): its worklist holds at most
/// (steps x CPUs) prefixes per schedule run, so the bound is on the work, not memory.
inline constexpr std::uint64_t kExploreSchedules = 1ULL << 32;
/// Preemption bound of `smpemu explore`: schedules grow as steps^C, so past a handful
/// no workload finishes; 64 keeps any count of preemptions in range.
inline constexpr std::uint64_t kExplorePreemptions = 64;
/// Bytes of an input file (record, fuzz shard, ftrace text) read into memory.
inline constexpr std::uint64_t kInputFileBytes = 1ULL << 30;
/// Decisions in one decision log (a record).
inline constexpr std::uint64_t kDecisions = 1ULL << 27;
/// Emulated physical frames of an mm workload (struct page and shadow word per frame
/// in host memory: 2^24 frames are about 1.5 GiB).
inline constexpr std::uint64_t kFrames = 1ULL << 24;
/// Page tables an mm workload's mappings need: each is 8 KiB of entries plus 65 lines
/// (up to 20 KiB of host memory at 1024 CPUs), so 2^18 tables are at most about 5 GiB.
inline constexpr std::uint64_t kPageTables = 1ULL << 18;

/// One row of the table `smpemu list` prints.
struct LimitDoc {
  std::string name;   ///< what is bounded, as the user meets it (option or key)
  std::uint64_t max;  ///< largest accepted value
  std::string unit;
  std::string why;    ///< one line
};

/// Every bound above, in the order `smpemu list` prints them.
std::vector<LimitDoc> limit_docs();

}  // namespace smpemu::limits
