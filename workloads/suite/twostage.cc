// suite-twostage, suite-twostage-100: a two-stage update under two locks.
//
// Bug: each writer sets data1 = 1 under lock m1, releases it, and then sets data2 =
// data1 + 1 under lock m2: each step is protected, the pair is not. The reader (main)
// reads data1 under m1 and, if it is set, data2 under m2 and asserts data2 == data1 + 1.
// It fails when the reader comes between a writer's two stages while no writer has
// done its second one yet. Depth 2. All writers write the same values, so only the
// reader's place matters.
// Threads: 3 (main and two writers) or 100 (main and 99 writers).
// Literature: SCTBench's "twostage" and "twostage_100": locks used correctly one at a
// time, the invariant that links the two data left unprotected.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class TwoStage final : public Program {
 public:
  explicit TwoStage(int threads) : threads_(threads) {}

  void setup(Machine &m, const Knobs &) override
  {
	mutex_init_on(&m, &m1_, "twostage_m1");
	mutex_init_on(&m, &m2_, "twostage_m2");
	shared_init(&data1_, m.new_line(), 0);
	shared_init(&data2_, m.new_line(), 0);
	for (int i = 0; i + 1 < threads_; ++i)
		writers_.push_back(spawn_worker(m, "writer", i, [this] { write_both(); }));
	const Cycles head_start = after_workers(m, threads_ - 1);
	m.spawn("main", 0, [this, head_start] {
		cpu_work(head_start);
		read_both();
		join_all(writers_);
	});
  }

 private:
  void write_both()
  {
	mutex_lock(&m1_);
	WRITE_ONCE(data1_, 1);
	mutex_unlock(&m1_);
	cpu_work(kWindow);
	mutex_lock(&m2_);
	WRITE_ONCE(data2_, READ_ONCE(data1_) + 1);
	mutex_unlock(&m2_);
  }
  void read_both()
  {
	mutex_lock(&m1_);
	const int d1 = READ_ONCE(data1_);
	mutex_unlock(&m1_);
	if (d1 == 0)
		return;
	mutex_lock(&m2_);
	const int d2 = READ_ONCE(data2_);
	mutex_unlock(&m2_);
	suite_assert(d2 == d1 + 1, "the second stage is missing: data1=" + std::to_string(d1) +
					   " data2=" + std::to_string(d2));
  }

  int threads_;
  struct mutex m1_, m2_;
  shared<int> data1_, data2_;
  std::vector<Task *> writers_;
};

const WorkloadRegistrar reg(program<TwoStage>("suite-twostage", "bug suite: two-stage update under two locks, 3 threads (depth 2)", 3));
const WorkloadRegistrar reg100(program<TwoStage>("suite-twostage-100",
						 "bug suite: two-stage update under two locks, 100 threads (depth 2)", 100));

}  // namespace
}  // namespace smpemu::suite
