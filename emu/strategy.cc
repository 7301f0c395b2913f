#include "emu/strategy.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "emu/limits.h"

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
  PctStrategy(int ncpus, std::uint32_t depth, std::uint64_t steps, Cycles window, std::uint64_t seed)
      : rng_(seed, "sched"), depth_(depth), steps_(steps), window_(window), prio_(static_cast<std::size_t>(ncpus)) {
    // Initial priorities: a random permutation of depth .. depth+ncpus-1 (higher runs first).
    std::vector<std::uint64_t> perm(prio_.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng_.below(i)]);
    for (std::size_t i = 0; i < prio_.size(); ++i) prio_[i] = depth_ + perm[i];
    for (std::uint32_t i = 0; i + 1 < depth_; ++i) change_points_.push_back(1 + rng_.below(steps_));
    std::sort(change_points_.begin(), change_points_.end());
  }
  std::string spec() const override {
    return "pct:" + std::to_string(depth_) + ":" + std::to_string(steps_) + ":" + std::to_string(window_);
  }
  CpuId pick(CpuId cur, Cycles t) override {
    ++step_;
    while (next_cp_ < change_points_.size() && change_points_[next_cp_] <= step_) {
      // The CPU running at the change point drops below every initial priority.
      const CpuId victim = cur != kNoCpu ? cur : last_;
      if (victim != kNoCpu) prio_[static_cast<std::size_t>(victim)] = depth_ - 1 - next_cp_;
      ++next_cp_;
    }
    // Only CPUs within window_ cycles of the earliest ready one compete on priority, so
    // a high-priority CPU that polls without ever blocking cannot starve the others.
    Cycles earliest = cur != kNoCpu ? t : kNever;
    for (const auto& e : ready_) earliest = std::min(earliest, e.time);
    const Cycles horizon = earliest > kNever - window_ ? kNever : earliest + window_;
    const bool cur_ok = cur != kNoCpu && t <= horizon;
    std::size_t best = ready_.size();
    std::uint64_t best_prio = cur_ok ? prio_[static_cast<std::size_t>(cur)] : 0;
    bool have = cur_ok;
    for (std::size_t i = 0; i < ready_.size(); ++i) {
      if (ready_[i].time > horizon) continue;
      const std::uint64_t p = prio_[static_cast<std::size_t>(ready_[i].cpu)];
      if (!have || p > best_prio) {
        have = true;
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
  Cycles window_;
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

std::vector<std::pair<std::string, std::string>> strategy_docs() {
  return {
      {"time", "earliest CPU clock next; seeded random tie-break (default)"},
      {"random", "uniformly random ready CPU at every sync point"},
      {"pct:D[:K[:W]]",
       "PCT: D priority change points over an expected K steps (100000); priorities compete only "
       "within W cycles (100000) of the earliest CPU"},
  };
}

}  // namespace smpemu
