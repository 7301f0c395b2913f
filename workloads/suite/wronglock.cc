// suite-wronglock: threads protect one counter with different locks.
//
// Bug: three workers increment a counter under lock `a`, a fourth under lock `b`. Each
// lock is taken and released correctly, but `a` and `b` exclude nothing from each
// other, so the fourth worker's read-modify-write can overlap another's and an
// increment is lost; main's check of the total fails. Depth 2 (the odd worker's read
// between another worker's read and write).
// Threads: 5 (main and four workers).
// Literature: SCTBench's "wronglock" (the "wrong lock" pattern of the CHESS tests and of
// lockset race detectors like Eraser: no single lock guards the datum).
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class WrongLock final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	mutex_init_on(&m, &a_, "wronglock_a");
	mutex_init_on(&m, &b_, "wronglock_b");
	shared_init(&counter_, m.new_line(), 0);
	for (int i = 0; i < kWorkers; ++i) {
		const bool odd = i == kWorkers - 1;
		const Cycles delay = odd ? 3 * kApart : 0;
		workers_.push_back(spawn_worker(m, "inc", i, [this, odd, delay] {
			cpu_work(delay);
			increment(odd ? &b_ : &a_);
		}));
	}
	m.spawn("main", 0, [this] {
		join_all(workers_);
		suite_assert(READ_ONCE(counter_) == kWorkers, "an increment was lost: counter " +
								  std::to_string(READ_ONCE(counter_)));
	});
  }

 private:
  static constexpr int kWorkers = 4;
  void increment(struct mutex *l)
  {
	mutex_lock(l);
	const int c = READ_ONCE(counter_);
	cpu_work(kWindow);
	WRITE_ONCE(counter_, c + 1);
	mutex_unlock(l);
  }

  struct mutex a_, b_;
  shared<int> counter_;
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<WrongLock>("suite-wronglock", "bug suite: one counter behind two different locks (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
