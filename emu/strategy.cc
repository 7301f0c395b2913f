#include "emu/strategy.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "emu/limits.h"

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

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::unique_ptr<Strategy> make_strategy(const std::string& spec, int ncpus, std::uint64_t seed) {
  if (spec == "time") return std::make_unique<TimeStrategy>(seed);
  if (spec == "random") return std::make_unique<RandomStrategy>(ncpus, seed);
  if (spec.rfind("pct:", 0) == 0) {
    std::string_view rest(spec);
    rest.remove_prefix(4);
    std::uint64_t depth = 0, steps = 100000, window = 100000;
    std::vector<std::string_view> parts;
    for (std::size_t pos = 0;;) {
      const auto colon = rest.find(':', pos);
      parts.push_back(rest.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos));
      if (colon == std::string_view::npos) break;
      pos = colon + 1;
    }
    const bool ok = parts.size() <= 3 && parse_u64(parts[0], depth) &&
                    (parts.size() < 2 || parse_u64(parts[1], steps)) &&
                    (parts.size() < 3 || parse_u64(parts[2], window));
    if (!ok || depth < 1 || depth > limits::kPctDepth || steps < 1 || steps > limits::kPctSteps || window < 1 ||
        window > limits::kPctWindow)
      throw std::invalid_argument("bad strategy '" + spec + "': expected pct:D[:K[:W]] with 1 <= D <= " +
                                  std::to_string(limits::kPctDepth) + ", 1 <= K <= " +
                                  std::to_string(limits::kPctSteps) + ", 1 <= W <= " +
                                  std::to_string(limits::kPctWindow) + " cycles");
    return std::make_unique<PctStrategy>(ncpus, static_cast<std::uint32_t>(depth), steps, window, seed);
  }
  throw std::invalid_argument("unknown strategy '" + spec + "' (expected time, random or pct:D[:K])");
}

bool strategy_wants_steps(const std::string& spec) {
  if (spec.rfind("pct:", 0) != 0) return false;
  std::uint64_t depth = 0;
  return parse_u64(std::string_view(spec).substr(4), depth);  // no second field
}

std::string strategy_with_steps(const std::string& spec, std::uint64_t steps) {
  return spec + ":" + std::to_string(std::clamp<std::uint64_t>(steps, 1, limits::kPctSteps));
}

std::vector<std::pair<std::string, std::string>> strategy_docs() {
  return {
      {"time", "earliest CPU clock next; seeded random tie-break (default)"},
      {"random", "uniformly random ready CPU at every sync point"},
      {"pct:D[:K[:W]]",
       "PCT: D priority change points over an expected K steps (without K: the steps of a pilot run of "
       "the same configuration under `time`); priorities compete only within W cycles (100000) of the "
       "earliest CPU"},
  };
}

}  // namespace smpemu
