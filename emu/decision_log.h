// The scheduling decision log: the choices of "who performs the next visible operation"
// that differ from the default order, so a run can be replayed without the strategy's
// random stream, edited by hand, and minimised (`smpemu shrink`).
//
// Steps: every call the engine makes to Strategy::pick() is one step, numbered from 0.
// The default order at a step is the earliest ready time, ties to the lowest CPU id,
// with the running CPU (if any) among the candidates at its own time. A decision
// (step, cpu) says that at that step `cpu` went instead. A `time`-strategy run logs only
// its seeded tie-breaks; a `random` or `pct` run logs most of its steps.
//
// Replay follows the log where it can: a decision whose CPU is not ready at its step
// (a log edited or shrunk so the run took another path) is ignored and counted, and the
// default order is used. Either way the replay records the decisions it actually took,
// which is again a valid log of the run it produced.
//
// Concurrency: one strategy per Machine; logs are plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "emu/strategy.h"
#include "emu/types.h"

namespace smpemu {

struct Decision {
  std::uint64_t step = 0;
  CpuId cpu = kNoCpu;
  bool operator==(const Decision&) const = default;
};

struct DecisionLog {
  std::vector<Decision> entries;  ///< strictly increasing steps
  std::size_t size() const { return entries.size(); }
  /// Hash of the entries (to tell an edited log from the recorded one).
  std::uint64_t digest() const;
};

/// Mirror of a strategy's ready set, and the default-order choice over it.
class ReadySet {
 public:
  void add(CpuId c, Cycles t);
  bool empty() const { return set_.empty(); }
  Cycles frontier() const { return set_.empty() ? kNever : set_.begin()->first; }
  bool contains(CpuId c, Cycles* t = nullptr) const;
  /// Appends the CPUs in the set to `out`, earliest first (ties: lowest CPU id).
  void append_members(std::vector<CpuId>& out) const;
  /// The default choice at a pick(cur, t): earliest time, then lowest CPU id.
  CpuId default_choice(CpuId cur, Cycles t) const;
  /// Applies the outcome of pick(cur, t) == chosen.
  void apply(CpuId cur, Cycles t, CpuId chosen);

 private:
  std::set<std::pair<Cycles, CpuId>> set_;
  std::vector<Cycles> time_of_;  ///< per CPU, valid while it is in set_
};

/// Wraps a strategy and logs its choices that differ from the default order.
class RecordingStrategy final : public Strategy {
 public:
  RecordingStrategy(std::unique_ptr<Strategy> inner, DecisionLog* out) : inner_(std::move(inner)), out_(out) {}
  std::string spec() const override { return inner_->spec(); }
  void add(CpuId c, Cycles t) override;
  bool empty() const override { return inner_->empty(); }
  Cycles frontier() const override { return inner_->frontier(); }
  CpuId pick(CpuId cur, Cycles t) override;
  void note_pending(CpuId c, LineId line, bool is_write) override { inner_->note_pending(c, line, is_write); }
  std::uint64_t steps() const { return step_; }

 private:
  std::unique_ptr<Strategy> inner_;
  DecisionLog* out_;
  ReadySet ready_;
  std::uint64_t step_ = 0;
};

/// Follows a decision log; the default order elsewhere. Records what it followed.
class ReplayStrategy final : public Strategy {
 public:
  ReplayStrategy(const DecisionLog& log, DecisionLog* followed) : log_(log), followed_(followed) {}
  std::string spec() const override { return "replay"; }
  void add(CpuId c, Cycles t) override { ready_.add(c, t); }
  bool empty() const override { return ready_.empty(); }
  Cycles frontier() const override { return ready_.frontier(); }
  CpuId pick(CpuId cur, Cycles t) override;
  std::uint64_t applied() const { return applied_; }
  std::uint64_t ignored() const { return ignored_; }
  std::uint64_t steps() const { return step_; }

 private:
  const DecisionLog& log_;
  DecisionLog* followed_;
  ReadySet ready_;
  std::size_t next_ = 0;
  std::uint64_t step_ = 0;
  std::uint64_t applied_ = 0;
  std::uint64_t ignored_ = 0;
};

}  // namespace smpemu
