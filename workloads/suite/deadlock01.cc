// suite-deadlock01: two threads take two locks in opposite orders.
//
// Bug: thread `ab` takes A then B, thread `ba` takes B then A. They deadlock when `ba`
// takes B after `ab` took A and before `ab` takes B; the engine then finds every task
// asleep and reports `deadlock`. Depth 2 (B taken by `ba` between `ab`'s two
// acquisitions, and A asked for by `ba` while `ab` holds it).
// Threads: 3 (main and the two lockers).
// Literature: SCTBench's "deadlock01", the ABBA deadlock every systematic tester starts
// with; PCT counts it as a bug of depth 2.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Deadlock01 final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	ulock_init_on(&m, &a_);
	ulock_init_on(&m, &b_);
	workers_.push_back(spawn_worker(m, "ab", 0, [this] { take(&a_, &b_, 0); }));
	workers_.push_back(spawn_worker(m, "ba", 1, [this] { take(&b_, &a_, kApart); }));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  void take(struct ulock *first, struct ulock *second, Cycles delay)
  {
	cpu_work(delay);
	ulock_lock(first);
	cpu_work(kWindow);
	ulock_lock(second);
	ulock_unlock(second);
	ulock_unlock(first);
  }

  struct ulock a_, b_;
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<Deadlock01>("suite-deadlock01", "bug suite: ABBA deadlock of two threads (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
