// suite-lost-wakeup: a waiter checks its condition before it marks itself asleep.
//
// Bug: the waiter tests the flag and, finding it clear, sets TASK_UNINTERRUPTIBLE and
// calls schedule() without testing again. The waker sets the flag and calls
// wake_up_process(). A wakeup that comes after the test and before the state change
// finds the waiter still running and does nothing; the waiter then sleeps forever and
// the engine reports `deadlock` (main waits for it in kthread_join()). Depth 2 (the
// waker's write after the test, its wakeup before the state change).
// Threads: 3 (main, the waiter, the waker).
// Literature: the lost wakeup of the kernel's sleep protocol (Documentation on
// set_current_state(): the condition must be tested after the state is set), the
// "relay" pattern of the CHESS examples.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class LostWakeup final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	shared_init(&flag_, m.new_line(), 0);
	Task *waiter = spawn_worker(m, "waiter", 0, [this] {
		if (!READ_ONCE(flag_)) {
			cpu_work(kWindow);
			set_current_state(TASK_UNINTERRUPTIBLE);  // too late: the test was above
			schedule();
		}
	});
	workers_.push_back(waiter);
	workers_.push_back(spawn_worker(m, "waker", 1, [this, waiter] {
		cpu_work(kApart);
		WRITE_ONCE(flag_, 1);
		wake_up_process(task_struct_of(waiter));
	}));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  shared<int> flag_;
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<LostWakeup>("suite-lost-wakeup", "bug suite: a wakeup lost before the waiter sleeps (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
