#include "emu/strategy.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <unordered_map>

#include "emu/limits.h"
#include "emu/portfolio.h"

namespace smpemu {

namespace {

/// Ready times indexed by a dense key (a CPU id, or a PCT priority), as a min segment
/// tree: set/clear and the earliest time are O(log n), and so is finding the largest
/// key whose time is at most a bound. Unused keys hold kNever.
class ReadyTree {
 public:
  explicit ReadyTree(std::size_t keys) {
    while (size_ < keys) size_ *= 2;
    node_.assign(2 * size_, kNever);
  }
  void set(std::size_t key, Cycles t) {
    std::size_t i = size_ + key;
    node_[i] = t;
    std::uint64_t n = 0;
    for (i /= 2; i > 0; i /= 2) {
      ++n;
      const Cycles m = std::min(node_[2 * i], node_[2 * i + 1]);
      if (node_[i] == m) break;  // the ancestors' minima do not change either
      node_[i] = m;
    }
    steps_ += n;
  }
  void clear(std::size_t key) { set(key, kNever); }
  /// Earliest time of any key, or kNever.
  Cycles min() const { return node_[1]; }
  Cycles time_of(std::size_t key) const { return node_[size_ + key]; }
  /// The largest key whose time is at most `bound`, or npos if none.
  std::size_t last_at_most(Cycles bound) const {
    if (node_[1] > bound) return npos;
    std::size_t i = 1;
    std::uint64_t n = 0;
    while (i < size_) {
      ++n;
      i = node_[2 * i + 1] <= bound ? 2 * i + 1 : 2 * i;
    }
    steps_ += n;
    return i - size_;
  }
  /// Tree nodes visited so far (updates and searches).
  std::uint64_t steps() const { return steps_; }
  static constexpr std::size_t npos = ~std::size_t{0};

 private:
  std::size_t size_ = 1;
  std::vector<Cycles> node_;  // node_[1] is the root; leaves from size_
  mutable std::uint64_t steps_ = 0;
};

/// `random`: a uniformly random ready CPU. The ready set is a vector (the random index
/// picks an element of it, so its order is part of the schedule and must stay as it is:
/// removal swaps the last element in) plus a ReadyTree by CPU for an O(log n) frontier.
class RandomStrategy final : public Strategy {
 public:
  RandomStrategy(int ncpus, std::uint64_t seed) : rng_(seed, "sched"), times_(static_cast<std::size_t>(ncpus)) {}
  std::string spec() const override { return "random"; }
  void add(CpuId c, Cycles t) override {
    ready_.push_back(c);
    times_.set(static_cast<std::size_t>(c), t);
  }
  bool empty() const override { return ready_.empty(); }
  Cycles frontier() const override { return times_.min(); }
  std::uint64_t scan_steps() const override { return times_.steps(); }
  CpuId pick(CpuId cur, Cycles t) override {
    const std::size_t n = ready_.size() + (cur != kNoCpu ? 1 : 0);
    const auto i = static_cast<std::size_t>(rng_.below(n));
    if (i == ready_.size()) return cur;
    const CpuId c = ready_[i];
    ready_[i] = ready_.back();
    ready_.pop_back();
    times_.clear(static_cast<std::size_t>(c));
    if (cur != kNoCpu) add(cur, t);
    return c;
  }

 private:
  Rng rng_;
  std::vector<CpuId> ready_;
  ReadyTree times_;
};

/// PCT. Every CPU has a distinct priority at all times (initial ones are a permutation
/// of depth .. depth+ncpus-1, a change point gives its victim depth-1-k, below every
/// earlier value), so "the highest priority among ready CPUs within the window" names
/// exactly one CPU whatever order the set is kept in. The ready set is a ReadyTree keyed
/// by priority: the earliest ready time and the highest-priority CPU ready at or before
/// the horizon are O(log n) each.
class PctStrategy final : public Strategy {
 public:
  PctStrategy(int ncpus, std::uint32_t depth, std::uint64_t steps, Cycles window, std::uint64_t seed)
      : rng_(seed, "sched"),
        depth_(depth),
        steps_(steps),
        window_(window),
        prio_(static_cast<std::size_t>(ncpus)),
        in_set_(static_cast<std::size_t>(ncpus), false),
        cpu_of_(static_cast<std::size_t>(ncpus) + depth, kNoCpu),
        ready_(static_cast<std::size_t>(ncpus) + depth) {
    // Initial priorities: a random permutation of depth .. depth+ncpus-1 (higher runs first).
    std::vector<std::uint64_t> perm(prio_.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng_.below(i)]);
    for (std::size_t i = 0; i < prio_.size(); ++i) {
      prio_[i] = depth_ + perm[i];
      cpu_of_[prio_[i]] = static_cast<CpuId>(i);
    }
    for (std::uint32_t i = 0; i + 1 < depth_; ++i) change_points_.push_back(1 + rng_.below(steps_));
    std::sort(change_points_.begin(), change_points_.end());
  }
  std::string spec() const override {
    return "pct:" + std::to_string(depth_) + ":" + std::to_string(steps_) + ":" + std::to_string(window_);
  }
  void add(CpuId c, Cycles t) override {
    in_set_[static_cast<std::size_t>(c)] = true;
    ++nready_;
    ready_.set(prio_[static_cast<std::size_t>(c)], t);
  }
  bool empty() const override { return nready_ == 0; }
  Cycles frontier() const override { return ready_.min(); }
  std::uint64_t scan_steps() const override { return ready_.steps(); }
  CpuId pick(CpuId cur, Cycles t) override {
    ++step_;
    while (next_cp_ < change_points_.size() && change_points_[next_cp_] <= step_) {
      // The CPU running at the change point drops below every initial priority.
      const CpuId victim = cur != kNoCpu ? cur : last_;
      if (victim != kNoCpu) set_prio(victim, depth_ - 1 - next_cp_);
      ++next_cp_;
    }
    // Only CPUs within window_ cycles of the earliest ready one compete on priority, so
    // a high-priority CPU that polls without ever blocking cannot starve the others.
    const Cycles earliest = std::min(cur != kNoCpu ? t : kNever, ready_.min());
    const Cycles horizon = earliest > kNever - window_ ? kNever : earliest + window_;
    const bool cur_ok = cur != kNoCpu && t <= horizon;
    const std::size_t best = ready_.last_at_most(horizon);
    if (best == ReadyTree::npos || (cur_ok && prio_[static_cast<std::size_t>(cur)] > best)) {
      last_ = cur;
      return last_;
    }
    last_ = cpu_of_[best];
    in_set_[static_cast<std::size_t>(last_)] = false;
    --nready_;
    ready_.clear(best);
    if (cur != kNoCpu) add(cur, t);
    return last_;
  }

 private:
  /// Gives `c` priority `p` (a value no CPU has), moving its ready entry if it has one.
  void set_prio(CpuId c, std::uint64_t p) {
    const auto i = static_cast<std::size_t>(c);
    const std::uint64_t old = prio_[i];
    cpu_of_[old] = kNoCpu;
    cpu_of_[p] = c;
    prio_[i] = p;
    if (in_set_[i]) {
      const Cycles time = ready_.time_of(old);
      ready_.clear(old);
      ready_.set(p, time);
    }
  }

  Rng rng_;
  std::uint32_t depth_;
  std::uint64_t steps_;
  Cycles window_;
  std::vector<std::uint64_t> prio_;   // by CPU; distinct, < depth + ncpus
  std::vector<bool> in_set_;          // by CPU
  std::vector<CpuId> cpu_of_;         // by priority, kNoCpu if unused
  ReadyTree ready_;                   // ready time by priority
  std::size_t nready_ = 0;
  std::vector<std::uint64_t> change_points_;
  std::size_t next_cp_ = 0;
  std::uint64_t step_ = 0;
  CpuId last_ = kNoCpu;
};

/// POS. Each CPU in the ready set has one pending operation: its priority (a random
/// 63-bit value, drawn when the operation becomes pending), and the line it touches
/// with its kind when the engine named them (note_pending()). A pick draws the running
/// CPU's new operation a priority and runs the highest-priority operation of the running
/// CPU and the set; then every pending operation racing with the one that runs draws a
/// fresh priority. Ready times and priorities are ReadyTrees by CPU (a priority is kept
/// as its complement, so the highest is the tree's minimum), and the pending operations
/// of each (line, kind) form an intrusive list: a pick is O(log n) plus the racers it
/// reprioritises.
class PosStrategy final : public Strategy {
 public:
  static constexpr Cycles kDefaultWindow = 100000;
  PosStrategy(int ncpus, Cycles window, std::uint64_t seed)
      : rng_(seed, "sched"),
        window_(window),
        times_(static_cast<std::size_t>(ncpus)),
        rank_(static_cast<std::size_t>(ncpus)),
        op_(static_cast<std::size_t>(ncpus)) {}
  std::string spec() const override {
    return window_ == kDefaultWindow ? "pos" : "pos:" + std::to_string(window_);
  }
  void note_pending(CpuId c, LineId line, bool is_write) override { noted_ = {c, line, is_write}; }
  void add(CpuId c, Cycles t) override { join(c, t, take_note(c), fresh()); }
  bool empty() const override { return nready_ == 0; }
  Cycles frontier() const override { return times_.min(); }
  std::uint64_t scan_steps() const override { return times_.steps() + rank_.steps() + racers_seen_; }
  CpuId pick(CpuId cur, Cycles t) override {
    const Op mine = cur != kNoCpu ? take_note(cur) : Op{};
    const std::uint64_t prio = cur != kNoCpu ? fresh() : 0;
    std::size_t best = nready_ == 0 ? ReadyTree::npos : rank_.last_at_most(rank_.min());
    bool run_cur = best == ReadyTree::npos || (cur != kNoCpu && ~prio < rank_.time_of(best));
    // Starvation bound, as PCT's W: when the operation priority would choose is more
    // than window_ cycles ahead of the earliest ready CPU, the earliest runs. Without it
    // a CPU whose pending step names no line (a barrier, an IRQ) keeps one low priority
    // while CPUs that poll redraw theirs at every step, and it never runs again.
    const Cycles earliest = std::min(cur != kNoCpu ? t : kNever, times_.min());
    const Cycles horizon = earliest > kNever - window_ ? kNever : earliest + window_;
    if ((run_cur ? t : times_.time_of(best)) > horizon) {
      run_cur = cur != kNoCpu && t == earliest;
      if (!run_cur) best = times_.last_at_most(earliest);
    }
    if (run_cur) {
      reprioritise_racers(mine);
      return cur;
    }
    const auto chosen = static_cast<CpuId>(best);
    const Op op = leave(chosen);
    if (cur != kNoCpu) join(cur, t, mine, prio);
    reprioritise_racers(op);
    return chosen;
  }

 private:
  /// A pending operation: `line` (kNoLine: none named) and whether it writes.
  struct Op {
    CpuId cpu = kNoCpu;
    LineId line = kNoLine;
    bool write = false;
  };
  /// Priorities are never 0, so their complements stay below kNever (an empty leaf).
  std::uint64_t fresh() { return rng_.next() | 1; }
  /// The operation noted for `c`, consumed; none if the last note was for another CPU.
  Op take_note(CpuId c) {
    Op op = noted_.cpu == c ? noted_ : Op{c};
    noted_ = {};
    return op;
  }
  static std::uint64_t list_key(LineId line, bool write) { return std::uint64_t{line} * 2 + (write ? 1 : 0); }
  void join(CpuId c, Cycles t, const Op& op, std::uint64_t prio) {
    const auto i = static_cast<std::size_t>(c);
    ++nready_;
    times_.set(i, t);
    rank_.set(i, ~prio);
    Slot& s = op_[i];
    s.line = op.line;
    s.write = op.write;
    s.prev = s.next = kNoCpu;
    if (op.line == kNoLine) return;
    auto [it, fresh_list] = head_.try_emplace(list_key(op.line, op.write), c);
    if (!fresh_list) {
      s.next = it->second;
      op_[static_cast<std::size_t>(it->second)].prev = c;
      it->second = c;
    }
  }
  /// Takes `c` out of the set; returns its pending operation.
  Op leave(CpuId c) {
    const auto i = static_cast<std::size_t>(c);
    --nready_;
    times_.clear(i);
    rank_.clear(i);
    Slot& s = op_[i];
    const Op op{c, s.line, s.write};
    if (s.line == kNoLine) return op;
    if (s.prev != kNoCpu) {
      op_[static_cast<std::size_t>(s.prev)].next = s.next;
    } else {
      const auto it = head_.find(list_key(s.line, s.write));
      if (s.next == kNoCpu)
        head_.erase(it);
      else
        it->second = s.next;
    }
    if (s.next != kNoCpu) op_[static_cast<std::size_t>(s.next)].prev = s.prev;
    s.line = kNoLine;
    return op;
  }
  /// `op` runs: pending operations of other CPUs on its line draw fresh priorities, the
  /// stores and atomics always, the loads only if `op` writes.
  void reprioritise_racers(const Op& op) {
    if (op.line == kNoLine) return;
    for (const bool write : {true, false}) {
      if (!write && !op.write) break;
      const auto it = head_.find(list_key(op.line, write));
      if (it == head_.end()) continue;
      for (CpuId r = it->second; r != kNoCpu; r = op_[static_cast<std::size_t>(r)].next) {
        ++racers_seen_;
        rank_.set(static_cast<std::size_t>(r), ~fresh());
      }
    }
  }

  struct Slot {
    LineId line = kNoLine;  // the pending operation's line, kNoLine if none named
    bool write = false;
    CpuId prev = kNoCpu, next = kNoCpu;  // in the list of its (line, kind)
  };
  Rng rng_;
  Cycles window_;    // the starvation bound W
  ReadyTree times_;  // ready time by CPU
  ReadyTree rank_;   // ~priority by CPU: the minimum is the highest priority
  std::vector<Slot> op_;  // by CPU, valid while it is in the set
  std::unordered_map<std::uint64_t, CpuId> head_;  // list_key -> first CPU of its list
  std::size_t nready_ = 0;
  Op noted_;
  std::uint64_t racers_seen_ = 0;
};

/// Delay bounding over the time order. The ready set is a TimeStrategy, so away from
/// the delay steps every choice (and every tie-break draw) is exactly time's. At a
/// delay step the candidates are popped from it in time order, the first j skipped and
/// put back with their times (with fresh tie keys, which only orders equal clocks).
/// Delay steps come from the "delay" stream, leaving time's "sched" stream as it is.
class DelayStrategy final : public Strategy {
 public:
  DelayStrategy(std::uint64_t bound, std::uint64_t steps, std::uint64_t seed)
      : time_(seed), bound_(bound), steps_(steps) {
    Rng rng(seed, "delay");
    for (std::uint64_t i = 0; i < bound_; ++i) delay_steps_.push_back(1 + rng.below(steps_));
    std::sort(delay_steps_.begin(), delay_steps_.end());
  }
  std::string spec() const override { return "delay:" + std::to_string(bound_) + ":" + std::to_string(steps_); }
  void add(CpuId c, Cycles t) override {
    time_.add(c, t);
    ++nready_;
  }
  bool empty() const override { return nready_ == 0; }
  Cycles frontier() const override { return time_.frontier(); }
  CpuId pick(CpuId cur, Cycles t) override {
    ++step_;
    std::size_t delays = 0;
    while (next_ < delay_steps_.size() && delay_steps_[next_] <= step_) {
      ++delays;
      ++next_;
    }
    const std::size_t candidates = nready_ + (cur != kNoCpu ? 1 : 0);
    const std::size_t skip = candidates == 0 ? 0 : delays % candidates;
    if (skip == 0) {
      const CpuId c = time_.pick(cur, t);
      if (cur == kNoCpu) --nready_;
      return c;
    }
    if (cur != kNoCpu) add(cur, t);
    std::vector<std::pair<CpuId, Cycles>> skipped;
    for (std::size_t i = 0; i < skip; ++i) {
      const Cycles when = time_.frontier();
      skipped.emplace_back(time_.pick(kNoCpu, 0), when);
    }
    const CpuId chosen = time_.pick(kNoCpu, 0);
    nready_ -= skip + 1;
    for (const auto& [c, when] : skipped) add(c, when);
    return chosen;
  }

 private:
  TimeStrategy time_;
  std::uint64_t bound_;
  std::uint64_t steps_;
  std::vector<std::uint64_t> delay_steps_;  // sorted; equal entries are delays of one step
  std::size_t next_ = 0;
  std::uint64_t step_ = 0;
  std::size_t nready_ = 0;
};

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

/// A numeric parameter of a spec, after the name and a colon each.
struct Param {
  char name;              // as in the syntax: D, K, W, B
  std::uint64_t min, max;
  std::uint64_t fallback;  // when left out (ignored for required parameters)
  bool required;
  const char* unit;        // appended to the bounds in the error message, or ""
};

using Factory = std::unique_ptr<Strategy> (*)(const std::vector<std::uint64_t>& args, int ncpus, std::uint64_t seed);

/// One strategy: the spec is `name` followed by `:value` for each parameter given;
/// required parameters come first. `steps` is the index of the run-length parameter
/// K, or -1: a spec that stops just before it wants K from a pilot run.
struct StrategyKind {
  std::string_view name;
  std::vector<Param> params;
  int steps;
  std::string_view doc;
  Factory make;
};

/// Every strategy. Adding one is one entry here: make_strategy(), strategy_docs(),
/// strategy_wants_steps() and the error messages all read this table.
const std::vector<StrategyKind>& strategy_kinds() {
  static const std::vector<StrategyKind> kinds = {
      {"time", {}, -1, "earliest CPU clock next; seeded random tie-break (default)",
       [](const std::vector<std::uint64_t>&, int, std::uint64_t seed) -> std::unique_ptr<Strategy> {
         return std::make_unique<TimeStrategy>(seed);
       }},
      {"random", {}, -1, "uniformly random ready CPU at every sync point",
       [](const std::vector<std::uint64_t>&, int ncpus, std::uint64_t seed) -> std::unique_ptr<Strategy> {
         return std::make_unique<RandomStrategy>(ncpus, seed);
       }},
      {"pct",
       {{'D', 1, limits::kPctDepth, 0, true, ""},
        {'K', 1, limits::kPctSteps, 100000, false, ""},
        {'W', 1, limits::kPctWindow, 100000, false, " cycles"}},
       1,
       "PCT: D priority change points over an expected K steps (100000); priorities compete only "
       "within W cycles (100000) of the earliest CPU",
       [](const std::vector<std::uint64_t>& a, int ncpus, std::uint64_t seed) -> std::unique_ptr<Strategy> {
         return std::make_unique<PctStrategy>(ncpus, static_cast<std::uint32_t>(a[0]), a[1], a[2], seed);
       }},
      {"pos",
       {{'W', 1, limits::kPctWindow, PosStrategy::kDefaultWindow, false, " cycles"}},
       -1,
       "POS: random priority per pending operation, highest first; operations racing with the one "
       "that ran (same line, one a write) get fresh ones; no CPU runs more than W cycles (100000) "
       "ahead of the earliest",
       [](const std::vector<std::uint64_t>& a, int ncpus, std::uint64_t seed) -> std::unique_ptr<Strategy> {
         return std::make_unique<PosStrategy>(ncpus, a[0], seed);
       }},
      {"delay",
       {{'B', 0, limits::kDelays, 0, true, ""}, {'K', 1, limits::kPctSteps, 100000, false, ""}},
       1,
       "delay bounding: time's order, but at B random steps of an expected K (100000) the CPU "
       "time would run waits for the next one",
       [](const std::vector<std::uint64_t>& a, int, std::uint64_t seed) -> std::unique_ptr<Strategy> {
         return std::make_unique<DelayStrategy>(a[0], a[1], seed);
       }},
  };
  return kinds;
}

/// "pct:D[:K[:W]]": the spec syntax of `k`.
std::string syntax(const StrategyKind& k) {
  std::string s(k.name), close;
  for (const Param& p : k.params) {
    if (!p.required) {
      s += '[';
      close += ']';
    }
    s += ':';
    s += p.name;
  }
  return s + close;
}

/// Splits "name:a:b" into name and {a, b}.
std::vector<std::string_view> split_spec(std::string_view spec) {
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0;;) {
    const auto colon = spec.find(':', pos);
    parts.push_back(spec.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos));
    if (colon == std::string_view::npos) return parts;
    pos = colon + 1;
  }
}

const StrategyKind* find_kind(std::string_view name) {
  for (const StrategyKind& k : strategy_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

/// The parameters of `spec` for kind `k` (left-out ones at their fallback), or a
/// one-line std::invalid_argument.
std::vector<std::uint64_t> parse_args(const std::string& spec, const StrategyKind& k,
                                      const std::vector<std::string_view>& parts) {
  std::vector<std::uint64_t> args;
  bool ok = parts.size() <= k.params.size() + 1;
  for (std::size_t i = 0; ok && i < k.params.size(); ++i) {
    const Param& p = k.params[i];
    std::uint64_t v = p.fallback;
    if (i + 1 < parts.size())
      ok = parse_u64(parts[i + 1], v) && v >= p.min && v <= p.max;
    else
      ok = !p.required;
    args.push_back(v);
  }
  if (ok) return args;
  std::string msg = "bad strategy '" + spec + "': expected " + syntax(k);
  for (std::size_t i = 0; i < k.params.size(); ++i) {
    const Param& p = k.params[i];
    msg += (i == 0 ? " with " : ", ") + std::to_string(p.min) + " <= " + p.name + " <= " + std::to_string(p.max) + p.unit;
  }
  throw std::invalid_argument(msg);
}

}  // namespace

std::unique_ptr<Strategy> make_strategy(const std::string& spec, int ncpus, std::uint64_t seed) {
  if (is_portfolio(spec)) return make_strategy(portfolio_member(spec, seed), ncpus, seed);
  const std::vector<std::string_view> parts = split_spec(spec);
  if (const StrategyKind* k = find_kind(parts[0])) return k->make(parse_args(spec, *k, parts), ncpus, seed);
  std::string expected;
  const auto& kinds = strategy_kinds();
  for (std::size_t i = 0; i < kinds.size(); ++i)
    expected += (i == 0 ? "" : ", ") + syntax(kinds[i]);
  expected += " or portfolio[:S,S,...]";
  throw std::invalid_argument("unknown strategy '" + spec + "' (expected " + expected + ")");
}

std::vector<std::pair<std::string, std::string>> strategy_docs() {
  std::vector<std::pair<std::string, std::string>> docs;
  for (const StrategyKind& k : strategy_kinds()) docs.emplace_back(syntax(k), std::string(k.doc));
  docs.emplace_back("portfolio[:S,S,...]", std::string("seed S runs member (S-1) mod N of the strategies listed (default ") +
                                               kDefaultPortfolio + "; fuzz's default); members without K get the pilot's");
  return docs;
}

bool strategy_wants_steps(const std::string& spec) {
  if (is_portfolio(spec)) {
    try {
      for (const std::string& m : portfolio_members(spec))
        if (strategy_wants_steps(m)) return true;
    } catch (const std::invalid_argument&) {
    }
    return false;
  }
  const std::vector<std::string_view> parts = split_spec(spec);
  const StrategyKind* k = find_kind(parts[0]);
  if (k == nullptr || k->steps < 0 || parts.size() != static_cast<std::size_t>(k->steps) + 1) return false;
  try {
    (void)parse_args(spec, *k, parts);
  } catch (const std::invalid_argument&) {
    return false;
  }
  return true;
}

std::string strategy_with_steps(const std::string& spec, std::uint64_t steps) {
  if (is_portfolio(spec) && strategy_wants_steps(spec)) {
    std::vector<std::string> members = portfolio_members(spec);
    for (std::string& m : members) m = strategy_with_steps(m, steps);
    return portfolio_spec(members);
  }
  // A pilot of 0 steps (nothing ran) still gives a valid K; K's bound is the same for all.
  return strategy_wants_steps(spec) ? spec + ":" + std::to_string(std::clamp<std::uint64_t>(steps, 1, limits::kPctSteps))
                                    : spec;
}

}  // namespace smpemu
