#include "cli/shrink.h"

#include <algorithm>

#include "emu/errors.h"

namespace smpemu {

namespace {

struct Attempt {
  bool fails = false;
  ReplayResult replay;
};

std::string target_check(const std::vector<BugReport>& bugs) {
  for (const BugReport& b : bugs)
    if (b.fatal) return b.check;
  return bugs.empty() ? "" : bugs.front().check;
}

}  // namespace

ShrinkResult shrink_record(const Record& rec, const ShrinkOptions& opts, StackPool* pool) {
  ShrinkResult out;
  out.before = rec.decisions.size();
  Record cand = rec;
  auto attempt = [&](const std::vector<Decision>& log) {
    cand.decisions.entries = log;
    Attempt a;
    a.replay = replay_record(cand, pool);
    ++out.runs;
    a.fails = std::any_of(a.replay.run.bugs.begin(), a.replay.run.bugs.end(),
                          [&](const BugReport& b) { return b.check == out.check; });
    return a;
  };

  cand.decisions = rec.decisions;
  ReplayResult original = replay_record(cand, pool);
  ++out.runs;
  out.check = target_check(original.run.bugs);
  if (out.check.empty()) throw ConfigError("the record's replay reports no bug: nothing to shrink");

  std::vector<Decision> best = original.followed.entries;
  ReplayResult best_replay = original;
  auto accept = [&](Attempt& a) {
    best = a.replay.followed.entries;
    best_replay = std::move(a.replay);
  };
  auto budget_left = [&] { return out.runs < opts.max_runs; };
  auto report = [&] {
    if (opts.progress) opts.progress(out.runs, best.size());
  };

  if (!best.empty()) {
    Attempt none = attempt({});
    report();
    if (none.fails) accept(none);
  }
  std::size_t n = 2;
  while (!best.empty() && budget_left()) {
    n = std::min(n, best.size());
    const std::size_t chunk = (best.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t i = 0; i < n && budget_left(); ++i) {
      const std::size_t lo = i * chunk, hi = std::min(best.size(), lo + chunk);
      if (lo >= hi) break;
      std::vector<Decision> complement(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(lo));
      complement.insert(complement.end(), best.begin() + static_cast<std::ptrdiff_t>(hi), best.end());
      Attempt a = attempt(complement);
      report();
      if (a.fails && a.replay.followed.size() < best.size()) {
        accept(a);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (reduced) continue;
    if (n >= best.size()) break;  // every single decision is needed
    n = std::min(n * 2, best.size());
  }
  out.budget_exhausted = !budget_left();

  out.record = rec;
  out.record.decisions.entries = best;
  out.record.decisions_digest = out.record.decisions.digest();
  out.record.digest = best_replay.run.stats.digest;
  out.record.end = best_replay.run.stats.end;
  out.record.bugs = best_replay.run.bugs;
  out.record.build = build_identity();
  out.after = best.size();
  return out;
}

}  // namespace smpemu
