// fork-exec: the exec microbenchmark of seed 003's performance check (AIM9's exec_test,
// kernbench's fork+exec): does closing race R2 and taking the root anon_vma lock in
// vma_adjust cost exec anything?
//
// On every CPU a shell task with a `pages`-page anonymous mapping runs `rounds` rounds
// of: fork a child on the same CPU; the child execs (a new mm whose temporary stack
// receives `exec_pages` argument pages, `exec_load` cycles of loading the binary in
// which the old mm is dropped, then setup_arg_pages moves the stack down:
// shift_arg_pages, whose vma_adjust takes the anon_vma lock under adjust_lock=on), reads
// its arguments and exits; the shell waits for it.
//
// Histograms: `fork_exec` (cycles from fork to the child's exit, as the shell sees it),
// `exec` (the mm side of exec), `fork`, `exit`. Metrics: cycles_per_fork_exec,
// cycles_per_exec, forks, exits. Compare the 2.6.35 kernel with 2.6.34's locking:
//   smpemu compare fork-exec --a anon_lock=spin_noroot,adjust_lock=off --b anon_lock=spin,adjust_lock=on
#include <memory>
#include <string>

#include "kernel/kernel.h"
#include "kernel/sched.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kBase = PerCpuMms::kBase;

class ForkExec final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    pages_ = static_cast<unsigned long>(k.integer("pages"));
    rounds_ = k.integer("rounds");
    spec_.arg_pages = static_cast<unsigned long>(k.integer("exec_pages"));
    spec_.load_cycles = static_cast<Cycles>(k.integer("exec_load"));
    spec_.value = exec_arg_value;
    const unsigned long cpus = static_cast<unsigned long>(m.ncpus());
    // per CPU: the shell and, at most two at a time, a child's old and new mm
    const unsigned long procs = 3 * cpus;
    const unsigned long data = cpus * (3 * pages_ + 2 * spec_.arg_pages + 1);
    const unsigned long tables = cpus * (2 * page_table_frames(kBase, pages_ * PAGE_SIZE) + exec_table_frames(spec_.arg_pages));
    env_.setup(m, k, mm_frames(data, procs, tables), tables);
    for (int c = 0; c < m.ncpus(); c++)
      m.spawn("shell/" + std::to_string(c), static_cast<CpuId>(c), [this, c] { shell(c); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    out["cycles_per_fork_exec"] = mean_of(m.histogram("fork_exec"));
    out["cycles_per_exec"] = mean_of(m.histogram("exec"));
  }

 private:
  void shell(int cpu) {
    mm_struct* mm = anon_family_parent(env_, kBase, pages_, [cpu](unsigned long i) {
      return (static_cast<unsigned long>(cpu) << 24) | (i + 1);
    });
    Histogram& total = m_->histogram("fork_exec");
    for (std::int64_t r = 1; r <= rounds_; r++) {
      const unsigned long who = (static_cast<unsigned long>(cpu) << 20) | static_cast<unsigned long>(r);
      const Cycles t0 = local_clock();
      task_struct* t = fork_child(mm, cpu, "child/" + std::to_string(cpu),
                                  [this, who](mm_struct* child) { program(child, who); });
      if (!t) break;
      kthread_join(t);
      total.record(local_clock() - t0);
      return_to_user();
    }
    load_pages(mm, kBase, pages_);
    mmput(mm);
  }

  void program(mm_struct* old, unsigned long who) {
    ExecSpec spec = spec_;
    spec.arg = reinterpret_cast<void*>(who);
    const Cycles t0 = local_clock();
    mm_struct* mm = exec_program(env_, spec, [old] { mmput(old); });
    if (!mm) return;
    m_->histogram("exec").record(local_clock() - t0);
    return_to_user();
    read_exec_args(mm, spec.arg_pages);
    const Cycles t1 = local_clock();
    mmput(mm);
    m_->histogram("exit").record(local_clock() - t1);
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  ExecSpec spec_;
  unsigned long pages_ = 0;
  std::int64_t rounds_ = 0;
};

std::vector<KnobSpec> knobs() {
  std::vector<KnobSpec> own = {
      {"pages", "16", {}, 1, 1 << 16, "anonymous pages of each shell (fork copies them)"},
      {"rounds", "8", {}, 1, 100000, "fork + exec + exit rounds per CPU"},
      {"exec_pages", "4", {}, 1, 4096, "argument pages an exec copies to its temporary stack"},
      {"exec_load", "20000", {}, 0, 100000000,
       "cycles exec spends between copying the arguments and moving the stack (reading the binary's headers)"},
  };
  // only adjust_lock matters without migration: shift_arg_pages' vma_adjust
  for (KnobSpec& k : migration_knob_specs())
    if (k.name == "adjust_lock") own.push_back(std::move(k));
  return with_mm_knobs(std::move(own));
}

const WorkloadRegistrar reg({
    "fork-exec",
    "fork + exec + exit loops on every CPU (AIM9 exec_test): cycles per exec with 2.6.34's or 2.6.35's anon_vma "
    "locking (anon_lock=spin_noroot|spin, adjust_lock=off|on)",
    knobs(),
    [] { return std::make_unique<ForkExec>(); },
});

}  // namespace
}  // namespace smpemu
