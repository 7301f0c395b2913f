// Tests of anonymous memory: the anonymous fault and the zero page, anon_vma and its
// chains, fork (dup_mm, copy_page_range, COW) and exit, brk, split/merge/mremap of
// anonymous vmas, the anon_vma slab's reuse and release, and the private-page shadow
// oracle (mm/rmap.*, mm/fork.*, mm/anon_shadow.*, mm/memory.cc, mm/mmap.cc).
#include <gtest/gtest.h>

#include "emu/errors.h"
#include <functional>

#include "kernel/completion.h"
#include "mm/anon_shadow.h"
#include "mm/exec.h"
#include "mm/rmap_walk.h"
#include "tests/mm_test_util.h"

using namespace smpemu;
using namespace smpemu::testing;

namespace {

constexpr unsigned long A = 0x100000000UL;
constexpr unsigned long B = 0x200000000UL;
constexpr int kMapAnon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

int chains_of(vm_area_struct* vma) {
  int n = 0;
  for (list_head* l = vma->anon_vma_chain.next; l != &vma->anon_vma_chain; l = l->next) ++n;
  return n;
}

std::vector<vm_area_struct*> vmas_of(anon_vma* av) {
  std::vector<vm_area_struct*> out;
  for (list_head* l = av->head.next; l != &av->head; l = l->next)
    out.push_back(list_entry(l, anon_vma_chain, same_anon_vma)->vma);
  return out;
}

TEST(MmAnon, StoreFaultMapsAZeroedAnonPageAndLoadFaultTheZeroPage) {
  MmBox b(1);
  unsigned long first = 99, after = 0;
  bool anon = false, same_anon_vma = false, readonly_zero = false, zero_no_anon_vma = false;
  int mapcount = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    ASSERT_EQ(do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0), (long)A);
    ASSERT_EQ(user_access(mm, A + PAGE_SIZE, false, &first, nullptr), 0);  // zero page
    vm_area_struct* vma = find_vma(mm, A);
    zero_no_anon_vma = vma->anon_vma == nullptr;
    struct page* z = page_at(mm, A + PAGE_SIZE);
    readonly_zero = z == b.env.vm().zero_page && !(peek_pte(mm, A + PAGE_SIZE) & _PAGE_RW);
    unsigned long v = 0x1234;
    ASSERT_EQ(user_access(mm, A, true, &v, nullptr), 0);
    ASSERT_EQ(user_access(mm, A, false, &after, nullptr), 0);
    struct page* p = page_at(mm, A);
    anon = PageAnon(p);
    same_anon_vma = p->anon_vma.v == vma->anon_vma && p->index == (A >> PAGE_SHIFT);
    mapcount = page_mapcount(p);
    v = 0x77;  // a store to the zero page's address: a new page (no copy)
    ASSERT_EQ(user_access(mm, A + PAGE_SIZE, true, &v, nullptr), 0);
  });
  b.m->run();
  EXPECT_EQ(first, 0u);
  EXPECT_TRUE(zero_no_anon_vma);
  EXPECT_TRUE(readonly_zero);
  EXPECT_EQ(after, 0x1234u);
  EXPECT_TRUE(anon);
  EXPECT_TRUE(same_anon_vma);
  EXPECT_EQ(mapcount, 1);
  EXPECT_EQ(b.env.vm().stats.anon_faults, 1u);
  EXPECT_EQ(b.env.vm().stats.zero_page_faults, 1u);
  EXPECT_EQ(b.env.vm().stats.cow_faults, 1u);  // the zero page's write fault
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, SharedAnonymousAndAnonymousWithAFileAreRefused) {
  MmBox b(1);
  address_space* f = b.env.add_file(4, 4);
  long shared = 0, with_file = 0, file_without = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    shared = do_mmap(mm, A, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0);
    with_file = do_mmap(mm, A, PAGE_SIZE, PROT_READ, kMapAnon, f, 0);
    file_without = do_mmap(mm, A, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, nullptr, 0);
  });
  b.m->run();
  EXPECT_EQ(shared, -EINVAL);
  EXPECT_EQ(with_file, -EINVAL);
  EXPECT_EQ(file_without, -EINVAL);
}

TEST(MmAnon, ForkSharesPagesReadOnlyAndCowSeparatesThem) {
  MmBox b(2);
  bool shared = false, both_ro = false, family = false, order = false;
  int mapcount_shared = 0, mapcount_after = 0, child_chains = 0;
  unsigned long parent_sees = 0, child_sees = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    ASSERT_EQ(touch_range(mm, A, A + 4 * PAGE_SIZE, true, 5), 0);
    mm_struct* child = dup_mm(mm);
    ASSERT_NE(child, nullptr);
    struct page* pp = page_at(mm, A);
    shared = pp == page_at(child, A);
    both_ro = !(peek_pte(mm, A) & _PAGE_RW) && !(peek_pte(child, A) & _PAGE_RW);
    mapcount_shared = page_mapcount(pp);
    vm_area_struct* pv = find_vma(mm, A);
    vm_area_struct* cv = find_vma(child, A);
    family = cv->anon_vma != pv->anon_vma && cv->anon_vma->root == pv->anon_vma;
    child_chains = chains_of(cv);
    const std::vector<vm_area_struct*> walk = vmas_of(pv->anon_vma);
    order = walk.size() == 2 && walk[0] == pv && walk[1] == cv;  // parent before child
    unsigned long v = 9;
    ASSERT_EQ(user_access(child, A, true, &v, nullptr), 0);  // COW
    mapcount_after = page_mapcount(pp);
    ASSERT_EQ(user_access(mm, A, false, &parent_sees, nullptr), 0);
    ASSERT_EQ(user_access(child, A, false, &child_sees, nullptr), 0);
    mmput(child);
  });
  b.m->run();
  EXPECT_TRUE(shared);
  EXPECT_TRUE(both_ro);
  EXPECT_EQ(mapcount_shared, 2);
  EXPECT_TRUE(family);
  EXPECT_EQ(child_chains, 2);  // its own anon_vma and the parent's
  EXPECT_TRUE(order);
  EXPECT_EQ(mapcount_after, 1);
  EXPECT_EQ(parent_sees, 5u);
  EXPECT_EQ(child_sees, 9u);
  EXPECT_EQ(b.env.vm().stats.forks, 1u);
  EXPECT_EQ(b.env.vm().stats.ptes_copied, 4u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, ExitUnlinksTheChildAndFreesItsAnonVma) {
  MmBox b(1);
  int chains_before = 0, chains_after = 0, root_refs_forked = 0, root_refs_after = 0;
  unsigned long reuse = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    touch_range(mm, A, A + 2 * PAGE_SIZE, true);
    anon_vma* root = find_vma(mm, A)->anon_vma;
    mm_struct* child = dup_mm(mm);
    chains_before = static_cast<int>(vmas_of(root).size());
    root_refs_forked = root->refcount.counter;
    mmput(child);
    chains_after = static_cast<int>(vmas_of(root).size());
    root_refs_after = root->refcount.counter;
    // the child's anon_vma went back to the slab: the next fork may be handed it
    mm_struct* again = dup_mm(mm);
    reuse = b.env.vm().anon_vma_cache.reuses;
    mmput(again);
  });
  b.m->run();
  EXPECT_EQ(chains_before, 2);
  EXPECT_EQ(root_refs_forked, 2);  // its chains' 1 + the child's reference on its root
  EXPECT_EQ(chains_after, 1);
  EXPECT_EQ(root_refs_after, 1);
  EXPECT_EQ(reuse, 1u);
  EXPECT_EQ(b.env.vm().stats.exits, 2u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, AnonVmaUsedAfterItsSlabPageWentBackIsUseAfterFree) {
  MmBox b(1);
  bool released = false;
  b.m->spawn("t", 0, [&] {
    // free anon_vmas until the slab gives one back after a grace period (drawn)
    for (int i = 0; i < 64 && !released; i++) {
      anon_vma* av = anon_vma_alloc();
      put_anon_vma(av);
      synchronize_rcu();
      if (av->released) {
        released = true;
        check_anon_vma(av, "test");
      }
    }
  });
  b.m->run();
  ASSERT_TRUE(released);
  EXPECT_EQ(b.bugs("use-after-free"), 1) << b.all_bugs();
  EXPECT_NE(b.details("use-after-free").find("anon_vma"), std::string::npos);
}

TEST(MmAnon, ReusedWithinAGracePeriodIsStillAnAnonVma) {
  MmBox b(1);
  bool same = false;
  b.m->spawn("t", 0, [&] {
    rcu_read_lock();
    anon_vma* av = anon_vma_alloc();
    put_anon_vma(av);
    anon_vma* again = anon_vma_alloc();  // the only free object: handed out again
    same = again == av;
    check_anon_vma(av, "stale pointer under RCU: type-stable");
    rcu_read_unlock();
    put_anon_vma(again);
  });
  b.m->run();
  EXPECT_TRUE(same);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, BrkGrowsTheHeapByExtendingItsVmaWithoutTheAnonLock) {
  MmBox b(1);
  int vmas = 0, segv_after_shrink = 0;
  std::uint64_t anon_locks_grow = 0, anon_locks_split = 0;
  unsigned long v1 = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    set_brk_base(mm, A);
    ASSERT_EQ(sys_brk(mm, A + 2 * PAGE_SIZE), A + 2 * PAGE_SIZE);
    unsigned long v = 3;
    ASSERT_EQ(user_access(mm, A + PAGE_SIZE, true, &v, nullptr), 0);  // anon_vma prepared
    const std::uint64_t before = b.acquisitions("anon_vma");
    ASSERT_EQ(sys_brk(mm, A + 4 * PAGE_SIZE), A + 4 * PAGE_SIZE);  // a pure vm_end change
    anon_locks_grow = b.acquisitions("anon_vma") - before;
    vmas = mm->map_count;
    ASSERT_EQ(user_access(mm, A + PAGE_SIZE, false, &v1, nullptr), 0);
    const std::uint64_t before_split = b.acquisitions("anon_vma");
    ASSERT_EQ(sys_mprotect(mm, A + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);  // split: root lock
    anon_locks_split = b.acquisitions("anon_vma") - before_split;
    ASSERT_EQ(sys_brk(mm, A + PAGE_SIZE), A + PAGE_SIZE);
    unsigned long w = 0;
    segv_after_shrink = user_access(mm, A + 2 * PAGE_SIZE, false, &w, nullptr);
  });
  b.m->run();
  EXPECT_EQ(vmas, 1);
  EXPECT_EQ(anon_locks_grow, 0u);
  EXPECT_GT(anon_locks_split, 0u);
  EXPECT_EQ(v1, 3u);
  EXPECT_EQ(segv_after_shrink, USER_SEGV);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, SplitAndMergeKeepEveryPartLinkedToTheAnonVma) {
  MmBox b(1);
  int split_vmas = 0, merged_vmas = 0;
  bool all_linked = false;
  unsigned long sum = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 6 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    for (unsigned long i = 0; i < 6; i++) {
      unsigned long v = i + 1;
      user_access(mm, A + i * PAGE_SIZE, true, &v, nullptr);
    }
    sys_mprotect(mm, A + 2 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ);
    split_vmas = mm->map_count;
    anon_vma* av = find_vma(mm, A)->anon_vma;
    all_linked = vmas_of(av).size() == 3;
    for (auto& e : mm->mm_rb) all_linked = all_linked && e.second->anon_vma == av;
    sys_mprotect(mm, A + 2 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
    merged_vmas = mm->map_count;
    for (unsigned long i = 0; i < 6; i++) {
      unsigned long v = 0;
      user_access(mm, A + i * PAGE_SIZE, false, &v, nullptr);
      sum += v;
    }
  });
  b.m->run();
  EXPECT_EQ(split_vmas, 3);
  EXPECT_TRUE(all_linked);
  EXPECT_EQ(merged_vmas, 1);
  EXPECT_EQ(sum, 21u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, MremapMovesAnonPagesWithTheirIndexAndValues) {
  MmBox b(1);
  unsigned long moved = 0;
  bool index_kept = false;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    unsigned long v = 42;
    user_access(mm, A + PAGE_SIZE, true, &v, nullptr);
    ASSERT_EQ(sys_mremap(mm, A, 4 * PAGE_SIZE, B), 0);
    struct page* p = page_at(mm, B + PAGE_SIZE);
    vm_area_struct* vma = find_vma(mm, B);
    index_kept = p && vma_address(p, vma) == B + PAGE_SIZE;
    user_access(mm, B + PAGE_SIZE, false, &moved, nullptr);
  });
  b.m->run();
  EXPECT_EQ(moved, 42u);
  EXPECT_TRUE(index_kept);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, MremapGrowsInPlaceOrMovesAndShrinks) {
  MmBox b(1);
  long grown = 0, blocked = 0, moved = 0, shrunk = 0;
  int vmas_after_grow = 0, segv_tail = 0;
  unsigned long kept = 0, fresh = 1, followed = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    unsigned long v = 11;
    user_access(mm, A + PAGE_SIZE, true, &v, nullptr);
    grown = do_mremap(mm, A, 2 * PAGE_SIZE, 4 * PAGE_SIZE, 0, 0);  // room above: in place
    vmas_after_grow = mm->map_count;
    user_access(mm, A + PAGE_SIZE, false, &kept, nullptr);
    user_access(mm, A + 3 * PAGE_SIZE, false, &fresh, nullptr);
    do_mmap(mm, A + 4 * PAGE_SIZE, PAGE_SIZE, PROT_READ, kMapAnon, nullptr, 0);  // in the way now
    blocked = do_mremap(mm, A, 4 * PAGE_SIZE, 6 * PAGE_SIZE, 0, 0);
    moved = do_mremap(mm, A, 4 * PAGE_SIZE, 6 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
    if (moved > 0) {
      user_access(mm, static_cast<unsigned long>(moved) + PAGE_SIZE, false, &followed, nullptr);
      shrunk = do_mremap(mm, static_cast<unsigned long>(moved), 6 * PAGE_SIZE, PAGE_SIZE, 0, 0);
      unsigned long w = 0;
      segv_tail = user_access(mm, static_cast<unsigned long>(moved) + PAGE_SIZE, false, &w, nullptr);
    }
  });
  b.m->run();
  EXPECT_EQ(grown, (long)A);
  EXPECT_EQ(vmas_after_grow, 1);
  EXPECT_EQ(kept, 11u);
  EXPECT_EQ(fresh, 0u);
  EXPECT_EQ(blocked, -ENOMEM);
  EXPECT_GT(moved, 0);
  EXPECT_NE(moved, (long)A);
  EXPECT_EQ(followed, 11u);
  EXPECT_EQ(shrunk, moved);
  EXPECT_EQ(segv_tail, USER_SEGV);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// Regression: free_pgtables stepped through an unmapped range 2 MiB at a time, so the
// exit of an mm whose vmas lie terabytes apart (an mremap moved one) took tens of
// millions of steps; it skips what a none upper-level entry covers now.
TEST(MmAnon, ExitOfVmasTerabytesApartIsQuick) {
  MmBox b(1);
  constexpr unsigned long kFar = 0x700000000000UL;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    do_mmap(mm, kFar, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    touch_range(mm, A, A + PAGE_SIZE, true);
    touch_range(mm, kFar, kFar + PAGE_SIZE, true);
    mmput(mm);
  });
  b.m->run();
  EXPECT_LT(b.m->now(), 5000000u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

unsigned long arg_value(unsigned long i, void*) { return 0x5000 + i; }

TEST(MmAnon, ExecBuildsTheStackAtTheTopAndShiftsItDown) {
  MmBox b(1);
  bool temporary_before = false, temporary_after = true, old_gone = false;
  unsigned long start = 0, end = 0, sum = 0, index_ok = 0;
  int rc = -1;
  constexpr unsigned long kTop = STACK_TOP_MAX - 0x1000000UL;  // 16 MiB lower
  b.m->spawn("t", 0, [&] {
    linux_binprm bprm{};
    ASSERT_EQ(bprm_mm_init(&bprm, false), 0);
    ASSERT_EQ(copy_strings(&bprm, 3, arg_value, nullptr), 0);
    temporary_before = is_vma_temporary_stack(bprm.vma);
    rc = setup_arg_pages(&bprm, kTop);
    mm_struct* mm = bprm.mm;
    vm_area_struct* vma = find_vma(mm, kTop - PAGE_SIZE);
    temporary_after = is_vma_temporary_stack(vma);
    start = vma->vm_start;
    end = vma->vm_end;
    old_gone = peek_pte(mm, STACK_TOP_MAX - PAGE_SIZE) == 0;
    for (unsigned long a = start; a < end; a += PAGE_SIZE) {
      unsigned long v = 0;
      user_access(mm, a, false, &v, nullptr);  // the shadow oracle checks the moved values
      sum += v;
      struct page* p = page_at(mm, a);
      if (p && vma_address(p, vma) == a) index_ok++;
    }
    mmput(mm);
  });
  b.m->run();
  EXPECT_TRUE(temporary_before);
  EXPECT_EQ(rc, 0);
  EXPECT_FALSE(temporary_after);
  EXPECT_EQ(end, kTop);
  EXPECT_EQ(start, kTop - 3 * PAGE_SIZE);
  EXPECT_TRUE(old_gone);
  EXPECT_EQ(sum, 3 * 0x5000u + 0 + 1 + 2);
  EXPECT_EQ(index_ok, 3u);  // rmap finds every page where it is now
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, MremapRefusesBadArguments) {
  MmBox b(1);
  long flags = 0, fixed_alone = 0, nothing = 0, overlap = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    flags = do_mremap(mm, A, PAGE_SIZE, 2 * PAGE_SIZE, 8, 0);
    fixed_alone = do_mremap(mm, A, PAGE_SIZE, PAGE_SIZE, MREMAP_FIXED, B);
    nothing = do_mremap(mm, B, PAGE_SIZE, 2 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
    overlap = do_mremap(mm, A, 2 * PAGE_SIZE, 2 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, A + PAGE_SIZE);
  });
  b.m->run();
  EXPECT_EQ(flags, -EINVAL);
  EXPECT_EQ(fixed_alone, -EINVAL);
  EXPECT_EQ(nothing, -EFAULT);
  EXPECT_EQ(overlap, -EINVAL);
}

TEST(MmAnon, MunmapForgetsTheShadowSoARemapReadsZero) {
  MmBox b(1);
  unsigned long again = 1;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    unsigned long v = 8;
    user_access(mm, A, true, &v, nullptr);
    do_munmap(mm, A, PAGE_SIZE);
    do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    user_access(mm, A, false, &again, nullptr);
  });
  b.m->run();
  EXPECT_EQ(again, 0u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmAnon, ShadowOracleCatchesAPrivatePageThatChangesBehindTheProcess) {
  MmBox b(1);
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    unsigned long v = 8;
    user_access(mm, A, true, &v, nullptr);
    frame_write(page_at(mm, A), 9, "test: a stray store");
    user_access(mm, A, false, &v, nullptr);
  });
  b.m->run();
  EXPECT_EQ(b.bugs("shadow-memory"), 1) << b.all_bugs();
}

// ---- rmap walks --------------------------------------------------------------------

// A family: the parent stores into one page, forks, and the child reads it (one page,
// two ptes). Then `body(page)` runs in a task of its own on CPU 1.
void with_shared_page(MmBox& b, std::function<void(struct page*)> body) {
  completion ready;
  init_completion_on(b.m.get(), &ready);
  struct page* shared = nullptr;
  b.m->spawn("family", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
    unsigned long v = 5;
    user_access(mm, A, true, &v, nullptr);
    mm_struct* child = dup_mm(mm);
    user_access(child, A, false, &v, nullptr);
    shared = page_at(mm, A);
    complete_all(&ready);
  });
  b.m->spawn("walker", 1, [&] {
    wait_for_completion(&ready);
    body(shared);
  });
  b.m->run();
}

struct WalkSeen {
  int vmas = 0;
  bool rcu = false;
  int refcount = 0;
};

bool note_walk(struct page* page, vm_area_struct*, unsigned long, void* arg) {
  WalkSeen* w = static_cast<WalkSeen*>(arg);
  w->vmas++;
  w->rcu = rcu_read_lock_held();
  w->refcount = page->anon_vma.v->refcount.counter;
  return true;
}

WalkSeen walk_in(const char* model) {
  MmBox b(2, {{"anon_lock", model}});
  WalkSeen seen;
  with_shared_page(b, [&](struct page* page) { rmap_walk(page, note_walk, &seen); });
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  return seen;
}

TEST(MmAnon, TheSpinModelWalksUnderRcuAndTheOthersDoNot) {
  EXPECT_TRUE(walk_in("spin").rcu);
  EXPECT_FALSE(walk_in("mutex").rcu);
  EXPECT_FALSE(walk_in("trylock").rcu);
  EXPECT_FALSE(walk_in("rwsem").rcu);
}

TEST(MmAnon, TheMutexModelWalksWithAReferenceAndTheFastPathWithout) {
  const WalkSeen mutex = walk_in("mutex"), trylock = walk_in("trylock"), spin = walk_in("spin");
  // the root's: its chains' 1 + the child's anon_vma's 1, + the mutex walker's
  EXPECT_EQ(spin.refcount, 2);
  EXPECT_EQ(trylock.refcount, 2);
  EXPECT_EQ(mutex.refcount, 3);
  EXPECT_EQ(mutex.vmas, 2);  // the parent's vma and the child's
}

TEST(MmAnon, PageReferencedCountsAndClearsTheYoungPtes) {
  REQUIRE_ARCH("x86");  // the accessed bit as the x86 walker sets it
  MmBox b(2);
  int first = -1, again = -1, after_touch = -1;
  with_shared_page(b, [&](struct page* page) {
    first = page_referenced(page);  // the parent's store and the child's load set A
    again = page_referenced(page);
    // nothing touched it since: a load now misses the TLB (flushed) and sets A again
    mm_struct* any = nullptr;
    for (mm_struct* mm : b.env.mem().live_mms) any = mm;
    unsigned long v = 0;
    user_access(any, A, false, &v, nullptr);
    after_touch = page_referenced(page);
  });
  EXPECT_EQ(first, 2);
  EXPECT_EQ(again, 0);
  EXPECT_EQ(after_touch, 1);
  EXPECT_EQ(b.env.vm().stats.rmap_walks, 3u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// The anon_vma lock joins the checked order (mmap_sem > page lock > i_mmap lock >
// anon_vma > page_table_lock). A planted path taking a pair the other way round is
// reported: page_table_lock before the spin model's anon_vma lock (anon_vma_prepare
// taught lockdep the right order), and, for the sleeping models, the anon_vma lock
// before the page lock (after a path took them in order).
TEST(MmAnon, AnInvertedAnonVmaLockOrderIsReported) {
  for (const std::string model : {"spin", "mutex", "rwsem"}) {
    MmBox b(1, {{"anon_lock", model}});
    b.m->spawn("t", 0, [&] {
      mm_struct* mm = b.env.new_mm();
      do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0);
      unsigned long v = 1;
      user_access(mm, A, true, &v, nullptr);  // anon_vma_prepare: anon_vma, then page_table_lock
      anon_vma* av = find_vma(mm, A)->anon_vma;
      if (model == "spin") {
        spin_lock(&mm->page_table_lock);
        anon_vma_lock_write(av);
        anon_vma_unlock_write(av);
        spin_unlock(&mm->page_table_lock);
        return;
      }
      struct page* p = page_at(mm, A);
      lock_page(p);  // the right order
      anon_vma_lock_write(av);
      anon_vma_unlock_write(av);
      unlock_page(p);
      anon_vma_lock_write(av);  // planted: the page lock inside anon_vma
      lock_page(p);
      unlock_page(p);
      anon_vma_unlock_write(av);
    });
    b.m->run();
    EXPECT_GE(b.bugs("lock-order"), 1) << model << "\n" << b.all_bugs();
  }
}

TEST(MmAnon, AnUnknownAnonLockModelIsRefused) {
  const WorkloadSpec* spec = find_workload("fork-fault");
  ASSERT_NE(spec, nullptr);
  EXPECT_THROW(resolve_knobs(*spec, {{"anon_lock", "seqlock"}}), ConfigError);
}

}  // namespace
