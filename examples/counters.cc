// counters: tasks add a step, read under RCU from a published config, to one shared
// total protected by a spinlock, while a writer task replaces the config.
//
// Each of `tasks` workers loops `rounds` times: it pauses for about `think` cycles;
// under rcu_read_lock() it reads the current config's step (and checks the config
// object is still live); then it adds the step to the total: load, `cs` cycles of work,
// store. The writer replaces the config every 20,000 cycles with rcu_assign_pointer()
// and frees the old one with call_rcu(). finish() compares the total with the sum of
// what the workers added.
//
// Knob `update`:
//   locked - the load and the store are under counters_lock: the total is exact;
//   racy   - a planted bug: no lock, so two workers whose load-work-store windows
//            overlap lose an update, reported by finish() as "lost-update".
// Metrics: total, expected, configs, grace_periods; histogram counters.add (an add, from
// before taking the lock to the store, cycles).
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "kernel/kernel.h"
#include "workloads/workload.h"

namespace {

using namespace smpemu;

struct Config {
  unsigned id = 0;  // object id: obj_check() catches a read after the free
  shared<long> step;
  rcu_head rcu;
};

void free_config(rcu_head *head) { obj_free(head->object); }

class Counters final : public Workload {
 public:
  void setup(Machine& m, const Knobs& k) override {
    // setup() runs before Machine::run(): only the calls that take the Machine work here.
    racy_ = k.str("update") == "racy";
    rounds_ = k.integer("rounds");
    cs_ = static_cast<Cycles>(k.integer("cs"));
    think_ = static_cast<Cycles>(k.integer("think"));
    spin_lock_init_on(&m, &lock_, "counters_lock");
    add_ = &m.histogram("counters.add");  // request of the add to its store, cycles
    shared_init(&total_, m.new_line(), 0L);
    shared_init(&done_, m.new_line(), false);
    shared_init(&config_, m.new_line(), make_config(m, 1));
    const int tasks = static_cast<int>(k.integer("tasks"));
    added_.assign(static_cast<std::size_t>(tasks), 0);
    for (int t = 0; t < tasks; ++t) {
      rngs_.push_back(std::make_unique<Rng>(m.rng("workload.counters." + std::to_string(t))));
      m.spawn("counter/" + std::to_string(t), static_cast<CpuId>(t % m.ncpus()), [this, t] { worker(t); });
    }
    workers_left_ = tasks;
    m.spawn("config-writer", static_cast<CpuId>(tasks % m.ncpus()), [this, &m] { writer(m); });
  }

  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override {
    // After the run: no kernel-shim calls (they need a running machine); read the
    // values directly and push reports.
    long expected = 0;
    for (long a : added_) expected += a;
    out["total"] = static_cast<double>(total_.v);
    out["expected"] = static_cast<double>(expected);
    out["configs"] = static_cast<double>(configs_.size());
    out["grace_periods"] = static_cast<double>(m.rcu().completed());
    if (finished_ == static_cast<long>(added_.size()) && total_.v != expected) {
      BugReport b;
      b.check = "lost-update";
      b.message = "total is " + std::to_string(total_.v) + ", the workers added " + std::to_string(expected);
      b.key = "counters lost-update";
      bugs.push_back(b);
    }
  }

 private:
  Config* make_config(Machine& m, long step) {
    Config& c = configs_.emplace_back();  // a deque: a stale pointer stays checkable
    c.id = m.objects().alloc("counters-config");
    shared_init(&c.step, m.new_line(), step);
    c.rcu.object = c.id;
    return &c;
  }

  void worker(int t) {
    KFUNC();
    Rng& rng = *rngs_[static_cast<std::size_t>(t)];
    for (std::int64_t i = 0; i < rounds_; ++i) {
      // Think first, so that the workers do not all start their first add at once.
      cpu_work(rng.range(think_ / 2, think_ + think_ / 2));
      rcu_read_lock();
      Config* c = rcu_dereference(config_);
      const long step = READ_ONCE(c->step);
      obj_check(c->id, "worker reads the config it dereferenced");
      rcu_read_unlock();
      WARN_ON(step <= 0);  // a warning report; the run goes on

      const Cycles t0 = local_clock();
      if (!racy_) spin_lock(&lock_);
      const long v = READ_ONCE(total_);
      cpu_work(cs_);
      WRITE_ONCE(total_, v + step);
      if (!racy_) {
        BUG_ON(!spin_is_locked(&lock_));  // a fatal report if it ever fires
        spin_unlock(&lock_);
      }
      add_->record(local_clock() - t0);
      added_[static_cast<std::size_t>(t)] += step;
      return_to_user();
    }
    ++finished_;
    if (--workers_left_ == 0) WRITE_ONCE(done_, true);
  }

  void writer(Machine& m) {
    KFUNC();
    long step = 1;
    while (!READ_ONCE(done_)) {
      cpu_work(20000);
      Config* old = config_.v;  // only the writer stores config_
      rcu_assign_pointer(config_, make_config(m, ++step % 3 + 1));
      call_rcu(&old->rcu, free_config);
      return_to_user();
    }
  }

  bool racy_ = false;
  std::int64_t rounds_ = 0;
  Cycles cs_ = 0, think_ = 0;
  spinlock_t lock_;
  Histogram* add_ = nullptr;
  shared<long> total_;
  shared<bool> done_;
  shared<Config*> config_;
  std::deque<Config> configs_;
  std::vector<long> added_;  // per worker, host-side bookkeeping (not emulated memory)
  std::vector<std::unique_ptr<Rng>> rngs_;
  long finished_ = 0;
  int workers_left_ = 0;
};

const WorkloadRegistrar reg({
    "counters",
    "workers add an RCU-read step to a spinlock-protected total (update=racy is a planted lost update)",
    {
        {"update", "locked", {"locked", "racy"}, 0, 0, "locked: the add is under counters_lock; racy: no lock (planted bug)"},
        {"tasks", "4", {}, 1, 64, "worker tasks"},
        {"rounds", "5", {}, 1, 100000, "adds per worker"},
        {"cs", "200", {}, 0, 1000000, "cycles between the load and the store of the total"},
        {"think", "200000", {}, 0, 100000000, "mean pause before each add, cycles (uniform +-50%)"},
    },
    [] { return std::make_unique<Counters>(); },
});

}  // namespace
