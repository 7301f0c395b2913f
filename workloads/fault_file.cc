// fault-file: a page-fault microbenchmark on file mappings (the "fault" test of seed
// 001, Peter Zijlstra's mm preemptibility series; docs/MM.md, "Sources").
//
// One task per CPU maps a window of `pages` pages of one shared file (each task in its
// own process, or with `threads=on` all tasks as threads of one process), touches every
// page once (a read, or a store with `write=on`: a COW fault on a private mapping, a
// shared dirtying fault otherwise), unmaps it, and repeats `rounds` times. The file
// stays in the page cache, so these are minor faults: the fault path's own cost and its
// contention (page_table_lock or the split ptl, tree_lock, the page's line, mmap_sem).
//
// Histograms: `fault` (cycles of a faulting access, trap to retry included), `munmap`.
// Metrics: cycles_per_fault (mean), faults_per_mcycle, and the vm statistics.
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

class FaultFile final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    rounds_ = k.integer("rounds");
    write_ = k.str("write") == "on";
    private_ = k.str("map") == "private";
    threads_ = k.str("threads") == "on";
    const unsigned long tasks = static_cast<unsigned long>(m.ncpus());
    rig_.setup(m, k, pages_, pages_ * (private_ && write_ ? tasks + 1 : 1), threads_, "ff-init", "faulter",
               [this](int cpu, mm_struct* mm, unsigned long addr) { faulter(cpu, mm, addr); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    rig_.env().finish(m, out, bugs);
    const Histogram& h = m.histogram("fault");
    out["cycles_per_fault"] = mean_of(h);
    out["faults_per_mcycle"] = end_ ? static_cast<double>(h.count()) * 1e6 / static_cast<double>(end_) : 0;
  }

 private:
  void faulter(int cpu, mm_struct* mm, unsigned long addr) {
    Histogram& fault = m_->histogram("fault");
    Histogram& unmap = m_->histogram("munmap");
    for (std::int64_t r = 0; r < rounds_; r++) {
      do_mmap(mm, addr, pages_ * PAGE_SIZE, PROT_READ | PROT_WRITE,
              (private_ ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, rig_.file(), 0);
      touch_pages(
          mm, addr, pages_, write_, [cpu](unsigned long i) { return (static_cast<unsigned long>(cpu) << 32) | i; },
          &fault, "fault-file");
      return_to_user();
      const Cycles t0 = local_clock();
      do_munmap(mm, addr, pages_ * PAGE_SIZE);
      unmap.record(local_clock() - t0);
      return_to_user();
    }
    const Cycles now = local_clock();
    if (now > end_) end_ = now;
  }

  Machine* m_ = nullptr;
  PerCpuFileRig rig_;
  unsigned long pages_ = 0;
  std::int64_t rounds_ = 0;
  bool write_ = false, private_ = false, threads_ = false;
  Cycles end_ = 0;
};

const WorkloadRegistrar reg({
    "fault-file",
    "fault microbenchmark: every CPU maps a cached file window, faults each page in, unmaps; cycles per fault",
    with_mm_knobs({
        {"pages", "256", {}, 1, 1 << 20, "pages per window (and file size)"},
        {"rounds", "4", {}, 1, 1000000, "map / fault everything / unmap rounds per task"},
        {"write", "off", {"on", "off"}, 0, 0, "store instead of load (private: COW faults)"},
        {"map", "shared", {"shared", "private"}, 0, 0, "MAP_SHARED or MAP_PRIVATE"},
        {"threads", "off", {"on", "off"}, 0, 0, "all tasks are threads of one process (one mm)"},
    }),
    [] { return std::make_unique<FaultFile>(); },
});

}  // namespace
}  // namespace smpemu
