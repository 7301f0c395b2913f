// The mm microbenchmark workloads (fault-file, mmap-munmap, tlb-shootdown): clean,
// deterministic, and their knobs change what the mm does.
#include <gtest/gtest.h>

#include <map>

#include "cli/runner.h"
#include "emu/errors.h"

using namespace smpemu;

namespace {

RunResult run(const std::string& w, std::map<std::string, std::string> set, std::uint64_t seed = 1) {
  RunConfig cfg;
  cfg.workload = w;
  cfg.params.seed = seed;
  cfg.set = std::move(set);
  return run_once(cfg);
}

TEST(FaultFile, PrivateStoresAreCowFaultsAndThreadsShareOneMm) {
  const RunResult rd = run("fault-file", {});
  const RunResult cow = run("fault-file", {{"map", "private"}, {"write", "on"}});
  const RunResult thr = run("fault-file", {{"threads", "on"}});
  for (const RunResult* r : {&rd, &cow, &thr}) EXPECT_TRUE(r->bugs.empty());
  EXPECT_EQ(rd.metrics.at("cow_faults"), 0);
  EXPECT_EQ(cow.metrics.at("cow_faults"), rd.metrics.at("faults"));
  // Separate processes flush only their own CPU; threads of one mm shoot each other down.
  EXPECT_EQ(rd.metrics.at("shootdown_ipis"), 0);
  EXPECT_GT(thr.metrics.at("shootdown_ipis"), 0);
  EXPECT_GT(rd.metrics.at("cycles_per_fault"), 0);
  EXPECT_EQ(run("fault-file", {}, 7).stats.digest, run("fault-file", {}, 7).stats.digest);
}

TEST(MmapMunmap, ThreadsMakeMunmapPayForShootdowns) {
  const RunResult proc = run("mmap-munmap", {});
  const RunResult thr = run("mmap-munmap", {{"threads", "on"}});
  EXPECT_TRUE(proc.bugs.empty());
  EXPECT_TRUE(thr.bugs.empty());
  EXPECT_EQ(proc.metrics.at("munmaps"), 8 * 50);
  EXPECT_GT(thr.metrics.at("cycles_per_munmap"), proc.metrics.at("cycles_per_munmap"));
  EXPECT_GT(thr.metrics.at("shootdown_ipis"), 0);
  EXPECT_EQ(run("mmap-munmap", {}, 3).stats.digest, run("mmap-munmap", {}, 3).stats.digest);
}

// One flush per iteration, an IPI to every other CPU of the mm per flush, and a flush
// that costs more with every remote CPU (tests/shape_test.cc checks the shape's size).
TEST(TlbShootdown, EveryFlushShootsDownEveryOtherCpuOfTheMm) {
  std::map<int, RunResult> r;
  for (int cpus : {1, 2, 4}) {
    RunConfig cfg;
    cfg.workload = "tlb-shootdown";
    cfg.params.cpus = cpus;
    cfg.params.seed = 1;
    cfg.set["iterations"] = "40";
    r.emplace(cpus, run_once(cfg));
    const RunResult& x = r.at(cpus);
    EXPECT_TRUE(x.bugs.empty());
    EXPECT_EQ(x.metrics.at("flush_calls"), 40);
    EXPECT_EQ(x.metrics.at("shootdown_ipis"), 40 * (cpus - 1));
    EXPECT_EQ(x.histograms.at("iteration").count(), 40u);
  }
  EXPECT_GT(r.at(2).metrics.at("shootdown_cycles"), r.at(1).metrics.at("shootdown_cycles") + 1000);
  EXPECT_GT(r.at(4).metrics.at("shootdown_cycles"), r.at(2).metrics.at("shootdown_cycles"));
  EXPECT_GT(r.at(2).metrics.at("iteration_cycles"), r.at(2).metrics.at("shootdown_cycles"));
}

TEST(FaultAnon, StoresAllocateAndLoadsMapTheZeroPage) {
  const RunResult st = run("fault-anon", {});
  const RunResult ld = run("fault-anon", {{"write", "off"}});
  const RunResult thr = run("fault-anon", {{"threads", "on"}});
  EXPECT_TRUE(st.bugs.empty() && ld.bugs.empty() && thr.bugs.empty());
  EXPECT_EQ(st.metrics.at("anon_faults"), st.metrics.at("faults"));
  EXPECT_EQ(st.metrics.at("zero_page_faults"), 0);
  EXPECT_EQ(ld.metrics.at("zero_page_faults"), ld.metrics.at("faults"));
  EXPECT_EQ(ld.metrics.at("anon_faults"), 0);
  // one anon_vma per window and round, or one per round for the single mm's window
  EXPECT_LT(thr.metrics.at("anon_vmas_allocated"), st.metrics.at("anon_vmas_allocated") + 1);
}

TEST(ForkFault, ChildrenCowAndTheCowThatForgetsToCopyIsFound) {
  const RunResult ok = run("fork-fault", {});
  EXPECT_TRUE(ok.bugs.empty());
  EXPECT_EQ(ok.metrics.at("forks"), 8);  // 4 rounds of 2
  EXPECT_GT(ok.metrics.at("cow_faults"), 0);
  EXPECT_GT(ok.metrics.at("anon_vmas_reused"), 0);  // the children's, after their exit
  const RunResult bug = run("fork-fault", {{"wp_reuse", "always"}});
  ASSERT_FALSE(bug.bugs.empty());
  EXPECT_EQ(bug.bugs.front().check, "shadow-memory");
  EXPECT_GT(bug.metrics.at("wp_reuses"), ok.metrics.at("wp_reuses"));
}

// Each anon_lock model's distinctive behaviour in the same family under the same load:
// only rwsem lets walkers in together; only trylock and rwsem make anon_vma_free wait.
TEST(RmapStress, EveryAnonLockModelShowsItsOwnBehaviour) {
  std::map<std::string, RunResult> r;
  for (const char* m : {"spin", "mutex", "trylock", "rwsem"}) {
    r[m] = run("rmap-stress", {{"anon_lock", m}});
    EXPECT_TRUE(r[m].bugs.empty()) << m;
    EXPECT_GT(r[m].metrics.at("rmap_walks"), 100) << m;
  }
  EXPECT_EQ(r["spin"].metrics.at("rmap_max_walkers"), 1);
  EXPECT_EQ(r["mutex"].metrics.at("rmap_max_walkers"), 1);
  EXPECT_EQ(r["trylock"].metrics.at("rmap_max_walkers"), 1);
  EXPECT_GE(r["rwsem"].metrics.at("rmap_max_walkers"), 2);
  EXPECT_EQ(r["spin"].metrics.at("anon_vma_free_waits"), 0);
  EXPECT_EQ(r["mutex"].metrics.at("anon_vma_free_waits"), 0);
  EXPECT_GT(r["trylock"].metrics.at("anon_vma_free_waits"), 0);
  EXPECT_GT(r["rwsem"].metrics.at("anon_vma_free_waits"), 0);
  EXPECT_THROW(run("rmap-stress", {{"walkers", "8"}}), ConfigError);  // no CPU left for the parent
}

// Regression: the walkers' speculative page references (get_page_unless_zero on a page
// that may have been freed and reused) met a preemptible gather's batch page, and the
// gather freed it with __free_page under the reference: the walker's put_page then
// freed the frame again, by then a new mm's page table (found by a 1,000-run campaign).
TEST(RmapStress, ASpeculativeReferenceOutlivesAFreedBatchPage) {
  RunConfig cfg;
  cfg.workload = "rmap-stress";
  cfg.params.seed = 73;
  cfg.params.strategy = "pos";
  cfg.params.preempt = PreemptModel::Full;
  cfg.set = {{"mmu_gather", "preemptible"}};
  const RunResult r = run_once(cfg);
  EXPECT_TRUE(r.bugs.empty()) << r.bugs.front().details;
}

TEST(MmWorkloads, BadKnobValuesAreConfigErrors) {
  EXPECT_THROW(run("fault-file", {{"map", "anonymous"}}), ConfigError);
  EXPECT_THROW(run("mmap-munmap", {{"pages", "0"}}), ConfigError);
  EXPECT_THROW(run("tlb-shootdown", {{"iterations", "0"}}), ConfigError);
  EXPECT_THROW(run("truncate-latency", {{"lockbreak", "sometimes"}}), ConfigError);
  EXPECT_THROW(run("truncate-latency", {{"count_bits", "12"}}), ConfigError);
  // Configurations the host cannot hold, or the address space cannot place, are
  // configuration errors too (not a crash, not a bug report).
  EXPECT_THROW(run("truncate-latency", {{"vmas", "65536"}, {"vma_pages", "1048576"}, {"file_pages", "1048576"}}),
               ConfigError);
  EXPECT_THROW(run("truncate-latency", {{"procs", "1"}, {"vmas", "2000"}, {"vma_pages", "1000"},
                                        {"file_pages", "2000"}, {"mremap", "10"}}),
               ConfigError);
  // Page tables cost host memory too: 1024 processes of 2^20-page windows need 2^21.
  RunConfig big;
  big.workload = "fault-file";
  big.params.cpus = 1024;
  big.set = {{"pages", "1048576"}};
  EXPECT_THROW(run_once(big), ConfigError);
}

}  // namespace
