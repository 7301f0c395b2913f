#include "cli/explore.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cli/report.h"
#include "cli/text.h"
#include "emu/rng.h"
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

/// States reached by explored runs: fingerprint and CPU at the turn -> the fewest
/// preemptions a run reached it with. Looked up, never iterated (determinism).
using StateCache = std::unordered_map<std::uint64_t, std::uint64_t>;
/// Past this many states nothing new is cached (about 64 bytes each); pruning stays sound,
/// only less effective.
constexpr std::size_t kStateCacheMax = std::size_t{1} << 22;

/// A well-mixed hash of `x`: one SplitMix64 step from state `x` (emu/rng.h).
std::uint64_t mix64(std::uint64_t x) { return splitmix64(x); }

/// The happens-before fingerprint of a run so far (see explore.h, "Pruning"): a sum of
/// one hash per step over the step's CPU, its index among that CPU's steps, and the steps
/// it depends on: per line it touched, the last earlier step that touched the line;
/// the last earlier global step; and for a global step, every CPU's latest step. Two
/// runs whose steps differ only in the order of independent steps have the same sum.
class HbFingerprint {
 public:
  explicit HbFingerprint(int ncpus)
      : count_(static_cast<std::size_t>(ncpus) + 1, 0), latest_(static_cast<std::size_t>(ncpus) + 1, 0) {}
  /// Starts the step `cpu` runs (kNoCpu: the set-up before the first pick).
  void begin(CpuId cpu) { cpu_ = cpu; }
  /// An event of the machine (Machine::set_event_observer).
  void event(Ev kind, CpuId cpu, std::uint64_t a) {
    if (cpu != cpu_) global_ = true;  // not the step's own CPU: order it against everything
    switch (kind) {
      case Ev::Load:
      case Ev::Store:
      case Ev::Rmw:
      case Ev::SpinWait:
        lines_.push_back(a);
        break;
      case Ev::Barrier:  // a cost on this CPU's clock, nothing more (the engine is SC)
        break;
      default:  // switches, wakeups, ticks, IPIs, task start and exit, bugs, workload events
        global_ = true;
    }
  }
  /// Ends the current step and folds it in.
  void end() {
    const std::size_t c = cpu_ == kNoCpu ? count_.size() - 1 : static_cast<std::size_t>(cpu_);
    const std::uint64_t id = mix64((static_cast<std::uint64_t>(c) << 40) ^ ++count_[c]);
    std::uint64_t h = mix64(id);
    std::sort(lines_.begin(), lines_.end());
    lines_.erase(std::unique(lines_.begin(), lines_.end()), lines_.end());
    for (const std::uint64_t l : lines_) {
      std::uint64_t& last = last_on_line_[l];
      h = mix64(h ^ mix64(l ^ (last << 1)));
      last = id;
    }
    h = mix64(h ^ last_global_);
    if (global_ || cpu_ == kNoCpu) {
      h = mix64(h ^ latest_sum_ ^ 0x676c6f62616cULL);
      last_global_ = id;
    }
    latest_sum_ ^= mix64(latest_[c] ^ c) ^ mix64(id ^ c);
    latest_[c] = id;
    sum_ += h;
    lines_.clear();
    global_ = false;
  }
  std::uint64_t value() const { return sum_; }

 private:
  CpuId cpu_ = kNoCpu;
  bool global_ = false;
  std::vector<std::uint64_t> lines_;  // lines the current step touched
  std::vector<std::uint64_t> count_;  // steps per CPU (the last slot: set-up)
  std::vector<std::uint64_t> latest_; // each CPU's latest step id
  std::uint64_t latest_sum_ = 0;      // XOR of mix64(latest_[c] ^ c): every CPU's latest step
  std::uint64_t last_global_ = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> last_on_line_;  // looked up, never iterated
  std::uint64_t sum_ = 0;
};

/// Follows a prefix of departures from the base order, then the base order itself, and
/// notes the branch points after the prefix. Logs what it did as a decision log (the
/// prefix itself, when the run reproduces it). Picks happen inside fibers, so nothing
/// here throws: a departure whose CPU is not ready is counted in diverged() instead.
class ExploringStrategy final : public Strategy {
 public:
  /// `prefix`: departures, strictly increasing steps. Branch points are noted from step
  /// `from` on; preempting ones only while `afford` (a departure there fits the bound).
  /// `cache` (nullptr: no pruning): the states explored runs reached, by fingerprint and
  /// CPU at the turn, with the fewest preemptions they were reached with; `cost`: this
  /// run's preemptions.
  ExploringStrategy(const std::vector<Decision>& prefix, std::uint64_t from, bool afford, DecisionLog* log,
                    std::vector<BranchPoint>* points, std::vector<CpuId>* cands, bool fingerprints,
                    StateCache* cache, std::uint64_t cost, int ncpus)
      : prefix_(prefix),
        from_(from),
        afford_(afford),
        log_(log),
        points_(points),
        cands_(cands),
        fingerprints_(fingerprints),
        cache_(cache),
        cost_(cost),
        hb_(ncpus) {}
  /// The machine's events (Machine::set_event_observer), for the fingerprint.
  void observe(Ev kind, CpuId cpu, std::uint64_t a) { hb_.event(kind, cpu, a); }
  std::string spec() const override { return "explore"; }
  void add(CpuId c, Cycles t) override { ready_.add(c, t); }
  bool empty() const override { return ready_.empty(); }
  Cycles frontier() const override { return ready_.frontier(); }
  CpuId pick(CpuId cur, Cycles t) override {
    if (fingerprints_) {
      hb_.end();
      // After the last departure: a state an explored run reached with no more
      // preemptions, and the same CPU at the turn, has had its alternatives recorded.
      if (cache_ && step_ >= from_ && !cut_) {
        const std::uint64_t key = mix64(hb_.value() ^ (static_cast<std::uint64_t>(cur + 2) << 52));
        const auto it = cache_->find(key);
        if (it != cache_->end() && it->second <= cost_)
          cut_ = true;
        else if (it != cache_->end())
          it->second = cost_;
        else if (cache_->size() < kStateCacheMax)
          cache_->emplace(key, cost_);
      }
    }
    const CpuId def = ready_.default_choice(cur, t);
    CpuId chosen = def;
    if (next_ < prefix_.size() && prefix_[next_].step == step_) {
      const CpuId want = prefix_[next_++].cpu;
      if (want == cur || ready_.contains(want))
        chosen = want;
      else
        ++diverged_;
    } else if (step_ >= from_ && !cut_ && !ready_.empty() && ((cur == kNoCpu && step_ > 0) || afford_)) {
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
    hb_.begin(chosen);
    return chosen;
  }
  std::uint64_t steps() const { return step_; }
  /// The run reached a state an explored run had reached (its later branch points are
  /// covered).
  bool cut() const { return cut_; }
  /// After the run: ends the last step and returns the fingerprint of the whole run.
  std::uint64_t final_fingerprint() {
    hb_.end();
    return hb_.value();
  }
  std::uint64_t diverged() const { return diverged_ + (prefix_.size() - next_); }

 private:
  const std::vector<Decision>& prefix_;
  std::uint64_t from_;
  bool afford_;
  DecisionLog* log_;
  std::vector<BranchPoint>* points_;
  std::vector<CpuId>* cands_;
  bool fingerprints_;  // keep hb_ (the observer feeds it)
  StateCache* cache_;
  std::uint64_t cost_;
  HbFingerprint hb_;
  bool cut_ = false;
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
  // Jitter draws from one stream in access order, so reordering independent steps would
  // change later costs: fingerprints would not identify states.
  const bool fingerprints = o.base.params.jitter_pct == 0;
  out.pruning = o.prune && fingerprints;
  StateCache cache;
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
    bool cut = false;
    RunResult r = run_once(
        o.base, &pool,
        [&](Machine& m) {
          auto s = std::make_unique<ExploringStrategy>(p.departures, from, p.preemptions < o.preemptions,
                                                       &rec.decisions, &points, &cands, fingerprints,
                                                       out.pruning ? &cache : nullptr, p.preemptions, m.ncpus());
          if (fingerprints)
            m.set_event_observer([st = s.get()](Ev kind, CpuId cpu, std::uint64_t a) { st->observe(kind, cpu, a); });
          m.set_strategy(std::move(s));
        },
        [&](Machine& m) {
          auto& s = static_cast<ExploringStrategy&>(m.strategy());
          steps = s.steps();
          diverged = s.diverged();
          cut = s.cut();
          if (fingerprints) out.classes.insert(s.final_fingerprint());
        });
    ++out.schedules;
    if (cut) ++out.cut;
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
    if (!r.classes.empty())
      s += fmt::format("classes    {} distinct happens-before orders of the whole run\n", r.classes.size());
    if (r.pruning)
      s += fmt::format("pruning    happens-before caching: {} of the runs reached a state an earlier run had reached "
                       "with no more preemptions, and their later alternatives were not run again\n",
                       r.cut);
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
  j["pruning"] = r.pruning ? "hbr" : "none";
  j["cut_runs"] = r.cut;
  j["classes"] = r.classes.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.classes.size());
  return j;
}

}  // namespace smpemu
