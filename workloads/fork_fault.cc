// fork-fault: fork, COW faults and exit on anonymous memory (seeds 000 and 003: the
// fork-and-fault load Mel Gorman ran next to compaction; docs/MM.md, "Anonymous memory
// and rmap").
//
// A parent process maps `pages` anonymous pages and stores into each. Every round it
// forks `children` children (dup_mm: the vma copied with its anon_vma chains, every pte
// write-protected in both, counts raised), each on its own CPU. A child stores its own
// value into every page (a COW fault each: a copy under the child's own anon_vma),
// reads every page back and exits (mmput: exit_mmap unlinks its anon_vmas, which go
// back to the slab, free to be reused within the grace period). Meanwhile the parent
// stores into its pages too (`parent_writes=on`: COW copies while a child still shares
// a page, reuse once it is the only mapper), joins the children and reads every page
// back. The shadow-memory oracle checks every load: a child's store must never reach
// the parent or a sibling (wp_reuse=always plants exactly that bug).
//
// Histograms: `fork` (cycles of dup_mm), `cow_fault` (cycles of a store that faulted),
// `exit` (cycles of the child's mmput). Metrics: cycles_per_fork, cycles_per_cow_fault,
// cycles_per_exit, and the vm statistics (forks, ptes_copied, anon_vmas_reused, ...).
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/sched.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kBase = PerCpuMms::kBase;

class ForkFault final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    rounds_ = k.integer("rounds");
    children_ = static_cast<int>(k.integer("children"));
    parent_writes_ = k.str("parent_writes") == "on";
    const unsigned long procs = static_cast<unsigned long>(children_) + 1;
    // every process's copy at once, the parent's own copies, the zero page
    const unsigned long data = pages_ * (procs + 1) + 1;
    const unsigned long tables = procs * page_table_frames(kBase, pages_ * PAGE_SIZE);
    env_.setup(m, k, mm_frames(data, procs, tables), tables);
    m.spawn("parent", 0, [this] { parent(); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["cycles_per_fork"] = mean_of(m.histogram("fork"));
    out["cycles_per_cow_fault"] = mean_of(m.histogram("cow_fault"));
    out["cycles_per_exit"] = mean_of(m.histogram("exit"));
  }

 private:
  static unsigned long value(unsigned long who, std::int64_t round, unsigned long page) {
    return (who << 40) | (static_cast<unsigned long>(round) << 24) | (page + 1);
  }

  // Stores `who`'s value of `round` into every page, timing the faulting ones.
  void store_all(mm_struct* mm, unsigned long who, std::int64_t round) {
    touch_pages(
        mm, kBase, pages_, true, [who, round](unsigned long i) { return value(who, round, i); },
        &m_->histogram("cow_fault"), "fork-fault");
    return_to_user();
  }

  void load_all(mm_struct* mm) {
    load_pages(mm, kBase, pages_);  // the oracle checks every value
    return_to_user();
  }

  void child(mm_struct* mm, unsigned long who, std::int64_t round) {
    store_all(mm, who, round);
    load_all(mm);
    const Cycles t0 = local_clock();
    mmput(mm);  // exit
    m_->histogram("exit").record(local_clock() - t0);
  }

  void parent() {
    mm_struct* mm = anon_family_parent(env_, kBase, pages_, [](unsigned long i) { return value(0, 0, i); });
    const int ncpus = m_->ncpus();
    for (std::int64_t r = 1; r <= rounds_; r++) {
      std::vector<task_struct*> kids;
      for (int j = 0; j < children_; j++) {
        const unsigned long who = static_cast<unsigned long>(j) + 1;
        task_struct* t = fork_child(mm, ncpus > 1 ? 1 + j % (ncpus - 1) : 0, "child/" + std::to_string(j),
                                    [this, who, r](mm_struct* child_mm) { child(child_mm, who, r); });
        if (!t) break;
        kids.push_back(t);
        return_to_user();
      }
      if (parent_writes_) store_all(mm, 0, r);
      for (task_struct* t : kids) kthread_join(t);
      load_all(mm);
    }
    mmput(mm);
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  unsigned long pages_ = 0;
  std::int64_t rounds_ = 0;
  int children_ = 0;
  bool parent_writes_ = true;
};

const WorkloadRegistrar reg({
    "fork-fault",
    "fork children that store into the parent's anonymous pages (COW faults) and exit; cycles per fork, COW "
    "fault and exit",
    with_mm_knobs({
        {"pages", "64", {}, 1, 1 << 18, "anonymous pages the parent maps"},
        {"rounds", "4", {}, 1, 100000, "fork / fault / exit rounds"},
        {"children", "2", {}, 1, 1024, "children forked per round (on CPUs 1.., round robin)"},
        {"parent_writes", "on", {"on", "off"}, 0, 0, "the parent stores into its pages while the children run"},
    }),
    [] { return std::make_unique<ForkFault>(); },
});

}  // namespace
}  // namespace smpemu
