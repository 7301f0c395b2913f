// rmap-stress: rmap walks of one fork family's pages against the family's forks,
// faults and exits, under the four anon_vma lock models (seed 000: Ingo Molnar's 3.8
// rwsem, whose point was many walkers on one family at once; seed 003).
//
// A parent process maps `pages` anonymous pages and stores into each. Every round it
// forks `children` children, which read every page (setting accessed bits), store into
// every `cow_every`-th page (a COW copy under the child's own anon_vma), think, and
// exit. Meanwhile `walkers` reclaim-like tasks, one per CPU from the last one down, call
// page_referenced on the parent's pages and on the children's COW copies (taking a
// page reference first, as reclaim isolates a page) until the parent is done (or
// `walks` times): every walk takes the family's root anon_vma lock in the model of knob
// anon_lock, while forks (anon_vma_fork), COW faults and exits (unlink_anon_vmas) take
// it for writing, and exits free the children's anon_vmas under the walkers' feet.
//
// With `child_mremap=on` each child then grows its window with mremap after mapping a
// page in the way, so the window moves (copy_vma, the ptes moved under the anon_vma
// lock) while the walkers walk the family, and reads it back at its new place.
//
// Under a frame limit (knob frames), reclaim walks the family too: the children's
// faults reclaim (page_referenced, try_to_unmap) the family's pages and fault them back.
//
// Histograms: `rmap_walk` (cycles of a page_referenced), `fork`, `exit`. Metrics:
// rmap_walks, rmap_vmas_visited, cycles_per_walk, rmap_max_walkers (most walkers inside
// the family's lock at once: above 1 only with anon_lock=rwsem), anon_lock_wait_share
// (the share of all CPUs' time spent waiting for the anon_vma lock), anon_vma_free_waits.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "emu/rng.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/sched.h"
#include "mm/rmap_walk.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kBase = PerCpuMms::kBase;

class RmapStress final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    rounds_ = k.integer("rounds");
    children_ = static_cast<int>(k.integer("children"));
    walkers_ = static_cast<int>(k.integer("walkers"));
    cow_every_ = static_cast<unsigned long>(k.integer("cow_every"));
    think_ = static_cast<Cycles>(k.integer("think"));
    walks_ = k.integer("walks");
    child_mremap_ = k.str("child_mremap") == "on";
    if (walkers_ >= m.ncpus())
      throw ConfigError("rmap-stress: walkers=" + std::to_string(walkers_) + " needs more than " +
                        std::to_string(walkers_) + " CPUs (the parent runs on CPU 0; this run has " +
                        std::to_string(m.ncpus()) + ")");
    const unsigned long procs = static_cast<unsigned long>(children_) + 1;
    const unsigned long data = pages_ * (procs + 1) + 1;
    const unsigned long tables = procs * page_table_frames(kBase, pages_ * PAGE_SIZE);
    env_.setup(m, k, mm_frames(data, procs, tables), tables);
    init_completion_on(&m, &ready_);
    m.spawn("parent", 0, [this] { parent(); });
    for (int w = 0; w < walkers_; w++)
      m.spawn("walker/" + std::to_string(w), static_cast<CpuId>(m.ncpus() - 1 - w), [this, w] { walker(w); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    const vm_stats& s = env_.vm().stats;
    out["rmap_walks"] = static_cast<double>(s.rmap_walks);
    out["rmap_vmas_visited"] = static_cast<double>(s.rmap_vmas_visited);
    out["rmap_max_walkers"] = static_cast<double>(s.rmap_max_walkers);
    out["cycles_per_walk"] = mean_of(m.histogram("rmap_walk"));
    out["cycles_per_fork"] = mean_of(m.histogram("fork"));
    const Histogram& wait = m.histogram("lock.anon_vma.wait");
    const double cpu_cycles = static_cast<double>(m.now()) * m.ncpus();
    out["anon_lock_wait_share"] = cpu_cycles > 0 ? static_cast<double>(wait.sum()) / cpu_cycles : 0;
  }

 private:
  // What the walkers scan: the parent's pages, then the children's COW copies as they
  // appear (a page may be freed and reused meanwhile: reclaim meets that too).
  std::vector<struct page*> targets_;

  void child(mm_struct* mm, std::int64_t round, unsigned long who) {
    load_pages(mm, kBase, pages_);
    return_to_user();
    for (unsigned long i = 0; i < pages_; i += cow_every_) {
      unsigned long val = (who << 40) | (static_cast<unsigned long>(round) << 20) | (i + 1);
      user_access(mm, kBase + i * PAGE_SIZE, true, &val, nullptr);
      const pteval_t pte = peek_pte(mm, kBase + i * PAGE_SIZE);  // host side: the copy, for the walkers
      if (pte_present(__pte(pte))) targets_.push_back(pfn_to_page(mm->mem, pte_pfn(__pte(pte))));
    }
    if (child_mremap_) {
      // something in the way, then grow: the window moves (its ptes under the anon_vma
      // lock, while the walkers walk the family), and is read back where it went
      do_mmap(mm, kBase + pages_ * PAGE_SIZE, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr,
              0);
      const long to = do_mremap(mm, kBase, pages_ * PAGE_SIZE, 2 * pages_ * PAGE_SIZE, MREMAP_MAYMOVE, 0);
      if (to < 0) report_check("oom", "rmap-stress: mremap failed (its frame count is too small)", true);
      if (to > 0) load_pages(mm, static_cast<unsigned long>(to), 2 * pages_);
      return_to_user();
    }
    user_think(think_);
    const Cycles t0 = local_clock();
    mmput(mm);
    m_->histogram("exit").record(local_clock() - t0);
  }

  void parent() {
    mm_struct* mm = anon_family_parent(env_, kBase, pages_, [](unsigned long i) { return i + 1; });
    for (unsigned long i = 0; i < pages_; i++)  // host side: what the walkers scan
      targets_.push_back(pfn_to_page(mm->mem, pte_pfn(__pte(peek_pte(mm, kBase + i * PAGE_SIZE)))));
    complete_all(&ready_);
    const int spread = std::max(1, m_->ncpus() - walkers_);  // children on CPUs 0 .. ncpus-walkers-1
    for (std::int64_t r = 1; r <= rounds_; r++) {
      std::vector<task_struct*> kids;
      for (int j = 0; j < children_; j++) {
        const unsigned long who = static_cast<unsigned long>(j) + 1;
        task_struct* t = fork_child(mm, j % spread, "child/" + std::to_string(j),
                                    [this, r, who](mm_struct* child_mm) { child(child_mm, r, who); });
        if (!t) break;
        kids.push_back(t);
        return_to_user();
      }
      for (task_struct* t : kids) kthread_join(t);
      // keep the scan list to the parent's pages plus this round's copies
      targets_.resize(std::min<std::size_t>(targets_.size(), pages_));
    }
    done_ = true;
    load_pages(mm, kBase, pages_);  // the oracle checks every value
  }

  void walker(int w) {
    wait_for_completion(&ready_);
    Rng rng = m_->rng("rmap-stress.walker/" + std::to_string(w));
    Histogram& walk = m_->histogram("rmap_walk");
    // bounded, so a schedule that starves the parent (PCT) still ends
    for (std::int64_t n = 0; n < walks_ && !done_; n++) {
      struct page* page = targets_[rng.below(targets_.size())];
      if (get_page_unless_zero(page)) {
        const Cycles t0 = local_clock();
        page_referenced(page);
        walk.record(local_clock() - t0);
        put_page(page);
      }
      cond_resched();
    }
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  completion ready_;
  unsigned long pages_ = 0, cow_every_ = 1;
  std::int64_t rounds_ = 0, walks_ = 0;
  int children_ = 0, walkers_ = 0;
  Cycles think_ = 0;
  bool done_ = false, child_mremap_ = false;
};

const WorkloadRegistrar reg({
    "rmap-stress",
    "rmap walks (page_referenced) of one fork family's pages against its forks, COW faults and exits; walk "
    "cycles and anon_vma lock wait under anon_lock=spin|mutex|trylock|rwsem",
    with_mm_knobs({
        {"pages", "32", {}, 1, 1 << 16, "anonymous pages the parent maps"},
        {"rounds", "4", {}, 1, 100000, "fork / touch / exit rounds"},
        {"children", "6", {}, 1, 1024, "children forked per round"},
        {"walkers", "2", {}, 1, 1023, "reclaim-like tasks walking the rmap (on the last CPUs)"},
        {"cow_every", "4", {}, 1, 1 << 16, "a child stores into every n-th page (a COW copy)"},
        {"think", "20000", {}, 0, 100000000, "cycles a child thinks before it exits"},
        {"child_mremap", "off", {"on", "off"}, 0, 0,
         "each child then grows its window with mremap, which moves it (a page is mapped in the way)"},
        {"walks", "2000", {}, 1, 100000000, "page_referenced calls per walker at most (it stops when the parent is done)"},
    }),
    [] { return std::make_unique<RmapStress>(); },
});

}  // namespace
}  // namespace smpemu
