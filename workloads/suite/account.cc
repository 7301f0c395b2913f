// suite-account: a lost update on a bank balance.
//
// Bug: two tellers deposit 50 into one account by reading the balance, working out the
// new one and writing it back, with no lock. When the second teller reads between the
// first one's read and write, one deposit is lost and main's check of the final balance
// fails. Depth 2 (the second read after the first read and before the first write).
// Threads: 3 (main and two tellers).
// Literature: the bank account of the CHESS and SCTBench test sets ("account"), the
// textbook atomicity violation: a read-modify-write split over two visible steps.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Account final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	shared_init(&balance_, m.new_line(), 100L);
	for (int i = 0; i < 2; ++i)
		tellers_.push_back(spawn_worker(m, "teller", i, [this, i] { deposit(i); }));
	m.spawn("main", 0, [this] {
		join_all(tellers_);
		suite_assert(READ_ONCE(balance_) == 200, "a deposit was lost: balance " +
							     std::to_string(READ_ONCE(balance_)) + ", expected 200");
	});
  }

 private:
  void deposit(int i)
  {
	cpu_work(static_cast<Cycles>(i) * kApart);
	const long b = READ_ONCE(balance_);
	cpu_work(kWindow);
	WRITE_ONCE(balance_, b + 50);
  }

  shared<long> balance_;
  std::vector<Task *> tellers_;
};

const WorkloadRegistrar reg(program<Account>("suite-account", "bug suite: two tellers lose a deposit (lost update, depth 2)"));

}  // namespace
}  // namespace smpemu::suite
