// Tests of page migration and compaction (mm/migrate.h, mm/compaction.h): migration
// entries and where they go (fault, fork, mprotect, zap), migrate_pages on shared and
// swap-cache pages, the oracles, compaction, the knobs adjust_lock, skip_temp_stack,
// anon_pin and anon_lock=spin_noroot, and the 2010 races found by migration-stress.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "cli/runner.h"
#include "emu/errors.h"
#include "mm/compaction.h"
#include "mm/exec.h"
#include "mm/fork.h"
#include "mm/migrate.h"
#include "mm/page_alloc.h"
#include "mm/rmap_walk.h"
#include "mm/swap.h"
#include "tests/mm_test_util.h"

using namespace smpemu;
using namespace smpemu::testing;

namespace {

constexpr unsigned long A = 0x100000000UL;
constexpr int kMapAnon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

bool migration_pte_at(mm_struct* mm, unsigned long addr) { return is_migration_pte(__pte(peek_pte(mm, addr))); }


struct page* any_page(struct page*, void*) { return alloc_page(GFP_HIGHUSER_MOVABLE); }

// Migrates @page alone to a fresh frame; returns migrate_pages' result. Context: a task.
int migrate_one(struct page* page) {
  std::vector<struct page*> list;
  EXPECT_EQ(isolate_lru_page(page), 0);
  list.push_back(page);
  const int rc = migrate_pages(&list, any_page, nullptr);
  putback_lru_pages(&list);
  return rc;
}

TEST(MmMigrate, MigrationEntriesAreSwapPtesThatNameAPage) {
  for (const bool write : {false, true}) {
    const swp_entry_t e = make_migration_entry(12345, write);
    const pte_t p = swp_entry_to_pte(e);
    EXPECT_TRUE(is_swap_pte(p));
    EXPECT_TRUE(is_migration_pte(p));
    EXPECT_TRUE(non_swap_entry(e));
    EXPECT_EQ(is_write_migration_entry(e), write);
    EXPECT_EQ(migration_entry_to_pfn(pte_to_swp_entry(p)), 12345u);
    EXPECT_FALSE(is_write_migration_entry(make_migration_entry_read(e)));
    EXPECT_EQ(migration_entry_to_pfn(make_migration_entry_read(e)), 12345u);
  }
  EXPECT_FALSE(is_migration_entry(swp_entry(0, 5)));
}

TEST(MmMigrate, ASharedPageMovesWithItsPtesAndData) {
  MmBox b(1);
  unsigned long old_pfn = 0, new_parent = 0, new_child = 0, pv = 0, cv = 0;
  int rc = -1, mapcount = -1;
  bool old_free = false, parent_writable = true;
  std::string end_check;
  b.m->spawn("t", 0, [&] {
    mm_struct* parent = anon_test_mm(b, 1, 0x77);
    mm_struct* child = dup_mm(parent);
    struct page* p = page_at(parent, A);
    old_pfn = p->pfn;
    rc = migrate_one(p);
    struct page* np = page_at(parent, A);
    new_parent = np ? np->pfn : 0;
    new_child = page_at(child, A) ? page_at(child, A)->pfn : 0;
    mapcount = np ? page_mapcount(np) : -1;
    parent_writable = pte_write(__pte(peek_pte(parent, A)));
    old_free = frame_state_of(&b.env.mem(), old_pfn) == FRAME_FREE;
    ASSERT_EQ(user_access(parent, A, false, &pv, nullptr), 0);
    ASSERT_EQ(user_access(child, A, false, &cv, nullptr), 0);
    end_check = migration_check_entries(&b.env.mem());
  });
  b.m->run();
  EXPECT_EQ(rc, 0);
  EXPECT_NE(new_parent, old_pfn);
  EXPECT_EQ(new_parent, new_child);
  EXPECT_EQ(mapcount, 2);
  EXPECT_FALSE(parent_writable);  // a READ entry (the COW pte was read-only) comes back read-only
  EXPECT_TRUE(old_free);
  EXPECT_EQ(pv, 0x77u);
  EXPECT_EQ(cv, 0x77u);
  EXPECT_EQ(end_check, "");
  const vm_stats& s = b.env.vm().stats;
  EXPECT_EQ(s.pgmigrate_success, 1u);
  EXPECT_EQ(s.migration_ptes_set, 2u);
  EXPECT_EQ(s.migration_ptes_restored, 2u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmMigrate, AnExclusivePageComesBackWritable) {
  MmBox b(1);
  bool writable = false;
  unsigned long v = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 5);
    ASSERT_EQ(migrate_one(page_at(mm, A)), 0);
    writable = pte_write(__pte(peek_pte(mm, A)));
    v = 6;
    ASSERT_EQ(user_access(mm, A, true, &v, nullptr), 0);  // no COW fault: writable
    ASSERT_EQ(user_access(mm, A, false, &v, nullptr), 0);
  });
  b.m->run();
  EXPECT_TRUE(writable);
  EXPECT_EQ(v, 6u);
  EXPECT_EQ(b.env.vm().stats.cow_faults, 0u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmMigrate, ASwapCachePageChangesItsSlotAndKeepsItsSwapPtes) {
  MmBox b(1);
  int rc = -1;
  bool swapped = false, cached_new = false;
  unsigned long v = 0;
  std::string counts;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 0x31);
    struct page* p = page_at(mm, A);
    lock_page(p);
    ASSERT_TRUE(add_to_swap(p));
    unlock_page(p);
    const swp_entry_t entry = {p->private_};
    rc = migrate_one(p);  // 2.6.35: a page in the swap cache gets swap ptes, not entries
    swapped = is_swap_pte(__pte(peek_pte(mm, A))) && !migration_pte_at(mm, A);
    struct page* cached = lookup_swap_cache(entry);
    cached_new = cached && cached != p && PageSwapCache(cached);
    if (cached) put_page(cached);
    ASSERT_EQ(user_access(mm, A, false, &v, nullptr), 0);
    unsigned long n = 0;
    counts = swap_check_counts(&b.env.mem(), &n);
  });
  b.m->run();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(swapped);
  EXPECT_TRUE(cached_new);
  EXPECT_EQ(v, 0x31u);
  EXPECT_EQ(counts, "");
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// A fault on a migration entry waits for the page lock, then finds the page back.
TEST(MmMigrate, AFaultOnAMigrationEntryWaitsUntilThePageIsUnlocked) {
  MmBox b(2);
  completion unmapped;
  init_completion_on(b.m.get(), &unmapped);
  mm_struct* mm = nullptr;
  Cycles unlocked_at = 0, read_done = 0;
  unsigned long v = 0;
  b.m->spawn("migrator", 0, [&] {
    mm = anon_test_mm(b, 1, 0x42);
    atomic_inc(&mm->mm_users);  // the other thread
    struct page* p = page_at(mm, A);
    get_page(p);  // migration's own reference (the isolation's)
    lock_page(p);
    ASSERT_EQ(try_to_unmap(p, TTU_MIGRATION | TTU_IGNORE_ACCESS), SWAP_SUCCESS);
    complete_all(&unmapped);
    sleep_until(local_clock() + 200000);
    remove_migration_ptes(p, p);
    unlocked_at = local_clock();
    unlock_page(p);
    put_page(p);
  });
  b.m->spawn("faulter", 1, [&] {
    wait_for_completion(&unmapped);
    ASSERT_EQ(user_access(mm, A, false, &v, nullptr), 0);
    read_done = local_clock();
  });
  b.m->run();
  EXPECT_EQ(v, 0x42u);
  EXPECT_GE(read_done, unlocked_at);
  EXPECT_EQ(b.env.vm().stats.migration_waits, 1u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmMigrate, UnlockingAPageThatEntriesStillNameIsReported) {
  MmBox b(1);
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 1);
    struct page* p = page_at(mm, A);
    get_page(p);
    lock_page(p);
    try_to_unmap(p, TTU_MIGRATION | TTU_IGNORE_ACCESS);
    unlock_page(p);  // no remove_migration_ptes
  });
  b.m->run();
  ASSERT_EQ(b.bugs("migration-entry-left"), 1) << b.all_bugs();
  EXPECT_NE(b.m->bugs().front().message.find("mm 1 at 0x100000000"), std::string::npos) << b.all_bugs();
}

// The kernel's BUG: a fault meets an entry whose page is not locked.
TEST(MmMigrate, AFaultOnAStaleEntryHitsTheBug) {
  MmBox b(1);
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 2, 1);
    struct page* other = page_at(mm, A + PAGE_SIZE);
    // plant an entry naming an unlocked page, behind the count's back (as a race would)
    spinlock_t* ptl;
    pgtable_slot_t* pte = pte_offset_map_lock(mm, pmd_lookup(mm, A), A, &ptl);
    struct page* mine = page_at(mm, A);
    ptep_clear_flush(find_vma(mm, A), A, pte);
    set_pte_at(mm, A, pte, swp_entry_to_pte(make_migration_entry(other->pfn, true)));
    page_remove_rmap(mine);
    put_page(mine);
    pte_unmap_unlock(pte, ptl);
    unsigned long v = 0;
    user_access(mm, A, false, &v, nullptr);
  });
  b.m->run();
  EXPECT_EQ(b.bugs("migration-entry-unlocked"), 1) << b.all_bugs();
}

TEST(MmMigrate, ForkAndMprotectTurnWriteEntriesIntoReadOnesAndZapDropsThem) {
  MmBox b(1);
  bool parent_write_before = false, parent_write_after_fork = true, child_read = false;
  bool mprotect_read = false;
  std::string after_zap;
  unsigned long counted_after_fork = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 9);
    struct page* p = page_at(mm, A);
    get_page(p);
    lock_page(p);
    try_to_unmap(p, TTU_MIGRATION | TTU_IGNORE_ACCESS);
    parent_write_before = is_write_migration_entry(pte_to_swp_entry(__pte(peek_pte(mm, A))));
    mm_struct* child = dup_mm(mm);
    parent_write_after_fork = is_write_migration_entry(pte_to_swp_entry(__pte(peek_pte(mm, A))));
    child_read = migration_pte_at(child, A) && !is_write_migration_entry(pte_to_swp_entry(__pte(peek_pte(child, A))));
    counted_after_fork = b.env.vm().migration_ptes.at(p->pfn);
    mmput(child);  // zap drops the child's entry
    remove_migration_ptes(p, p);
    unlock_page(p);
    put_page(p);
    // the pte came back read-only (a READ entry); a store makes it writable again
    unsigned long v = 10;
    ASSERT_EQ(user_access(mm, A, true, &v, nullptr), 0);
    struct page* q = page_at(mm, A);
    get_page(q);
    lock_page(q);
    try_to_unmap(q, TTU_MIGRATION | TTU_IGNORE_ACCESS);
    EXPECT_TRUE(is_write_migration_entry(pte_to_swp_entry(__pte(peek_pte(mm, A)))));
    sys_mprotect(mm, A, PAGE_SIZE, PROT_READ);
    mprotect_read = migration_pte_at(mm, A) && !is_write_migration_entry(pte_to_swp_entry(__pte(peek_pte(mm, A))));
    remove_migration_ptes(q, q);
    unlock_page(q);
    put_page(q);
    mmput(mm);
    after_zap = migration_check_entries(&b.env.mem());
  });
  b.m->run();
  EXPECT_TRUE(parent_write_before);
  EXPECT_FALSE(parent_write_after_fork);
  EXPECT_TRUE(child_read);
  EXPECT_EQ(counted_after_fork, 2u);
  EXPECT_TRUE(mprotect_read);
  EXPECT_EQ(after_zap, "");
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// skip_temp_stack: migration leaves exec's temporary stack mapped (2.6.35) or unmaps it.
TEST(MmMigrate, TheTemporaryStackIsSkippedOnlyWithTheFix) {
  for (const bool skip : {true, false}) {
    MmBox b(1, {{"skip_temp_stack", skip ? "on" : "off"}});
    int result = -1;
    bool entry = false;
    b.m->spawn("t", 0, [&] {
      linux_binprm bprm{};
      ASSERT_EQ(bprm_mm_init(&bprm, false), 0);
      ASSERT_EQ(copy_strings(&bprm, 1, [](unsigned long, void*) { return 3UL; }, nullptr), 0);
      const unsigned long addr = STACK_TOP_MAX - PAGE_SIZE;
      struct page* p = page_at(bprm.mm, addr);
      get_page(p);
      lock_page(p);
      result = try_to_unmap(p, TTU_MIGRATION | TTU_IGNORE_ACCESS);
      entry = migration_pte_at(bprm.mm, addr);
      remove_migration_ptes(p, p);
      unlock_page(p);
      put_page(p);
      mmput(bprm.mm);
    });
    b.m->run();
    EXPECT_EQ(result, skip ? SWAP_AGAIN : SWAP_SUCCESS) << skip;
    EXPECT_EQ(entry, !skip) << skip;
    EXPECT_EQ(b.env.vm().stats.migrate_temp_stack_skips, skip ? 1u : 0u);
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  }
}

// adjust_lock: a split of an anonymous vma takes the anon_vma lock only with the fix;
// spin_noroot locks each anon_vma itself (a child's own, not the family's root).
TEST(MmMigrate, AdjustLockAndSpinNorootChangeWhichLocksASplitTakes) {
  std::map<std::string, std::uint64_t> taken;
  for (const char* variant : {"on", "off"}) {
    MmBox b(1, {{"adjust_lock", variant}});
    std::uint64_t before = 0;
    b.m->spawn("t", 0, [&] {
      mm_struct* mm = anon_test_mm(b, 4, 1);
      before = b.acquisitions("anon_vma");
      ASSERT_EQ(do_munmap(mm, A + PAGE_SIZE, PAGE_SIZE), 0);
    });
    b.m->run();
    taken[variant] = b.acquisitions("anon_vma") - before;
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  }
  EXPECT_GT(taken["on"], taken["off"]);
  // spin_noroot: a child's walk locks its own anon_vma's spinlock, not the root's
  for (const char* model : {"spin", "spin_noroot"}) {
    MmBox b(1, {{"anon_lock", model}});
    bool root_locked = false, own_locked = false;
    b.m->spawn("t", 0, [&] {
      mm_struct* parent = anon_test_mm(b, 1, 1);
      mm_struct* child = dup_mm(parent);
      unsigned long v = 2;
      ASSERT_EQ(user_access(child, A, true, &v, nullptr), 0);  // a COW copy under the child's anon_vma
      struct anon_vma* own = page_anon_vma(page_at(child, A));
      anon_vma_lock_write(own);
      root_locked = spin_is_locked(&own->root->lock);
      own_locked = spin_is_locked(&own->lock);
      anon_vma_unlock_write(own);
    });
    b.m->run();
    const bool noroot = std::string(model) == "spin_noroot";
    EXPECT_EQ(root_locked, !noroot) << model;
    EXPECT_EQ(own_locked, noroot) << model;
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  }
}

TEST(MmMigrate, CompactionMovesPagesFromTheBottomIntoFreePagesAtTheTop) {
  MmBox b(1, {}, 1, PreemptModel::Voluntary, 512);
  unsigned long moved = 0, highest_before = 0, lowest_after = ~0UL;
  std::vector<unsigned long> values;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 32, 100);
    for (unsigned long i = 0; i < 32; i++) highest_before = std::max(highest_before, page_at(mm, A + i * PAGE_SIZE)->pfn);
    moved = compact_nodes();
    for (unsigned long i = 0; i < 32; i++) {
      lowest_after = std::min(lowest_after, page_at(mm, A + i * PAGE_SIZE)->pfn);
      unsigned long v = 0;
      ASSERT_EQ(user_access(mm, A + i * PAGE_SIZE, false, &v, nullptr), 0);
      values.push_back(v);
    }
  });
  b.m->run();
  EXPECT_GE(moved, 32u);
  EXPECT_GT(lowest_after, highest_before);  // every page went above where any was
  ASSERT_EQ(values.size(), 32u);
  for (unsigned long i = 0; i < 32; i++) EXPECT_EQ(values[i], 100 + i);
  EXPECT_EQ(b.env.vm().stats.compact_passes, 1u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmMigrate, KnobCombinationsTheToolCannotHonourAreRefused) {
  EXPECT_THROW(MmBox(1, {{"anon_pin", "rcu_only"}, {"anon_lock", "mutex"}}), ConfigError);
  EXPECT_NO_THROW(MmBox(1, {{"anon_pin", "rcu_only"}, {"anon_lock", "spin_noroot"}}));
  RunConfig cfg;
  cfg.workload = "migration-stress";
  cfg.arch = "ppc64-hash";
  EXPECT_THROW(run_once(cfg), ConfigError);
}

std::uint64_t acquisitions(const RunResult& r, const std::string& cls) {
  for (const LockClassStats& l : r.locks)
    if (l.name == cls) return l.acquisitions;
  return 0;
}

// fork-exec's knobs: adjust_lock decides whether shift_arg_pages' vma_adjust takes the
// anon_vma lock; every other knob changes the work itself.
TEST(MmMigrate, ForkExecKnobsChangeWhatExecDoes) {
  const auto run = [](std::map<std::string, std::string> set) {
    RunConfig cfg;
    cfg.workload = "fork-exec";
    cfg.params.cpus = 2;
    cfg.set = std::move(set);
    return run_once(cfg);
  };
  const RunResult base = run({});
  ASSERT_TRUE(base.bugs.empty());
  EXPECT_EQ(base.metrics.at("forks"), 16);
  const RunResult unlocked = run({{"adjust_lock", "off"}});
  EXPECT_TRUE(unlocked.bugs.empty());
  // four per exec: copy_strings grows the temporary stack down for 3 of its 4 pages, and
  // shift_arg_pages lowers vm_start once (its final shrink changes only vm_end)
  EXPECT_EQ(acquisitions(base, "anon_vma") - acquisitions(unlocked, "anon_vma"), 64u);
  EXPECT_GT(run({{"exec_load", "200000"}}).metrics.at("cycles_per_exec"), base.metrics.at("cycles_per_exec") + 100000);
  EXPECT_GT(run({{"exec_pages", "16"}}).metrics.at("anon_faults"), base.metrics.at("anon_faults"));
  EXPECT_GT(run({{"pages", "64"}}).metrics.at("ptes_copied"), base.metrics.at("ptes_copied"));
  EXPECT_EQ(run({{"rounds", "3"}}).metrics.at("forks"), 6);
}

// migration-stress's stressor knobs each change what runs (the race knobs are tested
// with their races below).
TEST(MmMigrate, MigrationStressKnobsChangeTheStress) {
  const auto run = [](std::map<std::string, std::string> set) {
    RunConfig cfg;
    cfg.workload = "migration-stress";
    cfg.params.cpus = 4;
    cfg.set = std::move(set);
    const RunResult r = run_once(cfg);
    EXPECT_TRUE(r.bugs.empty());
    return r;
  };
  const RunResult base = run({});
  const auto m = [](const RunResult& r, const char* k) { return r.metrics.at(k); };
  EXPECT_GT(m(base, "pages_migrated"), 0);
  EXPECT_EQ(m(base, "forks"), 2 * (2 + 2 + 2));  // rounds * (fork + hole + exec children)
  EXPECT_EQ(m(run({{"rounds", "3"}}), "forks"), 3 * 6);
  EXPECT_EQ(m(run({{"fork_children", "0"}}), "forks"), 2 * 4);
  EXPECT_EQ(m(run({{"hole_children", "3"}}), "vma_splits"), m(base, "vma_splits") + 2 * 2);  // two splits a hole
  EXPECT_EQ(m(run({{"exec_children", "0"}}), "ptes_moved"), 0);
  EXPECT_GT(m(run({{"exec_pages", "8"}}), "ptes_moved"), m(base, "ptes_moved"));
  EXPECT_GT(m(run({{"exec_load", "200000"}}), "cycles_per_exec"), m(base, "cycles_per_exec") + 100000);
  EXPECT_GT(m(run({{"pages", "64"}}), "ptes_copied"), m(base, "ptes_copied"));
  EXPECT_EQ(m(run({{"passes", "1"}}), "compact_passes"), 1);
  const RunResult hog = run({{"frames", "500"}, {"hog_pages", "750"}, {"hog_loops", "1"}});
  EXPECT_GT(m(hog, "swap_outs"), 0);
  EXPECT_GT(m(run({{"frames", "500"}, {"hog_pages", "750"}, {"hog_loops", "2"}}), "swap_outs"), m(hog, "swap_outs"));
  RunConfig bad;
  bad.workload = "migration-stress";
  bad.set = {{"hog_pages", "100"}};  // a hog needs a frame limit
  EXPECT_THROW(run_once(bad), ConfigError);
}

RunResult stress(std::uint64_t seed, const std::string& strategy, std::map<std::string, std::string> set) {
  RunConfig cfg;
  cfg.workload = "migration-stress";
  cfg.params.seed = seed;
  cfg.params.cpus = 4;
  cfg.params.strategy = strategy;
  cfg.set = std::move(set);
  return run_once(cfg);
}

// The races of seed 003, each at a seed a default fuzz campaign found it (docs/MM.md),
// and the same schedule clean with the 2.6.35 fix.
TEST(MmMigrate, MigrationStressFindsEachRaceAndTheFixClosesIt) {
  struct Case {
    const char* knob;
    const char* bug;
    const char* fix;
    std::uint64_t seed;
    const char* strategy;
    const char* check;
  } cases[] = {
      {"adjust_lock", "off", "on", 169, "pos", "migration-entry-left"},
      {"skip_temp_stack", "off", "on", 126, "pct:3:79672", "migration-entry-left"},
      {"anon_pin", "rcu_only", "refcount", 4873, "pos", "anon-vma-freed-under-migration"},
  };
  for (const Case& c : cases) {
    const RunResult bad = stress(c.seed, c.strategy, {{c.knob, c.bug}});
    ASSERT_FALSE(bad.bugs.empty()) << c.knob;
    EXPECT_EQ(bad.bugs.front().check, c.check) << c.knob;
    const RunResult good = stress(c.seed, c.strategy, {{c.knob, c.fix}});
    EXPECT_TRUE(good.bugs.empty()) << c.knob;
    EXPECT_GT(good.metrics.at("pages_migrated"), 0) << c.knob;
  }
}

}  // namespace
