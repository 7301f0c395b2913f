#include "emu/strategy.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace smpemu {

namespace {

/// Base of the strategies that keep ready CPUs in a plain vector (O(ready) frontier).
class VectorStrategy : public Strategy {
 public:
  void add(CpuId c, Cycles t) override { ready_.push_back({c, t}); }
  bool empty() const override { return ready_.empty(); }
  Cycles frontier() const override {
    Cycles m = kNever;
    for (const auto& e : ready_) m = std::min(m, e.time);
    return m;
  }

 protected:
  struct Entry {
    CpuId cpu;
    Cycles time;
  };
  /// Removes ready_[i] and, if `cur` is a CPU, adds it at `t`.
  CpuId take(std::size_t i, CpuId cur, Cycles t) {
    const CpuId c = ready_[i].cpu;
    ready_[i] = ready_.back();
    ready_.pop_back();
    if (cur != kNoCpu) ready_.push_back({cur, t});
    return c;
  }
  std::vector<Entry> ready_;
};

class RandomStrategy final : public VectorStrategy {
 public:
  explicit RandomStrategy(std::uint64_t seed) : rng_(seed, "sched") {}
  std::string spec() const override { return "random"; }
  CpuId pick(CpuId cur, Cycles t) override {
    const std::size_t n = ready_.size() + (cur != kNoCpu ? 1 : 0);
    const auto i = static_cast<std::size_t>(rng_.below(n));
    if (i == ready_.size()) return cur;
    return take(i, cur, t);
  }

 private:
  Rng rng_;
};

class PctStrategy final : public VectorStrategy {
 public:
  PctStrategy(int ncpus, std::uint32_t depth, std::uint64_t steps, std::uint64_t seed)
      : rng_(seed, "sched"), depth_(depth), steps_(steps), prio_(static_cast<std::size_t>(ncpus)) {
    // Initial priorities: a random permutation of depth .. depth+ncpus-1 (higher runs first).
    std::vector<std::uint64_t> perm(prio_.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng_.below(i)]);
    for (std::size_t i = 0; i < prio_.size(); ++i) prio_[i] = depth_ + perm[i];
    for (std::uint32_t i = 0; i + 1 < depth_; ++i) change_points_.push_back(1 + rng_.below(steps_));
    std::sort(change_points_.begin(), change_points_.end());
  }
  std::string spec() const override {
    return "pct:" + std::to_string(depth_) + ":" + std::to_string(steps_);
  }
  CpuId pick(CpuId cur, Cycles t) override {
    ++step_;
    while (next_cp_ < change_points_.size() && change_points_[next_cp_] <= step_) {
      // The CPU running at the change point drops below every initial priority.
      const CpuId victim = cur != kNoCpu ? cur : last_;
      if (victim != kNoCpu) prio_[static_cast<std::size_t>(victim)] = depth_ - 1 - next_cp_;
      ++next_cp_;
    }
    std::size_t best = ready_.size();
    std::uint64_t best_prio = cur != kNoCpu ? prio_[static_cast<std::size_t>(cur)] : 0;
    for (std::size_t i = 0; i < ready_.size(); ++i) {
      const std::uint64_t p = prio_[static_cast<std::size_t>(ready_[i].cpu)];
      if ((cur == kNoCpu && best == ready_.size()) || p > best_prio) {
        best = i;
        best_prio = p;
      }
    }
    last_ = best == ready_.size() ? cur : take(best, cur, t);
    return last_;
  }

 private:
  Rng rng_;
  std::uint32_t depth_;
  std::uint64_t steps_;
  std::vector<std::uint64_t> prio_;
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
  if (spec == "random") return std::make_unique<RandomStrategy>(seed);
  if (spec.rfind("pct:", 0) == 0) {
    std::string_view rest(spec);
    rest.remove_prefix(4);
    std::uint64_t depth = 0, steps = 100000;
    const auto colon = rest.find(':');
    const bool ok = parse_u64(rest.substr(0, colon), depth) &&
                    (colon == std::string_view::npos || parse_u64(rest.substr(colon + 1), steps));
    if (!ok || depth < 1 || depth > 1000 || steps < 1)
      throw std::invalid_argument("bad strategy '" + spec +
                                  "': expected pct:D or pct:D:K with 1 <= D <= 1000 and K >= 1");
    return std::make_unique<PctStrategy>(ncpus, static_cast<std::uint32_t>(depth), steps, seed);
  }
  throw std::invalid_argument("unknown strategy '" + spec + "' (expected time, random or pct:D[:K])");
}

std::vector<std::pair<std::string, std::string>> strategy_docs() {
  return {
      {"time", "earliest CPU clock next; seeded random tie-break (default)"},
      {"random", "uniformly random ready CPU at every sync point"},
      {"pct:D[:K]", "PCT with D priority change points over an expected K steps (default 100000)"},
  };
}

}  // namespace smpemu
