// suite-bluetooth: a driver stopped while a request is being let in.
//
// Bug: the driver counts requests in flight in pending_io (1 for the device itself).
// A request checks the `stopping` flag and, if it is clear, increments pending_io and
// asserts the device is not stopped yet. The stopper sets `stopping`, drops the
// device's count and, once pending_io reaches 0, marks the device stopped. If the
// request reads the flag before the stopper sets it, but increments only after the
// stopper's decrement reached 0, it works on a stopped device. Depth 2 (the stopper's
// flag write after the request's check, its decrement before the request's increment).
// Threads: 3 (main, the request, the stopper).
// Literature: the Windows Bluetooth driver model that KISS (Qadeer and Wu) and then
// CHESS and SCTBench ("bluetooth_driver") used: a reference count checked apart from
// the flag that guards it.
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

class Bluetooth final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	atomic_init_on(&pending_io_, m.new_line(), 1);
	shared_init(&stopping_, m.new_line(), 0);
	shared_init(&stopped_, m.new_line(), 0);
	shared_init(&stop_event_, m.new_line(), 0);
	init_waitqueue_head_on(&m, &stop_wq_);
	workers_.push_back(spawn_worker(m, "add", 0, [this] { add_request(); }));
	workers_.push_back(spawn_worker(m, "stop", 1, [this] { stop(); }));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  bool io_increment()
  {
	if (READ_ONCE(stopping_))
		return false;
	atomic_inc(&pending_io_);
	return true;
  }
  void io_decrement()
  {
	if (atomic_dec_return(&pending_io_) == 0) {
		WRITE_ONCE(stop_event_, 1);
		wake_up(&stop_wq_);
	}
  }
  void add_request()
  {
	if (!io_increment())
		return;
	suite_assert(!READ_ONCE(stopped_), "a request runs on a stopped device");
	cpu_work(kWindow);
	io_decrement();
  }
  void stop()
  {
	cpu_work(kApart);
	WRITE_ONCE(stopping_, 1);
	io_decrement();
	wait_event(stop_wq_, READ_ONCE(stop_event_) != 0);
	WRITE_ONCE(stopped_, 1);
  }

  atomic_t pending_io_;
  shared<int> stopping_, stopped_, stop_event_;
  wait_queue_head_t stop_wq_;
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<Bluetooth>("suite-bluetooth",
					       "bug suite: a request slips past a stopping driver (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
