// Tests of the two mmu_gathers and fast mode (mm/mmu_gather.h, knobs mmu_gather and
// tlb_fast_mode): what each frees when, how often each flushes, the preemptible
// gather's chained batches and its break-out when no batch page can be had, and the
// fast-mode bug of zap-preempt-race found only where it exists.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "mm/madvise.h"
#include "mm_test_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::MmBox;
using smpemu::testing::run_smpemu;
using smpemu::testing::touch_range;

namespace {

constexpr unsigned long A = 0x100000000UL;
constexpr unsigned long kPages = 64;

struct ZapResult {
  unsigned long flushes = 0, batches = 0, freed = 0, copies = 0;  // freed: COW copies now free
};

// One task stores to every page of a private window (kPages COW copies) and drops them
// with madvise(MADV_DONTNEED) (a zap through one gather, no page tables freed), with
// zap_block=8; `hoard` takes every free frame first, so no gather batch page can be
// had. Counts the gather's TLB flushes, extra batches and the COW copies the zap freed.
ZapResult zap_window(const std::string& gather, bool hoard) {
  MmBox b(1, {{"mmu_gather", gather}, {"zap_block", "8"}});
  address_space* f = b.env.add_file(kPages, kPages);
  ZapResult r;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    BUG_ON(do_mmap(mm, A, kPages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0) < 0);
    EXPECT_EQ(touch_range(mm, A, A + kPages * PAGE_SIZE, true), 0);
    r.copies = b.env.vm().stats.cow_faults;
    std::vector<struct page*> hoarded;
    if (hoard)
      while (struct page* p = alloc_page(GFP_NOWAIT)) hoarded.push_back(p);  // no reclaim
    std::vector<unsigned long> pfns;
    for (unsigned long a = A; a < A + kPages * PAGE_SIZE; a += PAGE_SIZE) pfns.push_back(pte_pfn(__pte(peek_pte(mm, a))));
    const unsigned long flushes0 = b.env.vm().stats.tlb_flushes;
    EXPECT_EQ(do_madvise(mm, A, kPages * PAGE_SIZE, MADV_DONTNEED), 0);
    r.flushes = b.env.vm().stats.tlb_flushes - flushes0;
    for (const unsigned long pfn : pfns) r.freed += frame_state_of(&b.env.mem(), pfn) == FRAME_FREE;
    r.batches = b.env.vm().stats.gather_batches;
    for (struct page* p : hoarded) put_page(p);
  });
  b.m->run();
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  return r;
}

TEST(MmGather, PercpuGatherFinishesEveryZapBlock) {
  const ZapResult r = zap_window("percpu", false);
  EXPECT_EQ(r.copies, kPages);
  EXPECT_EQ(r.flushes, kPages / 8);  // one per ZAP_BLOCK
  EXPECT_EQ(r.batches, 0u);
  EXPECT_EQ(r.freed, kPages);  // every COW copy
}

TEST(MmGather, PreemptibleGatherChainsABatchPageAndFlushesOnce) {
  const ZapResult r = zap_window("preemptible", false);
  EXPECT_EQ(r.flushes, 1u);  // unmap_vmas' gather survives its blocks
  EXPECT_EQ(r.batches, 1u);  // 8 on the stack, the other 56 in one GFP_NOWAIT page
  EXPECT_EQ(r.freed, kPages);
}

// With every frame taken, the 8 on-stack entries fill, no batch page can be had, and
// zap_pte_range breaks out to flush; that flush frees 8 copies, so the next batch page
// can be had and holds the rest.
TEST(MmGather, PreemptibleGatherBreaksOutToFlushWhenNoBatchPageCanBeHad) {
  const ZapResult r = zap_window("preemptible", true);
  EXPECT_EQ(r.batches, 1u);
  EXPECT_EQ(r.flushes, 2u);  // the break-out and the finish
  EXPECT_EQ(r.freed, kPages);
}

// Fast mode frees at zap time with one CPU only, and only under the knob.
TEST(MmGather, FastModeFreesBeforeTheFlushWithOneCpuOnly) {
  for (const int cpus : {1, 2})
    for (const bool fast : {false, true}) {
      MmBox b(cpus, {{"tlb_fast_mode", fast ? "on" : "off"}});
      address_space* f = b.env.add_file(8, 8);
      unsigned long free_before_flush = 0, free0 = 0;
      b.m->spawn("t", 0, [&] {
        mm_struct* mm = b.env.new_mm();
        BUG_ON(do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0) < 0);
        touch_range(mm, A, A + 8 * PAGE_SIZE, true);
        free0 = nr_free_pages(&b.env.mem());
        struct mmu_gather* tlb = tlb_gather_mmu(mm, false);
        struct vm_area_struct* vma = find_vma(mm, A);
        unmap_vmas(&tlb, vma, A, A + 8 * PAGE_SIZE, nullptr);
        free_before_flush = nr_free_pages(&b.env.mem()) - free0;
        tlb_finish_mmu(tlb, A, A + 8 * PAGE_SIZE);
        EXPECT_EQ(nr_free_pages(&b.env.mem()) - free0, 8u);
      });
      b.m->run();
      EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
      EXPECT_EQ(free_before_flush, (fast && cpus == 1) ? 8u : 0u) << "cpus " << cpus << " fast " << fast;
    }
}

// zap-preempt-race: the planted variant is found, every other combination is clean; on
// ppc64-hash the hash flush at leave_lazy (before the pte lock is released) removes the
// stale translation before anyone can be preempted, so fast mode is harmless there.
TEST(GatherCli, FastModeWithThePreemptibleGatherIsFound) {
  const std::string base = "fuzz zap-preempt-race --cpus 1 --preempt full --runs 60 --jobs 2";
  const struct {
    std::string args;
    int status;
  } cases[] = {
      {" --set mmu_gather=preemptible --set tlb_fast_mode=on", 1},
      {" --set mmu_gather=preemptible --set tlb_fast_mode=off", 0},
      {" --set mmu_gather=percpu --set tlb_fast_mode=on", 0},
      {" --set mmu_gather=preemptible --set tlb_fast_mode=on --arch ppc64-hash", 0},
  };
  for (const auto& c : cases) {
    const Exec e = run_smpemu(base + c.args);
    EXPECT_EQ(e.status, c.status) << c.args << "\n" << e.out << e.err;
    if (c.status == 1) {
      EXPECT_NE(e.out.find("use-after-free-frame"), std::string::npos) << c.args;
    }
  }
}

TEST(GatherCli, GatherKnobChangesTheFlushCount) {
  const auto flushes = [](const std::string& set) {
    const Exec e = run_smpemu("run zap-preempt-race --cpus 2 --preempt full --json --set mmu_gather=" + set);
    EXPECT_EQ(e.status, 0) << set << e.err;
    return nlohmann::json::parse(e.out)["metrics"]["tlb_flushes"].get<double>();
  };
  EXPECT_GT(flushes("percpu"), flushes("preemptible"));
}

}  // namespace
