// pgtable-free-race: page-table pages freed by munmap while lockless walkers run (seed
// 001's third batch, "delay freeing the page tables until everybody has stopped walking
// them", and the dubious mm_users shortcut of RCU table freeing).
//
// CPU 0 runs a single-threaded process: `rounds` times it maps a window of `pages` file
// pages at a 2 MB-aligned address (one pte table of its own), touches every page, and
// unmaps it, which frees the pte table (free_pgtables -> pte_free_tlb). CPU 1 runs the
// walker, which walks the window's page tables with IRQs off (mm/gup.h) in a loop:
//  - walker=gup (default): a second thread of the process (mm_users 2) doing
//    get_user_pages_fast, after touching a page of its own so its CPU is in the mm's
//    cpumask;
//  - walker=foreign: a coprocessor-style fault path (Cell SPE contexts in the thread)
//    walking the process's tables while holding only mm_count, so mm_users stays 1.
// A walk that reads a pte from a table that was freed meanwhile is a fatal
// use-after-free-pagetable report.
//
// What protects the walker: on ppc64-hash the RCU-sched grace period after which tables
// are freed (its IRQs-off walk holds it up), unless mm_users_shortcut=on frees the table
// of an mm with one user at once: the planted bug, found with walker=foreign. On x86 the
// shootdown IPI, which waits for the walker's IRQs-off region, but only reaches CPUs in
// the mm's cpumask: walker=gup is safe, walker=foreign (a CPU the mm never ran on) is
// not, which is why x86 has no such walkers.
//
// Metrics: rounds, walks, and the mm and MMU counters (tables_freed_now/rcu/ipi on
// ppc64-hash).
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/smp.h"
#include "mm/gup.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kWindow = 0x200000000UL;  // 2 MB aligned: the window has its own pte table

class PgtableFreeRace final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    if (m.ncpus() < 2) throw ConfigError("pgtable-free-race needs at least 2 CPUs (the owner and the walker)");
    rounds_ = k.integer("rounds");
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    pause_ = static_cast<Cycles>(k.integer("pause"));
    foreign_ = k.str("walker") == "foreign";
    const unsigned long tables = 2 * page_table_frames(kWindow, (pages_ + 1) * PAGE_SIZE);
    env_.setup(m, k, mm_frames(pages_ + 16, 2, tables), tables);
    file_ = env_.add_file(pages_, pages_);
    rng_ = std::make_unique<Rng>(m.rng("workload.pgtable.walker"));
    init_completion_on(&m, &ready_);
    atomic_init_on(&stop_, m.new_line(), 0);
    m.spawn("owner", 0, [this] { owner(); });
    m.spawn(foreign_ ? "spe-fault" : "gup-thread", 1, [this] { walker(); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["rounds"] = static_cast<double>(rounds_done_);
    out["walks"] = static_cast<double>(walks_);
  }

 private:
  void owner() {
    env_.cache_file(file_);
    mm_ = env_.new_mm();
    BUG_ON(!mm_);
    if (!foreign_) mmget(mm_);  // the second thread (clone(CLONE_VM) before the experiment)
    complete_all(&ready_);
    const unsigned long len = pages_ * PAGE_SIZE;
    for (std::int64_t r = 0; r < rounds_; r++) {
      BUG_ON(do_mmap(mm_, kWindow, len, PROT_READ, MAP_SHARED | MAP_FIXED, file_, 0) < 0);
      for (unsigned long a = kWindow; a < kWindow + len; a += PAGE_SIZE) {
        unsigned long v = 0;
        if (user_access(mm_, a, false, &v, nullptr) == USER_NOMEM)
          report_check("oom", "pgtable-free-race ran out of memory", true);
      }
      BUG_ON(do_munmap(mm_, kWindow, len) != 0);
      rounds_done_++;
      user_think(pause_);
    }
    atomic_set(&stop_, 1);
  }

  void walker() {
    wait_for_completion(&ready_);
    if (foreign_) {
      mmgrab(mm_);  // the SPE context's reference: mm_count, not mm_users
    } else {
      // A thread of the process: its own page (below the window) puts this CPU in the
      // mm's cpumask, as running the mm does.
      BUG_ON(do_mmap(mm_, kWindow - 2 * PMD_SIZE, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, file_, 0) < 0);
      unsigned long v = 0;
      user_access(mm_, kWindow - 2 * PMD_SIZE, false, &v, nullptr);
    }
    while (!atomic_read(&stop_)) {
      pte_t pte;
      (void)gup_fast_pte(mm_, kWindow + rng_->below(pages_) * PAGE_SIZE, &pte);
      walks_++;
      user_think(static_cast<Cycles>(rng_->below(pause_ / 4 + 1)));
    }
  }

  MmEnv env_;
  address_space* file_ = nullptr;
  mm_struct* mm_ = nullptr;
  std::unique_ptr<Rng> rng_;
  completion ready_;
  atomic_t stop_{};
  std::int64_t rounds_ = 0;
  unsigned long pages_ = 0;
  Cycles pause_ = 0;
  bool foreign_ = false;
  unsigned long rounds_done_ = 0, walks_ = 0;
};

const WorkloadRegistrar reg({
    "pgtable-free-race",
    "munmap frees page tables while a lockless IRQs-off walker runs (seed 001): a gup_fast thread, or a foreign "
    "walker holding only mm_count; with walker=foreign, mm_users_shortcut=on on ppc64-hash is the planted bug",
    with_mm_knobs({
        {"pages", "16", {}, 1, 512, "pages of the window (one pte table)"},
        {"rounds", "50", {}, 1, 1000000, "mmap + touch + munmap rounds of the owner"},
        {"pause", "4000", {}, 0, 100000000, "cycles between the owner's rounds (the walker pauses up to a quarter)"},
        {"walker", "gup", {"gup", "foreign"}, 0, 0,
         "gup: a second thread of the process; foreign: a coprocessor fault path holding only mm_count (unsafe on "
         "x86, and on ppc64-hash with mm_users_shortcut=on)"},
    }),
    [] { return std::make_unique<PgtableFreeRace>(); },
});

}  // namespace
}  // namespace smpemu
