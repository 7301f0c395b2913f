// Tests of the arch/mm seam (docs/ARCH.md): the generic pte layout of arch/pgtable.h,
// every pte change and flush of mm/ reaching the MMU model through its operations,
// the MMU registry behind --arch, and mm/ naming no arch.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "arch/mmu.h"
#include "arch/walk.h"
#include "mm_test_util.h"
#include "test_util.h"

using namespace smpemu;
using smpemu::testing::Exec;
using smpemu::testing::expect_usage_error;
using smpemu::testing::MmBox;
using smpemu::testing::run_smpemu;

namespace {

constexpr unsigned long A = 0x100000000UL;

// ---- the generic pte layout -------------------------------------------------

TEST(ArchPgtable, ArchPrivateBitsAreIgnoredByGenericAccessors) {
  const pteval_t hash_flag = 1UL << _PAGE_ARCH_SHIFT;  // where ppc64 keeps HASHPTE
  EXPECT_TRUE(pte_none(__pte(0)));
  EXPECT_TRUE(pte_none(__pte(hash_flag)));  // as ppc64's _PTE_NONE_MASK
  EXPECT_FALSE(pte_none(__pte(_PAGE_DIRTY)));
  const pte_t p = __pte(pfn_pte(12345, PAGE_SHARED).pte | hash_flag | _PAGE_DIRTY);
  EXPECT_EQ(pte_pfn(p), 12345u);
  const pte_t ro = pte_modify(p, PAGE_READONLY);
  EXPECT_FALSE(pte_write(ro));
  EXPECT_EQ(pte_val(ro) & _PAGE_ARCH_MASK, hash_flag);  // kept across mprotect
  EXPECT_TRUE(pte_dirty(ro));
  EXPECT_EQ(pte_pfn(ro), 12345u);
  EXPECT_EQ(pte_val(pfn_pte(7, PAGE_SHARED)) & _PAGE_ARCH_MASK, 0u);
  const pte_t f = pgoff_to_pte(999);
  EXPECT_TRUE(pte_file(f));
  EXPECT_FALSE(pte_present(f));
  EXPECT_EQ(pte_to_pgoff(__pte(pte_val(f) | hash_flag)), 999u);
}

// ---- every pte change and flush goes through the model -------------------------

// A model that counts its operations and otherwise behaves like the no-op one.
struct CountingMmu : mmu {
  std::map<std::string, int> calls;
  std::map<unsigned, int> updates_by_flags;
};

CountingMmu* counting(struct mmu* m) { return static_cast<CountingMmu*>(m); }

pteval_t count_pte_update(struct mmu* m, mm_struct*, unsigned long, pgtable_slot_t* ptep, pteval_t clr, pteval_t set,
                          unsigned int flags) {
  counting(m)->calls["pte_update"]++;
  counting(m)->updates_by_flags[flags]++;
  return native_pte_update(ptep, clr, set, flags);
}
void count_update_mmu_cache(struct mmu* m, vm_area_struct*, unsigned long, pgtable_slot_t*) {
  counting(m)->calls["update_mmu_cache"]++;
}
int count_translate(struct mmu* m, mm_struct* mm, unsigned long addr, bool write, unsigned long* pfn) {
  counting(m)->calls["translate"]++;
  pte_t pte;
  const int r = hw_walk(mm, addr, write, &pte);
  if (r == 0) *pfn = pte_pfn(pte);
  return r;
}
void count_flush_mm(struct mmu* m, mm_struct*) { counting(m)->calls["flush_tlb_mm"]++; }
void count_flush_range(struct mmu* m, mm_struct*, unsigned long, unsigned long) {
  counting(m)->calls["flush_tlb_range"]++;
}
void count_flush_page(struct mmu* m, mm_struct*, unsigned long) { counting(m)->calls["flush_tlb_page"]++; }
void count_tlb_flush(struct mmu* m, mmu_gather*) { counting(m)->calls["tlb_flush"]++; }
void count_enter_lazy(struct mmu* m) { counting(m)->calls["enter_lazy_mmu"]++; }
void count_leave_lazy(struct mmu* m) { counting(m)->calls["leave_lazy_mmu"]++; }
void count_pte_unlock(struct mmu* m, const void*) { counting(m)->calls["pte_unlock"]++; }
void count_stats(struct mmu*, mmu_stat_fn, void*) {}
void count_destroy(struct mmu*) {}

const mmu_ops kCountingOps = {count_pte_update, count_update_mmu_cache, count_translate,  count_flush_mm,
                              count_flush_range, count_flush_page,      count_tlb_flush,  count_enter_lazy,
                              count_leave_lazy,  count_pte_unlock,      count_stats,      count_destroy};

TEST(ArchSeam, MmReachesTheMmuOnlyThroughItsOperations) {
  MmBox b(1);
  CountingMmu cm{};  // value-initialised: the mmu fields mm/ reads (rcu_table_free) are false
  cm.ops = &kCountingOps;
  cm.type = nullptr;
  struct mmu* configured = b.env.mem().mmu;
  b.env.mem().mmu = &cm;  // every mm of this memory now reaches the counting model
  address_space* f = b.env.add_file(8, 8);
  int read_ok = -1, write_ok = -1;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 0);
    unsigned long v = 0;
    read_ok = user_access(mm, A, false, &v, nullptr);  // file page, read-only private pte
    v = 5;
    write_ok = user_access(mm, A, true, &v, nullptr);  // COW: ptep_clear_flush, set_pte_at
    sys_mprotect(mm, A, 8 * PAGE_SIZE, PROT_READ);     // change_protection: flush_tlb_range
    do_munmap(mm, A, 8 * PAGE_SIZE);                   // the gather: tlb_flush
  });
  b.m->run();
  b.env.mem().mmu = configured;
  EXPECT_EQ(read_ok, 0);
  EXPECT_EQ(write_ok, 0);
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  EXPECT_GT(cm.calls["translate"], 0);
  EXPECT_GE(cm.calls["update_mmu_cache"], 2);  // the read fault and the COW
  EXPECT_GE(cm.calls["flush_tlb_page"], 1);    // ptep_clear_flush of the COW
  EXPECT_GE(cm.calls["flush_tlb_range"], 1);
  EXPECT_GE(cm.calls["tlb_flush"], 1);
  EXPECT_GE(cm.updates_by_flags[PTE_UPDATE_STORE], 2);  // set_pte_at
  EXPECT_GE(cm.updates_by_flags[0], 2);                 // ptep_get_and_clear
  // mprotect and munmap change ptes in lazy MMU mode, entered and left in pairs, and
  // every pte lock release is announced.
  EXPECT_GE(cm.calls["enter_lazy_mmu"], 2);
  EXPECT_EQ(cm.calls["enter_lazy_mmu"], cm.calls["leave_lazy_mmu"]);
  EXPECT_GE(cm.calls["pte_unlock"], 4);
}

TEST(ArchSeam, PteUpdateClearsAndSetsInOneAtomic) {
  MmBox b(1);
  pteval_t old = 0, now = 0;
  b.m->spawn("t", 0, [&] {
    mm_struct* mm = b.env.new_mm();
    struct page* p = alloc_page(GFP_KERNEL);
    ASSERT_EQ(install_page(mm, A, p, PAGE_SHARED), 0);
    put_page(p);
    pgtable_slot_t* ptep = lookup_pte(mm, A);
    ASSERT_NE(ptep, nullptr);
    ptep_set_wrprotect(mm, A, ptep);
    old = pte_update(mm, A, ptep, _PAGE_ACCESSED, _PAGE_DIRTY, 0);
    now = ptep_get(ptep).pte;
    zap_page(mm, A);
  });
  b.m->run();
  EXPECT_FALSE(old & _PAGE_RW);
  EXPECT_TRUE(old & _PAGE_ACCESSED);
  EXPECT_FALSE(now & _PAGE_ACCESSED);
  EXPECT_TRUE(now & _PAGE_DIRTY);
  EXPECT_EQ(now & PTE_PFN_MASK, old & PTE_PFN_MASK);
}

// ---- the registry behind --arch ------------------------------------------------

TEST(ArchRegistry, ListPrintsEveryModelAndUnknownArchIsRefused) {
  const Exec e = run_smpemu("list");
  ASSERT_EQ(e.status, 0);
  EXPECT_NE(e.out.find("MMU models"), std::string::npos);
  for (std::size_t i = 0; i < nr_mmu_types; ++i) {
    EXPECT_NE(e.out.find(mmu_types[i].name), std::string::npos);
    EXPECT_NE(e.out.find(mmu_types[i].doc), std::string::npos);
  }
  expect_usage_error("run fault-file --arch vax", "unknown --arch 'vax' (known: x86, ppc64-hash, none)");
  // A knob of another model is refused, not ignored.
  expect_usage_error("run fault-file --set hash_flush=tlb_flush_only",
                     "knob hash_flush=tlb_flush_only is a knob of --arch ppc64-hash (this run: --arch x86)");
  expect_usage_error("fuzz fault-file --runs 2 --arch sparc", "unknown --arch 'sparc'");
}

TEST(ArchRegistry, TheModelChangesWhatARunDoes) {
  const std::string args = "run mmap-munmap --cpus 4 --seed 3 --set threads=on --set iterations=5 --json";
  const Exec x86 = run_smpemu(args);
  const Exec none = run_smpemu(args + " --arch none");
  ASSERT_EQ(x86.status, 0) << x86.err;
  ASSERT_EQ(none.status, 0) << none.err;
  const auto jx = nlohmann::json::parse(x86.out);
  const auto jn = nlohmann::json::parse(none.out);
  EXPECT_EQ(jx["arch"], "x86");
  EXPECT_EQ(jn["arch"], "none");
  EXPECT_GT(jx["metrics"]["shootdown_ipis"].get<double>(), 0);
  EXPECT_FALSE(jn["metrics"].contains("shootdown_ipis"));  // no TLB, nothing to shoot down
  EXPECT_NE(jx["digest"], jn["digest"]);
  EXPECT_EQ(jx["metrics"]["munmaps"], jn["metrics"]["munmaps"]);  // the same mm work
}

// ---- mm/ names no arch ----------------------------------------------------------

// The source with comments removed (strings stay: an #include names its path).
std::string code_only(const std::string& src) {
  std::string out;
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (src.compare(i, 2, "/*") == 0) {
      const std::size_t e = src.find("*/", i + 2);
      i = e == std::string::npos ? src.size() : e + 1;
    } else if (src.compare(i, 2, "//") == 0) {
      const std::size_t e = src.find('\n', i);
      i = e == std::string::npos ? src.size() : e - 1;
    } else {
      out += src[i];
    }
  }
  return out;
}

TEST(ArchSeam, MmNamesNoArchOutsideComments) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SMPEMU_SOURCE_DIR) + "/mm")) {
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string code = code_only(ss.str());
    ++files;
    for (const char* name : {"x86", "ppc64", "arch/x86"})
      EXPECT_EQ(code.find(name), std::string::npos) << entry.path() << " names " << name;
  }
  EXPECT_GT(files, 10);
}

}  // namespace
