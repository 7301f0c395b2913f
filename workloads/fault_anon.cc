// fault-anon: the anonymous twin of fault-file, a page-fault microbenchmark on private
// anonymous memory (the "fault" test of seed 001 asked for anonymous and file faults;
// docs/MM.md, "Anonymous memory and rmap").
//
// One task per CPU maps an anonymous window of `pages` pages (each task in its own
// process, or with `threads=on` all tasks as threads of one), touches every page once
// (a store: do_anonymous_page allocates a zeroed page under the vma's anon_vma; a load
// with `write=off`: the zero page is mapped read-only), reads every page back (the
// shadow-memory oracle checks each value), unmaps the window and repeats `rounds` times.
// What it measures: the anonymous fault path's own cost and contention (page allocation
// and clearing, anon_vma_prepare once per vma, the pte lock, mmap_sem).
//
// Histograms: `fault` (cycles of a faulting access, trap to retry included), `munmap`.
// Metrics: cycles_per_fault (mean), faults_per_mcycle, and the vm statistics.
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

class FaultAnon final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    rounds_ = k.integer("rounds");
    write_ = k.str("write") == "on";
    threads_ = k.str("threads") == "on";
    const unsigned long tasks = static_cast<unsigned long>(m.ncpus());
    // every task's window at once, plus the zero page
    rig_.setup(
        m, k, pages_, write_ ? pages_ * tasks + 1 : 1, threads_, "fa-init", "faulter",
        [this](int cpu, mm_struct* mm, unsigned long addr) { faulter(cpu, mm, addr); }, false);
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
      const long got = do_mmap(mm, addr, pages_ * PAGE_SIZE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0);
      if (got != static_cast<long>(addr)) report_check("oom", "fault-anon: mmap failed", true);
      const auto value = [cpu, r](unsigned long i) {
        return (static_cast<unsigned long>(cpu) << 32) | (static_cast<unsigned long>(r) << 20) | (i + 1);
      };
      touch_pages(mm, addr, pages_, write_, value, &fault, "fault-anon");
      return_to_user();
      load_pages(mm, addr, pages_);  // the oracle checks every value
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
  bool write_ = true, threads_ = false;
  Cycles end_ = 0;
};

const WorkloadRegistrar reg({
    "fault-anon",
    "fault microbenchmark: every CPU maps an anonymous window, faults each page in, reads it back, unmaps; "
    "cycles per fault",
    with_mm_knobs({
        {"pages", "256", {}, 1, 1 << 20, "pages per window"},
        {"rounds", "4", {}, 1, 1000000, "map / fault everything / unmap rounds per task"},
        {"write", "on", {"on", "off"}, 0, 0, "store (a new zeroed page) or load (the zero page)"},
        {"threads", "off", {"on", "off"}, 0, 0, "all tasks are threads of one process (one mm)"},
    }),
    [] { return std::make_unique<FaultAnon>(); },
});

}  // namespace
}  // namespace smpemu
