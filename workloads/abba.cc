// abba: two tasks take two locks in opposite orders.
//
// Task "ab" (CPU 0) takes A then B; task "ba" (CPU 1) takes B then A; each holds the
// first lock for `cs` cycles before asking for the second, then pauses a seeded random
// time around `think` cycles. The lock-order checker reports the inversion on every
// run whatever the seed (lockdep records both orders even when they never overlap);
// whether the deadlock itself happens depends on the schedule, so some seeds reach it
// (with mutexes: a fatal wait-for cycle; with spinlocks: both CPUs spinning forever).
//
// order=same makes task "ba" take A then B as well: the correct variant, which neither
// reports an inversion nor deadlocks under any schedule (`smpemu explore` checks that).
//
// Written against the kernel shim (kernel/), as mm code is.
#include <memory>

#include "kernel/kernel.h"
#include "workloads/workload.h"

namespace smpemu {
namespace {

class Abba final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    use_mutex_ = k.str("lock") == "mutex";
    same_order_ = k.str("order") == "same";
    cs_ = static_cast<Cycles>(k.integer("cs"));
    think_ = static_cast<Cycles>(k.integer("think"));
    iterations_ = k.integer("iterations");
    if (use_mutex_) {
      mutex_init_on(&m, &ma_, "abba_A");
      mutex_init_on(&m, &mb_, "abba_B");
    } else {
      spin_lock_init_on(&m, &sa_, "abba_A");
      spin_lock_init_on(&m, &sb_, "abba_B");
    }
    for (int i = 0; i < 2; ++i) {
      rngs_[i] = std::make_unique<Rng>(m.rng(i == 0 ? "workload.abba.ab" : "workload.abba.ba"));
      m.spawn(i == 0 ? "ab" : "ba", static_cast<CpuId>(i % m.ncpus()), [this, i] { body(i == 0); });
    }
  }

  void finish(Machine&, Metrics& out, std::vector<BugReport>&) override {
    out["rounds_ab"] = static_cast<double>(rounds_[0]);
    out["rounds_ba"] = static_cast<double>(rounds_[1]);
  }

 private:
  void take(bool a) {
    KFUNC();
    if (use_mutex_)
      mutex_lock(a ? &ma_ : &mb_);
    else
      spin_lock(a ? &sa_ : &sb_);
  }
  void drop(bool a) {
    if (use_mutex_)
      mutex_unlock(a ? &ma_ : &mb_);
    else
      spin_unlock(a ? &sa_ : &sb_);
  }
  void body(bool ab) {
    KFUNC();
    Rng& rng = *rngs_[ab ? 0 : 1];
    for (std::int64_t i = 0; i < iterations_; ++i) {
      cpu_work(rng.range(think_ / 2, think_ + think_ / 2));
      const bool a_first = ab || same_order_;
      take(a_first);
      cpu_work(cs_);
      take(!a_first);
      cpu_work(cs_);
      drop(!a_first);
      drop(a_first);
      ++rounds_[ab ? 0 : 1];
    }
  }

  bool use_mutex_ = true;
  bool same_order_ = false;  // order=same: both tasks take A first
  Cycles cs_ = 0, think_ = 0;
  std::int64_t iterations_ = 0;
  struct mutex ma_, mb_;
  spinlock_t sa_, sb_;
  std::unique_ptr<Rng> rngs_[2];
  std::uint64_t rounds_[2] = {0, 0};
};

const WorkloadRegistrar reg({
    "abba",
    "two tasks take locks A and B in opposite orders: lockdep reports it every run, some seeds deadlock",
    {
        {"lock", "mutex", {"mutex", "spin"}, 0, 0, "lock type of A and B"},
        {"order", "abba", {"abba", "same"}, 0, 0, "lock order of task ba: abba (B then A) or same (A then B)"},
        {"cs", "100", {}, 0, 100000000, "cycles holding the first lock before taking the second"},
        {"think", "20000", {}, 0, 100000000, "mean pause between rounds, cycles (uniform +-50%)"},
        {"iterations", "10", {}, 1, 1000000, "rounds per task"},
    },
    [] { return std::make_unique<Abba>(); },
});

}  // namespace
}  // namespace smpemu
