// hash-flush-race: the race of seed 001's hash flush rule (Benjamin Herrenschmidt: "we
// must flush before the pte_lock is released"), on --arch ppc64-hash.
//
// Every CPU runs one thread of one process; all of them use one shared file window of
// `pages` pages. Thread 0 changes the window's ptes in a loop: madvise(MADV_DONTNEED)
// (a zap through the mmu_gather) and a pause. The other threads load and store random pages of the window
// all the time, faulting ptes back in. (With mprotect=on each round also mprotects the
// window read-only and back; see docs/MM.md for what that finds.) With hash_flush=leave_lazy a pte's HPTE is
// invalidated before its pte lock is released; with hash_flush=tlb_flush_only it stays
// valid until tlb_flush() or flush_tlb_range() after the release, and a thread whose store
// meets the old read-only HPTE faults a new pte in and hash_page (or the preload after the
// fault) inserts a second HPTE for the address: duplicate-hpte. The eager oracles
// hash-batch-pending and stale-hpte fire at the first release either way; leave them out
// with --ignore-check to see how often the consequence itself is reached.
//
// On another --arch the workload runs the same mm work (the x86 TLB flushes after the
// lock as Linux's x86 does, which is correct there: no second-level table to duplicate).
//
// Metrics: changes (thread 0's pte changes), accesses (the others'), and the mm and MMU
// counters.
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

class HashFlushRace final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    rounds_ = k.integer("rounds");
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    pause_ = static_cast<Cycles>(k.integer("pause"));
    mprotect_ = k.str("mprotect") == "on";
    atomic_init_on(&mapped_, m.new_line(), 0);
    atomic_init_on(&stop_, m.new_line(), 0);
    for (int c = 0; c < m.ncpus(); c++) rngs_.push_back(std::make_unique<Rng>(m.rng("workload.hash.t" + std::to_string(c))));
    rig_.setup(m, k, pages_, pages_ + 16, true, "hash-init", "thread",
               [this](int cpu, mm_struct* mm, unsigned long) { thread(cpu, mm); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    rig_.env().finish(m, out, bugs);
    out["changes"] = static_cast<double>(changes_);
    out["accesses"] = static_cast<double>(accesses_);
  }

 private:
  unsigned long base() const { return PerCpuMms::kBase; }

  void access(mm_struct* mm, unsigned long addr, bool write) {
    unsigned long val = 1;
    const int r = user_access(mm, addr, write, &val, nullptr);
    if (r == USER_NOMEM) report_check("oom", "hash-flush-race ran out of memory (its frame count is too small)", true);
    accesses_++;
  }

  void thread(int cpu, mm_struct* mm) {
    const unsigned long len = pages_ * PAGE_SIZE;
    if (cpu == 0) {
      const long r = do_mmap(mm, base(), len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, rig_.file(), 0);
      BUG_ON(r < 0);
      atomic_set(&mapped_, 1);
      for (std::int64_t i = 0; i < rounds_; i++) {
        BUG_ON(do_madvise(mm, base(), len, MADV_DONTNEED) != 0);
        user_think(pause_);
        changes_++;
        if (mprotect_) {
          BUG_ON(sys_mprotect(mm, base(), len, PROT_READ) != 0);
          user_think(pause_);
          BUG_ON(sys_mprotect(mm, base(), len, PROT_READ | PROT_WRITE) != 0);
          user_think(pause_);
          changes_ += 2;
        }
        return_to_user();
      }
      atomic_set(&stop_, 1);
      return;
    }
    atomic_cond_read_acquire(&mapped_, [](int v) { return v != 0; });
    Rng& rng = *rngs_[static_cast<std::size_t>(cpu)];
    while (!atomic_read(&stop_)) {
      const unsigned long addr = base() + rng.below(pages_) * PAGE_SIZE;
      access(mm, addr, false);
      access(mm, addr, true);  // a store after a load: through a read-only HPTE first
      user_think(static_cast<Cycles>(rng.below(pause_ + 1)));
    }
  }

  Machine* m_ = nullptr;
  PerCpuFileRig rig_;
  std::int64_t rounds_ = 0;
  unsigned long pages_ = 0;
  Cycles pause_ = 0;
  bool mprotect_ = false;
  std::vector<std::unique_ptr<Rng>> rngs_;
  atomic_t mapped_{};  // thread 0 has mapped the window
  atomic_t stop_{};    // thread 0 is done
  unsigned long changes_ = 0, accesses_ = 0;
};

const WorkloadRegistrar reg({
    "hash-flush-race",
    "seed 001's hash flush rule: one thread zaps and mprotects a shared window while the others load and store "
    "it (run with --arch ppc64-hash; hash_flush=tlb_flush_only is the planted bug)",
    with_mm_knobs({
        {"pages", "8", {}, 1, 4096, "pages of the shared window"},
        {"rounds", "50", {}, 1, 1000000, "change rounds of thread 0: madvise(DONTNEED) (+ mprotect ro, rw)"},
        {"mprotect", "off", {"on", "off"}, 0, 0,
         "each round also mprotects the window read-only and back (docs/MM.md: reports duplicate-hpte under "
         "leave_lazy too)"},
        {"pause", "3000", {}, 0, 100000000, "cycles thread 0 pauses after each change (and the others' mean pause)"},
    }),
    [] { return std::make_unique<HashFlushRace>(); },
});

}  // namespace
}  // namespace smpemu
