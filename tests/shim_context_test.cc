// Kernel-shim calls that need a running machine, made where none runs (a workload's
// setup() or finish(), or no machine at all): a ConfigError naming the call and its
// setup-time variant (the CLI prints it on one line, exit status 2), never a crash; the
// `_on` variants work there.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "arch/profiles.h"
#include "emu/errors.h"
#include "kernel/kernel.h"

using namespace smpemu;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::unique_ptr<Machine> make_machine() {
  MachineParams p;
  p.cpus = 2;
  const machine_profile* prof = find_machine_profile("opteron48");
  return std::make_unique<Machine>(p, build_topology(prof, p.cpus), prof->costs);
}

}  // namespace

TEST(ShimContext, CallsOutsideARunNameTheCallAndItsSetupVariant) {
  ASSERT_EQ(this_machine(), nullptr);
  spinlock_t sl;
  struct mutex mx;
  EXPECT_EQ(error_of([&] { spin_lock_init(&sl, "l"); }),
            "spin_lock_init() needs a running machine (a task of Machine::run()); before the run, in setup(), "
            "use spin_lock_init_on(&m, ...)");
  EXPECT_EQ(error_of([&] { mutex_init(&mx, "m"); }),
            "mutex_init() needs a running machine (a task of Machine::run()); before the run, in setup(), "
            "use mutex_init_on(&m, ...)");
  EXPECT_EQ(error_of([] { (void)new_line(); }),
            "new_line() needs a running machine (a task of Machine::run()); before the run, in setup(), use m.new_line()");
  EXPECT_EQ(error_of([] { cpu_work(10); }), "cpu_work() needs a running machine (a task of Machine::run())");
  EXPECT_EQ(error_of([] { BUG_ON(1 + 1 == 2); }), "BUG_ON() needs a running machine (a task of Machine::run())");
  EXPECT_EQ(error_of([] { rcu_read_lock(); }), "rcu_read_lock() needs a running machine (a task of Machine::run())");
  shared<int> x;
  shared_init(&x, LineId{0}, 1);
  EXPECT_EQ(error_of([&] { (void)READ_ONCE(x); }), "READ_ONCE() needs a running machine (a task of Machine::run())");
}

TEST(ShimContext, SetupVariantsWorkBeforeTheRunAndThePlainCallsInsideIt) {
  auto m = make_machine();
  spinlock_t a, b;
  spin_lock_init_on(m.get(), &a, "ctx_a");
  shared<long> total;
  shared_init(&total, m->new_line(), 0L);
  m->spawn("t", 0, [&] {
    spin_lock_init(&b, "ctx_b");
    spin_lock(&b);
    WRITE_ONCE(total, READ_ONCE(total) + 1);
    spin_unlock(&b);
  });
  m->run();
  EXPECT_EQ(total.v, 1);
  EXPECT_TRUE(m->bugs().empty());
  EXPECT_EQ(this_machine(), nullptr);  // restored after the run: finish() has none
}
