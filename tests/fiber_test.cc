// Tests of emu/fiber.*: the execution contexts tasks run on. Switching between many
// fibers in a fixed order, exceptions thrown and caught inside a fiber, the stack of a
// finished fiber going back to the pool (so short-lived tasks do not map new stacks),
// and a fiber made but never run giving its stack back when destroyed.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "emu/fiber.h"

using namespace smpemu;

namespace {

/// N fibers that each append their index `rounds` times, switching round-robin, then
/// exit back to the host.
struct Ring {
  Fiber host;
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<int> order;
  int rounds = 0;
};

struct Member {
  Ring* ring;
  int index;
};

void ring_entry(void* arg) {
  auto* m = static_cast<Member*>(arg);
  Ring* r = m->ring;
  const int n = static_cast<int>(r->fibers.size());
  for (int k = 0; k < r->rounds; ++k) {
    r->order.push_back(m->index);
    Fiber& next = m->index + 1 < n ? *r->fibers[static_cast<std::size_t>(m->index + 1)] : r->host;
    r->fibers[static_cast<std::size_t>(m->index)]->switch_to(next);
  }
  r->fibers[static_cast<std::size_t>(m->index)]->exit_to(r->host);
}

}  // namespace

TEST(Fiber, RoundRobinSwitchesRunInOrderAndStacksReturnToThePool) {
  StackPool pool(64 * 1024);
  FiberFactory factory(&pool);
  Ring r;
  r.rounds = 3;
  std::vector<Member> members;
  for (int i = 0; i < 8; ++i) r.fibers.push_back(std::make_unique<Fiber>());
  for (int i = 0; i < 8; ++i) members.push_back({&r, i});
  for (int i = 0; i < 8; ++i) factory.make(*r.fibers[static_cast<std::size_t>(i)], ring_entry, &members[static_cast<std::size_t>(i)]);
  EXPECT_EQ(pool.mapped(), 8u);
  // Each pass: host -> 0 -> 1 ... -> 7 -> host. The fourth pass lets each fiber exit
  // to the host, so the host resumes fiber i+1 itself.
  for (int pass = 0; pass < r.rounds; ++pass) r.host.switch_to(*r.fibers[0]);
  for (auto& f : r.fibers) {
    ASSERT_TRUE(f->suspended());
    r.host.switch_to(*f);
    EXPECT_FALSE(f->suspended());
  }
  std::vector<int> want;
  for (int pass = 0; pass < r.rounds; ++pass)
    for (int i = 0; i < 8; ++i) want.push_back(i);
  EXPECT_EQ(r.order, want);
  // Every stack is back: new fibers reuse them instead of mapping more.
  for (int i = 0; i < 8; ++i) {
    Fiber f;
    factory.make(f, ring_entry, &members[0]);
  }
  EXPECT_EQ(pool.mapped(), 8u);
}

TEST(Fiber, ExceptionsThrownAndCaughtInsideAFiberStayThere) {
  StackPool pool(64 * 1024);
  FiberFactory factory(&pool);
  struct State {
    Fiber host, f;
    std::string caught;
  } s;
  factory.make(s.f, [](void* arg) {
    auto* st = static_cast<State*>(arg);
    try {
      st->f.switch_to(st->host);  // suspended with a handler on the stack
      throw std::runtime_error("inside");
    } catch (const std::exception& e) {
      st->caught = e.what();
    }
    st->f.exit_to(st->host);
  }, &s);
  s.host.switch_to(s.f);
  EXPECT_EQ(s.caught, "");
  s.host.switch_to(s.f);
  EXPECT_EQ(s.caught, "inside");
  EXPECT_FALSE(s.f.suspended());
}

// Past its limit (with guard pages: what vm.max_map_count allows) the pool refuses a
// stack with a configuration error, not an abort; freed stacks are still reused.
TEST(Fiber, APoolPastItsLimitRefusesWithAConfigError) {
  StackPool pool(64 * 1024, 3);
  FiberFactory factory(&pool);
  Fiber a, b, c, d;
  factory.make(a, [](void*) {}, nullptr);
  factory.make(b, [](void*) {}, nullptr);
  factory.make(c, [](void*) {}, nullptr);
  try {
    factory.make(d, [](void*) {}, nullptr);
    FAIL() << "a fourth stack was mapped";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("too many tasks"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(d.suspended());
  EXPECT_EQ(pool.mapped(), 3u);
}

TEST(Fiber, AFiberNeverRunGivesItsStackBackWhenDestroyed) {
  StackPool pool(64 * 1024);
  FiberFactory factory(&pool);
  for (int i = 0; i < 100; ++i) {
    Fiber f;
    factory.make(f, [](void*) {}, nullptr);
    EXPECT_TRUE(f.suspended());
  }
  EXPECT_EQ(pool.mapped(), 1u);
}
