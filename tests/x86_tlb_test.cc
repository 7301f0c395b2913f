// Tests of arch/x86/tlb.*: set-associative L1/L2 TLB hits, misses and LRU eviction,
// shootdown reaching exactly the CPUs in mm->cpu_vm_mask, and the stale-TLB oracle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include "arch/profiles.h"
#include "arch/x86/tlb.h"
#include "mm/pgtable.h"
#include "emu/machine.h"
#include "kernel/kernel.h"

using namespace smpemu;

namespace smpemu {
static void PrintTo(EndReason r, std::ostream* os) { *os << end_reason_name(r); }
}  // namespace smpemu

namespace {

struct Box {
  std::unique_ptr<Machine> m;
  phys_mem mem;
  x86_tlb tlb;
  explicit Box(int cpus) {
    MachineParams p;
    p.cpus = cpus;
    p.seed = 3;
    const machine_profile* prof = find_machine_profile("opteron48");
    m = std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
    phys_mem_init(&mem, m.get(), 64);
    tlb_params tp;
    x86_tlb_init(&tlb, m.get(), &tp);
  }
  ~Box() { phys_mem_exit(&mem); }
  cpu_tlb& on(int cpu) { return *per_cpu_ptr(&tlb.cpu, cpu); }
};

std::string all_bugs(const Machine& m) {
  std::string s;
  for (const BugReport& b : m.bugs()) s += "[" + b.check + "] " + b.message + "\n";
  return s;
}

}  // namespace

TEST(X86Tlb, HitsMissesAndLruEviction) {
  Box b(1);
  std::vector<unsigned long> got;
  int ro_store = 0, unmapped = 0;
  b.m->spawn("t", 0, [&] {
    struct mm_struct* mm = mm_alloc(false);
    // Five pages in one L1 set (16 sets of 4 ways): vpn stride 16.
    for (int i = 0; i < 5; ++i) {
      struct page* p = alloc_page(GFP_KERNEL);
      install_page(mm, static_cast<unsigned long>(i) * 16 * PAGE_SIZE, p, i == 4 ? PAGE_READONLY : PAGE_SHARED);
      put_page(p);
    }
    unsigned long pfn;
    for (int i = 0; i < 5; ++i) {
      x86_tlb_translate(&b.tlb, mm, static_cast<unsigned long>(i) * 16 * PAGE_SIZE, false, &pfn);
      got.push_back(pfn);
    }
    x86_tlb_translate(&b.tlb, mm, 4 * 16 * PAGE_SIZE, false, &pfn);   // L1 hit
    x86_tlb_translate(&b.tlb, mm, 0, false, &pfn);                    // evicted from L1: L2 hit
    ro_store = x86_tlb_translate(&b.tlb, mm, 4 * 16 * PAGE_SIZE, true, &pfn);
    unmapped = x86_tlb_translate(&b.tlb, mm, 0x10000000, false, &pfn);
    for (int i = 0; i < 5; ++i) zap_page(mm, static_cast<unsigned long>(i) * 16 * PAGE_SIZE);
    x86_flush_tlb_mm(&b.tlb, mm);
    mmput(mm);
  });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_EQ(b.on(0).l1_hits, 1u);
  EXPECT_EQ(b.on(0).l2_hits, 1u);
  EXPECT_EQ(b.on(0).walks, 7u);  // 5 fills, the read-only store, the unmapped address
  EXPECT_EQ(ro_store, -EFAULT);
  EXPECT_EQ(unmapped, -EFAULT);
  EXPECT_EQ(b.on(0).faults, 2u);
  std::vector<unsigned long> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
}

// A flush costs the host what it removes, not the TLB's 1,600 entries: a page is looked
// up in its L1 and L2 sets (4 + 12 ways), a whole-mm flush is one generation bump. And
// it removes exactly what a scan of every entry would: the flushed pages miss (walk),
// the others still hit.
TEST(X86Tlb, FlushesExamineTheEntriesTheyRemoveNotTheWholeTlb) {
  Box b(1);
  unsigned long walks_after_page = 0, walks_after_range = 0, walks_after_mm = 0;
  unsigned long probes_page = 0, probes_range = 0, probes_mm = 0;
  b.m->spawn("t", 0, [&] {
    struct mm_struct* mm = mm_alloc(false);
    struct page* p = alloc_page(GFP_KERNEL);
    const int n = 40;  // more than full_flush_ceiling (33) pages
    for (int i = 0; i < n; ++i) install_page(mm, static_cast<unsigned long>(i) * PAGE_SIZE, p, PAGE_SHARED);
    put_page(p);
    cpu_tlb& t = b.on(0);
    unsigned long pfn;
    auto touch_all = [&] {
      for (int i = 0; i < n; ++i) x86_tlb_translate(&b.tlb, mm, static_cast<unsigned long>(i) * PAGE_SIZE, false, &pfn);
    };
    touch_all();
    unsigned long w = t.walks, pr = t.flush_probes;
    x86_flush_tlb_page(&b.tlb, mm, 5 * PAGE_SIZE);
    probes_page = t.flush_probes - pr;
    touch_all();
    walks_after_page = t.walks - w;
    w = t.walks, pr = t.flush_probes;
    x86_flush_tlb_range(&b.tlb, mm, 10 * PAGE_SIZE, 13 * PAGE_SIZE);
    probes_range = t.flush_probes - pr;
    touch_all();
    walks_after_range = t.walks - w;
    w = t.walks, pr = t.flush_probes;
    x86_flush_tlb_range(&b.tlb, mm, 0, n * PAGE_SIZE);  // past the ceiling: the whole mm
    probes_mm = t.flush_probes - pr;
    touch_all();
    walks_after_mm = t.walks - w;
    for (int i = 0; i < n; ++i) zap_page(mm, static_cast<unsigned long>(i) * PAGE_SIZE);
    x86_flush_tlb_mm(&b.tlb, mm);
    mmput(mm);
  });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_EQ(probes_page, 16u);
  EXPECT_EQ(walks_after_page, 1u);
  EXPECT_EQ(probes_range, 3u * 16u);
  EXPECT_EQ(walks_after_range, 3u);
  EXPECT_EQ(probes_mm, 1u);
  EXPECT_EQ(walks_after_mm, 40u);
}

// CPUs 1..3 use the mm, CPU 4 never does; CPU 0 shoots down one page with 0, then with
// 3 remote CPUs in the mask: only mask members flush, and the first remote CPU costs a
// large step while each further one adds little.
TEST(X86Tlb, ShootdownReachesOnlyCpusInTheMask) {
  Box b(5);
  struct mm_struct* mm = nullptr;
  struct completion ready, used;
  init_completion_on(b.m.get(), &ready);
  init_completion_on(b.m.get(), &used);
  Cycles alone = 0, one = 0, three = 0;
  const unsigned long addr = 0x600000;
  b.m->spawn("flusher", 0, [&] {
    mm = mm_alloc(true);
    struct page* p = alloc_page(GFP_KERNEL);
    install_page(mm, addr, p, PAGE_SHARED);
    put_page(p);
    unsigned long pfn;
    x86_tlb_translate(&b.tlb, mm, addr, false, &pfn);
    Cycles t0 = b.m->now();
    x86_flush_tlb_page(&b.tlb, mm, addr);
    alone = b.m->now() - t0;
    complete_all(&ready);
    wait_for_completion(&used);  // CPU 1
    t0 = b.m->now();
    x86_flush_tlb_page(&b.tlb, mm, addr);
    one = b.m->now() - t0;
    wait_for_completion(&used);  // CPUs 2, 3
    wait_for_completion(&used);
    t0 = b.m->now();
    x86_flush_tlb_page(&b.tlb, mm, addr);
    three = b.m->now() - t0;
    zap_page(mm, addr);
    x86_flush_tlb_page(&b.tlb, mm, addr);
  });
  for (int c = 1; c <= 3; ++c)
    b.m->spawn("user" + std::to_string(c), c, [&, c] {
      wait_for_completion(&ready);
      cpu_work(static_cast<Cycles>(c == 1 ? 0 : 200000));
      unsigned long pfn;
      x86_tlb_translate(&b.tlb, mm, addr, false, &pfn);
      complete(&used);
    });
  b.m->spawn("bystander", 4, [&] { cpu_work(1000); });
  ASSERT_EQ(b.m->run().end, EndReason::Completed) << all_bugs(*b.m);
  EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
  EXPECT_EQ(b.on(1).remote_flushes, 3u);
  EXPECT_EQ(b.on(2).remote_flushes, 2u);
  EXPECT_EQ(b.on(3).remote_flushes, 2u);
  EXPECT_EQ(b.on(4).remote_flushes, 0u);
  EXPECT_FALSE(cpumask_test_cpu_nosync(4, &mm->cpu_vm_mask));
  EXPECT_TRUE(cpumask_test_cpu_nosync(3, &mm->cpu_vm_mask));
  EXPECT_EQ(b.tlb.shootdown_ipis, 1u + 3u + 3u);
  delete mm;  // host memory: the test does not tear the address space down
  // Local only: the 1-page flush cost. First remote: a large step. Two more: small.
  EXPECT_GE(alone, 1276u * 9 / 10);
  EXPECT_LT(alone, 2000u);
  EXPECT_GT(one, alone + 1000);
  EXPECT_GT(three, one);
  EXPECT_LT(three - one, (one - alone) / 2) << "alone " << alone << " one " << one << " three " << three;
}

TEST(X86Tlb, StaleTranslationAfterFreeWithoutFlushIsCaught) {
  for (bool flush : {true, false}) {
    Box b(2);
    struct mm_struct* mm = nullptr;
    struct completion cached, freed;
    init_completion_on(b.m.get(), &cached);
    init_completion_on(b.m.get(), &freed);
    int second = 1;
    b.m->spawn("unmapper", 0, [&] {
      mm = mm_alloc(false);
      struct page* p = alloc_page(GFP_KERNEL);
      install_page(mm, 0x1000, p, PAGE_SHARED);
      put_page(p);
      complete(&cached);  // hand mm over
      wait_for_completion(&freed);
      if (flush) {  // the correct order: clear, flush, then free
        get_page(p);
        zap_page(mm, 0x1000);
        x86_flush_tlb_page(&b.tlb, mm, 0x1000);
        put_page(p);
      } else {
        zap_page(mm, 0x1000);  // planted bug: the page is freed before any flush
      }
      complete(&cached);
    });
    b.m->spawn("user", 1, [&] {
      wait_for_completion(&cached);
      unsigned long pfn;
      x86_tlb_translate(&b.tlb, mm, 0x1000, true, &pfn);
      complete(&freed);
      wait_for_completion(&cached);
      second = x86_tlb_translate(&b.tlb, mm, 0x1000, false, &pfn);
    });
    const EndReason end = b.m->run().end;
    delete mm;  // host memory: the test does not tear the address space down
    if (flush) {
      EXPECT_EQ(end, EndReason::Completed) << all_bugs(*b.m);
      EXPECT_TRUE(b.m->bugs().empty()) << all_bugs(*b.m);
      EXPECT_EQ(second, -EFAULT);
    } else {
      EXPECT_EQ(end, EndReason::FatalBug);
      ASSERT_EQ(b.m->bugs().size(), 1u) << all_bugs(*b.m);
      EXPECT_EQ(b.m->bugs()[0].check, "use-after-free-frame");
      EXPECT_NE(b.m->bugs()[0].message.find("stale TLB entry on CPU 1"), std::string::npos) << all_bugs(*b.m);
    }
  }
}
