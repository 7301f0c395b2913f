// The bug suite (docs/BUGSUITE.md): small buggy concurrent programs after the classics of
// the systematic-testing literature (CHESS, PCT, SCTBench), each a workload `suite-NAME`
// whose bug needs an unusual interleaving.
//
// Every program follows the same plan, so the strategies can be compared on it:
//  - a `main` task (CPU 0, unless the program says otherwise) waits for the workers
//    with kthread_join() and then asserts what the program promises; a worker that
//    sees a bad state asserts on the spot. A failed assertion is a fatal report with
//    check `suite-assert` (report_check(), so its signature is the assertion's site).
//    Programs whose bug is a hang end in the engine's own `deadlock` report.
//  - the racing steps are kept apart in virtual time by a head start (kApart cycles of
//    local work), so under `--strategy time` (operations in virtual-time order) the
//    run is clean, while a strategy that reorders CPUs (random, pct) can bring them
//    together. kApart is below PCT's window (100000 cycles, emu/strategy.h), so PCT's
//    priorities decide between the racing CPUs.
//  - racy data is shared<T> with READ_ONCE/WRITE_ONCE, so every access is a sync point
//    (a place where another CPU may go first); plain accesses would be invisible.
//  - workers are spread over CPUs 1.. (round robin), one task per CPU while there are
//    enough: tasks are pinned, and tasks of one CPU run one after the other.
//
// The locks of the original programs are user-space mutexes: `ulock` below, a sleeping
// lock on a wait queue that lockdep does not watch (a program whose bug is a lock-order
// deadlock would otherwise get a lock-order report on every run, deadlock or not).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "workloads/workload.h"

namespace smpemu::suite {

/// The head start that keeps racing steps apart under `time`, cycles.
inline constexpr Cycles kApart = 20000;
/// Local work inside a racy window (between the two steps another CPU must split).
inline constexpr Cycles kWindow = 300;

/// The program's assertion, in a task: a fatal `suite-assert` report at the caller's
/// line when `ok` is false.
static inline void suite_assert(bool ok, const std::string &what, caller_ip_t ip = _RET_IP_)
{
	if (!ok)
		report_check("suite-assert", what, true, ip);
}

/// CPU of worker `i` (0-based): CPUs 1 .. ncpus-1 round robin (CPU 0 on a 1-CPU machine).
inline CpuId worker_cpu(const Machine &m, int i)
{
	return m.ncpus() == 1 ? 0 : static_cast<CpuId>(1 + i % (m.ncpus() - 1));
}

/// Spawns worker `i` of a program: "NAME-i" on worker_cpu(i).
inline Task *spawn_worker(Machine &m, const char *name, int i, std::function<void()> fn)
{
	return m.spawn(std::string(name) + "-" + std::to_string(i), worker_cpu(m, i), std::move(fn));
}

/// A head start that puts a task after `workers` workers have each done a few short
/// steps under `time`: kApart plus a context switch and a little work for each worker
/// queued on one CPU (tasks of one CPU run one after the other).
inline Cycles after_workers(const Machine &m, int workers)
{
	const int cpus = m.ncpus() > 1 ? m.ncpus() - 1 : 1;
	const Cycles per_cpu = static_cast<Cycles>((workers + cpus - 1) / cpus);
	return kApart + per_cpu * (m.costs().ctx_switch + 3 * kWindow);
}

/// main's wait for its workers.
inline void join_all(const std::vector<Task *> &tasks)
{
	for (Task *t : tasks)
		kthread_join(task_struct_of(t));
}

/// A user-space mutex (pthread_mutex_t of the original programs): a word taken by
/// cmpxchg, waiters asleep on a wait queue; invisible to lockdep.
struct ulock {
	atomic_t word;
	wait_queue_head_t wq;
};

inline void ulock_init_on(Machine *m, struct ulock *l)
{
	atomic_init_on(&l->word, m->new_line(), 0);
	init_waitqueue_head_on(m, &l->wq);
}

inline void ulock_lock(struct ulock *l)
{
	wait_event(l->wq, atomic_cmpxchg(&l->word, 0, 1) == 0);
}

inline void ulock_unlock(struct ulock *l)
{
	atomic_set(&l->word, 0);
	wake_up(&l->wq);
}

/// A suite program: no knobs, no metrics; its checks are made by its tasks.
class Program : public Workload {
 public:
  void finish(Machine &, Metrics &, std::vector<BugReport> &) override {}
};

/// The registry entry of suite program `name` (no knobs): a P made from `args`.
template <class P, class... A>
WorkloadSpec program(std::string name, std::string summary, A... args)
{
	return {std::move(name), std::move(summary), {}, [args...] { return std::make_unique<P>(args...); }};
}

}  // namespace smpemu::suite
