// suite-lazy01: a worker uses a table its initialiser has not published yet.
//
// Bug: the initialiser builds a table and publishes its pointer; the worker, started at
// the same time, assumes the table is there by the time it needs it, and asserts the
// pointer is set. It fails when the worker's read comes before the initialiser's
// publication. Depth 1 (one ordering: the read before the write).
// Threads: 3 (main, the initialiser, the worker).
// Literature: the order violations of Lu et al.'s study of real concurrency bugs
// (ASPLOS'08) and SCTBench's "lazy01": lazy initialisation assumed to have happened.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Lazy01 final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	shared_init(&table_, m.new_line(), 0UL);
	workers_.push_back(spawn_worker(m, "init", 0, [this] {
		cpu_work(kWindow);  // builds the table
		WRITE_ONCE(table_, 0x1000UL);
	}));
	workers_.push_back(spawn_worker(m, "worker", 1, [this] {
		cpu_work(kApart);  // its own start-up
		suite_assert(READ_ONCE(table_) != 0, "the table is used before it is initialised");
	}));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  shared<unsigned long> table_;
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<Lazy01>("suite-lazy01", "bug suite: use before lazy initialisation (depth 1)"));

}  // namespace
}  // namespace smpemu::suite
