// Unit tests of the per-Machine extension slots (Machine::extension / set_extension in
// emu/machine.h) and of their kernel-shim accessors (kernel/machine_ext.h): one slot per
// type, nullptr until attached, one value per Machine, found from the running machine's
// tasks, and never observable in a run's digest.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "emu/machine.h"
#include "kernel/kernel.h"
#include "tests/test_util.h"

using namespace smpemu;
using smpemu::testing::opteron_machine;

namespace {

struct MemState {
  int pages = 0;
};
struct TlbState {
  long flushes = 0;
};
struct NeverAttached {
  int unused = 0;
};

/// "prefix" followed by `n` (built by append: GCC 12 warns falsely on "lit" + string).
std::string named(const char* prefix, long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

}  // namespace

TEST(MachineExtension, UnsetSlotsAreNull) {
  auto m = opteron_machine(2);
  EXPECT_EQ(m->extension<MemState>(), nullptr);
  EXPECT_EQ(m->extension<NeverAttached>(), nullptr);
  EXPECT_EQ(machine_ext_on<TlbState>(m.get()), nullptr);
}

TEST(MachineExtension, EachTypeHasItsOwnSlot) {
  auto m = opteron_machine(2);
  MemState mem;
  TlbState tlb;
  m->set_extension(&mem);
  EXPECT_EQ(m->extension<MemState>(), &mem);
  EXPECT_EQ(m->extension<TlbState>(), nullptr) << "attaching one type leaves the others unset";
  m->set_extension(&tlb);
  EXPECT_EQ(m->extension<MemState>(), &mem);
  EXPECT_EQ(m->extension<TlbState>(), &tlb);
  EXPECT_EQ(m->extension<NeverAttached>(), nullptr);
}

TEST(MachineExtension, SetReplacesAndNullDetaches) {
  auto m = opteron_machine(1);
  MemState a, b;
  m->set_extension(&a);
  m->set_extension(&b);
  EXPECT_EQ(m->extension<MemState>(), &b);
  m->set_extension<MemState>(nullptr);
  EXPECT_EQ(m->extension<MemState>(), nullptr);
}

TEST(MachineExtension, TwoMachinesKeepSeparateValues) {
  auto m1 = opteron_machine(2);
  auto m2 = opteron_machine(2);
  MemState mem1, mem2;
  TlbState tlb2;
  machine_ext_set_on(m1.get(), &mem1);
  machine_ext_set_on(m2.get(), &mem2);
  machine_ext_set_on(m2.get(), &tlb2);
  EXPECT_EQ(machine_ext_on<MemState>(m1.get()), &mem1);
  EXPECT_EQ(machine_ext_on<MemState>(m2.get()), &mem2);
  EXPECT_EQ(machine_ext_on<TlbState>(m1.get()), nullptr);
  EXPECT_EQ(machine_ext_on<TlbState>(m2.get()), &tlb2);
  machine_ext_set_on<MemState>(m1.get(), nullptr);
  EXPECT_EQ(machine_ext_on<MemState>(m2.get()), &mem2) << "detaching on one machine leaves the other";
}

TEST(MachineExtension, TasksFindTheRunningMachinesExtension) {
  EXPECT_EQ(machine_ext<MemState>(), nullptr) << "no machine runs on this thread";
  auto m1 = opteron_machine(2);
  auto m2 = opteron_machine(2);
  MemState mem1{0}, mem2{10};
  machine_ext_set_on(m1.get(), &mem1);
  machine_ext_set_on(m2.get(), &mem2);
  MemState* seen1[2] = {};
  MemState* seen2 = nullptr;
  TlbState sentinel;
  TlbState* unset = &sentinel;  // overwritten by the lookup of a slot m1 never filled
  for (CpuId c = 0; c < 2; ++c)
    m1->spawn(named("t", c), c, [&, c] {
      cpu_work(1000);
      seen1[c] = machine_ext<MemState>();
      unset = machine_ext<TlbState>();
      ++seen1[c]->pages;
    });
  m2->spawn("other", 0, [&] {
    seen2 = machine_ext<MemState>();
    ++seen2->pages;
  });
  ASSERT_EQ(m1->run().end, EndReason::Completed);
  ASSERT_EQ(m2->run().end, EndReason::Completed);
  EXPECT_EQ(seen1[0], &mem1);
  EXPECT_EQ(seen1[1], &mem1);
  EXPECT_EQ(unset, nullptr);
  EXPECT_EQ(seen2, &mem2);
  EXPECT_EQ(mem1.pages, 2);
  EXPECT_EQ(mem2.pages, 11) << "m2's task updated its own machine's state only";
  EXPECT_EQ(machine_ext<MemState>(), nullptr) << "after run() no machine runs on this thread";
}

TEST(MachineExtension, MachinesOnTwoHostThreadsSeeTheirOwn) {
  MemState mem[2];
  MemState* seen[2] = {};
  auto body = [&](int i) {
    auto m = opteron_machine(2, static_cast<std::uint64_t>(i + 1));
    machine_ext_set_on(m.get(), &mem[i]);
    m->spawn("t", 0, [&, i] {
      for (int k = 0; k < 100; ++k) {
        cpu_work(100);
        seen[i] = machine_ext<MemState>();
      }
    });
    m->run();
  };
  std::thread a(body, 0), b(body, 1);
  a.join();
  b.join();
  EXPECT_EQ(seen[0], &mem[0]);
  EXPECT_EQ(seen[1], &mem[1]);
}

TEST(MachineExtension, AttachingIsNotObservableInTheDigest) {
  auto run = [](bool attach) {
    auto m = opteron_machine(2, 7);
    MemState mem;
    TlbState tlb;
    if (attach) {
      machine_ext_set_on(m.get(), &mem);
      machine_ext_set_on(m.get(), &tlb);
    }
    for (CpuId c = 0; c < 2; ++c)
      m->spawn(named("t", c), c, [&] {
        for (int k = 0; k < 20; ++k) {
          cpu_work(500);
          if (MemState* s = machine_ext<MemState>()) ++s->pages;
          smp_mb();
        }
      });
    return m->run().digest;
  };
  EXPECT_EQ(run(true), run(false));
}
