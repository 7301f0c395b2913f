// Tests of truncate and unmap_mapping_range (mm/truncate.*): every lockbreak variant
// leaves no pte beyond EOF, the lockbreak restarts when the lock is wanted, the
// wrap_reset and tree_first toggles, the truncate oracles, and the truncate-latency
// workload's knobs and fuzz results (the full 5,000-run campaigns: docs/MM.md).
#include <gtest/gtest.h>

#include <tuple>

#include "cli/campaign.h"
#include "cli/runner.h"
#include "tests/mm_test_util.h"

using namespace smpemu;
using namespace smpemu::testing;

namespace {

constexpr unsigned long A = 0x100000000UL;
constexpr unsigned long B = 0x200000000UL;
constexpr unsigned long C = 0x300000000UL;

/// Maps a 64-page file three ways in two mms (shared, private with COW copies, and a
/// shared window made partly nonlinear), touches everything, truncates to 20 pages.
struct TruncateScene {
  mm_struct* m1 = nullptr;
  mm_struct* m2 = nullptr;
  address_space* f = nullptr;
  int left_beyond = -1;
  unsigned long cached_beyond = 99;

  void build(MmBox& b) {
    f = b.env.add_file(64, 64);
    m1 = b.env.new_mm();
    m2 = b.env.new_mm();
    do_mmap(m1, A, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0);
    do_mmap(m2, B, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f, 16);
    do_mmap(m2, C, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 8);
    touch_range(m1, A, A + 64 * PAGE_SIZE, false);
    touch_range(m2, B, B + 32 * PAGE_SIZE, true);  // COW copies of 16..47
    touch_range(m2, C, C + 32 * PAGE_SIZE, false);
    sys_remap_file_pages(m2, C, 2 * PAGE_SIZE, 50);  // pages 50, 51 at C (beyond the cut)
  }
  void check() {
    // Host-side: what the oracle also scans, counted here independently.
    int n = 0;
    for (unsigned long a = A + 20 * PAGE_SIZE; a < A + 64 * PAGE_SIZE; a += PAGE_SIZE)
      n += (peek_pte(m1, a) & _PAGE_PRESENT) != 0;
    for (unsigned long a = B + 4 * PAGE_SIZE; a < B + 32 * PAGE_SIZE; a += PAGE_SIZE)
      n += (peek_pte(m2, a) & _PAGE_PRESENT) != 0;
    for (unsigned long a = C; a < C + 2 * PAGE_SIZE; a += PAGE_SIZE) n += (peek_pte(m2, a) & _PAGE_PRESENT) != 0;
    for (unsigned long a = C + 12 * PAGE_SIZE; a < C + 32 * PAGE_SIZE; a += PAGE_SIZE)
      n += (peek_pte(m2, a) & _PAGE_PRESENT) != 0;
    left_beyond = n;
    cached_beyond = 0;
    for (auto& e : f->page_tree) cached_beyond += e.first >= 20;
  }
};

class TruncateVariants : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(TruncateVariants, NothingMapsOrCachesBeyondEof) {
  const auto [lockbreak, split] = GetParam();
  MmBox b(2, {{"lockbreak", lockbreak}, {"split_ptlock", split}, {"zap_block", "1"}}, 1, PreemptModel::Full);
  TruncateScene s;
  int below_ok = -1;
  b.m->spawn("t", 0, [&] {
    s.build(b);
    mutex_lock(&s.f->i_mutex);
    vmtruncate(s.f, 20 * PAGE_SIZE);
    mutex_unlock(&s.f->i_mutex);
    s.check();
    below_ok = present_ptes(s.m1, A, A + 20 * PAGE_SIZE);
  });
  b.m->run();
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  EXPECT_EQ(s.left_beyond, 0);
  EXPECT_EQ(s.cached_beyond, 0u);
  EXPECT_EQ(below_ok, 20);  // pages below the cut stay mapped
  EXPECT_EQ(b.acquisitions(std::string(split) == "on" ? "ptl" : "page_table_lock") > 0, true);
}

INSTANTIATE_TEST_SUITE_P(Lockbreak, TruncateVariants,
                         ::testing::Combine(::testing::Values("none", "restart_vma", "restart_in_vma", "mutex_nobreak"),
                                            ::testing::Values("off", "on")));

// With a contender on the i_mmap lock (another CPU mapping and unmapping the file) the
// restart variants drop the lock and start over; none and mutex_nobreak never do.
class TruncateLockbreak : public ::testing::TestWithParam<const char*> {};

TEST_P(TruncateLockbreak, RestartsOnlyInTheRestartVariants) {
  const std::string lockbreak = GetParam();
  MmBox b(2, {{"lockbreak", lockbreak}, {"zap_block", "1"}}, 1, PreemptModel::Full);
  TruncateScene s;
  shared<bool> done{false, b.m->new_line()};
  completion built;
  init_completion_on(b.m.get(), &built);
  b.m->spawn("truncate", 0, [&] {
    s.build(b);
    complete(&built);
    mutex_lock(&s.f->i_mutex);
    vmtruncate(s.f, 20 * PAGE_SIZE);
    mutex_unlock(&s.f->i_mutex);
    s.check();
    WRITE_ONCE(done, true);
  });
  b.m->spawn("contender", 1, [&] {
    wait_for_completion(&built);
    mm_struct* mm = b.env.new_mm();
    while (!READ_ONCE(done)) {
      do_mmap(mm, A, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, s.f, 0);
      do_munmap(mm, A, 4 * PAGE_SIZE);
    }
  });
  b.m->run();
  EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
  EXPECT_EQ(s.left_beyond, 0);
  const vm_stats& st = b.env.vm().stats;
  if (lockbreak == "restart_vma" || lockbreak == "restart_in_vma")
    EXPECT_GT(st.umr_restarts, 0u);
  else
    EXPECT_EQ(st.umr_restarts, 0u);
}

INSTANTIATE_TEST_SUITE_P(Lockbreak, TruncateLockbreak,
                         ::testing::Values("none", "restart_vma", "restart_in_vma", "mutex_nobreak"));

// truncate_count wraps to 0: wrap_reset zeroes every vma's count, so a vma whose count
// is a stale snapshot equal to the first one after the wrap is still scanned. Without
// the reset it is skipped and its ptes beyond EOF survive.
class TruncateWrap : public ::testing::TestWithParam<const char*> {};

TEST_P(TruncateWrap, StaleCountAfterTheWrap) {
  const std::string reset = GetParam();
  MmBox b(1, {{"wrap_reset", reset}, {"count_bits", "16"}, {"count_start", "65535"}});
  TruncateScene s;
  b.m->spawn("t", 0, [&] {
    s.build(b);
    // A vma last marked by the pass with snapshot 1, one full cycle of the count ago.
    find_vma(s.m1, A)->vm_truncate_count = 1;
    mutex_lock(&s.f->i_mutex);
    vmtruncate(s.f, 20 * PAGE_SIZE);
    mutex_unlock(&s.f->i_mutex);
    s.check();
  });
  b.m->run();
  EXPECT_EQ(s.f->truncate_count.v, 1u);  // 65535 + 1 wraps to 0, which is skipped
  if (reset == "on") {
    EXPECT_TRUE(b.m->bugs().empty()) << b.all_bugs();
    EXPECT_EQ(b.env.vm().stats.umr_count_resets, 1u);
  } else {
    EXPECT_EQ(b.bugs("pte-beyond-eof"), 1) << b.all_bugs();
    EXPECT_EQ(b.env.vm().stats.umr_count_resets, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Reset, TruncateWrap, ::testing::Values("on", "off"));

// Planted bug for truncate's own check: dropping pages that are still mapped.
TEST(TruncateOracle, TruncateInodePagesMeetingAMappedPageIsReported) {
  MmBox b(1);
  b.m->spawn("t", 0, [&] {
    address_space* f = b.env.add_file(8, 8);
    mm_struct* mm = b.env.new_mm();
    do_mmap(mm, A, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0);
    touch_range(mm, A, A + 8 * PAGE_SIZE, false);
    truncate_inode_pages(f, 4 * PAGE_SIZE);  // without unmap_mapping_range first
  });
  b.m->run();
  EXPECT_EQ(b.bugs("truncate-mapped-page"), 1) << b.all_bugs();
  // The other side: the fault that mapped the page (no truncate has run).
  const std::string d = b.details("truncate-mapped-page");
  EXPECT_NE(d.find("was installed by task t/"), std::string::npos) << d;
  EXPECT_NE(d.find("do_no_page"), std::string::npos) << d;
  EXPECT_NE(d.find("Its fault read i_size (8 pages)"), std::string::npos) << d;
  EXPECT_NE(d.find("The last truncate of file " + std::to_string(b.m->bugs().empty() ? 0 : 1)), std::string::npos) << d;
}

// ---- the workload: knobs change behaviour, fuzzing finds the planted races ----

RunConfig trunc_config(std::uint64_t seed, std::map<std::string, std::string> set) {
  RunConfig cfg;
  cfg.workload = "truncate-latency";
  cfg.params.seed = seed;
  cfg.set = std::move(set);
  return cfg;
}

TEST(TruncateLatency, SameSeedSameDigest) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const RunResult a = run_once(trunc_config(seed, {}));
    const RunResult b2 = run_once(trunc_config(seed, {}));
    EXPECT_EQ(a.stats.digest, b2.stats.digest);
    EXPECT_TRUE(a.bugs.empty());
  }
}

TEST(TruncateLatency, LockbreakCollapsesTheHoldAndPreemptOffMaxima) {
  RunConfig none = trunc_config(1, {{"lockbreak", "none"}});
  RunConfig brk = trunc_config(1, {{"lockbreak", "restart_in_vma"}});
  for (RunConfig* c : {&none, &brk}) {
    c->params.cpus = 16;
    c->params.preempt = PreemptModel::Full;
  }
  const RunResult a = run_once(none);
  const RunResult r = run_once(brk);
  ASSERT_TRUE(a.bugs.empty());
  ASSERT_TRUE(r.bugs.empty());
  const auto max = [](const RunResult& x, const char* h) { return x.histograms.at(h).max(); };
  EXPECT_GE(max(a, "lock.i_mmap_lock.hold"), 10 * max(r, "lock.i_mmap_lock.hold"));
  EXPECT_GE(max(a, "preemptoff"), 10 * max(r, "preemptoff"));
  const double fa = a.metrics.at("faults_per_mcycle"), fr = r.metrics.at("faults_per_mcycle");
  EXPECT_LT(std::abs(fa - fr) / fa, 0.2) << fa << " vs " << fr;
  EXPECT_EQ(a.metrics.at("umr_restarts"), 0);
  EXPECT_GT(r.metrics.at("umr_restarts"), 0);
}

TEST(TruncateLatency, ZapBlockAndSplitPtlockChangeWhatHappens) {
  const RunResult small = run_once(trunc_config(1, {{"zap_block", "1"}}));
  const RunResult big = run_once(trunc_config(1, {{"zap_block", "1024"}}));
  EXPECT_GT(small.metrics.at("tlb_flushes"), big.metrics.at("tlb_flushes"));
  const RunResult split = run_once(trunc_config(1, {{"split_ptlock", "on"}}));
  const auto acq = [](const RunResult& x, const std::string& cls) {
    for (const auto& l : x.locks)
      if (l.name == cls) return l.acquisitions;
    return std::uint64_t{0};
  };
  EXPECT_GT(acq(split, "ptl"), 0u);
  EXPECT_EQ(acq(small, "ptl"), 0u);
}

TEST(TruncateLatency, CountNearTheWrapIsReachedAndReset) {
  const RunResult r = run_once(trunc_config(1, {{"count_start", "4294967290"}}));
  EXPECT_TRUE(r.bugs.empty());
  EXPECT_EQ(r.metrics.at("umr_count_resets"), 1);
  const RunResult off = run_once(trunc_config(1, {{"count_start", "4294967290"}, {"wrap_reset", "off"}}));
  EXPECT_EQ(off.metrics.at("umr_count_resets"), 0);
}

FuzzResult fuzz(std::map<std::string, std::string> set, std::uint64_t runs, unsigned jobs = 2) {
  FuzzOptions o;
  o.base = trunc_config(1, std::move(set));
  o.base.params.strategy = "portfolio";  // what `smpemu fuzz` runs by default
  o.runs = runs;
  o.jobs = jobs;
  return run_fuzz(o);
}

bool found(const FuzzResult& r, const std::string& check) {
  for (const auto& s : r.signatures)
    if (s.check == check) return true;
  return false;
}

// The planted bugs are found by the default campaign (fuzz's portfolio of strategies)
// within a small budget; the correct code is clean over the same seeds. docs/MM.md has
// the longer campaigns, per strategy.
TEST(TruncateFuzz, PlantedBugsAreFoundAndTheCorrectCodeIsClean) {
  EXPECT_EQ(fuzz({}, 100).bugs_found, 0u);
  EXPECT_TRUE(found(fuzz({{"fault_recheck", "off"}}, 100), "pte-beyond-eof"));
  EXPECT_TRUE(found(fuzz({{"fault_recheck", "late"}}, 50), "pte-beyond-eof"));
  EXPECT_TRUE(found(fuzz({{"merge_reset", "off"}}, 50), "pte-beyond-eof"));
  EXPECT_TRUE(found(fuzz({{"tree_first", "off"}}, 20), "pte-beyond-eof"));
}

// The mremap count rule needs a truncate pass broken out of a vma (--preempt full) while
// that vma moves: cond is found, always is clean over the same seeds.
TEST(TruncateFuzz, MremapResetCondIsFoundAndAlwaysIsClean) {
  const auto campaign = [](const char* reset) {
    FuzzOptions o;
    o.base = trunc_config(1, {{"mremap", "200"}, {"mremap_reset", reset}});
    o.base.params.preempt = PreemptModel::Full;
    o.runs = 20;
    o.jobs = 2;
    return run_fuzz(o);
  };
  EXPECT_TRUE(found(campaign("cond"), "pte-beyond-eof"));
  EXPECT_EQ(campaign("always").bugs_found, 0u);
}

TEST(TruncateFuzz, OneOrTwoHostThreadsFindTheSameSeeds) {
  const FuzzResult one = fuzz({{"fault_recheck", "off"}}, 40, 1);
  const FuzzResult two = fuzz({{"fault_recheck", "off"}}, 40, 2);
  EXPECT_EQ(one.seeds, two.seeds);
  ASSERT_EQ(one.signatures.size(), two.signatures.size());
  for (std::size_t i = 0; i < one.signatures.size(); ++i) {
    EXPECT_EQ(one.signatures[i].signature, two.signatures[i].signature);
    EXPECT_EQ(one.signatures[i].first_seed, two.signatures[i].first_seed);
  }
}

}  // namespace
