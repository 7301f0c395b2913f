// Tests of mm/page.* and mm/page_alloc.*: struct page references and mapcount, the page
// lock, frame contents, the NUMA page allocator, and the oracles (bad-page,
// use-after-free-frame) on planted bugs.
//
// Machines are built directly on the opteron48 profile (6 cores per die, 2 dies per
// socket: 12 CPUs are 2 NUMA nodes in one socket, 18 CPUs add a node in the next socket).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "emu/machine.h"
#include "kernel/kernel.h"
#include "mm/page.h"
#include "mm/page_alloc.h"

using namespace smpemu;

namespace smpemu {
static void PrintTo(EndReason r, std::ostream* os) { *os << end_reason_name(r); }
}  // namespace smpemu

namespace {

std::unique_ptr<Machine> make(int cpus, std::uint64_t seed = 1) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = seed;
  const machine_profile* prof = find_machine_profile("opteron48");
  return std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
}

// A Machine with its physical memory (unregistered at the end of the test).
struct Box {
  std::unique_ptr<Machine> m;
  phys_mem mem;
  Box(int cpus, unsigned long pages_per_node, std::uint64_t seed = 1) : m(make(cpus, seed)) {
    phys_mem_init(&mem, m.get(), pages_per_node);
  }
  ~Box() { phys_mem_exit(&mem); }
};

int count_bugs(const Machine& m, const std::string& check) {
  return static_cast<int>(
      std::count_if(m.bugs().begin(), m.bugs().end(), [&](const BugReport& b) { return b.check == check; }));
}

std::string all_bugs(const Machine& m) {
  std::string s;
  for (const BugReport& b : m.bugs()) s += "[" + b.check + "] " + b.message + "\n";
  return s;
}

}  // namespace

// ---- references and mapcount --------------------------------------------------------

TEST(MmPage, RefcountAndMapcountSemantics) {
  Box b(1, 16);
  int c1 = -1, c2 = -1, c3 = -1, mc0 = -1, mc1 = -1, mc2 = -1;
  bool mapped_after = true, unzero = false, zero_after_free = true;
  unsigned long free_mid = 0;
  b.m->spawn("t", 0, [&] {
    struct page* p = alloc_page(GFP_KERNEL);
    c1 = page_count(p);
    mc0 = page_mapcount(p);
    get_page(p);
    c2 = page_count(p);
    page_add_rmap(p);
    page_add_rmap(p);
    mc2 = page_mapcount(p);
    page_remove_rmap(p);
    mc1 = page_mapcount(p);
    page_remove_rmap(p);
    mapped_after = page_mapped(p);
    unzero = get_page_unless_zero(p);
    put_page(p);
    put_page(p);
    c3 = page_count(p);
    free_mid = nr_free_pages(&b.mem);
    put_page(p);  // last reference: freed
    zero_after_free = get_page_unless_zero(p);
  });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_EQ(c1, 1);
  EXPECT_EQ(c2, 2);
  EXPECT_EQ(c3, 1);
  EXPECT_EQ(mc0, 0);
  EXPECT_EQ(mc2, 2);
  EXPECT_EQ(mc1, 1);
  EXPECT_FALSE(mapped_after);
  EXPECT_TRUE(unzero);
  EXPECT_FALSE(zero_after_free);
  EXPECT_EQ(free_mid, 15u);
  EXPECT_EQ(nr_free_pages(&b.mem), 16u);
  for (unsigned long pfn = 0; pfn < 16; ++pfn) EXPECT_EQ(frame_state_of(&b.mem, pfn), FRAME_FREE);
}

TEST(MmPage, PutOfAFreePageIsBadPage) {
  Box b(1, 8);
  b.m->spawn("t", 0, [&] {
    struct page* p = alloc_page(GFP_KERNEL);
    put_page(p);
    put_page(p);  // planted bug
  });
  b.m->run();
  EXPECT_EQ(count_bugs(*b.m, "bad-page"), 1) << all_bugs(*b.m);
  EXPECT_NE(b.m->bugs().at(0).message.find("already 0"), std::string::npos);
}

TEST(MmPage, FreeingAMappedPageIsBadPage) {
  Box b(1, 8);
  b.m->spawn("t", 0, [&] {
    struct page* p = alloc_page(GFP_KERNEL);
    page_add_rmap(p);
    put_page(p);  // planted bug: the pte still maps it
  });
  b.m->run();
  ASSERT_EQ(count_bugs(*b.m, "bad-page"), 1) << all_bugs(*b.m);
  EXPECT_NE(b.m->bugs().at(0).message.find("still mapped"), std::string::npos);
}

TEST(MmPage, FrameContentsAndUseAfterFree) {
  Box b(2, 8);
  unsigned long seen = 0;
  struct page* shared_page = nullptr;
  struct completion published;
  init_completion_on(b.m.get(), &published);
  b.m->spawn("writer", 0, [&] {
    shared_page = alloc_page(GFP_KERNEL);
    frame_write(shared_page, 42, "writer");
    complete(&published);
  });
  b.m->spawn("reader", 1, [&] {
    wait_for_completion(&published);
    seen = frame_read(shared_page, "reader");
  });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_EQ(seen, 42u);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);

  Box c(1, 8);
  c.m->spawn("t", 0, [&] {
    struct page* p = alloc_page(GFP_KERNEL);
    frame_write(p, 1, "before free");
    put_page(p);
    frame_read(p, "stale reader");  // planted bug
  });
  EXPECT_EQ(c.m->run().end, EndReason::FatalBug);
  ASSERT_EQ(count_bugs(*c.m, "use-after-free-frame"), 1) << all_bugs(*c.m);
  EXPECT_NE(c.m->bugs().at(0).message.find("stale reader"), std::string::npos);
}

// ---- the page lock ------------------------------------------------------------------

TEST(MmPage, LockPageSleepsAndWakesWaitersInArrivalOrder) {
  Box b(4, 8);
  struct page* p = nullptr;
  std::vector<int> order;
  bool try_failed = false;
  struct completion ready;  // p is published to the other tasks' host code
  init_completion_on(b.m.get(), &ready);
  b.m->spawn("holder", 0, [&] {
    p = alloc_page(GFP_KERNEL);
    lock_page(p);
    order.push_back(0);
    complete_all(&ready);
    cpu_work(30000);
    unlock_page(p);
  });
  const Cycles delay[4] = {0, 9000, 5000, 7000};  // arrival: CPU 2, 3, then 1
  for (int c = 1; c < 4; ++c)
    b.m->spawn("w" + std::to_string(c), c, [&, c] {
      wait_for_completion(&ready);
      cpu_work(delay[c]);
      if (c == 2) try_failed = !trylock_page(p);
      lock_page(p);
      order.push_back(c);
      cpu_work(200);
      unlock_page(p);
    });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_TRUE(try_failed);
  EXPECT_EQ(order, (std::vector<int>{0, 2, 3, 1}));
  const LockClass& cls = b.m->lockdep().cls(b.m->lockdep().class_of("page_lock"));
  EXPECT_EQ(cls.acquisitions, 4u);
  EXPECT_EQ(cls.contentions, 3u);
  // The waiters slept (the CPUs went idle) rather than spun.
  EXPECT_GT(b.m->cpu(1).idle_cycles, 10000u);
  EXPECT_EQ(b.m->cpu(1).spin_cycles, 0u);
}

TEST(MmPage, LockPageUnderPageTableLockIsReported) {
  Box b(1, 8);
  spinlock_t ptl;
  spin_lock_init_on(b.m.get(), &ptl, "page_table_lock");
  b.m->spawn("t", 0, [&] {
    struct page* p = alloc_page(GFP_KERNEL);
    spin_lock(&ptl);
    lock_page(p);  // planted bug: sleeping lock inside the pte lock
    unlock_page(p);
    spin_unlock(&ptl);
    put_page(p);
  });
  b.m->run();
  EXPECT_EQ(count_bugs(*b.m, "lock-order"), 1) << all_bugs(*b.m);
  EXPECT_EQ(count_bugs(*b.m, "sleep-in-atomic"), 1) << all_bugs(*b.m);
}

TEST(MmPage, UnlockOfAnUnheldPageIsReported) {
  Box b(1, 8);
  b.m->spawn("t", 0, [&] {
    struct page* p = alloc_page(GFP_KERNEL);
    unlock_page(p);
  });
  b.m->run();
  EXPECT_EQ(count_bugs(*b.m, "unlock-not-held"), 1) << all_bugs(*b.m);
}

// ---- the allocator --------------------------------------------------------------------

TEST(MmPageAlloc, NodesAreDiesAndFallbackFollowsDistance) {
  Box b(18, 4);  // opteron48: dies of 6 cores; dies 0 and 1 share socket 0
  ASSERT_EQ(nr_node_ids(&b.mem), 3);
  EXPECT_EQ(cpu_to_node(&b.mem, 0), 0);
  EXPECT_EQ(cpu_to_node(&b.mem, 6), 1);
  EXPECT_EQ(cpu_to_node(&b.mem, 12), 2);
  EXPECT_EQ(b.mem.nodes[0].zonelist, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(b.mem.nodes[1].zonelist, (std::vector<int>{1, 0, 2}));
  EXPECT_EQ(b.mem.nodes[2].zonelist.front(), 2);

  std::vector<int> nids0, nids12;
  int local = -1;
  bool thisnode_null = false, oom_null = false;
  b.m->spawn("a", 0, [&] {
    local = numa_node_id();
    for (int i = 0; i < 6; ++i) nids0.push_back(page_to_nid(alloc_page(GFP_KERNEL)));
  });
  b.m->spawn("b", 12, [&] {
    cpu_work(100000);  // after "a"
    for (int i = 0; i < 4; ++i) nids12.push_back(page_to_nid(alloc_page(GFP_KERNEL)));
    thisnode_null = alloc_pages_node(2, __GFP_THISNODE, 0) == nullptr;
    struct page* p;
    while ((p = alloc_page(GFP_KERNEL)) != nullptr) {}
    oom_null = true;
  });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_EQ(local, 0);
  EXPECT_EQ(nids0, (std::vector<int>{0, 0, 0, 0, 1, 1}));  // node 0, then its nearest
  EXPECT_EQ(nids12, (std::vector<int>{2, 2, 2, 2}));
  EXPECT_TRUE(thisnode_null);
  EXPECT_TRUE(oom_null);
  EXPECT_EQ(nr_free_pages(&b.mem), 0u);
  EXPECT_EQ(b.mem.nodes[0].node_zone.nr_alloc_remote, 0u);
  EXPECT_EQ(b.mem.nodes[1].node_zone.nr_alloc_remote, 4u);  // 2 from "a", 2 more in the OOM loop
}

TEST(MmPageAlloc, ConcurrentAllocationIsDeterministicAndConsistent) {
  auto run = [](std::uint64_t seed, std::vector<unsigned long>& pfns) {
    Box b(12, 64, seed);
    pfns.assign(12 * 8, ~0UL);
    for (int c = 0; c < 12; ++c)
      b.m->spawn("t" + std::to_string(c), c, [&, c] {
        std::vector<struct page*> mine;
        for (int i = 0; i < 8; ++i) {
          struct page* p = alloc_pages_node(0, GFP_KERNEL, 0);  // everyone hits node 0
          pfns[static_cast<size_t>(c * 8 + i)] = page_to_pfn(p);
          frame_write(p, static_cast<unsigned long>(c), "owner");
          mine.push_back(p);
        }
        for (struct page* p : mine) {
          EXPECT_EQ(frame_read(p, "owner check"), static_cast<unsigned long>(c));
          put_page(p);
        }
      });
    RunStats st = b.m->run();
    EXPECT_EQ(st.end, EndReason::Completed) << all_bugs(*b.m);
    EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
    EXPECT_EQ(nr_free_pages(&b.mem), 128u);
    const LockClass& zl = b.m->lockdep().cls(b.m->lockdep().class_of("zone_lock"));
    EXPECT_GT(zl.contentions, 0u);
    return st.digest;
  };
  std::vector<unsigned long> a, b2, c;
  const std::uint64_t d1 = run(7, a);
  const std::uint64_t d2 = run(7, b2);
  const std::uint64_t d3 = run(8, c);
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(a, b2);
  EXPECT_NE(d1, d3);
  // Frees of early finishers are reused; every pfn is a real frame.
  for (unsigned long pfn : a) EXPECT_LT(pfn, 128u);
}
