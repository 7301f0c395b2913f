// suite-wsq: a work-stealing queue whose owner takes the last item without a CAS.
//
// Bug: the owner pushes items at the bottom and pops them from there; a thief steals
// from the top. For the last item both may reach it, and the protocol needs a
// compare-and-swap on `top` to pick one winner. Here the owner takes the last item
// with plain reads and writes and the thief advances `top` with a plain write, so a
// thief that reads top and bottom before the owner claims the item, and writes top
// after, takes the same item again (main asserts every item is taken exactly once).
// Depth 2 (the thief's look before the owner's claim, its take after the owner's
// check of top).
// Threads: 3 (main, the owner, the thief).
// Literature: the work-stealing deque of Cilk's THE protocol and of Chase and Lev,
// the "wsq" test of CHESS and SCTBench, with the synchronisation on the last item left
// out.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Wsq final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	shared_init(&top_, m.new_line(), 0);
	shared_init(&bottom_, m.new_line(), 0);
	for (int i = 0; i < kItems; ++i) {
		shared_init(&buf_[i], m.new_line(), 0);
		atomic_init_on(&taken_[i], m.new_line(), 0);
	}
	workers_.push_back(spawn_worker(m, "owner", 0, [this] {
		for (int i = 0; i < kItems; ++i)
			push(i);
		while (pop())
			cpu_work(kWindow);  // works on the item
	}));
	workers_.push_back(spawn_worker(m, "thief", 1, [this] {
		cpu_work(2 * kApart);
		steal();
	}));
	m.spawn("main", 0, [this] {
		join_all(workers_);
		for (int i = 0; i < kItems; ++i) {
			const int n = atomic_read(&taken_[i]);
			suite_assert(n == 1, "item " + std::to_string(i) + " taken " + std::to_string(n) + " times");
		}
	});
  }

 private:
  static constexpr int kItems = 3;
  void push(int item)
  {
	const int b = READ_ONCE(bottom_);
	WRITE_ONCE(buf_[b], item);
	WRITE_ONCE(bottom_, b + 1);
  }
  bool pop()
  {
	const int b = READ_ONCE(bottom_) - 1;
	WRITE_ONCE(bottom_, b);
	const int t = READ_ONCE(top_);
	if (t > b) {  // empty
		WRITE_ONCE(bottom_, t);
		return false;
	}
	atomic_inc(&taken_[READ_ONCE(buf_[b])]);
	if (t == b) {  // the last item: needs cmpxchg(&top, t, t + 1) to beat a thief
		WRITE_ONCE(top_, t + 1);
		WRITE_ONCE(bottom_, t + 1);
	}
	return true;
  }
  void steal()
  {
	const int t = READ_ONCE(top_);
	const int b = READ_ONCE(bottom_);
	if (t >= b)
		return;
	const int item = READ_ONCE(buf_[t]);
	WRITE_ONCE(top_, t + 1);  // needs cmpxchg(&top, t, t + 1)
	atomic_inc(&taken_[item]);
  }

  shared<int> top_, bottom_;
  shared<int> buf_[kItems];
  atomic_t taken_[kItems];
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<Wsq>("suite-wsq", "bug suite: work-stealing queue hands out its last item twice (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
