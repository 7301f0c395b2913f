// suite-stack: a stack whose push publishes the new top before the element.
//
// Bug: push() bumps `top` and only then stores the element in its slot, with no lock;
// pop() trusts `top` and reads the slot under it, asserting it holds an element
// (elements are never 0). A pop that reads `top` after a push bumped it and the slot
// before that push filled it pops garbage. Depth 2 (the pop's two reads between the
// push's two writes).
// Threads: 3 (main, the pusher, the popper).
// Literature: the unsynchronised stack of the SCTBench set ("stack_bad", after the
// stack of the Inspect and CHESS benchmarks): an index and its data updated apart.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Stack final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	shared_init(&top_, m.new_line(), 0);
	for (shared<int> &s : slot_)
		shared_init(&s, m.new_line(), 0);
	workers_.push_back(spawn_worker(m, "push", 0, [this] {
		for (int v = 1; v <= kPushes; ++v)
			push(v);
	}));
	workers_.push_back(spawn_worker(m, "pop", 1, [this] {
		cpu_work(kApart);
		pop();
	}));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  static constexpr int kPushes = 2;
  void push(int v)
  {
	const int t = READ_ONCE(top_);
	WRITE_ONCE(top_, t + 1);
	cpu_work(kWindow);
	WRITE_ONCE(slot_[t], v);
  }
  void pop()
  {
	const int t = READ_ONCE(top_);
	if (t == 0)
		return;
	const int v = READ_ONCE(slot_[t - 1]);
	suite_assert(v != 0, "pop takes an element that was never stored (slot " + std::to_string(t - 1) + ")");
	WRITE_ONCE(top_, t - 1);
  }

  shared<int> top_;
  shared<int> slot_[kPushes];
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<Stack>("suite-stack", "bug suite: pop sees a pushed top before its element (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
