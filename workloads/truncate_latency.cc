// truncate-latency: Hugh Dickins' vmtrunc scenario (seed 002; docs/MM.md, "Sources").
//
// One file is mapped by `vmas` windows spread over `procs` processes (shared windows,
// and every fourth one private, so COW copies exist too). On every CPU but 0, mapper
// threads of those processes touch random pages of their windows (loads and stores
// through the TLB, faulting pages in), and now and then re-map a window (munmap + mmap
// of another file offset), mprotect its upper half (splitting and later merging the
// vma) or remap_file_pages a few of its pages (making it nonlinear). On CPU 0 a task
// truncates the file to `keep` percent and extends it again, `truncates` times, under
// i_mutex. A cyclictest-like task on every CPU sleeps for `period` cycles at a time, so
// `sched.latency` shows what the truncate's preempt-off time does to wakeups.
//
// It shows Hugh's result: with lockbreak=none the i_mmap_lock hold and preempt-off
// maxima grow with the number of mapped pages; with restart_in_vma (under --preempt
// full) they stay at about one ZAP_BLOCK_SIZE of work, while the work done stays about
// the same. The fault_recheck/merge_reset/tree_first/wrap_reset toggles plant the bugs
// docs/MM.md describes; the pte-beyond-EOF, truncate-mapped-page and shadow-memory oracles
// catch them (docs/MM.md says which strategy finds which).
//
// Metrics: truncate_cycles_mean/max (histogram `truncate`), faults_per_mcycle,
// user_accesses, and the vm statistics (workloads/mm_env.h). Determinism: all choices
// come from per-task streams "workload.trunc.*".
#include <memory>
#include <string>
#include <vector>

#include "emu/errors.h"
#include "kernel/kernel.h"
#include "workloads/mm_env.h"

namespace smpemu {
namespace {

constexpr unsigned long kWindowBase = 0x100000000UL;

struct Window {
  unsigned long addr = 0, pages = 0;
  unsigned long alt = 0;  ///< where mremap moves it (below every window) and back from
  bool at_alt = false;    ///< where it was last moved (threads may race: a stale guess is a SEGV)
  bool shared = true;
};

struct Proc {
  mm_struct* mm = nullptr;
  std::vector<Window> win;
};

class TruncateLatency final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    procs_n_ = static_cast<int>(k.integer("procs"));
    const long vmas = k.integer("vmas");
    file_pages_ = static_cast<unsigned long>(k.integer("file_pages"));
    vma_pages_ = static_cast<unsigned long>(k.integer("vma_pages"));
    if (vma_pages_ == 0 || vma_pages_ > file_pages_) vma_pages_ = file_pages_;
    truncates_ = k.integer("truncates");
    keep_pages_ = file_pages_ * static_cast<unsigned long>(k.integer("keep")) / 100;
    interval_ = static_cast<Cycles>(k.integer("interval"));
    touch_ = static_cast<int>(k.integer("touch"));
    think_ = static_cast<Cycles>(k.integer("think"));
    period_ = static_cast<Cycles>(k.integer("period"));
    remap_pm_ = static_cast<unsigned>(k.integer("remap"));
    mprotect_pm_ = static_cast<unsigned>(k.integer("mprotect"));
    nonlinear_pm_ = static_cast<unsigned>(k.integer("nonlinear"));
    mremap_pm_ = static_cast<unsigned>(k.integer("mremap"));
    const int per_proc = static_cast<int>(vmas / procs_n_ > 0 ? vmas / procs_n_ : 1);

    const unsigned long span = static_cast<unsigned long>(per_proc) * (vma_pages_ + 1) * PAGE_SIZE;
    if (kWindowBase + span > TASK_SIZE || (mremap_pm_ && span + PMD_SIZE >= kWindowBase))
      throw ConfigError("vmas/procs x vma_pages (" + std::to_string(per_proc) + " x " + std::to_string(vma_pages_) +
                        " pages) does not fit the address space" + (mremap_pm_ ? " with room for mremap" : ""));
    const unsigned long frames = 2 * file_pages_ + static_cast<unsigned long>(vmas) * vma_pages_ / 2 +
                                 static_cast<unsigned long>(procs_n_) * 64 + 2048;
    env_.setup(m, k, frames);
    file_ = env_.add_file(file_pages_, file_pages_);
    done_.line = m.new_line();
    done_.v = false;
    init_completion_on(&m, &ready_);

    Rng layout = m.rng("workload.trunc.layout");
    procs_.resize(static_cast<std::size_t>(procs_n_));
    for (Proc& p : procs_)
      for (int i = 0; i < per_proc; i++) {
        Window w;
        w.addr = kWindowBase + static_cast<unsigned long>(i) * (vma_pages_ + 1) * PAGE_SIZE;
        w.pages = vma_pages_;
        w.shared = i % 4 != 3;
        // mremap's other place: the same layout, below the windows
        w.alt = ((kWindowBase - span - PMD_SIZE) & PMD_MASK) + static_cast<unsigned long>(i) * (vma_pages_ + 1) * PAGE_SIZE;
        p.win.push_back(w);
        pgoffs_.push_back(layout.below(file_pages_ - vma_pages_ + 1));
      }

    // The cyclictest tasks first: each runs once and goes to sleep before the CPU's
    // other task starts (a new task would otherwise wait for a tick to get the CPU).
    for (int c = 0; c < m.ncpus(); c++)
      m.spawn_rt("cyclictest/" + std::to_string(c), static_cast<CpuId>(c), [this] { cyclictest(); });
    m.spawn("trunc-init", 0, [this] { init(); });
    m.spawn("truncate", 0, [this] { truncator(); });
    for (int c = 1; c < m.ncpus(); c++) {
      rngs_.push_back(std::make_unique<Rng>(m.rng("workload.trunc.mapper" + std::to_string(c))));
      const int proc = (c - 1) % procs_n_;
      Rng* rng = rngs_.back().get();
      m.spawn("mapper/" + std::to_string(c), static_cast<CpuId>(c), [this, proc, rng] { mapper(proc, *rng); });
    }
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    env_.finish(m, out, bugs);
    const Histogram& h = m.histogram("truncate");
    out["truncate_cycles_mean"] = mean_of(h);
    out["truncate_cycles_max"] = static_cast<double>(h.max());
    out["user_accesses"] = static_cast<double>(accesses_);
    out["segv"] = static_cast<double>(segv_);
    // Throughput: faults that mapped a page (not SIGBUS beyond EOF), and accesses that
    // completed, per million cycles of the run.
    const vm_stats& s = env_.vm().stats;
    const double mcycles = end_cycle_ ? static_cast<double>(end_cycle_) / 1e6 : 1;
    out["faults_per_mcycle"] = static_cast<double>(s.faults - s.sigbus) / mcycles;
    out["accesses_per_mcycle"] = static_cast<double>(accesses_ - sigbus_ - segv_) / mcycles;
  }

 private:
  void init() {
    env_.cache_file(file_);  // the file was read before the experiment
    std::size_t n = 0;
    for (Proc& p : procs_) {
      p.mm = env_.new_mm();
      BUG_ON(!p.mm);
      for (const Window& w : p.win) {
        const long r = do_mmap(p.mm, w.addr, w.pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                               (w.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, file_, pgoffs_[n++]);
        BUG_ON(r < 0);
      }
    }
    complete_all(&ready_);
  }

  void truncator() {
    wait_for_completion(&ready_);
    Rng rng = m_->rng("workload.trunc.truncate");
    Histogram& h = m_->histogram("truncate");
    for (std::int64_t i = 0; i < truncates_; i++) {
      user_think(rng.range(interval_ / 2, interval_ + interval_ / 2));
      mutex_lock(&file_->i_mutex);
      const Cycles t0 = local_clock();
      vmtruncate(file_, keep_pages_ * PAGE_SIZE);
      h.record(local_clock() - t0);
      vmtruncate(file_, file_pages_ * PAGE_SIZE);
      mutex_unlock(&file_->i_mutex);
      return_to_user();
    }
    end_cycle_ = local_clock();
    WRITE_ONCE(done_, true);
  }

  void mapper(int proc, Rng& rng) {
    wait_for_completion(&ready_);
    Proc& p = procs_[static_cast<std::size_t>(proc)];
    const unsigned long tag = static_cast<unsigned long>(smp_processor_id()) << 40;
    unsigned long seq = 0, faults = 0;
    while (!READ_ONCE(done_)) {
      Window& w = p.win[rng.below(p.win.size())];
      const unsigned long base = w.at_alt ? w.alt : w.addr;
      const unsigned op = static_cast<unsigned>(rng.below(1000));
      if (op < remap_pm_) {
        const unsigned long pgoff = rng.below(file_pages_ - w.pages + 1);
        do_munmap(p.mm, base, w.pages * PAGE_SIZE);
        do_mmap(p.mm, base, w.pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                (w.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, file_, pgoff);
      } else if (op < remap_pm_ + mprotect_pm_) {
        const unsigned long half = w.pages / 2;
        sys_mprotect(p.mm, base + half * PAGE_SIZE, (w.pages - half) * PAGE_SIZE,
                     rng.chance(1, 2) ? PROT_READ : PROT_READ | PROT_WRITE);
      } else if (op < remap_pm_ + mprotect_pm_ + nonlinear_pm_ && w.shared) {
        const unsigned long n = 1 + rng.below(4);
        const unsigned long at = rng.below(w.pages - n + 1);
        sys_remap_file_pages(p.mm, base + at * PAGE_SIZE, n * PAGE_SIZE, rng.below(file_pages_ - n + 1));
      } else if (op >= remap_pm_ + mprotect_pm_ + nonlinear_pm_ && op < remap_pm_ + mprotect_pm_ + nonlinear_pm_ + mremap_pm_) {
        // Move the window down, or back up (fails harmlessly if split or nonlinear).
        const unsigned long from = w.at_alt ? w.alt : w.addr, to = w.at_alt ? w.addr : w.alt;
        if (sys_mremap(p.mm, from, w.pages * PAGE_SIZE, to) == 0) w.at_alt = !w.at_alt;
      } else {
        for (int j = 0; j < touch_; j++) {
          const unsigned long addr = base + rng.below(w.pages) * PAGE_SIZE;
          const bool write = rng.chance(1, 2);
          unsigned long val = tag | ++seq;
          const int r = user_access(p.mm, addr, write, &val, &faults);
          ++accesses_;
          if (r == USER_SEGV) ++segv_;
          if (r == USER_SIGBUS) ++sigbus_;
        }
      }
      return_to_user();
      user_think(rng.range(think_ / 2, think_ + think_ / 2));
    }
  }

  void cyclictest() {
    Cycles next = local_clock() + period_;
    while (!READ_ONCE(done_)) {
      sleep_until(next);
      next += period_;
      if (next <= local_clock()) next = local_clock() + period_;
    }
  }

  Machine* m_ = nullptr;
  MmEnv env_;
  address_space* file_ = nullptr;
  int procs_n_ = 1;
  unsigned long file_pages_ = 0, vma_pages_ = 0, keep_pages_ = 0;
  std::int64_t truncates_ = 0;
  Cycles interval_ = 0, think_ = 0, period_ = 0;
  int touch_ = 0;
  unsigned remap_pm_ = 0, mprotect_pm_ = 0, nonlinear_pm_ = 0, mremap_pm_ = 0;
  std::vector<Proc> procs_;
  std::vector<unsigned long> pgoffs_;
  std::vector<std::unique_ptr<Rng>> rngs_;
  shared<bool> done_;
  completion ready_;
  Cycles end_cycle_ = 0;
  std::uint64_t accesses_ = 0, segv_ = 0, sigbus_ = 0;
};

const WorkloadRegistrar reg({
    "truncate-latency",
    "vmtrunc (seed 002): mapper threads fault a file in while one CPU truncates and extends it; "
    "i_mmap_lock hold, preempt-off and wakeup latency by lockbreak variant",
    with_mm_knobs({
        {"procs", "4", {}, 1, 256, "processes mapping the file (mapper threads are spread over them)"},
        {"vmas", "64", {}, 1, 65536, "windows (vmas) mapping the file, over all processes"},
        {"file_pages", "1024", {}, 8, 1 << 20, "file size in pages"},
        {"vma_pages", "256", {}, 0, 1 << 20, "pages per window (0: the whole file)"},
        {"truncates", "8", {}, 1, 1000000, "truncate + extend cycles; the run ends after them"},
        {"keep", "25", {}, 0, 99, "percent of the file a truncate keeps"},
        {"interval", "2000000", {}, 0, 100000000000LL, "mean cycles between truncates (uniform +-50%)"},
        {"touch", "16", {}, 1, 4096, "pages a mapper touches per operation"},
        {"think", "2000", {}, 0, 100000000, "mean cycles between a mapper's operations (uniform +-50%)"},
        {"period", "50000", {}, 1000, 100000000000LL, "cyclictest period, cycles (the cyclictest tasks are real-time)"},
        {"remap", "20", {}, 0, 1000, "per mille of operations that munmap + mmap a window elsewhere in the file"},
        {"mprotect", "20", {}, 0, 1000, "per mille that mprotect the upper half of a window (split / merge)"},
        {"nonlinear", "5", {}, 0, 1000, "per mille that remap_file_pages a few pages of a shared window"},
        {"mremap", "0", {}, 0, 1000, "per mille that mremap a window down and back (0: off, keeps older campaigns' seeds)"},
    }),
    [] { return std::make_unique<TruncateLatency>(); },
});

}  // namespace
}  // namespace smpemu
