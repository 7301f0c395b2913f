// lazy-migrate: mbind with MPOL_MF_LAZY and migrate-on-fault (seed 004: Lee
// Schermerhorn's lazy migration, reposted by Peter Zijlstra in March 2012; docs/MM.md,
// "NUMA placement and memory policies").
//
// The case the patch names: "a multi-threaded application working on a large shared
// data area that is initialized by an initial thread resulting in all pages on one
// node". The initial thread, on CPU 0, maps `pages` anonymous pages and stores into each
// (so all start on node 0). The area is split into one part per CPU; then, by `mode`:
//   lazy - the process mbinds each part to its worker's node (MPOL_BIND, policy=bind) or
//          the whole area to "local" (MPOL_PREFERRED with no node, policy=local) with
//          MPOL_MF_MOVE | MPOL_MF_LAZY: the pages are only unmapped into the swap cache,
//          and the first touch migrates each to where the policy says then;
//   move - the same mbinds with MPOL_MF_MOVE alone: every page moves at once;
//   none - no mbind: the pages stay on node 0.
// Then one worker thread per CPU (CPU 0's is the initial thread) touches the first
// `touch_pct` percent of its part (a store, or a load with touch=read), and goes over
// the touched pages `rounds` times more as a user memset would (each pass costs more on
// a remote node: mm/page.h, page_stream). Untouched pages are left alone: with lazy they
// stay where they were, unmapped; eager move has moved them anyway.
//
// With sharer=on the initial process forks a child before the mbinds, which then use
// MPOL_MF_MOVE_ALL (the pages are mapped twice); once they are done the child reads every
// page. Its faults race with the workers' on the same swap entries: a page the child
// has mapped again must not migrate (mof_check=off plants exactly that, with
// mof_gate=2006, under which the workers' faults look at shared pages at all). mbind
// failing (lazy_impl=off rejects MPOL_MF_LAZY with -EINVAL, as 3.8 does) is counted in
// mbind_errors and the run goes on without it, as an application would.
//
// Metrics: fraction_local (touched pages on their toucher's node at the end),
// pages_migrated, untouched_moved (untouched pages no longer on node 0), mbind_cycles
// (the mbind calls), cycles_per_first_touch, cycles_per_page_pass (the memset passes),
// and the vm statistics (lazy_unmapped, mof_migrations, ...). Histograms: `mbind`,
// `first_touch` (every first touch, faulting or not), `page_pass`.
//
// The shadow-memory oracle checks every load (the initial thread loads every page at the
// end), so a migration that lost data is a report; the lazy-migration oracles are those
// of mm/migrate.h and mm/page.h (unmap-only-state, migrate-mapped-page,
// page-left-locked).
#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "kernel/completion.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/sched.h"
#include "kernel/topology.h"
#include "mm/mempolicy.h"
#include "mm/page_alloc.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kBase = PerCpuMms::kBase;

class LazyMigrate final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    touch_pct_ = static_cast<unsigned long>(k.integer("touch_pct"));
    rounds_ = k.integer("rounds");
    mode_ = k.str("mode");
    local_policy_ = k.str("policy") == "local";
    touch_write_ = k.str("touch") == "write";
    sharer_ = k.str("sharer") == "on";
    init_completion_on(&m, &bound_);
    const unsigned long nodes = numa_nodes_for(m, "lazy-migrate", pages_);
    // Node 0 holds the whole area and its page tables; each node may receive its share.
    const unsigned long tables = page_table_frames(kBase, pages_ * PAGE_SIZE);
    // (and the child's, with sharer=on: its tables, and the COW copies the workers make)
    const unsigned long per_node = (sharer_ ? 2 * (pages_ + tables) : pages_ + tables) + 64;
    env_.setup(m, k, nodes * per_node, sharer_ ? 2 * tables : tables);
    m.spawn("init", 0, [this] { init(); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["fraction_local"] = fraction_local_;
    out["untouched_moved"] = static_cast<double>(untouched_moved_);
    out["mbind_cycles"] = static_cast<double>(m.histogram("mbind").sum());
    out["mbind_errors"] = static_cast<double>(mbind_errors_);
    out["cycles_per_first_touch"] = mean_of(m.histogram("first_touch"));
    out["cycles_per_page_pass"] = mean_of(m.histogram("page_pass"));
    if (!out.count("pages_migrated")) out["pages_migrated"] = 0;
  }

 private:
  static unsigned long value(unsigned long who, unsigned long page) { return (who << 32) | (page + 1); }

  // The part of worker `w`: [first, first + len) pages.
  void part_of(int w, unsigned long* first, unsigned long* len) const {
    const unsigned long part = pages_ / static_cast<unsigned long>(m_->ncpus());
    *first = static_cast<unsigned long>(w) * part;
    *len = w == m_->ncpus() - 1 ? pages_ - *first : part;
  }

  // How many pages at the start of a part of `len` pages its worker touches.
  unsigned long touched_of(unsigned long len) const { return (len * touch_pct_ + 99) / 100; }

  // Whether page `i` of worker `w`'s part is one it touches.
  bool is_touched(unsigned long i, int w) const {
    unsigned long first, len;
    part_of(w, &first, &len);
    return i >= first && i - first < touched_of(len);
  }

  // Where each page is once the workers are done (before the final loads, which may
  // move pages too): a host walk of the page tables, no sync points.
  void note_placement() {
    unsigned long touched = 0, local = 0;
    const phys_mem& mem = env_.mem();
    const unsigned long part = pages_ / static_cast<unsigned long>(m_->ncpus());
    for_each_pte_host(&mem, mm_, [&](unsigned long addr, pte_t pte) {
      if (!pte_present(pte) || addr < kBase || addr >= kBase + pages_ * PAGE_SIZE) return;
      const unsigned long i = (addr - kBase) >> PAGE_SHIFT;
      const int owner = static_cast<int>(std::min(i / part, static_cast<unsigned long>(m_->ncpus() - 1)));
      const int nid = mem.pages[pte_pfn(pte)].nid;
      if (is_touched(i, owner)) {
        touched++;
        if (nid == cpu_to_node(&mem, owner)) local++;
      } else if (nid != 0) {
        untouched_moved_++;
      }
    });
    fraction_local_ = touched ? static_cast<double>(local) / static_cast<double>(touched) : 0;
  }

  void do_mbinds() {
    const unsigned flags = (sharer_ ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE) | (mode_ == "lazy" ? MPOL_MF_LAZY : 0u);
    const auto timed = [&](unsigned long start, unsigned long len, mpol_mode mode, const nodemask_t& nodes) {
      const Cycles t0 = local_clock();
      const int err = do_mbind(mm_, start, len, mode, &nodes, flags);
      m_->histogram("mbind").record(local_clock() - t0);
      if (err == -EINVAL && (flags & MPOL_MF_LAZY))
        mbind_errors_++;  // 3.8 (lazy_impl=off): the flag is not valid
      else if (err)
        report_check("mbind-failed", "mbind(" + report_hex(start) + ", " + std::to_string(len) + ", " +
                                         mpol_mode_name(mode) + ") returned " + std::to_string(err),
                     true);
    };
    if (local_policy_) {
      timed(kBase, pages_ * PAGE_SIZE, MPOL_PREFERRED, nodemask_t{});
      return;
    }
    for (int w = 0; w < m_->ncpus(); w++) {
      unsigned long first, len;
      part_of(w, &first, &len);
      nodemask_t nodes;
      nodes.set(static_cast<size_t>(cpu_to_node(&env_.mem(), w)));
      timed(kBase + first * PAGE_SIZE, len * PAGE_SIZE, MPOL_BIND, nodes);
    }
  }

  void worker(int w) {
    unsigned long first, len;
    part_of(w, &first, &len);
    const unsigned long n = touched_of(len);
    for (unsigned long i = first; i < first + n; i++) {
      unsigned long val = value(static_cast<unsigned long>(w) + 1, i);
      const Cycles t0 = local_clock();
      if (user_access(mm_, kBase + i * PAGE_SIZE, touch_write_, &val, nullptr, kMemsetPageCycles) == USER_NOMEM)
        report_check("oom", "lazy-migrate ran out of memory (its frame count is too small)", true);
      m_->histogram("first_touch").record(local_clock() - t0);
    }
    return_to_user();
    for (std::int64_t r = 0; r < rounds_; r++) {
      for (unsigned long i = first; i < first + n; i++) {
        unsigned long val = value(static_cast<unsigned long>(w) + 1, i);
        const Cycles t0 = local_clock();
        user_access(mm_, kBase + i * PAGE_SIZE, true, &val, nullptr, kMemsetPageCycles);
        m_->histogram("page_pass").record(local_clock() - t0);
      }
      return_to_user();
    }
  }

  void init() {
    mm_ = env_.new_mm();
    if (!mm_ || do_mmap(mm_, kBase, pages_ * PAGE_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0) != static_cast<long>(kBase)) {
      report_check("oom", "lazy-migrate's mapping failed", true);
      return;
    }
    const int ncpus = m_->ncpus();
    mm_->mm_users.counter = ncpus;  // the workers are threads (CLONE_VM) from the start
    touch_pages(mm_, kBase, pages_, true, [](unsigned long i) { return value(0, i); }, nullptr, "lazy-migrate");
    return_to_user();
    task_struct* child = nullptr;
    if (sharer_)
      child = fork_child(mm_, ncpus / 2, "sharer", [this](mm_struct* mm) {
        wait_for_completion(&bound_);
        load_pages(mm, kBase, pages_);  // the oracle checks each: the values before the fork
        return_to_user();
        mmput(mm);
      });
    if (mode_ != "none") do_mbinds();
    complete(&bound_);
    std::vector<task_struct*> workers;
    std::vector<std::string> names;
    for (int w = 1; w < ncpus; w++) names.push_back("worker/" + std::to_string(w));
    for (int w = 1; w < ncpus; w++)
      workers.push_back(clone_thread([this, w] { worker(w); }, w, names[static_cast<size_t>(w - 1)].c_str()));
    worker(0);
    for (task_struct* t : workers) kthread_join(t);
    if (child) kthread_join(child);
    note_placement();
    load_pages(mm_, kBase, pages_);  // the oracle checks every page's value
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  mm_struct* mm_ = nullptr;
  unsigned long pages_ = 0, touch_pct_ = 0;
  std::int64_t rounds_ = 0;
  std::string mode_;
  bool local_policy_ = false, touch_write_ = true, sharer_ = false;
  unsigned long mbind_errors_ = 0, untouched_moved_ = 0;
  double fraction_local_ = 0;
  completion bound_;
};

const WorkloadRegistrar reg({
    "lazy-migrate",
    "one thread fills a shared area on node 0, the process mbinds it to its workers' nodes (lazy: migrate on "
    "first touch; move: at once; none), workers touch their parts; locality and migration cost",
    with_mm_knobs([] {
      std::vector<KnobSpec> own = {
          {"pages", "256", {}, 1, 1 << 16, "pages of the shared area (split in one part per CPU)"},
          {"mode", "lazy", {"lazy", "move", "none"}, 0, 0,
           "mbind with MPOL_MF_MOVE|MPOL_MF_LAZY (lazy), with MPOL_MF_MOVE (move), or no mbind (none)"},
          {"policy", "bind", {"bind", "local"}, 0, 0,
           "each part bound to its worker's node (bind), or the area preferring the toucher's node (local)"},
          {"touch_pct", "75", {}, 0, 100, "percent of its part each worker touches (the rest stays untouched)"},
          {"touch", "write", {"write", "read"}, 0, 0, "a worker's first touch of a page is a store or a load"},
          {"rounds", "4", {}, 0, 100000, "memset passes over the touched pages after the first touch"},
          {"sharer", "off", {"on", "off"}, 0, 0,
           "a forked child shares the area and reads it after the mbinds (which then use MPOL_MF_MOVE_ALL)"},
      };
      for (KnobSpec& s : numa_knob_specs()) own.push_back(std::move(s));
      return own;
    }()),
    [] { return std::make_unique<LazyMigrate>(); },
});

}  // namespace
}  // namespace smpemu
