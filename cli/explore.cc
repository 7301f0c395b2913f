#include "cli/explore.h"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cli/report.h"
#include "cli/text.h"
#include "emu/stack_pool.h"

namespace smpemu {

namespace {

/// A step of a run at which another CPU than the chosen one was ready: the candidates
/// are cands[first .. first + count) of the run's flat candidate list.
struct BranchPoint {
  std::uint64_t step = 0;
  CpuId chosen = kNoCpu;  ///< what the run did there (the base order's choice)
  bool preempting = false;  ///< a CPU was running: a departure here costs a preemption
  std::uint32_t first = 0, count = 0;
};

/// Follows a prefix of departures from the base order, then the base order itself, and
/// notes the branch points after the prefix. Logs what it did as a decision log (the
/// prefix itself, when the run reproduces it). Picks happen inside fibers, so nothing
/// here throws: a departure whose CPU is not ready is counted in diverged() instead.
class ExploringStrategy final : public Strategy {
 public:
  /// `prefix`: departures, strictly increasing steps. Branch points are noted from step
  /// `from` on; preempting ones only while `afford` (a departure there fits the bound).
  ExploringStrategy(const std::vector<Decision>& prefix, std::uint64_t from, bool afford, DecisionLog* log,
                    std::vector<BranchPoint>* points, std::vector<CpuId>* cands)
      : prefix_(prefix), from_(from), afford_(afford), log_(log), points_(points), cands_(cands) {}
  std::string spec() const override { return "explore"; }
  void add(CpuId c, Cycles t) override { ready_.add(c, t); }
  bool empty() const override { return ready_.empty(); }
  Cycles frontier() const override { return ready_.frontier(); }
  CpuId pick(CpuId cur, Cycles t) override {
    const CpuId def = ready_.default_choice(cur, t);
    CpuId chosen = def;
    if (next_ < prefix_.size() && prefix_[next_].step == step_) {
      const CpuId want = prefix_[next_++].cpu;
      if (want == cur || ready_.contains(want))
        chosen = want;
      else
        ++diverged_;
    } else if (step_ >= from_ && !ready_.empty() && ((cur == kNoCpu && step_ > 0) || afford_)) {
      const auto first = static_cast<std::uint32_t>(cands_->size());
      if (cur != kNoCpu) cands_->push_back(cur);
      ready_.append_members(*cands_);
      const auto count = static_cast<std::uint32_t>(cands_->size()) - first;
      // Free only where a CPU ran and stopped (blocked, went idle, exited); the first
      // pick of the run, with every CPU ready at its start, is time order's too.
      if (count > 1)
        points_->push_back({step_, def, cur != kNoCpu || step_ == 0, first, count});
      else
        cands_->resize(first);
    }
    if (chosen != def) log_->entries.push_back({step_, chosen});
    ready_.apply(cur, t, chosen);
    ++step_;
    return chosen;
  }
  std::uint64_t steps() const { return step_; }
  std::uint64_t diverged() const { return diverged_ + (prefix_.size() - next_); }

 private:
  const std::vector<Decision>& prefix_;
  std::uint64_t from_;
  bool afford_;
  DecisionLog* log_;
  std::vector<BranchPoint>* points_;
  std::vector<CpuId>* cands_;
  ReadySet ready_;
  std::size_t next_ = 0;
  std::uint64_t step_ = 0;
  std::uint64_t diverged_ = 0;
};

/// A schedule still to run: its departures and the preemptions they cost.
struct Prefix {
  std::vector<Decision> departures;
  std::uint64_t preemptions = 0;
};

}  // namespace

ExploreResult run_explore(const ExploreOptions& o) {
  validate(o.base);
  ExploreResult out;
  out.preemptions = o.preemptions;
  StackPool pool;
  std::vector<Prefix> work{Prefix{}};
  std::vector<BranchPoint> points;
  std::vector<CpuId> cands;
  while (!work.empty()) {
    if (out.schedules >= o.max_schedules) return out;  // incomplete
    const Prefix p = std::move(work.back());
    work.pop_back();
    points.clear();
    cands.clear();
    const std::uint64_t from = p.departures.empty() ? 0 : p.departures.back().step + 1;
    Record rec;
    std::uint64_t steps = 0, diverged = 0;
    RunResult r = run_once(
        o.base, &pool,
        [&](Machine& m) {
          m.set_strategy(std::make_unique<ExploringStrategy>(p.departures, from, p.preemptions < o.preemptions,
                                                             &rec.decisions, &points, &cands));
        },
        [&](Machine& m) {
          const auto& s = static_cast<const ExploringStrategy&>(m.strategy());
          steps = s.steps();
          diverged = s.diverged();
        });
    ++out.schedules;
    if (diverged)
      throw std::logic_error(fmt::format("schedule {} did not follow its {} departures ({} not taken): the run "
                                         "is not deterministic",
                                         out.schedules, p.departures.size(), diverged));
    out.longest = std::max(out.longest, steps);
    if (r.stats.end == EndReason::TimeLimit) ++out.time_limited;
    if (o.progress) o.progress(out.schedules);
    // run_once() has sorted the reports by o.base.checks (--check, --ignore-check).
    out.ignored_reports += r.ignored.size();
    if (!r.bugs.empty()) {
      finish_recording(r, rec);
      out.bug = ExploreBug{out.schedules, p.preemptions, std::move(r), std::move(rec)};
      return out;
    }
    // Children in reverse, so the earliest branch point's first alternative runs next.
    for (auto bp = points.rbegin(); bp != points.rend(); ++bp) {
      const std::uint64_t cost = p.preemptions + (bp->preempting ? 1 : 0);
      if (cost > o.preemptions) continue;
      for (std::uint32_t i = bp->count; i-- > 0;) {
        const CpuId c = cands[bp->first + i];
        if (c == bp->chosen) continue;
        Prefix child{p.departures, cost};
        child.departures.push_back({bp->step, c});
        work.push_back(std::move(child));
      }
    }
  }
  out.complete = true;
  return out;
}

std::string explore_to_text(const ExploreOptions& o, const ExploreResult& r, const std::string& record_path) {
  const std::string& w = o.base.workload;
  std::string s;
  if (r.bug) {
    const ExploreBug& b = *r.bug;
    const std::string repro = program_name() + " replay " + shell_word(record_path);
    s += fmt::format("explore {}: bug in schedule {} ({} preemption{}, {} departure{} from the base order)\n\n", w,
                     b.schedule, b.preemptions, b.preemptions == 1 ? "" : "s", b.record.decisions.size(),
                     b.record.decisions.size() == 1 ? "" : "s");
    s += bugs_text(b.run, repro);
    s += fmt::format("end        {} after {} cycles\n", end_reason_name(b.run.stats.end), b.run.stats.cycles);
    s += fmt::format("digest     {}\n", hex16(b.run.stats.digest));
    s += fmt::format("record     {} (replay: {})\n", record_path, repro);
  } else if (r.complete) {
    s += fmt::format("explore {}: all {} schedules with <= {} preemptions explored, no bug\n", w, r.schedules,
                     r.preemptions);
  } else {
    s += fmt::format("explore {}: {} schedules with <= {} preemptions explored, no bug; stopped at "
                     "--max-schedules {}, not complete\n",
                     w, r.schedules, r.preemptions, o.max_schedules);
  }
  s += fmt::format("schedules  {} run, longest {} steps, {} ended at --max-cycles, {} ignored report{}\n",
                   r.schedules, r.longest, r.time_limited, r.ignored_reports, r.ignored_reports == 1 ? "" : "s");
  return s;
}

nlohmann::json explore_to_json(const ExploreResult& r, const std::string& record_path) {
  nlohmann::json j;
  j["schedules"] = r.schedules;
  j["preemptions"] = r.preemptions;
  j["complete"] = r.complete;
  nlohmann::json bugs = nlohmann::json::array();
  if (r.bug) {
    const std::string repro = program_name() + " replay " + shell_word(record_path);
    bugs = to_json(r.bug->run, repro)["bugs"];
    j["bug_schedule"] = r.bug->schedule;
    j["bug_preemptions"] = r.bug->preemptions;
    j["end"] = end_reason_name(r.bug->run.stats.end);
  }
  j["bugs"] = bugs;
  j["record"] = r.bug ? nlohmann::json(record_path) : nlohmann::json(nullptr);
  j["longest_steps"] = r.longest;
  j["time_limited"] = r.time_limited;
  j["ignored_reports"] = r.ignored_reports;
  return j;
}

}  // namespace smpemu
