// Tests of mm/pgtable.*: 4-level page tables, the pte locks (mm->page_table_lock or the
// split per-table lock), concurrent population and install, teardown, and the
// page-table oracles (bad-page on teardown with a mapped pte, use-after-free-pagetable
// for a lockless walk of freed tables).
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "emu/machine.h"
#include "kernel/kernel.h"
#include "mm/pgtable.h"

using namespace smpemu;

namespace smpemu {
static void PrintTo(EndReason r, std::ostream* os) { *os << end_reason_name(r); }
}  // namespace smpemu

namespace {

struct Box {
  std::unique_ptr<Machine> m;
  phys_mem mem;
  Box(int cpus, unsigned long pages_per_node, std::uint64_t seed = 1) {
    MachineParams p;
    p.cpus = cpus;
    p.seed = seed;
    const machine_profile* prof = find_machine_profile("opteron48");
    m = std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
    phys_mem_init(&mem, m.get(), pages_per_node);
  }
  ~Box() { phys_mem_exit(&mem); }
  int pagetable_frames() const {
    return static_cast<int>(std::count(mem.state.begin(), mem.state.end(), FRAME_PAGETABLE));
  }
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

std::uint64_t acquisitions(Machine& m, const char* cls) {
  return m.lockdep().cls(m.lockdep().class_of(cls)).acquisitions;
}

}  // namespace

TEST(MmPgtable, InstallLookupZapAndTeardown) {
  Box b(1, 64);
  const unsigned long addr = 0x7f0000123000UL;
  int pt_frames = -1, mapcount = -1, count = -1, busy = 0;
  unsigned long pfn = 0, looked_pfn = 0;
  bool present = false, writable = true, none_after = false, dirty_after = false, other_none = false;
  b.m->spawn("t", 0, [&] {
    struct mm_struct* mm = mm_alloc(false);
    struct page* page = alloc_page(GFP_KERNEL);
    pfn = page_to_pfn(page);
    ASSERT_EQ(install_page(mm, addr, page, PAGE_READONLY), 0);
    busy = install_page(mm, addr, page, PAGE_READONLY);
    pt_frames = b.pagetable_frames();
    mapcount = page_mapcount(page);
    count = page_count(page);
    pgtable_slot_t* pte = lookup_pte(mm, addr);
    ASSERT_NE(pte, nullptr);
    pte_t v = ptep_get(pte);
    present = pte_present(v);
    writable = pte_write(v);
    looked_pfn = pte_pfn(v);
    other_none = pte_none(ptep_get(lookup_pte(mm, addr + PAGE_SIZE)));
    // Mark it dirty as the hardware would, then zap.
    spinlock_t* ptl;
    pgtable_slot_t* p2;
    ASSERT_EQ(follow_pte(mm, addr, &p2, &ptl), 0);
    set_pte_at(mm, addr, p2, pte_mkdirty(ptep_get(p2)));
    pte_unmap_unlock(p2, ptl);
    zap_page(mm, addr);
    none_after = pte_none(ptep_get(lookup_pte(mm, addr)));
    dirty_after = PageDirty(page);
    EXPECT_EQ(follow_pte(mm, addr, &p2, &ptl), -EFAULT);
    put_page(page);
    mmput(mm);
  });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_EQ(busy, -EBUSY);
  EXPECT_EQ(pt_frames, 4);  // pgd, pud, pmd, pte
  EXPECT_EQ(mapcount, 1);
  EXPECT_EQ(count, 2);
  EXPECT_TRUE(present);
  EXPECT_FALSE(writable);
  EXPECT_EQ(looked_pfn, pfn);
  EXPECT_TRUE(other_none);
  EXPECT_TRUE(none_after);
  EXPECT_TRUE(dirty_after);
  EXPECT_EQ(b.pagetable_frames(), 0);
  EXPECT_EQ(nr_free_pages(&b.mem), 64u);
}

class MmPgtableLocks : public ::testing::TestWithParam<bool> {};

// 8 CPUs install pages into two pte tables at once (the same pmd for the first six:
// populating races), all try one contested address (exactly one wins), then each zaps
// its own pages; afterwards every table is freed and no frame leaked.
TEST_P(MmPgtableLocks, ConcurrentInstallUnderBothLockModes) {
  const bool split = GetParam();
  Box b(8, 256);
  const unsigned long base = 0x400000000UL;  // 2 MiB aligned
  const unsigned long contested = base + 511 * PAGE_SIZE;
  struct mm_struct* mm = nullptr;
  int winners = 0, losers = 0;
  std::vector<unsigned long> pfns(8 * 16);
  struct completion ready, done;
  init_completion_on(b.m.get(), &ready);
  init_completion_on(b.m.get(), &done);
  unsigned long nr_ptes = 0;
  bool all_ok = true;
  for (int c = 0; c < 8; ++c)
    b.m->spawn(std::string("t").append(std::to_string(c)), c, [&, c] {
      if (c == 0) {
        mm = mm_alloc(split);
        complete_all(&ready);
      } else {
        wait_for_completion(&ready);
      }
      std::vector<struct page*> mine;
      // CPUs 0-5 share the first pte table; 6-7 the next one.
      const unsigned long start = (c < 6 ? base : base + PMD_SIZE) + static_cast<unsigned long>(c % 6) * 16 * PAGE_SIZE;
      for (int i = 0; i < 16; ++i) {
        struct page* p = alloc_page(GFP_KERNEL);
        pfns[static_cast<size_t>(c * 16 + i)] = page_to_pfn(p);
        if (install_page(mm, start + static_cast<unsigned long>(i) * PAGE_SIZE, p, PAGE_SHARED)) all_ok = false;
        put_page(p);  // the pte's reference keeps it
        mine.push_back(p);
      }
      struct page* q = alloc_page(GFP_KERNEL);
      const int r = install_page(mm, contested, q, PAGE_SHARED);
      if (r == 0) ++winners; else if (r == -EBUSY) ++losers;
      put_page(q);
      for (int i = 0; i < 16; ++i) {
        pgtable_slot_t* pte = lookup_pte(mm, start + static_cast<unsigned long>(i) * PAGE_SIZE);
        if (!pte || pte_pfn(ptep_get(pte)) != pfns[static_cast<size_t>(c * 16 + i)]) all_ok = false;
      }
      cpu_work(20000);
      for (int i = 0; i < 16; ++i) zap_page(mm, start + static_cast<unsigned long>(i) * PAGE_SIZE);
      if (c == 0) {
        for (int k = 1; k < 8; ++k) wait_for_completion(&done);
        nr_ptes = mm->nr_ptes;
        zap_page(mm, contested);
        mmput(mm);
      } else {
        complete(&done);
      }
    });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_TRUE(all_ok);
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(losers, 7);
  EXPECT_EQ(nr_ptes, 2u);
  EXPECT_EQ(b.pagetable_frames(), 0);
  EXPECT_EQ(nr_free_pages(&b.mem), 256u * static_cast<unsigned long>(nr_node_ids(&b.mem)));
  if (split) {
    EXPECT_GT(acquisitions(*b.m, "ptl"), 8u * 16u * 2u);
    EXPECT_LT(acquisitions(*b.m, "page_table_lock"), 40u);  // only populating
  } else {
    EXPECT_EQ(acquisitions(*b.m, "ptl"), 0u);
    EXPECT_GT(acquisitions(*b.m, "page_table_lock"), 8u * 16u * 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(LockModes, MmPgtableLocks, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "split_ptlock" : "page_table_lock"; });

TEST(MmPgtable, TeardownWithAMappedPteIsBadPage) {
  Box b(1, 32);
  struct mm_struct* mm = nullptr;
  b.m->spawn("t", 0, [&] {
    mm = mm_alloc(true);
    struct page* p = alloc_page(GFP_KERNEL);
    install_page(mm, 0x1000, p, PAGE_SHARED);
    mmput(mm);  // planted bug: never zapped
  });
  EXPECT_EQ(b.m->run().end, EndReason::FatalBug);
  delete mm;  // the report stopped mmput before mmdrop
  ASSERT_EQ(count_bugs(*b.m, "bad-page"), 1) << all_bugs(*b.m);
  EXPECT_NE(b.m->bugs().at(0).message.find("still maps"), std::string::npos);
}

TEST(MmPgtable, LocklessWalkOfFreedTablesIsUseAfterFree) {
  Box b(2, 32);
  struct mm_struct* mm = nullptr;
  bool walked_ok = false;
  struct completion ready;
  init_completion_on(b.m.get(), &ready);
  b.m->spawn("owner", 0, [&] {
    mm = mm_alloc(false);
    struct page* p = alloc_page(GFP_KERNEL);
    install_page(mm, 0x200000, p, PAGE_SHARED);
    put_page(p);
    mmgrab(mm);  // the foreign walker's reference keeps the struct, not the tables
    complete(&ready);
    cpu_work(20000);
    zap_page(mm, 0x200000);
    mmput(mm);   // tables freed
    // Reuse the freed table frames as data, as the next allocation would.
    for (int i = 0; i < 4; ++i) alloc_page(GFP_KERNEL);
  });
  b.m->spawn("walker", 1, [&] {
    wait_for_completion(&ready);
    walked_ok = lookup_pte(mm, 0x200000) != nullptr;  // fine: tables live
    cpu_work(100000);
    lookup_pte(mm, 0x200000);  // planted bug: mm_count only, tables are gone
  });
  EXPECT_EQ(b.m->run().end, EndReason::FatalBug);
  delete mm;  // the walker's mm_count reference, never dropped
  EXPECT_TRUE(walked_ok);
  ASSERT_EQ(count_bugs(*b.m, "use-after-free-pagetable"), 1) << all_bugs(*b.m);
}
