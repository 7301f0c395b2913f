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
