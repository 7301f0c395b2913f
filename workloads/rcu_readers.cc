// rcu-readers: readers traverse an RCU-protected pointer while a writer replaces the
// object and frees the old one.
//
// Readers (every CPU but 0) loop like a syscall: rcu_read_lock(); p =
// rcu_dereference(gp); read p's fields for `read_cs` cycles, checking that p is still
// allocated; rcu_read_unlock(); return to user (a quiescent state); pause `think`.
// The writer (CPU 0) allocates a new object, publishes it with rcu_assign_pointer() and
// frees the old one according to `free`:
//   call_rcu    - call_rcu() with a callback that frees it after a grace period;
//   synchronize - synchronize_rcu(), then free;
//   immediate   - free at once: a planted bug. A reader still holding the old pointer
//                 then reaches a freed object: a fatal use-after-free report.
// Metrics: reads, updates, grace_periods, objects_freed. Histogram: rcu.gp.
#include <deque>
#include <memory>

#include "kernel/kernel.h"
#include "workloads/workload.h"

namespace smpemu {
namespace {

struct Obj {
  unsigned id = 0;
  shared<std::uint64_t> data;
  rcu_head rcu;
};

void free_obj(rcu_head* head) { obj_free(head->object); }

class RcuReaders final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    m_ = &m;
    mode_ = k.str("free");
    updates_ = k.integer("updates");
    read_cs_ = static_cast<Cycles>(k.integer("read_cs"));
    think_ = static_cast<Cycles>(k.integer("think"));
    interval_ = static_cast<Cycles>(k.integer("interval"));
    const LineId gp_line = m.new_line();
    done_.line = m.new_line();
    done_.v = false;
    gp_.line = gp_line;
    gp_.v = make_obj(m, 0);
    m.spawn("rcu-writer", 0, [this] { writer(); });
    const int readers = m.ncpus() > 1 ? m.ncpus() - 1 : 1;
    for (int r = 0; r < readers; ++r) {
      rngs_.push_back(std::make_unique<Rng>(m.rng("workload.rcu.reader" + std::to_string(r))));
      const CpuId cpu = static_cast<CpuId>(m.ncpus() > 1 ? r + 1 : 0);
      m.spawn("rcu-reader/" + std::to_string(r), cpu, [this, r] { reader(r); });
    }
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>&) override {
    out["reads"] = static_cast<double>(reads_);
    out["updates"] = static_cast<double>(done_updates_);
    out["grace_periods"] = static_cast<double>(m.rcu().completed());
    std::uint64_t freed = 0;
    for (const Obj& o : pool_) freed += m.objects().live(o.id) ? 0 : 1;
    out["objects_freed"] = static_cast<double>(freed);
  }

 private:
  Obj* make_obj(Machine& m, std::uint64_t value) {
    Obj& o = pool_.emplace_back();  // host memory is never reused: a stale pointer stays checkable
    o.id = m.objects().alloc("rcu-obj");
    o.data.line = m.new_line();
    o.data.v = value;
    o.rcu.object = o.id;
    return &o;
  }

  void writer() {
    for (std::int64_t i = 1; i <= updates_; ++i) {
      cpu_work(interval_);
      Obj* n = make_obj(*m_, static_cast<std::uint64_t>(i));
      Obj* old = gp_.v;  // only the writer stores gp: a plain read is its own
      rcu_assign_pointer(gp_, n);
      if (mode_ == "call_rcu") {
        call_rcu(&old->rcu, free_obj);
      } else if (mode_ == "synchronize") {
        synchronize_rcu();
        obj_free(old->id);
      } else {
        obj_free(old->id);
      }
      ++done_updates_;
      return_to_user();  // each update is one system call
    }
    WRITE_ONCE(done_, true);
  }

  void reader(int r) {
    Rng& rng = *rngs_[static_cast<std::size_t>(r)];
    while (!READ_ONCE(done_)) {
      rcu_read_lock();
      Obj* p = rcu_dereference(gp_);
      // Each field read is a visible access; the object must be live at that moment.
      (void)READ_ONCE(p->data);
      if (obj_check(p->id, "reader reads the object it dereferenced")) {
        cpu_work(read_cs_);
        (void)READ_ONCE(p->data);
        obj_check(p->id, "reader reads the object again inside its read section");
      }
      rcu_read_unlock();
      ++reads_;
      return_to_user();
      cpu_work(rng.range(think_ / 2, think_ + think_ / 2));
    }
  }

  Machine* m_ = nullptr;
  std::string mode_;
  std::int64_t updates_ = 0;
  Cycles read_cs_ = 0, think_ = 0, interval_ = 0;
  shared<Obj*> gp_;
  shared<bool> done_;
  std::deque<Obj> pool_;
  std::vector<std::unique_ptr<Rng>> rngs_;
  std::uint64_t reads_ = 0, done_updates_ = 0;
};

const WorkloadRegistrar reg({
    "rcu-readers",
    "readers under rcu_read_lock while a writer replaces and frees the object (free=immediate is a planted bug)",
    {
        {"free", "call_rcu", {"call_rcu", "synchronize", "immediate"}, 0, 0, "how the writer frees the old object"},
        {"updates", "50", {}, 1, 1000000, "objects the writer replaces"},
        {"read_cs", "2000", {}, 0, 100000000, "cycles a reader spends inside its read section"},
        {"think", "1000", {}, 0, 100000000, "mean pause between reads, cycles (uniform +-50%)"},
        {"interval", "20000", {}, 0, 100000000, "cycles between two updates"},
    },
    [] { return std::make_unique<RcuReaders>(); },
});

}  // namespace
}  // namespace smpemu
