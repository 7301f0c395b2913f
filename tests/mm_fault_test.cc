// Tests of the file fault path, COW, vma operations and their vm_truncate_count rules,
// and the shadow-memory oracle (mm/memory.*, mm/mmap.*, mm/filemap.*, arch/x86/fault.*).
#include <gtest/gtest.h>

#include "mm/madvise.h"
#include "tests/mm_test_util.h"

using namespace smpemu;
using namespace smpemu::testing;

namespace {

constexpr unsigned long A = 0x100000000UL;
constexpr unsigned long B = 0x200000000UL;

TEST(MmFault, SharedStoreIsSeenByAnotherMmAndPrivateStoreIsNot) {
  MmBox b(2);
  address_space* f = b.env.add_file(16, 16);
  unsigned long shared_seen = 0, private_seen = 0, other_private = 0, file_after = 0;
  int cow_pages = -1;
  b.m->spawn("t", 0, [&] {
    mm_struct* m1 = b.env.new_mm();
    mm_struct* m2 = b.env.new_mm();
    ASSERT_EQ(do_mmap(m1, A, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0), (long)A);
    ASSERT_EQ(do_mmap(m2, B, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0), (long)B);
    ASSERT_EQ(do_mmap(m2, A, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0), (long)A);
    unsigned long v = 1234;
    ASSERT_EQ(user_access(m1, A + 3 * PAGE_SIZE, true, &v, nullptr), 0);
    ASSERT_EQ(user_access(m2, B + 3 * PAGE_SIZE, false, &shared_seen, nullptr), 0);
    v = 999;  // a private store: COW, the file keeps 1234
    ASSERT_EQ(user_access(m2, A + 3 * PAGE_SIZE, true, &v, nullptr), 0);
    ASSERT_EQ(user_access(m2, A + 3 * PAGE_SIZE, false, &private_seen, nullptr), 0);
    ASSERT_EQ(user_access(m1, A + 3 * PAGE_SIZE, false, &other_private, nullptr), 0);
    struct page* p = find_get_page(f, 3);
    file_after = frame_read(p, "test");
    put_page(p);
    cow_pages = static_cast<int>(b.env.vm().stats.cow_faults);
  });
  b.m->run();
  EXPECT_EQ(shared_seen, 1234u);
  EXPECT_EQ(private_seen, 999u);
  EXPECT_EQ(other_private, 1234u);
  EXPECT_EQ(file_after, 1234u);
  EXPECT_EQ(cow_pages, 1);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmFault, BeyondEofIsSigbusAndReadOnlyStoreIsSegv) {
  MmBox b(1);
  address_space* f = b.env.add_file(4, 8);
  int beyond = 0, ro = 0, inside = -1;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0);
    unsigned long v = 0;
    inside = user_access(mm, A, false, &v, nullptr);
    beyond = user_access(mm, A + 5 * PAGE_SIZE, false, &v, nullptr);
    ro = user_access(mm, A, true, &v, nullptr);
  });
  b.m->run();
  EXPECT_EQ(inside, 0);
  EXPECT_EQ(beyond, USER_SIGBUS);
  EXPECT_EQ(ro, USER_SEGV);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmVma, MprotectSplitsAndMergesBackWithTheCountRules) {
  MmBox b(1);
  address_space* f = b.env.add_file(64, 64);
  int after_split = 0, after_merge = 0, tree_after_merge = 0;
  unsigned long count_piece = 1, count_merged = 1;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    vm_area_struct* vma = find_vma(mm, A);
    vma->vm_truncate_count = 5;  // as if a truncate pass had marked it
    ASSERT_EQ(sys_mprotect(mm, A + 32 * PAGE_SIZE, 32 * PAGE_SIZE, PROT_READ), 0);
    after_split = mm->map_count;
    count_piece = find_vma(mm, A + 40 * PAGE_SIZE)->vm_truncate_count;  // split copies the count
    find_vma(mm, A + 40 * PAGE_SIZE)->vm_truncate_count = 9;           // marked by another pass
    ASSERT_EQ(sys_mprotect(mm, A + 32 * PAGE_SIZE, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
    after_merge = mm->map_count;
    count_merged = find_vma(mm, A)->vm_truncate_count;  // counts differed: importer zeroed
    tree_after_merge = static_cast<int>(f->i_mmap.size());
  });
  b.m->run();
  EXPECT_EQ(after_split, 2);
  EXPECT_EQ(count_piece, 5u);
  EXPECT_EQ(after_merge, 1);
  EXPECT_EQ(count_merged, 0u);
  EXPECT_EQ(tree_after_merge, 1);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmVma, MergeResetOffKeepsTheImportersCount) {
  MmBox b(1, {{"merge_reset", "off"}});
  address_space* f = b.env.add_file(64, 64);
  unsigned long count_merged = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    sys_mprotect(mm, A + 32 * PAGE_SIZE, 32 * PAGE_SIZE, PROT_READ);
    find_vma(mm, A)->vm_truncate_count = 5;
    find_vma(mm, A + 40 * PAGE_SIZE)->vm_truncate_count = 9;
    sys_mprotect(mm, A + 32 * PAGE_SIZE, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE);
    count_merged = find_vma(mm, A)->vm_truncate_count;
  });
  b.m->run();
  EXPECT_EQ(count_merged, 5u);  // the bug: a done vma grew over one not yet scanned
}

TEST(MmVma, MunmapFreesPagesTablesAndVmas) {
  MmBox b(2);
  address_space* f = b.env.add_file(64, 64);
  int ptes_before = 0, ptes_after = -1, vmas_after = -1;
  unsigned long free_before = 0, free_after = 0, tables_before = 0, tables_after = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0);
    touch_range(mm, A, A + 64 * PAGE_SIZE, true);  // 64 COW pages
    ptes_before = present_ptes(mm, A, A + 64 * PAGE_SIZE);
    tables_before = mm->nr_ptes;
    free_before = nr_free_pages(&b.env.mem());
    do_munmap(mm, A, 64 * PAGE_SIZE);
    ptes_after = present_ptes(mm, A, A + 64 * PAGE_SIZE);
    vmas_after = mm->map_count;
    tables_after = mm->nr_ptes;
    // An MMU whose walkers no flush waits for frees page tables after a grace period.
    if (mm_mmu(mm)->rcu_table_free) synchronize_rcu();
    free_after = nr_free_pages(&b.env.mem());
  });
  b.m->run();
  EXPECT_EQ(ptes_before, 64);
  EXPECT_EQ(ptes_after, 0);
  EXPECT_EQ(vmas_after, 0);
  EXPECT_EQ(tables_before, 1u);
  EXPECT_EQ(tables_after, 0u);
  EXPECT_EQ(free_after, free_before + 64 + 1);  // the COW copies and the pte table
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmVma, RemapFilePagesMovesTheVmaToTheNonlinearList) {
  MmBox b(1);
  address_space* f = b.env.add_file(64, 64);
  unsigned long seen = 0, expect = 0;
  bool nonlinear = false;
  size_t tree = 9;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    ASSERT_EQ(sys_remap_file_pages(mm, A, PAGE_SIZE, 40), 0);  // page 40 at A
    nonlinear = find_vma(mm, A)->vm_flags & VM_NONLINEAR;
    tree = f->i_mmap.size();
    ASSERT_EQ(user_access(mm, A, false, &seen, nullptr), 0);
    expect = f->disk[40];
  });
  b.m->run();
  EXPECT_TRUE(nonlinear);
  EXPECT_EQ(tree, 0u);
  EXPECT_EQ(seen, expect);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// mremap moves the ptes (no new fault at the new place), the old place is gone, and the
// new vma's count follows the mremap_reset rule.
class MremapReset : public ::testing::TestWithParam<const char*> {};

TEST_P(MremapReset, MovesPtesAndAppliesTheCountRule) {
  const std::string reset = GetParam();
  MmBox b(1, {{"mremap_reset", reset}});
  address_space* f = b.env.add_file(32, 32);
  unsigned long seen = 0, faults = 9, count = 9;
  int old_access = 0, moved = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    touch_range(mm, A, A + 32 * PAGE_SIZE, false);
    unsigned long v = 77;
    user_access(mm, A + 5 * PAGE_SIZE, true, &v, nullptr);
    find_vma(mm, A)->vm_truncate_count = 0x7000;  // a restart address left by a truncate pass
    ASSERT_EQ(sys_mremap(mm, A, 32 * PAGE_SIZE, B), 0);
    moved = present_ptes(mm, B, B + 32 * PAGE_SIZE);
    count = find_vma(mm, B)->vm_truncate_count;
    faults = 0;
    user_access(mm, B + 5 * PAGE_SIZE, false, &seen, &faults);
    old_access = user_access(mm, A + 5 * PAGE_SIZE, false, &v, nullptr);
  });
  b.m->run();
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  EXPECT_EQ(moved, 32);
  EXPECT_EQ(seen, 77u);
  EXPECT_EQ(faults, 0u);  // the pte came along
  EXPECT_EQ(old_access, USER_SEGV);
  // always: zeroed; cond: the copy's count equals the old one, so it keeps the restart
  // address, meaningless in its new place (the 2.6.10-2.6.37 bug).
  EXPECT_EQ(count, reset == "always" ? 0u : 0x7000u);
}

INSTANTIATE_TEST_SUITE_P(Rule, MremapReset, ::testing::Values("always", "cond"));

// Planted bug for the shadow-memory oracle: a page written through a shared mapping is
// dropped from the page cache without truncation (lost data); the next reader sees the
// stale on-disk value.
TEST(MmOracle, ShadowMemoryCatchesALostWrite) {
  MmBox b(1);
  address_space* f = b.env.add_file(8, 8);
  b.m->spawn("t", 0, [&] {
    mm_struct* m1 = b.env.new_mm();
    do_mmap(m1, A, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    unsigned long v = 4242;
    user_access(m1, A + 2 * PAGE_SIZE, true, &v, nullptr);
    do_munmap(m1, A, 8 * PAGE_SIZE);
    struct page* p = find_get_page(f, 2);
    lock_page(p);
    remove_from_page_cache(p);  // the planted bug: dirty data dropped, never written back
    unlock_page(p);
    put_page(p);
    put_page(p);
    mm_struct* m2 = b.env.new_mm();
    do_mmap(m2, A, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0);
    user_access(m2, A + 2 * PAGE_SIZE, false, &v, nullptr);
  });
  b.m->run();
  EXPECT_EQ(b.bugs("shadow-memory"), 1) << b.all_bugs();
  // Both sides: the reader (now) and the write the reader should have seen.
  const std::string d = b.details("shadow-memory");
  EXPECT_NE(d.find("detected by task t/"), std::string::npos) << d;
  EXPECT_NE(d.find("Page 2 of file " + std::to_string(f->id) + " was last written (4242) by task t/"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("mm/user_access.cc"), std::string::npos) << d;
  EXPECT_NE(d.find("was installed by task t/"), std::string::npos) << d;
}

// Planted bug for the stale-TLB oracle at the mm level: a COW page freed without the
// flush its gather owes, while another CPU still caches the translation.
TEST(MmOracle, StaleTlbAfterFreeingWithoutTheGatherFlushIsCaught) {
  REQUIRE_ARCH("x86");  // a stale translation needs a TLB that caches it
  MmBox b(2);
  address_space* f = b.env.add_file(8, 8);
  mm_struct* mm = nullptr;
  completion mapped, freed;
  init_completion_on(b.m.get(), &mapped);
  init_completion_on(b.m.get(), &freed);
  b.m->spawn("cpu0", 0, [&] {
    mm = b.env.new_mm();
    do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0);
    touch_range(mm, A, A + PAGE_SIZE, true);
    complete(&mapped);
    wait_for_completion(&freed);
  });
  b.m->spawn("cpu1", 1, [&] {
    wait_for_completion(&mapped);
    unsigned long v = 0;
    user_access(mm, A, false, &v, nullptr);  // CPU 1 caches the translation
    // The planted bug: clear the pte and free the page with no TLB flush at all.
    pgtable_slot_t* pte = lookup_pte(mm, A);
    struct page* p = pfn_to_page(&b.env.mem(), pte_pfn(ptep_get_and_clear(mm, A, pte)));
    page_remove_rmap(p);
    put_page(p);
    user_access(mm, A, false, &v, nullptr);
    complete(&freed);
  });
  b.m->run();
  EXPECT_EQ(b.bugs("use-after-free-frame"), 1) << b.all_bugs();
  // Both sides: the stale user (CPU 1's TLB entry and its fill) and the free.
  const std::string d = b.details("use-after-free-frame");
  EXPECT_NE(d.find("The TLB entry was filled by task cpu1/"), std::string::npos) << d;
  EXPECT_NE(d.find("was freed by task cpu1/"), std::string::npos) << d;
  EXPECT_NE(d.find("put_page"), std::string::npos) << d;
}

}  // namespace

// madvise(MADV_DONTNEED) drops the ptes of its range and nothing else: the next access
// faults the page back from the page cache (a shared store survives, a private COW copy
// is discarded, as the kernel does), pages outside the range keep their ptes, and bad
// advice, an unaligned start or a hole in the range are refused.
TEST(MmFault, MadviseDontneedZapsOnlyItsRange) {
  MmBox b(1);
  address_space* f = b.env.add_file(8, 8);
  unsigned long refaults_in = 0, refaults_out = 0, shared_after = 0, private_after = 0, file_page5 = 0;
  int bad_advice = 0, unaligned = 0, hole = 0, ok = -1;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    do_mmap(mm, A + 4 * PAGE_SIZE, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 4);
    unsigned long v = 77;
    for (unsigned long i = 0; i < 8; i++) ASSERT_EQ(user_access(mm, A + i * PAGE_SIZE, true, &v, nullptr), 0);
    // Drop pages 1..5: three shared ones and two private COW copies.
    ok = do_madvise(mm, A + PAGE_SIZE, 5 * PAGE_SIZE, MADV_DONTNEED);
    for (unsigned long i = 1; i <= 5; i++) {
      unsigned long faults = 0, r = 0;
      ASSERT_EQ(user_access(mm, A + i * PAGE_SIZE, false, &r, &faults), 0);
      refaults_in += faults;
      if (i == 3) shared_after = r;
      if (i == 5) private_after = r;
    }
    for (unsigned long i : {0UL, 6UL, 7UL}) {
      unsigned long faults = 0, r = 0;
      ASSERT_EQ(user_access(mm, A + i * PAGE_SIZE, false, &r, &faults), 0);
      refaults_out += faults;
    }
    struct page* p = find_get_page(f, 5);
    file_page5 = frame_read(p, "test");
    put_page(p);
    bad_advice = do_madvise(mm, A, PAGE_SIZE, 99);
    unaligned = do_madvise(mm, A + 1, PAGE_SIZE, MADV_DONTNEED);
    do_munmap(mm, A + 2 * PAGE_SIZE, PAGE_SIZE);
    hole = do_madvise(mm, A, 4 * PAGE_SIZE, MADV_DONTNEED);
  });
  b.m->run();
  EXPECT_EQ(ok, 0);
  EXPECT_EQ(refaults_in, 5u) << "every page of the range faults again";
  EXPECT_EQ(refaults_out, 0u) << "pages outside the range keep their ptes";
  EXPECT_EQ(shared_after, 77u) << "a shared store is in the page cache";
  EXPECT_NE(private_after, 77u) << "a private COW copy is discarded";
  EXPECT_EQ(private_after, file_page5) << "the file's page is mapped again";
  EXPECT_EQ(bad_advice, -EINVAL);
  EXPECT_EQ(unaligned, -EINVAL);
  EXPECT_EQ(hole, -ENOMEM);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}
