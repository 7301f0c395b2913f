// tlb-shootdown: what one TLB flush costs as more CPUs run the same mm (the measurement
// of Nadav Amit, LKML May 2019, "x86/mm/tlb: flush remote and local TLBs concurrently":
// one thread madvise(MADV_DONTNEED)s one page and touches it again, in a loop, while
// other threads of the same process run on other CPUs).
//
// Every CPU runs one thread of one process. Thread 0 maps one page of a cached file
// and, `iterations` times, drops it with madvise(MADV_DONTNEED) (a zap through the
// mmu_gather: one TLB flush of one page) and touches it again (a minor fault). The
// other threads each map and touch a page of their own, so their CPUs are in the mm's
// cpu_vm_mask, then spin with IRQs on until thread 0 is done, taking every flush's IPI
// as soon as it arrives. Run it with --cpus 1, 2, 4, 8 for 0, 1, 3, 7 remote CPUs.
//
// Metrics: shootdown_cycles, the mean cycles of a TLB flush of thread 0 from its call
// to its return (its local invalidation, the IPIs and the wait for every remote CPU's
// ack); shootdown_ns, the same in nanoseconds at the machine's clock;
// iteration_cycles, the mean cycles of one madvise + touch (Nadav Amit's figure). On
// xeon80 the first remote CPU adds about 2,000 cycles and each further one a few
// hundred (docs/ENGINE.md, "TLB shootdown"). Histogram `iteration`.
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/smp.h"
#include "mm/madvise.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

class TlbShootdown final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    iterations_ = k.integer("iterations");
    atomic_init_on(&ready_, m.new_line(), 0);
    atomic_init_on(&stop_, m.new_line(), 0);
    rig_.setup(m, k, 1, 1, true, "shootdown-init", "thread",
               [this](int cpu, mm_struct* mm, unsigned long addr) { thread(cpu, mm, addr); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    rig_.env().finish(m, out, bugs);
    const double calls = out["flush_calls"];
    const double cycles = calls > 0 ? out["flush_cycles"] / calls : 0;
    out["shootdown_cycles"] = cycles;
    out["shootdown_ns"] = cycles * 1e9 / static_cast<double>(m.costs().clock_hz);
    out["iteration_cycles"] = mean_of(m.histogram("iteration"));
  }

 private:
  void touch(mm_struct* mm, unsigned long addr) {
    unsigned long val = 0;
    if (user_access(mm, addr, false, &val, nullptr) == USER_NOMEM)
      report_check("oom", "tlb-shootdown ran out of memory (its frame count is too small)", true);
  }

  void thread(int cpu, mm_struct* mm, unsigned long addr) {
    const long r = do_mmap(mm, addr, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, rig_.file(), 0);
    BUG_ON(r < 0);
    touch(mm, addr);  // this CPU now caches a translation of the mm: it is in cpu_vm_mask
    if (cpu != 0) {
      atomic_inc(&ready_);
      atomic_cond_read_acquire(&stop_, [](int v) { return v != 0; });
      return;
    }
    // Measure only once every other CPU is in the mm's mask.
    const int others = m_->ncpus() - 1;
    atomic_cond_read_acquire(&ready_, [others](int v) { return v == others; });
    Histogram& h = m_->histogram("iteration");
    for (std::int64_t i = 0; i < iterations_; i++) {
      const Cycles t0 = local_clock();
      BUG_ON(do_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED) != 0);
      touch(mm, addr);
      h.record(local_clock() - t0);
      return_to_user();
    }
    atomic_set(&stop_, 1);
  }

  Machine* m_ = nullptr;
  PerCpuFileRig rig_;
  std::int64_t iterations_ = 0;
  atomic_t ready_{};  // threads other than 0 that have touched their page
  atomic_t stop_{};   // set by thread 0 when it is done
};

const WorkloadRegistrar reg({
    "tlb-shootdown",
    "madvise(DONTNEED) + touch of one page while the mm's other threads run elsewhere: cycles per TLB shootdown",
    with_mm_knobs({
        {"iterations", "200", {}, 1, 10000000, "madvise + touch rounds of thread 0"},
    }),
    [] { return std::make_unique<TlbShootdown>(); },
});

}  // namespace
}  // namespace smpemu
