// Engine benchmarks (Google Benchmark). Numbers and the machine they ran on are in
// docs/PERFORMANCE.md. Targets: an engine sync point that switches CPUs costs at most
// 3x a raw fiber switch; spinlock-contention runs at >= 5 M visible events per host
// second on one core.
//
// Per-operation times are reported as the counter `ns_per_op` (host nanoseconds per
// one-way fiber switch, or per sync point). Machine runs use manual timing: only
// Machine::run() is timed, not construction.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <boost/context/fiber.hpp>

#include "arch/profiles.h"
#include "cli/runner.h"
#include "emu/machine.h"
#include "kernel/kernel.h"

using namespace smpemu;
namespace ctx = boost::context;

namespace {

/// boost::context::fiber's StackAllocator, backed by a StackPool.
struct PooledStack {
  StackPool* pool;
  ctx::stack_context allocate() {
    const StackPool::Stack s = pool->allocate();
    ctx::stack_context c;
    c.sp = s.sp;
    c.size = s.size;
    return c;
  }
  void deallocate(ctx::stack_context& c) noexcept { pool->deallocate(StackPool::Stack{c.sp, c.size}); }
};

/// Raw boost::context::fiber ping-pong between the benchmark and one fiber.
void BM_RawFiberSwitch(benchmark::State& state) {
  StackPool pool;
  ctx::fiber f(std::allocator_arg, PooledStack{&pool}, [](ctx::fiber&& back) {
    for (;;) back = std::move(back).resume();
    return std::move(back);
  });
  std::int64_t switches = 0;
  for (auto _ : state) {
    f = std::move(f).resume();  // there and back: two one-way switches
    switches += 2;
  }
  state.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(switches),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  // f is left suspended inside its loop; destroying it unwinds the fiber (forced_unwind).
}
BENCHMARK(BM_RawFiberSwitch);

/// The engine's own fiber layer (emu/fiber.h): the same ping-pong between the host
/// context and one fiber, including the sanitizer hooks when built with them. Both sides
/// switch from one call site, pass(), as the engine does from Machine::switch_fiber.
struct PingPong {
  Fiber host, fiber;
  bool stop = false;
};
[[gnu::noinline]] void pass(Fiber& from, Fiber& to) { from.switch_to(to); }
void BM_FiberSwitch(benchmark::State& state) {
  StackPool pool;
  FiberFactory factory(&pool);
  PingPong pp;
  factory.make(pp.fiber, [](void* arg) {
    auto* p = static_cast<PingPong*>(arg);
    while (!p->stop) pass(p->fiber, p->host);
    p->fiber.exit_to(p->host);
  }, &pp);
  std::int64_t switches = 0;
  for (auto _ : state) {
    pass(pp.host, pp.fiber);
    switches += 2;
  }
  pp.stop = true;
  pp.host.switch_to(pp.fiber);  // the fiber ends; its stack goes back to the pool
  state.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(switches),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberSwitch);

/// Runs `ops` sync points per task and reports host ns per sync point.
template <class Setup>
void run_sync_bench(benchmark::State& state, int cpus, std::int64_t ops, Setup setup) {
  std::int64_t total = 0;
  for (auto _ : state) {
    MachineParams p;
    p.cpus = cpus;
    const machine_profile* prof = find_machine_profile("opteron48");
    Machine m(p, build_topology(prof, cpus), prof->costs);
    setup(m, ops);
    const RunStats s = m.run();
    state.SetIterationTime(s.host_seconds);
    total += ops * cpus;
  }
  state.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(total),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Sync point fast path: one CPU, so it is always the earliest and never switches.
void BM_SyncPointFastPath(benchmark::State& state) {
  run_sync_bench(state, 1, 2'000'000, [](Machine& m, std::int64_t ops) {
    m.spawn("fast", 0, [&m, ops] {
      for (std::int64_t i = 0; i < ops; ++i) {
        m.compute(10);
        m.sync_point();
      }
    });
  });
}
BENCHMARK(BM_SyncPointFastPath)->UseManualTime()->Unit(benchmark::kMillisecond);

/// Sync point that switches CPUs every time: two CPUs whose clocks interleave
/// (CPU 1 starts 5 cycles later), so under `time` each sync point hands the turn over.
void BM_SyncPointSwitch(benchmark::State& state) {
  run_sync_bench(state, 2, 1'000'000, [](Machine& m, std::int64_t ops) {
    for (CpuId c = 0; c < 2; ++c)
      m.spawn("pingpong", c, [&m, ops, c] {
        if (c == 1) m.compute(5);
        for (std::int64_t i = 0; i < ops; ++i) {
          m.compute(10);
          m.sync_point();
        }
      });
  });
}
BENCHMARK(BM_SyncPointSwitch)->UseManualTime()->Unit(benchmark::kMillisecond);

/// Runs `cfg` as one benchmark iteration after another, timing the emulation only, and
/// reports visible events per host second.
void measure_runs(benchmark::State& state, const RunConfig& cfg) {
  StackPool pool;
  std::uint64_t events = 0;
  double seconds = 0;
  for (auto _ : state) {
    const RunResult r = run_once(cfg, &pool);
    state.SetIterationTime(r.stats.host_seconds);
    events += r.stats.events;
    seconds += r.stats.host_seconds;
  }
  state.counters["events_per_second"] = static_cast<double>(events) / seconds;
}

/// Visible events per host second of spinlock-contention (ticket lock), by CPU count.
void BM_SpinlockContention(benchmark::State& state) {
  RunConfig cfg;
  cfg.workload = "spinlock-contention";
  cfg.params.cpus = static_cast<int>(state.range(0));
  cfg.set["duration"] = "20000000";
  measure_runs(state, cfg);
}
BENCHMARK(BM_SpinlockContention)->Arg(8)->Arg(64)->UseManualTime()->Unit(benchmark::kMillisecond);

/// Events per host second of an mm workload (page tables, TLBs, faults, truncate), by
/// CPU count: the mm layer's cost on top of the engine's.
void run_mm(benchmark::State& state, const char* workload) {
  RunConfig cfg;
  cfg.workload = workload;
  cfg.params.cpus = static_cast<int>(state.range(0));
  cfg.params.preempt = PreemptModel::Full;
  measure_runs(state, cfg);
}
void BM_TruncateLatency(benchmark::State& state) { run_mm(state, "truncate-latency"); }
void BM_FaultFile(benchmark::State& state) { run_mm(state, "fault-file"); }
BENCHMARK(BM_TruncateLatency)->Arg(8)->Arg(16)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FaultFile)->Arg(8)->Arg(64)->UseManualTime()->Unit(benchmark::kMillisecond);

/// The cost-cliff configurations (docs/PERFORMANCE.md, "Cost cliffs"): mmap-munmap under
/// pct:3 with full preemption at HZ 1000 by CPU count (PCT's ready set and the pricing of
/// widely shared lines used to cost O(CPUs) per event), and fault-file by window size
/// at 64 CPUs (windows whose page tables did not fit ran out of memory on every access).
/// Events per second should stay about flat along each series.
void BM_MmapMunmapPct(benchmark::State& state) {
  RunConfig cfg;
  cfg.workload = "mmap-munmap";
  cfg.params.cpus = static_cast<int>(state.range(0));
  cfg.params.strategy = "pct:3";
  cfg.params.preempt = PreemptModel::Full;
  cfg.params.hz = 1000;
  measure_runs(state, cfg);
}
BENCHMARK(BM_MmapMunmapPct)->Arg(64)->Arg(256)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
void BM_FaultFilePages(benchmark::State& state) {
  RunConfig cfg;
  cfg.workload = "fault-file";
  cfg.params.cpus = 64;
  cfg.set["pages"] = std::to_string(state.range(0));
  cfg.set["rounds"] = "1";
  measure_runs(state, cfg);
}
BENCHMARK(BM_FaultFilePages)->Arg(4096)->Arg(16384)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

/// Host memory per mostly idle task: N tasks on 8 CPUs each run once and sleep on one
/// completion; when all sleep, a last task reads the process's resident set and wakes
/// them. Reports `rss_per_task_KiB` (resident growth from before the tasks were spawned
/// to then, divided by N: the Task, its fiber stack's touched pages, the scheduler's
/// share) and `spawn_ns_per_task`. Issue 15's target: at most 64 KiB at 100,000 tasks.
std::size_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}
void BM_IdleTasks(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  double per_task = 0, spawn_ns = 0;
  for (auto _ : state) {
    StackPool pool;
    MachineParams p;
    p.cpus = 8;
    p.livelock_ms = 0;  // the measuring task computes alone for a while
    const machine_profile* prof = find_machine_profile("opteron48");
    Machine m(p, build_topology(prof, p.cpus), prof->costs, &pool);
    struct completion all_asleep;
    init_completion_on(&m, &all_asleep);
    const std::size_t before = resident_bytes();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i)
      m.spawn("idle", static_cast<CpuId>(i % 8), [&all_asleep] { wait_for_completion(&all_asleep); });
    spawn_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
               static_cast<double>(n);
    m.spawn("measure", 0, [&] {
      cpu_work(1'000'000'000);  // far past the last idle task's first run (~65 M cycles)
      per_task = static_cast<double>(resident_bytes() - before) / static_cast<double>(n) / 1024.0;
      complete_all(&all_asleep);
    });
    m.run();
  }
  state.counters["rss_per_task_KiB"] = per_task;
  state.counters["spawn_ns_per_task"] = spawn_ns;
}
BENCHMARK(BM_IdleTasks)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
