// numa-memset: NUMA balancing's hinting faults piling onto one anon_vma lock (seed 000:
// Ingo Molnar's profile of the 3.8 NUMA balancing in the "sched/numa" thread, and Mel
// Gorman's conversion of the anon_vma lock to an rwsem; docs/MM.md, "NUMA balancing").
//
// One thread on CPU 0 maps a shared anonymous area of `pages` pages and stores into each,
// so every page starts on node 0. Then one thread per CPU (CPU 0's is the first thread)
// memsets its part of the area `loops` times. With NUMA balancing on, the threads run
// task_numa_work on their way back to user mode: once per scan period one of them marks
// the next `numa_scan_size` pages for hinting faults, and a hinting fault on a page of a
// thread on another node migrates the page there (do_numa_page, mm/numa.h). Every
// migration walks the one anon_vma of the area twice (try_to_unmap, then
// remove_migration_ptes): with anon_lock=mutex the faulting threads queue on its mutex,
// with anon_lock=rwsem (3.8) they share it.
//
// Metrics: memset_pages_per_mcycle (page memsets per million cycles of the memset phase),
// fraction_local (pages on the node of the thread whose part they are, at the end),
// numa_pages_migrated and the other numa_* counters, and in every run the wait profile
// (traces/wait_profile.h: blocked.* and spin.*, the share of all CPU time spent waiting
// per lock class and call path). Histogram `memset_pass` (one thread's pass over its
// part).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/sched.h"
#include "kernel/topology.h"
#include "mm/numa.h"
#include "mm/page_alloc.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kBase = PerCpuMms::kBase;

class NumaMemset final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    loops_ = k.integer("loops");
    const unsigned long nodes = numa_nodes_for(m, "numa-memset", pages_);
    const unsigned long tables = page_table_frames(kBase, pages_ * PAGE_SIZE);
    env_.setup(m, k, nodes * (pages_ + tables + 64), tables);
    m.spawn("init", 0, [this] { init(); });
  }

  bool wants_wait_profile() const override { return true; }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["fraction_local"] = fraction_local_;
    const double phase = static_cast<double>(end_ > start_ ? end_ - start_ : 1);
    out["memset_pages_per_mcycle"] = static_cast<double>(memsets_) * 1e6 / phase;
    out["cycles_per_memset_pass"] = mean_of(m.histogram("memset_pass"));
  }

 private:
  // The CPU whose part page `i` is in.
  int owner_of(unsigned long i) const {
    const unsigned long part = pages_ / static_cast<unsigned long>(m_->ncpus());
    return static_cast<int>(std::min(i / part, static_cast<unsigned long>(m_->ncpus() - 1)));
  }

  // Where the pages are: the share on the node of the thread whose part they are (a
  // host walk of the page tables, no sync points).
  double fraction_local() {
    unsigned long local = 0, mapped = 0;
    const phys_mem& mem = env_.mem();
    for_each_pte_host(&mem, mm_, [&](unsigned long addr, pte_t pte) {
      if (!pte_present(pte) || addr < kBase || addr >= kBase + pages_ * PAGE_SIZE) return;
      mapped++;
      const int owner = owner_of((addr - kBase) >> PAGE_SHIFT);
      if (mem.pages[pte_pfn(pte)].nid == cpu_to_node(&mem, owner)) local++;
    });
    return mapped ? static_cast<double>(local) / static_cast<double>(mapped) : 0;
  }

  void worker(int w) {
    const unsigned long part = pages_ / static_cast<unsigned long>(m_->ncpus());
    const unsigned long first = static_cast<unsigned long>(w) * part;
    const unsigned long len = w == m_->ncpus() - 1 ? pages_ - first : part;
    for (std::int64_t l = 0; l < loops_; l++) {
      const Cycles t0 = local_clock();
      for (unsigned long i = first; i < first + len; i++) {
        unsigned long val = (static_cast<unsigned long>(w + 1) << 40) | (static_cast<unsigned long>(l) << 24) | (i + 1);
        if (user_access(mm_, kBase + i * PAGE_SIZE, true, &val, nullptr, kMemsetPageCycles) == USER_NOMEM)
          report_check("oom", "numa-memset ran out of memory (its frame count is too small)", true);
        memsets_++;
      }
      m_->histogram("memset_pass").record(local_clock() - t0);
      task_numa_work(mm_);  // task_work on the way back to user mode
      return_to_user();
    }
    end_ = std::max(end_, local_clock());
    load_pages(mm_, kBase + first * PAGE_SIZE, len);  // the oracle checks each page's last value
  }

  void init() {
    mm_ = env_.new_mm();
    if (!mm_ || do_mmap(mm_, kBase, pages_ * PAGE_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0) != static_cast<long>(kBase)) {
      report_check("oom", "numa-memset's mapping failed", true);
      return;
    }
    const int ncpus = m_->ncpus();
    mm_->mm_users.counter = ncpus;  // the workers are threads (CLONE_VM) from the start
    touch_pages(mm_, kBase, pages_, true, [](unsigned long i) { return i + 1; }, nullptr, "numa-memset");
    return_to_user();
    start_ = local_clock();
    std::vector<std::string> names;
    for (int w = 1; w < ncpus; w++) names.push_back("memset/" + std::to_string(w));
    std::vector<task_struct*> workers;
    for (int w = 1; w < ncpus; w++)
      workers.push_back(clone_thread([this, w] { worker(w); }, w, names[static_cast<size_t>(w - 1)].c_str()));
    worker(0);
    for (task_struct* t : workers) kthread_join(t);
    fraction_local_ = fraction_local();
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  mm_struct* mm_ = nullptr;
  unsigned long pages_ = 0, memsets_ = 0;
  std::int64_t loops_ = 0;
  Cycles start_ = 0, end_ = 0;
  double fraction_local_ = 0;
};

const WorkloadRegistrar reg({
    "numa-memset",
    "threads on every node memset their parts of a shared area that starts on node 0, NUMA balancing "
    "migrating it; memset throughput and where blocked time goes (anon_lock=mutex vs rwsem)",
    with_mm_knobs([] {
      std::vector<KnobSpec> own = {
          {"pages", "1024", {}, 1, 1 << 18, "pages of the shared area (one part per CPU)"},
          {"loops", "20", {}, 1, 1000000, "memset passes of each thread over its part"},
      };
      for (KnobSpec& s : numa_balancing_knob_specs()) own.push_back(std::move(s));
      return own;
    }()),
    [] { return std::make_unique<NumaMemset>(); },
});

}  // namespace
}  // namespace smpemu
