// Spreading independent runs over host threads (fuzz and compare campaigns, `--jobs`),
// and the progress line those campaigns show on a terminal.
//
// Model: a campaign is `n` independent runs numbered 0..n-1. parallel_for() starts
// `jobs` host threads; each owns one StackPool (stacks are reused across its runs, never
// shared) and takes the next index from one shared atomic counter, so indices are handed
// out in increasing order. A run may ask to stop (a fuzz campaign with --stop-on-first
// found a bug): indices above the smallest stopping index are no longer handed out, while
// every smaller index, already handed out, still finishes.
//
// Invariants the callers rely on for results independent of `jobs`:
//  - every index below the returned stop index has been run exactly once;
//  - the body must not depend on which thread or in which order it runs, and must write
//    its result to a slot owned by its index (or fold it with a commutative operation);
//  - runs above the stop index may or may not have run; callers discard them.
//
// Concurrency: the body runs on worker threads, several at once. The progress callback
// runs on the calling thread only, between waits, never concurrently with itself.
// An exception thrown by a body stops the hand-out and is rethrown by parallel_for()
// after every worker has joined.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "emu/stack_pool.h"

namespace smpemu {

/// What the progress callback sees.
struct ParallelProgress {
  std::uint64_t done = 0;   ///< runs finished so far
  std::uint64_t total = 0;  ///< runs in the campaign (an upper bound with a stop)
  double seconds = 0;       ///< wall time since the start
};

struct ParallelOptions {
  unsigned jobs = 1;  ///< host threads, at least 1
  /// Called on the calling thread about every `progress_interval` seconds, and once at the end.
  std::function<void(const ParallelProgress&)> progress;
  double progress_interval = 0.2;
};

/// Runs body(i, pool) for i = 0..n-1 on `opt.jobs` threads. When body returns true for
/// some i, indices above the smallest such i are not handed out any more. Returns that
/// smallest stopping index, or n when no run asked to stop.
std::uint64_t parallel_for(std::uint64_t n, const ParallelOptions& opt,
                           const std::function<bool(std::uint64_t, StackPool&)>& body);

/// Default `--jobs`: the host's hardware concurrency (1..limits::kJobs).
unsigned default_jobs();

/// Parses a `--jobs` value: 1..limits::kJobs. Throws ConfigError.
unsigned parse_jobs(const std::string& s);

/// A progress line on stderr, rewritten in place with '\r'; silent unless stderr is a
/// terminal, so logs and tests never see it.
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return enabled_; }
  /// Replaces the line with `text`.
  void update(const std::string& text);
  /// Erases the line (also done by the destructor).
  void finish();

 private:
  bool enabled_;
  bool shown_ = false;
};

}  // namespace smpemu
