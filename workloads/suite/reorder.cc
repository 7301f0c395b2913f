// suite-reorder-3, suite-reorder-10, suite-reorder-100: a checker sees half of an update.
//
// Bug: N-1 setters each write a = 1 and then b = -1; the checker (main) reads a and then
// b and asserts it sees both writes or neither. It fails when its read of a comes after
// some setter's write of a while its read of b comes before every setter's write of b.
// Depth 2 (the checker's two reads between a setter's two writes). The setters all
// write the same values, so they never disturb each other; with more of them the
// window is the same but the checker competes with more CPUs.
// Threads: N (3, 10 or 100: main is the checker).
// Literature: SCTBench's "reorder_X" (after the CHESS tests), made to show how the
// number of threads, not the depth, can hide a bug from a priority-based scheduler.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Reorder final : public Program {
 public:
  explicit Reorder(int threads) : threads_(threads) {}

  void setup(Machine &m, const Knobs &) override
  {
	shared_init(&a_, m.new_line(), 0);
	shared_init(&b_, m.new_line(), 0);
	for (int i = 0; i + 1 < threads_; ++i)
		setters_.push_back(spawn_worker(m, "setter", i, [this] {
			WRITE_ONCE(a_, 1);
			cpu_work(kWindow);
			WRITE_ONCE(b_, -1);
		}));
	const Cycles head_start = after_workers(m, threads_ - 1);
	m.spawn("main", 0, [this, head_start] {
		cpu_work(head_start);
		const int a = READ_ONCE(a_);
		const int b = READ_ONCE(b_);
		suite_assert((a == 0 && b == 0) || (a == 1 && b == -1),
			     "the checker sees half an update: a=" + std::to_string(a) + " b=" + std::to_string(b));
		join_all(setters_);
	});
  }

 private:
  int threads_;
  shared<int> a_, b_;
  std::vector<Task *> setters_;
};

const WorkloadRegistrar reg3(program<Reorder>("suite-reorder-3", "bug suite: a checker sees half an update, 3 threads (depth 2)", 3));
const WorkloadRegistrar reg10(program<Reorder>("suite-reorder-10", "bug suite: a checker sees half an update, 10 threads (depth 2)", 10));
const WorkloadRegistrar reg100(program<Reorder>("suite-reorder-100", "bug suite: a checker sees half an update, 100 threads (depth 2)", 100));

}  // namespace
}  // namespace smpemu::suite
