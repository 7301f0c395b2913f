// migration-stress: Mel Gorman's reproduction of the 2010 page-migration races (seed
// 003): compaction runs nonstop on the last CPU while four stressors change the very
// things remove_migration_ptes relies on.
//
//  a) fork-fault: a parent maps `pages` anonymous pages; each of `rounds` rounds it
//     forks `fork_children` children that read and then write every page (COW copies)
//     and exit: migration entries are made and removed in many ptes at once.
//  b) hole-punch: likewise, but each child first unmaps the second quarter of the window
//     (munmap splits the vma: vma_adjust changes vm_start and vm_pgoff) and faults what
//     remains: race R1 with adjust_lock=off.
//  c) exec: a parent forks `exec_children` children that exec: a new mm whose temporary
//     stack receives `exec_pages` argument pages; `exec_load` cycles of loading the
//     binary, in which the old mm is dropped; setup_arg_pages shifts the stack down
//     (shift_arg_pages); the new program reads its arguments: race R2 with
//     skip_temp_stack=off.
//  d) hog (with hog_pages > 0): a mapping that the user sizes at 1.5 times the frames
//     (knob frames) stored to `hog_loops` times: reclaim and swap under migration.
//
// The compactor (compact_nodes, /proc/sys/vm/compact_memory) starts a new pass as long
// as a stressor runs, at most `passes` passes. Every load a process makes is checked by
// the shadow-memory oracle, so data lost across a migration is reported; a migration
// entry left behind is reported when its page is unlocked (mm/migrate.h).
//
// Histograms: `compact_pass` (cycles of one compact_nodes), `fork`, `exit`, `exec`.
// Metrics: pages_migrated, pages_not_migrated, migrate_fail_* (attempts by reason),
// migration_entries_set / _restored, migration_waits, compact_passes, and the rest of
// the mm environment's.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/sched.h"
#include "mm/compaction.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kBase = PerCpuMms::kBase;

class MigrationStress final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    rounds_ = k.integer("rounds");
    fork_children_ = static_cast<int>(k.integer("fork_children"));
    hole_children_ = static_cast<int>(k.integer("hole_children"));
    exec_children_ = static_cast<int>(k.integer("exec_children"));
    exec_pages_ = static_cast<unsigned long>(k.integer("exec_pages"));
    exec_load_ = static_cast<Cycles>(k.integer("exec_load"));
    hog_pages_ = static_cast<unsigned long>(k.integer("hog_pages"));
    hog_loops_ = k.integer("hog_loops");
    max_passes_ = k.integer("passes");
    if (k.arch() != "x86")
      throw ConfigError("migration-stress needs --arch x86 (this run: --arch " + k.arch() +
                        "): the ppc64-hash and none MMU models do not yet make a TLB flush wait for an access "
                        "another CPU has in flight through the old translation (x86's shootdown IPI waits for "
                        "it, POWER's tlbsync does), so a page freed right after its migration could be read "
                        "through a stale translation");
    if (m.ncpus() < 2)
      throw ConfigError("migration-stress needs at least 2 CPUs (the compactor runs on the last one)");
    if (hole_children_ && pages_ < 4)
      throw ConfigError("migration-stress: hole_children needs pages >= 4 (a quarter of the window is unmapped)");
    if (hog_pages_ && k.integer("frames") == 0)
      throw ConfigError("migration-stress: hog_pages needs a frame limit (knob frames; Mel's hog is 1.5 times "
                        "memory, so hog_pages = 1.5 * frames)");
    const unsigned long kids = static_cast<unsigned long>(fork_children_ + hole_children_ + exec_children_);
    const unsigned long procs = kids + 4;
    const unsigned long data = 2 * pages_ * (static_cast<unsigned long>(fork_children_ + hole_children_) + 2) +
                               2 * exec_pages_ * static_cast<unsigned long>(exec_children_) + hog_pages_ + 1;
    const unsigned long tables = procs * page_table_frames(kBase, std::max(pages_, hog_pages_) * PAGE_SIZE) +
                                 static_cast<unsigned long>(exec_children_) * exec_table_frames(exec_pages_);
    env_.setup(m, k, mm_frames(data, procs, tables), tables);
    const int spread = m.ncpus() - 1;  // the stressors' CPUs; the compactor has the last
    int next = 0;
    const auto cpu = [&] { return static_cast<CpuId>(next++ % spread); };
    if (fork_children_) start(m, "fork-fault", cpu(), [this] { fork_fault(); });
    if (hole_children_) start(m, "hole-punch", cpu(), [this] { hole_punch(); });
    if (exec_children_) start(m, "exec", cpu(), [this] { exec_parent(); });
    if (hog_pages_) start(m, "hog", cpu(), [this] { hog(); });
    m.spawn("compactor", static_cast<CpuId>(m.ncpus() - 1), [this] { compactor(); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["cycles_per_compact_pass"] = mean_of(m.histogram("compact_pass"));
    out["cycles_per_exec"] = mean_of(m.histogram("exec"));
  }

 private:
  void start(Machine& m, const std::string& name, CpuId cpu, std::function<void()> body) {
    running_++;
    m.spawn(name, cpu, [this, body = std::move(body)] {
      body();
      running_--;
    });
  }

  int child_cpu(int j) const { return j % (m_->ncpus() - 1); }

  void exit_mm(mm_struct* mm) {
    const Cycles t0 = local_clock();
    mmput(mm);
    m_->histogram("exit").record(local_clock() - t0);
  }

  // Forks `n` children running `body` each round, and waits for them.
  void family(mm_struct* parent, int n, const char* what, void (MigrationStress::*body)(mm_struct*, unsigned long)) {
    for (std::int64_t r = 1; r <= rounds_; r++) {
      std::vector<task_struct*> kids;
      for (int j = 0; j < n; j++) {
        const unsigned long who = (static_cast<unsigned long>(r) << 16) | static_cast<unsigned long>(j + 1);
        task_struct* t = fork_child(parent, child_cpu(j), std::string(what) + "/" + std::to_string(j),
                                    [this, body, who](mm_struct* mm) { (this->*body)(mm, who); });
        if (!t) break;
        kids.push_back(t);
        return_to_user();
      }
      for (task_struct* t : kids) kthread_join(t);
    }
  }

  void fork_fault() {
    mm_struct* mm = anon_family_parent(env_, kBase, pages_, [](unsigned long i) { return i + 1; });
    family(mm, fork_children_, "fault", &MigrationStress::fault_child);
    load_pages(mm, kBase, pages_);  // the oracle checks every value
    exit_mm(mm);
  }

  void fault_child(mm_struct* mm, unsigned long who) {
    load_pages(mm, kBase, pages_);
    return_to_user();
    touch_pages(mm, kBase, pages_, true, [who](unsigned long i) { return (who << 32) | (i + 1); }, nullptr,
                "a fork-fault child");
    load_pages(mm, kBase, pages_);
    exit_mm(mm);
  }

  void hole_punch() {
    mm_struct* mm = anon_family_parent(env_, kBase, pages_, [](unsigned long i) { return (1UL << 40) | (i + 1); });
    family(mm, hole_children_, "hole", &MigrationStress::hole_child);
    load_pages(mm, kBase, pages_);
    exit_mm(mm);
  }

  void hole_child(mm_struct* mm, unsigned long who) {
    const unsigned long q = pages_ / 4;
    do_munmap(mm, kBase + q * PAGE_SIZE, q * PAGE_SIZE);  // splits the vma in three, keeps two
    return_to_user();
    load_pages(mm, kBase, q);
    load_pages(mm, kBase + 2 * q * PAGE_SIZE, pages_ - 2 * q);
    touch_pages(mm, kBase + 2 * q * PAGE_SIZE, pages_ - 2 * q, true,
                [who](unsigned long i) { return (who << 32) | (i + 1); }, nullptr, "a hole-punch child");
    load_pages(mm, kBase, q);
    exit_mm(mm);
  }

  void exec_parent() {
    mm_struct* mm = anon_family_parent(env_, kBase, 1, [](unsigned long) { return 7; });
    family(mm, exec_children_, "exec", &MigrationStress::exec_child);
    exit_mm(mm);
  }

  void exec_child(mm_struct* old, unsigned long who) {
    const Cycles t0 = local_clock();
    const ExecSpec spec = {exec_pages_, exec_arg_value, reinterpret_cast<void*>(who), exec_load_};
    mm_struct* mm = exec_program(env_, spec, [&] { exit_mm(old); });
    if (!mm) return;
    m_->histogram("exec").record(local_clock() - t0);
    return_to_user();
    read_exec_args(mm, exec_pages_);  // "echo": the new program reads its arguments
    exit_mm(mm);
  }

  void hog() {
    mm_struct* mm = env_.new_mm();
    constexpr unsigned long kHogBase = kBase + (1UL << 36);
    if (do_mmap(mm, kHogBase, hog_pages_ * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                nullptr, 0) != static_cast<long>(kHogBase)) {
      report_check("oom", "migration-stress: the hog's mapping failed", true);
      return;
    }
    for (std::int64_t l = 1; l <= hog_loops_; l++) {
      touch_pages(mm, kHogBase, hog_pages_, true,
                  [l](unsigned long i) { return (static_cast<unsigned long>(l) << 32) | (i + 1); }, nullptr,
                  "the hog");
      return_to_user();
    }
    exit_mm(mm);
  }

  void compactor() {
    Histogram& pass = m_->histogram("compact_pass");
    // bounded, so a schedule that starves the stressors (PCT) still ends
    for (std::int64_t n = 0; n < max_passes_ && running_ > 0; n++) {
      const Cycles t0 = local_clock();
      compact_nodes();
      pass.record(local_clock() - t0);
      cond_resched();
    }
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  unsigned long pages_ = 0, exec_pages_ = 0, hog_pages_ = 0;
  std::int64_t rounds_ = 0, hog_loops_ = 0, max_passes_ = 0;
  Cycles exec_load_ = 0;
  int fork_children_ = 0, hole_children_ = 0, exec_children_ = 0;
  int running_ = 0;  // stressors still running (host side: one fiber runs at a time)
};

std::vector<KnobSpec> knobs() {
  std::vector<KnobSpec> own = {
      {"pages", "16", {}, 1, 1 << 16, "anonymous pages of the fork-fault and hole-punch parents"},
      {"rounds", "2", {}, 1, 100000, "fork rounds of each stressor"},
      {"fork_children", "2", {}, 0, 1024, "children per round that fault the mapping (a; 0: off)"},
      {"hole_children", "2", {}, 0, 1024, "children per round that unmap a middle quarter and fault the rest (b)"},
      {"exec_children", "2", {}, 0, 1024, "children per round that exec (c)"},
      {"exec_pages", "4", {}, 1, 4096, "argument pages an exec copies to its temporary stack"},
      {"exec_load", "20000", {}, 0, 100000000,
       "cycles exec spends between copying the arguments and moving the stack (reading the binary's headers)"},
      {"hog_pages", "0", {}, 0, 1 << 22, "pages of the memory hog (d; needs frames; Mel: 1.5 * frames; 0: off)"},
      {"hog_loops", "2", {}, 1, 100000, "times the hog stores to all its pages"},
      {"passes", "200", {}, 1, 100000000, "compaction passes at most (it stops when the stressors are done)"},
  };
  for (KnobSpec& k : migration_knob_specs()) own.push_back(std::move(k));
  return with_mm_knobs(std::move(own));
}

const WorkloadRegistrar reg({
    "migration-stress",
    "compaction nonstop against fork/fault, hole-punching, exec and a memory hog (seed 003): the 2010 races "
    "that leave a migration entry behind, under adjust_lock, skip_temp_stack and anon_pin",
    knobs(),
    [] { return std::make_unique<MigrationStress>(); },
});

}  // namespace
}  // namespace smpemu
