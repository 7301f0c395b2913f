// spinlock-contention: every CPU repeatedly takes one lock around a critical section.
//
// The SSYNC experiment (David, Guerraoui, Trigonakis, SOSP'13; docs/COSTS.md): one
// lock, a critical section of `cs` cycles, a pause of about `think` cycles between
// acquisitions. Three locks, each written on the engine's atomics:
//   tas    - test-and-set: xchg the lock word; on failure spin until it reads 0, retry;
//   ticket - fetch_add a ticket, spin until the owner field equals it (Linux's 2.6.25+
//            spinlock); both fields share one line;
//   mcs    - queue lock (Mellor-Crummey & Scott): each CPU spins on its own node's line;
//            release hands the lock to the successor with one remote store.
// Expected shape on opteron48 from 6 to 48 CPUs: tas and ticket throughput falls roughly
// as 1/N (a hand-off costs O(waiters) line transfers), mcs stays nearly flat.
//
// Metrics: acquisitions, acquisitions_per_mcycle (acquisitions completed before
// `duration`, per million cycles), fairness (min/max acquisitions per CPU).
// Histograms: lock.<kind>.wait (request to acquire) and lock.<kind>.hold.
#include <algorithm>
#include <memory>
#include <vector>

#include "workloads/workload.h"

namespace smpemu {
namespace {

class SpinlockContention final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    kind_ = k.str("lock");
    cs_ = static_cast<Cycles>(k.integer("cs"));
    think_ = static_cast<Cycles>(k.integer("think"));
    duration_ = static_cast<Cycles>(k.integer("duration"));
    wait_ = &m.histogram("lock." + kind_ + ".wait");
    hold_ = &m.histogram("lock." + kind_ + ".hold");
    lock_line_ = m.new_line();
    tail_line_ = m.new_line();
    const int n = m.ncpus();
    nodes_.resize(static_cast<std::size_t>(n));
    for (auto& node : nodes_) node.line = m.new_line();
    acquisitions_.assign(static_cast<std::size_t>(n), 0);
    for (CpuId c = 0; c < n; ++c) {
      rngs_.push_back(std::make_unique<Rng>(m.rng("workload.spinlock." + std::to_string(c))));
      m.spawn("spin/" + std::to_string(c), c, [this, &m, c] { body(m, c); });
    }
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>&) override {
    std::uint64_t total = 0, lo = ~0ULL, hi = 0;
    for (auto a : acquisitions_) {
      total += a;
      lo = std::min(lo, a);
      hi = std::max(hi, a);
    }
    out["acquisitions"] = static_cast<double>(total);
    out["acquisitions_per_mcycle"] = static_cast<double>(total) * 1e6 / static_cast<double>(duration_);
    out["fairness_min_over_max"] = hi ? static_cast<double>(lo) / static_cast<double>(hi) : 0.0;
    out["line_transfers"] = static_cast<double>(m.coherence().line(lock_line_).transfers +
                                                m.coherence().line(tail_line_).transfers);
  }

 private:
  struct McsNode {
    LineId line = 0;
    CpuId next = kNoCpu;
    std::uint32_t locked = 0;
  };

  void body(Machine& m, CpuId me) {
    Rng& rng = *rngs_[static_cast<std::size_t>(me)];
    while (m.now() < duration_) {
      const Cycles t0 = m.now();
      acquire(m, me);
      const Cycles t1 = m.now();
      wait_->record(t1 - t0);
      m.compute(cs_);
      release(m, me);
      hold_->record(m.now() - t1);
      if (t1 <= duration_) ++acquisitions_[static_cast<std::size_t>(me)];
      if (think_) m.compute(rng.range(think_ / 2, think_ + think_ / 2));
    }
  }

  void acquire(Machine& m, CpuId me) {
    if (kind_ == "tas") {
      while (m.exchange(lock_line_, tas_word_, std::uint32_t{1}) != 0)
        m.spin_until(lock_line_, tas_word_, [](std::uint32_t v) { return v == 0; });
    } else if (kind_ == "ticket") {
      const std::uint32_t ticket = m.fetch_add(lock_line_, ticket_next_, std::uint32_t{1});
      m.spin_until(lock_line_, ticket_owner_, [ticket](std::uint32_t v) { return v == ticket; });
    } else {
      McsNode& node = nodes_[static_cast<std::size_t>(me)];
      m.store(node.line, node.next, kNoCpu);
      m.store(node.line, node.locked, std::uint32_t{1});
      const CpuId pred = m.exchange(tail_line_, mcs_tail_, me);
      if (pred != kNoCpu) {
        McsNode& p = nodes_[static_cast<std::size_t>(pred)];
        m.store(p.line, p.next, me);
        m.spin_until(node.line, node.locked, [](std::uint32_t v) { return v == 0; });
      }
    }
  }

  void release(Machine& m, CpuId me) {
    if (kind_ == "tas") {
      m.store(lock_line_, tas_word_, std::uint32_t{0});
    } else if (kind_ == "ticket") {
      const std::uint32_t owner = m.load(lock_line_, ticket_owner_);
      m.store(lock_line_, ticket_owner_, owner + 1);
    } else {
      McsNode& node = nodes_[static_cast<std::size_t>(me)];
      CpuId next = m.load(node.line, node.next);
      if (next == kNoCpu) {
        CpuId expected = me;
        if (m.compare_exchange(tail_line_, mcs_tail_, expected, kNoCpu)) return;
        // A successor swapped itself in but has not linked yet: wait for the link.
        next = m.spin_until(node.line, node.next, [](CpuId v) { return v != kNoCpu; });
      }
      McsNode& succ = nodes_[static_cast<std::size_t>(next)];
      m.store(succ.line, succ.locked, std::uint32_t{0});
    }
  }

  std::string kind_;
  Cycles cs_ = 0, think_ = 0, duration_ = 0;
  Histogram* wait_ = nullptr;
  Histogram* hold_ = nullptr;
  LineId lock_line_ = 0;  // tas word; ticket next + owner (one line, as in Linux)
  LineId tail_line_ = 0;  // mcs tail
  std::uint32_t tas_word_ = 0;
  std::uint32_t ticket_next_ = 0, ticket_owner_ = 0;
  CpuId mcs_tail_ = kNoCpu;
  std::vector<McsNode> nodes_;
  std::vector<std::uint64_t> acquisitions_;
  std::vector<std::unique_ptr<Rng>> rngs_;
};

const WorkloadRegistrar reg({
    "spinlock-contention",
    "N CPUs take one lock around a critical section (SSYNC shape: tas/ticket fall as 1/N, mcs flat)",
    {
        {"lock", "ticket", {"tas", "ticket", "mcs"}, 0, 0, "lock algorithm"},
        {"cs", "1000", {}, 0, 100000000, "critical section length, cycles"},
        {"think", "500", {}, 0, 100000000, "mean pause between acquisitions, cycles (uniform +-50%)"},
        {"duration", "10000000", {}, 1, 100000000000, "measured window, cycles; tasks stop acquiring after it"},
    },
    [] { return std::make_unique<SpinlockContention>(); },
});

}  // namespace
}  // namespace smpemu
