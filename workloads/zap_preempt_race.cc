// zap-preempt-race: a zap preempted on its CPU while other tasks run there (seed 001's
// preemptible mmu_gather and preemptible lazy MMU mode).
//
// Thread 0 of one process (CPU 0) maps a private window of `pages` pages of a cached
// file and, `rounds` times, stores to every page (each store to a file page makes a
// private COW copy), drops the window with madvise(MADV_DONTNEED) (a zap through the
// mmu_gather that frees those copies), and sleeps `pause` cycles. Sibling tasks run on
// CPU 0 with it (`threads` - 1 of them); what they do is knob `siblings`:
//
//  - loaders (default): threads of thread 0's process (also `threads` on every other
//    CPU), loading a random page of its window and sleeping a random time up to `pause`
//    (a timer sleep: its wakeup preempts thread 0 at its next preemption point). With one
//    CPU and tlb_fast_mode=on the gather frees each copy when its pte is cleared, before
//    the TLB flush. Under mmu_gather=percpu that is safe (preemption is off from gather to
//    finish); under mmu_gather=preemptible thread 0 can be switched out between the free
//    and the flush, and a sibling loads through the TLB entry it still has for the freed
//    frame: use-after-free-frame (with --preempt full).
//  - cow (needs 2 CPUs): processes of their own, each with a private window of the same
//    file, that wait to be woken by a kicker task on the last CPU, which wakes a random
//    one after a random sleep up to `pause`: the reschedule IPI interrupts CPU 0
//    wherever it is and preempts thread 0 on the way out of the interrupt if it is
//    preemptible. Woken, a sibling loads a random page of its window (mapping the file
//    page read-only), and the next time stores to it: a COW break, whose
//    ptep_clear_flush changes a pte outside lazy MMU mode, and drops it again. On
//    --arch ppc64-hash with pte_lock=rt (PREEMPT_RT: thread 0's zap, lazy MMU mode
//    included, is preemptible), ctxsw_batch_flush=off leaves thread 0's hash batch
//    active on the CPU, the sibling's hpte_need_flush is batched instead of done, and the
//    new pte's preload inserts a second HPTE for the address: duplicate-hpte.
//
// Metrics: rounds, loads, cow_breaks, and the mm and MMU counters (gather_batches with
// the preemptible gather, lazy_mmu_switches on ppc64-hash).
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/smp.h"
#include "mm/madvise.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kWindow = 0x200000000UL;  // thread 0's window; a sibling's is kStride further per task
constexpr unsigned long kStride = 0x200000UL;     // one pte table (and pte lock, when split) per window

class ZapPreemptRace final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    rounds_ = k.integer("rounds");
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    pause_ = static_cast<Cycles>(k.integer("pause"));
    cow_ = k.str("siblings") == "cow";
    const int threads = static_cast<int>(k.integer("threads"));
    if (cow_ && m.ncpus() < 2) throw ConfigError("zap-preempt-race with siblings=cow needs at least 2 CPUs (the kicker)");
    const int tasks = cow_ ? threads : threads * m.ncpus();
    const auto n = static_cast<unsigned long>(tasks);
    // Each task's window has a pte table of its own: one pgd, pud and pmd per mm, a pte
    // table per window; the file, a COW copy per page of every window, batch pages.
    const unsigned long tables = (cow_ ? n : 1) * page_table_frames(kWindow, PAGE_SIZE) + n;
    env_.setup(m, k, mm_frames(pages_ + (cow_ ? n : 1) * pages_ + 16, n, tables), tables);
    file_ = env_.add_file(pages_, pages_);
    init_completion_on(&m, &ready_);
    kick_rng_ = std::make_unique<Rng>(m.rng("workload.zap.kicker"));
    atomic_init_on(&mapped_, m.new_line(), 0);
    atomic_init_on(&stop_, m.new_line(), 0);
    m.spawn("zap-init", 0, [this, tasks] {
      env_.cache_file(file_);
      mm_ = env_.new_mm();
      BUG_ON(!mm_);
      // The loaders were cloned before the experiment (CLONE_VM): one user each.
      mm_->mm_users.counter = cow_ ? 1 : tasks;
      complete_all(&ready_);
    });
    kicks_.resize(static_cast<std::size_t>(threads));
    for (completion& c : kicks_) init_completion_on(&m, &c);
    if (cow_) m.spawn("kicker", static_cast<CpuId>(m.ncpus() - 1), [this, threads] { kicker(threads); });
    for (int c = 0; c < (cow_ ? 1 : m.ncpus()); c++)
      for (int t = 0; t < threads; t++) {
        const int id = c * threads + t;
        rngs_.push_back(std::make_unique<Rng>(m.rng("workload.zap.t" + std::to_string(id))));
        m.spawn("task/" + std::to_string(id), static_cast<CpuId>(c), [this, id] {
          wait_for_completion(&ready_);
          Rng& rng = *rngs_[static_cast<std::size_t>(id)];
          if (id == 0)
            zapper();
          else if (cow_)
            cow_sibling(id, rng);
          else
            loader(rng);
        });
      }
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["rounds"] = static_cast<double>(rounds_done_);
    out["loads"] = static_cast<double>(loads_);
    out["cow_breaks"] = static_cast<double>(cow_breaks_);
  }

 private:
  void access(mm_struct* mm, unsigned long addr, bool write) {
    unsigned long val = 1;
    if (user_access(mm, addr, write, &val, nullptr) == USER_NOMEM)
      report_check("oom", "zap-preempt-race ran out of memory (its frame count is too small)", true);
  }

  // A timer sleep: the wakeup preempts whoever then runs on this CPU.
  void nap(Rng& rng) { sleep_until(local_clock() + 1 + static_cast<Cycles>(rng.below(pause_ + 1))); }

  void zapper() {
    const unsigned long len = pages_ * PAGE_SIZE;
    BUG_ON(do_mmap(mm_, kWindow, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, file_, 0) < 0);
    atomic_set(&mapped_, 1);
    for (std::int64_t r = 0; r < rounds_; r++) {
      for (unsigned long a = kWindow; a < kWindow + len; a += PAGE_SIZE) access(mm_, a, true);
      BUG_ON(do_madvise(mm_, kWindow, len, MADV_DONTNEED) != 0);
      rounds_done_++;
      sleep_until(local_clock() + pause_);  // lets the siblings on its CPU run
    }
    atomic_set(&stop_, 1);
  }

  void loader(Rng& rng) {
    atomic_cond_read_acquire(&mapped_, [](int v) { return v != 0; });
    while (!atomic_read(&stop_)) {
      access(mm_, kWindow + rng.below(pages_) * PAGE_SIZE, false);
      loads_++;
      nap(rng);
    }
  }

  void cow_sibling(int id, Rng& rng) {
    mm_struct* mm = env_.new_mm();
    BUG_ON(!mm);
    const unsigned long base = kWindow + static_cast<unsigned long>(id) * kStride;
    const unsigned long len = pages_ * PAGE_SIZE;
    BUG_ON(do_mmap(mm, base, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, file_, 0) < 0);
    completion* kick = &kicks_[static_cast<std::size_t>(id)];
    // Kicks that come while it works are dropped: each step starts with a wakeup.
    const auto wait_kick = [&] {
      wait_for_completion(kick);
      if (!atomic_read(&stop_)) reinit_completion(kick);
      return !atomic_read(&stop_);
    };
    for (;;) {
      const unsigned long a = base + rng.below(pages_) * PAGE_SIZE;
      if (!wait_kick()) break;
      access(mm, a, false);  // maps the file page read-only
      loads_++;
      if (!wait_kick()) break;
      access(mm, a, true);  // COW break: ptep_clear_flush, then the copy's pte
      cow_breaks_++;
      BUG_ON(do_madvise(mm, a, PAGE_SIZE, MADV_DONTNEED) != 0);  // back to the file page
    }
  }

  // Wakes a random sibling on CPU 0 (1 .. threads-1) after each random sleep; at the
  // end, all of them, so that they see stop_.
  void kicker(int threads) {
    Rng& rng = *kick_rng_;
    while (!atomic_read(&stop_)) {
      nap(rng);
      if (threads > 1) complete(&kicks_[1 + rng.below(static_cast<std::uint64_t>(threads - 1))]);
    }
    for (int i = 1; i < threads; i++) complete_all(&kicks_[static_cast<std::size_t>(i)]);
  }

  MmEnv env_;
  address_space* file_ = nullptr;
  mm_struct* mm_ = nullptr;
  std::vector<std::unique_ptr<Rng>> rngs_;
  std::unique_ptr<Rng> kick_rng_;
  std::deque<completion> kicks_;  // siblings=cow: one per sibling on CPU 0 (stable addresses)
  completion ready_;
  atomic_t mapped_{};  // thread 0 has mapped its window
  atomic_t stop_{};    // thread 0 is done
  std::int64_t rounds_ = 0;
  unsigned long pages_ = 0;
  Cycles pause_ = 0;
  bool cow_ = false;
  unsigned long rounds_done_ = 0, loads_ = 0, cow_breaks_ = 0;
};

const WorkloadRegistrar reg({
    "zap-preempt-race",
    "a zap preempted on its CPU while sibling tasks run there (seed 001): with --cpus 1, tlb_fast_mode=on under "
    "mmu_gather=preemptible (siblings=loaders), and on ppc64-hash ctxsw_batch_flush=off with pte_lock=rt "
    "(siblings=cow), are the planted bugs",
    with_mm_knobs({
        {"pages", "32", {}, 1, 4096, "pages of each private window"},
        {"rounds", "50", {}, 1, 1000000, "store-everything + madvise(DONTNEED) rounds of thread 0"},
        {"threads", "2", {}, 1, 64, "tasks per CPU (task 0 on CPU 0 zaps, the others are siblings; cow: CPU 0 only)"},
        {"siblings", "loaders", {"loaders", "cow"}, 0, 0,
         "loaders: threads loading thread 0's window; cow: processes breaking COW in windows of their own, woken "
         "by a kicker on the last CPU"},
        {"pause", "20000", {}, 0, 100000000,
         "cycles thread 0 sleeps after each round (the siblings sleep up to as long between steps)"},
    }),
    [] { return std::make_unique<ZapPreemptRace>(); },
});

}  // namespace
}  // namespace smpemu
