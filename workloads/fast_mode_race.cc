// fast-mode-race: the mmu_gather's single-CPU fast mode meeting the preemptible gather
// (seed 001's preemptible mmu_gather; the bug fixed in 2013 by "arch, mm: Remove
// tlb_fast_mode()").
//
// One process; every CPU runs `threads` of its threads. Thread 0 (on CPU 0) maps a
// private window of `pages` pages of a cached file and, `rounds` times, stores to every
// page (each store to a file page makes a private COW copy), drops the window with
// madvise(MADV_DONTNEED), a zap through the mmu_gather that frees those copies, and
// sleeps `pause` cycles. The
// other threads load a random page of the window and sleep a random time up to `pause`
// (a timer sleep: each wakeup preempts thread 0 at its next preemption point), in a loop.
//
// With one CPU and tlb_fast_mode=on the gather frees each copy when its pte is cleared,
// before the TLB flush. Under mmu_gather=percpu that is safe: preemption is off from
// gather to finish, so no other thread can run on the only CPU before the flush. Under
// mmu_gather=preemptible (with --preempt full, or voluntary, where unmap_vmas
// reschedules between blocks) thread 0 can be switched out between the free and the
// flush, and a sibling on the same CPU loads through the TLB entry it still has for the
// freed frame: a fatal use-after-free-frame report. With more CPUs, fast mode is off
// (as in Linux) and the workload exercises the gathers' batching and flushes.
//
// Metrics: rounds, loads, and the mm and MMU counters (gather_batches with the
// preemptible gather).
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

constexpr unsigned long kWindow = 0x200000000UL;

class FastModeRace final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    rounds_ = k.integer("rounds");
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    pause_ = static_cast<Cycles>(k.integer("pause"));
    const int threads = static_cast<int>(k.integer("threads"));
    const int tasks = threads * m.ncpus();
    const unsigned long tables = page_table_frames(kWindow, pages_ * PAGE_SIZE);
    // The file, one COW copy per page, and the gathers' batch pages.
    env_.setup(m, k, mm_frames(2 * pages_ + 16, static_cast<unsigned long>(tasks), tables), tables);
    file_ = env_.add_file(pages_, pages_);
    init_completion_on(&m, &ready_);
    atomic_init_on(&mapped_, m.new_line(), 0);
    atomic_init_on(&stop_, m.new_line(), 0);
    m.spawn("fast-init", 0, [this, tasks] {
      env_.cache_file(file_);
      mm_ = env_.new_mm();
      BUG_ON(!mm_);
      mm_->mm_users.counter = tasks;  // the threads were cloned before the experiment
      complete_all(&ready_);
    });
    for (int c = 0; c < m.ncpus(); c++)
      for (int t = 0; t < threads; t++) {
        const int id = c * threads + t;
        rngs_.push_back(std::make_unique<Rng>(m.rng("workload.fast.t" + std::to_string(id))));
        m.spawn("thread/" + std::to_string(id), static_cast<CpuId>(c), [this, id] {
          wait_for_completion(&ready_);
          if (id == 0)
            zapper();
          else
            reader(*rngs_[static_cast<std::size_t>(id)]);
        });
      }
  }

  void finish(Machine&, Metrics& out, std::vector<BugReport>&) override {
    env_.metrics(out);
    out["rounds"] = static_cast<double>(rounds_done_);
    out["loads"] = static_cast<double>(loads_);
  }

 private:
  void access(unsigned long addr, bool write) {
    unsigned long val = 1;
    if (user_access(mm_, addr, write, &val, nullptr) == USER_NOMEM)
      report_check("oom", "fast-mode-race ran out of memory (its frame count is too small)", true);
  }

  void zapper() {
    const unsigned long len = pages_ * PAGE_SIZE;
    BUG_ON(do_mmap(mm_, kWindow, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, file_, 0) < 0);
    atomic_set(&mapped_, 1);
    for (std::int64_t r = 0; r < rounds_; r++) {
      for (unsigned long a = kWindow; a < kWindow + len; a += PAGE_SIZE) access(a, true);
      BUG_ON(do_madvise(mm_, kWindow, len, MADV_DONTNEED) != 0);
      rounds_done_++;
      sleep_until(local_clock() + pause_);  // lets the siblings on its CPU run
    }
    atomic_set(&stop_, 1);
  }

  void reader(Rng& rng) {
    atomic_cond_read_acquire(&mapped_, [](int v) { return v != 0; });
    while (!atomic_read(&stop_)) {
      access(kWindow + rng.below(pages_) * PAGE_SIZE, false);
      loads_++;
      // A timer sleep: the wakeup preempts thread 0 wherever it may be preempted.
      sleep_until(local_clock() + 1 + static_cast<Cycles>(rng.below(pause_ + 1)));
    }
  }

  MmEnv env_;
  address_space* file_ = nullptr;
  mm_struct* mm_ = nullptr;
  std::vector<std::unique_ptr<Rng>> rngs_;
  completion ready_;
  atomic_t mapped_{};  // thread 0 has mapped the window
  atomic_t stop_{};    // thread 0 is done
  std::int64_t rounds_ = 0;
  unsigned long pages_ = 0;
  Cycles pause_ = 0;
  unsigned long rounds_done_ = 0, loads_ = 0;
};

const WorkloadRegistrar reg({
    "fast-mode-race",
    "one thread stores to and zaps a private window while sibling threads load it (seed 001's preemptible "
    "mmu_gather): with --cpus 1, tlb_fast_mode=on under mmu_gather=preemptible is the planted bug",
    with_mm_knobs({
        {"pages", "32", {}, 1, 4096, "pages of the private window"},
        {"rounds", "50", {}, 1, 1000000, "store-everything + madvise(DONTNEED) rounds of thread 0"},
        {"threads", "2", {}, 1, 64, "threads per CPU (thread 0 on CPU 0 zaps, the others load)"},
        {"pause", "20000", {}, 0, 100000000, "cycles thread 0 sleeps after each round (the others sleep up to as long between loads)"},
    }),
    [] { return std::make_unique<FastModeRace>(); },
});

}  // namespace
}  // namespace smpemu
