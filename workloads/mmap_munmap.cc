// mmap-munmap: a map / touch / unmap microbenchmark (the "mmap" and "munmap" tests of
// seed 001, Peter Zijlstra's mm preemptibility series; docs/MM.md, "Sources").
//
// One task per CPU, each its own process (or threads of one with `threads=on`), loops
// `iterations` times: mmap `pages` pages of one shared file, touch `touch` of them
// (stores with `write=on`), munmap. munmap runs unmap_vmas through the mmu_gather and
// free_pgtables, so it shows the gather's TLB flushes and, with `threads=on`, the IPI
// shootdowns to the other CPUs of the mm; mmap and munmap also take the file's i_mmap lock.
//
// Histograms: `mmap`, `munmap`, `touch` (cycles per operation). Metrics:
// iterations_per_mcycle, cycles_per_mmap / cycles_per_munmap (means), vm statistics.
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

class MmapMunmap final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    touch_ = static_cast<unsigned long>(k.integer("touch"));
    if (touch_ > pages_) touch_ = pages_;
    iterations_ = k.integer("iterations");
    write_ = k.str("write") == "on";
    threads_ = k.str("threads") == "on";
    rig_.setup(m, k, pages_, pages_, threads_, "mm-init", "mapper",
               [this](int cpu, mm_struct* mm, unsigned long addr) { mapper(cpu, mm, addr); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    rig_.env().finish(m, out, bugs);
    out["cycles_per_mmap"] = mean_of(m.histogram("mmap"));
    out["cycles_per_munmap"] = mean_of(m.histogram("munmap"));
    out["iterations_per_mcycle"] = end_ ? static_cast<double>(done_) * 1e6 / static_cast<double>(end_) : 0;
  }

 private:
  void mapper(int cpu, mm_struct* mm, unsigned long addr) {
    Histogram& hm = m_->histogram("mmap");
    Histogram& hu = m_->histogram("munmap");
    Histogram& ht = m_->histogram("touch");
    const unsigned long stride = touch_ ? pages_ / touch_ : 1;
    for (std::int64_t i = 0; i < iterations_; i++) {
      Cycles t0 = local_clock();
      const long r = do_mmap(mm, addr, pages_ * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, rig_.file(), 0);
      BUG_ON(r < 0);
      hm.record(local_clock() - t0);
      return_to_user();
      t0 = local_clock();
      for (unsigned long j = 0; j < touch_; j++) {
        unsigned long val = (static_cast<unsigned long>(cpu) << 32) | static_cast<unsigned long>(i);
        if (user_access(mm, addr + j * stride * PAGE_SIZE, write_, &val, nullptr) == USER_NOMEM)
          report_check("oom", "mmap-munmap ran out of memory (its frame count is too small)", true);
      }
      ht.record(local_clock() - t0);
      t0 = local_clock();
      do_munmap(mm, addr, pages_ * PAGE_SIZE);
      hu.record(local_clock() - t0);
      return_to_user();
      ++done_;
    }
    const Cycles now = local_clock();
    if (now > end_) end_ = now;
  }

  Machine* m_ = nullptr;
  PerCpuFileRig rig_;
  unsigned long pages_ = 0, touch_ = 0;
  std::int64_t iterations_ = 0;
  bool write_ = false, threads_ = false;
  std::uint64_t done_ = 0;
  Cycles end_ = 0;
};

const WorkloadRegistrar reg({
    "mmap-munmap",
    "map / touch / unmap microbenchmark on a cached file: cycles per mmap and munmap, TLB shootdowns",
    with_mm_knobs({
        {"pages", "64", {}, 1, 1 << 20, "pages per mapping (and file size)"},
        {"touch", "16", {}, 0, 1 << 20, "pages touched per mapping, spread evenly"},
        {"iterations", "50", {}, 1, 10000000, "map / touch / unmap cycles per task"},
        {"write", "off", {"on", "off"}, 0, 0, "stores instead of loads"},
        {"threads", "off", {"on", "off"}, 0, 0, "all tasks are threads of one process (shootdowns to each other)"},
    }),
    [] { return std::make_unique<MmapMunmap>(); },
});

}  // namespace
}  // namespace smpemu
