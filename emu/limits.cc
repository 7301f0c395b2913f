#include "emu/limits.h"

namespace smpemu::limits {

std::vector<LimitDoc> limit_docs() {
  return {
      {"--cpus", kCpus, "CPUs", "sharer masks and topologies go to 1024"},
      {"tasks", kTasks, "tasks", "each task has a fiber stack (256 KiB, mapped lazily); with guard pages (Debug, ASan) two host mappings, bounded by vm.max_map_count"},
      {"--hz", kHz, "Hz", "a shorter tick than an IPI models nothing"},
      {"pct:D", kPctDepth, "change points", "priorities are D + CPUs entries"},
      {"pct:K", kPctSteps, "steps", "change points are drawn from 1..K"},
      {"pct:W", kPctWindow, "cycles", "a starved CPU runs again within W cycles"},
      {"delay:B", kDelays, "delays", "delay steps are a vector of B entries"},
      {"delay:K", kPctSteps, "steps", "delay steps are drawn from 1..K"},
      {"--trace-buffer, diff --buffer", kTraceBuffer, "events", "32 bytes each; the ring grows as events arrive"},
      {"diff --context", kDiffContext, "lines", "lines shown before a divergence"},
      {"fuzz --runs", kFuzzRuns, "runs", "seed offsets of one campaign"},
      {"compare --seeds", kCompareSeeds, "seeds", "every run's values are kept for the test"},
      {"--jobs", kJobs, "threads", "host threads of a campaign"},
      {"shrink --max-runs", kShrinkRuns, "replays", "replay budget of one shrink"},
      {"explore --max-schedules", kExploreSchedules, "schedules", "runs of one exploration"},
      {"explore --preemptions", kExplorePreemptions, "preemptions", "schedules grow as steps^C"},
      {"input files", kInputFileBytes, "bytes", "records, fuzz shards and traces are read whole"},
      {"record decisions", kDecisions, "decisions", "entries of one decision log"},
      {"mm frames", kFrames, "frames", "struct page and shadow word per frame in host memory"},
      {"mm page tables", kPageTables, "tables", "8 KiB of entries and 65 lines each in host memory"},
  };
}

}  // namespace smpemu::limits
