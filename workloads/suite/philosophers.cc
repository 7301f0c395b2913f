// suite-philosophers3: three dining philosophers, each taking the left fork first.
//
// Bug: philosopher i takes fork i, then fork i+1 (mod 3). If all three hold their left
// fork at once, each waits for its neighbour forever and the engine reports
// `deadlock`. Depth 3: the second and the third philosopher must each take their left
// fork before the one before them takes its right one (two preemptions).
// Threads: 4 (main and three philosophers).
// Literature: Dijkstra's dining philosophers, in the SCTBench form ("din_phil3"), a
// deadlock that needs every thread to be preempted at the same point.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Philosophers final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	for (struct ulock &f : forks_)
		ulock_init_on(&m, &f);
	for (int i = 0; i < kN; ++i)
		workers_.push_back(spawn_worker(m, "phil", i, [this, i] { dine(i); }));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  static constexpr int kN = 3;
  void dine(int i)
  {
	cpu_work(static_cast<Cycles>(i) * kApart);
	ulock_lock(&forks_[i]);
	cpu_work(kWindow);
	ulock_lock(&forks_[(i + 1) % kN]);
	cpu_work(kWindow);  // eats
	ulock_unlock(&forks_[(i + 1) % kN]);
	ulock_unlock(&forks_[i]);
  }

  struct ulock forks_[kN];
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<Philosophers>("suite-philosophers3",
						  "bug suite: three dining philosophers deadlock (depth 3)"));

}  // namespace
}  // namespace smpemu::suite
