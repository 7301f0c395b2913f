// Tests of NUMA placement and memory policies (mm/mempolicy.h): the remote-memory cost,
// alloc_page_vma under each policy, mbind's checks, eager MPOL_MF_MOVE, lazy migration
// (migrate_pages_unmap_only and migrate-on-fault with both gates), the oracles of lazy
// migration with a planted bug each, and the workload lazy-migrate and its knobs.
#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "cli/runner.h"
#include "emu/errors.h"
#include "mm/fork.h"
#include "mm/mempolicy.h"
#include "mm/migrate.h"
#include "mm/numa.h"
#include "mm/page_alloc.h"
#include "tests/mm_test_util.h"

using namespace smpemu;
using namespace smpemu::testing;

namespace {

constexpr unsigned long A = 0x100000000UL;
constexpr int kMapAnon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
// On opteron48 CPUs 0-5 are node 0 (die 0) and CPUs 6-11 node 1 (die 1, same socket).
constexpr int kCpusTwoNodes = 8;
constexpr int kNode1Cpu = 6;

nodemask_t node(int nid) {
  nodemask_t m;
  m.set(static_cast<size_t>(nid));
  return m;
}


int nid_at(mm_struct* mm, unsigned long addr) {
  struct page* p = page_at(mm, addr);
  return p ? page_to_nid(p) : -1;
}

bool swap_pte_at(mm_struct* mm, unsigned long addr) {
  const pte_t p = __pte(peek_pte(mm, addr));
  return is_swap_pte(p) && !is_migration_pte(p);
}

int vmas(mm_struct* mm) { return static_cast<int>(mm->mm_rb.size()); }

TEST(MmNuma, RemoteFramesCostTheInterNodeLineTransferMore) {
  MmBox b(kCpusTwoNodes);
  const phys_mem& mem = b.env.mem();
  ASSERT_EQ(nr_node_ids(&mem), 2);
  EXPECT_EQ(node_access_extra(&mem, 0, 0), 0u);
  EXPECT_EQ(node_access_extra(&mem, 0, 1), 197u - 117u);  // another die of the socket
  EXPECT_EQ(node_access_extra(&mem, kNode1Cpu, 0), 197u - 117u);
  Cycles local = 0, remote = 0, copy = 0;
  b.m->spawn("t", 0, [&] {
    struct page* near = alloc_pages_node(0, GFP_KERNEL, 0);
    struct page* far = alloc_pages_node(1, GFP_KERNEL | __GFP_THISNODE, 0);
    ASSERT_TRUE(near && far);
    ASSERT_EQ(page_to_nid(far), 1);
    Cycles t0 = local_clock();
    page_stream(300, near);
    local = local_clock() - t0;
    t0 = local_clock();
    page_stream(300, far);
    remote = local_clock() - t0;
    t0 = local_clock();
    page_stream(300, near, far);
    copy = local_clock() - t0;
    put_page(near);
    put_page(far);
  });
  b.m->run();
  EXPECT_EQ(local, 300u);
  EXPECT_EQ(remote, 300u + 300u * 80u / 300u);  // memory 300 cycles on opteron48
  EXPECT_EQ(copy, 300u + 300u * 40u / 300u);
}

TEST(MmNuma, FaultsAllocateWhereTheVmaPolicySays) {
  MmBox b(kCpusTwoNodes);
  std::map<std::string, std::vector<int>> nodes;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    const auto layout = [&](const std::string& name, enum mpol_mode mode, const nodemask_t& mask) {
      const unsigned long base = A + nodes.size() * 16 * PAGE_SIZE;
      ASSERT_EQ(do_mmap(mm, base, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0), (long)base);
      if (mode != MPOL_DEFAULT) ASSERT_EQ(do_mbind(mm, base, 4 * PAGE_SIZE, mode, &mask, 0), 0);
      std::vector<int>& v = nodes[name];
      ASSERT_EQ(touch_range(mm, base, base + 4 * PAGE_SIZE, true), 0);
      for (unsigned long i = 0; i < 4; i++) v.push_back(nid_at(mm, base + i * PAGE_SIZE));
    };
    nodemask_t both;
    both.set(0);
    both.set(1);
    layout("default", MPOL_DEFAULT, nodemask_t{});
    layout("bind1", MPOL_BIND, node(1));
    layout("preferred1", MPOL_PREFERRED, node(1));
    layout("interleave", MPOL_INTERLEAVE, both);
    layout("bind01", MPOL_BIND, both);  // nearest allowed node: this CPU's
  });
  b.m->run();
  EXPECT_EQ(nodes["default"], (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(nodes["bind1"], (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(nodes["preferred1"], (std::vector<int>{1, 1, 1, 1}));
  // offset interleave: page index (vm_pgoff-based) modulo the two nodes
  const int first = nodes["interleave"][0];
  EXPECT_EQ(nodes["interleave"], (std::vector<int>{first, 1 - first, first, 1 - first}));
  EXPECT_EQ(nodes["bind01"], (std::vector<int>{0, 0, 0, 0}));
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmNuma, MbindRefusesWhat38Refuses) {
  for (const std::string lazy : {"swapcache_unmap", "off"}) {
    MmBox b(kCpusTwoNodes, {{"lazy_impl", lazy}});
    std::map<std::string, int> rc;
    b.m->spawn("t", 0, [&] {
      mm_struct* mm = anon_test_mm(b, 4, 1);
      const nodemask_t none, n1 = node(1);
      nodemask_t beyond;
      beyond.set(2);  // the machine has nodes 0 and 1
      const unsigned long len = 4 * PAGE_SIZE;
      rc["bad mode"] = do_mbind(mm, A, len, MPOL_MAX, &n1, 0);
      rc["unknown flag"] = do_mbind(mm, A, len, MPOL_BIND, &n1, 1u << 7);
      rc["lazy"] = do_mbind(mm, A, len, MPOL_BIND, &n1, MPOL_MF_MOVE | MPOL_MF_LAZY);
      rc["lazy alone"] = do_mbind(mm, A, len, MPOL_BIND, &n1, MPOL_MF_LAZY);
      rc["no such node"] = do_mbind(mm, A, len, MPOL_BIND, &beyond, 0);
      rc["default with nodes"] = do_mbind(mm, A, len, MPOL_DEFAULT, &n1, 0);
      rc["bind nowhere"] = do_mbind(mm, A, len, MPOL_BIND, &none, 0);
      rc["interleave nowhere"] = do_mbind(mm, A, len, MPOL_INTERLEAVE, &none, 0);
      rc["unaligned"] = do_mbind(mm, A + 1, len, MPOL_BIND, &n1, 0);
      rc["hole"] = do_mbind(mm, A, 2 * len, MPOL_BIND, &n1, 0);
      rc["strict"] = do_mbind(mm, A, len, MPOL_BIND, &n1, MPOL_MF_STRICT);  // pages on node 0
      rc["empty"] = do_mbind(mm, A, 0, MPOL_BIND, &n1, 0);
    });
    b.m->run();
    EXPECT_EQ(rc["bad mode"], -EINVAL);
    EXPECT_EQ(rc["unknown flag"], -EINVAL);
    EXPECT_EQ(rc["lazy"], lazy == "off" ? -EINVAL : 0) << lazy;
    EXPECT_EQ(rc["lazy alone"], -EINVAL);
    EXPECT_EQ(rc["no such node"], -EINVAL);
    EXPECT_EQ(rc["default with nodes"], -EINVAL);
    EXPECT_EQ(rc["bind nowhere"], -EINVAL);
    EXPECT_EQ(rc["interleave nowhere"], -EINVAL);
    EXPECT_EQ(rc["unaligned"], -EINVAL);
    EXPECT_EQ(rc["hole"], -EFAULT);
    // after the lazy mbind the pages are unmapped, not misplaced-and-mapped: strict is
    // only refused while they sit on node 0 mapped
    EXPECT_EQ(rc["strict"], lazy == "off" ? -EIO : 0) << lazy;
    EXPECT_EQ(rc["empty"], 0);
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  }
}

TEST(MmNuma, MbindSplitsAndMergesVmasByPolicy) {
  MmBox b(kCpusTwoNodes);
  int after_middle = 0, after_rest = 0, after_reset = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 8, 1);
    const nodemask_t n1 = node(1), none;
    ASSERT_EQ(do_mbind(mm, A + 2 * PAGE_SIZE, 2 * PAGE_SIZE, MPOL_BIND, &n1, 0), 0);
    after_middle = vmas(mm);
    ASSERT_EQ(do_mbind(mm, A + 4 * PAGE_SIZE, 4 * PAGE_SIZE, MPOL_BIND, &n1, 0), 0);
    after_rest = vmas(mm);
    ASSERT_EQ(do_mbind(mm, A, 8 * PAGE_SIZE, MPOL_DEFAULT, &none, 0), 0);
    after_reset = vmas(mm);
  });
  b.m->run();
  EXPECT_EQ(after_middle, 3);  // [default][bind 1][default]
  EXPECT_EQ(after_rest, 2);    // [default][bind 1 ... end]: the tail merged in
  EXPECT_EQ(after_reset, 1);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

TEST(MmNuma, EagerMoveMigratesMisplacedPagesAndKeepsTheirData) {
  MmBox b(kCpusTwoNodes);
  std::vector<int> before, after, shared_after;
  std::vector<unsigned long> values;
  int rc = -1, rc_all = -1;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 4, 50);
    mm_struct* child = dup_mm(mm);  // page 3 is shared below
    for (unsigned long i = 0; i < 3; i++) {
      unsigned long v = 60 + i;  // the parent's own copies of pages 0-2
      ASSERT_EQ(user_access(mm, A + i * PAGE_SIZE, true, &v, nullptr), 0);
    }
    for (unsigned long i = 0; i < 4; i++) before.push_back(nid_at(mm, A + i * PAGE_SIZE));
    const nodemask_t n1 = node(1);
    rc = do_mbind(mm, A, 4 * PAGE_SIZE, MPOL_BIND, &n1, MPOL_MF_MOVE);
    for (unsigned long i = 0; i < 4; i++) after.push_back(nid_at(mm, A + i * PAGE_SIZE));
    rc_all = do_mbind(mm, A, 4 * PAGE_SIZE, MPOL_BIND, &n1, MPOL_MF_MOVE_ALL);
    shared_after.push_back(nid_at(mm, A + 3 * PAGE_SIZE));
    shared_after.push_back(nid_at(child, A + 3 * PAGE_SIZE));
    for (unsigned long i = 0; i < 4; i++) {
      unsigned long v = 0;
      ASSERT_EQ(user_access(mm, A + i * PAGE_SIZE, false, &v, nullptr), 0);
      values.push_back(v);
    }
    mmput(child);
  });
  b.m->run();
  EXPECT_EQ(before, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(after, (std::vector<int>{1, 1, 1, 0}));  // MOVE leaves the page the child maps too
  EXPECT_EQ(rc_all, 0);
  EXPECT_EQ(shared_after, (std::vector<int>{1, 1}));  // MOVE_ALL moves it under both
  EXPECT_EQ(values, (std::vector<unsigned long>{60, 61, 62, 53}));
  EXPECT_EQ(b.env.vm().stats.pgmigrate_success, 4u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// Lazy mbind unmaps into the swap cache; the first touch from the node the policy wants
// migrates the page there (gate 2012: a write fault; 2006: any fault).
TEST(MmNuma, LazyMbindUnmapsAndTheFirstTouchMigrates) {
  for (const std::string gate : {"2012", "2006"}) {
    MmBox b(kCpusTwoNodes, {{"mof_gate", gate}});
    bool unmapped = false, in_cache = false;
    int nid_read = -1, nid_written = -1;
    unsigned long read_value = 0;
    completion done;
    init_completion_on(b.m.get(), &done);
    mm_struct* mm = nullptr;
    b.m->spawn("owner", 0, [&] {
      mm = anon_test_mm(b, 2, 70);
      mm->mm_users.counter = 2;  // the other thread shares it
      const nodemask_t n1 = node(1);
      ASSERT_EQ(do_mbind(mm, A, 2 * PAGE_SIZE, MPOL_BIND, &n1, MPOL_MF_MOVE | MPOL_MF_LAZY), 0);
      unmapped = swap_pte_at(mm, A) && swap_pte_at(mm, A + PAGE_SIZE);
      in_cache = b.env.vm().swapper.nrpages == 2;
      complete(&done);
    });
    b.m->spawn("node1", kNode1Cpu, [&] {
      wait_for_completion(&done);
      ASSERT_EQ(user_access(mm, A, false, &read_value, nullptr), 0);  // a read fault
      nid_read = nid_at(mm, A);
      unsigned long v = 99;
      ASSERT_EQ(user_access(mm, A + PAGE_SIZE, true, &v, nullptr), 0);  // a write fault
      nid_written = nid_at(mm, A + PAGE_SIZE);
    });
    b.m->run();
    EXPECT_TRUE(unmapped) << gate;
    EXPECT_TRUE(in_cache) << gate;
    EXPECT_EQ(read_value, 70u) << gate;  // data preserved through unmap (and migration)
    EXPECT_EQ(nid_read, gate == "2006" ? 1 : 0) << gate;
    EXPECT_EQ(nid_written, 1) << gate;
    const vm_stats& s = b.env.vm().stats;
    EXPECT_EQ(s.lazy_unmapped, 2u);
    EXPECT_EQ(s.mof_migrations, gate == "2006" ? 2u : 1u) << gate;
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  }
}

// lazy_impl=off: MPOL_MF_LAZY is refused, and nothing migrates on fault either.
TEST(MmNuma, LazyImplOffMigratesNothing) {
  MmBox b(kCpusTwoNodes, {{"lazy_impl", "off"}});
  int rc = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 2, 1);
    const nodemask_t n1 = node(1);
    rc = do_mbind(mm, A, 2 * PAGE_SIZE, MPOL_BIND, &n1, MPOL_MF_MOVE | MPOL_MF_LAZY);
  });
  b.m->run();
  EXPECT_EQ(rc, -EINVAL);
  EXPECT_EQ(b.env.vm().stats.lazy_unmapped, 0u);
}

// ---- the oracles of lazy migration, each with a planted bug ----------------------

// unmap-only-state: the check, run on a page that is still mapped (as an unmap that
// left a pte behind would leave it), reports.
TEST(MmNuma, PlantedUnmapOnlyStateIsReported) {
  MmBox b(1);
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 1);
    struct page* p = page_at(mm, A);
    lock_page(p);
    unmap_only_check(p);
    unlock_page(p);
  });
  b.m->run();
  EXPECT_EQ(b.bugs("unmap-only-state"), 1) << b.all_bugs();
  EXPECT_NE(b.details("unmap-only-state").find("still mapped"), std::string::npos);
}

// page-left-locked: a task that locks a page and exits is reported at the end.
TEST(MmNuma, PlantedPageLeftLockedIsReported) {
  MmBox b(1);
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 1);
    lock_page(page_at(mm, A));
  });
  b.m->run();
  Metrics out;
  std::vector<BugReport> bugs;
  b.env.finish(*b.m, out, bugs);
  ASSERT_EQ(bugs.size(), 1u);
  EXPECT_EQ(bugs[0].check, "page-left-locked");
}

// Data preserved: a stray store into a lazily unmapped page's frame (as a migration
// that copied the wrong frame would) is caught by the shadow oracle at the next load.
TEST(MmNuma, PlantedLostDataIsReported) {
  MmBox b(kCpusTwoNodes, {{"mof_gate", "2006"}});
  b.m->spawn("t", kNode1Cpu, [&] {
    mm_struct* mm = anon_test_mm(b, 1, 5);
    struct page* p = page_at(mm, A);
    // faulted in from node 1's CPU, so on node 1: bind it to node 0
    const nodemask_t n0 = node(0);
    ASSERT_EQ(do_mbind(mm, A, PAGE_SIZE, MPOL_BIND, &n0, MPOL_MF_MOVE | MPOL_MF_LAZY), 0);
    frame_write(p, 12345, "planted stray store");
    unsigned long v = 0;
    ASSERT_EQ(user_access(mm, A, false, &v, nullptr), 0);
  });
  b.m->run();
  EXPECT_GE(b.m->bugs().size(), 1u);
  EXPECT_EQ(b.env.vm().stats.mof_migrations, 1u);
}

// ---- the workload -----------------------------------------------------------------

RunResult lazy(std::map<std::string, std::string> set, std::uint64_t seed = 1, int cpus = 12) {
  RunConfig cfg;
  cfg.workload = "lazy-migrate";
  cfg.params.cpus = cpus;
  cfg.params.seed = seed;
  cfg.set = std::move(set);
  return run_once(cfg);
}

std::string bug_list(const RunResult& r) {
  std::string s;
  for (const BugReport& b : r.bugs) s += "[" + b.check + "] " + b.message + "\n";
  return s;
}

TEST(MmNuma, LazyMigrateShowsLocalityForLazyAndMoveNotForNone) {
  const RunResult lz = lazy({});
  const RunResult mv = lazy({{"mode", "move"}});
  const RunResult none = lazy({{"mode", "none"}});
  for (const RunResult* r : {&lz, &mv, &none}) EXPECT_TRUE(r->bugs.empty()) << bug_list(*r);
  const auto m = [](const RunResult& r, const char* k) { return r.metrics.at(k); };
  EXPECT_EQ(m(lz, "fraction_local"), 1.0);
  EXPECT_EQ(m(mv, "fraction_local"), 1.0);
  EXPECT_NEAR(m(none, "fraction_local"), 0.5, 0.05);  // 12 CPUs: half the workers on node 0
  EXPECT_EQ(m(lz, "untouched_moved"), 0);     // lazy leaves untouched pages alone
  EXPECT_GT(m(mv, "untouched_moved"), 0);     // eager move does not
  EXPECT_LT(m(lz, "pages_migrated"), m(mv, "pages_migrated"));
  EXPECT_GT(m(lz, "mof_migrations"), 0);
  EXPECT_LT(m(lz, "mbind_cycles"), m(mv, "mbind_cycles"));  // lazy defers the copies
  EXPECT_LT(m(lz, "cycles_per_page_pass"), m(none, "cycles_per_page_pass"));  // local memsets
}

TEST(MmNuma, LazyMigrateKnobsChangeWhatRuns) {
  const RunResult base = lazy({});
  ASSERT_TRUE(base.bugs.empty()) << bug_list(base);
  const auto m = [](const RunResult& r, const char* k) { return r.metrics.at(k); };
  EXPECT_GT(m(lazy({{"pages", "512"}}), "lazy_unmapped"), m(base, "lazy_unmapped"));
  EXPECT_LT(m(lazy({{"touch_pct", "25"}}), "mof_migrations"), m(base, "mof_migrations"));
  EXPECT_GT(lazy({{"rounds", "8"}}).stats.cycles, base.stats.cycles);
  // the 2012 gate migrates on write faults only; 2006 on reads too
  EXPECT_EQ(m(lazy({{"touch", "read"}}), "mof_migrations"), 0);
  EXPECT_GT(m(lazy({{"touch", "read"}, {"mof_gate", "2006"}}), "mof_migrations"), 0);
  // local: every toucher pulls its pages to its own node, bind or not
  EXPECT_EQ(m(lazy({{"policy", "local"}}), "fraction_local"), 1.0);
  EXPECT_NEAR(m(lazy({{"policy", "local"}, {"mode", "move"}}), "fraction_local"), 0.5, 0.05);
  const RunResult off = lazy({{"lazy_impl", "off"}});
  EXPECT_TRUE(off.bugs.empty()) << bug_list(off);
  EXPECT_GT(m(off, "mbind_errors"), 0);
  EXPECT_EQ(m(off, "lazy_unmapped"), 0);
  const RunResult hinted = lazy({{"lazy_impl", "prot_numa"}});  // 3.9: hinting faults, not the swap cache
  EXPECT_TRUE(hinted.bugs.empty()) << bug_list(hinted);
  EXPECT_EQ(m(hinted, "fraction_local"), 1.0);
  EXPECT_EQ(m(hinted, "untouched_moved"), 0);
  EXPECT_EQ(m(hinted, "lazy_unmapped"), 0);
  EXPECT_EQ(m(hinted, "mof_migrations"), 0);
  EXPECT_GT(m(hinted, "numa_pages_migrated"), 0);
  EXPECT_GT(m(hinted, "numa_hint_faults"), 0);
  const RunResult shared = lazy({{"sharer", "on"}});
  EXPECT_TRUE(shared.bugs.empty()) << bug_list(shared);
  EXPECT_GT(m(shared, "forks"), 0);
  EXPECT_THROW(lazy({}, 1, 4), ConfigError);  // one node: nothing to place
  EXPECT_THROW(lazy({{"pages", "4"}}), ConfigError);
}

// mof_check=off (planted): with a sharer mapping the page again, the 2006 gate lets a
// worker's fault migrate a mapped page.
TEST(MmNuma, PlantedMigrationOfAMappedPageIsFound) {
  int found = 0;
  for (std::uint64_t seed = 1; seed <= 20 && !found; seed++) {
    const RunResult r = lazy({{"sharer", "on"}, {"mof_gate", "2006"}, {"mof_check", "off"}, {"touch", "read"}}, seed);
    for (const BugReport& b : r.bugs) found += b.check == "migrate-mapped-page";
  }
  EXPECT_GT(found, 0);
  for (std::uint64_t seed = 1; seed <= 5; seed++) {
    const RunResult r = lazy({{"sharer", "on"}, {"mof_gate", "2006"}, {"touch", "read"}}, seed);
    EXPECT_TRUE(r.bugs.empty()) << bug_list(r);
  }
}

TEST(MmNuma, LazyMigrateIsDeterministic) {
  const RunResult a = lazy({{"sharer", "on"}}, 7);
  const RunResult b = lazy({{"sharer", "on"}}, 7);
  EXPECT_EQ(a.stats.digest, b.stats.digest);
  EXPECT_EQ(a.metrics, b.metrics);
}


// ---- NUMA balancing (mm/numa.h) ---------------------------------------------------

namespace numab {

// A NUMA hinting pte: mapped for mm/, a fault for the MMU.
TEST(MmNumaBalancing, HintingPtesFaultAndMigrateToTheToucher) {
  MmBox b(kCpusTwoNodes, {{"numa_balancing", "on"}});
  unsigned long marked = 0, v = 0;
  bool numa = false, present = false;
  int before = -1, after = -1;
  completion ready;
  init_completion_on(b.m.get(), &ready);
  mm_struct* mm = nullptr;
  b.m->spawn("owner", 0, [&] {
    mm = anon_test_mm(b, 4, 40);
    mm->mm_users.counter = 2;
    before = nid_at(mm, A);
    down_read(&mm->mmap_sem);
    marked = change_prot_numa(find_vma(mm, A), A, A + 4 * PAGE_SIZE);
    up_read(&mm->mmap_sem);
    const pte_t p = __pte(peek_pte(mm, A));
    numa = pte_numa(p);
    present = pte_present(p);
    complete(&ready);
  });
  b.m->spawn("node1", kNode1Cpu, [&] {
    wait_for_completion(&ready);
    ASSERT_EQ(user_access(mm, A, false, &v, nullptr), 0);
    after = nid_at(mm, A);
  });
  b.m->run();
  EXPECT_EQ(marked, 4u);
  EXPECT_TRUE(numa);
  EXPECT_TRUE(present);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 1);
  EXPECT_EQ(v, 40u);  // data preserved
  const vm_stats& s = b.env.vm().stats;
  EXPECT_EQ(s.numa_hint_faults, 1u);
  EXPECT_EQ(s.numa_pages_migrated, 1u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// Off: a hinting fault only clears the hint (the default policy has no MPOL_F_MOF).
TEST(MmNumaBalancing, WithBalancingOffAHintMovesNothing) {
  MmBox b(kCpusTwoNodes);
  int after = -1;
  b.m->spawn("t", kNode1Cpu, [&] {
    mm_struct* mm = b.env.new_mm();
    ASSERT_EQ(do_mmap(mm, A, PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0), (long)A);
    const nodemask_t n0 = node(0);
    ASSERT_EQ(do_mbind(mm, A, PAGE_SIZE, MPOL_BIND, &n0, 0), 0);
    unsigned long v = 3;
    ASSERT_EQ(user_access(mm, A, true, &v, nullptr), 0);  // on node 0, touched from node 1
    down_read(&mm->mmap_sem);
    change_prot_numa(find_vma(mm, A), A, A + PAGE_SIZE);
    up_read(&mm->mmap_sem);
    ASSERT_EQ(user_access(mm, A, false, &v, nullptr), 0);
    after = nid_at(mm, A);
  });
  b.m->run();
  EXPECT_EQ(after, 0);
  EXPECT_EQ(b.env.vm().stats.numa_hint_faults, 1u);
  EXPECT_EQ(b.env.vm().stats.numa_pages_migrated, 0u);
}

// Shared pages are neither marked nor migrated; the rate limit caps migrations.
TEST(MmNumaBalancing, SharedPagesStayAndTheRateLimitCaps) {
  MmBox b(kCpusTwoNodes, {{"numa_balancing", "on"}, {"numa_ratelimit", "0"}});
  unsigned long marked_shared = 0;
  b.m->spawn("t", kNode1Cpu, [&] {
    mm_struct* mm = b.env.new_mm();
    ASSERT_EQ(do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, kMapAnon, nullptr, 0), (long)A);
    const nodemask_t n0 = node(0);
    ASSERT_EQ(do_mbind(mm, A, 4 * PAGE_SIZE, MPOL_BIND, &n0, 0), 0);
    ASSERT_EQ(touch_range(mm, A, A + 4 * PAGE_SIZE, true), 0);
    const nodemask_t none;
    ASSERT_EQ(do_mbind(mm, A, 4 * PAGE_SIZE, MPOL_DEFAULT, &none, 0), 0);
    mm_struct* child = dup_mm(mm);
    down_read(&mm->mmap_sem);
    marked_shared = change_prot_numa(find_vma(mm, A), A, A + 4 * PAGE_SIZE);
    up_read(&mm->mmap_sem);
    mmput(child);  // now the parent maps them alone
    down_read(&mm->mmap_sem);
    change_prot_numa(find_vma(mm, A), A, A + 4 * PAGE_SIZE);
    up_read(&mm->mmap_sem);
    ASSERT_EQ(touch_range(mm, A, A + 4 * PAGE_SIZE, false), 0);
  });
  b.m->run();
  EXPECT_EQ(marked_shared, 0u);
  const vm_stats& s = b.env.vm().stats;
  EXPECT_EQ(s.numa_hint_faults, 4u);
  EXPECT_EQ(s.numa_pages_migrated, 1u);  // numa_ratelimit=0: one page per 100 ms window
  EXPECT_EQ(s.numa_migrate_ratelimited, 3u);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
}

// task_numa_work: once per period per mm, numa_scan_size pages a scan, wrapping around.
TEST(MmNumaBalancing, TheScannerMarksScanSizePagesOncePerPeriod) {
  MmBox b(1, {{"numa_balancing", "on"}, {"numa_scan_size", "3"}, {"numa_scan_period_us", "10"}});
  std::vector<unsigned long> updates;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = anon_test_mm(b, 4, 1);
    const vm_stats& s = b.env.vm().stats;
    task_numa_work(mm);
    updates.push_back(s.numa_pte_updates);
    task_numa_work(mm);  // the period has not passed: nothing
    updates.push_back(s.numa_pte_updates);
    schedule_timeout_uninterruptible(1);  // a jiffy: far more than 10 us
    task_numa_work(mm);  // pages 3, then wraps
    updates.push_back(s.numa_pte_updates);
  });
  b.m->run();
  EXPECT_EQ(updates, (std::vector<unsigned long>{3, 3, 4}));
  EXPECT_EQ(b.env.vm().stats.numa_scans, 2u);
}

RunResult memset(std::map<std::string, std::string> set, std::uint64_t seed = 1, int cpus = 12) {
  RunConfig cfg;
  cfg.workload = "numa-memset";
  cfg.params.cpus = cpus;
  cfg.params.seed = seed;
  cfg.set = std::move(set);
  return run_once(cfg);
}

double metric(const RunResult& r, const char* k) {
  const auto it = r.metrics.find(k);
  return it == r.metrics.end() ? 0 : it->second;
}

// Seed 000's shape: with a mutex the hinting faults queue on the one anon_vma's lock
// through the rmap walks; with the 3.8 rwsem that blocked time is gone.
TEST(MmNumaBalancing, NumaMemsetBlocksOnTheAnonVmaMutexNotOnTheRwsem) {
  const RunResult mutex = memset({{"anon_lock", "mutex"}}, 1, 32);
  const RunResult rwsem = memset({{"anon_lock", "rwsem"}}, 1, 32);
  EXPECT_TRUE(mutex.bugs.empty()) << bug_list(mutex);
  EXPECT_TRUE(rwsem.bugs.empty()) << bug_list(rwsem);
  EXPECT_GT(metric(mutex, "blocked.anon_vma"), 0.2);
  EXPECT_GT(metric(mutex, "blocked.anon_vma.rmap_walk"), 0.1);
  EXPECT_EQ(metric(rwsem, "blocked.anon_vma"), 0);
  EXPECT_GT(metric(mutex, "numa_pages_migrated"), 0);
  EXPECT_GT(metric(rwsem, "numa_pages_migrated"), 0);
}

TEST(MmNumaBalancing, NumaMemsetKnobsChangeWhatRuns) {
  const RunResult base = memset({});
  ASSERT_TRUE(base.bugs.empty()) << bug_list(base);
  EXPECT_GT(metric(base, "numa_pages_migrated"), 0);
  EXPECT_GT(metric(base, "fraction_local"), metric(memset({{"numa_balancing", "off"}}), "fraction_local"));
  EXPECT_EQ(metric(memset({{"numa_balancing", "off"}}), "numa_hint_faults"), 0);
  EXPECT_GT(metric(memset({{"loops", "40"}}), "numa_scans"), metric(base, "numa_scans"));
  EXPECT_LT(metric(memset({{"numa_scan_period_us", "500"}}), "numa_scans"), metric(base, "numa_scans"));
  EXPECT_LT(metric(memset({{"numa_scan_size", "16"}}), "numa_pte_updates"), metric(base, "numa_pte_updates"));
  EXPECT_GT(metric(memset({{"numa_ratelimit", "0"}}), "numa_migrate_ratelimited"), 0);
  EXPECT_GT(metric(memset({{"pages", "2048"}}), "anon_faults"), metric(base, "anon_faults"));
  EXPECT_THROW(memset({}, 1, 4), ConfigError);
  EXPECT_THROW(memset({{"pages", "4"}}), ConfigError);
  const RunResult again = memset({});
  EXPECT_EQ(again.stats.digest, base.stats.digest);
}

}  // namespace numab

}  // namespace
