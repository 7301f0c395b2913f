// Tests of the powerpc hash MMU (--arch ppc64-hash, docs/MM.md "The powerpc hash MMU"):
// the hashed page table's sizing and hashing, hash_page filling it and recording the
// slot in the Linux pte, the ERAT/TLB in front of it, flushes (batched, local tlbiel or
// global tlbie), the knobs, the oracles, RCU-freed page tables and the command line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "arch/powerpc/hash_utils.h"
#include "mm_test_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::MmBox;
using smpemu::testing::run_smpemu;
using smpemu::testing::touch_range;

namespace {

constexpr unsigned long A = 0x100000000UL;

struct HashBox : MmBox {
  explicit HashBox(int cpus, const std::map<std::string, std::string>& knobs = {}, std::uint64_t seed = 1)
      : MmBox(cpus, knobs, seed, PreemptModel::Voluntary, 4096, "ppc64-hash") {}
  ppc64_mmu* mmu() { return static_cast<ppc64_mmu*>(env.mmu()); }
  unsigned long stat(const std::string& name) {
    Metrics out;
    env.metrics(out);
    return static_cast<unsigned long>(out.at(name));
  }
};

TEST(Ppc64Hash, TableIsSizedFromRamAsLinuxDoes) {
  EXPECT_EQ(htab_groups_for(0), 2048u);      // at least 2^11 groups
  EXPECT_EQ(htab_groups_for(4096), 2048u);   // one group per two pages
  EXPECT_EQ(htab_groups_for(8192), 4096u);
  EXPECT_EQ(htab_groups_for(10000), 8192u);  // rounded up to a power of two
  HashBox b(1);
  EXPECT_EQ(b.mmu()->htab.hash_mask + 1, htab_groups_for(b.env.mem().pages.size()));
}

TEST(Ppc64Hash, SecondaryHashIsThePrimarysComplementAndVsidsSeparateAddressSpaces) {
  HashBox b(1);
  mm_struct a{}, c{};
  a.id = 1;
  c.id = 2;
  const htab* h = &b.mmu()->htab;
  const unsigned long hash = hpt_hash(&a, A);
  EXPECT_EQ(hpt_group(h, hash, true), ~hash & h->hash_mask);
  EXPECT_NE(hpt_vpn(&a, A), hpt_vpn(&c, A));  // same ea, other context: other vpn
  EXPECT_EQ(hpt_vpn(&a, A + PAGE_SIZE), hpt_vpn(&a, A) + 1);
  EXPECT_NE(hpt_hash(&a, A + PAGE_SIZE), hash);  // consecutive pages spread over groups
}

// A load faults an HPTE in through hash_page; the pte records it; later loads hit the
// ERAT; the first store faults once more (the HPTE was read-only until DIRTY).
TEST(Ppc64Hash, HashPageFillsTheTableAndThePteRecordsTheSlot) {
  HashBox b(1);
  address_space* f = b.env.add_file(4, 4);
  pteval_t after_load = 0, after_store = 0;
  b.m->spawn("t", 0, [&] {
    b.env.cache_file(f);
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    EXPECT_EQ(touch_range(mm, A, A + PAGE_SIZE, false), 0);
    after_load = peek_pte(mm, A);
    EXPECT_EQ(touch_range(mm, A, A + PAGE_SIZE, false), 0);
    EXPECT_EQ(touch_range(mm, A, A + PAGE_SIZE, true), 0);
    after_store = peek_pte(mm, A);
    hpte_slot s;
    EXPECT_TRUE(htab_find_valid(&b.mmu()->htab, hpt_vpn(mm, A), hpt_hash(mm, A), &s));
    do_munmap(mm, A, 4 * PAGE_SIZE);
    EXPECT_FALSE(htab_find_valid(&b.mmu()->htab, hpt_vpn(mm, A), hpt_hash(mm, A), &s));
  });
  b.m->run();
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  EXPECT_TRUE(after_load & _PAGE_HASHPTE);
  EXPECT_FALSE(after_load & _PAGE_BUSY);
  EXPECT_FALSE(after_load & _PAGE_DIRTY);
  EXPECT_TRUE(after_store & _PAGE_DIRTY);
  EXPECT_GE(b.stat("erat_hits"), 1u);
  EXPECT_EQ(b.stat("hpte_inserts"), 1u);
  EXPECT_EQ(b.stat("hpte_updates"), 1u);  // the store made the HPTE writable
  EXPECT_EQ(b.stat("hpte_invalidations"), 1u);
  EXPECT_EQ(b.stat("tlbie"), 0u);  // the mm ran on this CPU only: tlbiel
  EXPECT_GE(b.stat("tlbiel"), 1u);
}

// An mm that ran on two CPUs is flushed with the global tlbie, which drops the other
// CPU's cached translation too; tlbie_lock=on serialises it under a lock.
TEST(Ppc64Hash, FlushIsGlobalOnceTheMmRanElsewhere) {
  for (const char* lock : {"off", "on"}) {
    HashBox b(2, {{"tlbie_lock", lock}});
    address_space* f = b.env.add_file(4, 4);
    mm_struct* mm = nullptr;
    completion ready, touched;
    init_completion_on(b.m.get(), &ready);
    init_completion_on(b.m.get(), &touched);
    b.m->spawn("a", 0, [&] {
      b.env.cache_file(f);
      mm = b.env.new_mm();
      do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0);
      complete_all(&ready);
      wait_for_completion(&touched);
      do_munmap(mm, A, 4 * PAGE_SIZE);
    });
    b.m->spawn("b", 1, [&] {
      wait_for_completion(&ready);
      EXPECT_EQ(touch_range(mm, A, A + PAGE_SIZE, false), 0);
      complete_all(&touched);
    });
    b.m->run();
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
    EXPECT_GE(b.stat("tlbie"), 1u) << lock;
    EXPECT_EQ(b.acquisitions("tlbie_lock") > 0, std::string(lock) == "on");
  }
}

// The planted bug: flushing only from tlb_flush leaves the batch full when the pte lock
// is released; the oracle says so at the release. The correct variant is silent.
TEST(Ppc64Hash, BatchPendingAtPteUnlockIsReportedOnlyWithTlbFlushOnly) {
  for (const char* mode : {"leave_lazy", "tlb_flush_only"}) {
    HashBox b(1, {{"hash_flush", mode}});
    address_space* f = b.env.add_file(8, 8);
    b.m->spawn("t", 0, [&] {
      b.env.cache_file(f);
      mm_struct* mm = b.env.new_mm();
      do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0);
      touch_range(mm, A, A + 8 * PAGE_SIZE, false);
      do_munmap(mm, A, 8 * PAGE_SIZE);
    });
    b.m->run();
    const bool bug = std::string(mode) == "tlb_flush_only";
    EXPECT_EQ(b.bugs("hash-batch-pending"), bug ? 1 : 0) << mode << "\n" << b.all_bugs();
    EXPECT_EQ(b.bugs("stale-hpte"), bug ? 1 : 0) << mode << "\n" << b.all_bugs();
    EXPECT_EQ(b.stat("hpte_invalidations"), 8u) << mode;  // drained either way, later or not
  }
}

// Two valid HPTEs for one vpn: the architecture violation Ben Herrenschmidt describes.
TEST(Ppc64Hash, SecondHpteForOneAddressIsFatal) {
  HashBox b(1);
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    htab* h = &b.mmu()->htab;
    const unsigned long vpn = hpt_vpn(mm, A), hash = hpt_hash(mm, A);
    EXPECT_GE(native_hpte_insert(h, hpt_group(h, hash, false), false, vpn, hash, 100, false, mm, A), 0);
    native_hpte_insert(h, hpt_group(h, hash, true), true, vpn, hash, 101, true, mm, A);
  });
  b.m->run();
  EXPECT_EQ(b.bugs("duplicate-hpte"), 1) << b.all_bugs();
  EXPECT_NE(b.details("duplicate-hpte").find("still maps it to pfn 100"), std::string::npos);
}

// A full group: native_hpte_remove evicts a valid slot chosen from the seeded stream,
// so the same seed evicts the same slot.
TEST(Ppc64Hash, EvictionFromAFullGroupIsSeeded) {
  const auto evicted = [](std::uint64_t seed) {
    HashBox b(1, {}, seed);
    int slot = -2;
    b.m->spawn("t", 0, [&] {
      mm_struct* mm = b.env.new_mm();
      htab* h = &b.mmu()->htab;
      for (unsigned i = 0; i < HPTES_PER_GROUP; ++i)
        EXPECT_EQ(native_hpte_insert(h, 5, false, 1000 + i, 5, 200 + i, false, mm, A + i * PAGE_SIZE),
                  static_cast<int>(i));
      EXPECT_EQ(native_hpte_insert(h, 5, false, 2000, 5, 300, false, mm, A), -1);  // full
      slot = native_hpte_remove(h, 5);
    });
    b.m->run();
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
    return slot;
  };
  const int s1 = evicted(1);
  EXPECT_GE(s1, 0);
  EXPECT_LT(s1, HPTES_PER_GROUP);
  EXPECT_EQ(evicted(1), s1);
  bool differs = false;
  for (std::uint64_t seed = 2; seed < 20 && !differs; ++seed) differs = evicted(seed) != s1;
  EXPECT_TRUE(differs);
}

// hash_page walks page tables with IRQs off and no IPI waits for it: page tables are
// freed after an RCU grace period, not at the munmap's flush.
TEST(Ppc64Hash, PageTablesAreFreedAfterAGracePeriod) {
  HashBox b(1);
  address_space* f = b.env.add_file(8, 8);
  int state_after_munmap = -1, state_after_gp = -1;
  b.m->spawn("t", 0, [&] {
    b.env.cache_file(f);
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0);
    touch_range(mm, A, A + PAGE_SIZE, false);
    pgtable_slot_t* pmd = pmd_lookup(mm, A);
    const unsigned long table = pgtable_entry_pfn(pmd->v);
    do_munmap(mm, A, 8 * PAGE_SIZE);
    state_after_munmap = frame_state_of(mm->mem, table);
    synchronize_rcu();
    state_after_gp = frame_state_of(mm->mem, table);
  });
  b.m->run();
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  EXPECT_EQ(state_after_munmap, FRAME_PAGETABLE);
  EXPECT_NE(state_after_gp, FRAME_PAGETABLE);
}

// ---- the command line ----------------------------------------------------------

TEST(Ppc64HashCli, ArchRunsTheFileWorkloadsOnPower7ByDefault) {
  for (const char* w : {"fault-file", "mmap-munmap --set threads=on", "truncate-latency", "tlb-shootdown"}) {
    const Exec e = run_smpemu(std::string("run ") + w + " --cpus 4 --arch ppc64-hash --json");
    ASSERT_EQ(e.status, 0) << w << ": " << e.err;
    const auto j = nlohmann::json::parse(e.out);
    EXPECT_EQ(j["arch"], "ppc64-hash");
    EXPECT_EQ(j["machine"], "power7");
    EXPECT_GT(j["metrics"]["hash_faults"].get<double>(), 0) << w;
    EXPECT_TRUE(j["bugs"].empty()) << w << ": " << e.out;
    const Exec again = run_smpemu(std::string("run ") + w + " --cpus 4 --arch ppc64-hash --json");
    EXPECT_EQ(nlohmann::json::parse(again.out)["digest"], j["digest"]) << w;
  }
  const Exec x = run_smpemu("run fault-file --cpus 4 --arch ppc64-hash --machine xeon80 --json");
  ASSERT_EQ(x.status, 0) << x.err;
  EXPECT_EQ(nlohmann::json::parse(x.out)["machine"], "xeon80");  // any profile combines with it
}

TEST(Ppc64HashCli, HashFlushKnobChangesTheRunAndIsFoundByFuzz) {
  const Exec good = run_smpemu("fuzz mmap-munmap --cpus 4 --set threads=on --set iterations=4 --arch ppc64-hash "
                               "--runs 8 --jobs 2");
  EXPECT_EQ(good.status, 0) << good.out << good.err;
  const Exec bad = run_smpemu("fuzz mmap-munmap --cpus 4 --set threads=on --set iterations=4 --arch ppc64-hash "
                              "--set hash_flush=tlb_flush_only --runs 8 --jobs 2");
  EXPECT_EQ(bad.status, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("hash-batch-pending"), std::string::npos) << bad.out;
}

// RCU table freeing and its shortcut (mm/table_free.h) against the walkers of
// pgtable-free-race: the planted bug is found, the correct variants are clean; x86's IPI
// covers a gup thread but not a foreign walker.
TEST(Ppc64HashCli, TableFreeingShortcutIsFoundWithAForeignWalker) {
  const std::string base = "fuzz pgtable-free-race --cpus 2 --runs 100 --jobs 2 --set rounds=30";
  const struct {
    std::string args;
    int status;
  } cases[] = {
      {" --arch ppc64-hash --set walker=foreign", 0},
      {" --arch ppc64-hash --set walker=foreign --set mm_users_shortcut=on", 1},
      {" --arch ppc64-hash --set walker=gup --set mm_users_shortcut=on", 0},  // mm_users is 2
      {" --arch ppc64-hash --set walker=foreign --set table_batch_fail=50", 0},  // the IPI fallback
      {" --arch x86 --set walker=gup", 0},
      {" --arch x86 --set walker=foreign", 1},  // no IPI reaches a CPU outside the mm's mask
  };
  for (const auto& c : cases) {
    const Exec e = run_smpemu(base + c.args);
    EXPECT_EQ(e.status, c.status) << c.args << "\n" << e.out << e.err;
    if (c.status == 1) EXPECT_NE(e.out.find("use-after-free-pagetable"), std::string::npos) << c.args;
  }
}

TEST(Ppc64HashCli, TableFreeingKnobsChangeWhatHappensAndNeedAnRcuMmu) {
  const auto tables = [](const std::string& set) {
    const Exec e = run_smpemu("run pgtable-free-race --cpus 2 --arch ppc64-hash --set walker=foreign --json" + set);
    EXPECT_EQ(e.status, 0) << set << e.err;
    return nlohmann::json::parse(e.out)["metrics"];
  };
  const auto rcu = tables("");
  EXPECT_EQ(rcu["tables_freed_rcu"].get<double>(), 50);
  EXPECT_EQ(rcu["tables_freed_now"].get<double>(), 0);
  const auto now = tables(" --set mm_users_shortcut=on");
  EXPECT_EQ(now["tables_freed_now"].get<double>(), 50);
  const auto ipi = tables(" --set table_batch_fail=100");
  EXPECT_EQ(ipi["tables_freed_ipi"].get<double>(), 50);
  const Exec x = run_smpemu("run pgtable-free-race --cpus 2 --set mm_users_shortcut=on");
  EXPECT_EQ(x.status, 2);
  EXPECT_NE(x.err.find("need an MMU that frees page tables through RCU"), std::string::npos) << x.err;
}

// compare sets --arch per side: the same workload on both MMUs, one machine for both.
TEST(Ppc64HashCli, CompareRunsX86AgainstTheHashMmu) {
  const Exec e = run_smpemu("compare fault-file --a arch=x86 --b arch=ppc64-hash --seeds 2 --cpus 4 --machine power7 "
                            "--json");
  ASSERT_EQ(e.status, 0) << e.err;
  const auto j = nlohmann::json::parse(e.out);
  const std::string text = j.dump();
  EXPECT_NE(text.find("ppc64-hash"), std::string::npos);
  const auto& m = j["metrics"]["hash_faults"];
  EXPECT_TRUE(m["a"].empty());  // x86 has no hash faults to count
  EXPECT_GT(m["b_mean"].get<double>(), 0);
}

}  // namespace
