// The environment mm workloads share: the machine's physical memory, its MMU model
// (--arch, from the registry of arch/mmu.h), the vm tunables from the common mm knobs,
// and files; and PerCpuFileRig, the set-up of the per-CPU file microbenchmarks.
//
// The common knobs (mm_knob_specs) are the before/after variants of unmap_mapping_range
// and truncate (docs/MM.md) that mm/ implements; every mm workload declares them so `--set lockbreak=none` works
// the same everywhere, and `smpemu list` prints them per workload.
//
// Lifetime: set up in Workload::setup (host side, before Machine::run), torn down by the
// destructor, which runs before the Machine is destroyed (cli/runner.cc). The mms the
// tasks created are freed host-side then (the emulated teardown is not part of the
// measured run).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "arch/mmu.h"
#include "mm/mmap.h"
#include "mm/exec.h"
#include "mm/fork.h"
#include "mm/migrate.h"
#include "mm/mremap.h"
#include "mm/truncate.h"
#include "mm/user_access.h"
#include "workloads/workload.h"

namespace smpemu {

/// User-mode computation of `cycles`: interruptible (ticks and wakeups are taken every
/// few microseconds, and user mode is a preemption point and an RCU quiescent state in
/// every model), unlike one long cpu_work(), which is like a region with IRQs off.
void user_think(Cycles cycles);

/// Mean of a histogram's samples, exactly (Histogram::mean() rounds down to cycles).
inline double mean_of(const Histogram& h) {
  return h.count() ? static_cast<double>(h.sum()) / static_cast<double>(h.count()) : 0;
}

/// Knobs every mm workload takes (names, defaults, docs).
std::vector<KnobSpec> mm_knob_specs();
/// Knobs of workloads that migrate pages (the 2010 migration races, mm/migrate.h).
std::vector<KnobSpec> migration_knob_specs();
/// Knobs of workloads that use memory policies (mbind, lazy migration: mm/mempolicy.h).
std::vector<KnobSpec> numa_knob_specs();
/// Knobs of workloads that run NUMA balancing (mm/numa.h).
std::vector<KnobSpec> numa_balancing_knob_specs();
/// The NUMA nodes of `m` for a workload `who` that splits `pages` pages in one part per
/// CPU and places them across nodes: throws ConfigError if a CPU would get no page or
/// all CPUs sit on one node (nothing to place).
unsigned long numa_nodes_for(const Machine& m, const std::string& who, unsigned long pages);
/// A user memset of a 4 KiB page from the CPU's own node, cycles (assumed: 64 lines at a
/// few cycles each once streaming; docs/COSTS.md, "NUMA"). Pass it to user_access.
constexpr Cycles kMemsetPageCycles = 400;
/// Appends the common mm knobs to a workload's own.
std::vector<KnobSpec> with_mm_knobs(std::vector<KnobSpec> own);

/// Page-table frames one mm needs to map [start, start + bytes): its pgd and every pud,
/// pmd and pte table the range touches.
unsigned long page_table_frames(unsigned long start, unsigned long bytes);

/// Physical frames for a per-CPU mm workload: `data` frames of file and COW pages, plus
/// the reserve the first version had (16 per task and 1024, which holds the page tables
/// of windows up to a few thousand pages, so those runs keep their digests), grown by
/// the shortfall when `tables` page-table frames (plus one in flight per task and 256
/// spare) do not fit in it. Without that, large windows ran out of memory and every
/// access took a failing fault through every node's allocator (the fault-file cost cliff).
unsigned long mm_frames(unsigned long data, unsigned long tasks, unsigned long tables);

class MmEnv {
 public:
  ~MmEnv();
  /// Physical memory of `frames` frames spread over the NUMA nodes, the MMU model
  /// `k.arch()`, and the tunables from `k` (the common knobs). `tables`: page tables the workload's mappings
  /// need, if it counts them (bounded by limits::kPageTables). Throws ConfigError past
  /// the bounds.
  void setup(Machine& m, const Knobs& k, unsigned long frames, unsigned long tables = 0);
  /// A file of `pages` pages that may grow to `max_pages`.
  address_space* add_file(unsigned long pages, unsigned long max_pages);
  /// Reads every page of `f` into the page cache (inside run()): the file "was read
  /// before the experiment", so faults on it are minor.
  void cache_file(address_space* f);
  /// A new mm (inside run(): it allocates its pgd). The environment frees every mm still
  /// alive at teardown (host side); a workload may also mmput one (its exit).
  mm_struct* new_mm();

  phys_mem& mem() { return mem_; }
  /// The MMU model in use (its type names it).
  struct mmu* mmu() { return mmu_; }
  struct vm_globals& vm() { return *mem_.vm; }
  /// Whether this run's mms use split pte locks (knob split_ptlock), for mms made
  /// outside new_mm (exec's bprm_mm_init).
  bool split_ptlock() const { return split_ptlock_; }
  /// Adds the vm statistics and the MMU model's counters to `out` (metrics()), and, if
  /// the run completed, the end-of-run checks' reports to `bugs`: every swap slot's
  /// count matches the swap ptes naming it (mm/swapfile.h), and no migration entry is
  /// left (mm/migrate.h). Host side, after run().
  void finish(const Machine& m, Metrics& out, std::vector<BugReport>& bugs) const;
  void metrics(Metrics& out) const;

 private:
  Machine* m_ = nullptr;
  phys_mem mem_{};
  struct mmu* mmu_ = nullptr;  // from the registry's create; destroyed with the environment
  std::deque<address_space> files_;
  bool up_ = false;
  bool split_ptlock_ = false;
};

/// Accesses pages [0, `pages`) from `addr` in order: a store of value(i) if `write`,
/// else a load (which the shadow-memory oracle checks). With `faulted`, records there
/// the cycles of each access that took a fault. Running out of memory is a fatal `oom`
/// report: "`who` ran out of memory". Context: a task of `mm`'s process.
void touch_pages(mm_struct* mm, unsigned long addr, unsigned long pages, bool write,
                 const std::function<unsigned long(unsigned long)>& value, Histogram* faulted, const char* who);
/// Loads every page of [addr, addr + pages * PAGE_SIZE) (the oracle checks each value).
void load_pages(mm_struct* mm, unsigned long addr, unsigned long pages);

/// The parent of the fork workloads: a new process (of `env`) with `pages` anonymous
/// pages at `addr`, page i stored with value(i). A failed mmap is a fatal `oom` report.
mm_struct* anon_family_parent(MmEnv& env, unsigned long addr, unsigned long pages,
                              const std::function<unsigned long(unsigned long)>& value);
/// Forks `parent` (dup_mm, its cycles recorded in histogram `fork`) and starts task
/// `name` on `cpu` running `body(child_mm)`; nullptr (after a fatal `oom` report) if
/// the fork ran out of memory. Context: a task of the parent process.
struct task_struct* fork_child(mm_struct* parent, int cpu, const std::string& name,
                               std::function<void(mm_struct*)> body);

/// The value of argument page `i` of an exec whose `arg` is a number (`who`): who << 32 | i + 1.
unsigned long exec_arg_value(unsigned long i, void* who);
/// What exec_program copies and how long it loads.
struct ExecSpec {
  unsigned long arg_pages = 4;                     ///< argument pages copied to the new stack
  unsigned long (*value)(unsigned long, void*) = nullptr;  ///< value of argument page i
  void* arg = nullptr;                             ///< passed to value
  Cycles load_cycles = 0;                          ///< kernel work between copy and stack setup
};
/// Where exec_program's stacks end: 64 pages below the temporary stack's top.
constexpr unsigned long kExecStackTop = STACK_TOP_MAX - 64 * PAGE_SIZE;
/// The mm side of an exec: bprm_mm_init, copy_strings,
/// `load_cycles` of loading the binary in which `drop_old` runs (exec_mmap drops the
/// old mm), then setup_arg_pages (shift_arg_pages) to end at kExecStackTop. Returns the
/// new mm, or nullptr after an oom report. Context: the exec'ing task.
mm_struct* exec_program(MmEnv& env, const ExecSpec& spec, const std::function<void()>& drop_old);
/// The new program reads its `arg_pages` argument pages (the oracle checks each).
void read_exec_args(mm_struct* mm, unsigned long arg_pages);
/// Page-table frames an exec'd stack of `arg_pages` needs (both places of the shift).
unsigned long exec_table_frames(unsigned long arg_pages);

/// Address spaces for one task per CPU: each task its own process, or (`threads`) all
/// of them threads of one, working in disjoint windows of it.
class PerCpuMms {
 public:
  static constexpr unsigned long kBase = 0x100000000UL;
  explicit PerCpuMms(bool threads = false) : threads_(threads) {}
  /// In the task that sets up (inside run()), before the others start; `tasks` is the
  /// number of tasks that will share the mm when threads (its mm_users).
  void prepare(MmEnv& env, int tasks);
  /// The calling task's mm (a new process unless threads).
  mm_struct* get(MmEnv& env);
  /// Page-table frames of `tasks` windows of `pages` pages: one mm each, or all in one.
  unsigned long table_frames(int tasks, unsigned long pages) const;
  /// Start of task `cpu`'s window of `pages` pages.
  unsigned long window(int cpu, unsigned long pages) const {
    return kBase + (threads_ ? static_cast<unsigned long>(cpu) * (pages + 1) * PAGE_SIZE : 0);
  }

 private:
  bool threads_;
  mm_struct* shared_ = nullptr;
};

/// The set-up the per-CPU file microbenchmarks (fault-file, mmap-munmap) share: one
/// file of `pages` pages, read into the page cache by an init task before the workers
/// start, and one worker per CPU with its own window of `pages` pages in its own mm (or,
/// with `threads`, all in one mm). Each worker runs `body(cpu, mm, window start)`.
/// Lifetime: owned by the workload; setup() in Workload::setup.
class PerCpuFileRig {
 public:
  using Body = std::function<void(int cpu, mm_struct* mm, unsigned long addr)>;
  /// `data_frames`: frames of file and private pages the workers need at most; page
  /// tables are added (mm_frames). Tasks are named `init_name` and `worker_name/CPU`.
  /// Without `with_file` there is no file (anonymous-memory benchmarks): file() is null.
  void setup(Machine& m, const Knobs& k, unsigned long pages, unsigned long data_frames, bool threads,
             const std::string& init_name, const std::string& worker_name, Body body, bool with_file = true);
  MmEnv& env() { return env_; }
  address_space* file() const { return file_; }

 private:
  MmEnv env_;
  PerCpuMms mms_;
  address_space* file_ = nullptr;
  completion ready_;
  unsigned long pages_ = 0;
  Body body_;
};

}  // namespace smpemu
